"""The core does not import its scale-out layer: engines register themselves, the core dispatches."""

import ast
import subprocess
import sys
from pathlib import Path

UDW = Path(__file__).resolve().parents[1] / "udw"
ALLOWED = ("scale", "ui", "cli")  # the scale layer itself and the front ends that choose the engine


def scale_imports(path: Path) -> list[str]:
    """Imports of udw.scale in a module: import statements and importlib.import_module("...scale...")."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (f"{node.module}." if node.module else "")
            names = [base + a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        else:
            continue
        found += [f"{path.name}:{node.lineno}: {n}" for n in names if "scale" in n.split(".")]
    return found


def test_core_and_stages_never_import_udw_scale():
    modules = [p for p in UDW.rglob("*.py") if p.relative_to(UDW).parts[0] not in ALLOWED]
    assert len(modules) > 50
    assert [hit for p in modules for hit in scale_imports(p)] == []


def test_the_check_sees_every_form_of_import(tmp_path):
    sample = tmp_path / "probe.py"
    sample.write_text("from ..scale.frames import x\nimport udw.scale\nfrom .. import scale\nimport rescale\n"
                      "def f():\n    importlib.import_module('..scale.ray_engine', __package__)\n")
    assert sorted(h.split(": ")[1] for h in scale_imports(sample)) == sorted([
        "..scale.frames.x", "udw.scale", "..scale", "..scale.ray_engine"])


def test_without_udw_scale_the_core_says_what_to_load():
    code = ("from udw.core.engine import EngineSettings, backend\n"
            "from udw.core.errors import BadInput\n"
            "try:\n    backend(EngineSettings('ray'))\nexcept BadInput as exc:\n    print(exc, exc.hint)\n"
            "import udw.scale\nprint(type(backend.__globals__['_ENGINES']['ray']).__name__)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=UDW.parent, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "the ray engine is not loaded" in run.stdout and "import udw.scale" in run.stdout
    assert run.stdout.strip().endswith("RayEngine")
