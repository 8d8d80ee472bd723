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
from udw.faces.store import load_faces

HAIR = {"red": (220, 30, 40), "blue": (30, 60, 220), "green": (30, 180, 60), "yellow": (240, 220, 20),
        "black": (20, 20, 20)}
EYES = {"red": (30, 160, 90), "blue": (200, 140, 20), "green": (150, 40, 160), "yellow": (40, 120, 220),
        "black": (200, 30, 30)}
SKIN = (250, 220, 195)


def draw_head(img, hair, box):
    """A flat cel head: hair above and as bangs over the top of the face box, two eyes, skin."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    img[max(0, y0 - h // 3):y0 + int(h * 0.3), max(0, x0 - w // 8):x1 + w // 8] = HAIR[hair]
    img[y0 + int(h * 0.3):y1, x0:x1] = SKIN
    for ex in (x0 + w // 5, x0 + w * 3 // 5):
        img[y0 + int(h * 0.4):y0 + int(h * 0.6), ex:ex + w // 5] = EYES[hair]


def heads(size, spec, bg=(110, 160, 210)):
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = bg
    for hair, box in spec:
        draw_head(img, hair, box)
    return img


FRAMES = {
    "f0": [("red", (100, 100, 160, 170))], "f1": [("blue", (300, 120, 380, 210))],
    "f2": [("red", (60, 120, 120, 190)), ("blue", (400, 100, 480, 190))],
    "f3": [("green", (100, 100, 160, 170))], "f4": [("green", (300, 140, 380, 230))],
    "f5": [("green", (200, 100, 300, 215)), ("red", (460, 120, 520, 190))],
    "f6": [("yellow", (200, 120, 260, 190))], "f7": [],
}


@pytest.fixture(scope="module")
def cast_template(tmp_path_factory):
    """Frames of drawn heads with their face boxes written into the manifest (as the faces stage would)."""
    from udw.faces.geometry import Face
    from udw.faces.store import save_faces

    tmp_path = tmp_path_factory.mktemp("cast")
    src = tmp_path / "frames"
    src.mkdir()
    for name, spec in FRAMES.items():
        Image.fromarray(heads((640, 320), spec)).save(src / f"{name}.png")
    refs = tmp_path / "refs"
    for name, hair in (("Aka:ne", "red"), ("Ao", "blue")):
        (refs / name).mkdir(parents=True)
        # a head crop: no face detector needed, the near-square picture is taken as the head
        Image.fromarray(heads((320, 320), [(hair, (48, 80, 272, 288))])).save(refs / name / "ref1.png")
    (refs / "Ao" / "broken.png").write_bytes(b"not an image")
    (refs / "Empty").mkdir()
    Image.fromarray(heads((640, 200), [])).save(refs / "Wide.png")  # no face, not a head crop: skipped
    ds = Dataset.open_or_create(tmp_path / "ds")
    import_images(ds, [src])
    with ds.transaction() as conn:
        for it in ds.items():
            save_faces(conn, it.id, [Face(*map(float, b), score=0.9, detector="drawn")
                                     for _, b in FRAMES[it.path.split("/")[-1][:-4]]])
            ds.mark_done(conn, [it.id], "faces", "drawn")
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
    assert report.refs == {"Aka_ne": 1, "Ao": 1}  # Wide.png skipped, Empty has no pictures
    notes = "\n".join(report.notes)
    assert "weight-free colour embedder" in notes and "broken.png" in notes and "no pictures" in notes
    assert "only one reference picture" in notes and "'Aka:ne' is named 'Aka_ne'" in notes
    assert "Wide.png: no face found" in notes
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
