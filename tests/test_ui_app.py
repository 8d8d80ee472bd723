"""The shared Gradio Blocks, served by the installed gradio and driven through its HTTP API."""

import sys
import types
import runpy

import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.paths import Roots  # noqa: E402
from udw.ui import UiHost  # noqa: E402
from udw.testing.ui import shown_error


@pytest.fixture
def served(tmp_path, serve_ui):
    root = tmp_path / "root"
    root.mkdir()
    client = serve_ui(UiHost("standalone", Roots(root)))
    yield root, client


def test_import_and_preview_over_http(served, image_folder):
    root, client = served
    import shutil
    shutil.copytree(image_folder, root / "pics")
    status, grid = client.predict("ds", "pics", "copy", api_name="/udw_import")
    assert "6 added" in status and grid
    status, _ = client.predict("ds", api_name="/udw_preview")
    assert "6 items" in status


def test_paths_outside_the_roots_are_refused(served, tmp_path):
    _, client = served
    result = client.predict("ds", str(tmp_path), "copy", api_name="/udw_import")
    assert "outside the allowed folders" in shown_error(result)


def test_a1111_entry_registers_a_udw_tab(tmp_path, monkeypatch):
    """scripts/udw_tab.py with A1111's modules faked: it must register a tab built from udw.ui."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    tabs = []
    modules = types.ModuleType("modules")
    modules.__path__ = []
    callbacks = types.ModuleType("modules.script_callbacks")
    callbacks.on_ui_tabs = tabs.append
    callbacks.on_ui_settings = callbacks.on_model_loaded = lambda fn: None
    shared = types.ModuleType("modules.shared")
    shared.state = types.SimpleNamespace(interrupted=False)
    paths = types.ModuleType("modules.paths_internal")
    paths.data_path, paths.models_path = str(tmp_path), str(tmp_path / "models")
    bindings = []
    paste = types.ModuleType("modules.infotext_utils")  # A1111 1.10's paste-parameters API
    paste.ParamBinding = lambda **kw: types.SimpleNamespace(**kw)
    paste.register_paste_params_button = bindings.append
    modules.script_callbacks, modules.shared, modules.paths_internal = callbacks, shared, paths
    modules.infotext_utils = paste
    for name, mod in {"modules": modules, "modules.script_callbacks": callbacks, "modules.infotext_utils": paste,
                      "modules.shared": shared, "modules.paths_internal": paths}.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.syspath_prepend(str(repo))
    runpy.run_path(str(repo / "scripts" / "udw_tab.py"), run_name="udw_tab")
    assert len(tabs) == 1
    (blocks, title, elem_id), = tabs[0]()
    assert title == "UDW" and elem_id == "udw_studio" and isinstance(blocks, gr.Blocks)
    # the gallery's "Send to txt2img" buttons are bound through A1111's own paste API
    assert {b.tabname for b in bindings} == {"txt2img"}
    assert {"udw_browser_infotext", "udw_info_infotext"} <= {b.source_text_component.elem_id for b in bindings}
    assert (tmp_path / "outputs" / "udw").is_dir()
