"""The Build section in a real A1111 (gradio 3.41): sample episodes -> dataset, training folder, page.

Needs UDW_A1111_DIR and UDW_A1111_PYTHON (the `a1111` fixture of tests/hosts/conftest.py).
Screenshot: UDW_SCREENSHOT_DIR (default: the system temp folder / udw-shots).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from udw.samples import generate_samples

from .conftest import time_scale

pytestmark = pytest.mark.host
SHOTS = Path(os.environ.get("UDW_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "udw-shots")


def test_build_tab_runs_the_pipeline(a1111, chromium, cascade_path):
    outputs = a1111.base / "outputs" / "udw"
    generate_samples(outputs / "episodes", episodes=2, duration_s=4.0, width=320, height=180)
    detectors = a1111.base / "models" / "udw" / "detectors"
    detectors.mkdir(parents=True, exist_ok=True)
    shutil.copy(cascade_path, detectors / cascade_path.name)
    bp = chromium(1500, 1100)
    page = bp.page
    page.goto(a1111.url, wait_until="domcontentloaded")
    page.wait_for_selector("#txt2img_prompt textarea", timeout=180_000)
    page.locator("#tabs > .tab-nav > button", has_text="UDW").first.click()
    page.locator("#tab_udw_studio .tab-nav > button", has_text="Build").first.click()
    page.fill("#udw_build_source textarea", "episodes")
    page.fill("#udw_build_dataset textarea", "built")
    page.fill("#udw_build_export textarea", "built_train")
    page.click("#udw_build_btn")
    page.wait_for_function("document.querySelector('#udw_build_status').innerText.includes('open ')",
                           timeout=300_000)
    status = page.inner_text("#udw_build_status")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "a1111_build.png"), full_page=True)
    assert "kept from 2 of 2 video(s)" in status and "faces: " in status and "export: arranged" in status
    assert "tag: skipped" in status and "models/udw/taggers" in status  # where A1111 users put the tagger
    assert (outputs / "built" / "previews" / "gallery" / "index.html").is_file()
    # the grid follows the report in a second, silent step (one progress bar)
    page.wait_for_selector("#udw_build_grid img", timeout=60_000 * time_scale())
    assert page.locator("#udw_build_grid img").count() == 1 and not bp.dialogs
