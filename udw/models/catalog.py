"""The catalogue of models UDW Studio knows by name (repo ids, files, licences).

Task modules look models up here by name; users can always pass a file path instead.
"""

from .registry import ModelSpec, register

register(
    ModelSpec("lbpcascade_animeface", "detectors", None, ("lbpcascade_animeface.xml",), licence="MIT",
              description="nagadomi's OpenCV LBP cascade for anime faces (light fallback detector); "
                          "https://github.com/nagadomi/lbpcascade_animeface"),
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
