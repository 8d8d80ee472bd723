"""The engine is a setting of the pipeline tab: set it over HTTP, then a stage runs on Ray."""

import shutil

import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.paths import Roots  # noqa: E402
from udw.ui import UiHost  # noqa: E402


@pytest.fixture
def served(tmp_path, serve_ui):
    root = tmp_path / "root"
    root.mkdir()
    host = UiHost("standalone", Roots(root))
    client = serve_ui(host)
    yield host, root, client


def test_engine_panel_sends_the_import_to_ray(served, image_folder, ray_local):
    host, root, client = served
    shutil.copytree(image_folder, root / "pics")
    status = client.predict("ray", "", 1, -1, api_name="/udw_engine")
    assert "ray on a local Ray instance (1 actors" in status and host.engine.name == "ray"
    assert "node(s)" in client.predict("ray", "", 1, -1, api_name="/udw_engine_check")
    status, grid = client.predict("ds", "pics", "copy", api_name="/udw_import")
    assert "6 added" in status and grid
    assert "Stages run on: **local**" in client.predict("local", "", 0, -1, api_name="/udw_engine")
    assert host.engine is None


def test_bad_engine_settings_are_explained(served):
    host, _, client = served
    status = client.predict("ray", "not an address", 0, -1, api_name="/udw_engine")
    assert "udw-error" in status and "Ray address" in status and host.engine is None


def test_unreachable_cluster_is_explained_and_not_used(served):
    import socket

    pytest.importorskip("ray", reason='Ray is not installed (pip install "udw-studio[ray]")')
    host, _, client = served
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed
    for api in ("/udw_engine", "/udw_engine_check"):  # use, or only check: the same message
        status = client.predict("ray", address, 0, -1, api_name=api)
        assert "udw-error" in status and f"cannot connect to the Ray cluster at {address}" in status
        assert "nothing listens there" in status and "ray start --head" in status and "RAY_ADDRESS" in status
    assert host.engine is None  # stages still run here
