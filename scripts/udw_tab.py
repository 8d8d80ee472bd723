"""A1111 / Forge entry point of UDW Studio: the "UDW" tab (the ComfyUI entry is __init__.py).

A1111 loads this file as a standalone module with the extension root on sys.path, so the core is
imported as the top-level package `udw` (absolute imports only here).
"""

import os

from modules import script_callbacks, shared
from modules.paths_internal import data_path, models_path

from udw.core.paths import Roots
from udw.ui import UiHost, build_blocks


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
        a1111_api=_own_api(),
        controlnet_extension=_controlnet_extension(),
    )


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
