"""The Ray engine runs any Stage with the same manifest and resumability as the local engine."""

import os
import signal
import time

import pytest

from udw.core.engine import EngineSettings, engine_settings
from udw.core.errors import BadInput, ModelNotFound
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.core.stages import ItemError, Stage, run_stage
from udw.scale.compare import canonical_manifest, manifest_differences

RAY = EngineSettings("ray", actors=2)


class WordStage(Stage):
    """Scores len(path) * factor; 'bad' fails to load, 'odd' fails in process, 'boom' kills its
    worker process (SIGKILL) the first time it is seen, before the batch can finish."""
    name = "word"
    batch_size = 3

    def __init__(self, factor=1, nap=0.0, marker=None):
        self.factor, self.nap, self.marker = factor, nap, marker
        self.session = None

    transient = ("session",)

    def settings(self):
        return {"factor": self.factor}

    def prepare(self, ds, ports):
        self.session = object()  # stands for an ONNX session: opened per worker, never shipped

    def load(self, ds, item):
        if "bad" in item.path:
            raise ItemError(f"{item.path}: unreadable")
        return len(item.path)

    def process(self, ds, items, loaded):
        assert self.session is not None
        time.sleep(self.nap)
        if self.marker and any("boom" in it.path for it in items) and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        return [ValueError("odd item") if "odd" in it.path else (n * self.factor, os.getpid())
                for it, n in zip(items, loaded)]

    def commit(self, ds, conn, item, result):
        conn.execute("CREATE TABLE IF NOT EXISTS word_log(item_id INTEGER, pid INTEGER)")
        conn.execute("INSERT INTO word_log VALUES(?, ?)", (item.id, result[1]))
        conn.execute("INSERT OR REPLACE INTO tags(item_id, tag, category, score) VALUES(?,?,?,?)",
                     (item.id, "len", "general", result[0]))


NAMES = ["a.png", "bb.png", "bad.png", "odd.png", "ccc.png", "boom.png"] + [f"f{i:02d}.png" for i in range(18)]


def make_ds(root, names=NAMES):
    ds = Dataset(root, create=True)
    with ds.transaction() as conn:
        for n in names:
            ds.add_item(conn, n, f"k:{n}")
    return ds


def logged(ds):
    with ds.db() as conn:
        return [r[0] for r in conn.execute("SELECT i.path FROM word_log w JOIN items i ON i.id=w.item_id")]


def comparable(ds):
    m = canonical_manifest(ds)
    m.pop("word_log", None)  # worker pids differ by design
    return m


def test_ray_matches_local_and_resumes(tmp_path, ray_local):
    local = make_ds(tmp_path / "local")
    lrep = run_stage(local, WordStage())
    remote = make_ds(tmp_path / "ray")
    seen = []
    rrep = run_stage(remote, WordStage(), Ports(progress=lambda d, t, p=None: seen.append((d, t))), engine=RAY)
    assert (rrep.done, len(rrep.failed)) == (lrep.done, len(lrep.failed)) == (22, 2)
    assert sorted(rrep.failed) == sorted(lrep.failed)
    assert manifest_differences(comparable(local), comparable(remote)) == []
    assert seen[0] == (0, 24) and seen[-1] == (24, 24) and len(seen) > 2  # progress streams per batch
    assert rrep.stats["ray_actors"] == 2 and sum(rrep.stats["ray_items_per_worker"].values()) == 24
    assert sorted(logged(remote)) == sorted(n for n in NAMES if n not in ("bad.png", "odd.png"))
    again = run_stage(remote, WordStage(), engine=RAY)  # nothing left: Ray is not even asked
    assert again.done == 0 and again.already_done == 24 and "engine" not in again.stats
    redo = run_stage(remote, WordStage(factor=10), Ports(engine=RAY))  # the engine riding on the ports
    assert redo.done == 22 and redo.stats["engine"].startswith("ray")


def test_killed_worker_loses_nothing(tmp_path, ray_local):
    ds = make_ds(tmp_path / "ds")
    marker = tmp_path / "killed-once"
    report = run_stage(ds, WordStage(nap=0.05, marker=str(marker)), engine=RAY)
    assert marker.exists(), "the worker was not killed"
    if report.done < 22:  # Ray retries the dead actor's batches; if it gave up, a re-run finishes
        report = run_stage(ds, WordStage(nap=0.05, marker=str(marker)), engine=RAY)
    names = logged(ds)
    assert sorted(names) == sorted(set(names)), "an item was committed twice"
    assert sorted(names) == sorted(n for n in NAMES if n not in ("bad.png", "odd.png"))
    pids = set(canonical_manifest(ds)["word_log"][i]["pid"] for i in range(len(names)))
    assert len(pids) >= 2  # the killed actor was replaced by another process
    assert ds.stage_summary()["word"] == {"ok": 22, "failed": 2}


def test_driver_stop_midway_resumes_without_duplicates(tmp_path, ray_local):
    ds = make_ds(tmp_path / "ds")
    calls = {"n": 0}

    def cancelled():
        calls["n"] += 1
        return calls["n"] >= 3  # the driver stops after two committed batches

    first = run_stage(ds, WordStage(nap=0.05), Ports(cancelled=cancelled), engine=RAY)
    assert first.cancelled and 0 < first.done + len(first.failed) < 24
    rest = run_stage(ds, WordStage(), engine=RAY)
    assert first.done + rest.done == 22
    names = logged(ds)
    assert len(names) == len(set(names)) == 22


class NeedsModel(WordStage):
    name = "needs_model"

    def prepare(self, ds, ports):
        raise ModelNotFound("tiny.onnx is not on this worker", "put it in models/udw")


def test_worker_errors_come_back_with_their_hint(tmp_path, ray_local):
    ds = make_ds(tmp_path / "ds", NAMES[:3])
    with pytest.raises(ModelNotFound, match="Ray worker: tiny.onnx") as err:
        run_stage(ds, NeedsModel(), engine=EngineSettings("ray", actors=1))
    assert err.value.hint == "put it in models/udw"
    assert ds.stage_summary() == {}  # nothing was marked


def test_engine_settings_are_checked():
    with pytest.raises(BadInput, match="unknown engine"):
        engine_settings("spark")
    with pytest.raises(BadInput, match="actors"):
        engine_settings("ray", actors=-1, check_installed=False)
    with pytest.raises(BadInput, match="Ray address"):
        engine_settings("ray", address="nonsense", check_installed=False)
    assert engine_settings("local").local and "4 actors" in engine_settings(
        "ray", address="auto", actors=4, check_installed=False).describe()


DRIVER = r'''
import sys, time
sys.path[:0] = [sys.argv[3], sys.argv[4]]  # the test folder (the test's stage) and this checkout
import ray
ray.init(address=sys.argv[2], log_to_driver=False, configure_logging=False)
from test_ray_engine import WordStage, RAY
from udw.core.manifest import Dataset
from udw.core.stages import run_stage
run_stage(Dataset(sys.argv[1]), WordStage(nap=0.4), engine=RAY)
'''


@pytest.mark.slow
def test_killed_driver_resumes_without_duplicates(tmp_path, ray_local):
    """kill -9 of the driver process mid-stage: committed batches stay, a re-run does the rest once."""
    import subprocess
    import sys
    from pathlib import Path

    ds = make_ds(tmp_path / "ds")
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    address = ray_local.get_runtime_context().gcs_address
    proc = subprocess.Popen([sys.executable, str(script), str(ds.root), address, str(Path(__file__).parent),
                             str(Path(__file__).parents[1])],
                            cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL, stderr=open(tmp_path / "driver.log", "w"))
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            with ds.db() as conn:
                if conn.execute("SELECT COUNT(*) FROM stage_done WHERE stage='word'").fetchone()[0] >= 6:
                    break
            time.sleep(0.2)
        assert proc.poll() is None, "the driver finished (or died) before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = ds.stage_summary()["word"]
    assert 6 <= partial["ok"] + partial["failed"] < 24
    rest = run_stage(ds, WordStage(), engine=RAY)
    assert rest.done + partial["ok"] == 22
    names = logged(ds)
    assert len(names) == len(set(names)) == 22  # nothing committed twice, nothing lost
