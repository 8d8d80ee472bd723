"""Models: the catalogue of known models, finding their files, and cached ONNX sessions."""

from .registry import ModelSpec, ModelFiles, get_spec, known_specs, locate, register

__all__ = ["ModelSpec", "ModelFiles", "get_spec", "known_specs", "locate", "register"]
