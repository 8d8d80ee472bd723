"""UDW model section: looks (fill the settings), generate (standalone) or send to txt2img
(A1111), conventions (clip skip 2) for the host's model, inspection and lineage."""

from __future__ import annotations

import random
from pathlib import Path

import gradio as gr

from ...checkpoints import compare, find_model, format_lineage, format_report, inspect_file
from ...core.errors import BadInput
from ...core.ports import Ports
from ...looks import SAMPLERS, SCHEDULERS, load_looks
from ...looks.infotext import GenParams, format_infotext
from ..compat import make
from ..host import UiHost
from .common import friendly, stop_button

TITLE = "UDW model"
SAMPLER_LABELS = [label for label, _, _ in SAMPLERS.values()]
SCHEDULER_LABELS = [label for label, _ in SCHEDULERS.values()]


def resolve_model(host: UiHost, text: str, kind: str = "checkpoints") -> Path:
    """A typed model path inside the roots or the host's model folders, or a name found there."""
    text = (text or "").strip()
    if not text:
        raise BadInput("no model given", "type a checkpoint name (or a path inside the allowed folders)")
    dirs = [Path(d) for d in host.model_dirs.get(kind, [])] + [host.roots.default / "models" / kind]
    typed = Path(text).expanduser()
    if typed.is_absolute() or "/" in text or "\\" in text:
        full = typed.resolve() if typed.is_absolute() else host.roots.resolve(text)
        allowed = list(host.roots.folders) + [d.resolve() for d in dirs if d.exists()]
        if not any(full == a or a in full.parents for a in allowed):
            raise BadInput(f"{text} is outside the allowed folders",
                           "use a model folder of this host, or a path inside the app's folders")
        if not full.is_file():
            raise BadInput(f"{text}: no such file", "check the path")
        return full
    return find_model(text, kind, Ports(model_dirs={kind: [str(d) for d in dirs]}), allow_path=False)


def _params(look_name, prompt, negative, width, height, steps, cfg, sampler, scheduler, seed, clip_skip,
            hires) -> GenParams:
    look = load_looks().get(look_name)
    seed = int(seed) if seed is not None and int(seed) >= 0 else -1      # -1: random (as in A1111)
    return GenParams.from_look(look, prompt or "", seed, hires=bool(hires), negative=negative or "",
                               width=int(width), height=int(height), steps=int(steps), cfg=float(cfg),
                               sampler=sampler, scheduler=scheduler, clip_skip=int(clip_skip))


def build(host: UiHost) -> None:
    book = load_looks()
    first = next(iter(book.looks.values()))
    standalone = host.send_to_txt2img is None
    with gr.Row():
        with gr.Column(scale=1):
            look = gr.Dropdown(book.names(), value=first.name, label="Look", elem_id="udw_look")
            look_info = gr.Markdown(first.description, elem_id="udw_look_info")
            prompt = gr.Textbox(label="Prompt (booru tags; the look adds its own around them)", lines=2,
                                value="1girl, solo", elem_id="udw_prompt")
            negative = gr.Textbox(label="Negative prompt", lines=2, value=first.negative, elem_id="udw_negative")
            with gr.Row():
                width = gr.Number(value=first.width, label="Width", precision=0, elem_id="udw_width")
                height = gr.Number(value=first.height, label="Height", precision=0, elem_id="udw_height")
                hires = gr.Checkbox(value=False, label="Hi-res pass", elem_id="udw_hires")
            with gr.Row():
                steps = gr.Number(value=first.steps, label="Steps", precision=0)
                cfg = gr.Number(value=first.cfg, label="CFG scale")
                clip_skip = gr.Number(value=first.clip_skip, label="Clip skip", precision=0)
                seed = gr.Number(value=-1, label="Seed (-1 random)", precision=0)
            with gr.Row():
                sampler = gr.Dropdown(SAMPLER_LABELS, value=first.a1111_sampler[0], label="Sampler")
                scheduler = gr.Dropdown(SCHEDULER_LABELS, value=first.a1111_sampler[1], label="Schedule type")
            initial = format_infotext(GenParams.from_look(first, "1girl, solo", -1))
            infotext = gr.Textbox(value=initial, label="Generation parameters (A1111 format)", lines=4,
                                  elem_id="udw_infotext")
            with gr.Row():
                send = gr.Button("Send to txt2img", variant="primary", visible=not standalone, elem_id="udw_send")
                gen_btn = gr.Button("Generate", variant="primary", visible=standalone, elem_id="udw_generate")
                stop_button(host)
        with gr.Column(scale=1):
            checkpoint = gr.Textbox(label="Checkpoint (name in the model folders, or path)", elem_id="udw_ckpt")
            with gr.Row(visible=standalone):
                loras = gr.Textbox(label="LoRAs (one per line: name-or-path[:weight])", lines=2)
                vae = gr.Textbox(label="Separate VAE (optional)")
                count = gr.Number(value=1, label="Images", precision=0)
            gallery = make(gr.Gallery, label="Images", columns=2, height=420, elem_id="udw_gallery")
            status = gr.Markdown(elem_id="udw_model_status")
            with gr.Accordion("UDW conventions in this host", open=not standalone, visible=not standalone):
                active = gr.Markdown(elem_id="udw_active_model")
                conv_vae = gr.Textbox(label="VAE to select (optional; a name from the host's VAE list)")
                with gr.Row():
                    use_active = gr.Button("Use the loaded model")
                    conv_btn = gr.Button("Apply clip skip 2 (+ VAE)", elem_id="udw_apply_conventions")
            with gr.Accordion("Inspect / lineage", open=False):
                base = gr.Textbox(label="Base checkpoint for lineage (optional), e.g. NovelAI v1 or SD1.5")
                with gr.Row():
                    hashes = gr.Checkbox(value=True, label="Compute hashes (cached)")
                    inspect_btn = gr.Button("Inspect", elem_id="udw_inspect_btn")
                report = gr.Textbox(label="Report", lines=16, interactive=False, elem_id="udw_report")

    settings = [look, prompt, negative, width, height, steps, cfg, sampler, scheduler, seed, clip_skip, hires]

    @friendly
    def fill(name):
        lk = load_looks().get(name)
        return (lk.description, lk.negative, lk.width, lk.height, lk.steps, lk.cfg, lk.a1111_sampler[0],
                lk.a1111_sampler[1], lk.clip_skip)

    @friendly
    def preview(*values):
        return format_infotext(_params(*values))

    @friendly
    def do_generate(ckpt, lora_text, vae_text, n, *values, progress=gr.Progress()):
        from ...generate import LoraSpec, generate, load_pipeline, save_png

        p = _params(*values)
        if p.seed < 0:
            p.seed = random.randrange(2 ** 32)
        specs = []
        for line in (lora_text or "").splitlines():
            if line.strip():
                spec = LoraSpec.parse(line.strip())
                specs.append(LoraSpec(resolve_model(host, str(spec.path), "loras"), spec.weight))
        loaded = load_pipeline(resolve_model(host, ckpt), resolve_model(host, vae_text, "vae") if vae_text else None,
                               specs, ports=host.ports(progress, "load"))
        results = generate(loaded, p, max(1, int(n or 1)), ports=host.ports(progress, "generate"))
        out = host.roots.default / "udw-generated"
        paths = [save_png(img, used, out) for img, used in results]
        return [img for img, _ in results], format_infotext(results[0][1]), \
            f"wrote {len(paths)} image(s) to `{out}`"

    @friendly
    def do_inspect(ckpt, base_text, with_hashes, progress=gr.Progress()):
        path = resolve_model(host, ckpt)
        text = format_report(inspect_file(path, hashes=bool(with_hashes), ports=host.ports(progress, "hash")))
        if base_text and base_text.strip():
            text += "\n" + format_lineage(compare(path, resolve_model(host, base_text),
                                                  ports=host.ports(progress, "lineage")))
        return text

    @friendly
    def do_active():
        model = host.active_model() if host.active_model else None
        if not model:
            return "no model loaded in the host", ""
        return f"loaded: **{model.get('name')}** (hash {model.get('hash') or '?'})", model.get("path", "")

    @friendly
    def do_conventions(clip, vae_name):
        if not host.apply_conventions:
            raise BadInput("this host has no settings to change", "the standalone app applies them itself")
        return host.apply_conventions({"clip_skip": int(clip or 2), "vae": (vae_name or "").strip()})

    look.change(fill, inputs=[look], outputs=[look_info, negative, width, height, steps, cfg, sampler, scheduler,
                                              clip_skip], api_name="udw_look")
    for comp in settings:
        comp.change(preview, inputs=settings, outputs=[infotext])
    gen_btn.click(do_generate, inputs=[checkpoint, loras, vae, count] + settings, outputs=[gallery, infotext, status],
                  api_name="udw_generate")
    inspect_btn.click(do_inspect, inputs=[checkpoint, base, hashes], outputs=[report], api_name="udw_inspect")
    use_active.click(do_active, inputs=None, outputs=[active, checkpoint], api_name="udw_active_model")
    conv_btn.click(do_conventions, inputs=[clip_skip, conv_vae], outputs=[status], api_name="udw_conventions")
    if host.send_to_txt2img:
        host.send_to_txt2img(send, infotext)
    model_files(host)


def model_files(host: UiHost) -> None:
    """The models UDW uses (taggers, detectors, ...): installed or not, where, licence, source;
    Download fetches one into this host's model folder (or from UDW_MODEL_MIRROR)."""
    from ...models.status import HEADERS, get_model, list_status

    def rows():
        return [s.row() for s in list_status(Ports(model_dirs=host.model_dirs))]

    names = [r[0] for r in rows()]
    with gr.Accordion("Model files (taggers, face detectors, embedders, pose)", open=False):
        table = make(gr.Dataframe, headers=HEADERS, value=rows(), interactive=False, wrap=True,
                     elem_id="udw_models_table")
        with gr.Row():
            name = gr.Dropdown(names, value="lbpcascade_animeface", label="Model", elem_id="udw_models_name")
            get = gr.Button("Download", elem_id="udw_models_get")
        result = gr.Markdown(elem_id="udw_models_status")

    @friendly
    def do_get(model, progress=gr.Progress()):
        files = get_model(model, host.ports(progress, f"download {model}"))
        verb = "downloaded" if files.origin == "download" else "already installed"
        return rows(), f"**{model}**: {verb} in `{files.first.parent}`"

    get.click(do_get, inputs=[name], outputs=[table, result], api_name="udw_models_get")
