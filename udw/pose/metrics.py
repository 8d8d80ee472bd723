"""Scores for pose transfer results, so that users with real weights can compare settings.

- pose error: mean distance between the target pose's keypoints and those detected on the output,
  over body keypoints visible in both, divided by the target's body size (the diagonal of its
  visible body box); 0 is perfect, 0.1 means points are off by a tenth of the body on average.
  Keypoints of the target that the output does not show are counted separately (`missed`).
- identity similarity: cosine between character embeddings (a CCIP-class ONNX model: input
  `input` [B, 3, S, S] RGB with CLIP mean/std, output [B, D]) of the reference and the output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image

from ..core.errors import BadInput
from ..core.ports import Ports
from ..models.onnx import get_session
from ..models.registry import locate
from .keypoints import BODY_NAMES, Person, PoseFrame

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711])
DEFAULT_EMBEDDER = "ccip_caformer_24"


@dataclass
class PoseScore:
    error: Optional[float]          # None when no keypoint is visible in both
    compared: int                   # keypoints visible in both
    missed: list[str] = field(default_factory=list)   # visible in the target, absent in the output
    extra: list[str] = field(default_factory=list)    # absent in the target, present in the output


def pose_error(target: Person, detected: Optional[Person], scale: tuple[float, float] = (1.0, 1.0)) -> PoseScore:
    """Compare body keypoints; `scale` maps the detected pose's pixels onto the target's canvas."""
    t = target.body
    if detected is None:
        return PoseScore(None, 0, [BODY_NAMES[i] for i in np.flatnonzero(t[:, 2] > 0)])
    d = detected.transformed(*scale).body
    vt, vd = t[:, 2] > 0, d[:, 2] > 0
    both = vt & vd
    missed = [BODY_NAMES[i] for i in np.flatnonzero(vt & ~vd)]
    extra = [BODY_NAMES[i] for i in np.flatnonzero(vd & ~vt)]
    if not both.any():
        return PoseScore(None, 0, missed, extra)
    dist = np.hypot(*(t[both, :2] - d[both, :2]).T)
    return PoseScore(float(dist.mean() / target.size()), int(both.sum()), missed, extra)


def frame_pose_error(target: PoseFrame, detected: PoseFrame, target_person: int = 0) -> PoseScore:
    """Target person vs the detected person nearest to it (outputs may show extra people)."""
    if not target.people:
        raise BadInput("the target pose has no person", "give a pose with one person")
    person = target.people[min(target_person, len(target.people) - 1)]
    scale = (target.width / max(detected.width, 1), target.height / max(detected.height, 1))
    scores = [pose_error(person, p, scale) for p in detected.people] or [pose_error(person, None)]
    return min(scores, key=lambda s: (s.error is None, -s.compared, s.error or 0.0))


class Embedder:
    """A CCIP-layout character embedder from the registry (or a file)."""

    def __init__(self, model: Union[str, Path, None] = None, ports: Optional[Ports] = None):
        ports = ports or Ports()
        text = str(model or DEFAULT_EMBEDDER)
        if Path(text).suffix.lower() == ".onnx" or Path(text).is_file():
            path = locate(DEFAULT_EMBEDDER, ports, explicit=text).first
        else:
            path = locate(text, ports).first
        self.session = get_session(path, ports.providers).session
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        side = inp.shape[2] if len(inp.shape) == 4 else None
        self.size = side if isinstance(side, int) and side > 0 else 384

    def embed(self, images: list[Image.Image]) -> np.ndarray:
        """(N, D) unit-length embeddings."""
        batch = np.stack([_prepare(im, self.size) for im in images]).astype(np.float32)
        feats = np.concatenate([self.session.run(None, {self.input_name: batch[i:i + 1]})[0]
                                for i in range(len(batch))]).astype(np.float64)
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        return feats / np.maximum(norms, 1e-12)

    def similarity(self, a: Image.Image, b: Image.Image) -> float:
        ea, eb = self.embed([a, b])
        return float(np.dot(ea, eb))


def _prepare(image: Image.Image, size: int) -> np.ndarray:
    arr = np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.float64) / 255.0
    return ((arr - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)


@dataclass
class EvalReport:
    pose: Optional[PoseScore]
    identity: Optional[float]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"pose_error": self.pose.error if self.pose else None,
                "keypoints_compared": self.pose.compared if self.pose else 0,
                "keypoints_missed": self.pose.missed if self.pose else [],
                "identity_similarity": self.identity, "notes": self.notes,
                "pose": asdict(self.pose) if self.pose else None}

    def summary(self) -> str:
        parts = []
        if self.pose is not None:
            if self.pose.error is None:
                parts.append("pose error: n/a (no keypoint of the target found on the output)")
            else:
                parts.append(f"pose error {self.pose.error:.4f} over {self.pose.compared} keypoints")
            if self.pose.missed:
                parts.append(f"missed {len(self.pose.missed)}: {', '.join(self.pose.missed)}")
        if self.identity is not None:
            parts.append(f"identity similarity {self.identity:.4f}")
        return "; ".join(parts + self.notes) or "nothing to score"
