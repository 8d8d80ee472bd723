"""Ground truth from the sample episodes (udw.samples): face boxes, face-height buckets, person
counts, character names and the Level 1-3 folders, with the LBP cascade and the colour embedder.

References come from episode 1, the frames under test from episode 2 (another seed).
"""

import numpy as np
import pytest
from PIL import Image

from udw.characters import CharacterSettings, run_characters
from udw.core.manifest import Dataset
from udw.dataset import ArrangeSettings, arrange
from udw.dataset.arrange import count_folder
from udw.dataset.ingest import import_images
from udw.faces import FaceSettings, run_faces
from udw.faces.cascade import CascadeDetector
from udw.faces.evaluate import Score, match
from udw.faces.geometry import Buckets
from udw.faces.store import load_faces

samples = pytest.importorskip("udw.samples")
# The samples' truth boxes run from hairline to chin; the cascade's square boxes are ~1.2x taller
# (forehead to below the chin): its own bucket edges place the pictures as the truth does.
CASCADE_EDGES = {"lbpcascade_animeface": (30, 60, 90)}
# The 1.2x is a median: a face whose truth ratio lies this close to an edge may fall either side.
EDGE_MARGIN = 0.03


def clear_of_edges(ratio: float, edges=(0.25, 0.5, 0.75)) -> bool:
    return all(abs(ratio - e) >= EDGE_MARGIN for e in edges)


def as_cascade_box(box):
    """A truth box (hairline to chin, cheek to cheek) in the cascade's convention: 1.2x as tall,
    1.4x as wide, centred 0.16 face heights lower (medians over the sample faces)."""
    x0, y0, x1, y1 = box
    h, w = (y1 - y0) * 1.2, (x1 - x0) * 1.4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + 0.16 * (y1 - y0)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


@pytest.fixture(scope="module")
def episode(tmp_path_factory, cascade_path):
    root = tmp_path_factory.mktemp("samples")
    ref_plan = samples.plan_episode(episode=1, seed=0)
    ref_truth = samples.build_truth(ref_plan, "x.mp4", "mp4", "h264")
    detector = CascadeDetector(cascade_path)
    picked: dict[str, int] = {}
    for fr in ref_truth.frames[::12]:  # as a user would: head crops of faces that show
        if not fr.faces or all(picked.get(f.char, 0) >= 2 for f in fr.faces):
            continue
        img = Image.fromarray(samples.render_frame(ref_plan, fr.i))
        found = detector.detect(np.asarray(img))
        for i, j, _ in match([as_cascade_box(f.box) for f in fr.faces], [f.box for f in found], 0.5):
            char, f = fr.faces[i].char, found[j]
            if picked.get(char, 0) < 2 and f.height >= 40:
                picked[char] = picked.get(char, 0) + 1
                side, cx, cy = 2.2 * f.height, (f.x0 + f.x1) / 2, (f.y0 + f.y1) / 2
                (root / "refs" / char).mkdir(parents=True, exist_ok=True)
                img.crop((int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2))) \
                    .save(root / "refs" / char / f"{fr.i}.png")
    assert sorted(picked) == list(samples.CHARACTER_IDS)
    plan = samples.plan_episode(episode=2, seed=1)
    truth = samples.build_truth(plan, "x.mp4", "mp4", "h264")
    frames = {}
    for scene in truth.scenes:
        # the frame nearest the middle of the scene with every eye open: the cascade finds anime
        # faces by their eyes, and since the samples gained acting shots (issue 14) several
        # middle frames fall on a blink
        mid = (scene.start + scene.end) // 2
        i = min(range(scene.start, scene.end),
                key=lambda j: (any(a.eyes for a in plan.state(j).actors), abs(j - mid)))
        frames[f"udwdemo_EP02_{i}"] = truth.frames[i]
        Image.fromarray(samples.render_frame(plan, i)).save((root / "frames").mkdir(exist_ok=True) or
                                                             root / "frames" / f"udwdemo_EP02_{i}.png")
    ds = Dataset.open_or_create(root / "ds")
    import_images(ds, [root / "frames"])
    run_faces(ds, FaceSettings(detector=str(cascade_path), count_from="faces", detector_edges=CASCADE_EDGES))
    run_characters(ds, CharacterSettings(embedder="colour", refs=str(root / "refs"), detector=str(cascade_path)))
    return ds, frames, plan.height, root


def test_faces_buckets_counts_and_characters_match_the_truth(episode):
    ds, frames, height, _ = episode
    buckets, score = Buckets(), Score()
    with ds.db() as conn:
        faces = load_faces(conn)
    complete, bucket_checks = 0, []
    for item in ds.items():
        fr = frames[item.path.split("/")[-1][:-4]]
        found = faces.get(item.id, [])
        truth_bucket = buckets.bucket(max(f.height for f in fr.faces) / height) if fr.faces else None
        pairs = score.add([as_cascade_box(f.box) for f in fr.faces], [f.box for f in found], 0.3,
                          (truth_bucket, item.bucket))
        score.characters_right += sum(found[j].character == fr.faces[i].char for i, j, _ in pairs)
        if len(pairs) == len(fr.faces) == len(found):  # every face found: the image's facts must be exact
            complete += 1
            assert item.person_count == fr.count, item.path
            ratio = max(f.height for f in fr.faces) / height if fr.faces else 0.0
            if clear_of_edges(ratio):
                bucket_checks.append((item.bucket == truth_bucket, item.path, ratio))
    print(score.summary())
    assert score.precision >= 0.95 and score.recall >= 0.75 and score.mean_iou >= 0.75
    assert complete >= 10
    # a close-up whose cascade box would pass the frame's edge can land a bucket low (issue 15: stated)
    right = sum(ok for ok, *_ in bucket_checks)
    assert right >= 0.9 * len(bucket_checks), [c for c in bucket_checks if not c[0]]
    assert score.characters_right >= 0.95 * score.matched


def test_level_1_to_3_folders_match_the_truth(episode):
    ds, frames, height, root = episode
    report = arrange(ds, root / "arranged", ArrangeSettings(detector_edges=CASCADE_EDGES))
    buckets, checked, bucket_checks = Buckets(), 0, []
    for p in report.placed:
        fr = frames[p.name[:-4]]
        found = p.meta.faces
        if not fr.faces:
            assert p.folder == ("others",) and not found
            continue
        if len(found) != len(fr.faces):
            continue  # a missed face changes the folder: scored in the test above
        chars = sorted({f.char for f in fr.faces})
        ratio = max(f.height for f in fr.faces) / height
        expected = (count_folder(len(chars), 6), "+".join(chars), buckets.bucket(ratio))
        assert p.folder[:2] == expected[:2], p.name
        if clear_of_edges(ratio):
            bucket_checks.append((p.folder == expected, p.name, ratio))
        assert p.meta.seed_json()["count"] == str(fr.count)
        checked += 1
    assert checked >= 8
    right = sum(ok for ok, *_ in bucket_checks)
    assert right >= 0.9 * len(bucket_checks), [c for c in bucket_checks if not c[0]]
