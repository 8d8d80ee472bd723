"""The catalogue of models UDW Studio knows by name (repo ids, files, licences).

Task modules look models up here by name; users can always pass a file path instead.
"""

from .registry import ModelSpec, register

register(
    ModelSpec("lbpcascade_animeface", "detectors", None, ("lbpcascade_animeface.xml",), licence="MIT",
              description="nagadomi's OpenCV LBP cascade for anime faces (light fallback detector); "
                          "https://github.com/nagadomi/lbpcascade_animeface"),
)

# Image embedders for near-duplicate search (udw/dedupe/embed.py). Any ONNX image model works by
# path; these are the ones known by name. Pre-processing: the whole picture squashed to a square.
register(
    ModelSpec("mobilenetv3-large", "embedders", "mohitsha/mobilenetv3_large_100_onnx", ("model.onnx",),
              licence="apache-2.0", options={"size": 224},
              description="timm mobilenetv3_large_100 (ImageNet), the backbone of the seed's successor; "
                          "its 1000 logits serve as the embedding"),
    ModelSpec("mobilenetv3-small", "embedders", "onnx-community/mobilenetv3_small_100.lamb_in1k",
              ("onnx/model.onnx",), licence="apache-2.0", options={"size": 224},
              description="timm mobilenetv3_small_100 (ImageNet), fastest; logits as the embedding"),
    ModelSpec("clip-vit-b32", "embedders", "Qdrant/clip-ViT-B-32-vision", ("model.onnx",), licence="mit",
              options={"size": 224, "mean": (0.48145466, 0.4578275, 0.40821073),
                       "std": (0.26862954, 0.26130258, 0.27577711)},
              description="CLIP ViT-B/32 image tower (512-d image_embeds), an ONNX port of "
                          "sentence-transformers/clip-ViT-B-32"),
)
