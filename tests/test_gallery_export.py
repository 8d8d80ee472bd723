"""`udw gallery`: static HTML + Markdown pages; hostile names and metadata stay text."""

import html.parser
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from udw.core.manifest import Dataset
from udw.gallery.export import export_gallery
from udw.gallery.geninfo import GenerationInfo
from udw.gallery.meta_write import save_image
from udw.gallery.pages import VIEWER
from udw.gallery.thumbs import ThumbCache

EVIL = '<script>alert(1)</script> "><img src=x onerror=alert(2)> [x](javascript:alert(3)) **b** & |t|'
REPO = Path(__file__).resolve().parents[1]


class Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(text):
    c = Collect()
    c.feed(text)
    return c


def generated_folder(root: Path) -> Path:
    looks = {"tv frames": "16:9 frame", "key visuals": "key visual", EVIL[:20].replace("/", "_"): "concept art"}
    for k, (folder, look) in enumerate(looks.items()):
        for i in range(2):
            info = GenerationInfo(prompt=f"1girl, saber, look {i} " + (EVIL if k == 2 else ""), seed=1000 * k + i,
                                  steps=20, cfg=7, sampler="euler", width=64, height=40, params={"Look": look})
            save_image(Image.new("RGB", (64, 40), (40 * k, 90, 30 * i)), root / folder / f"img #{i} 'q'.png", info)
    Image.new("RGB", (30, 30)).save(root / "plain.png")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    return root


def test_folder_gallery_pages(tmp_path):
    src = generated_folder(tmp_path / "gen")
    report = export_gallery(src, tmp_path / "site", cache=ThumbCache(tmp_path / "cache", size=64))
    assert report.images == 8 and report.sections == 4 and report.copied == 8
    page = report.html.read_text()
    doc = parse(page)
    assert doc.tags.count("script") == 1 and VIEWER in page  # only the page's own image viewer
    assert not any(k.startswith("on") for _, k, _ in doc.attrs)
    assert EVIL.split(" [x]")[0] in "".join(doc.text)        # shown as text
    imgs = [v for t, k, v in doc.attrs if t == "img" and k == "src"]
    links = [v for t, k, v in doc.attrs if t == "a" and k == "href" and not v.startswith("#")]
    assert len(imgs) == 8 and len(links) == 8
    for rel in imgs + links:
        assert (tmp_path / "site" / unquote(rel)).is_file(), rel
    assert "seed 1001" in page and "key visuals" in page
    assert not list((tmp_path / "site").rglob("*.udwtmp*"))
    again = export_gallery(src, tmp_path / "site", cache=ThumbCache(tmp_path / "cache", size=64))
    assert again.copied == 0  # unchanged files are not copied again


def test_markdown_renders_safely_with_mkdocs_extensions(tmp_path):
    markdown = pytest.importorskip("markdown")
    src = generated_folder(tmp_path / "gen")
    report = export_gallery(src, tmp_path / "site", group_by="look", cache=ThumbCache(tmp_path / "c", size=64))
    text = report.markdown.read_text()
    body = text.split("---", 2)[2]
    rendered = markdown.markdown(body, extensions=["attr_list", "md_in_html"])
    doc = parse(rendered)
    assert "script" not in doc.tags and not any(k.startswith("on") for _, k, _ in doc.attrs)
    assert not any(k == "href" and "javascript" in v for _, k, v in doc.attrs)
    assert {"16:9 frame", "key visual", "concept art"} <= {t.strip() for t in doc.text}  # sections by look
    imgs = [v for t, k, v in doc.attrs if t == "img" and k == "src"]
    assert len(imgs) == 8 and all((tmp_path / "site" / unquote(v)).is_file() for v in imgs)
    assert ("img", "loading", "lazy") in doc.attrs
    assert "<script>" in "".join(doc.text)  # the prompt text itself survived, as text


def build_ds(root: Path, make_image) -> Dataset:
    ds = Dataset.open_or_create(root)
    with ds.transaction() as conn:
        for i in range(6):
            rel = f"images/{EVIL[:8].replace('/', '_')}/f{i}.png"
            make_image(root / rel, i)
            item = ds.add_item(conn, rel, f"k{i}", bucket=["face_0-25", "face_25-50"][i % 2])
            conn.execute("INSERT INTO tags VALUES(?,?,?,?)", (item, "1girl" if i < 4 else "scenery", "general", 0.9))
            conn.execute("INSERT INTO tags VALUES(?,?,?,?)", (item, EVIL, "general", 0.5))
        ds.add_item(conn, "../../outside.png", "evil")  # a crafted row: never copied
    return ds


def test_dataset_gallery_by_bucket_with_filter_and_limit(tmp_path, make_image):
    build_ds(tmp_path / "ds", make_image)
    (tmp_path / "outside.png").write_bytes(b"secret")
    report = export_gallery(tmp_path / "ds", tmp_path / "site", tags="1girl", limit=1,
                            cache=ThumbCache(tmp_path / "c", size=64))
    assert report.sections == 2 and report.images == 2
    page = report.html.read_text()
    assert "face_0-25" in page and "1 more not shown" in page
    doc = parse(page)
    assert doc.tags.count("script") == 1 and VIEWER in page and "secret" not in page
    assert not list((tmp_path / "site").rglob("outside.png"))


def test_cli_gallery_meta_and_tags(tmp_path, make_image):
    src = generated_folder(tmp_path / "gen")
    env_py = [sys.executable, "-m", "udw.cli", "-q"]
    run = lambda *a: subprocess.run([*env_py, *a], capture_output=True, text=True, cwd=REPO,
                                    env={"UDW_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"})
    res = run("gallery", str(src), "-o", str(tmp_path / "site"), "--title", "UDW samples")
    assert res.returncode == 0, res.stderr
    assert "8 images in 4 sections" in res.stdout and (tmp_path / "site/index.md").exists()
    res = run("meta", "--json", str(src / "key visuals" / "img #1 'q'.png"), str(src / "broken.png"))
    data = json.loads(res.stdout)
    assert data[0]["info"]["seed"] == 1001 and data[1]["info"] is None and data[1]["warnings"]
    res = run("meta", str(tmp_path / "nope.png"))
    assert res.returncode == 2 and "not found" in res.stderr
    build_ds(tmp_path / "ds", make_image)
    res = run("tags", str(tmp_path / "ds"), "replace", "1girl", "solo girl", "--where", "1girl", "--dry-run")
    assert res.returncode == 0 and "would change 4 items" in res.stdout
    res = run("tags", str(tmp_path / "ds"), "add", "anishot", "--bucket", "face_0-25")
    assert "changed 3 items" in res.stdout
    res = run("gallery", str(tmp_path / "nothing"), "-o", str(tmp_path / "s2"))
    assert res.returncode == 2 and "does not exist" in res.stderr
