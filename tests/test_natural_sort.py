"""Frames sort by number everywhere: file lists, import order, the browser's path order, the page."""

from PIL import Image

from udw.core.inputs import expand_inputs
from udw.core.manifest import Dataset
from udw.core.text import natural_sorted, plural
from udw.dataset.ingest import import_images
from udw.gallery.export import export_gallery
from udw.gallery.idsets import IdSets
from udw.gallery.query import Filter

NAMES = ["EP01_1.png", "EP01_2.png", "EP01_10.png", "EP01_12.png", "ep02_1.png"]


def frames(folder):
    folder.mkdir(parents=True)
    for n, name in enumerate(reversed(NAMES)):
        Image.new("RGB", (16, 16), (n * 40, 0, 0)).save(folder / name)
    return folder


def test_natural_order_and_counts():
    assert natural_sorted(["b_10", "b_9", "A_1", "b_1"]) == ["A_1", "b_1", "b_9", "b_10"]
    assert plural(1, "folder") == "1 folder" and plural(3, "folder") == "3 folders"


def test_inputs_import_browser_and_page_follow_frame_numbers(tmp_path):
    src = frames(tmp_path / "src")
    assert [p.name for p in expand_inputs([src], {".png"})] == NAMES
    ds = Dataset.open_or_create(tmp_path / "ds")
    import_images(ds, [src])
    by_id = [it.path.rsplit("/", 1)[-1] for it in ds.items()]
    assert by_id == NAMES
    sets = IdSets(ds)
    ranked = [int(i) for i in sets.ordered(sets.resolve(Filter()), "path")]
    assert [it.path.rsplit("/", 1)[-1] for it in ds.items(ids=ranked)] == NAMES
    export_gallery(src, tmp_path / "site")
    page = (tmp_path / "site" / "index.html").read_text()
    assert [page.index(n.removesuffix(".png")) for n in NAMES] == sorted(page.index(n.removesuffix(".png"))
                                                                         for n in NAMES)

