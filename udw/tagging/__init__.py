"""WD14-style tagging: SmilingWolf v2/v3 and local ONNX taggers, batched, with confidences."""

from .labels import Labels, read_labels
from .model import DEFAULT_MODEL, Tagger, list_local, open_tagger, resolve
from .postprocess import TagOptions, TagResult, parse_tag_list, select
from .run import tag_arrays, tag_files

__all__ = ["DEFAULT_MODEL", "Labels", "TagOptions", "TagResult", "Tagger", "list_local", "open_tagger",
           "parse_tag_list", "read_labels", "resolve", "select", "tag_arrays", "tag_files"]
