"""ComfyUI entry point of UDW Studio (the A1111 entry is scripts/udw_tab.py).

ComfyUI imports this folder as a package named after its path, so only relative imports work.
Imported anywhere else (pytest collecting the repository, a tool scanning it), it exposes no
nodes instead of failing on ComfyUI's missing modules.
"""

import sys

if "folder_paths" in sys.modules:  # ComfyUI imports it before it loads any custom node
    from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS
else:
    NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS = {}, {}

WEB_DIRECTORY = "./web"

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
