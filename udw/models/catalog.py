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
