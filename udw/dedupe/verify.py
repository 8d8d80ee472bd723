"""The pair verifier: is picture B a copy of picture A, or a different drawing? With the reason.

Cheap signatures find *candidate* pairs; this module decides each one on local colour evidence:
1. both pictures are kept as small colour thumbnails (`THUMB_SIDE` pixels on the long side);
2. B is aligned onto A (scale, shift: `align.align`) and its tone fitted (`align.match_tone`);
3. the residual of each pixel is how far it lies outside the range of the other picture's 3x3
   neighbourhood, per colour channel, both ways (so resampling and sub-pixel shifts cost
   nothing, while a new line, a moved arm or another colour does);
4. the residual is averaged over small blocks and the largest block decides (a blink or a
   changed mouth is one bright block, which a global similarity would average away).
The block threshold is calibrated on the noise that copies get (JPEG q60-95, WebP, rescale
0.5-1x, crop <= 2%, shift <= 1%, gamma +-5%, H.264 CRF 18-28: bench/bench_dedupe_verify.py) with
a margin, so the default favours keeping distinct drawings. Where faces are known, blocks inside
a face count at a lower threshold; a change confined to the eyes or the mouth of one face (a
blink or a lip flap) is merged only when the user asks (keep_lip_flaps=False).

    v = PairVerifier(VerifySettings())
    fa, fb = v.features(rgb_a, faces=[(x0, y0, x1, y1)]), v.features(rgb_b)
    verdict = v.verdict(fa, fb)      # Verdict(duplicate, signal, value, threshold, reason)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import cv2
import numpy as np

from ..core.errors import BadInput
from .align import Warp, align, match_tone, warp_onto
from .crops import find_crop

THUMB_SIDE = 256          # long side of the stored colour thumbnail
BLOCK = 4                 # block side (thumbnail pixels) over which residuals are averaged
EDGE = 0.015              # share of the frame along each edge that is not judged
BLUR = 0.8               # Gaussian sigma (thumbnail pixels) before residuals
CHROMA_BLUR = 1.5         # Gaussian sigma for the colour-difference channels
GRAD_K = 0.3              # residual allowed per grey level of edge strength present in both
BLOCK_LIMIT = 7.0         # largest block residual of a copy (grey levels), from the noise model
FACE_SIDE = 64            # face crops are kept at this size, with FACE_PAD of room around
FACE_PAD = 0.15
FACE_FACTOR = 0.7         # inside a known face the limit is this much lower
GREY_CHROMA = 6.0         # a thumbnail whose channels differ less than this (99.5%) is greyscale
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class VerifySettings:
    """How strict the verdict is. Defaults keep every distinct drawing, expressions included.

    strictness: divides the residual limits (2 = twice as strict: more pairs kept apart);
    keep_lip_flaps: True keeps a changed mouth or eyes as a different drawing (an expression);
        False merges a change confined to the eyes or the mouth of a face (a blink or lip flap
        of one drawing; with no faces known, a change small enough to be one);
    allow_crops: a crop of a larger picture counts as its copy (default: only crops <= ~4%).
    """

    strictness: float = 1.0
    keep_lip_flaps: bool = True
    allow_crops: bool = False

    def validated(self) -> "VerifySettings":
        if not isinstance(self.strictness, (int, float)) or not 0.25 <= float(self.strictness) <= 4.0:
            raise BadInput(f"strictness {self.strictness} is out of range",
                           "use 0.25 (merges more) to 4 (keeps more); default 1")
        return self

    @property
    def block_limit(self) -> float:
        return BLOCK_LIMIT / float(self.strictness)


@dataclass(frozen=True)
class Verdict:
    duplicate: bool
    signal: str           # which evidence decided: "block residual", "face residual", "lip flap", ...
    value: float          # its value (grey levels for residuals)
    threshold: float      # the limit it was held against (value <= threshold: copy)
    reason: str           # one sentence for reports and previews

    @property
    def margin(self) -> float:
        """value / threshold: below 1 merged, above kept; near 1 = a close call."""
        return self.value / self.threshold if self.threshold else float("inf")


@dataclass(frozen=True)
class Features:
    """What the verifier keeps of one picture (about 10-25 KB stored)."""

    thumb: np.ndarray                 # HxWx3 uint8, long side THUMB_SIDE (or less for small pictures)
    width: int                        # the original picture's size
    height: int
    faces: tuple[Box, ...] = ()       # face boxes as shares of the width/height (x0, y0, x1, y1)
    grey: bool = False
    face_crops: tuple[np.ndarray, ...] = ()   # per face, FACE_SIDE^2 colour crop at full detail

    def to_bytes(self) -> bytes:
        """A JSON header line, then the thumbnail as a quality-95 JPEG (its loss is part of the
        calibration)."""
        ok, jpg = cv2.imencode(".jpg", self.thumb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise ValueError("thumbnail could not be encoded")
        head = {"w": self.width, "h": self.height, "faces": [list(b) for b in self.faces], "grey": self.grey,
                "thumb": len(jpg)}
        crops = b""
        if self.face_crops:
            ok, strip = cv2.imencode(".png", np.concatenate(self.face_crops, axis=1)[..., ::-1])
            crops = strip.tobytes()
        return json.dumps(head).encode() + b"\n" + jpg.tobytes() + crops

    @classmethod
    def from_bytes(cls, data: bytes) -> "Features":
        head, _, body = bytes(data).partition(b"\n")
        meta = json.loads(head)
        cut = int(meta.get("thumb", len(body)))
        thumb = cv2.imdecode(np.frombuffer(body[:cut], np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        crops: tuple = ()
        if len(body) > cut:
            strip = cv2.imdecode(np.frombuffer(body[cut:], np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
            crops = tuple(np.ascontiguousarray(c) for c in np.split(strip, strip.shape[1] // FACE_SIDE, axis=1))
        return cls(np.ascontiguousarray(thumb), int(meta["w"]), int(meta["h"]),
                   tuple(tuple(b) for b in meta.get("faces", ())), bool(meta.get("grey", False)), crops)


def thumbnail(rgb: np.ndarray, side: Optional[int] = None) -> np.ndarray:
    """Area-averaged colour thumbnail (long side `side`, never enlarged); grey input -> 3 channels."""
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    rgb = np.ascontiguousarray(rgb[..., :3])
    h, w = rgb.shape[:2]
    scale = min(1.0, (side or THUMB_SIDE) / max(h, w))
    if scale >= 1.0:
        return rgb.astype(np.uint8, copy=False)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def is_grey(thumb: np.ndarray) -> bool:
    t = thumb.astype(np.int16)
    spread = np.maximum(np.abs(t[..., 0] - t[..., 1]), np.abs(t[..., 1] - t[..., 2]))
    return bool(np.quantile(spread, 0.995) <= GREY_CHROMA)


class PairVerifier:
    def __init__(self, settings: VerifySettings = VerifySettings()):
        self.settings = settings.validated()

    def features(self, rgb: np.ndarray, faces: Optional[Sequence[Sequence[float]]] = None,
                 thumb: Optional[np.ndarray] = None) -> Features:
        """Features of an HxWx3 uint8 picture; `faces`: boxes (x0, y0, x1, y1) in its pixels;
        `thumb`: its thumbnail when the caller has one already (THUMB_SIDE long side)."""
        if rgb.ndim not in (2, 3) or rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise BadInput(f"not a picture: array of shape {rgb.shape}", "pass an HxWx3 uint8 array")
        h, w = rgb.shape[:2]
        thumb = thumbnail(rgb if thumb is None else thumb)
        boxes = tuple((max(0.0, x0 / w), max(0.0, y0 / h), min(1.0, x1 / w), min(1.0, y1 / h))
                      for x0, y0, x1, y1 in (faces or ()) if x1 > x0 and y1 > y0)
        return Features(thumb, w, h, boxes, is_grey(thumb), tuple(face_crop(rgb, b) for b in boxes))

    def verdict(self, fa: Features, fb: Features) -> Verdict:
        s = self.settings
        a_rgb, b_rgb, b_feat, note = fa.thumb, fb.thumb, fb, ""
        if s.allow_crops:
            crop = find_crop(fa.thumb, fb.thumb)
            if crop is not None:  # compare the window with the crop; face boxes no longer map
                a_rgb, b_rgb, note = crop.big, crop.small, f"{crop.describe()}; "
                fa, b_feat = replace(fa, thumb=crop.big, faces=()), replace(fb, thumb=crop.small, faces=())
        if fa.grey != fb.grey:
            a_rgb, b_rgb = _as_grey(a_rgb), _as_grey(b_rgb)
            note += "one is a greyscale copy, compared in brightness only; "
        warp = align(a_rgb, b_rgb)
        return self._judge(a_rgb, b_rgb, warp, fa, b_feat, note)

    def _judge(self, a_rgb: np.ndarray, b_rgb: np.ndarray, warp: Warp, fa: Features, fb: Features,
               note: str) -> Verdict:
        s = self.settings
        h, w = a_rgb.shape[:2]
        b_on_a, inside = warp_onto(b_rgb, warp, (w, h))
        a = a_rgb.astype(np.float32)
        # The outer EDGE share of the frame is not judged: a shift or crop of a copy fills or
        # cuts it (a pan that reveals more than that shows up inside as well).
        margin = 1 + 2 * max(1, int(round(EDGE * max(w, h))))
        inside = cv2.erode(inside.astype(np.uint8), np.ones((margin, margin), np.uint8),
                           borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
        if inside.mean() < 0.5:
            return Verdict(False, "overlap", float(inside.mean()), 0.5,
                           note + "the pictures do not line up (less than half overlaps): kept apart")
        b_on_a = match_tone(a, b_on_a, inside)
        blocks = block_residual(a, b_on_a, inside)
        faces = _face_mask(fa.faces, fb.faces, warp, (w, h), (fb.thumb.shape[1], fb.thumb.shape[0]))
        limit = s.block_limit * small_picture_allowance(fa, fb)
        face_limit = limit * FACE_FACTOR
        scaled = np.where(faces, blocks / FACE_FACTOR, blocks)   # a face block counts more
        y, x = np.unravel_index(int(np.argmax(scaled)), scaled.shape)
        value, in_face = float(blocks[y, x]), bool(faces[y, x])
        where = f"at {100 * (x + 0.5) / w:.0f}% across, {100 * (y + 0.5) / h:.0f}% down"
        signal, threshold = ("face residual", face_limit) if in_face else ("block residual", limit)
        shift = _shift_share(warp, (w, h), b_rgb.shape[1::-1])
        moved = f"aligned with a {100 * shift:.1f}% shift"
        if value <= threshold:
            face = self._faces(fa, fb, warp, (w, h), note)
            if face is not None:
                return face
            return Verdict(True, signal, value, threshold,
                           f"{note}a copy: {moved}, the largest {signal} is {value:.1f} <= {threshold:.1f} "
                           f"grey levels ({where})")
        changed = (blocks > limit) | (faces & (blocks > face_limit))
        if not s.keep_lip_flaps:
            flap = flap_region(changed, fa.faces, (w, h))
            if flap:
                return Verdict(True, "lip flap", value, threshold,
                               f"{note}merged as a {flap} of one drawing ({signal} {value:.1f} > "
                               f"{threshold:.1f} only there; keep_lip_flaps keeps these)")
        share = 100.0 * changed.mean()
        return Verdict(False, signal, value, threshold,
                       f"{note}a different drawing: the {signal} {value:.1f} > {threshold:.1f} grey levels "
                       f"{where} ({share:.1f}% of the picture changed)")


    def _faces(self, fa: Features, fb: Features, warp: Warp, size: tuple[int, int], note: str) -> Optional[Verdict]:
        """A verdict when a face seen at full detail changed (a copy otherwise: None)."""
        if not (fa.face_crops and fb.face_crops):
            return None
        limit = self.settings.block_limit
        for k, j in _matching_faces(fa, fb, warp, size):
            a, b = fa.face_crops[k], fb.face_crops[j]
            if fa.grey != fb.grey:
                a, b = _as_grey(a), _as_grey(b)
            fw = align(a, b, max_shift=0.1, max_scale=0.1)
            b_on_a, inside = warp_onto(b, fw, (FACE_SIDE, FACE_SIDE))
            inside = cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            blocks = block_residual(a.astype(np.float32), match_tone(a.astype(np.float32), b_on_a, inside), inside)
            value = float(blocks.max())
            if value <= limit:
                continue
            changed = blocks > limit
            if not self.settings.keep_lip_flaps:
                flap = flap_region(changed, ((FACE_PAD / (1 + 2 * FACE_PAD), FACE_PAD / (1 + 2 * FACE_PAD),
                                              (1 + FACE_PAD) / (1 + 2 * FACE_PAD), (1 + FACE_PAD) / (1 + 2 * FACE_PAD)),),
                                   (FACE_SIDE, FACE_SIDE))
                if flap:
                    return Verdict(True, "lip flap", value, limit,
                                   f"{note}merged as a {flap} of one drawing (face {k + 1} residual {value:.1f} > "
                                   f"{limit:.1f} only in the eyes or mouth; keep_lip_flaps keeps these)")
            return Verdict(False, "face residual", value, limit,
                           f"{note}a different drawing: face {k + 1} changed (its residual {value:.1f} > "
                           f"{limit:.1f} grey levels seen at full detail; an expression)")
        return None


def face_crop(rgb: np.ndarray, box: Box) -> np.ndarray:
    """The face box (shares of the size), widened by FACE_PAD, as a FACE_SIDE^2 colour crop."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    pw, ph = (x1 - x0) * FACE_PAD, (y1 - y0) * FACE_PAD
    src = np.array([[(x0 - pw) * w, (y0 - ph) * h], [(x1 + pw) * w, (y0 - ph) * h], [(x0 - pw) * w, (y1 + ph) * h]],
                   np.float32)
    dst = np.array([[0, 0], [FACE_SIDE, 0], [0, FACE_SIDE]], np.float32)
    rgb3 = rgb if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, axis=2)
    scale = max((x1 - x0) * w, (y1 - y0) * h) * (1 + 2 * FACE_PAD) / FACE_SIDE
    src_img = np.ascontiguousarray(rgb3[..., :3])
    if scale > 2:  # smooth before sampling (no aliasing of fine lines)
        src_img = cv2.GaussianBlur(src_img, (0, 0), 0.5 * scale)
    return cv2.warpAffine(src_img, cv2.getAffineTransform(src, dst), (FACE_SIDE, FACE_SIDE),
                          flags=cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _matching_faces(fa: Features, fb: Features, warp: Warp, size: tuple[int, int]) -> list[tuple[int, int]]:
    """(face of A, face of B) pairs whose boxes overlap (IoU >= 0.3) once B is mapped onto A."""
    w, h = size
    wb, hb = fb.thumb.shape[1], fb.thumb.shape[0]
    out = []
    for k, (ax0, ay0, ax1, ay1) in enumerate(fa.faces):
        best, best_iou = None, 0.3
        for j, (bx0, by0, bx1, by1) in enumerate(fb.faces):
            mx0, mx1 = ((bx0 * wb - warp.tx) / warp.sx) / w, ((bx1 * wb - warp.tx) / warp.sx) / w
            my0, my1 = ((by0 * hb - warp.ty) / warp.sy) / h, ((by1 * hb - warp.ty) / warp.sy) / h
            iw, ih = min(ax1, mx1) - max(ax0, mx0), min(ay1, my1) - max(ay0, my0)
            inter = max(0.0, iw) * max(0.0, ih)
            union = (ax1 - ax0) * (ay1 - ay0) + (mx1 - mx0) * (my1 - my0) - inter
            if union > 0 and inter / union >= best_iou:
                best, best_iou = j, inter / union
        if best is not None:
            out.append((k, best))
    return out


def small_picture_allowance(fa: Features, fb: Features) -> float:
    """1, or up to 1.5 for pictures not much larger than the thumbnail: their thumbnails are
    not averaged down, so re-encoding and resampling noise reaches them at full strength."""
    reduction = min(max(fa.width, fa.height), max(fb.width, fb.height)) / THUMB_SIDE
    return 1.0 + 0.5 * min(1.0, max(0.0, 1.0 - reduction / 2.0))


def _shift_share(warp: Warp, size_a: tuple[int, int], size_b: tuple[int, int]) -> float:
    """How far A's centre lands from B's centre, as a share of the picture (for the reason)."""
    (w, h), (wb, hb) = size_a, size_b
    dx = (warp.sx * (w - 1) / 2 + warp.tx - (wb - 1) / 2) / max(wb, 1)
    dy = (warp.sy * (h - 1) / 2 + warp.ty - (hb - 1) / 2) / max(hb, 1)
    return float(max(abs(dx), abs(dy)))


def _as_grey(rgb: np.ndarray) -> np.ndarray:
    g = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).clip(0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def block_residual(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over block x block windows of each pixel's colour residual (see the module doc)."""
    # Compared as luma and chroma. A light blur first: a line one thumbnail pixel wide, sampled
    # at another phase, becomes two half-dark pixels; blurred, both versions agree (a real change
    # is wider than that). Chroma is blurred more: JPEG and H.264 keep it at half resolution,
    # while a changed outfit colour covers a large area.
    a, b = _ycc(a), _ycc(b)
    for x in (a, b):
        if BLUR > 0:
            x[..., 0] = cv2.GaussianBlur(x[..., 0], (0, 0), BLUR)
        x[..., 1:] = cv2.GaussianBlur(x[..., 1:], (0, 0), CHROMA_BLUR)
    k = np.ones((3, 3), np.uint8)
    a_lo, a_hi, b_lo, b_hi = cv2.erode(a, k), cv2.dilate(a, k), cv2.erode(b, k), cv2.dilate(b, k)
    out_b = np.maximum(a - b_hi, b_lo - a)           # A outside B's local range
    out_a = np.maximum(b - a_hi, a_lo - b)           # B outside A's local range
    r = np.maximum(np.maximum(out_a, out_b), 0).max(axis=2)
    if GRAD_K > 0:
        # Where both pictures have an edge, resampling and re-encoding move values most; where
        # either is flat (skin around a new mouth line), any residual is a real change.
        r = np.maximum(r - GRAD_K * np.minimum(_gradient(a), _gradient(b)), 0)
    r[~mask] = 0
    return cv2.blur(r, (BLOCK, BLOCK), borderType=cv2.BORDER_CONSTANT)


_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], np.float32)


def _ycc(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb @ _YCC.T)


def _gradient(ycc: np.ndarray) -> np.ndarray:
    g = np.ascontiguousarray(ycc[..., 0])
    return cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)) / 8.0


def _face_mask(faces_a: Sequence[Box], faces_b: Sequence[Box], warp: Warp, size_a: tuple[int, int],
               size_b: tuple[int, int]) -> np.ndarray:
    """Pixels of A's thumb inside a known face of A or of B (B's boxes mapped through the warp)."""
    w, h = size_a
    mask = np.zeros((h, w), bool)
    boxes = [(x0 * w, y0 * h, x1 * w, y1 * h) for x0, y0, x1, y1 in faces_a]
    wb, hb = size_b
    for x0, y0, x1, y1 in faces_b:  # B pixel u = sx * x + tx  ->  x = (u - tx) / sx
        boxes.append(((x0 * wb - warp.tx) / warp.sx, (y0 * hb - warp.ty) / warp.sy,
                      (x1 * wb - warp.tx) / warp.sx, (y1 * hb - warp.ty) / warp.sy))
    for x0, y0, x1, y1 in boxes:
        mask[max(0, int(y0)):max(0, int(np.ceil(y1))), max(0, int(x0)):max(0, int(np.ceil(x1)))] = True
    return mask


def flap_region(changed: np.ndarray, faces: Sequence[Box], size: tuple[int, int]) -> str:
    """'blink' / 'lip flap' when every changed pixel lies in the eye band or in the mouth band of
    one known face; with no faces, 'blink or lip flap' when the change fits a box 6% of the short
    side tall and 15% of the long side wide. '' otherwise."""
    ys, xs = np.nonzero(changed)
    if not len(ys):
        return ""
    w, h = size
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    if not faces:
        small = (y1 - y0) <= 0.06 * min(w, h) and (x1 - x0) <= 0.15 * max(w, h)
        return "blink or lip flap" if small else ""
    for fx0, fy0, fx1, fy1 in faces:
        fx0, fx1, fy0, fy1 = fx0 * w, fx1 * w, fy0 * h, fy1 * h
        if x0 < fx0 - 1 or x1 > fx1 + 1 or y0 < fy0 - 1 or y1 > fy1 + 1:
            continue
        top, bottom = (y0 - fy0) / max(fy1 - fy0, 1), (y1 - fy0) / max(fy1 - fy0, 1)
        if top >= 0.2 and bottom <= 0.65:
            return "blink"
        if top >= 0.55:
            return "lip flap"
    return ""
