"""The shared Blocks on the gradio versions the hosts use: 3.41 (A1111 1.10), 4.x (Forge).

Each version gets a cached venv under .cache/gradio-venvs (gradio, then this repo's install.py,
the way A1111 installs an extension); a script there builds the Blocks, serves them on localhost
and runs the import event through that version's own gradio_client.
"""

import os
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "gradio-venvs"

SCRIPT = r"""
import shutil, socket, sys, tempfile
from pathlib import Path
import numpy as np
from PIL import Image
import gradio as gr
from gradio_client import Client
from udw.core.paths import Roots
from udw.ui import UiHost, build_blocks

root = Path(tempfile.mkdtemp())
(root / "pics").mkdir()
for i in range(4):
    Image.fromarray(np.full((32, 48, 3), i * 40, np.uint8)).save(root / "pics" / f"{i}.png")
blocks = build_blocks(UiHost("test", Roots(root)))
blocks.queue()
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
client = Client(f"http://127.0.0.1:{port}/", verbose=False) if "verbose" in Client.__init__.__code__.co_varnames else Client(f"http://127.0.0.1:{port}/")
status, grid = client.predict("ds", "pics", "copy", api_name="/udw_import")
print("GRADIO", gr.__version__)
print("STATUS", status)
# the Gallery section: browse the dataset just made, filter it, edit one item's tags
from udw.core.manifest import Dataset
with Dataset(root / "ds").transaction() as conn:
    conn.execute("INSERT INTO tags SELECT id, '1girl', 'general', 0.9 FROM items WHERE id <= 2")
f = ["active", "(any)", "(any)", "(any)", ""]
out = client.predict("ds", "id", "", *f, api_name="/udw_browser_open")
print("BROWSE", len(out[3]), "|", out[4])
out = client.predict("ds", "id", "1girl", *f, api_name="/udw_browser_filter")
print("FILTER", len(out[0]), "|", out[1])
out = client.predict("ds", "1", "1girl, armor", api_name="/udw_browser_save_tags")
print("SAVED", out[2])
blocks.close()
"""


# What each host pins beside its gradio (A1111 1.10.1's requirements_versions.txt; Forge's
# huggingface_hub < 1 (HfFolder), pydantic < 2.11 and a starlette that still takes the old
# TemplateResponse call, as gradio 4.44 needs).
HOST_PINS = {
    "gradio==3.41.2": ["fastapi==0.94.0", "starlette==0.26.1", "httpx==0.24.1", "httpcore==0.15.0",
                       "anyio==3.7.1", "pydantic==1.10.27", "numpy==1.26.2", "Pillow==9.5.0"],
    # Left free, pip now resolves pydantic 2.14 (gradio_client 1.3 fails on additionalProperties:
    # true: "argument of type 'bool' is not iterable") and fastapi 0.165 / starlette 1.x (gradio
    # 4.44's TemplateResponse call: "unhashable type: 'dict'"): pin the versions of the Forge era.
    "gradio==4.44.1": ["huggingface_hub<1", "pydantic==2.10.6", "fastapi==0.112.4"],
}


def gradio_venv(spec: str) -> Path:
    folder = CACHE / spec.replace("==", "-")
    py = folder / "bin" / "python"
    stamp = folder / ".ready"
    if not stamp.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
        subprocess.run([str(py), "-m", "pip", "install", "-q", spec, *HOST_PINS[spec]], check=True)
        subprocess.run([str(py), str(REPO / "install.py")], check=True)
        stamp.touch()
    return py


@pytest.mark.parametrize("spec", ["gradio==3.41.2", "gradio==4.44.1"])
def test_blocks_run_on_host_gradio(spec):
    try:
        py = gradio_venv(spec)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"could not set up a venv with {spec} (package registry unreachable?): {exc}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([str(py), "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    assert f"GRADIO {spec.split('==')[1]}" in out.stdout
    assert "4 added" in out.stdout
    # (gradio_client 0.5 returns a gallery as a folder path, later ones as a list: compare the text)
    assert "| **4 items**" in out.stdout.split("BROWSE", 1)[1] and "| **2 items**" in out.stdout.split("FILTER", 1)[1]
    assert "armor" in out.stdout.split("SAVED", 1)[1]
