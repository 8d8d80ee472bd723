"""Pose verbs: `udw pose extract|render|retarget`, `udw pose-eval`, `udw transfer` (diffusers)."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from ..core.atomic import write_with
from ..core.errors import BadInput
from ..core.images import is_image_path, open_image
from ..core.ports import Ports
from ..pose import PoseFrame, load_pose_json, render_pose, save_pose_json
from ..pose.extract import BOX_MODES, OUTSIDE_MODES, ExtractOptions, PoseExtractor, select_person
from ..pose.prepare import output_size
from ..pose.retarget import retarget_frame
from .progress import CtrlC, terminal_ports


def _models(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pose-model", help="DWPose ONNX file or registry name (default dwpose_wholebody)")
    p.add_argument("--detector", help="YOLOX person detector ONNX (default yolox_l)")
    p.add_argument("--boxes", choices=BOX_MODES, default="whole",
                   help="whole = anime mode (no person detector; half-body frames), auto = detector then whole, "
                        "detector = detector only (default whole)")
    p.add_argument("--allow-download", action="store_true", help="allow model downloads from the Hugging Face Hub")


def register(sub: argparse._SubParsersAction) -> None:
    pose = sub.add_parser("pose", help="extract, draw and retarget OpenPose keypoints",
                          description="Poses as OpenPose JSON (comfyui_controlnet_aux's POSE_KEYPOINT layout).")
    pose.set_defaults(func=lambda args: pose.print_help() or 0)
    verbs = pose.add_subparsers(dest="pose_verb", metavar="VERB")
    p = verbs.add_parser("extract", help="find poses in images (DWPose) and write POSE_KEYPOINT JSON")
    p.add_argument("images", nargs="+", help="image files (one frame each)")
    p.add_argument("-o", "--output", required=True, help="JSON file to write")
    p.add_argument("--render", help="also write the skeleton image(s): a PNG path (frame index added when several)")
    p.add_argument("--person", default="largest", help="largest, all, or an index (0 = largest)")
    p.add_argument("--no-hands", action="store_true")
    p.add_argument("--no-face", action="store_true")
    p.add_argument("--outside", choices=OUTSIDE_MODES, default="drop", help="keypoints off the canvas")
    p.add_argument("--blank-if-none", action="store_true", help="write an empty pose instead of failing")
    _models(p)
    p.set_defaults(func=cmd_extract)

    p = verbs.add_parser("render", help="draw a pose JSON as the OpenPose skeleton image")
    p.add_argument("pose", help="pose JSON")
    p.add_argument("-o", "--output", required=True, help="PNG to write (frame index added when several)")
    p.add_argument("--width", type=int, default=0)
    p.add_argument("--height", type=int, default=0)
    p.add_argument("--no-hands", action="store_true")
    p.add_argument("--no-face", action="store_true")
    p.set_defaults(func=cmd_render)

    p = verbs.add_parser("retarget", help="pose B with character A's proportions")
    p.add_argument("pose", help="target pose B (JSON or image)")
    p.add_argument("--proportions", required=True, help="character A: its pose JSON or an image of it")
    p.add_argument("-o", "--output", required=True, help="JSON file to write")
    p.add_argument("--strength", type=float, default=1.0)
    p.add_argument("--render", help="also write the skeleton PNG")
    _models(p)
    p.set_defaults(func=cmd_retarget)

    p = sub.add_parser("pose-eval", help="score generated images: pose error and identity similarity",
                       description="Pose error: mean distance between the target pose's keypoints and those "
                                   "found on each output, over keypoints seen in both, divided by the body size. "
                                   "Identity: cosine of CCIP character embeddings of the reference and the output.")
    p.add_argument("outputs", nargs="+", help="generated images")
    p.add_argument("--pose", help="target pose (JSON, or an image to extract it from)")
    p.add_argument("--reference", help="reference image of the character")
    p.add_argument("--embedder", help="CCIP model_feat.onnx or registry name (default ccip_caformer_24)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _models(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("transfer", help="character A (reference image) in pose B (diffusers, no hub access)",
                       description="OpenPose ControlNet for the pose plus reference-only attention for the "
                                   "character. The pose may be a JSON, a skeleton image (--pose-is-skeleton) or "
                                   "any picture to extract it from.")
    p.add_argument("--checkpoint", "-c", required=True, help="SD1 checkpoint file or name (UDW)")
    p.add_argument("--controlnet", help="OpenPose ControlNet file or name (default control_v11p_sd15_openpose)")
    p.add_argument("--reference", "-r", action="append", default=[], help="image of character A (repeatable)")
    p.add_argument("--pose", required=True, help="pose B: JSON, skeleton image or a picture")
    p.add_argument("--pose-is-skeleton", action="store_true", help="--pose is already an OpenPose skeleton image")
    p.add_argument("--retarget", type=float, default=0.0, help="0..1: adapt pose B to A's proportions")
    p.add_argument("--prompt", "-p", default="1girl, solo")
    p.add_argument("--negative", default="lowres, bad anatomy, bad hands, worst quality")
    p.add_argument("--seed", type=int, default=-1)
    p.add_argument("--steps", type=int, default=28)
    p.add_argument("--cfg", type=float, default=7.0)
    p.add_argument("--sampler", default="euler_ancestral")
    p.add_argument("--scheduler", default="normal")
    p.add_argument("--width", type=int, default=0, help="default: the pose canvas scaled to ~512x512 area")
    p.add_argument("--height", type=int, default=0)
    p.add_argument("--clip-skip", type=int, default=2)
    p.add_argument("--control-strength", type=float, default=1.0)
    p.add_argument("--reference-strength", type=float, default=1.0)
    p.add_argument("--style-fidelity", type=float, default=0.5)
    p.add_argument("--start", type=float, default=0.0)
    p.add_argument("--end", type=float, default=1.0)
    p.add_argument("--off", action="store_true", help="plain txt2img (no pose, no reference), for comparison")
    p.add_argument("--eval", action="store_true", help="score the result (needs DWPose and CCIP models)")
    p.add_argument("--device", help="cpu, cuda, ... (default: cuda if available)")
    p.add_argument("-o", "--output", default="udw-outputs", help="output folder")
    _models(p)
    p.set_defaults(func=cmd_transfer)


def _ports(args, ctrl_c: Optional[CtrlC] = None, label: str = "pose") -> Ports:
    if ctrl_c is None:
        return Ports(allow_download=args.allow_download)
    return terminal_ports(label, ctrl_c, args.quiet, allow_download=args.allow_download)


def _extractor(args, ports: Ports) -> PoseExtractor:
    return PoseExtractor(args.pose_model, args.detector, ports)


def _options(args, **kw) -> ExtractOptions:
    return ExtractOptions(boxes=args.boxes, **kw)


def pose_of(path: str, args, ports: Ports, hands: bool = True, face: bool = True) -> PoseFrame:
    """A pose from a JSON file or, for an image, from DWPose (largest person)."""
    if not is_image_path(path):
        return load_pose_json(path)[0]
    found = _extractor(args, ports).extract(np.asarray(open_image(path)), _options(args, hands=hands, face=face))
    for note in found.notes:
        print(f"  {Path(path).name}: {note}")
    return select_person(found.frame)


def _write_png(path: Path, array: np.ndarray) -> Path:
    return write_with(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))


def _numbered(path: Path, i: int, n: int) -> Path:
    return path if n == 1 else path.with_name(f"{path.stem}_{i:03d}{path.suffix}")


def cmd_extract(args: argparse.Namespace) -> int:
    frames = []
    with CtrlC() as ctrl_c:
        ports = _ports(args, ctrl_c, "pose")
        extractor = _extractor(args, ports)
        options = _options(args, hands=not args.no_hands, face=not args.no_face, outside=args.outside)
        for i, path in enumerate(args.images):
            ports.step(i, len(args.images))
            found = extractor.extract(np.asarray(open_image(path)), options)
            frame = select_person(found.frame, args.person, blank_if_none=args.blank_if_none)
            frames.append(frame)
            notes = "; ".join(found.notes)
            print(f"{path}: {len(frame.people)} person(s){'; ' + notes if notes else ''}")
        ports.progress(len(args.images), len(args.images))
    out = save_pose_json(args.output, frames)
    print(f"wrote {out}")
    if args.render:
        for i, frame in enumerate(frames):
            print(f"wrote {_write_png(_numbered(Path(args.render), i, len(frames)), render_pose(frame))}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    frames = load_pose_json(args.pose)
    for i, frame in enumerate(frames):
        img = render_pose(frame, args.width or None, args.height or None, hands=not args.no_hands, face=not args.no_face)
        print(f"wrote {_write_png(_numbered(Path(args.output), i, len(frames)), img)} ({img.shape[1]}x{img.shape[0]})")
    return 0


def cmd_retarget(args: argparse.Namespace) -> int:
    ports = _ports(args)
    target = pose_of(args.pose, args, ports)
    ref = pose_of(args.proportions, args, ports, hands=False, face=False)
    out, notes = retarget_frame(target, ref, args.strength)
    for note in notes:
        print(f"  {note}")
    if out.outside():
        print(f"  {len(out.outside())} keypoint(s) now lie outside the canvas")
    print(f"wrote {save_pose_json(args.output, [out])}")
    if args.render:
        print(f"wrote {_write_png(Path(args.render), render_pose(out))}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from ..pose.evaluate import evaluate, mean_scores
    from ..pose.metrics import Embedder

    if not (args.pose or args.reference):
        raise BadInput("nothing to score against", "give --pose (target pose) and/or --reference (character image)")
    with CtrlC() as ctrl_c:
        ports = _ports(args, ctrl_c, "eval")
        target = pose_of(args.pose, args, ports, hands=False, face=False) if args.pose else None
        reference = open_image(args.reference) if args.reference else None
        extractor = _extractor(args, ports) if target else None
        embedder = Embedder(args.embedder, ports) if reference is not None else None
        outputs = [open_image(p) for p in args.outputs]
        reports = evaluate(outputs, target, reference, extractor, embedder,
                           _options(args, hands=False, face=False), ports)
    if args.json:
        print(json.dumps({"images": {p: r.as_dict() for p, r in zip(args.outputs, reports)},
                          "mean": mean_scores(reports)}, indent=2))
        return 0
    for path, report in zip(args.outputs, reports):
        print(f"{path}: {report.summary()}")
    means = mean_scores(reports)
    if len(reports) > 1:
        print(f"mean: pose error {means['pose_error']}, identity similarity {means['identity_similarity']}")
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    from ..checkpoints.locate import find_model
    from ..generate import load_pipeline
    from ..generate.txt2img import save_png
    from ..looks.infotext import GenParams
    from ..models.registry import locate
    from ..pose.settings import ReferenceSettings
    from ..pose.transfer_diffusers import TransferParams, load_controlnet, transfer

    if not args.reference and not args.off:
        raise BadInput("no reference image", "give the character's picture with --reference")
    ports = _ports(args)
    refs = [open_image(p) for p in args.reference]
    frame, skeleton = None, None
    if args.pose_is_skeleton:
        skeleton = open_image(args.pose)
    else:
        frame = pose_of(args.pose, args, ports)
        if args.retarget > 0:
            ref_pose = pose_of(args.reference[0], args, ports, hands=False, face=False)
            frame, notes = retarget_frame(frame, ref_pose, min(args.retarget, 1.0))
            print("  retarget: " + "; ".join(notes))
    width, height = output_size(frame, args.width, args.height) if skeleton is None else (
        args.width or skeleton.width // 8 * 8, args.height or skeleton.height // 8 * 8)
    if skeleton is None:
        skeleton = Image.fromarray(render_pose(frame, width, height))
    ckpt = find_model(args.checkpoint)
    cn_path = find_model(args.controlnet, "controlnet") if args.controlnet else \
        locate("control_v11p_sd15_openpose", ports).first
    seed = args.seed if args.seed >= 0 else random.randrange(2 ** 32)
    params = TransferParams(args.prompt, args.negative, width, height, args.steps, args.cfg, seed, args.sampler,
                            args.scheduler, args.clip_skip, args.control_strength,
                            ReferenceSettings(args.reference_strength, args.style_fidelity, args.start, args.end),
                            enabled=not args.off)
    with CtrlC() as ctrl_c:
        loaded = load_pipeline(ckpt, device=args.device, ports=terminal_ports("hash", ctrl_c, args.quiet))
        controlnet = load_controlnet(cn_path, loaded.pipe.unet)
        image = transfer(loaded.pipe, controlnet, refs, skeleton, params,
                         terminal_ports("transfer", ctrl_c, args.quiet))
    info = GenParams(args.prompt, args.negative, args.steps, args.sampler, args.scheduler, args.cfg, seed, width,
                     height, args.clip_skip, model_name=loaded.name,
                     model_hash=loaded.hashes.autov2 if loaded.hashes else None,
                     extra={"UDW pose transfer": "off" if args.off else
                            f"control {args.control_strength:g} ({cn_path.stem}), reference {args.reference_strength:g}, "
                            f"style fidelity {args.style_fidelity:g}, start {args.start:g}, end {args.end:g}"})
    path = save_png(image, info, Path(args.output))
    print(f"wrote {path} ({width}x{height}, seed {seed})")
    print(f"wrote {_write_png(path.with_name(path.stem + '-pose.png'), np.asarray(skeleton.convert('RGB')))}")
    if args.eval and frame is not None and refs:
        from ..pose.evaluate import evaluate

        (report,) = evaluate([image], frame.resized(width, height), refs[0], ports=ports,
                             options=_options(args, hands=False, face=False))
        print(f"  {report.summary()}")
    return 0
