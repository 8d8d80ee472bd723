"""The UDW model nodes in a real ComfyUI (set UDW_COMFYUI_DIR, optionally UDW_COMFYUI_PYTHON).

1. ComfyUI's own comfy.sd.load_checkpoint_guess_config detects the test checkpoint as SD15, the
   node applies clip skip 2, and a kohya LoRA from udw.testing maps onto every target layer.
2. A ComfyUI server with the pack installed runs example_workflows/api/udw_generate.json end to end
   (loader -> LoRA stack -> look -> KSampler -> save), refuses an SDXL file at validation with a
   message, and shows an inspection report.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from udw.testing import tiny_lora, tiny_sd

from .conftest import cached

REPO = Path(__file__).resolve().parents[2]
COMFY = os.environ.get("UDW_COMFYUI_DIR")
pytestmark = [pytest.mark.host, pytest.mark.skipif(not COMFY, reason="UDW_COMFYUI_DIR is not set")]


def comfy_python() -> str:
    return os.environ.get("UDW_COMFYUI_PYTHON") or str(Path(COMFY) / ".venv" / "bin" / "python")


@pytest.fixture(scope="module")
def models():
    return {"ckpt": cached("sd1_comfy_seed1.safetensors", lambda p: tiny_sd.build_checkpoint(p, tiny_sd.COMFY, seed=1)),
            "lora": cached("lora_comfy_r4.safetensors", lambda p: tiny_lora.build_lora(p, tiny_sd.COMFY, rank=4)),
            "xl": cached("sdxl_like.safetensors", lambda p: tiny_sd.build_family_like(p, "sdxl"))}


def test_comfyui_loads_the_tiny_checkpoint_and_lora(models):
    out = subprocess.run([comfy_python(), str(REPO / "bench" / "comfyui_probe.py"), "check",
                          "--ckpt", str(models["ckpt"]), "--lora", str(models["lora"])],
                         cwd=COMFY, env={**os.environ, "PYTHONPATH": COMFY}, capture_output=True, text=True,
                         timeout=900)
    line = next((x for x in out.stdout.splitlines() if x.startswith("UDW-PROBE ")), None)
    assert line, out.stderr[-3000:]
    result = json.loads(line[len("UDW-PROBE "):])
    assert result["guess_config"] == {"model_config": "SD15", "clip": True, "vae": True}
    assert result["node"]["clip_layer"] == -2 and result["node"]["model_config"] == "SD15"
    assert "Stable Diffusion 1.x checkpoint" in result["node"]["info"]
    assert result["lora"]["model_patches"] == 40 and result["lora"]["clip_patches"] == 72
    assert result["lora"]["not_loaded"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def _post(url: str, data: dict):
    req = urllib.request.Request(url, json.dumps(data).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def server(models, tmp_path_factory):
    base = tmp_path_factory.mktemp("comfy-base")
    (base / "custom_nodes").mkdir()
    (base / "custom_nodes" / "udw-studio").symlink_to(REPO, target_is_directory=True)
    for kind, key in (("checkpoints", "ckpt"), ("checkpoints", "xl"), ("loras", "lora")):
        folder = base / "models" / kind
        folder.mkdir(parents=True, exist_ok=True)
        name = {"ckpt": "udw.safetensors", "xl": "sdxl.safetensors", "lora": "udw_style.safetensors"}[key]
        (folder / name).symlink_to(models[key])
    looks = base / "user" / "udw" / "looks"
    looks.mkdir(parents=True)
    (looks / "tiny.json").write_text(json.dumps({"id": "tiny", "name": "tiny test", "prompt": "{prompt}, test",
                                                 "negative": "lowres", "width": 64, "height": 64,
                                                 "sampler": "euler", "scheduler": "normal", "steps": 2,
                                                 "cfg": 5.0}))
    port = _free_port()
    log = open(base / "comfyui.log", "w")
    proc = subprocess.Popen([comfy_python(), "main.py", "--cpu", "--listen", "127.0.0.1", "--port", str(port),
                             "--base-directory", str(base), "--database-url", "sqlite:///:memory:"],
                            cwd=COMFY, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail("ComfyUI exited:\n" + (base / "comfyui.log").read_text()[-3000:])
            try:
                _get(url + "/system_stats")
                break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("ComfyUI did not answer in 240 s")
        yield url, base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _run(url: str, api: dict, timeout: float = 600) -> dict:
    status, body = _post(url + "/prompt", {"prompt": api})
    assert status == 200, body
    pid = body["prompt_id"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        hist = _get(f"{url}/history/{pid}")
        if pid in hist:
            return hist[pid]
        time.sleep(1)
    raise AssertionError("workflow did not finish")


def test_nodes_are_listed(server):
    url, _ = server
    info = _get(url + "/object_info")
    for name in ("UDWCheckpointLoader", "UDWLook", "UDWLoraStack", "UDWInspectCheckpoint"):
        assert name in info, name
    assert "udw.safetensors" in info["UDWCheckpointLoader"]["input"]["required"]["ckpt_name"][0]
    assert "tiny" in info["UDWLook"]["input"]["required"]["look"][0]


def test_shipped_workflow_generates_an_image(server):
    url, base = server
    api = json.loads((REPO / "example_workflows" / "api" / "udw_generate.json").read_text())
    api["3"]["inputs"]["look"] = "tiny"
    api["2"]["inputs"]["lora_1"] = "udw_style.safetensors"
    api["2"]["inputs"]["strength_model_1"] = 0.7
    result = _run(url, api)
    assert result["status"]["status_str"] == "success", result["status"]
    image = result["outputs"]["9"]["images"][0]
    path = base / "output" / image["subfolder"] / image["filename"]
    from PIL import Image

    im = Image.open(path)
    assert im.size == (64, 64) and "UDWCheckpointLoader" in im.text["prompt"]


def test_sdxl_file_is_refused_at_validation(server):
    url, _ = server
    api = json.loads((REPO / "example_workflows" / "api" / "udw_generate.json").read_text())
    api["1"]["inputs"]["ckpt_name"] = "sdxl.safetensors"
    status, body = _post(url + "/prompt", {"prompt": api})
    assert status == 400
    text = json.dumps(body["node_errors"])
    assert "is a SDXL checkpoint" in text and "not Stable Diffusion 1.x" in text


def test_inspect_node_reports(server):
    url, _ = server
    api = {"1": {"class_type": "UDWInspectCheckpoint",
                 "inputs": {"ckpt_name": "udw.safetensors", "base_name": "udw.safetensors", "hashes": False}}}
    result = _run(url, api)
    text = result["outputs"]["1"]["text"][0]
    assert "Stable Diffusion 1.x checkpoint" in text and "same weights" in text


def test_shipped_bpe_gives_comfyuis_sd1_vocabulary():
    """Our vocab.json/merges.txt (built from the CLIP BPE file) equal ComfyUI's SD1 tokenizer files."""
    from udw.generate.tokenizer import clip_bpe

    folder = Path(COMFY) / "comfy" / "sd1_tokenizer"
    if not (folder / "vocab.json").is_file():
        pytest.skip("this ComfyUI has no comfy/sd1_tokenizer")
    vocab, merges = clip_bpe()
    assert json.loads((folder / "vocab.json").read_text()) == vocab
    theirs = [x for x in (folder / "merges.txt").read_text().split("\n")[1:] if x]
    assert theirs[:len(merges)] == list(merges)
