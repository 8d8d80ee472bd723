"""The trainer exports counted by the trainers' own loader code (issue 16, finding 3): EveryDream2's
DataLoaderMultiAspect reading `multiply.txt`; OneTrainer's ConceptConfig reading the concepts JSON and
mgds's DiskCache (its data loader) turning `balancing` into samples. The code comes from checkouts named
by UDW_ED2_DIR / UDW_ONETRAINER_DIR / UDW_MGDS_DIR (see udw/testing/host_code.py); each test skips,
saying so, when its trainer's code is absent."""

import copy
import hashlib
import json
import logging
import math
import random
import typing

import pytest

from udw.dataset import ArrangeSettings, ExportSettings, run_export
from udw.dataset.balance import compute
from udw.dataset.trainers import write_everydream
from udw.testing.host_code import HostCodeMissing, load_parts, onetrainer_concept_config, source_root

WEIGHTS = {"others": 1.5, "Aoi": 2}  # uneven weights: fractional multipliers in most folders


def _source(name):
    try:
        return source_root(name)
    except HostCodeMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture
def scene(tmp_path, make_face_dataset, scene_specs):
    return make_face_dataset(tmp_path / "ds", scene_specs)


def _everydream2():
    root = _source("everydream2")
    fs = load_parts(root / "utils" / "fs_helpers.py", {"read_text", "read_float"}, {"logging": logging})
    caption = load_parts(root / "data" / "image_train_item.py", {"ImageCaption"}, {"random": random})["ImageCaption"]
    loader = load_parts(root / "data" / "data_loader.py", {"DataLoaderMultiAspect"},
                        {"math": math, "copy": copy, "random": random, "logging": logging, "List": typing.List,
                         "Dict": typing.Dict})["DataLoaderMultiAspect"]

    def load(out):
        """ED2's loader over an exported folder tree (dataset.py: ImageConfig(multiply=read_float(...)))."""
        items = []
        for m in sorted(out.rglob("multiply.txt")):
            multiplier = fs["read_float"](str(m))
            items += [_Item(caption("x", 1.0, [], [], 75, False), multiplier) for _ in m.parent.glob("*.png")]
        return loader(items, seed=555)

    return load


def test_fractional_multipliers_lose_no_sample_in_everydream2(tmp_path, make_image):
    """4 images over 3 is 1.3333...: written as 1.3333 ED2 trains 3 + 4 - 1 samples, not 8."""
    load = _everydream2()
    out = tmp_path / "ed2"
    for folder, n in (("a", 3), ("b", 4)):
        for i in range(n):
            make_image(out / folder / f"{i}.png", i, (40, 32))
    bal = compute({("a",): 3, ("b",): 4})
    write_everydream(out, bal)
    assert load(out).expected_epoch_size == 8 == bal.epoch("everydream")


def test_everydream2_counts_the_epoch_the_card_states(scene, tmp_path):
    out = tmp_path / "ed2"
    report = run_export(scene, out, ExportSettings(trainer="everydream", arrange=ArrangeSettings(weights=WEIGHTS)))
    dl = _everydream2()(out)
    bal = report.arranged.balance
    assert dl.expected_epoch_size == bal.epoch("everydream") == sum(r.samples() for r in bal.rows)
    picked = dl._DataLoaderMultiAspect__pick_multiplied_set(random.Random(1))
    assert len(picked) == dl.expected_epoch_size
    card = (out / "README.md").read_text()
    assert f"EveryDream2 {dl.expected_epoch_size}" in card


class _Item:
    """An image as ED2's loader sees it: a caption with a rating, and the folder's multiplier."""

    def __init__(self, caption, multiplier):
        self.caption, self.multiplier = caption, multiplier


@pytest.mark.parametrize("strategy", ["REPEATS", "SAMPLES"])
def test_mgds_gives_each_concept_its_intended_samples(scene, tmp_path, strategy):
    root = _source("mgds")
    bases = {"PipelineModule": type("PipelineModule", (), {}),
             "SingleVariationRandomAccessPipelineModule": type("SingleVariationRandomAccessPipelineModule", (), {})}
    disk_cache = load_parts(root / "src" / "mgds" / "pipelineModules" / "DiskCache.py", {"DiskCache"},
                            {**bases, "math": math, "json": json, "hashlib": hashlib, "Any": typing.Any,
                             "Callable": typing.Callable})["DiskCache"]
    out = tmp_path / "ot"
    report = run_export(scene, out, ExportSettings(trainer="onetrainer", strategy=strategy,
                                                   arrange=ArrangeSettings(weights=WEIGHTS)))
    concepts = _onetrainer_concepts(out / "concepts.json")
    assert all(not c.image.enable_random_flip for c in concepts)  # captions name face positions
    samples = []  # one per image, as OneTrainer's concept loader yields them (not recursive)
    for c in concepts:
        assert not c.include_subdirectories and c.text.prompt_source == "sample"
        for image in sorted(p for p in (out / c.path).iterdir() if p.suffix == ".png"):
            samples.append({"concept.path": c.path, "concept.seed": c.seed, "concept.balancing": c.balancing,
                            "concept.balancing_strategy": str(c.balancing_strategy),
                            "concept.image_variations": c.image_variations, "concept.enabled": c.enabled,
                            "image_path": str(image)})
    cache = disk_cache.__new__(disk_cache)
    cache.variations_in_name, cache.group_enabled_in_name = "concept.image_variations", "concept.enabled"
    cache.balancing_in_name, cache.balancing_strategy_in_name = "concept.balancing", "concept.balancing_strategy"
    cache.variations_group_in_names = ["concept.path", "concept.seed"]
    cache.split_names, cache.aggregate_names = ["image_path"], []
    cache._get_previous_length = lambda name: len(samples)
    cache._get_previous_item = lambda variation, name, index: samples[index][name]
    cache._DiskCache__init_variations()
    rows = {r.path: r for r in report.arranged.balance.rows}
    got = {}
    for key, indices in cache.group_indices.items():
        got[samples[indices[0]]["concept.path"]] = cache.group_output_samples[key]
    assert got == {c.path: rows[c.name].samples() for c in concepts}
    assert sum(got.values()) == report.arranged.balance.epoch("onetrainer", strategy)


def _onetrainer_concepts(path):
    """The concepts JSON as OneTrainer reads it (ConceptConfig.from_dict, with its migrations)."""
    try:
        config = onetrainer_concept_config()
    except HostCodeMissing as exc:
        pytest.skip(str(exc))
    return [config.default_values().from_dict(c) for c in json.loads(path.read_text())]
