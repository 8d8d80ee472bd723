"""Manifest-writing code run against a scratch manifest, merged back by key."""

from udw.core.manifest import Dataset
from udw.scale.sandbox import ScratchDataset, export_sources, merge, seed


def test_scratch_rows_merge_back_by_key(tmp_path):
    ds = Dataset(tmp_path / "ds", create=True)
    with ds.transaction() as conn:
        other = ds.add_source(conn, "/videos/other.mkv", "video")
        ds.add_item(conn, "o.png", "frame:o:1", source_id=other)
        src = ds.add_source(conn, "/videos/ep1.mkv", "video", "show", "EP01")
        keep = ds.add_item(conn, "a.png", "frame:s:1", source_id=src, kind="frame")
        ds.add_item(conn, "gone.png", "frame:s:2", source_id=src, kind="frame")
        ds.mark_done(conn, [keep], "frames", "k1")
    scratch = ScratchDataset(tmp_path / "ds", tmp_path / "scratch.sqlite")
    seed(scratch, export_sources(ds, [src]))
    with scratch.transaction() as conn:  # what a worker's run does: new rows, a removed one, state
        conn.execute("DELETE FROM items WHERE key='frame:s:2'")
        new = scratch.add_item(conn, "b.png", "frame:s:3", source_id=src, kind="frame", duplicate_of=keep)
        conn.execute("INSERT INTO signatures(item_id, kind, data) VALUES(?,?,?)", (new, "thumb", b"\x01"))
        scratch.mark_done(conn, [new], "frames", "k1")
        scratch.set_source_state(conn, src, "done", {"duration": 12.5})
    assert not (tmp_path / "ds" / "scratch.sqlite").exists()  # the real manifest was not touched
    with ds.db() as conn:
        mapping = merge(ds, conn, export_sources(scratch, [src]))
    with ds.db() as conn:
        rows = {r["key"]: dict(r) for r in conn.execute("SELECT * FROM items")}
        assert set(rows) == {"frame:o:1", "frame:s:1", "frame:s:3"}  # removed in the task: removed here
        b = rows["frame:s:3"]
        assert mapping[new] == b["id"] and b["duplicate_of"] == keep
        assert conn.execute("SELECT data FROM signatures WHERE item_id=?", (b["id"],)).fetchone()[0] == b"\x01"
        assert conn.execute("SELECT COUNT(*) FROM stage_done WHERE stage='frames'").fetchone()[0] == 2
    assert [s["state"] for s in ds.sources() if s["id"] == src] == ["done"]
