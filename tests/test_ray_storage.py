"""Datasets mirrored in object storage: workers stage reads and writes; push/pull sync the folder."""

import shutil

import numpy as np
import pytest

from udw.core.atomic import write_text
from udw.core.engine import EngineSettings
from udw.core.images import open_image
from udw.core.manifest import Dataset
from udw.core.stages import Stage, run_stage
from udw.dataset.ingest import import_images
from udw.scale.storage import sync
from udw.scale.view import ManifestInWorker, StagedView, worker_view


class MeanStage(Stage):
    """Mean grey level of each image into the manifest, plus a `.mean` file beside the image."""
    name = "mean"
    batch_size = 2

    def load(self, ds, item):
        return float(np.asarray(open_image(ds.abspath(item))).mean())

    def process(self, ds, items, loaded):
        for it, m in zip(items, loaded):
            write_text(ds.abspath(it).with_suffix(".mean"), f"{m:.3f}\n")
        return loaded

    def commit(self, ds, conn, item, result):
        conn.execute("INSERT OR REPLACE INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)",
                     (item.id, "mean", "general", result))


def scores(ds):
    with ds.db() as conn:
        return dict(conn.execute("SELECT i.path, t.score FROM tags t JOIN items i ON i.id=t.item_id"))


@pytest.fixture
def mirrored(tmp_path, image_folder):
    ds = Dataset(tmp_path / "ds", create=True)
    import_images(ds, [image_folder])
    url = f"file://{tmp_path / 'mirror'}"
    assert sync(ds.root, url, "push") == 6 and sync(ds.root, url, "push") == 0
    return ds, url, tmp_path / "mirror"


def test_staged_view_fetches_and_uploads(mirrored):
    ds, url, mirror = mirrored
    view = worker_view(url, "mean")
    assert isinstance(view, StagedView)
    item = ds.items()[0]
    local = view.abspath(item)
    assert local.read_bytes() == (ds.root / item.path).read_bytes() and view.root in local.parents
    write_text(local.with_suffix(".mean"), "1\n")
    assert view.flush() == 1  # only the new file goes up; the fetched one is unchanged
    assert (mirror / item.path).with_suffix(".mean").read_text() == "1\n"
    assert not any(view.root.iterdir())  # scratch emptied after each batch
    with pytest.raises(ManifestInWorker, match="Dataset.items inside a Ray worker"):
        view.items()
    assert not hasattr(view, "transaction")


def test_stage_on_ray_workers_that_only_see_the_mirror(mirrored, ray_local):
    ds, url, mirror = mirrored
    here = Dataset(_copy(ds))
    run_stage(here, MeanStage())
    shutil.rmtree(ds.root / "images")  # the driver's folder no longer has the images: only the store
    report = run_stage(ds, MeanStage(), engine=EngineSettings("ray", actors=2, worker_root=url))
    assert report.done == 6 and not report.failed
    assert scores(ds) == scores(here) and len(scores(ds)) == 6
    assert len(list((mirror / "images").glob("*.mean"))) == 6
    assert not (ds.root / "images").exists()  # nothing was written on the driver's side
    assert sync(ds.root, url, "pull") == 12  # images and .mean files come back
    assert len(list((ds.root / "images").glob("*.mean"))) == 6


def _copy(ds):
    target = ds.root.parent / "local-copy"
    shutil.copytree(ds.root, target)
    return target
