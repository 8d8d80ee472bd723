"""A1111 / Forge entry point of UDW Studio: the "UDW" tab (the ComfyUI entry is __init__.py).

A1111 loads this file as a standalone module with the extension root on sys.path, so the core is
imported as the top-level package `udw` (absolute imports only here).
"""

import os

from modules import script_callbacks, shared
from modules.paths_internal import data_path, models_path

try:  # A1111 1.10 / Forge; older releases only have the former name
    from modules import infotext_utils as paste_params
except ImportError:
    from modules import generation_parameters_copypaste as paste_params

from udw.core.paths import Roots
from udw.ui import UiHost, build_blocks


def _send_to_txt2img(button, infotext_component) -> None:
    """Bind `button` like A1111's own "Send to txt2img": A1111 parses the textbox's infotext into
    the txt2img fields (prompt, negative, seed, steps, sampler, size, ...) and switches tabs."""
    paste_params.register_paste_params_button(paste_params.ParamBinding(
        paste_button=button, tabname="txt2img", source_text_component=infotext_component))


def _host() -> UiHost:
    outputs = os.path.join(data_path, "outputs", "udw")
    os.makedirs(outputs, exist_ok=True)
    forge = hasattr(shared, "forge_version") or "forge" in str(getattr(shared, "__file__", "")).lower()
    model_root = os.path.join(models_path, "udw")
    return UiHost(
        name="forge" if forge else "a1111",
        roots=Roots.from_env(outputs, data_path),
        model_dirs={kind: [os.path.join(model_root, kind)]
                    for kind in ("taggers", "detectors", "embedders", "pose", "controlnet")},
        host_cancelled=lambda: bool(getattr(shared.state, "interrupted", False)),
        send_to_txt2img=_send_to_txt2img,
    )


def on_ui_tabs():
    blocks = build_blocks(_host())
    return [(blocks, "UDW", "udw_studio")]


script_callbacks.on_ui_tabs(on_ui_tabs)
