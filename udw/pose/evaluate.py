"""`udw pose-eval`: score generated images against the target pose and the reference character."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PIL import Image

from ..core.ports import Ports
from .extract import ExtractOptions, PoseExtractor
from .keypoints import PoseFrame
from .metrics import Embedder, EvalReport, frame_pose_error


def evaluate(outputs: Sequence[Image.Image], target: Optional[PoseFrame] = None,
             reference: Optional[Image.Image] = None, extractor: Optional[PoseExtractor] = None,
             embedder: Optional[Embedder] = None, options: Optional[ExtractOptions] = None,
             ports: Optional[Ports] = None) -> list[EvalReport]:
    """One report per output image: pose error against `target` (when given) and identity
    similarity to `reference` (when given)."""
    ports = ports or Ports()
    options = options or ExtractOptions(hands=False, face=False)
    if target is not None and extractor is None:
        extractor = PoseExtractor(ports=ports)
    if reference is not None and embedder is None:
        embedder = Embedder(ports=ports)
    ref_embedding = embedder.embed([reference])[0] if reference is not None else None
    reports = []
    for i, image in enumerate(outputs):
        ports.step(i, len(outputs))
        pose, identity, notes = None, None, []
        if target is not None:
            found = extractor.extract(np.asarray(image.convert("RGB")), options)
            notes += found.notes
            pose = frame_pose_error(target, found.frame)
        if ref_embedding is not None:
            identity = float(np.dot(ref_embedding, embedder.embed([image])[0]))
        reports.append(EvalReport(pose, identity, notes))
    ports.progress(len(outputs), len(outputs))
    return reports


def mean_scores(reports: Sequence[EvalReport]) -> dict:
    """Means over the reports that have each score (None where none has it)."""
    errors = [r.pose.error for r in reports if r.pose is not None and r.pose.error is not None]
    ids = [r.identity for r in reports if r.identity is not None]
    return {"pose_error": float(np.mean(errors)) if errors else None,
            "identity_similarity": float(np.mean(ids)) if ids else None, "images": len(reports)}
