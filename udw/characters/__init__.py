"""Characters: face embeddings (CCIP ONNX or weight-free colour), few-shot references, clustering."""

from .embed import EMBEDDER_CHOICES, ColourEmbedder, difference, load_embedder
from .refs import character_name, load_references
from .stage import CharacterSettings, CharactersReport, parse_renames, rename_characters, run_characters

__all__ = ["CharacterSettings", "CharactersReport", "ColourEmbedder", "EMBEDDER_CHOICES", "character_name",
           "difference", "load_embedder", "load_references", "parse_renames", "rename_characters",
           "run_characters"]
