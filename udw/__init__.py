"""UDW Studio core: host-agnostic dataset, model and gallery tools for anime model makers.

Nothing here imports a host (ComfyUI, A1111) and nothing runs at import time.
"""

__version__ = "0.1.0"
