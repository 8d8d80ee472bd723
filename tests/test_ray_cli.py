"""--engine on the CLI: one shared option set, a clear message without Ray, Ray runs the verb."""

import subprocess
import sys
from pathlib import Path

from udw.cli.engine_options import ENGINE_VERBS
from udw.cli.main import build_parser, main
from udw.core.manifest import Dataset

REPO = Path(__file__).resolve().parents[1]


def test_every_stage_verb_has_the_engine_options():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    verbs = [v for v in sub.choices if v in ENGINE_VERBS]
    assert "import" in verbs
    for verb in verbs:
        args = build_parser().parse_args([verb] + _required(verb) + [
            "--engine", "ray", "--address", "auto", "--ray-actors", "3", "--ray-gpus-per-actor", "0.5"])
        assert (args.engine, args.address, args.ray_actors, args.ray_gpus_per_actor) == ("ray", "auto", 3, 0.5)
    info = build_parser().parse_args(["info", "x"])
    assert not hasattr(info, "engine")  # verbs that only read the manifest do not get it


def _required(verb):
    return ["x", "-d", "ds"] if verb in ("import", "frames", "build") else ["x"]  # -d: the dataset everywhere


def test_without_ray_the_option_says_how_to_install(tmp_path, image_folder):
    code = ("import sys; sys.modules['ray'] = None; from udw.cli.main import main; "
            f"sys.exit(main(['-q', 'import', {str(image_folder)!r}, '-d', {str(tmp_path / 'ds')!r}, '--engine', 'ray']))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert 'pip install "udw-studio[ray]"' in run.stderr
    assert not (tmp_path / "ds").exists()  # refused before any work


def test_import_verb_on_ray(tmp_path, image_folder, ray_local, capsys):
    assert main(["-q", "import", str(image_folder), "-d", str(tmp_path / "ds"), "--engine", "ray",
                 "--ray-actors", "1"]) == 0
    assert "6 added" in capsys.readouterr().out
    assert Dataset(tmp_path / "ds").count() == 6
