"""The same input and the same choices give the same manifest from every front end: the CLI, the
ComfyUI node and the UDW tab / app (one source of defaults: udw/dataset/defaults.py)."""

import os
import shutil
from pathlib import Path

import pytest

from udw.cli.main import main
from udw.core.paths import Roots
from udw.samples import generate_samples
from udw.testing.manifest_dump import dump

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def media(tmp_path, monkeypatch):
    """One short sample episode, character references and the cascade, in a folder every front end may read."""
    cascade = next((p for p in (REPO.parent / "shared" / "models" / "lbpcascade_animeface.xml",
                                Path(os.environ.get("UDW_SHARED_DIR", "/nonexistent")) / "models" /
                                "lbpcascade_animeface.xml") if p.is_file()), None)
    if cascade is None:
        pytest.skip("../shared/models/lbpcascade_animeface.xml is missing (set UDW_SHARED_DIR)")
    root = tmp_path / "media"
    (episode,) = generate_samples(root / "episodes", episodes=1, duration_s=4.0, width=320, height=180,
                                  containers=("mp4",))
    models = tmp_path / "models" / "detectors"
    models.mkdir(parents=True)
    shutil.copy(cascade, models / cascade.name)
    from udw.demo import write_refs

    write_refs([episode], root / "refs", 4.0)
    for name, value in {"UDW_MODELS_DIR": str(tmp_path / "models"), "UDW_ROOTS": str(root),
                        "HF_HUB_OFFLINE": "1", "UDW_AUTO_DOWNLOAD": "0", "HOME": str(tmp_path / "home")}.items():
        monkeypatch.setenv(name, value)
    return root, episode.video


def test_cli_node_and_tab_give_the_same_manifest(media, comfy, serve_ui, tmp_path):
    root, video = media
    refs = root / "refs"
    assert main(["-q", "build", str(video), "-o", str(root / "cli"), "--refs", str(refs),
                 "--export", str(root / "cli_train")]) == 0

    args = dict(source=str(video), dataset=str(root / "node"), refs=str(refs), export_to=str(root / "node_train"),
                trainer="everydream", dedupe=True, tag=True, faces=True, characters=True, gallery=True)
    (ds, report), _ = comfy.run("UDWBuildDataset", **args)
    assert "faces: " in report and "faces: skipped" not in report, report

    from udw.ui import UiHost

    client = serve_ui(UiHost("a1111", Roots(root)))
    steps = ["frames", "dedupe", "tag", "faces", "characters", "export", "gallery"]
    status = client.predict(str(video), "tab", str(refs), steps, "tab_train", "everydream", api_name="/udw_build")
    assert "characters: " in status, status

    cli, node, tab = (dump(root / name) for name in ("cli", "node", "tab"))
    assert cli["items"] and any(f for f in cli["faces"])
    differ = {(name, table) for name, other in (("node", node), ("tab", tab)) for table in cli
              if other[table] != cli[table]}
    assert not differ, [(n, t, first_difference(cli[t], (node if n == "node" else tab)[t])) for n, t in differ]


def first_difference(a: list, b: list):
    for x, y in zip(a, b):
        if x != y:
            return {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
    return f"{len(a)} rows != {len(b)} rows"
