"""Anime faces: detectors (YOLOv8 ONNX, LBP cascade), face geometry and buckets, the faces stage."""

from .crops import CropSettings
from .detect import DETECTOR_CHOICES, load_detector
from .geometry import Buckets, Face, count_from_tags, face_height_ratio, facepos, person_count
from .stage import FaceSettings, FacesReport, run_faces

__all__ = ["Buckets", "CropSettings", "DETECTOR_CHOICES", "Face", "FaceSettings", "FacesReport",
           "count_from_tags", "face_height_ratio", "facepos", "load_detector", "person_count", "run_faces"]
