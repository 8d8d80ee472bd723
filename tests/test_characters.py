"""Characters: colour embeddings, few-shot references, unknown groups, renames, bad references."""

import shutil

import numpy as np
import pytest
from PIL import Image

from udw.characters import CharacterSettings, ColourEmbedder, character_name, difference, rename_characters, run_characters
from udw.characters.cluster import assign, cluster_unknowns
from udw.core.errors import BadInput
from udw.core.manifest import Dataset
from udw.dataset.ingest import import_images
from udw.faces import FaceSettings, run_faces
from udw.faces.store import load_faces

HAIR = {"red": (220, 30, 40), "blue": (30, 60, 220), "green": (30, 180, 60), "yellow": (240, 220, 20),
        "black": (20, 20, 20)}


def heads(size, spec, bg=(90, 90, 90)):
    """A frame of 'characters': magenta faces (what the tiny detector finds) under coloured hair."""
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = bg
    for hair, (x0, y0, side) in spec:
        img[max(0, y0 - side // 2):y0 + side // 3, max(0, x0 - side // 6):x0 + side + side // 6] = HAIR[hair]
        img[y0:y0 + side, x0:x0 + side] = (255, 0, 255)
    return img


FRAMES = {
    "f0": [("red", (100, 100, 60))], "f1": [("blue", (300, 120, 80))],
    "f2": [("red", (60, 120, 60)), ("blue", (400, 100, 80))],
    "f3": [("green", (100, 100, 60))], "f4": [("green", (300, 140, 80))],
    "f5": [("green", (200, 100, 100)), ("red", (460, 120, 60))],
    "f6": [("yellow", (200, 120, 60))], "f7": [],
}


@pytest.fixture(scope="module")
def cast_template(tmp_path_factory, tiny_yolo):
    tmp_path = tmp_path_factory.mktemp("cast")
    src = tmp_path / "frames"
    src.mkdir()
    for name, spec in FRAMES.items():
        Image.fromarray(heads((640, 320), spec)).save(src / f"{name}.png")
    refs = tmp_path / "refs"
    for name, hair in (("Aka:ne", "red"), ("Ao", "blue")):
        (refs / name).mkdir(parents=True)
        Image.fromarray(heads((320, 320), [(hair, (120, 140, 80))])).save(refs / name / "ref1.png")
    (refs / "Ao" / "broken.png").write_bytes(b"not an image")
    (refs / "Empty").mkdir()
    ds = Dataset.open_or_create(tmp_path / "ds")
    import_images(ds, [src])
    run_faces(ds, FaceSettings(detector=str(tiny_yolo)))
    return tmp_path


@pytest.fixture
def cast(cast_template, tmp_path, tiny_yolo):
    shutil.copytree(cast_template, tmp_path / "cast")
    return Dataset(tmp_path / "cast" / "ds"), tmp_path / "cast" / "refs", tiny_yolo


def names_by_frame(ds):
    with ds.db() as conn:
        faces = load_faces(conn)
    return {it.path.split("/")[-1][:-4]: [f.character for f in faces.get(it.id, [])] for it in ds.items()}


def test_references_name_faces_and_the_rest_is_grouped(cast):
    ds, refs, det = cast
    report = run_characters(ds, CharacterSettings(embedder="colour", refs=str(refs), detector=str(det),
                                                  min_cluster=3))
    got = names_by_frame(ds)
    assert got["f0"] == ["Aka_ne"] and got["f1"] == ["Ao"] and got["f2"] == ["Aka_ne", "Ao"]
    assert got["f3"] == got["f4"] == ["unknown_1"] and got["f5"] == ["unknown_1", "Aka_ne"]
    assert got["f6"] == ["others"] and got["f7"] == []
    assert report.counts == {"Aka_ne": 3, "Ao": 2, "unknown_1": 3, "others": 1}
    assert report.refs == {"Aka_ne": 1, "Ao": 1}
    notes = "\n".join(report.notes)
    assert "weight-free colour embedder" in notes and "broken.png" in notes and "no pictures" in notes
    assert "only one reference picture" in notes and "'Aka:ne' is named 'Aka_ne'" in notes
    assert "colour-v1" in report.embedder


def test_rename_and_rerun_keeps_embeddings(cast):
    ds, refs, det = cast
    settings = CharacterSettings(embedder="colour", refs=str(refs), detector=str(det))
    run_characters(ds, settings)
    assert rename_characters(ds, {"unknown_1": "Midori/../x"}, refs=refs) == {"unknown_1 -> Midori_.._x": 3}
    assert names_by_frame(ds)["f3"] == ["Midori_.._x"]
    assert len(list((refs / "Midori_.._x").glob("from_unknown_1_*.png"))) == 3  # the name survives re-runs
    again = run_characters(ds, settings)
    assert again.stage.done == 0  # embeddings kept; names recomputed from the references
    got = names_by_frame(ds)
    assert got["f3"] == got["f4"] == ["Midori_.._x"] and got["f5"] == ["Midori_.._x", "Aka_ne"]


def test_without_references_everything_is_clustered(cast):
    ds, _, det = cast
    report = run_characters(ds, CharacterSettings(embedder="colour", detector=str(det)))
    assert "no reference folder" in "\n".join(report.notes)
    got = names_by_frame(ds)
    assert got["f3"][0] == got["f4"][0] != got["f0"][0] and got["f0"][0].startswith("unknown_")
    assert got["f6"] == ["others"]


def test_no_clustering_sends_unknowns_to_others(cast):
    ds, refs, det = cast
    run_characters(ds, CharacterSettings(embedder="colour", refs=str(refs), detector=str(det), cluster="none"))
    assert names_by_frame(ds)["f3"] == ["others"]


def test_bad_reference_settings(cast, tmp_path):
    ds, _, det = cast
    with pytest.raises(BadInput, match="no such reference folder"):
        run_characters(ds, CharacterSettings(embedder="colour", refs=str(tmp_path / "nope"), detector=str(det)))
    with pytest.raises(BadInput, match="clustering"):
        run_characters(ds, CharacterSettings(cluster="kmeans"))


@pytest.mark.parametrize("raw,safe", [("../../etc", "_.._etc"), ("a/b", "a_b"), ("c:d", "c_d"), ("others", "others_"),
                                      ("A+B", "A_B"), ("  ", "unnamed"), ("Aoi", "Aoi")])
def test_character_names_are_safe_folder_names(raw, safe):
    assert character_name(raw) == safe


def test_assignment_uses_a_name_once_per_image():
    diff = np.array([[0.05, 0.5], [0.08, 0.10], [0.9, 0.9]])
    names, scores = assign(diff, ["A", "B"], 0.2, per_image=[1, 1, 2])
    assert names == ["A", "B", None] and scores[:2] == [0.05, 0.10]


def test_dbscan_and_optics_group_and_number_by_size():
    rng = np.random.default_rng(0)
    a = rng.normal([1, 0, 0], 0.02, (5, 3))
    b = rng.normal([0, 1, 0], 0.02, (3, 3))
    emb = np.concatenate([b, a, [[0, 0, 1.0]]])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    for method in ("dbscan", "optics"):
        labels = cluster_unknowns(emb, method, eps=0.05, min_samples=3)
        assert labels == ["unknown_2"] * 3 + ["unknown_1"] * 5 + ["others"], method
    assert cluster_unknowns(emb[:2], "dbscan", 0.05, 3) == ["others", "others"]


def test_colour_embedder_tells_renpy_characters_apart(renpy_sprites):
    """Real anime-style sprites: the same character in other expressions/outfits is nearest."""
    e = ColourEmbedder()
    names = ["sylvie green normal", "sylvie blue smile", "eileen happy", "eileen concerned", "lucy happy", "lucy mad"]
    crops = []
    for n in names:
        im = Image.open(renpy_sprites[n]).convert("RGBA")
        rgb = Image.new("RGBA", im.size, (255, 255, 255, 255))
        rgb.alpha_composite(im)
        a = np.asarray(rgb.convert("RGB"))
        crops.append(a[40:200, 60:260])  # the head area of these sprites
    d = difference(e.embed(crops), e.embed(crops))
    np.fill_diagonal(d, 9)
    nearest = [names[j].split()[0] for j in d.argmin(axis=1)]
    assert nearest == [n.split()[0] for n in names]
