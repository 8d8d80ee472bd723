"""The Gradio app served on a free localhost port; a machine without model folders."""

from __future__ import annotations

import pytest


@pytest.fixture
def serve_ui():
    """serve_ui(host) -> gradio_client.Client of build_blocks(host); every server closes after the test."""
    gradio_client = pytest.importorskip("gradio_client")
    from udw.ui import build_blocks

    opened = []

    def serve(host):
        import socket

        blocks = build_blocks(host)
        blocks.queue()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        opened.append(blocks)
        return gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)

    yield serve
    for blocks in opened:
        blocks.close()


@pytest.fixture
def no_models(monkeypatch, tmp_path):
    """No model folder, Hub cache or download of this machine is seen; model caches start empty."""
    from udw.models import onnx as udw_onnx
    from udw.tagging import model as tagging_model

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("UDW_MODELS_DIR", raising=False)
    tagging_model.clear_cache()
    udw_onnx.clear_cache()
    udw_onnx._WARNED.clear()
