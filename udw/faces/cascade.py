"""OpenCV LBP cascades (lbpcascade_animeface.xml): OpenCV's own detector when the installed
OpenCV has it (4.x), else a NumPy port that gives OpenCV 4's boxes (tests/test_faces_parity.py).

OpenCV 5 dropped `CascadeClassifier`, so a host may lack it. The port follows OpenCV 4's
`detectMultiScale`: scales 1, 1.1, 1.1^2 ... (kept as floats) while the window fits the picture;
for each, the grey, histogram-equalised picture is resized (INTER_LINEAR_EXACT), windows are
visited as OpenCV visits them (step 2 below scale 2, else 1, one more step after a first-stage
rejection), run the boosted stages of categorical LBP stumps (votes summed in float) with early
rejection, and the hits are grouped like `groupRectangles` (eps 0.2, `min_neighbors`), smaller
groups inside stronger ones dropped.
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
# Close-up pass: a mirrored border on each side (share of the picture height; a mirror completes a
# face cut by the frame, a flat or repeated edge does not), the smallest face it looks for (share of
# the height: from 0.12 it found one more of 29 hard faces in bench_faces.py but cost 3x as much),
# the height the framed picture is shrunk to.
CLOSEUP_PAD, CLOSEUP_MIN, CLOSEUP_SIDE = 0.5, 0.3, 320
CLOSEUP_NEIGHBORS = 4  # a face cut by the frame gathers fewer windows


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
        # OpenCV keeps the threshold as a float, lowered by 1e-5
        thresholds.append(np.float32(np.float32(stage.findtext("stageThreshold")) - np.float32(THRESHOLD_EPS)))
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
                      np.array(thresholds, dtype=np.float32), np.array(ends), np.array(feats),
                      np.array(subsets, dtype=np.int64).astype(np.uint32).view(np.int32),
                      np.array(leaves), np.array(rects))


DENSE_STAGES = 3  # stages that see most windows: their cell sizes get dense block-sum planes


def _window_hits(cascade: LbpCascade, grey: np.ndarray, step: int) -> np.ndarray:
    """Top-left corners (n, 2) of the windows that pass every stage, in `grey`'s pixels.

    Windows are visited as OpenCV 4 visits them: rows `step` apart, and along a row `step`
    further, or `2 * step` after a window the first stage rejected (so which windows run
    depends on the first stage's answers). The first stages see nearly every window: the block
    sums of their cell sizes are computed densely once, so a weak classifier needs 9 look-ups
    per window; the later stages see few windows and read the 16 integral-image corners.
    Each stage runs for all its weak classifiers and all surviving windows at once.
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
        passed = _stage_passes(cascade, s, start, end, base, dense if end <= n_dense else sparse,
                               end <= n_dense)
        base = base[passed & _visited(passed, ys.shape)] if s == 0 else base[passed]
        start = end
        if not base.size:
            break
    return np.stack([base % stride, base // stride], axis=1)


def _stage_passes(cascade: LbpCascade, s: int, start: int, end: int, base: np.ndarray, source: tuple,
                  dense: bool) -> np.ndarray:
    """Which windows (flat top-left offsets `base`) pass stage `s` (weak classifiers start..end)."""
    flat, offsets = source
    k = np.arange(start, end)
    points = flat[offsets[k].T[:, None, :] + base[None, :, None]]  # (9 or 16, n, K)
    code = _lbp_codes(points if dense else _cells(points))
    word = cascade.weak_subsets[k[None, :], code >> 5]
    bit = (word >> (code & 31)) & 1
    leaves = cascade.weak_leaves[k].astype(np.float32)
    votes = np.where(bit != 0, leaves[:, 0], leaves[:, 1])
    # OpenCV adds the votes one by one in a float: cumsum keeps that order (sum would not)
    total = np.cumsum(votes, axis=1, dtype=np.float32)[:, -1] if votes.shape[1] else np.zeros(len(base), np.float32)
    return total >= cascade.stage_thresholds[s]


def _visited(first_stage: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """The windows OpenCV 4 runs at all: after a first-stage rejection it skips the next one."""
    passed = first_stage.reshape(grid)
    seen = np.zeros(grid, dtype=bool)
    seen[:, 0] = True
    if grid[1] > 1:
        seen[:, 1] = passed[:, 0]
    for c in range(2, grid[1]):
        seen[:, c] = (seen[:, c - 1] & passed[:, c - 1]) | (seen[:, c - 2] & ~passed[:, c - 2])
    return seen.ravel()


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
    """OpenCV 4's detectMultiScale on an equalised uint8 grey image: [(x, y, w, h, neighbours)].

    Window sizes run from `min_size` up to the whole picture (or `max_size`), as OpenCV's do.
    """
    return group_rectangles(raw_windows(cascade, grey, scale_factor, min_size, max_size), min_neighbors)


def raw_windows(cascade: LbpCascade, grey: np.ndarray, scale_factor: float = 1.1, min_size: int = 24,
                max_size: int = 0) -> list[tuple]:
    """Every window (x, y, w, h) that passes the whole cascade, at every scale, before grouping."""
    import cv2

    h, w = grey.shape
    rects = []
    factor = 1.0
    while True:  # OpenCV steps the factor in double precision and keeps each scale as a float
        if round(cascade.win_w * factor) > min(w, max_size or w) or round(cascade.win_h * factor) > h:
            break
        scale = np.float32(factor)
        win_w = round(float(np.float32(cascade.win_w) * scale))
        win_h = round(float(np.float32(cascade.win_h) * scale))
        if round(cascade.win_w * factor) >= min_size and round(cascade.win_h * factor) >= min_size:
            scaled = (round(float(np.float32(w) / scale)), round(float(np.float32(h) / scale)))
            img = cv2.resize(grey, scaled, interpolation=cv2.INTER_LINEAR_EXACT)
            for x, y in _window_hits(cascade, img, 1 if scale >= 2 else 2):
                rects.append((round(float(np.float32(x) * scale)), round(float(np.float32(y) * scale)), win_w, win_h))
        factor *= scale_factor
    return rects


def group_rectangles(rects: list[tuple], threshold: int, eps: float = GROUP_EPS) -> list[tuple]:
    """OpenCV's groupRectangles: cluster similar boxes, average them, keep clusters > threshold,
    drop a cluster lying inside a stronger one. A threshold <= 0 keeps every box as it is."""
    if threshold <= 0:
        return [(*r[:4], 1) for r in rects]
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
        groups.setdefault(find(i), []).append(rects[i][:4])
    avg = []
    for members in groups.values():  # int sums times a float 1/n, rounded half to even (cvRound)
        s = np.array(members, dtype=np.int64).sum(0).astype(np.float32) * np.float32(1.0 / len(members))
        avg.append((*(int(np.rint(v)) for v in s), len(members)))
    return [r1 for i, r1 in enumerate(avg) if r1[4] > threshold and not _inside_stronger(r1, i, avg, threshold, eps)]


def _inside_stronger(r1: tuple, i: int, avg: list[tuple], threshold: int, eps: float) -> bool:
    for j, r2 in enumerate(avg):
        if j == i or r2[4] <= threshold:
            continue
        dx, dy = round(r2[2] * eps), round(r2[3] * eps)  # saturate_cast<int> of a double rounds
        if (r1[0] >= r2[0] - dx and r1[1] >= r2[1] - dy and r1[0] + r1[2] <= r2[0] + r2[2] + dx
                and r1[1] + r1[3] <= r2[1] + r2[3] + dy and (r2[4] > max(3, r1[4]) or r1[4] < 3)):
            return True
    return False


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
    """Anime faces with an LBP cascade; `backend` is 'opencv' or 'numpy' (what really runs).

    Boxes are the cascade's own (OpenCV's `detectMultiScale` windows, grouped): square, from the
    forehead to below the chin. A second pass finds close-ups: a face that fills the frame has
    its chin or hair outside it, and no window of the picture holds the whole face; on the
    picture framed by a border (`closeup_pad` of its height on every side), shrunk, only windows
    of at least `closeup_min` of the picture height are searched (few, small scaled images).
    """

    def __init__(self, path: Path, name: str = "lbpcascade_animeface", scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: int = 24, max_side: int = 640,
                 backend: Optional[str] = None, closeups: bool = True, closeup_pad: float = CLOSEUP_PAD,
                 closeup_min: float = CLOSEUP_MIN):
        self.path, self.name = Path(path), name
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size
        self.max_side, self.closeups, self.closeup_pad, self.closeup_min = max_side, closeups, closeup_pad, closeup_min
        cls = opencv_cascade_class() if backend in (None, "opencv") else None
        if backend == "opencv" and cls is None:
            raise BadInput("this OpenCV has no CascadeClassifier (OpenCV 5 moved it out)", "use backend 'numpy'")
        self._cv = cls(str(self.path)) if cls is not None else None
        if self._cv is not None and self._cv.empty():
            raise BadInput(f"{self.path}: OpenCV could not load the cascade", "download the file again")
        self._np = load_cascade(self.path) if self._cv is None else None
        self.backend = "opencv" if self._cv is not None else "numpy"

    def __reduce__(self):
        # Sent to a Ray worker as its recipe (OpenCV's classifier cannot be pickled).
        return (type(self), (self.path, self.name, self.scale_factor, self.min_neighbors, self.min_size,
                             self.max_side, self.backend, self.closeups, self.closeup_pad, self.closeup_min))

    def describe(self) -> str:
        return (f"{self.name} (LBP cascade, {'OpenCV' if self.backend == 'opencv' else 'NumPy port of OpenCV 4'}, "
                f"min neighbours {self.min_neighbors}{', close-up pass' if self.closeups else ''})")

    def detect(self, img: np.ndarray) -> list[Face]:
        import cv2

        h, w = img.shape[:2]
        scale = min(1.0, self.max_side / max(h, w)) if self.max_side else 1.0
        small = img if scale == 1.0 else cv2.resize(img, (round(w * scale), round(h * scale)),
                                                     interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY))
        rects = self.detect_grey(grey, self.min_size)
        if self.closeups:
            rects += self._closeups(grey, rects)
        return [Face(x / scale, y / scale, (x + fw) / scale, (y + fh) / scale, score=_squash(n),
                     detector=self.name).clipped(w, h) for x, y, fw, fh, n in rects]

    def detect_grey(self, grey: np.ndarray, min_size: int, min_neighbors: Optional[int] = None) -> list[tuple]:
        """detectMultiScale on an equalised grey picture: [(x, y, w, h, neighbours)]."""
        n = self.min_neighbors if min_neighbors is None else min_neighbors
        if self._cv is None:
            return detect_numpy(self._np, grey, self.scale_factor, n, min_size)
        found, neighbours = self._cv.detectMultiScale2(grey, scaleFactor=self.scale_factor,
                                                       minNeighbors=n, minSize=(min_size, min_size))
        return [(*map(int, r), int(n)) for r, n in zip(found, np.asarray(neighbours).ravel())]

    def _closeups(self, grey: np.ndarray, found: list[tuple]) -> list[tuple]:
        """Faces too large for the picture, found on it framed by a border; ones found already are left out."""
        import cv2

        h, w = grey.shape
        p = round(self.closeup_pad * h)
        framed = cv2.copyMakeBorder(grey, p, p, p, p, cv2.BORDER_REFLECT)
        k = min(1.0, CLOSEUP_SIDE / framed.shape[0])
        shrunk = cv2.resize(framed, (round(framed.shape[1] * k), round(framed.shape[0] * k)), interpolation=cv2.INTER_AREA)
        min_size = max(self.min_size, round(self.closeup_min * h * k))
        new = []
        for x, y, fw, fh, n in self.detect_grey(shrunk, min_size, CLOSEUP_NEIGHBORS):
            box = (round(x / k) - p, round(y / k) - p, round(fw / k), round(fh / k), n)
            centre_inside = 0 <= box[0] + box[2] / 2 < w and 0 <= box[1] + box[3] / 2 < h  # not a mirror image
            if centre_inside and not any(_overlaps(box, old) for old in found + new):
                new.append(box)
        return new


def _overlaps(a: tuple, b: tuple) -> bool:
    """Two (x, y, w, h) boxes of one face: one's centre lies inside the other."""
    def centre_in(p, q):
        cx, cy = p[0] + p[2] / 2, p[1] + p[3] / 2
        return q[0] <= cx <= q[0] + q[2] and q[1] <= cy <= q[1] + q[3]
    return centre_in(a, b) or centre_in(b, a)


def _squash(neighbours: float) -> float:
    """Neighbour counts are unbounded: map them to 0..1 for display and sorting."""
    return float(1.0 - np.exp(-max(neighbours, 0.0) / 10.0))
