"""ComfyUI adapter: thin node classes over the `udw` core. Each module exports MAPPINGS."""

from . import (build_nodes, checkpoint_nodes, dataset_nodes, dedupe_nodes, engine_nodes, faces_nodes, gallery_nodes,
               look_nodes, model_nodes, pose_nodes, pose_transfer, sample_nodes, tagging_nodes, video_nodes)

_MODULES = [build_nodes, dataset_nodes, video_nodes, dedupe_nodes, tagging_nodes, faces_nodes, engine_nodes,
            checkpoint_nodes, look_nodes, pose_nodes, pose_transfer, gallery_nodes, sample_nodes, model_nodes]

NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
for _module in _MODULES:
    for _name, (_cls, _title) in _module.MAPPINGS.items():
        NODE_CLASS_MAPPINGS[_name] = _cls
        NODE_DISPLAY_NAME_MAPPINGS[_name] = _title

gallery_nodes.register_routes()  # /udw/... routes on ComfyUI's server (the dataset browser)
