"""Balancing and the trainer exports, parsed back with each trainer's own rules."""

import json
import math
import random

import pytest

from udw.core.errors import BadInput
from udw.dataset import ArrangeSettings, ExportSettings, run_export
from udw.dataset.balance import compute, parse_weights, read_weights, table

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")



def test_seed_readme_example_probabilities():
    # the seed's README: 1_character 3, class1 4, *class2 6 -> 0.3, 0.45, 0.2, 0.05
    counts = {("1_character", "class1"): 10, ("1_character", "class2"): 10, ("others", "class1"): 10,
              ("others", "class3"): 10}
    b = compute(counts, {"1_character": 3, "class1": 4, "*class2": 6})
    assert [round(r.probability, 4) for r in b.rows] == [0.3, 0.45, 0.2, 0.05]
    assert [r.multiplier for r in b.rows] == pytest.approx([6, 9, 4, 1])


def test_each_concept_is_seen_equally_whatever_its_size():
    counts = {("1_character", "Aoi", "b0"): 200, ("1_character", "Aoi", "b1"): 50,
              ("1_character", "Beni", "b0"): 10, ("others",): 40}
    b = compute(counts)
    seen = {r.folder: r.ed2_samples() for r in b.rows}
    assert seen[("1_character", "Aoi", "b0")] == pytest.approx(seen[("1_character", "Aoi", "b1")])
    aoi = seen[("1_character", "Aoi", "b0")] + seen[("1_character", "Aoi", "b1")]
    assert aoi == pytest.approx(seen[("1_character", "Beni", "b0")])
    assert aoi + seen[("1_character", "Beni", "b0")] == pytest.approx(seen[("others",)])
    assert min(r.multiplier for r in b.rows) == 1.0
    total = compute(counts, normalise="total")
    assert sum(r.ed2_samples() for r in total.rows) == pytest.approx(300)
    capped = compute(counts, max_multiply=3)
    assert max(r.multiplier for r in capped.rows) == 3
    zero = compute(counts, {"others": 0})
    assert [r.multiplier for r in zero.rows if r.folder == ("others",)] == [0]


def test_weights_from_text_and_csv(tmp_path):
    assert parse_weights(["Aoi=2", "*/face_height_ratio_0-25=0.5"]) == {"Aoi": 2, "*/face_height_ratio_0-25": 0.5}
    for bad in ("Aoi", "=2", "Aoi=x", "Aoi=-1"):
        with pytest.raises(BadInput):
            parse_weights([bad])
    csv = tmp_path / "w.csv"
    csv.write_text("# weights\n1_character, 3\nclass1,4\n")
    assert read_weights(csv) == {"1_character": 3.0, "class1": 4.0}
    csv.write_text("broken")
    with pytest.raises(BadInput):
        read_weights(csv)


def test_table_lists_every_folder_and_totals():
    text = table(compute({("a",): 3, ("b",): 1}))
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["folder", "images", "share", "weight"]
    assert lines[2].split()[:4] == ["a", "3", "50.0%", "1.000"] and lines[3].split()[:4] == ["b", "1", "50.0%", "3.000"]
    assert lines[-1].split()[:3] == ["total", "4", "100%"]


@pytest.fixture
def scene(tmp_path, make_face_dataset, scene_specs):
    return make_face_dataset(tmp_path / "ds", scene_specs)


def ed2_epoch(folder_files, multiplier, rng):
    """EveryDream2's multiply.txt: whole part repeats every image, the fraction samples that share."""
    whole, frac = int(math.floor(multiplier)), multiplier - math.floor(multiplier)
    picked = folder_files * whole
    picked += rng.sample(folder_files, int(round(frac * len(folder_files))))
    return picked


def test_everydream_multiply_txt(scene, tmp_path):
    out = tmp_path / "ed2"
    report = run_export(scene, out, ExportSettings(trainer="everydream", arrange=ArrangeSettings(
        weights={"others": 1.5})))
    rows = {r.path: r for r in report.arranged.balance.rows}
    multiplies = sorted(out.rglob("multiply.txt"))
    assert len(multiplies) == len(rows)
    rng = random.Random(0)
    for m in multiplies:
        folder = m.parent.relative_to(out).as_posix()
        value = float(m.read_text())  # ED2 reads one float
        assert value == pytest.approx(rows[folder].multiplier, rel=1e-3)
        images = sorted(p.name for p in m.parent.iterdir() if p.suffix == ".png")
        assert images and not any(p.is_dir() for p in m.parent.iterdir())  # not recursive: leaves only
        assert len(ed2_epoch(images, value, rng)) == pytest.approx(rows[folder].ed2_samples(), abs=0.5)
        assert all((m.parent / f"{i[:-4]}.txt").is_file() for i in images)  # ED2 captions
    card = (out / "README.md").read_text()
    assert "own recording" in card and "## Folders and balance" in card and "Aoi" in card


KOHYA_SUBSET_KEYS = {"image_dir": str, "num_repeats": int, "caption_extension": str, "keep_tokens_separator": str,
                     "shuffle_caption": bool, "keep_tokens": int, "class_tokens": str}
KOHYA_DATASET_KEYS = {"resolution": int, "enable_bucket": bool, "batch_size": int, "subsets": list}


def test_kohya_dataset_toml(scene, tmp_path):
    out = tmp_path / "kohya"
    report = run_export(scene, out, ExportSettings(trainer="kohya", arrange=ArrangeSettings(
        caption=ArrangeSettings().caption.__class__(keep_parts=2))))
    config = tomllib.loads((out / "dataset.toml").read_text())
    general, (dataset,) = config["general"], config["datasets"]
    assert general["caption_extension"] == ".caption" and general["keep_tokens_separator"] == "|||"
    assert set(dataset) <= set(KOHYA_DATASET_KEYS) and all(isinstance(dataset[k], t) for k, t in KOHYA_DATASET_KEYS.items() if k in dataset)
    rows = {str(out.joinpath(*r.folder)): r for r in report.arranged.balance.rows}
    assert len(dataset["subsets"]) == len(rows)
    for sub in dataset["subsets"]:
        assert set(sub) <= set(KOHYA_SUBSET_KEYS) and all(isinstance(sub[k], KOHYA_SUBSET_KEYS[k]) for k in sub)
        r = rows[sub["image_dir"]]
        assert sub["num_repeats"] == max(1, round(r.multiplier)) >= 1
        images = [p for p in (out / sub["image_dir"]).glob("*.png")]
        assert len(images) == r.images
        for img in images:  # kohya keeps what stands before the separator fixed
            caption = img.with_suffix(".caption").read_text()
            assert " ||| " in caption or len(caption.split(",")) <= 2


def kohya_dreambooth_params(name):
    """kohya's rule for `N_name` folders (train_util): repeats before the first '_', the rest a class token."""
    tokens = name.split("_")
    return int(tokens[0]), "_".join(tokens[1:])


def test_kohya_repeat_folders(scene, tmp_path):
    out = tmp_path / "kohya"
    report = run_export(scene, out, ExportSettings(trainer="kohya", kohya_layout="folders", caption_ext=".txt"))
    folders = sorted((out / "img").iterdir())
    rows = {"-".join(r.folder): r for r in report.arranged.balance.rows}
    assert len(folders) == len(rows)
    for f in folders:
        repeats, name = kohya_dreambooth_params(f.name)
        assert repeats == rows[name].repeats()
        assert len(list(f.glob("*.png"))) == rows[name].images == len(list(f.glob("*.txt")))
    # a later plain arrangement removes the trainer files it no longer writes
    run_export(scene, out, ExportSettings(trainer="everydream"))
    assert not (out / "img").exists()


@pytest.mark.parametrize("strategy", ["REPEATS", "SAMPLES"])
def test_onetrainer_concepts(scene, tmp_path, strategy):
    out = tmp_path / "ot"
    report = run_export(scene, out, ExportSettings(trainer="onetrainer", strategy=strategy))
    concepts = json.loads((out / "concepts.json").read_text())
    rows = {r.path: r for r in report.arranged.balance.rows}
    assert isinstance(concepts, list) and len(concepts) == len(rows)
    for c in concepts:
        assert {"name", "path", "seed", "enabled", "include_subdirectories", "image_variations", "text_variations",
                "balancing", "balancing_strategy", "loss_weight", "image", "text"} <= set(c)
        assert c["balancing_strategy"] == strategy and c["text"]["prompt_source"] == "sample"
        assert c["include_subdirectories"] is False and isinstance(c["balancing"], float)
        r = rows[c["name"]]
        n = len(list((out / c["path"]).glob("*.png")))
        # OneTrainer (mgds): REPEATS -> floor(n * balancing) samples, SAMPLES -> int(balancing) samples
        samples = math.floor(n * c["balancing"]) if strategy == "REPEATS" else int(c["balancing"])
        assert samples == r.onetrainer_samples(strategy)
        assert abs(samples - n * r.multiplier) < 1


def test_bad_export_settings(scene, tmp_path):
    for bad in (ExportSettings(trainer="dreambooth"), ExportSettings(kohya_layout="zip"),
                ExportSettings(trainer="onetrainer", strategy="WEIGHTS")):
        with pytest.raises(BadInput):
            run_export(scene, tmp_path / "x", bad)
    with pytest.raises(BadInput, match="caption extension"):
        run_export(scene, tmp_path / "x", ExportSettings(caption_ext="txt"))


# -- issue 16, finding 3: what the trainers really do with the files ----------------------------------
def test_written_multipliers_survive_the_trainers_flooring():
    # 3 images at 5/3 must give 5 samples: 3 x 1.6666 = 4.9998 floors to 4 in ED2 and mgds
    b = compute({("a",): 3, ("b",): 5})
    a = next(r for r in b.rows if r.folder == ("a",))
    assert a.multiplier == pytest.approx(5 / 3) and a.samples() == 5
    assert math.floor(3 * float(a.written())) == 5 and float(a.written()) - 5 / 3 < 1e-6
    for n, m in [(3, 5 / 3), (7, 1.142857), (997, 1.0030091), (10, 2.0), (1, 100.0), (13, 0.2308)]:
        row = compute({("x",): n})
        row.rows[0].multiplier = m
        r = row.rows[0]
        assert math.floor(n * float(r.written())) == r.samples() == round(n * m), (n, m, r.written())
        assert r.onetrainer_samples("REPEATS") == r.samples() == r.onetrainer_samples("SAMPLES")


def test_card_states_each_trainers_epoch_and_the_caption_ext_written(scene, tmp_path):
    out = tmp_path / "kohya"
    report = run_export(scene, out, ExportSettings(trainer="kohya", arrange=ArrangeSettings(weights={"others": 1.5})))
    bal = report.arranged.balance
    card = (out / "README.md").read_text()
    kohya = sum(r.images * r.repeats() for r in bal.rows)
    ed2 = math.floor(sum(r.images * float(r.written()) for r in bal.rows))
    assert f"kohya (whole repeats per folder) {kohya}" in card and f"EveryDream2 {ed2}" in card
    assert card.index("kohya (whole") < card.index("EveryDream2 ")  # the exported trainer first
    assert kohya != ed2  # whole repeats change the epoch: the card must not give ED2's number for kohya
    dump = json.loads(card.split("## Pipeline settings")[1].split("```json")[1].split("```")[0])
    assert dump["export"]["caption_ext"] == ".caption" and dump["export"]["arrange"]["caption_ext"] == ".caption"
    assert list(out.rglob("*.caption")) and not list(out.rglob("*.txt"))


def test_onetrainer_never_flips_captions_that_name_positions(scene, tmp_path):
    from udw.dataset.captions import CaptionSettings

    run_export(scene, tmp_path / "ot", ExportSettings(trainer="onetrainer"))
    concepts = json.loads((tmp_path / "ot" / "concepts.json").read_text())
    captions = [p.read_text() for p in (tmp_path / "ot").rglob("*.txt")]
    assert any(" fhp " in c for c in captions)  # left/right positions in the captions ...
    assert all(c["image"]["enable_random_flip"] is False for c in concepts)  # ... so no mirrored images
    plain = ArrangeSettings(caption=CaptionSettings(template="{count}, {general}, {tags}"))
    run_export(scene, tmp_path / "ot2", ExportSettings(trainer="onetrainer", arrange=plain))
    concepts = json.loads((tmp_path / "ot2" / "concepts.json").read_text())
    assert all(c["image"]["enable_random_flip"] is True for c in concepts)
    names_only = ArrangeSettings(caption=CaptionSettings(template="{count}, {characters}, {tags}"))
    run_export(scene, tmp_path / "ot3", ExportSettings(trainer="onetrainer", arrange=names_only))
    concepts = json.loads((tmp_path / "ot3" / "concepts.json").read_text())
    assert all(c["image"]["enable_random_flip"] is False for c in concepts)  # names in reading order
