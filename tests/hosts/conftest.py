"""Real-host fixtures: start ComfyUI / A1111 from the checkouts named by environment variables.

UDW_COMFYUI_DIR (+ UDW_COMFYUI_PYTHON) and UDW_A1111_DIR (+ UDW_A1111_PYTHON). Each server runs
with a temporary base/data folder holding only this pack (symlinked), on a free localhost port,
and is stopped after the module's tests.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_paths(var: str) -> tuple[Path, str]:
    folder = os.environ.get(var)
    if not folder:
        pytest.skip(f"{var} is not set: point it at a real checkout to run this test")
    folder_p = Path(folder)
    if not folder_p.is_dir():
        pytest.skip(f"{var}={folder} is not a folder")
    python = os.environ.get(var.replace("_DIR", "_PYTHON")) or sys.executable
    return folder_p, python


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path
    base: Path

    def get(self, path: str, timeout: float = 30):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body[:1] in (b"{", b"[") else body.decode("utf-8", "replace")

    def post(self, path: str, data: dict, timeout: float = 30):
        req = urllib.request.Request(self.url + path, json.dumps(data).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start(cmd: list[str], cwd: Path, base: Path, ready_path: str, port: int, timeout: float = 180,
          ready_log: str = "") -> Server:
    log = base / "server.log"
    fh = open(log, "w")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", proc, log, base)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log_text()[-4000:]}")
        if ready_log and ready_log not in server.log_text():
            time.sleep(0.5)  # no request before then: one that comes too early can break the start
            continue
        try:
            server.get(ready_path, timeout=5)
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.5)
    stop(server)
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.log_text()[-4000:]}")


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()


@pytest.fixture(scope="session")
def comfyui(tmp_path_factory):
    """A real ComfyUI with only this pack in custom_nodes, in a temporary base directory."""
    folder, python = host_paths("UDW_COMFYUI_DIR")
    base = tmp_path_factory.mktemp("comfyui-base")
    for sub in ("custom_nodes", "input", "output", "temp", "models", "user"):
        (base / sub).mkdir()
    os.symlink(REPO, base / "custom_nodes" / "udw-studio")
    port = free_port()
    server = start([python, "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
                    "--base-directory", str(base), "--disable-auto-launch"], folder, base,
                   "/system_stats", port)
    yield server
    stop(server)


@pytest.fixture(scope="session")
def a1111(tmp_path_factory):
    """A real A1111 WebUI, offline, with only this extension, in a temporary data directory."""
    folder, python = host_paths("UDW_A1111_DIR")
    data = tmp_path_factory.mktemp("a1111-data")
    (data / "extensions").mkdir()
    os.symlink(REPO, data / "extensions" / "udw-studio")
    port = free_port()
    server = start([python, "launch.py", "--skip-prepare-environment", "--skip-torch-cuda-test",
                    "--no-download-sd-model", "--use-cpu", "all", "--no-half", "--precision", "full",
                    "--skip-version-check", "--server-name", "127.0.0.1", "--port", str(port), "--api",
                    "--data-dir", str(data)], folder, data, "/sdapi/v1/options", port, timeout=240,
                   # A1111 adds its API middleware after gradio is listening; a request in between
                   # makes that fail ("Cannot add middleware after an application has started")
                   ready_log="Startup time:")
    yield server
    stop(server)


@pytest.fixture
def run_prompt():
    """Queue an API-format graph on a ComfyUI server and wait for its history entry."""

    def run(server: Server, graph: dict, timeout: float = 300) -> dict:
        status, body = server.post("/prompt", {"prompt": graph, "client_id": "udw-tests"})
        assert status == 200, body
        return wait_history(server, body["prompt_id"], timeout)

    return run


def wait_history(server: Server, prompt_id: str, timeout: float = 300) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        hist = server.get(f"/history/{prompt_id}")
        if prompt_id in hist and hist[prompt_id].get("status", {}).get("completed") is not None:
            entry = hist[prompt_id]
            if entry["status"].get("status_str") in ("success", "error"):
                return entry
        time.sleep(0.5)
    raise TimeoutError(f"prompt {prompt_id} did not finish in {timeout}s")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def time_scale() -> float:
    """How much longer than on an idle machine waits may take: the load per core (at least 1),
    times UDW_TEST_TIME_SCALE for slow machines."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1) if hasattr(os, "getloadavg") else 1.0
    return max(1.0, load) * float(os.environ.get("UDW_TEST_TIME_SCALE", "1"))


def poll(check, timeout: float, what: str, every: float = 0.3):
    """Call `check()` until it returns something true (returned), for at most `timeout` x time_scale()."""
    deadline = time.time() + timeout * time_scale()
    while True:
        value = check()
        if value:
            return value
        if time.time() > deadline:
            raise TimeoutError(f"{what}: not after {timeout * time_scale():.0f}s")
        time.sleep(every)


def shots_dir() -> Path:
    folder = Path(os.environ.get("UDW_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "udw-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def comfy_page(comfyui):
    """The real ComfyUI frontend in headless Chromium (Debian's), its first template dialog closed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="udw-chromium-")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=shutil.which("chromium"),
                                                   headless=True, args=CHROMIUM_FLAGS,
                                                   viewport={"width": 1600, "height": 1000})
        ctx.set_default_timeout(120_000 * time_scale())
        pg = ctx.new_page()
        pg.goto(comfyui.url, wait_until="load")
        pg.wait_for_function("window.app && window.app.graph && window.app.extensionManager")
        # a fresh user folder opens the template dialog once the app is up: close it when it shows
        try:
            pg.wait_for_selector(".p-dialog", timeout=10_000 * time_scale())
            pg.keyboard.press("Escape")
            pg.wait_for_selector(".p-dialog", state="detached")
        except sync_api.TimeoutError:
            pass
        yield pg
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


def cached(name: str, build) -> Path:
    """Deterministic test models are built once and kept in the user cache (UDW_TEST_CACHE)."""
    folder = Path(os.environ.get("UDW_TEST_CACHE", Path.home() / ".cache" / "udw" / "test-models"))
    path = folder / name
    if not path.is_file():
        build(path)
    return path
