"""Pose section: prepare pose B (from a picture, a skeleton or a JSON; retargeted to character A),
then generate A in pose B: with diffusers in the standalone app, or through the ControlNet
extension's API in A1111 / Forge. Also scores results (pose error, identity similarity)."""

from __future__ import annotations

import json
import random
from typing import Any, Optional

import gradio as gr

from ...core.errors import BadInput
from ...pose.a1111 import EXTENSION_URL, controlnet_models, controlnet_units, pick_openpose_model, run_txt2img, \
    txt2img_payload
from ...pose.extract import ExtractOptions, PoseExtractor
from ...pose.posejson import frames_from_json, frames_to_json
from ...pose.prepare import prepare_pose
from ...pose.settings import ReferenceSettings
from ..compat import make
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "Pose transfer"
BOXES = {"anime (whole image)": "whole", "auto (detector, else whole image)": "auto", "detector only": "detector"}


def build(host: UiHost) -> None:
    gr.Markdown("Character **A** (reference) in pose **B**. Prepare the pose first: DWPose reads it from any "
                "picture (anime mode skips the person detector), or give a skeleton image or a pose JSON.")
    with gr.Row():
        with gr.Column(scale=1):
            reference = make(gr.Image, label="Character A (reference)", type="pil", elem_id="udw_pose_reference")
            pose_src = make(gr.Image, label="Pose B (a picture, or an OpenPose skeleton)", type="pil",
                            elem_id="udw_pose_source")
            is_skeleton = gr.Checkbox(label="Pose B is already an OpenPose skeleton", value=False)
            pose_json = gr.Textbox(label="…or a pose JSON (POSE_KEYPOINT text)", lines=2, elem_id="udw_pose_json_in")
            boxes = gr.Radio(list(BOXES), value="anime (whole image)", label="Finding people")
            with gr.Row():
                hands = gr.Checkbox(label="Hands", value=True)
                face = gr.Checkbox(label="Face", value=True)
            retarget = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label="Retarget to A's proportions (0 = off)")
            with gr.Row():
                width = gr.Number(label="Width (0 = from the pose)", value=0, precision=0)
                height = gr.Number(label="Height (0 = from the pose)", value=0, precision=0)
            prepare_btn = gr.Button("Prepare pose", variant="primary", elem_id="udw_pose_prepare_btn")
        with gr.Column(scale=1):
            skeleton = make(gr.Image, label="Pose used (ControlNet input)", type="pil", interactive=False,
                            elem_id="udw_pose_skeleton")
            pose_out = gr.Code(label="Pose JSON (POSE_KEYPOINT)", language="json", elem_id="udw_pose_json_out")
            status = gr.Markdown(elem_id="udw_pose_status")

    with gr.Accordion("Generate", open=True):
        prompt = gr.Textbox(label="Prompt", value="1girl, solo, full body, standing, anime screencap", lines=2)
        negative = gr.Textbox(label="Negative prompt", value="lowres, bad anatomy, bad hands, worst quality")
        with gr.Row():
            steps = gr.Slider(1, 150, value=28, step=1, label="Steps")
            cfg = gr.Slider(1.0, 20.0, value=7.0, step=0.5, label="CFG")
            seed = gr.Number(label="Seed (-1 random)", value=-1, precision=0)
        with gr.Row():
            control = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Pose (ControlNet) strength")
            ref_strength = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Reference strength")
            fidelity = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Style fidelity")
        with gr.Row():
            start = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label="Start")
            end = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="End")
        if host.name == "standalone":
            with gr.Row():
                checkpoint = gr.Textbox(label="Checkpoint (file or name)", value="udw", elem_id="udw_pose_ckpt")
                controlnet = gr.Textbox(label="OpenPose ControlNet (file or name)", value="control_v11p_sd15_openpose")
            with gr.Row():
                gen_btn = gr.Button("Generate (diffusers)", variant="primary", elem_id="udw_pose_generate_btn")
                stop_button(host)
        else:
            where = (f"through **{host.controlnet_extension}**" if host.controlnet_extension
                     else f"— needs the ControlNet extension ({EXTENSION_URL})")
            gr.Markdown(f"Generates with A1111's loaded model {where}, via its API.")
            gen_btn = gr.Button("Generate with ControlNet", variant="primary", elem_id="udw_pose_generate_btn")
        result = make(gr.Image, label="Result", type="pil", interactive=False, elem_id="udw_pose_result")
        gen_status = gr.Markdown(elem_id="udw_pose_gen_status")
        eval_btn = gr.Button("Score the result (pose error, identity)", elem_id="udw_pose_eval_btn")

    def extractor() -> PoseExtractor:
        return PoseExtractor(ports=host.ports(None, "pose"))

    def options(box: str, h: bool, f: bool) -> ExtractOptions:
        return ExtractOptions(boxes=BOXES.get(box, box), hands=h, face=f)

    def prepared(ref, src, skel, text, box, h, f, rt, w, hh):
        return prepare_pose(extractor(), src, text.strip() or None, skel, ref, float(rt), options(box, h, f),
                            int(w or 0), int(hh or 0))

    @friendly(status=2, outputs=3)
    def do_prepare(ref, src, skel, text, box, h, f, rt, w, hh):
        prep = prepared(ref, src, skel, text, box, h, f, rt, w, hh)
        js = json.dumps(frames_to_json([prep.frame]), indent=1) if prep.frame else ""
        lines = [f"**pose ready** ({prep.skeleton.width}x{prep.skeleton.height})"] + [f"- {n}" for n in prep.notes]
        return prep.skeleton, js, "\n".join(lines)

    inputs = [reference, pose_src, is_skeleton, pose_json, boxes, hands, face, retarget, width, height]
    prepare_btn.click(do_prepare, inputs=inputs, outputs=[skeleton, pose_out, status], api_name="udw_pose_prepare")

    def settings(rs, sf, st, en) -> ReferenceSettings:
        s = ReferenceSettings(float(rs), float(sf), float(st), float(en))
        s.validate()
        return s

    if host.name == "standalone":
        @friendly(status=1, outputs=2)
        def do_generate(ref, skel_img, text, p, n, stp, c, sd, cs, rs, sf, st, en, ckpt, cn, progress=gr.Progress()):
            image, note = _generate_diffusers(host, ref, skel_img, p, n, int(stp), float(c), int(sd), float(cs),
                                              settings(rs, sf, st, en), ckpt, cn, progress)
            return image, note

        gen_btn.click(do_generate, inputs=[reference, skeleton, pose_out, prompt, negative, steps, cfg, seed, control,
                                           ref_strength, fidelity, start, end, checkpoint, controlnet],
                      outputs=[result, gen_status], api_name="udw_pose_transfer")
    else:
        @friendly(status=1, outputs=2)
        def do_controlnet(ref, skel_img, p, n, stp, c, sd, cs, rs, sf, st, en):
            return _generate_a1111(host, ref, skel_img, p, n, int(stp), float(c), int(sd), float(cs),
                                   settings(rs, sf, st, en))

        gen_btn.click(do_controlnet, inputs=[reference, skeleton, prompt, negative, steps, cfg, seed, control,
                                             ref_strength, fidelity, start, end],
                      outputs=[result, gen_status], api_name="udw_pose_controlnet")

    @friendly(status=0, outputs=1)
    def do_eval(out_img, ref, text, box):
        return _score(host, out_img, ref, text, box)

    eval_btn.click(do_eval, inputs=[result, reference, pose_out, boxes], outputs=[gen_status], api_name="udw_pose_eval")


def _seed(value: int) -> int:
    return value if value >= 0 else random.randrange(2 ** 32)


def _generate_diffusers(host: UiHost, ref, skel, prompt, negative, steps, cfg, seed, control, ref_settings,
                        ckpt, cn, progress) -> tuple[Any, str]:
    from ...checkpoints.locate import find_model
    from ...generate import load_pipeline
    from ...models.registry import locate
    from ...pose.transfer_diffusers import TransferParams, load_controlnet, transfer

    if skel is None and control > 0:
        raise BadInput("no pose prepared", "press Prepare pose first (or set the pose strength to 0)")
    ports = host.ports(progress, "transfer")
    ckpt_path = find_model(_model_arg(host, ckpt), "checkpoints", ports, host.model_dirs.get("checkpoints", []))
    cn_path = (find_model(_model_arg(host, cn), "controlnet", ports, host.model_dirs.get("controlnet", []))
               if cn and cn != "control_v11p_sd15_openpose" else locate("control_v11p_sd15_openpose", ports).first)
    width, height = (skel.width // 8 * 8, skel.height // 8 * 8) if skel is not None else (512, 768)
    seed = _seed(seed)
    loaded = load_pipeline(ckpt_path, ports=ports, hashes=False)
    net = load_controlnet(cn_path, loaded.pipe.unet) if control > 0 else None
    params = TransferParams(prompt, negative, width, height, steps, cfg, seed, control_strength=control,
                            reference=ref_settings)
    image = transfer(loaded.pipe, net, [ref] if ref is not None else [], skel, params, ports)
    return image, f"**done** — seed {seed}, {width}x{height}, {loaded.name}"


def _model_arg(host: UiHost, value: str) -> str:
    """A bare name is looked up in the model folders; anything path-like must lie inside the roots."""
    text = str(value or "").strip()
    if not text:
        raise BadInput("no model given", "type a model file name or a path inside the allowed folders")
    return str(host.roots.resolve(text)) if ("/" in text or "\\" in text) else text


def _generate_a1111(host: UiHost, ref, skel, prompt, negative, steps, cfg, seed, control, ref_settings):
    if not host.controlnet_extension:
        raise BadInput("the ControlNet extension (sd-webui-controlnet) is not installed",
                       f"install it from {EXTENSION_URL} (Extensions tab), restart, and put "
                       f"control_v11p_sd15_openpose into models/ControlNet")
    if not host.a1111_api:
        raise BadInput("A1111's web API is off", "start A1111 with --api so that UDW can hand the pose to ControlNet")
    if skel is None and control > 0:
        raise BadInput("no pose prepared", "press Prepare pose first")
    model = pick_openpose_model(controlnet_models(host.a1111_api)) if control > 0 else "None"
    units = controlnet_units(skel, ref, model, control, ref_settings)
    width, height = (skel.width // 8 * 8, skel.height // 8 * 8) if skel is not None else (512, 768)
    payload = txt2img_payload(prompt, negative, width, height, steps, cfg, _seed(seed), "Euler a", units)
    images, info = run_txt2img(host.a1111_api, payload)
    if not images:
        raise BadInput("A1111 returned no image", "check its console")
    return images[0], f"**done** — seed {info.get('seed', '?')}, ControlNet model `{model}`, {len(units)} unit(s)"


def _score(host: UiHost, out_img, ref, text: Optional[str], box: str) -> str:
    from ...pose.evaluate import evaluate
    from ...pose.metrics import Embedder

    if out_img is None:
        raise BadInput("no result to score", "generate first")
    target = frames_from_json(text)[0] if text and text.strip() else None
    if target is None and ref is None:
        raise BadInput("nothing to score against", "prepare a pose (JSON) or give a reference image")
    ports = host.ports(None, "eval")
    (report,) = evaluate([out_img], target, ref, PoseExtractor(ports=ports) if target else None,
                         Embedder(ports=ports) if ref is not None else None,
                         ExtractOptions(boxes=BOXES.get(box, box), hands=False, face=False), ports)
    return f"**scores** — {report.summary()}"
