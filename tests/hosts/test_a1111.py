"""UDW Studio inside a real AUTOMATIC1111 WebUI (UDW_A1111_DIR): the UDW tab appears and works."""


import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.host


def components(config):
    return {c.get("props", {}).get("elem_id"): c for c in config["components"]}


def test_udw_tab_is_in_the_ui(a1111):
    config = a1111.get("/config")
    comps = components(config)
    assert "udw_studio" in comps or any(c.get("props", {}).get("label") == "UDW" for c in config["components"])
    assert {"udw_dataset_path", "udw_import_btn", "udw_grid"} <= set(comps)
    assert "Error loading script: udw_tab.py" not in a1111.log_text()


def test_import_runs_through_the_tab_api(a1111):
    """Call the tab's import event the way its button does (gradio 3.41 queue API)."""

    src = a1111.base / "outputs" / "udw" / "pics"
    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(src / f"p{i}.png")
    config = a1111.get("/config")
    dep = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "udw_import")
    status, body = a1111.post("/run/predict", {"fn_index": dep, "data": ["ds", "pics", "copy"]}, timeout=120)
    assert status == 200, body
    assert "3 added" in body["data"][0]
    assert (a1111.base / "outputs" / "udw" / "ds" / "udw-manifest.sqlite").is_file()
