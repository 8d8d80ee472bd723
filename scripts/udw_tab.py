"""A1111 / Forge entry point of UDW Studio: the "UDW" tab (the ComfyUI entry is __init__.py).

A1111 loads this file as a standalone module with the extension root on sys.path, so the core is
imported as the top-level package `udw` (absolute imports only here). Besides the tab, it wires
UDW's conventions into A1111: "Send to txt2img" through A1111's own parameter paste, clip skip 2
(and an optional VAE) on request, and automatically when a UDW checkpoint is loaded (a setting).
"""

import os
import re

from modules import script_callbacks, shared
from modules.paths_internal import data_path, models_path

from udw.core.paths import Roots
from udw.ui import UiHost, build_blocks

SECTION = ("udw", "UDW Studio")
DEFAULT_PATTERN = r"udw|unlimited.?diffusion"


def _paste_module():
    """A1111's parameter paste (infotext_utils since 1.8, generation_parameters_copypaste before)."""
    for name in ("infotext_utils", "generation_parameters_copypaste"):
        try:
            return __import__(f"modules.{name}", fromlist=[name])
        except ImportError:
            continue
    return None


def _send_to_txt2img(button, textbox):
    paste = _paste_module()
    paste.register_paste_params_button(paste.ParamBinding(paste_button=button, tabname="txt2img",
                                                          source_text_component=textbox))


def _active_model():
    info = getattr(getattr(shared, "sd_model", None), "sd_checkpoint_info", None)
    if info is None:
        return None
    return {"name": getattr(info, "name", ""), "path": getattr(info, "filename", ""),
            "hash": getattr(info, "shorthash", None)}


def _apply_conventions(conv):
    clip_skip = int(conv.get("clip_skip") or 2)
    done = []
    if getattr(shared.opts, "CLIP_stop_at_last_layers", None) != clip_skip:
        shared.opts.set("CLIP_stop_at_last_layers", clip_skip)
    done.append(f"clip skip {clip_skip}")
    vae = (conv.get("vae") or "").strip()
    if vae:
        shared.opts.set("sd_vae", vae)
        from modules import sd_vae
        sd_vae.reload_vae_weights()
        done.append(f"VAE {vae}")
    shared.opts.save(shared.config_filename)
    return "set " + ", ".join(done) + " in A1111's settings"


ROOTS_HINT = ("use a path inside them, or add its folder in Settings → UDW Studio → \"Folders UDW may read "
              "and write\" (or the UDW_ROOTS environment variable)")
_roots: list = []  # the tab's Roots, updated when the setting changes


def _setting_folders() -> list[str]:
    text = getattr(getattr(shared, "opts", None), "udw_roots", "") or ""
    return [p.strip() for p in re.split(r"[;\n]", text) if p.strip()]


def _make_roots() -> Roots:
    outputs = os.path.join(data_path, "outputs", "udw")
    os.makedirs(outputs, exist_ok=True)
    roots = Roots.from_env(outputs, data_path, *_setting_folders())
    roots.hint = ROOTS_HINT
    return roots


def _update_roots():
    """The setting changed: the open tab resolves paths against the new folders at once."""
    for roots in _roots:
        roots.folders = _make_roots().folders


def _on_ui_settings():
    shared.opts.add_option("udw_roots", shared.OptionInfo(
        "", "Folders UDW may read and write besides outputs/udw and the webui folder (episodes, pictures; "
            "separate with ;)", section=SECTION, onchange=_update_roots))
    shared.opts.add_option("udw_auto_conventions", shared.OptionInfo(
        True, "Apply UDW conventions (clip skip 2) when a UDW checkpoint is loaded", section=SECTION))
    shared.opts.add_option("udw_model_pattern", shared.OptionInfo(
        DEFAULT_PATTERN, "Checkpoint names that get UDW conventions (regular expression)", section=SECTION))


def _on_model_loaded(sd_model):
    if not getattr(shared.opts, "udw_auto_conventions", True):
        return
    info = getattr(sd_model, "sd_checkpoint_info", None)
    name = getattr(info, "name", "") or ""
    try:
        pattern = re.compile(getattr(shared.opts, "udw_model_pattern", DEFAULT_PATTERN) or DEFAULT_PATTERN, re.I)
    except re.error:
        pattern = re.compile(DEFAULT_PATTERN, re.I)
    if pattern.search(name) and getattr(shared.opts, "CLIP_stop_at_last_layers", 1) != 2:
        shared.opts.set("CLIP_stop_at_last_layers", 2)
        print(f"[UDW] {name}: clip skip set to 2 (UDW / NovelAI convention)")


def _host() -> UiHost:
    forge = hasattr(shared, "forge_version") or "forge" in str(getattr(shared, "__file__", "")).lower()
    model_root = os.path.join(models_path, "udw")
    dirs = {kind: [os.path.join(model_root, kind)]
            for kind in ("taggers", "detectors", "embedders", "pose", "controlnet")}
    dirs.update(checkpoints=[os.path.join(models_path, "Stable-diffusion")],
                loras=[os.path.join(models_path, "Lora")], vae=[os.path.join(models_path, "VAE")])
    return UiHost(
        name="forge" if forge else "a1111",
        roots=_new_roots(),
        model_dirs=dirs,
        host_cancelled=lambda: bool(getattr(shared.state, "interrupted", False)),
        send_to_txt2img=_send_to_txt2img if _paste_module() else None,
        active_model=_active_model,
        apply_conventions=_apply_conventions,
        a1111_api=_own_api(),
        controlnet_extension=_controlnet_extension(),
    )


def _new_roots() -> Roots:
    roots = _make_roots()
    _roots[:] = [roots]
    return roots


def _own_api():
    """This server's web API (for handing work to extensions through their documented routes), if on."""
    opts = getattr(shared, "cmd_opts", None)
    if not getattr(opts, "api", False):
        return None
    return f"http://127.0.0.1:{getattr(opts, 'port', None) or 7860}"


def _controlnet_extension():
    """The name of an active sd-webui-controlnet (A1111) or Forge's built-in ControlNet, if any."""
    try:
        from modules import extensions
    except ImportError:
        return None
    for ext in extensions.active():
        for parts in (("scripts", "external_code.py"), ("lib_controlnet", "external_code.py")):
            if os.path.isfile(os.path.join(ext.path, *parts)):
                return ext.name
    return None


def on_ui_tabs():
    blocks = build_blocks(_host())
    return [(blocks, "UDW", "udw_studio")]


script_callbacks.on_ui_tabs(on_ui_tabs)
script_callbacks.on_ui_settings(_on_ui_settings)
script_callbacks.on_model_loaded(_on_model_loaded)
