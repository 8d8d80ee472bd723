"""Dedupe settings: one validated parameter set shared by the CLI, the nodes and the UI.

Every method speaks the same threshold language: the smallest *similarity* in 0..1 that still
counts as a duplicate (1 = identical only). For the 64-bit hashes, similarity = 1 - bits/64
(imagededup's default distance of 10 bits is 0.844).

With `verify` (the default) the method only proposes *candidate* pairs, at a looser threshold
(`Method.candidate`), and the pair verifier (verify.py) decides each on aligned colour residuals:
copies are merged, different drawings (another expression, outfit colour, pose) are kept.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

from ..core.errors import BadInput


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    default: float        # default similarity threshold (without verification)
    low: float            # thresholds below this merge unrelated pictures: refused
    help: str
    # default threshold for candidate pairs when the verifier decides: below every noise-model copy
    # (structure: lowest copy 0.956 on real art) and within the 1M-signature search budget
    candidate: float = 0.9


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("structure", "structure (weight-free: layout and colour)", 0.96, 0.5,
           "correlation of low-passed 32x32 colour thumbnails; brightness-invariant, tolerant of "
           "small shifts, crops and re-encoding", 0.95),
    Method("phash", "perceptual hash (pHash)", 0.875, 0.5,
           "64-bit DCT hash; similarity = 1 - differing bits / 64", 0.75),
    Method("dhash", "difference hash (dHash)", 0.875, 0.5,
           "64-bit gradient hash; similarity = 1 - differing bits / 64", 0.75),
    Method("embed", "learned embedding (ONNX model)", 0.95, 0.5,
           "cosine of a CNN/CLIP embedding (mobilenetv3, CLIP ViT-B/32, or any ONNX image model)", 0.85),
)}

KEEP_RULES = {
    "sharpest": "the sharpest picture (variance of the Laplacian; within 10% counts as equal), then the "
                "largest, then the earliest",
    "largest": "the most pixels, then the sharpest, then the earliest",
    "earliest": "the first item (import or frame order)",
}
LINKAGES = {
    "direct": "an item is removed only if it is similar to the picture kept in its place",
    "chain": "union-find: anything connected through a chain of similar pairs is one cluster",
}
ACTIONS = {
    "mark": "mark duplicates in the manifest only (files stay; undo with --undo)",
    "move": "move duplicate files to DATASET/duplicates/ (undo moves them back)",
    "delete": "delete duplicate files (cannot be undone)",
}


@dataclass(frozen=True)
class DedupeSettings:
    method: str = "structure"
    threshold: Optional[float] = None       # None: the method's default
    keep: str = "sharpest"
    linkage: str = "direct"
    aspect_tolerance: float = 0.05          # compare only pictures whose aspect ratios differ less
    model: Optional[str] = None             # embed: a registry name or an .onnx path
    action: str = "mark"
    exact: bool = False                     # join all pairs (no index), for checks and small sets
    recall: float = 0.99                    # target recall of the index at the threshold
    verify: bool = True                     # the pair verifier decides each candidate pair
    strictness: float = 1.0                 # verifier: >1 keeps more pairs apart, <1 merges more
    keep_lip_flaps: bool = True             # verifier: a changed mouth/eyes is another drawing
    allow_crops: bool = False               # verifier: a crop of a larger picture is its copy

    def validated(self) -> "DedupeSettings":
        """A copy with defaults filled in; BadInput says what is wrong and what is allowed."""
        method = METHODS.get(self.method)
        if method is None:
            raise BadInput(f"unknown dedupe method {self.method!r}", f"use one of {', '.join(METHODS)}")
        default = method.candidate if self.verify else method.default
        if self.verify and self.allow_crops:
            default = min(default, 0.6 if method.name == "structure" else 0.65)  # crops look less alike
        threshold = default if self.threshold is None else self.threshold
        if not isinstance(threshold, (int, float)) or not method.low <= float(threshold) <= 1.0:
            raise BadInput(f"threshold {threshold} is out of range for {method.name}",
                           f"use a similarity from {method.low} to 1.0 (higher = stricter; "
                           f"default {default})")
        _choice("keep", self.keep, KEEP_RULES)
        _choice("linkage", self.linkage, LINKAGES)
        _choice("action", self.action, ACTIONS)
        if not 0.0 <= self.aspect_tolerance <= 1.0:
            raise BadInput(f"aspect tolerance {self.aspect_tolerance} is out of range",
                           "use 0 (same aspect only) to 1.0")
        if not 0.5 <= self.recall < 1.0:
            raise BadInput(f"recall target {self.recall} is out of range", "use 0.5 to 0.999")
        self.verifier_settings().validated()
        aspect = 1.0 if self.verify and self.allow_crops else self.aspect_tolerance
        return dataclasses.replace(self, threshold=float(threshold), aspect_tolerance=aspect)

    def verifier_settings(self):
        from .verify import VerifySettings

        return VerifySettings(strictness=self.strictness, keep_lip_flaps=self.keep_lip_flaps,
                              allow_crops=self.allow_crops)

    def describe(self) -> str:
        s = self.validated()
        text = f"{s.method} >= {s.threshold:g}, keep {s.keep}, {s.linkage} linkage"
        if s.verify:
            text = (f"{s.method} >= {s.threshold:g} candidates, verified (strictness {s.strictness:g}, "
                    f"lip flaps {'kept' if s.keep_lip_flaps else 'merged'}"
                    f"{', crops matched' if s.allow_crops else ''}), keep {s.keep}, {s.linkage} linkage")
        return text + (f", model {s.model}" if s.method == "embed" and s.model else "")


def _choice(what: str, value: str, allowed: dict) -> None:
    if value not in allowed:
        raise BadInput(f"unknown {what} {value!r}", f"use one of {', '.join(allowed)}")


def hash_bits_for(threshold: float) -> int:
    """Largest number of differing bits (of 64) that still reaches `threshold` similarity."""
    return int((1.0 - threshold) * 64 + 1e-9)
