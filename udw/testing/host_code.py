"""The hosts' and trainers' own code, for tests that check our files the way those programs read them.

Their code is never part of this repository: tests find a checkout (or a `git archive` extract) through
an environment variable and skip, saying how to get it, when it is absent. From a file we take only
the named top-level functions, classes and assignments (`load_parts`), so a parser can run without
the program's heavy imports (gradio, torch); what those parts read from elsewhere is passed in
`namespace` with the program's defaults.

- A1111 v1.10.1: `UDW_A1111_DIR` (a full install, as for tests/hosts) or `UDW_A1111_SRC` (the tag's
  source, e.g. `git archive v1.10.1 modules extensions-builtin` of AUTOMATIC1111/stable-diffusion-webui).
- EveryDream2: `UDW_ED2_DIR` (victorchall/EveryDream2trainer); OneTrainer: `UDW_ONETRAINER_DIR`
  (Nerogar/OneTrainer, its concept config) and `UDW_MGDS_DIR` (Nerogar/mgds, its data loader).
"""

from __future__ import annotations

import ast
import collections
import enum
import json
import os
import random
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

DEFAULT_ROOT = Path("/work/ext")  # where this project's machines keep extracted copies
SOURCES = {
    "a1111": (("UDW_A1111_DIR", "UDW_A1111_SRC"), "a1111", "modules/infotext_utils.py",
              "AUTOMATIC1111/stable-diffusion-webui tag v1.10.1"),
    "everydream2": (("UDW_ED2_DIR",), "everydream2", "data/data_loader.py", "victorchall/EveryDream2trainer"),
    "mgds": (("UDW_MGDS_DIR",), "mgds", "src/mgds/pipelineModules/DiskCache.py", "Nerogar/mgds"),
    "onetrainer": (("UDW_ONETRAINER_DIR",), "onetrainer", "modules/util/config/ConceptConfig.py", "Nerogar/OneTrainer"),
}


class HostCodeMissing(RuntimeError):
    """The program's source is not on this machine (tests skip with this message)."""


def source_root(name: str) -> Path:
    envs, default, marker, repo = SOURCES[name]
    candidates = [os.environ.get(e) for e in envs] + [str(DEFAULT_ROOT / default)]
    for root in filter(None, candidates):
        if (Path(root) / marker).is_file():
            return Path(root)
    raise HostCodeMissing(f"{repo} source not found: set {' or '.join(envs)} to a checkout of it "
                          f"(looked for {marker})")


def load_parts(path: Path, names: set[str], namespace: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Execute only the top-level definitions and assignments called `names` of a Python file."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), str(path))
    keep = [node for node in tree.body if _defines(node) & names]
    missing = names - set().union(*(_defines(n) for n in keep)) if keep else names
    if missing:
        raise HostCodeMissing(f"{path} no longer defines {', '.join(sorted(missing))}")
    ns: dict[str, Any] = dict(namespace or {})
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), ns)  # noqa: S102 (their code, by design)
    return ns


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    return set()


def a1111_parsers() -> types.SimpleNamespace:
    """A1111 v1.10.1's `parse_generation_parameters` (what PNG Info and "Send to txt2img" use) as `parse`,
    and its extra-network prompt parser as `networks`, with the options they read at A1111's defaults
    (styles ignored, no back-compat flags, new hires sizes)."""
    root = source_root("a1111")
    opts = types.SimpleNamespace(infotext_skip_pasting=[], infotext_styles="Ignore", auto_backcompat=False,
                                 use_old_hires_fix_width_height=False)
    shared = types.SimpleNamespace(opts=opts)
    modules = root / "modules"
    versions = load_parts(modules / "infotext_versions.py", {"backcompat", "parse_version"}, {"shared": shared, "re": re})
    attention = load_parts(modules / "prompt_parser.py", {"parse_prompt_attention", "re_attention", "re_break"},
                           {"re": re})
    infotext = load_parts(modules / "infotext_utils.py",
                          {"parse_generation_parameters", "restore_old_hires_fix_params", "unquote", "re_param_code",
                           "re_param", "re_imagesize"},
                          {"shared": shared, "re": re, "json": json, "infotext_versions": types.SimpleNamespace(**versions),
                           "prompt_parser": types.SimpleNamespace(**attention)})
    networks = load_parts(modules / "extra_networks.py", {"ExtraNetworkParams", "parse_prompt", "re_extra_net"},
                          {"re": re, "defaultdict": collections.defaultdict})
    return types.SimpleNamespace(parse=infotext["parse_generation_parameters"], networks=networks["parse_prompt"])


def a1111_loras(parsers: types.SimpleNamespace, prompt: str) -> list[tuple[str, float, float]]:
    """(name, te, unet) of each `<lora:...>` tag as A1111's Lora network reads it
    (extensions-builtin/Lora/extra_networks_lora.py: te = positional[1] or te=, else 1;
    unet = positional[2] or unet=, else te)."""
    _, found = parsers.networks(prompt)
    out = []
    for p in found.get("lora", []):
        te = float(p.named.get("te", p.positional[1] if len(p.positional) > 1 else 1.0))
        out.append((p.positional[0], te, float(p.named.get("unet", p.positional[2] if len(p.positional) > 2 else te))))
    return out


def onetrainer_concept_config() -> type:
    """OneTrainer's ConceptConfig (how its concepts tab and trainer read a concepts JSON)."""
    root = source_root("onetrainer") / "modules" / "util"
    types_ = load_parts(root / "type_util.py", {"issubclass_safe"}, {"get_origin": typing.get_origin})
    base = load_parts(root / "config" / "BaseConfig.py", {"BaseConfig"},
                      {"Callable": Callable, "Enum": enum.Enum, "Any": typing.Any, "get_args": typing.get_args,
                       "get_origin": typing.get_origin, **types_})
    enums = {name: load_parts(root / "enum" / f"{name}.py", {name}, {"Enum": enum.Enum})[name]
             for name in ("BalancingStrategy", "ConceptType")}
    config = load_parts(root / "config" / "ConceptConfig.py", {"ConceptImageConfig", "ConceptTextConfig", "ConceptConfig"},
                        {"random": random, "Any": typing.Any, **base, **enums})
    return config["ConceptConfig"]
