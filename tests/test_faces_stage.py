"""The faces stage over a dataset: boxes, buckets, counts, crops as linked items, resume, bad input."""

import numpy as np
import pytest
from PIL import Image

from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dataset.ingest import import_images
from udw.faces import CropSettings, FaceSettings, run_faces
from udw.faces.geometry import iou
from udw.faces.store import load_faces

TRUTH = {  # frame -> magenta faces (x0, y0, x1, y1) on 640x320
    "one_small": [(300, 40, 340, 80)],                              # 40/320 = 12.5 %
    "one_large": [(200, 20, 400, 220)],                             # 62.5 %
    "two": [(60, 100, 160, 200), (400, 60, 480, 140)],              # 31 %
    "border": [(0, 100, 100, 200), (560, 240, 640, 320)],           # touching the frame's edges
    "none": [],
}


@pytest.fixture
def face_dataset(tmp_path, magenta_frame):
    src = tmp_path / "frames"
    src.mkdir()
    for name, boxes in TRUTH.items():
        Image.fromarray(magenta_frame((640, 320), boxes)).save(src / f"{name}.png")
    ds = Dataset.open_or_create(tmp_path / "ds")
    import_images(ds, [src])
    return ds


def by_name(ds):
    with ds.db() as conn:
        faces = load_faces(conn)
    return {it.path.split("/")[-1].rsplit(".", 1)[0]: (it, faces.get(it.id, [])) for it in ds.items()}


def test_boxes_buckets_and_counts(face_dataset, tiny_yolo):
    report = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo)))
    assert report.stage.done == 5 and report.faces == 6 and report.images_with_faces == 4
    assert "tiny_face (YOLOv8 ONNX" in report.detector
    got = by_name(face_dataset)
    for name, boxes in TRUTH.items():
        item, faces = got[name]
        assert len(faces) == len(boxes) == item.person_count
        for t in boxes:
            assert max(iou(f.box, t) for f in faces) > 0.95
    assert got["one_small"][0].bucket == "face_height_ratio_0-25"
    assert got["one_large"][0].bucket == "face_height_ratio_50-75"
    assert got["two"][0].bucket == "face_height_ratio_25-50" and got["two"][0].face_ratio == pytest.approx(100 / 320)
    assert got["none"][0].bucket is None and got["none"][0].face_ratio == 0
    assert [f.x0 for f in got["two"][1]] == sorted(f.x0 for f in got["two"][1])  # reading order


def test_rerun_resumes_and_new_settings_redo(face_dataset, tiny_yolo):
    run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo)))
    again = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo)))
    assert again.stage.done == 0 and again.faces == 6
    edges = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo), edges=(50,)))
    assert edges.stage.done == 5 and by_name(face_dataset)["one_large"][0].bucket == "face_height_ratio_50-100"


def test_cancel_keeps_finished_work(face_dataset, tiny_yolo):
    calls = []
    ports = Ports(cancelled=lambda: len(calls) > 0, progress=lambda d, t, p=None: calls.append(d))
    stage = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo)), ports).stage
    assert stage.cancelled
    resumed = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo))).stage
    assert resumed.done + stage.done == 5 and not resumed.cancelled


def test_tag_counts_are_used_when_present(face_dataset, tiny_yolo):
    it = by_name(face_dataset)["two"][0]
    with face_dataset.transaction() as conn:
        conn.executemany("INSERT INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)",
                         [(it.id, "2girls", "general", 0.9), (it.id, "1boy", "general", 0.8)])
    run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo)))
    assert face_dataset.item(it.id).person_count == 3
    run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo), count_from="faces"))
    assert face_dataset.item(it.id).person_count == 2


def test_crops_are_new_items_linked_to_their_frame(face_dataset, tiny_yolo):
    crops = CropSettings(scale=2.0, min_size=100, size=128)
    report = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo), crop=True, crop_settings=crops))
    items = face_dataset.items(where="kind='crop'")
    # one_small's face (40 px) gives an 80 px crop: below the minimum, skipped
    assert report.crops == len(items) == 5
    with face_dataset.db() as conn:
        faces = load_faces(conn, [it.id for it in items])
    for it in items:
        parent = face_dataset.item(it.parent_id)
        assert it.key.startswith(f"crop:{parent.key}:") and it.width == it.height <= 128
        img = np.asarray(Image.open(face_dataset.abspath(it)))
        assert img.shape[:2] == (it.height, it.width)
        f = faces[it.id][0]
        assert (img[int(f.y0) + 2:int(f.y1) - 2, int(f.x0) + 2:int(f.x1) - 2] == (255, 0, 255)).all()
    # other crop settings replace the old crops (rows and files)
    old = {face_dataset.abspath(it) for it in items}
    run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo), crop=False))
    assert face_dataset.items(where="kind='crop'") == [] and not any(p.exists() for p in old)


def test_bad_input(tmp_path, tiny_yolo, face_dataset):
    empty = Dataset.open_or_create(tmp_path / "empty")
    report = run_faces(empty, FaceSettings(detector="definitely-not-loaded"))  # nothing to do: no model needed
    assert report.stage.done == 0 and report.faces == 0
    broken = face_dataset.items()[0]
    face_dataset.abspath(broken).write_bytes(b"\x89PNG broken")
    report = run_faces(face_dataset, FaceSettings(detector=str(tiny_yolo)))
    assert len(report.stage.failed) == 1 and "cannot read image" in report.stage.failed[0][1]
    with pytest.raises(BadInput, match="count source"):
        run_faces(face_dataset, FaceSettings(count_from="votes"))
    with pytest.raises(BadInput, match="bucket edges"):
        run_faces(face_dataset, FaceSettings(edges=(60, 30)))
