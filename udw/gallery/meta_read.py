"""Raw text metadata out of image files, defensively: PNG text chunks, EXIF strings, JPEG comments.

PNG chunks are walked by hand (pixel data is skipped, never decoded) so that a broken CRC, a
truncated file, a multi-megabyte or non-UTF-8 chunk or a zlib bomb costs a warning, not a crash.
JPEG and WebP go through Pillow's lazy header parsing (no pixel decode either).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Optional, Union

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK = 32 * 1024 * 1024        # one text chunk (ComfyUI workflows reach a few MB)
MAX_TEXT_TOTAL = 64 * 1024 * 1024   # all text of one file
EXIF_IFD, USER_COMMENT = 0x8769, 0x9286
IMAGE_DESCRIPTION, MAKE, MODEL = 0x010E, 0x010F, 0x0110


@dataclass
class RawMeta:
    """Text found in a file, by key (PNG keyword, `exif:UserComment`, `comment`, ...)."""

    format: str = ""
    width: Optional[int] = None
    height: Optional[int] = None
    text: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def decode_text(data: bytes, latin1_default: bool = True) -> str:
    """Bytes of unknown encoding to text: UTF-8 when valid, else Latin-1 (PNG tEXt's own)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1" if latin1_default else "utf-8", errors="replace")


def _inflate(data: bytes, limit: int) -> bytes:
    """zlib-decompress at most `limit` bytes; raise ValueError on a bomb or corrupt stream."""
    d = zlib.decompressobj()
    out = d.decompress(data, limit)
    if d.unconsumed_tail:
        raise ValueError(f"decompresses to more than {limit} bytes")
    return out


def _text_chunk(ctype: bytes, data: bytes) -> tuple[str, str]:
    key, sep, rest = data.partition(b"\0")
    if not sep:
        raise ValueError("no keyword separator")
    keyword = key.decode("latin-1")
    if ctype == b"tEXt":
        return keyword, decode_text(rest)
    if ctype == b"zTXt":
        if not rest or rest[0] != 0:
            raise ValueError("unknown compression method")
        return keyword, decode_text(_inflate(rest[1:], MAX_CHUNK))
    # iTXt: compression flag, method, language\0, translated keyword\0, UTF-8 text
    if len(rest) < 2:
        raise ValueError("iTXt header cut short")
    compressed, method = rest[0], rest[1]
    _lang, _, rest = rest[2:].partition(b"\0")
    _tkey, _, body = rest.partition(b"\0")
    if compressed:
        if method != 0:
            raise ValueError("unknown compression method")
        body = _inflate(body, MAX_CHUNK)
    return keyword, body.decode("utf-8", errors="replace")


def read_png_text(fh: BinaryIO, meta: RawMeta) -> None:
    """Collect tEXt/zTXt/iTXt/eXIf chunks from an open PNG positioned after its signature."""
    total = 0
    while True:
        head = fh.read(8)
        if len(head) < 8:
            meta.warnings.append("file ends before the IEND chunk (truncated)")
            return
        length, ctype = struct.unpack(">I4s", head)
        if length > 0x7FFFFFFF:
            meta.warnings.append(f"chunk {ctype!r} has an invalid length; stopped reading")
            return
        if ctype == b"IHDR" and length >= 8:
            data = fh.read(length)
            meta.width, meta.height = struct.unpack(">II", data[:8])
            fh.seek(4, 1)
            continue
        if ctype == b"IEND":
            return
        if ctype not in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
            fh.seek(length + 4, 1)
            continue
        name = ctype.decode("latin-1")
        if length > MAX_CHUNK or total + length > MAX_TEXT_TOTAL:
            meta.warnings.append(f"{name} chunk of {length:,} bytes skipped (over the size limit)")
            fh.seek(length + 4, 1)
            continue
        data = fh.read(length)
        crc = fh.read(4)
        if len(data) < length or len(crc) < 4:
            meta.warnings.append(f"{name} chunk cut short (truncated file)")
            return
        total += length
        if struct.unpack(">I", crc)[0] != zlib.crc32(ctype + data) & 0xFFFFFFFF:
            meta.warnings.append(f"{name} chunk has a bad checksum (damaged file); its text may be wrong")
        if ctype == b"eXIf":
            _exif_strings(_load_exif(data, meta), meta)
            continue
        try:
            key, text = _text_chunk(ctype, data)
        except (ValueError, zlib.error) as exc:
            meta.warnings.append(f"{name} chunk unreadable ({exc})")
            continue
        meta.text[key] = text if key not in meta.text else meta.text[key] + "\n" + text


def _load_exif(data: bytes, meta: RawMeta) -> Optional[Image.Exif]:
    exif = Image.Exif()
    try:
        exif.load(data[6:] if data.startswith(b"Exif\0\0") else data)
    except Exception as exc:  # Pillow raises several types on damaged EXIF
        meta.warnings.append(f"EXIF block unreadable ({type(exc).__name__})")
        return None
    return exif


def decode_user_comment(raw: Union[bytes, str]) -> str:
    """EXIF UserComment: an 8-byte charset code, then the text (A1111 writes UNICODE, UTF-16-BE)."""
    if isinstance(raw, str):
        return raw
    code, body = raw[:8], raw[8:]
    if code == b"UNICODE\0":
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return body.decode("utf-16", errors="replace")
        # Little-endian writers exist: ASCII text then has its zero bytes in odd positions.
        sample = body[:200]
        odd_zeros = sum(1 for b in sample[1::2] if b == 0)
        even_zeros = sum(1 for b in sample[0::2] if b == 0)
        enc = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
        return body[: len(body) // 2 * 2].decode(enc, errors="replace")
    if code in (b"ASCII\0\0\0", b"\0" * 8, b"JIS\0\0\0\0\0"):
        return decode_text(body.rstrip(b"\0"))
    return decode_text(raw.rstrip(b"\0"))


def _exif_strings(exif: Optional[Image.Exif], meta: RawMeta) -> None:
    if exif is None:
        return
    try:
        comment = exif.get_ifd(EXIF_IFD).get(USER_COMMENT)
    except Exception:  # a damaged sub-IFD pointer
        comment = None
        meta.warnings.append("EXIF sub-directory unreadable")
    if comment:
        meta.text["exif:UserComment"] = decode_user_comment(comment)
    for tag, name in ((IMAGE_DESCRIPTION, "ImageDescription"), (MAKE, "Make"), (MODEL, "Model")):
        value = exif.get(tag)
        if isinstance(value, bytes):
            value = decode_text(value)
        if not isinstance(value, str) or not value.strip("\0 "):
            continue
        # ComfyUI's WebP savers write "prompt:{json}" / "workflow:{json}" into Make/Model.
        head, sep, rest = value.partition(":")
        if sep and head in ("prompt", "workflow") and rest.lstrip().startswith("{"):
            meta.text[head] = rest
        else:
            meta.text[f"exif:{name}"] = value.strip("\0")


def read_raw(path: Union[str, Path]) -> RawMeta:
    """Text metadata of one image file. Never raises for damaged content, only for a missing file."""
    path = Path(path)
    meta = RawMeta()
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head == PNG_SIGNATURE:
            meta.format = "PNG"
            read_png_text(fh, meta)
            return meta
        fh.seek(0)
        try:
            with Image.open(fh) as im:
                meta.format, (meta.width, meta.height) = im.format or "", im.size
                exif = im.getexif() if hasattr(im, "getexif") else None
                _exif_strings(exif, meta)
                comment = im.info.get("comment")
                if comment:
                    meta.text["comment"] = decode_text(comment) if isinstance(comment, bytes) else str(comment)
        except Exception as exc:  # not an image Pillow knows, or its header is damaged
            meta.warnings.append(f"cannot read the image header ({type(exc).__name__}: {exc})")
    return meta
