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
