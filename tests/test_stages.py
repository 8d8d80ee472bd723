import threading

import pytest

from udw.core.errors import Cancelled
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.core.stages import ItemError, Stage, run_stage


class LengthStage(Stage):
    """Writes len(path) as a tag score; 'bad' items fail to load, 'odd' ones fail to process."""
    name = "length"
    batch_size = 3

    def __init__(self, factor=1):
        self.factor = factor
        self.loaded_in = set()
        self.batches = []

    def settings(self):
        return {"factor": self.factor}

    def load(self, ds, item):
        self.loaded_in.add(threading.current_thread().name)
        if "bad" in item.path:
            raise ItemError(f"{item.path}: unreadable")
        return len(item.path)

    def process(self, ds, items, loaded):
        self.batches.append([it.id for it in items])
        return [ValueError("odd item") if "odd" in it.path else n * self.factor
                for it, n in zip(items, loaded)]

    def commit(self, ds, conn, item, result):
        conn.execute("DELETE FROM tags WHERE item_id=?", (item.id,))
        conn.execute("INSERT INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)",
                     (item.id, "len", "general", result))


def make_ds(tmp_path, names):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.transaction() as conn:
        for n in names:
            ds.add_item(conn, n, n)
    return ds


def scores(ds):
    with ds.db() as conn:
        return dict(conn.execute("SELECT i.path, t.score FROM tags t JOIN items i ON i.id=t.item_id"))


def test_runs_all_items_and_reports_failures(tmp_path):
    ds = make_ds(tmp_path, ["a.png", "bb.png", "bad.png", "odd.png", "c.png"])
    seen = []
    report = run_stage(ds, LengthStage(), Ports(progress=lambda d, t, p=None: seen.append((d, t))))
    assert report.done == 3 and len(report.failed) == 2
    assert dict(report.failed)["bad.png"] == "bad.png: unreadable"
    assert "odd item" in dict(report.failed)["odd.png"]
    assert scores(ds) == {"a.png": 5, "bb.png": 6, "c.png": 5}
    assert seen[0] == (0, 5) and seen[-1] == (5, 5)
    assert all(name.startswith("udw-length") for name in LengthStage().loaded_in or {"udw-length"})


def test_rerun_does_nothing_and_new_settings_redo(tmp_path):
    ds = make_ds(tmp_path, ["a.png", "bb.png"])
    run_stage(ds, LengthStage())
    again = run_stage(ds, LengthStage())
    assert again.done == 0 and again.already_done == 2
    redo = run_stage(ds, LengthStage(factor=10))
    assert redo.done == 2 and scores(ds) == {"a.png": 50, "bb.png": 60}


def test_cancel_keeps_finished_batches_and_resumes(tmp_path):
    ds = make_ds(tmp_path, [f"{i}.png" for i in range(10)])
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] >= 2  # stop after the second batch

    stage = LengthStage()
    report = run_stage(ds, stage, Ports(cancelled=cancelled))
    assert report.cancelled and report.done == 6 and len(scores(ds)) == 6
    rest = run_stage(ds, LengthStage())
    assert rest.done == 4 and len(scores(ds)) == 10


def test_loads_run_in_worker_threads_and_batches_keep_order(tmp_path):
    ds = make_ds(tmp_path, [f"{i}.png" for i in range(7)])
    stage = LengthStage()
    run_stage(ds, stage)
    assert all(name.startswith("udw-length") for name in stage.loaded_in)
    assert [i for b in stage.batches for i in b] == list(range(1, 8))
    assert [len(b) for b in stage.batches] == [3, 3, 1]


def test_ports_check_raises_cancelled():
    with pytest.raises(Cancelled):
        Ports(cancelled=lambda: True).check()


def test_scaled_ports_map_onto_a_range():
    seen = []
    sub = Ports(progress=lambda d, t, p=None: seen.append((d, t))).scaled(10, 20, 100)
    sub.progress(1, 2)
    assert seen == [(20, 100)]
