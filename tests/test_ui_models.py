"""The UDW model section over HTTP (standalone) and its A1111 wiring (A1111 modules faked)."""

import runpy
import sys
import types
from pathlib import Path

import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.paths import Roots  # noqa: E402
from udw.testing import tiny_sd  # noqa: E402
from udw.ui import UiHost  # noqa: E402


@pytest.fixture
def served(tmp_path, monkeypatch, serve_ui):
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    root = tmp_path / "root"
    tiny_sd.build_checkpoint(root / "models" / "checkpoints" / "udw_tiny.safetensors", seed=1)
    tiny_sd.build_checkpoint(root / "models" / "checkpoints" / "base.safetensors", seed=1, perturb=0.1)
    tiny_sd.build_family_like(root / "models" / "checkpoints" / "xl.safetensors", "sdxl")
    client = serve_ui(UiHost("standalone", Roots(root)))
    yield root, client


def test_look_fills_the_settings(served):
    _, client = served
    info, negative, w, h, steps, cfg, sampler, scheduler, clip = client.predict("concept art", api_name="/udw_look")
    assert (w, h, steps, cfg, sampler, scheduler, clip) == (768, 512, 30, 6.5, "DPM++ 2M", "Karras", 2)
    assert "design-sheet" in info and negative.startswith("lowres")


def test_inspect_and_lineage_by_name(served):
    _, client = served
    report = client.predict("udw_tiny", "base", True, api_name="/udw_inspect")
    assert "Stable Diffusion 1.x checkpoint" in report and "AutoV2" in report
    assert "derived from the base" in report
    with pytest.raises(Exception, match="is a SDXL checkpoint|SDXL"):
        client.predict("xl", "udw_tiny", False, api_name="/udw_inspect")
    with pytest.raises(Exception, match="outside the allowed folders"):
        client.predict("/etc/passwd", "", False, api_name="/udw_inspect")


@pytest.fixture
def one_thread():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                 # the shared CPU is oversubscribed
    yield
    torch.set_num_threads(threads)


def test_generate_in_the_standalone_app(served, one_thread):
    pytest.importorskip("diffusers")
    root, client = served
    images, infotext, status = client.predict(
        "udw_tiny", "", "", 1, "TV/movie 16:9", "1girl", "lowres", 64, 64, 1, 7, "Euler a", "Normal", 5, 2, False,
        api_name="/udw_generate")
    assert len(images) == 1 and "Seed: 5, Size: 64x64" in infotext and "Clip skip: 2" in infotext
    assert (root / "udw-generated" / "00000-5.png").is_file() and "wrote 1 image" in status


def _a1111_modules(tmp_path, calls):
    modules = types.ModuleType("modules")
    modules.__path__ = []
    callbacks = types.ModuleType("modules.script_callbacks")
    callbacks.on_ui_tabs = lambda fn: calls.setdefault("tabs", []).append(fn)
    callbacks.on_ui_settings = lambda fn: calls.setdefault("settings", []).append(fn)
    callbacks.on_model_loaded = lambda fn: calls.setdefault("loaded", []).append(fn)

    class Opts(types.SimpleNamespace):
        def set(self, key, value):
            calls.setdefault("set", []).append((key, value))
            setattr(self, key, value)
            return True

        def save(self, filename):
            calls["saved"] = filename

        def add_option(self, key, info):
            setattr(self, key, info.default)

    shared = types.ModuleType("modules.shared")
    shared.state = types.SimpleNamespace(interrupted=False)
    shared.opts = Opts(CLIP_stop_at_last_layers=1)
    shared.config_filename = str(tmp_path / "config.json")
    shared.OptionInfo = lambda default, label, section=None, **kw: types.SimpleNamespace(default=default, label=label)
    info = types.SimpleNamespace(filename=str(tmp_path / "UDW_v1.safetensors"), name="UDW_v1.safetensors",
                                 name_for_extra="UDW_v1", shorthash="0123456789")
    shared.sd_model = types.SimpleNamespace(sd_checkpoint_info=info)
    paths = types.ModuleType("modules.paths_internal")
    paths.data_path, paths.models_path = str(tmp_path), str(tmp_path / "models")
    paste = types.ModuleType("modules.infotext_utils")
    paste.ParamBinding = lambda **kw: kw
    paste.register_paste_params_button = lambda binding: calls.setdefault("paste", []).append(binding)
    mods = {"modules": modules, "modules.script_callbacks": callbacks, "modules.shared": shared,
            "modules.paths_internal": paths, "modules.infotext_utils": paste}
    for name, mod in mods.items():
        if "." in name:
            setattr(modules, name.split(".", 1)[1], mod)
    return mods, shared


def test_a1111_tab_sends_to_txt2img_and_applies_conventions(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[1]
    calls = {}
    mods, shared = _a1111_modules(tmp_path, calls)
    for name, mod in mods.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.syspath_prepend(str(repo))
    namespace = runpy.run_path(str(repo / "scripts" / "udw_tab.py"), run_name="udw_tab")
    for fn in calls["settings"]:
        fn()
    assert shared.opts.udw_auto_conventions is True
    (blocks, title, _), = calls["tabs"][0]()
    assert title == "UDW" and isinstance(blocks, gr.Blocks)
    by_source = {b["source_text_component"].elem_id: b for b in calls["paste"]}  # the gallery has its own
    binding = by_source["udw_infotext"]
    assert binding["tabname"] == "txt2img" and {b["tabname"] for b in calls["paste"]} == {"txt2img"}
    host = namespace["_host"]()
    assert host.active_model()["hash"] == "0123456789"
    assert "clip skip 2" in host.apply_conventions({"clip_skip": 2, "vae": ""})
    assert ("CLIP_stop_at_last_layers", 2) in calls["set"] and calls["saved"]
    # auto conventions when a UDW checkpoint is loaded, nothing for other models
    calls["set"].clear()
    shared.opts.CLIP_stop_at_last_layers = 1
    loaded, = calls["loaded"]
    loaded(shared.sd_model)
    assert calls["set"] == [("CLIP_stop_at_last_layers", 2)]
    calls["set"].clear()
    shared.sd_model.sd_checkpoint_info.name = "sd_xl_base.safetensors"
    shared.opts.CLIP_stop_at_last_layers = 1
    loaded(shared.sd_model)
    assert calls["set"] == []
