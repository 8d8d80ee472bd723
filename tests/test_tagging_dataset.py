"""The tag stage and `udw tag`: manifest scores, sidecars, JSON, resume, bad input."""

import json
import shutil

import pytest
from PIL import Image

from udw.cli.main import main
from udw.core.manifest import Dataset
from udw.core.ports import Ports
from udw.dataset.ingest import import_images, index_in_place
from udw.tagging import TagOptions, select
from udw.tagging import model as tagging_model
from udw.tagging.preprocess import prepare
from udw.tagging.stage import stored_results, tag_dataset


pytestmark = pytest.mark.usefixtures("no_models")


@pytest.fixture
def pics(tmp_path, make_image):
    folder = tmp_path / "pics"
    for i in range(7):
        make_image(folder / f"p{i}.png", i, (120 + 10 * i, 80), "RGBA" if i == 3 else "RGB")
    make_image(folder / "sub" / "deep.png", 9, (60, 90))
    make_image(folder / "previews" / "grid.png", 10, (50, 50))  # a UDW view, never an item
    return folder


def db_rows(ds, sql, *args):
    with ds.db() as conn:
        return conn.execute(sql, args).fetchall()


def test_cli_tags_a_plain_folder_in_place_and_resumes(tiny_tagger, pics, tmp_path, capsys):
    tiny = tiny_tagger("v3")
    good = Image.open(pics / "p1.png")
    data = (pics / "p5.png").read_bytes()
    (pics / "p5.png").write_bytes(data[:len(data) // 3])  # truncated: header fine, pixels missing
    code = main(["-q", "tag", str(pics), "--model", str(tiny.onnx), "--batch", "3",
                 "--json", str(tmp_path / "tags.json")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "new dataset in place\nimport: 8 added" in out and "tag: 7 done" in out and "1 failed" in out
    assert "skipped p5.png" in out and "model: model.onnx" not in out and "on CPUExecutionProvider" in out
    ds = Dataset(pics)
    assert ds.count() == 8 and not db_rows(ds, "SELECT 1 FROM items WHERE path LIKE 'previews/%'")
    # scores in the manifest are the model's, for the exactly prepared image
    want = tiny.expected(prepare(good, 64))
    stored = dict(db_rows(ds, "SELECT t.tag, t.score FROM tags t JOIN items i ON i.id=t.item_id "
                              "WHERE i.path='p1.png'"))
    names = [name for name, _ in tiny.rows]
    for tag in ("general", "sensitive", "questionable", "explicit"):
        assert stored[f"rating:{tag}"] == pytest.approx(float(want[names.index(tag)]), abs=1e-5)
    expected = select(want, tagging_model.read_labels(tiny.csv), TagOptions())
    assert {k for k in stored if not k.startswith("rating:")} == set(expected.general) | set(expected.character)
    assert db_rows(ds, "SELECT rating FROM items WHERE path='p1.png'")[0][0] == expected.rating
    # sidecar beside the image, JSON of confidences for every tagged item
    assert (pics / "p1.tags").read_text() == expected.prompt() + "\n"
    assert (pics / "sub" / "deep.tags").is_file() and not (pics / "p5.tags").exists()
    data = json.loads((tmp_path / "tags.json").read_text())
    assert set(data) == {f"p{i}.png" for i in range(7) if i != 5} | {"sub/deep.png"}
    assert data["p1.png"]["rating"] == expected.rating
    assert data["p1.png"]["general"] == {k.replace("_", " ") if k not in (">_<", "^_^") else k: round(v, 4)
                                         for k, v in expected.general.items()}
    # re-run: nothing to do; other thresholds: everything again
    main(["-q", "tag", str(pics), "--model", str(tiny.onnx)])
    out = capsys.readouterr().out
    assert "tag: 0 done, 8 already done" in out and "1 failed earlier (--retry-failed" in out
    main(["-q", "tag", str(pics), "--model", str(tiny.onnx), "--general", "0.9", "--no-sidecars"])
    assert "tag: 7 done" in capsys.readouterr().out
    assert (pics / "p1.tags").read_text() == expected.prompt() + "\n"  # --no-sidecars left it alone


def test_cli_single_image_and_bad_model_messages(tiny_tagger, pics, tmp_path, capsys):
    tiny = tiny_tagger("v2")
    assert main(["tag", str(pics / "p1.png"), "--model", str(tiny.onnx), "--json", str(tmp_path / "one.json")]) == 0
    out = capsys.readouterr().out
    want = select(tiny.expected(prepare(Image.open(pics / "p1.png"), 64)), tagging_model.read_labels(tiny.csv))
    assert out.splitlines()[0] == want.prompt() and f"rating: {want.rating}" in out
    assert json.loads((tmp_path / "one.json").read_text())["rating"] == want.rating
    assert main(["tag", str(pics), "--model", "wd-vit-tagger-v3"]) == 2
    err = capsys.readouterr().err
    assert "wd-vit-tagger-v3 (model.onnx, selected_tags.csv) is not on this machine" in err
    assert str(tmp_path / "home" / ".cache" / "udw" / "models" / "taggers") in err
    tiny.csv.write_text("tag_id,name,category,count\n0,only_one,0,1\n")
    assert main(["tag", str(pics), "--model", str(tiny.onnx)]) == 2
    assert "has 1 rows but model model.onnx outputs" in capsys.readouterr().err
    assert main(["tag", str(tmp_path / "nothing")]) == 2
    assert main(["tag", str(pics), "--general", "2"]) == 2


def test_stage_on_an_imported_dataset_cancels_and_resumes(tiny_tagger, pics, tmp_path):
    tiny = tiny_tagger("v3")
    ds = Dataset(tmp_path / "ds", create=True)
    import_images(ds, [pics])
    report = tag_dataset(ds, tiny.onnx, ports=Ports(cancelled=lambda: True), batch_size=4)
    assert report.cancelled and report.done == 4
    report = tag_dataset(ds, tiny.onnx, batch_size=4)
    assert report.done == 5 and report.already_done == 4 and not report.failed
    results = stored_results(ds)
    assert len(results) == 9 and all(r.rating for r in results.values())
    sidecars = sorted(p.name for p in (ds.root / "images").glob("*.tags"))
    assert len(sidecars) == 9 and not list(ds.root.rglob("*.udwtmp*"))


def test_index_in_place_is_idempotent(pics):
    ds, report = index_in_place(pics)
    assert report.added == 8
    shutil.copy(pics / "p0.png", pics / "new.png")
    ds, report = index_in_place(pics)
    assert report.added == 1 and report.already_there == 8 and ds.count() == 9
