"""The catalogue of models UDW Studio knows by name (repo ids, files, licences).

Task modules look models up here by name; users can always pass a file path instead.
"""

from .registry import ModelSpec, register

register(
    ModelSpec("lbpcascade_animeface", "detectors", None, ("lbpcascade_animeface.xml",), licence="MIT",
              description="nagadomi's OpenCV LBP cascade for anime faces (light fallback detector); "
                          "https://github.com/nagadomi/lbpcascade_animeface"),
)

# SmilingWolf's WD taggers (https://huggingface.co/SmilingWolf). v2 files ("wd-v1-4-*") take a fixed
# batch of 1 on input `input_1:0`; v3 files take any batch on `input` (onnxruntime >= 1.17). All take
# 448x448 NHWC float32 BGR 0-255 and output sigmoid scores in the order of selected_tags.csv.
_WD_FILES = ("model.onnx", "selected_tags.csv")
_WD_V2 = {"family": "wd14-v2", "input": "input_1:0", "batch": 1, "side": 448}
_WD_V3 = {"family": "wd14-v3", "input": "input", "batch": None, "side": 448}
register(*(
    ModelSpec(name, "taggers", f"SmilingWolf/{name}", _WD_FILES, licence="Apache-2.0",
              description=f"SmilingWolf {name} (WD tagger {opts['family'][-2:]})", options=dict(opts))
    for name, opts in (
        ("wd-v1-4-moat-tagger-v2", _WD_V2),
        ("wd-v1-4-swinv2-tagger-v2", _WD_V2),
        ("wd-v1-4-convnext-tagger-v2", _WD_V2),
        ("wd-v1-4-convnextv2-tagger-v2", _WD_V2),
        ("wd-v1-4-vit-tagger-v2", _WD_V2),
        ("wd-swinv2-tagger-v3", _WD_V3),
        ("wd-vit-tagger-v3", _WD_V3),
        ("wd-convnext-tagger-v3", _WD_V3),
        ("wd-vit-large-tagger-v3", _WD_V3),
        ("wd-eva02-large-tagger-v3", _WD_V3),
    )
))
