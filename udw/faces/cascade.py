"""OpenCV LBP cascades (lbpcascade_animeface.xml): OpenCV's own detector when the installed
OpenCV has it, else an exact NumPy evaluation of the same XML.

OpenCV 5 moved `CascadeClassifier` out of the main module, so a host may lack it. The NumPy path
follows OpenCV's algorithm: for each scale the grey, histogram-equalised image is resized,
every 24x24 window (step 2 below scale 2, else 1) runs the boosted stages of categorical LBP
stumps with early rejection, and the hits are grouped like `groupRectangles` (eps 0.2,
`min_neighbors`), smaller groups inside bigger ones dropped.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..core.errors import BadInput
from .geometry import Face

log = logging.getLogger("udw.faces")
THRESHOLD_EPS = 1e-5
GROUP_EPS = 0.2
# The cascade's square windows reach from the forehead to below the chin and past the cheeks.
# Mapped onto the face box the bucket rules assume (hairline to chin, cheek to cheek): height
# / 1.2, width / 1.4, centre 0.16 face-heights higher (medians over 2 x 16 faces matched to the
# sample episodes' truth, the same in each episode). `calibrate=False` keeps the raw windows.
CALIBRATION = (1.2, 1.4, 0.16)


@dataclass
class LbpCascade:
    win_w: int
    win_h: int
    stage_thresholds: np.ndarray       # (stages,)
    stage_ends: np.ndarray             # cumulative weak counts: stage s uses weak[ends[s-1]:ends[s]]
    weak_feature: np.ndarray           # (weak,) feature index
    weak_subsets: np.ndarray           # (weak, 8) int32 bit masks of the 256 LBP codes
    weak_leaves: np.ndarray            # (weak, 2) leaf values (bit set -> [0], else [1])
    rects: np.ndarray                  # (features, 4) x, y, w, h of one LBP cell


def load_cascade(path: Path) -> LbpCascade:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise BadInput(f"{path}: not a readable cascade XML ({exc})", "download the file again") from exc
    casc = root.find("cascade")
    if casc is None or (casc.findtext("featureType") or "").strip() != "LBP":
        raise BadInput(f"{path}: not an OpenCV LBP cascade", "use lbpcascade_animeface.xml")
    thresholds, ends, feats, subsets, leaves = [], [], [], [], []
    for stage in casc.find("stages"):
        thresholds.append(float(stage.findtext("stageThreshold")) - THRESHOLD_EPS)
        for weak in stage.find("weakClassifiers"):
            nodes = [int(v) for v in weak.findtext("internalNodes").split()]
            if len(nodes) != 11:
                raise BadInput(f"{path}: only depth-1 LBP stumps are supported", "use lbpcascade_animeface.xml")
            feats.append(nodes[2])
            subsets.append(nodes[3:])
            leaves.append([float(v) for v in weak.findtext("leafValues").split()])
        ends.append(len(feats))
    rects = [[int(v) for v in f.findtext("rect").split()] for f in casc.find("features")]
    return LbpCascade(int(casc.findtext("width")), int(casc.findtext("height")),
                      np.array(thresholds), np.array(ends), np.array(feats),
                      np.array(subsets, dtype=np.int64).astype(np.uint32).view(np.int32),
                      np.array(leaves), np.array(rects))


DENSE_STAGES = 3  # stages that see most windows: their cell sizes get dense block-sum planes


def _window_hits(cascade: LbpCascade, grey: np.ndarray, step: int) -> np.ndarray:
    """Top-left corners (n, 2) of the windows that pass every stage, in `grey`'s pixels.

    The first stages see nearly every window: the block sums of their cell sizes are computed
    densely once, so a weak classifier needs 9 look-ups per window. The later stages see few
    windows and read the 16 integral-image corners instead. Each stage runs for all its weak
    classifiers and all surviving windows at once.
    """
    h, w = grey.shape
    if h < cascade.win_h or w < cascade.win_w:
        return np.zeros((0, 2), dtype=np.int64)
    integral = np.zeros((h + 1, w + 1), dtype=np.int32)
    integral[1:, 1:] = grey.astype(np.int32).cumsum(0).cumsum(1)
    stride, plane = w + 1, (h + 1) * (w + 1)
    n_dense = int(cascade.stage_ends[min(DENSE_STAGES, len(cascade.stage_ends)) - 1])
    rects = cascade.rects[cascade.weak_feature]
    sizes, size_of_weak = np.unique(rects[:n_dense, 2:], axis=0, return_inverse=True)
    blocks = np.zeros((len(sizes), h + 1, w + 1), dtype=np.int32)
    for u, (cw, ch) in enumerate(sizes):
        blocks[u, :h + 1 - ch, :w + 1 - cw] = (integral[ch:, cw:] - integral[:h + 1 - ch, cw:]
                                               - integral[ch:, :w + 1 - cw] + integral[:h + 1 - ch, :w + 1 - cw])
    dense = (blocks.ravel(), _grid_offsets(rects[:n_dense], stride, 3, size_of_weak.ravel() * plane))
    sparse = (integral.ravel(), _grid_offsets(rects, stride, 4))
    ys, xs = np.mgrid[0:h - cascade.win_h + 1:step, 0:w - cascade.win_w + 1:step]
    base = (ys * stride + xs).ravel()
    start = 0
    for s, end in enumerate(cascade.stage_ends):
        k = np.arange(start, end)
        flat, offsets = dense if end <= n_dense else sparse
        points = flat[offsets[k].T[:, None, :] + base[None, :, None]]  # (9 or 16, n, K)
        code = _lbp_codes(points if end <= n_dense else _cells(points))
        word = cascade.weak_subsets[k[None, :], code >> 5]
        bit = (word >> (code & 31)) & 1
        leaves = cascade.weak_leaves[k]
        total = np.where(bit != 0, leaves[:, 0], leaves[:, 1]).sum(axis=1)
        base = base[total >= cascade.stage_thresholds[s]]
        start = end
        if not base.size:
            break
    return np.stack([base % stride, base // stride], axis=1)


def _grid_offsets(rects: np.ndarray, stride: int, n: int, extra=0) -> np.ndarray:
    """(weak, n*n) flat offsets of an n x n grid of points spaced by each rect's cell size."""
    x, y, cw, ch = rects.T
    i, j = np.divmod(np.arange(n * n), n)
    extra = np.asarray(extra).reshape(-1, 1) if np.ndim(extra) else extra
    return ((y[:, None] + i * ch[:, None]) * stride + x[:, None] + j * cw[:, None] + extra).astype(np.int64)


def _cells(corners: np.ndarray) -> np.ndarray:
    """(16, ...) integral-image corners of a 4x4 grid -> (9, ...) cell sums."""
    c = corners.reshape(4, 4, *corners.shape[1:])
    return (c[1:, 1:] - c[:-1, 1:] - c[1:, :-1] + c[:-1, :-1]).reshape(9, *corners.shape[1:])


# cell (row-major in the 3x3 grid) -> bit of the LBP code: clockwise from the top-left cell
_BITS = ((0, 7), (1, 6), (2, 5), (5, 4), (8, 3), (7, 2), (6, 1), (3, 0))


def _lbp_codes(cells: np.ndarray) -> np.ndarray:
    """OpenCV's LBP code from (9, ...) cell sums: each neighbour cell >= the centre cell sets its bit."""
    centre = cells[4]
    code = np.zeros(centre.shape, dtype=np.int32)
    for cell, bit in _BITS:
        code |= (cells[cell] >= centre).astype(np.int32) << bit
    return code


def detect_numpy(cascade: LbpCascade, grey: np.ndarray, scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: int = 24, max_size: int = 0) -> list[tuple]:
    """OpenCV's detectMultiScale on an equalised uint8 grey image: [(x, y, w, h, neighbours)]."""
    import cv2

    h, w = grey.shape
    rects = []
    factor = 1.0
    while True:
        scale = np.float32(factor)  # OpenCV keeps the scales as float
        win_w, win_h = round(cascade.win_w * factor), round(cascade.win_h * factor)
        if win_w > w or win_h > h or (max_size and win_w > max_size):
            break
        scaled = (round(float(np.float32(w) / scale)), round(float(np.float32(h) / scale)))
        if win_w >= min_size and win_h >= min_size and scaled[0] >= cascade.win_w and scaled[1] >= cascade.win_h:
            img = cv2.resize(grey, scaled, interpolation=cv2.INTER_LINEAR_EXACT)
            step = 1 if factor >= 2 else 2
            for x, y in _window_hits(cascade, img, step):
                rects.append((int(np.rint(np.float32(x) * scale)), int(np.rint(np.float32(y) * scale)), win_w, win_h))
        factor *= scale_factor
    return group_rectangles(rects, min_neighbors)


def group_rectangles(rects: list[tuple], threshold: int, eps: float = GROUP_EPS) -> list[tuple]:
    """OpenCV's groupRectangles: cluster similar boxes, average them, keep clusters > threshold."""
    n = len(rects)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if _similar(rects[i], rects[j], eps):
                parent[find(i)] = find(j)
    groups: dict[int, list] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(rects[i])
    avg = []
    for members in groups.values():
        s = np.array(members, dtype=np.float32).sum(0) * np.float32(1.0 / len(members))
        avg.append((*(int(np.rint(v)) for v in s), len(members)))  # saturate_cast<int> rounds
    out = []
    for i, r1 in enumerate(avg):
        if r1[4] <= threshold:
            continue
        inside = False
        for j, r2 in enumerate(avg):
            if j == i or r2[4] <= threshold:
                continue
            dx, dy = int(r2[2] * eps), int(r2[3] * eps)
            if (r1[0] >= r2[0] - dx and r1[1] >= r2[1] - dy and r1[0] + r1[2] <= r2[0] + r2[2] + dx
                    and r1[1] + r1[3] <= r2[1] + r2[3] + dy and (r2[4] > max(3, r1[4]) or r1[4] < 3)):
                inside = True
                break
        if not inside:
            out.append(r1)
    return out


def _similar(a: tuple, b: tuple, eps: float) -> bool:
    delta = eps * (min(a[2], b[2]) + min(a[3], b[3])) * 0.5
    return (abs(a[0] - b[0]) <= delta and abs(a[1] - b[1]) <= delta
            and abs(a[0] + a[2] - b[0] - b[2]) <= delta and abs(a[1] + a[3] - b[1] - b[3]) <= delta)


def opencv_cascade_class():
    """OpenCV's CascadeClassifier if this OpenCV has one (4.x main module or 5.x contrib)."""
    import cv2

    cls = getattr(cv2, "CascadeClassifier", None)
    if cls is None:
        cls = getattr(getattr(cv2, "xobjdetect", None), "CascadeClassifier", None)
    return cls


class CascadeDetector:
    """Anime faces with an LBP cascade; `backend` is 'opencv' or 'numpy' (what really runs)."""

    def __init__(self, path: Path, name: str = "lbpcascade_animeface", scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: int = 24, max_side: int = 640,
                 backend: Optional[str] = None, calibrate: bool = True, pad: float = 0.0):
        self.path, self.name = Path(path), name
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size
        self.max_side, self.calibrate, self.pad = max_side, calibrate, pad
        cls = opencv_cascade_class() if backend in (None, "opencv") else None
        if backend == "opencv" and cls is None:
            raise BadInput("this OpenCV has no CascadeClassifier", "use backend 'numpy'")
        self._cv = cls(str(self.path)) if cls is not None else None
        if self._cv is not None and self._cv.empty():
            raise BadInput(f"{self.path}: OpenCV could not load the cascade", "download the file again")
        self._np = load_cascade(self.path) if self._cv is None else None
        self.backend = "opencv" if self._cv is not None else "numpy"

    def __reduce__(self):
        # Sent to a Ray worker as its recipe (OpenCV's classifier cannot be pickled).
        return (type(self), (self.path, self.name, self.scale_factor, self.min_neighbors, self.min_size,
                             self.max_side, self.backend, self.calibrate, self.pad))

    def describe(self) -> str:
        return f"{self.name} (LBP cascade, {self.backend}, min neighbours {self.min_neighbors})"

    def detect(self, img: np.ndarray) -> list[Face]:
        import cv2

        h, w = img.shape[:2]
        scale = min(1.0, self.max_side / max(h, w)) if self.max_side else 1.0
        small = img if scale == 1.0 else cv2.resize(img, (round(w * scale), round(h * scale)),
                                                     interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY))
        p = int(round(self.pad * max(grey.shape)))
        if p:  # room for windows larger than the picture: close-ups whose chin leaves the frame
            grey = cv2.copyMakeBorder(grey, p, p, p, p, cv2.BORDER_REPLICATE)
        if self._cv is not None:
            found, _, weights = self._cv.detectMultiScale3(
                grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                minSize=(self.min_size, self.min_size), outputRejectLevels=True)
            rects = [(*map(int, r), 1.0) for r in found]
            scores = [float(s) for s in np.asarray(weights).ravel()] if len(found) else []
        else:
            found = detect_numpy(self._np, grey, self.scale_factor, self.min_neighbors, self.min_size)
            rects, scores = found, [r[4] for r in found]
        faces = []
        for (x, y, fw, fh, *_), s in zip(rects, scores):
            x, y = x - p, y - p
            box = _face_box(x / scale, y / scale, fw / scale, fh / scale) if self.calibrate else \
                (x / scale, y / scale, (x + fw) / scale, (y + fh) / scale)
            faces.append(Face(*box, score=_squash(s), detector=self.name).clipped(w, h))
        return faces


def _face_box(x: float, y: float, fw: float, fh: float) -> tuple[float, float, float, float]:
    k_h, k_w, lift = CALIBRATION
    h, w = fh / k_h, fw / k_w
    cx, cy = x + fw / 2, y + fh / 2 - lift * h
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _squash(score: float) -> float:
    """Neighbour counts / stage sums are unbounded: map them to 0..1 for display and sorting."""
    return float(1.0 - np.exp(-max(score, 0.0) / 10.0))
