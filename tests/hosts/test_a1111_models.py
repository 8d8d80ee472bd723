"""The UDW tab in a real A1111 (set UDW_A1111_DIR, optionally UDW_A1111_PYTHON).

A1111 starts offline with the extension in a temporary data folder (the host's own folders are
left alone); a headless Chromium then picks a look in the UDW tab, sends it to txt2img and
checks that A1111's own parameter paste filled prompt, size, steps and sampler.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
A1111 = os.environ.get("UDW_A1111_DIR")
pytestmark = [pytest.mark.host, pytest.mark.skipif(not A1111, reason="UDW_A1111_DIR is not set")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def a1111(tmp_path_factory):
    data = tmp_path_factory.mktemp("a1111-data")
    (data / "extensions").mkdir()
    (data / "extensions" / "udw-studio").symlink_to(REPO, target_is_directory=True)
    python = os.environ.get("UDW_A1111_PYTHON") or str(Path(A1111) / "venv" / "bin" / "python")
    port = _free_port()
    log = open(data / "a1111.log", "w")
    proc = subprocess.Popen([python, "launch.py", "--skip-prepare-environment", "--skip-torch-cuda-test",
                             "--no-download-sd-model", "--use-cpu", "all", "--no-half", "--precision", "full",
                             "--skip-version-check", "--server-name", "127.0.0.1", "--port", str(port), "--api",
                             "--data-dir", str(data)],
                            cwd=A1111, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail("A1111 exited:\n" + (data / "a1111.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(url + "/config", timeout=10) as r:
                    config = json.loads(r.read())
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("A1111 did not answer in 300 s")
        yield url, config, data
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_tab_loads_with_its_send_binding(a1111):
    _, config, data = a1111
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    by_elem = {v: k for k, v in ids.items() if v}
    for elem in ("udw_look", "udw_prompt", "udw_infotext", "udw_send", "udw_inspect_btn", "udw_apply_conventions"):
        assert elem in by_elem, elem
    send = by_elem["udw_send"]
    bound = [d for d in config["dependencies"]
             if send in [t[0] if isinstance(t, list) else t for t in d.get("targets", [])]]
    assert any("switch_to_txt2img" in str(d.get("js")) for d in bound), bound
    log = (data / "a1111.log").read_text()
    assert "Error loading script: udw_tab.py" not in log
    ours = [block for block in log.split("Traceback")[1:] if "udw-studio/" in "\n".join(block.splitlines()[:40])]
    assert ours == [], ours


def test_send_to_txt2img_fills_a1111(a1111):
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _, _ = a1111
    import tempfile

    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(), executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = ctx.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_selector("#txt2img_prompt textarea", timeout=120_000)
        # gradio 3.41 tab headers are plain buttons
        page.locator("#tabs > .tab-nav > button", has_text="UDW").first.click()
        page.locator("#tab_udw_studio .tab-nav > button", has_text="UDW model").first.click()
        page.click("#udw_look input")
        page.locator("ul.options li", has_text="key visual").first.click()
        page.fill("#udw_prompt textarea", "1girl, saber, armor")
        page.locator("#udw_prompt textarea").dispatch_event("input")
        page.wait_for_function("document.querySelector('#udw_infotext textarea').value.startsWith("
                               "'key visual, official art, 1girl, saber, armor')", timeout=30_000)
        page.click("#udw_send")
        page.wait_for_function("document.querySelector('#txt2img_prompt textarea').value.startsWith("
                               "'key visual, official art, 1girl')", timeout=30_000)
        values = {k: page.input_value(sel) for k, sel in (
            ("negative", "#txt2img_neg_prompt textarea"), ("width", "#txt2img_width input[type=number]"),
            ("height", "#txt2img_height input[type=number]"), ("steps", "#txt2img_steps input[type=number]"),
            ("cfg", "#txt2img_cfg_scale input[type=number]"))}
        values["override"] = page.inner_text("#txt2img_override_settings")
        values["sampler"] = page.input_value("#txt2img_sampling input")
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "udw_a1111_txt2img.png"))
        ctx.close()
    assert values["negative"].startswith("lowres, bad anatomy")
    assert (values["width"], values["height"], values["steps"], values["cfg"]) == ("512", "768", "28", "7")
    assert values["sampler"] == "Euler a"
    assert "Clip skip: 2" in values["override"]     # UDW's clip skip travels as an A1111 override
