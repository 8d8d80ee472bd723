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
BLOCK_LIMIT = 9.0         # largest block residual of a copy (grey levels), from the noise model
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

    def to_bytes(self) -> bytes:
        """A JSON header line, then the thumbnail as a quality-95 JPEG (its loss is part of the
        calibration)."""
        ok, jpg = cv2.imencode(".jpg", self.thumb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise ValueError("thumbnail could not be encoded")
        head = {"w": self.width, "h": self.height, "faces": [list(b) for b in self.faces], "grey": self.grey}
        return json.dumps(head).encode() + b"\n" + jpg.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Features":
        head, _, jpg = bytes(data).partition(b"\n")
        meta = json.loads(head)
        thumb = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        return cls(np.ascontiguousarray(thumb), int(meta["w"]), int(meta["h"]),
                   tuple(tuple(b) for b in meta.get("faces", ())), bool(meta.get("grey", False)))


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

    def features(self, rgb: np.ndarray, faces: Optional[Sequence[Sequence[float]]] = None) -> Features:
        """Features of an HxWx3 uint8 picture; `faces`: boxes (x0, y0, x1, y1) in its pixels."""
        if rgb.ndim not in (2, 3) or rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise BadInput(f"not a picture: array of shape {rgb.shape}", "pass an HxWx3 uint8 array")
        h, w = rgb.shape[:2]
        thumb = thumbnail(rgb)
        boxes = tuple((max(0.0, x0 / w), max(0.0, y0 / h), min(1.0, x1 / w), min(1.0, y1 / h))
                      for x0, y0, x1, y1 in (faces or ()) if x1 > x0 and y1 > y0)
        return Features(thumb, w, h, boxes, is_grey(thumb))

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
        limit = s.block_limit
        face_limit = limit * FACE_FACTOR
        scaled = np.where(faces, blocks / FACE_FACTOR, blocks)   # a face block counts more
        y, x = np.unravel_index(int(np.argmax(scaled)), scaled.shape)
        value, in_face = float(blocks[y, x]), bool(faces[y, x])
        where = f"at {100 * (x + 0.5) / w:.0f}% across, {100 * (y + 0.5) / h:.0f}% down"
        signal, threshold = ("face residual", face_limit) if in_face else ("block residual", limit)
        shift = warp.shift_fraction(w, h)
        moved = f"aligned with a {100 * shift:.1f}% shift"
        if value <= threshold:
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


def _as_grey(rgb: np.ndarray) -> np.ndarray:
    g = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).clip(0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def block_residual(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over block x block windows of each pixel's colour residual (see the module doc)."""
    # A light blur first: a line one thumbnail pixel wide, sampled at another phase, becomes two
    # half-dark pixels; blurred, both versions agree (a real change is wider than that).
    if BLUR > 0:
        a, b = cv2.GaussianBlur(a, (0, 0), BLUR), cv2.GaussianBlur(b, (0, 0), BLUR)
    k = np.ones((3, 3), np.uint8)
    a_lo, a_hi, b_lo, b_hi = cv2.erode(a, k), cv2.dilate(a, k), cv2.erode(b, k), cv2.dilate(b, k)
    out_b = np.maximum(a - b_hi, b_lo - a)           # A outside B's local range
    out_a = np.maximum(b - a_hi, a_lo - b)           # B outside A's local range
    r = np.maximum(np.maximum(out_a, out_b), 0).max(axis=2)
    r[~mask] = 0
    return cv2.blur(r, (BLOCK, BLOCK), borderType=cv2.BORDER_CONSTANT)


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
