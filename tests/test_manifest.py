import sqlite3
import threading

import pytest

from udw.core.errors import BadInput
from udw.core.manifest import MANIFEST_NAME, Dataset, settings_key
from udw.core.schema import MIGRATIONS


def test_open_missing_dataset_says_how_to_make_one(tmp_path):
    with pytest.raises(BadInput, match="not a UDW dataset") as err:
        Dataset(tmp_path / "nothing")
    assert "udw import" in err.value.hint


def test_create_migrates_to_latest_schema(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    assert (ds.root / MANIFEST_NAME).exists()
    with ds.db() as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"items", "sources", "tags", "faces", "signatures", "stage_done", "stage_runs"} <= tables
    Dataset(ds.root)  # reopening does not migrate twice


def test_newer_schema_is_refused(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.db() as conn:
        conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 5}")
    with pytest.raises(BadInput, match="newer UDW Studio"):
        Dataset(ds.root)


def test_add_item_is_idempotent_by_key(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.transaction() as conn:
        a = ds.add_item(conn, "images/a.png", "frame:1:10", kind="frame", frame_index=10, extra={"x": 1})
        b = ds.add_item(conn, "images/a.png", "frame:1:10", kind="frame", frame_index=10, width=5)
    assert a == b and ds.count() == 1
    item = ds.item(a)
    assert item.frame_index == 10 and item.width == 5 and item.extra == {"x": 1}


def test_unknown_fields_are_rejected(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.transaction() as conn, pytest.raises(TypeError):
        ds.add_item(conn, "x.png", "k", colour="red")


def test_transaction_rolls_back_on_error(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with pytest.raises(RuntimeError):
        with ds.transaction() as conn:
            ds.add_item(conn, "x.png", "k")
            raise RuntimeError("boom")
    assert ds.count() == 0


def test_pending_follows_settings(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.transaction() as conn:
        ids = [ds.add_item(conn, f"{i}.png", f"k{i}") for i in range(4)]
        key = settings_key({"threshold": 0.35})
        ds.mark_done(conn, ids[:2], "tag", key)
        ds.mark_done(conn, ids[2:3], "tag", key, error="unreadable")
    assert ds.pending("tag", key) == ids[3:]
    assert ds.pending("tag", key, retry_failed=True) == ids[2:]
    assert ds.pending("tag", settings_key({"threshold": 0.5})) == ids  # new settings redo all
    assert ds.stage_summary() == {"tag": {"ok": 2, "failed": 1}}


def test_items_by_ids_keep_order_and_filter(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.transaction() as conn:
        ids = [ds.add_item(conn, f"{i}.png", f"k{i}") for i in range(1200)]
        ds.update_item(conn, ids[5], status="duplicate", duplicate_of=ids[4])
    wanted = [ids[900], ids[3], ids[5], ids[1100]]
    assert [it.id for it in ds.items(ids=wanted)] == [ids[900], ids[3], ids[1100]]
    assert [it.id for it in ds.items(status=None, ids=wanted)] == wanted
    assert ds.count("duplicate") == 1
    assert [it.path for it in ds.items(limit=2, offset=1)] == ["1.png", "2.png"]


def test_fingerprint_changes_on_write(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    before = ds.fingerprint()
    with ds.transaction() as conn:
        ds.add_item(conn, "x.png", "k")
    assert ds.fingerprint() != before


def test_concurrent_writers_serialise(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    errors = []

    def writer(n):
        try:
            for i in range(50):
                with ds.transaction() as conn:
                    ds.add_item(conn, f"{n}-{i}.png", f"{n}:{i}")
        except sqlite3.Error as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and ds.count() == 150
