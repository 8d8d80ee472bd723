"""Headless Chromium against the dataset browser (ComfyUI's JS over the /udw routes, served by the
fake ComfyUI's RouteTableDef) and against the standalone Gradio app.

Checked as a user sees it: the number of thumbnails, a filter changing it, a tag edit that
survives a reload, and metadata holding `<script>` / `"><img onerror=...>` shown as text.
Screenshots go to /tmp/udw-shots.
"""

import importlib.util
from pathlib import Path

import pytest
from PIL import Image
from udw_fixtures.patience import patience

from udw.core.manifest import Dataset
from udw.core.paths import Roots
from udw.gallery.geninfo import GenerationInfo
from udw.gallery.passes import Lora
from udw.gallery.meta_write import save_image

pytest.importorskip("aiohttp")
HERE = Path(__file__).resolve().parent
SHOTS = Path("/tmp/udw-shots")
EVIL_TAG = '"><img src=x onerror="window.__xss=1">'
EVIL_PROMPT = '<script>window.__xss=2</script> 1girl "><img src=x onerror="window.__xss=3">'


def helper(name):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evil_dataset(root: Path, make_image, n: int) -> int:
    """The browser test dataset plus one item whose tags and embedded metadata attack the page."""
    helper("test_gallery_browser").build_dataset(root, make_image, n=n)
    ds = Dataset(root)
    info = GenerationInfo(prompt=EVIL_PROMPT, negative="</pre><script>window.__xss=4</script>", seed=666, steps=20,
                          loras=[Lora("<b>lora</b>", 0.5, 0.25, "x/<b>lora</b>.safetensors")])
    save_image(Image.new("RGB", (96, 64), (30, 160, 200)), root / "images/others/evil.png", info)
    with ds.transaction() as conn:
        item = ds.add_item(conn, "images/others/evil.png", "evil", width=96, height=64, bucket="<b>bucket</b>")
        conn.execute("INSERT INTO tags VALUES(?,?,?,?)", (item, EVIL_TAG, "general", 0.7))
        conn.execute("INSERT INTO tags VALUES(?,?,?,?)", (item, "1girl", "general", 0.9))
        conn.execute("INSERT INTO faces VALUES(?,?,?,?,?,?,?,?,?,?)",
                     (item, 0, 10, 5, 40, 35, 0.9, "yolo", "<i>villain</i>", 0.9))
    return item


def shot(page, name, full=False):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full)


def no_xss(bp):
    assert bp.page.evaluate("window.__xss") is None
    assert not [d for d in bp.dialogs if d.startswith("alert")]
    assert bp.page.locator('img[src="x"]').count() == 0


# -- ComfyUI's browser (web/udw_browser_core.js) over the routes ---------------------------------
@pytest.fixture
def harness(comfy, make_image, tmp_path, monkeypatch):
    monkeypatch.setenv("UDW_CACHE_DIR", str(tmp_path / "cache"))
    root = comfy.base / "output" / "udw" / "ds"
    evil = evil_dataset(root, make_image, n=150)
    server = helper("browser_harness").HarnessServer(comfy.routes, dataset=str(root))
    yield server, root, evil
    server.close()


def expect(root, **kw):
    """What the service says a filter matches (the page must show the same)."""
    from udw.gallery.browser import BrowserService
    from udw.gallery.query import Filter

    return BrowserService(Roots(root.parent)).page(root.name, Filter(**kw)).total


def wait_info(page, n):
    page.wait_for_function(f"document.querySelector('[data-udw=info]').innerText.startsWith('{n:,} items')")


def scroll_to_end(page, total, timeout_s=60):
    """Scroll the grid down, as a user would, until all `total` tiles are there."""
    import time

    deadline = time.time() + patience(timeout_s)
    while page.locator(".udwb-tile").count() < total:
        assert time.time() < deadline, f"{page.locator('.udwb-tile').count()} of {total} tiles after scrolling"
        page.locator(".udwb-grid").evaluate("g => g.scrollTop = g.scrollHeight")
        page.wait_for_timeout(250)
    assert page.locator(".udwb-tile").count() == total


def wait_ready(page, after=0):
    page.wait_for_function(f"document.querySelector('.udwb')?.dataset.udwState === 'ready' && "
                           f"document.querySelectorAll('.udwb-tile').length > {after} - 1")


def test_route_browser_in_chromium(harness, chromium):
    server, root, evil = harness
    bp = chromium()
    page = bp.page
    page.goto(server.url)
    wait_ready(page)
    total = expect(root)
    assert page.locator(".udwb-tile").count() in (60, 120)   # a page (and the next, when in reach)
    assert page.locator("[data-udw=info]").inner_text().startswith(f"{total:,} items")
    page.wait_for_function("[...document.querySelectorAll('.udwb-tile img')].slice(0, 12).every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "browser_grid.png")
    scroll_to_end(page, total)  # infinite scroll: every item gets its tile
    page.fill("[data-udw=tags]", "1girl, -twintails")
    page.press("[data-udw=tags]", "Enter")
    n = expect(root, tags="1girl, -twintails")
    wait_info(page, n)
    assert page.locator(".udwb-tile").count() == n < 60
    page.select_option("[data-udw=character]", "rin")
    page.fill("[data-udw=tags]", "")
    page.press("[data-udw=tags]", "Enter")
    wait_info(page, expect(root, character="rin"))

    # the hostile item: tags, bucket, character and metadata render as text
    page.select_option("[data-udw=character]", "")
    page.fill("[data-udw=tags]", "1girl")
    page.press("[data-udw=tags]", "Enter")
    n = expect(root, tags="1girl")
    wait_info(page, n)
    scroll_to_end(page, n)
    page.locator(f'.udwb-tile[data-id="{evil}"]').click()
    page.wait_for_selector("[data-udw=detail]")
    assert page.locator(f'.udwb-chip[data-tag="{EVIL_TAG.replace(chr(34), chr(92) + chr(34))}"]').count() == 1
    assert EVIL_PROMPT in page.locator("[data-udw=meta]").inner_text()
    assert "<b>lora</b> (0.5, text encoder 0.25)" in page.locator("[data-udw=meta]").inner_text()
    assert "<i>villain</i>" in page.locator("[data-udw=face]").inner_text()
    page.locator("[data-udw=meta] summary").click()
    assert "</pre><script>" in page.locator("[data-udw=meta-raw]").inner_text()
    page.wait_for_function("document.querySelector('[data-udw=detail-img]').complete")
    shot(page, "browser_detail_xss.png")
    no_xss(bp)

    # a tag edit persists after a reload
    page.locator('.udwb-chip[data-tag="1girl"] button').click()
    page.fill("[data-udw=tag-add]", "armor, red eyes")
    page.press("[data-udw=tag-add]", "Enter")
    page.click("[data-udw=tag-save]")
    page.wait_for_function("document.querySelector('[data-udw=tag-status]')?.innerText.startsWith('saved')")
    page.reload()
    wait_ready(page)
    page.fill("[data-udw=tags]", "armor")
    page.press("[data-udw=tags]", "Enter")
    wait_info(page, 1)
    page.locator(".udwb-tile").first.click()
    page.wait_for_selector("[data-udw=detail] .udwb-chip")
    chips = page.locator("[data-udw=chips] .udwb-chip").evaluate_all("cs => cs.map(c => c.dataset.tag)")
    assert set(chips) == {EVIL_TAG, "armor", "red eyes"}
    page.keyboard.press("Escape")
    assert page.locator("[data-udw=detail]").count() == 0
    no_xss(bp)
    assert not bp.errors, bp.errors


def test_route_browser_batch_and_move(harness, chromium):
    server, root, _ = harness
    bp = chromium(1000, 800)
    page = bp.page
    page.goto(server.url)
    wait_ready(page)
    page.select_option("[data-udw=character]", "saber")
    n = expect(root, character="saber")
    wait_info(page, n)
    page.click("text=Batch edit…")
    page.select_option("[data-udw=batch-op]", "add")
    page.fill("[data-udw=batch-arg1]", "excalibur")
    page.click("[data-udw=batch-preview]")
    page.wait_for_function(f"document.querySelector('[data-udw=batch-out]').innerText.includes('would change {n} items')")
    page.click("[data-udw=batch-apply]")  # confirm() is accepted by the fixture
    page.wait_for_function(f"document.querySelector('[data-udw=batch-out]').innerText.startsWith('changed {n} items')")
    assert any(d.startswith("confirm") for d in bp.dialogs)
    assert "excalibur" in (root / "images/saber/f000.txt").read_text()
    page.locator(".udwb-tile").first.click()
    page.wait_for_selector("[data-udw=move-character]")
    page.fill("[data-udw=move-character]", "arturia")
    page.click("[data-udw=move]")
    page.wait_for_function("document.querySelector('[data-udw=detail] .udwb-title').innerText.includes('arturia')")
    assert (root / "images/arturia/f000.png").exists()
    shot(page, "browser_narrow_detail.png")
    assert not bp.errors, bp.errors


# -- the standalone Gradio app ------------------------------------------------------------------
@pytest.fixture
def gradio_app(tmp_path, make_image):
    gr = pytest.importorskip("gradio")
    from udw.ui import UiHost, build_blocks

    root = tmp_path / "root"
    evil = evil_dataset(root / "ds", make_image, n=12)
    blocks = build_blocks(UiHost("standalone", Roots(root), thumb_dir=str(tmp_path / "thumbs")))
    blocks.queue()
    port = helper("browser_harness").free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", root, evil, gr
    blocks.close()


def open_browser_tab(page, url):
    page.goto(url)
    page.get_by_role("tab", name="Gallery").click()
    page.get_by_role("tab", name="Browser").click()
    page.locator("#udw_browser_dataset textarea, #udw_browser_dataset input").first.fill("ds")
    page.click("#udw_browser_open")


def gallery_count(page, n):
    page.wait_for_function(f"document.querySelectorAll('#udw_browser_gallery img').length === {n}")


def test_gradio_browser_in_chromium(gradio_app, chromium):
    url, root, evil, _ = gradio_app
    bp = chromium()
    page = bp.page
    open_browser_tab(page, url)
    gallery_count(page, 12)
    assert "12 items" in page.locator("#udw_browser_info").inner_text()
    shot(page, "gradio_browser.png", full=True)
    tags = page.locator("#udw_browser_tags textarea, #udw_browser_tags input").first
    tags.fill("1girl, -twintails")
    page.click("#udw_browser_filter")
    gallery_count(page, 4)
    page.locator("#udw_browser_gallery img").nth(3).click()   # the hostile item, by selecting it
    page.wait_for_function("document.querySelector('#udw_browser_detail').innerText.includes('evil.png')")
    detail = page.locator("#udw_browser_detail").inner_text()
    assert EVIL_TAG in detail and EVIL_PROMPT in detail and "<b>bucket</b>" in detail
    assert "<b>lora</b> (0.5, text encoder 0.25) file x/<b>lora</b>.safetensors" in detail  # as text
    shot(page, "gradio_detail_xss.png", full=True)
    no_xss(bp)
    box = page.locator("#udw_browser_item_tags textarea").first
    box.fill(box.input_value() + ", armor")
    page.click("#udw_browser_save")
    page.wait_for_function("document.querySelector('#udw_browser_edit_status').innerText.includes('Saved')")
    page.reload()
    open_browser_tab(page, url)
    gallery_count(page, 12)
    page.locator("#udw_browser_item_id textarea, #udw_browser_item_id input").first.fill(str(evil))
    page.click("#udw_browser_show")
    page.wait_for_function("document.querySelector('#udw_browser_item_tags textarea').value.includes('armor')")
    no_xss(bp)
    real_errors = [e for e in bp.errors if "favicon" not in e]
    assert not real_errors, real_errors
