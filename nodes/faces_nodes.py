"""Face, character, arrangement and export nodes (UDW_DATASET in/out), and an IMAGE-batch face detector."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image, ImageDraw

from ..udw.characters import CharacterSettings, run_characters
from ..udw.characters.cluster import METHODS
from ..udw.core.errors import BadInput, UdwError
from ..udw.dataset import ArrangeSettings, CaptionSettings, ExportSettings, arrange, balance_table, run_export
from ..udw.dataset.arrange import MODES
from ..udw.dataset.balance import parse_weights
from ..udw.dataset.trainers import KOHYA_LAYOUTS, STRATEGIES, TRAINERS
from ..udw.faces import FaceSettings, load_detector, run_faces
from ..udw.faces.crops import CropSettings, crop_box, cut
from ..udw.faces.detect import DETECTOR_CHOICES
from ..udw.faces.geometry import COUNT_SOURCES, Buckets, face_height_ratio, parse_detector_edges
from .host import (CATEGORY, DATASET_TYPE, DatasetStageNode, comfy_ports, dataset_roots, engine_input,
                   from_image_batch, input_roots, path_error, register_model_folder, to_image_batch)


def _fail(exc: UdwError) -> RuntimeError:
    return RuntimeError(str(exc))


def _model_dirs() -> dict:
    return {"detectors": register_model_folder("detectors"),
            "embedders": register_model_folder("embedders")}


def _detector_value(name: str) -> str:
    """A catalogue name as it is; a file in models/udw_detectors as its full path (nothing else:
    paths typed into a node never reach outside ComfyUI's folders)."""
    if name in DETECTOR_CHOICES:
        return name
    import folder_paths

    _model_dirs()
    found = folder_paths.get_full_path("udw_detectors", name)
    if not found:
        raise BadInput(f"detector {name!r} is neither {', '.join(DETECTOR_CHOICES)} nor a file in models/udw_detectors",
                       "put the .onnx or .xml file there and give its name")
    return found


def _edges(text: str, per_detector: str = ""):
    """(edges, {detector: edges}) from '25,50,75' and lines of 'DETECTOR=EDGES'."""
    try:
        return Buckets.parse(text).edges, parse_detector_edges(ln for ln in per_detector.splitlines() if ln.strip())
    except ValueError as exc:
        raise BadInput(str(exc), "e.g. 25,50,75, and per detector lbpcascade_animeface=30,60,90") from exc


def _classes(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


_FACE_OPTIONS = {
    "classes": ("STRING", {"default": "", "tooltip": "YOLO classes counted as faces, by name or number; empty: "
                           "the classes named like 'face' (a model without one is refused with its class list)"}),
}


_DETECT_INPUTS = {
    "detector": ("STRING", {"default": "auto", "tooltip": "auto (best found), face_detect_v1.4_s/_n, "
                            "lbpcascade_animeface, or a file in models/udw_detectors"}),
    "conf": ("FLOAT", {"default": 0.25, "min": 0.01, "max": 1.0, "step": 0.01, "tooltip": "YOLO confidence threshold"}),
    "iou": ("FLOAT", {"default": 0.7, "min": 0.05, "max": 1.0, "step": 0.05, "tooltip": "NMS overlap threshold"}),
}


class UDWDetectFaces(DatasetStageNode):
    DESCRIPTION = ("Detect anime faces in every image of a dataset (resumable): boxes, face-height-ratio bucket, "
                   "person count; optionally a square crop per face as a new item.")
    CATEGORY = f"{CATEGORY}/faces"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "dataset": (DATASET_TYPE,), **_DETECT_INPUTS,
            "buckets": ("STRING", {"default": "25,50,75", "tooltip": "face-height-ratio bucket edges in percent"}),
            "count_from": (list(COUNT_SOURCES), {"default": "auto", "tooltip": "person count from faces and/or tags"}),
            "crop": ("BOOLEAN", {"default": False, "tooltip": "also save a square crop per face as a new item"}),
            "crop_size": ("INT", {"default": 768, "min": 64, "max": 4096, "step": 64, "tooltip": "crop side (scaled down only)"}),
        }, "optional": {**engine_input(), **_FACE_OPTIONS,
                        "detector_buckets": ("STRING", {"default": "", "multiline": True, "tooltip": (
                            "bucket edges for one detector's boxes, one DETECTOR=EDGES per line, e.g. "
                            "lbpcascade_animeface=30,60,90 (its square boxes reach below the chin)")})},
            "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, buckets=None, detector_buckets=None):
        try:
            _edges(buckets or "25,50,75", detector_buckets or "")
        except BadInput as exc:
            return f"buckets: {str(exc).splitlines()[0]}"
        return True

    @classmethod
    def IS_CHANGED(cls, dataset, **kwargs):
        return float("nan")  # the stage itself skips finished work

    def run(self, dataset, detector, conf, iou, buckets, count_from, crop, crop_size, engine=None, classes="",
            detector_buckets="", unique_id=None):
        try:
            edges, detector_edges = _edges(buckets, detector_buckets)
            settings = FaceSettings(detector=_detector_value(detector), conf=conf, iou=iou, edges=edges,
                                    detector_edges=detector_edges, classes=_classes(classes), count_from=count_from,
                                    crop=crop, crop_settings=CropSettings(size=crop_size))
            report = run_faces(dataset, settings, comfy_ports(unique_id, model_dirs=_model_dirs(), engine=engine))
        except UdwError as exc:
            raise _fail(exc) from exc
        text = report.summary()
        return {"ui": {"text": [text]}, "result": (dataset, text)}


class UDWFaceDetectImages:
    DESCRIPTION = ("Detect anime faces in an IMAGE batch: the images with boxes drawn, the face crops "
                   "(square, resized), and the boxes as JSON (pixels, score, face-height-ratio bucket).")
    CATEGORY = f"{CATEGORY}/faces"
    RETURN_TYPES = ("IMAGE", "IMAGE", "STRING", "INT")
    RETURN_NAMES = ("annotated", "crops", "boxes_json", "faces")
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "images": ("IMAGE",), **_DETECT_INPUTS,
            "crop_scale": ("FLOAT", {"default": 1.5, "min": 1.0, "max": 8.0, "step": 0.1, "tooltip": "crop side in face heights"}),
            "crop_size": ("INT", {"default": 512, "min": 32, "max": 4096, "step": 32, "tooltip": "side of the output crops"}),
        }, "optional": _FACE_OPTIONS}

    def run(self, images, detector, conf, iou, crop_scale, crop_size, classes=""):
        try:
            det = load_detector(_detector_value(detector), comfy_ports(model_dirs=_model_dirs()), conf, iou,
                                classes=_classes(classes))
        except UdwError as exc:
            raise _fail(exc) from exc
        buckets, annotated, crops, boxes = Buckets(), [], [], []
        for n, img in enumerate(from_image_batch(images)):
            faces = det.detect(img)
            h, w = img.shape[:2]
            boxes.append({"image": n, "width": w, "height": h, "detector": det.name,
                          "bucket": buckets.bucket(face_height_ratio(faces, h)) if faces else None,
                          "faces": [{"box": [round(v, 1) for v in f.box], "score": round(f.score, 4)} for f in faces]})
            annotated.append(_draw(img, faces))
            settings = CropSettings(scale=crop_scale, min_size=1, size=crop_size, head_room=0.25)
            for f in faces:
                box = crop_box(f, w, h, settings)
                if box:
                    crops.append(np.asarray(Image.fromarray(cut(img, box, crop_size)).resize((crop_size, crop_size))))
        if not crops:
            crops = [np.zeros((crop_size, crop_size, 3), np.uint8)]  # ComfyUI needs a non-empty batch
        total = sum(len(b["faces"]) for b in boxes)
        return (to_image_batch(annotated), to_image_batch(crops), json.dumps(boxes), total)


def _draw(img: np.ndarray, faces) -> np.ndarray:
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    width = max(2, img.shape[0] // 200)
    for f in faces:
        d.rectangle([f.x0, f.y0, f.x1 - 1, f.y1 - 1], outline=(255, 40, 200), width=width)
    return np.asarray(im)


class UDWClassifyCharacters(DatasetStageNode):
    DESCRIPTION = ("Name every face from reference pictures (refs/NAME/*.png) with CCIP embeddings, or the "
                   "weight-free colour embedder when CCIP is absent; unmatched faces are grouped as unknown_k.")
    CATEGORY = f"{CATEGORY}/faces"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "dataset": (DATASET_TYPE,),
            "refs": ("STRING", {"default": "", "tooltip": "folder of refs/NAME/*.png (relative paths start in the "
                                "input folder); empty: DATASET/refs if present, else only grouping"}),
            "embedder": (["auto", "ccip", "colour"], {"default": "auto", "tooltip": "auto: CCIP when its model is in "
                                                      "models/udw_embedders, else colour"}),
            "threshold": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 0.99, "step": 0.005,
                                    "tooltip": "same-character difference; 0 = the embedder's own (CCIP 0.178)"}),
            "cluster": (list(METHODS), {"default": "dbscan", "tooltip": "group unmatched faces with DBSCAN or "
                                        "OPTICS (scikit-learn); none: they all go to others"}),
            "min_cluster": ("INT", {"default": 3, "min": 2, "max": 1000, "tooltip": "faces that form an unknown_k group"}),
            "detector": ("STRING", {"default": "auto", "tooltip": "finds the faces in the reference pictures"}),
        }, "optional": engine_input(), "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, refs=None):
        if refs:
            return path_error(input_roots(), refs) or True
        return True

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")

    def run(self, dataset, refs, embedder, threshold, cluster, min_cluster, detector, engine=None, unique_id=None):
        try:
            settings = CharacterSettings(embedder=embedder, threshold=threshold or None,
                                         refs=str(input_roots().resolve(refs)) if refs.strip() else None,
                                         cluster=cluster, min_cluster=min_cluster, detector=_detector_value(detector))
            report = run_characters(dataset, settings, comfy_ports(unique_id, model_dirs=_model_dirs(),
                                                                   engine=engine))
        except UdwError as exc:
            raise _fail(exc) from exc
        text = report.summary()
        return {"ui": {"text": [text]}, "result": (dataset, text)}


def _arrange_inputs():
    return {
        "output": ("STRING", {"default": "my_dataset_arranged", "tooltip": "target folder (relative paths start "
                              "in output/udw); refused if it holds something else unless merge is on"}),
        "mode": (list(MODES), {"default": "link", "tooltip": "hard links (copies across drives), copies or symlinks"}),
        "min_images": ("INT", {"default": 1, "min": 1, "max": 10000,
                               "tooltip": "character combinations with fewer images go to character_others"}),
        "levels": ("STRING", {"default": "count,character,bucket", "tooltip": "folder levels"}),
        "template": ("STRING", {"default": CaptionSettings().template, "tooltip": "caption template"}),
        "weights": ("STRING", {"default": "", "multiline": True, "tooltip": "one FOLDER=WEIGHT per line "
                               "(folder name or glob on the folder path)"}),
        "merge": ("BOOLEAN", {"default": False, "tooltip": "add to a folder that holds other files"}),
    }


def _arrange_settings(mode, min_images, levels, template, weights, merge) -> ArrangeSettings:
    return ArrangeSettings(levels=tuple(x.strip() for x in levels.split(",") if x.strip()), mode=mode,
                           min_images=min_images, merge=merge, caption=CaptionSettings(template=template),
                           weights=parse_weights([ln for ln in weights.splitlines() if ln.strip()]))


class UDWArrangeDataset:
    DESCRIPTION = ("Write the Level 1-3 tree (count / characters / face-height bucket) with the seed's JSON and a "
                   "caption beside each image; shows the balance table.")
    CATEGORY = f"{CATEGORY}/dataset"
    RETURN_TYPES = (DATASET_TYPE, "STRING", "STRING")
    RETURN_NAMES = ("dataset", "table", "folder")
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"dataset": (DATASET_TYPE,), **_arrange_inputs()}, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, output=None):
        return path_error(dataset_roots(), output, must_exist=False) or True

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")

    def run(self, dataset, output, mode, min_images, levels, template, weights, merge, unique_id=None):
        try:
            report = arrange(dataset, dataset_roots().resolve(output),
                             _arrange_settings(mode, min_images, levels, template, weights, merge),
                             comfy_ports(unique_id))
        except UdwError as exc:
            raise _fail(exc) from exc
        text = report.summary() + ("\n\n" + balance_table(report.balance) if report.balance.rows else "")
        return {"ui": {"text": [text]}, "result": (dataset, text, str(report.out))}


class UDWExportDataset:
    DESCRIPTION = ("Arrange, balance and export for a trainer: EveryDream2 multiply.txt, kohya dataset TOML or "
                   "N_name folders, OneTrainer concepts JSON; plus a dataset card (README.md).")
    CATEGORY = f"{CATEGORY}/dataset"
    RETURN_TYPES = ("STRING", "STRING")
    RETURN_NAMES = ("table", "folder")
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "dataset": (DATASET_TYPE,),
            "trainer": (list(TRAINERS), {"default": "everydream", "tooltip": "which trainer to write files for"}),
            **_arrange_inputs(),
            "kohya_layout": (list(KOHYA_LAYOUTS), {"default": "toml", "tooltip": "kohya: dataset TOML or N_name folders"}),
            "strategy": (list(STRATEGIES), {"default": "REPEATS", "tooltip": "OneTrainer balancing strategy"}),
        }, "hidden": {"unique_id": "UNIQUE_ID"}}

    @classmethod
    def VALIDATE_INPUTS(cls, output=None):
        return path_error(dataset_roots(), output, must_exist=False) or True

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return float("nan")

    def run(self, dataset, trainer, output, mode, min_images, levels, template, weights, merge, kohya_layout,
            strategy, unique_id=None):
        settings = ExportSettings(trainer=trainer, kohya_layout=kohya_layout, strategy=strategy,
                                  arrange=_arrange_settings(mode, min_images, levels, template, weights, merge))
        try:
            report = run_export(dataset, dataset_roots().resolve(output), settings, comfy_ports(unique_id))
        except UdwError as exc:
            raise _fail(exc) from exc
        text = report.summary()
        return {"ui": {"text": [text]}, "result": (text, str(report.arranged.out))}


MAPPINGS = {
    "UDWDetectFaces": (UDWDetectFaces, "UDW Detect Faces"),
    "UDWFaceDetectImages": (UDWFaceDetectImages, "UDW Face Detect (Images)"),
    "UDWClassifyCharacters": (UDWClassifyCharacters, "UDW Classify Characters"),
    "UDWArrangeDataset": (UDWArrangeDataset, "UDW Arrange Dataset"),
    "UDWExportDataset": (UDWExportDataset, "UDW Export Dataset"),
}
