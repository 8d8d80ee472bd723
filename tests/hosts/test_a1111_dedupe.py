"""The Dedupe section inside a real AUTOMATIC1111 WebUI (gradio 3.41), through its event API."""

import pytest

from udw.dedupe.synthetic import write_set

pytestmark = pytest.mark.host


def call(a1111, api_name, data):
    config = a1111.get("/config")
    dep = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api_name)
    status, body = a1111.post("/run/predict", {"fn_index": dep, "data": data}, timeout=300)
    assert status == 200, body
    return body["data"]


def test_dedupe_section_runs_and_undoes(a1111):
    comps = {c.get("props", {}).get("elem_id") for c in a1111.get("/config")["components"]}
    assert {"udw_dedupe_path", "udw_dedupe_btn", "udw_dedupe_undo_btn", "udw_dedupe_preview"} <= comps
    folder = a1111.base / "outputs" / "udw" / "dedupe_pics"
    write_set(folder, scenes=4, variants_per_scene=2, negatives=1, seed=8, size=(160, 90))
    args = ["dedupe_pics", "structure", 0.96, "sharpest", "direct", "move", "", "dedupe_pics/truth.json"]
    status, preview = call(a1111, "udw_dedupe_dry_run", args)
    assert "would remove" in status and "removal" in status and preview
    status, _ = call(a1111, "udw_dedupe", args)
    assert "moved" in status and (folder / "duplicates").is_dir()
    (status,) = call(a1111, "udw_dedupe_undo", ["dedupe_pics"])
    assert "restored" in status and not (folder / "duplicates").exists()
