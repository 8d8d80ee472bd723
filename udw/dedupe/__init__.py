"""Near-duplicate detection: cheap signatures (shared with frame extraction) and dataset dedupe.

    from udw.dedupe import DedupeSettings, dedupe_dataset, dedupe_images, restore
    report = dedupe_dataset("my_dataset", DedupeSettings(method="structure", threshold=0.96))
    print(report.summary()); restore("my_dataset")   # undo

Modules: signatures (per-picture signatures), compute/stage (signatures stored in the manifest,
resumable), embed (ONNX embedders), search/engine (index: candidate pairs), verify/align/crops
(the pair verifier: copy or different drawing, and why), verified (verification inside
clustering, the record of decisions), noise (the copies' noise model), cluster
(union-find / direct linkage, survivors), apply (marks, moves, deletes, undo), evaluate
(precision/recall against ground truth), preview (cluster grids), run (the whole thing).
Submodules are imported on use, so importing the package stays light.
"""

from __future__ import annotations

__all__ = ["DedupeSettings", "dedupe_dataset", "dedupe_images", "restore", "METHODS"]


def __getattr__(name: str):
    if name in ("dedupe_dataset", "dedupe_images", "restore"):
        from . import run

        return getattr(run, name)
    if name in ("DedupeSettings", "METHODS"):
        from . import settings

        return getattr(settings, name)
    raise AttributeError(name)
