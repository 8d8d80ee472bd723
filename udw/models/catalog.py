"""The catalogue of models UDW Studio knows by name (repo ids, files, licences).

Task modules look models up here by name; users can always pass a file path instead.
"""

from .registry import ModelSpec, register

_CASCADE_URL = "https://raw.githubusercontent.com/nagadomi/lbpcascade_animeface/master/lbpcascade_animeface.xml"

register(
    ModelSpec("lbpcascade_animeface", "detectors", None, ("lbpcascade_animeface.xml",), licence="MIT",
              description="nagadomi's OpenCV LBP cascade for anime faces (light fallback detector); "
                          "https://github.com/nagadomi/lbpcascade_animeface",
              options={"urls": {"lbpcascade_animeface.xml": _CASCADE_URL}, "format": "cascade"}),
    # deepghs YOLOv8 anime face detectors (F1 0.95 / 0.94); conf ~0.25, IoU 0.7.
    ModelSpec("face_detect_v1.4_s", "detectors", "deepghs/anime_face_detection",
              ("face_detect_v1.4_s/model.onnx",), licence="MIT",
              description="deepghs anime face detector, YOLOv8s (F1 0.95)",
              options={"format": "yolov8", "conf": 0.25, "iou": 0.7, "labels": ["face"]}),
    ModelSpec("face_detect_v1.4_n", "detectors", "deepghs/anime_face_detection",
              ("face_detect_v1.4_n/model.onnx",), licence="MIT",
              description="deepghs anime face detector, YOLOv8n (F1 0.94, faster)",
              options={"format": "yolov8", "conf": 0.25, "iou": 0.7, "labels": ["face"]}),
    ModelSpec("head_detect_best_s", "detectors", "deepghs/imgutils-models",
              ("head_detect/head_detect_best_s.onnx",), licence="see the model card",
              description="deepghs anime head detector, YOLOv8s (whole heads, for head crops)",
              options={"format": "yolov8", "conf": 0.3, "iou": 0.7, "labels": ["head"]}),
    # deepghs CCIP character embeddings: same character when 0.5 * (1 - cosine) <= threshold.
    ModelSpec("ccip-caformer-24-randaug-pruned", "embedders", "deepghs/ccip_onnx",
              ("ccip-caformer-24-randaug-pruned/model_feat.onnx",), licence="openrail",
              description="deepghs CCIP character embedding (caformer, 768-d, threshold ~0.178)",
              options={"format": "ccip", "size": 384, "threshold": 0.178}),
)

# Poses and identity (pose transfer, `udw pose`, `udw pose-eval`).
register(
    ModelSpec("dwpose_wholebody", "pose", "yzd-v/DWPose", ("dw-ll_ucoco_384.onnx",), licence="Apache-2.0",
              description="DWPose whole-body estimator (RTMPose SimCC layout, 133 keypoints, 384x288 input)",
              options={"input_hw": (384, 288)}),
    ModelSpec("yolox_l", "pose", "yzd-v/DWPose", ("yolox_l.onnx",), licence="Apache-2.0",
              description="YOLOX-L COCO person detector used by DWPose (640x640 input)"),
    ModelSpec("ccip_caformer_24", "embedders", "deepghs/ccip_onnx",
              ("ccip-caformer-24-randaug-pruned/model_feat.onnx",), licence="OpenRAIL",
              description="deepghs CCIP character embedding (caformer, 384 px, 768-d); same character "
                          "when the difference (1 - cos) / 2 is below 0.178",
              options={"size": 384, "threshold": 0.178}),
    ModelSpec("control_v11p_sd15_openpose", "controlnet", "comfyanonymous/ControlNet-v1-1_fp16_safetensors",
              ("control_v11p_sd15_openpose_fp16.safetensors",), licence="openrail",
              description="lllyasviel's SD1.5 OpenPose ControlNet v1.1 (fp16 safetensors, original layout)"),
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
