"""Dedupe over datasets and plain folders: marks, moves, deletes, undo, resume, scores, bad input."""

import json
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

from udw.core.errors import BadInput, Cancelled
from udw.core.manifest import MANIFEST_NAME, Dataset
from udw.core.ports import Ports
from udw.dataset.ingest import import_images
from udw.dedupe.run import dedupe_dataset, dedupe_images, open_dataset, restore
from udw.dedupe.settings import DedupeSettings
from udw.dedupe.stage import STAGE
from udw.dedupe.synthetic import scene, variant, write_set


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthetic")
    truth = write_set(folder, scenes=8, variants_per_scene=3, negatives=3, seed=1, size=(192, 108))
    return folder, truth


@pytest.fixture
def plain(tmp_path, synthetic):
    folder = tmp_path / "pics"
    shutil.copytree(synthetic[0], folder)
    return folder


def statuses(ds):
    return {it.path: (it.status, it.duplicate_of) for it in ds.items(status=None)}


def test_plain_folder_is_indexed_in_place_and_scored(plain):
    report = dedupe_dataset(plain, truth=[plain / "truth.json"])
    assert (plain / MANIFEST_NAME).is_file() and not (plain / "images").exists()
    ds = Dataset(plain)
    assert report.considered == ds.count(None) == 38
    assert report.removed == ds.count("duplicate") and report.clusters >= 6
    for it in ds.items(status="duplicate"):   # every removed picture shares its scene with the kept one
        kept = ds.item(it.duplicate_of)
        assert kept.status == "active" and kept.path[:4] == it.path[:4] and kept.cluster == kept.id
        assert it.extra["dedupe"]["similarity"] >= 0.9 and it.extra["dedupe"]["why"]["signal"]
        assert (plain / it.path).is_file()      # marked only: files stay
    s = report.scores
    assert s["pairs"]["precision"] >= 0.95 and s["pairs"]["recall"] >= 0.8
    assert s["removal"]["precision"] >= 0.95 and s["removal"]["recall"] >= 0.8
    assert report.preview is not None and report.preview.width > 200
    assert "clusters" in report.summary() and report.seconds["signatures"] > 0


def test_rerun_replaces_the_result_and_undo_restores_everything(plain):
    first = dedupe_dataset(plain, preview=False)
    before = statuses(Dataset(plain))
    again = dedupe_dataset(plain, preview=False)
    assert statuses(Dataset(plain)) == before and again.signatures.done == 0   # signatures reused
    strict = dedupe_dataset(plain, DedupeSettings(threshold=0.999), preview=False)
    assert strict.removed < first.removed == again.removed
    assert Dataset(plain).count("duplicate") == strict.removed                 # replaced, not added
    undo = restore(plain)
    assert undo.restored == strict.removed
    ds = Dataset(plain)
    assert ds.count("duplicate") == 0 and all(it.cluster is None and "dedupe" not in it.extra for it in ds.items())


def test_move_then_undo_puts_files_back(plain):
    names = sorted(p.name for p in plain.iterdir() if p.suffix in (".png", ".jpg"))
    report = dedupe_dataset(plain, DedupeSettings(action="move"), preview=False)
    moved = sorted(p.name for p in (plain / "duplicates").iterdir())
    assert len(moved) == report.removed == report.applied.moved > 0
    ds = Dataset(plain)
    for it in ds.items(status="duplicate"):
        assert it.path.startswith("duplicates/") and (plain / it.path).is_file()
    again = dedupe_dataset(plain, DedupeSettings(action="move"), preview=False)   # same result, files stay put
    assert again.removed == report.removed and len(list((plain / "duplicates").iterdir())) == len(moved)
    restore(plain)
    assert sorted(p.name for p in plain.iterdir() if p.suffix in (".png", ".jpg")) == names
    assert not (plain / "duplicates").exists()
    assert {it.path for it in Dataset(plain).items()} == set(names)


def test_delete_only_on_request_and_undo_says_what_cannot_come_back(plain):
    report = dedupe_dataset(plain, DedupeSettings(action="delete"), preview=False)
    left = [p for p in plain.iterdir() if p.suffix in (".png", ".jpg")]
    assert len(left) == 38 - report.removed and report.applied.deleted == report.removed
    undo = restore(plain)
    assert undo.deleted == report.removed and undo.restored == 0 and "cannot be restored" in undo.summary()
    assert dedupe_dataset(plain, preview=False).considered == len(left)   # deleted ones stay out


def test_killed_move_is_repaired(plain):
    dedupe_dataset(plain, DedupeSettings(action="move"), preview=False)
    ds = Dataset(plain)
    victim = ds.items(status="duplicate")[0]
    original = victim.extra["dedupe"]["moved_from"]
    with ds.transaction() as conn:   # as if the run died after the move, before its commit
        conn.execute("UPDATE items SET status='active', duplicate_of=NULL, path=?, extra='{}' WHERE id=?",
                     (original, victim.id))
    restore(plain)
    assert (plain / original).is_file() and not (plain / "duplicates").exists()


def test_dataset_made_by_import_and_keep_rules(tmp_path, synthetic):
    ds = Dataset.open_or_create(tmp_path / "ds")
    import_images(ds, [synthetic[0]])
    largest = dedupe_dataset(ds, DedupeSettings(keep="largest"), preview=False)
    small = [it for it in ds.items(status=None) if "_small" in it.path]
    small_ids = {it.id for it in small}
    assert small and largest.removed > 0          # the downscaled copy never wins a cluster
    assert not any(it.duplicate_of in small_ids for it in ds.items(status="duplicate"))
    earliest = dedupe_dataset(ds, DedupeSettings(keep="earliest"), preview=False)
    for it in ds.items(status="duplicate"):   # each removed picture is a copy from its own scene
        assert it.duplicate_of < it.id and ds.item(it.duplicate_of).path.split("/")[-1][:4] == it.path.split("/")[-1][:4]
    # each removed picture is verified against the survivor of its rule, so the counts may differ
    assert earliest.removed > 0 and largest.removed > 0


def test_signature_stage_resumes_after_cancel(plain):
    with pytest.raises(Cancelled):  # the stop is honoured after the first batch of signatures
        dedupe_dataset(plain, ports=Ports(cancelled=lambda: True))
    ds = Dataset(plain)
    done = ds.stage_summary()[STAGE]["ok"]
    assert 0 < done < 38 and ds.count("duplicate") == 0   # nothing applied
    report = dedupe_dataset(plain, preview=False)
    assert report.signatures.done == 38 - done and report.considered == 38


def test_bad_pictures_are_skipped_and_reported(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    base = scene(11, (160, 90))
    base.save(folder / "a.png")
    base.convert("RGBA").save(folder / "a_rgba.png")
    base.convert("P", palette=Image.Palette.ADAPTIVE).save(folder / "a_palette.png")
    base.convert("CMYK").save(folder / "a_cmyk.jpg", quality=95)
    grey16 = (np.asarray(base.convert("L"), np.uint16) * 257)
    Image.fromarray(grey16).save(folder / "a_16bit.png")
    variant(base, "small", 1).save(folder / "a_small.png")
    scene(12, (90, 160)).save(folder / "portrait.png")
    data = (folder / "a.png").read_bytes()
    (folder / "truncated.png").write_bytes(data[: len(data) // 2])
    (folder / "not_an_image.jpg").write_bytes(b"hello")
    Image.new("L", (4000, 4000)).save(folder / "bomb.png")   # 16 MP in a few kB
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = 4_000_000  # a bomb above twice this (kept small for the test)
        try:
            report = dedupe_dataset(folder, preview=False)
        finally:
            Image.MAX_IMAGE_PIXELS = old
    failed = {p.rsplit("/", 1)[-1]: r for p, r in report.failed}
    assert set(failed) >= {"truncated.png", "bomb.png"}
    assert "bomb" in failed["bomb.png"]
    ds = Dataset(folder)
    by_name = {it.path: it for it in ds.items(status=None)}
    colour_copies = ["a.png", "a_rgba.png", "a_palette.png", "a_cmyk.jpg", "a_small.png"]
    assert sum(by_name[k].status == "active" for k in colour_copies) == 1   # one kept of the mode copies
    assert "a_16bit.png" in by_name and "a_16bit.png" not in failed       # 16-bit grey decodes (no colour:
    # it is a different picture for the colour-aware signature)
    assert ds.item(next(it.id for it in ds.items(status=None) if it.path == "portrait.png")).status == "active"


def test_empty_and_missing_datasets(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="no readable pictures"):
        dedupe_dataset(tmp_path / "empty")
    with pytest.raises(BadInput, match="no such dataset or folder"):
        dedupe_dataset(tmp_path / "nowhere")
    with pytest.raises(BadInput, match="out of range"):
        dedupe_dataset(tmp_path / "empty", DedupeSettings(threshold=0.1))
    bad = tmp_path / "truth.json"
    bad.write_text("[1, 2]")
    with pytest.raises(BadInput, match="JSON object"):
        dedupe_dataset(tmp_path / "empty", truth=[bad])


def test_samples_truth_format_is_understood(tmp_path):
    """A tiny truth in the udw.samples layout: frames named <prefix>_<i>, shared openings merged."""
    ep = {"format": "udw.samples.truth", "prefix": "demo_EP01", "video": "demo_EP01.mp4",
          "groups": [{"id": 0, "frames": [0, 1]}, {"id": 1, "frames": [2]}],
          "shared": [{"episode": "demo_EP02", "segment": "opening", "frames": [[0, 0]]}]}
    ep2 = {"format": "udw.samples.truth", "prefix": "demo_EP02", "video": "demo_EP02.mp4",
           "groups": [{"id": 0, "frames": [0]}, {"id": 1, "frames": [1]}], "shared": []}
    (tmp_path / "t1.json").write_text(json.dumps(ep))
    (tmp_path / "t2.json").write_text(json.dumps(ep2))
    folder = tmp_path / "frames"
    folder.mkdir()
    a, b = scene(1, (160, 90)), scene(2, (160, 90))
    for name, im in (("demo_EP01_00000", a), ("demo_EP01_00001", variant(a, "jpeg", 1)),
                     ("demo_EP01_00002", b), ("demo_EP02_00000", a), ("demo_EP02_00001", scene(3, (160, 90)))):
        im.save(folder / f"{name}.png")
    report = dedupe_dataset(folder, truth=[tmp_path / "t1.json", tmp_path / "t2.json"], preview=False)
    assert report.scores["items"] == 5 and report.scores["true_groups"] == 3
    assert report.scores["removal"]["precision"] == 1.0 and report.scores["removal"]["recall"] == 1.0


def test_dry_run_changes_nothing_but_scores(plain):
    report = dedupe_dataset(plain, dry_run=True, truth=[plain / "truth.json"])
    assert report.removed > 0 and Dataset(plain).count("duplicate") == 0
    assert report.scores["removal"]["removed"] == report.removed and "would remove" in report.summary()


def test_in_memory_batch(synthetic):
    folder, _ = synthetic
    names = sorted(p for p in folder.iterdir() if p.suffix == ".png" and "_small" not in p.name)[:12]
    images = [np.asarray(Image.open(p).convert("RGB")) for p in names]
    result = dedupe_images(images, DedupeSettings(keep="earliest"))
    assert result.kept == sorted(result.kept) and result.kept[0] == 0
    for k, s in enumerate(result.survivor):
        assert s in result.kept and s <= k and names[s].name[:4] == names[k].name[:4]
    with pytest.raises(BadInput):
        dedupe_images([])


def test_open_dataset_picks_up_new_files_in_a_plain_folder(plain):
    ds = open_dataset(plain)
    n = ds.count()
    scene(99, (192, 108)).save(plain / "new.png")
    assert open_dataset(plain).count() == n + 1
