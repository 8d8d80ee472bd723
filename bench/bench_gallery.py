"""Dataset browser at 100k items: first page and filter times, server side and in the page, and
the thumbnail cache hit rate on a second visit.

    python bench/bench_gallery.py [--n 100000] [--root /tmp/udw-bench100k] [--no-browser]

Baseline ("naive SQL"): the same filters as plain SQL over the manifest (`query.where`: IN
sub-queries on the tag index, COUNT + LIMIT/OFFSET), which is what a straightforward browser
does; ours resolves filters as cached numpy id sets (udw/gallery/idsets.py). Goals: first page
< 1 s, filter < 300 ms server side. The dataset is generated (bench/gallery_data.py) and kept
for re-runs; the thumbnail cache is fresh for each run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gallery_data import build

from udw.core.manifest import MANIFEST_NAME, Dataset
from udw.core.paths import Roots
from udw.gallery.browser import BrowserService
from udw.gallery.query import Filter, where
from udw.gallery.thumbs import ThumbCache

REPO = Path(__file__).resolve().parents[1]
FILTERS = [
    ("common tag", {"tags": "1girl"}),
    ("AND + NOT", {"tags": "1girl, blonde hair, -smile"}),
    ("OR of rare tags", {"tags": "tag0500|tag1500"}),
    ("wildcard", {"tags": "* hair"}),
    ("character", {"character": "char05"}),
    ("no character", {"character": "(none)"}),
    ("bucket + tag + character", {"tags": "1girl", "character": "char05", "bucket": "face_height_ratio_25-50"}),
    ("episode", {"episode": "show2/05"}),
]


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def naive_page(ds: Dataset, f: Filter, limit: int = 60) -> tuple[int, float]:
    t0 = time.perf_counter()
    cond, args = where(f)
    with ds.db() as conn:
        conn.execute(f"SELECT i.id, i.path FROM items i WHERE {cond} ORDER BY i.id LIMIT ?", [*args, limit]).fetchall()
        total = conn.execute(f"SELECT COUNT(*) FROM items i WHERE {cond}", args).fetchone()[0]
    return total, ms(t0)


def server_side(root: Path, thumbs: Path) -> dict:
    svc = BrowserService(Roots(root.parent), ThumbCache(thumbs))
    ds = svc.dataset(root.name)
    out = {}
    t0 = time.perf_counter()
    first = svc.page(root.name, Filter())
    out["first page (cold service)"] = ms(t0)
    t0 = time.perf_counter()
    svc.facets(root.name)
    out["facets (cold)"] = ms(t0)
    print(f"\n== server side, {first.total:,} active items ==")
    print(f"first page, cold service: {out['first page (cold service)']:.0f} ms   facets: {out['facets (cold)']:.0f} ms")
    print(f"{'filter':28} {'matches':>8} {'ours cold':>10} {'ours warm':>10} {'naive SQL':>10} {'ratio':>7}")
    ours_cold, ours_warm, naive = [], [], []
    for name, kw in FILTERS:
        f = Filter(**kw)
        t0 = time.perf_counter()
        page = svc.page(root.name, f)
        cold = ms(t0)
        warm = min(_timed(lambda: svc.page(root.name, f, offset=60)) for _ in range(3))
        total, base = naive_page(ds, f)
        assert total == page.total, (name, total, page.total)
        ours_cold.append(cold), ours_warm.append(warm), naive.append(base)
        print(f"{name:28} {page.total:>8,} {cold:>8.0f}ms {warm:>8.0f}ms {base:>8.0f}ms {base / max(cold, 0.01):>6.1f}x")
    out.update(filter_cold_median=statistics.median(ours_cold), filter_cold_max=max(ours_cold),
               filter_warm_median=statistics.median(ours_warm), naive_median=statistics.median(naive),
               naive_max=max(naive))
    print(f"median filter: ours {out['filter_cold_median']:.0f} ms cold / {out['filter_warm_median']:.0f} ms warm, "
          f"naive SQL {out['naive_median']:.0f} ms -> {out['naive_median'] / out['filter_cold_median']:.1f}x faster "
          f"(max: ours {out['filter_cold_max']:.0f} ms, naive {out['naive_max']:.0f} ms)")

    # thumbnails of the first page: cold, then a second visit
    ids = [i["id"] for i in first.items]
    t0 = time.perf_counter()
    svc.thumbs_many(root.name, ids)
    cold = ms(t0)
    before = (svc.thumbs.stats.hits, svc.thumbs.stats.misses)
    t0 = time.perf_counter()
    svc.thumbs_many(root.name, ids)
    warm = ms(t0)
    hits, misses = svc.thumbs.stats.hits - before[0], svc.thumbs.stats.misses - before[1]
    out.update(thumbs_cold_ms=cold, thumbs_warm_ms=warm, second_visit_hit_rate=hits / max(hits + misses, 1))
    print(f"first-page thumbnails (60, 640x360 PNG): {cold:.0f} ms cold, {warm:.0f} ms on a second visit "
          f"(hit rate {out['second_visit_hit_rate']:.0%})")
    return out


def batch_edits(root: Path) -> dict:
    """Batch tag edits on a copy of the manifest (the generated dataset stays as built)."""
    with tempfile.TemporaryDirectory(prefix="udw-bench-edit-") as tmp:
        shutil.copy(root / MANIFEST_NAME, Path(tmp) / MANIFEST_NAME)
        svc = BrowserService(Roots(tmp))
        ds_name = "."
        out = {}
        print("\n== batch tag edits (manifest copy, no sidecars) ==")
        for name, f, op, a1, a2 in (("add to '1girl'", Filter(tags="1girl"), "add", "anishot", ""),
                                    ("replace over all", Filter(status="any"), "replace", "blonde hair", "yellow hair"),
                                    ("regex over 'char05'", Filter(character="char05"), "regex", r"^tag0(\d+)$", r"t\1")):
            t0 = time.perf_counter()
            dry = svc.batch_edit(ds_name, f, op, a1, a2, dry_run=True)
            t_dry = ms(t0)
            t0 = time.perf_counter()
            rep = svc.batch_edit(ds_name, f, op, a1, a2)
            t_apply = ms(t0)
            assert rep.items == dry.items
            out[name] = (rep.items, t_dry, t_apply)
            print(f"{name:22} {rep.items:>7,} items: preview {t_dry:.0f} ms, apply {t_apply:.0f} ms")
        return out


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return ms(t0)


def in_the_page(root: Path, cache: Path) -> dict:
    """The ComfyUI browser (web/udw_browser_core.js) over the /udw routes, in headless Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("\n(in-page timings skipped: pip install playwright)")
        return {}
    conftest = _load(REPO / "tests" / "conftest.py", "udw_bench_conftest")
    harness_mod = _load(REPO / "tests" / "browser_harness.py", "udw_bench_harness")
    import pytest

    os.environ["UDW_ROOTS"] = str(root.parent)
    os.environ["UDW_CACHE_DIR"] = str(cache)
    mp = pytest.MonkeyPatch()
    base = Path(tempfile.mkdtemp(prefix="udw-bench-comfy-"))
    comfy = conftest.FakeComfy(base, mp)
    server = harness_mod.HarnessServer(comfy.routes, dataset=str(root))
    gallery_nodes = sys.modules[comfy.pack.__name__ + ".nodes.gallery_nodes"]
    out = {}
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(str(base / "profile"), executable_path=conftest.CHROMIUM,
                                                       headless=True, args=conftest.CHROMIUM_FLAGS,
                                                       viewport={"width": 1400, "height": 900})
            page = ctx.new_page()
            page.add_init_script("""window.udwPages = [];
              document.addEventListener('udw-browser-page', e => window.udwPages.push(e.detail), true);""")
            visits = []
            for visit in ("first visit", "second visit"):
                if visit == "second visit":  # a new browser profile: every thumbnail asks the server
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(1500)
                    page.close()
                    ctx.close()
                    ctx = p.chromium.launch_persistent_context(
                        str(base / "profile2"), executable_path=conftest.CHROMIUM, headless=True,
                        args=conftest.CHROMIUM_FLAGS, viewport={"width": 1400, "height": 900})
                    page = ctx.new_page()
                    page.add_init_script("""window.udwPages = [];
                      document.addEventListener('udw-browser-page', e => window.udwPages.push(e.detail), true);""")
                    stats = gallery_nodes.browser_service().thumbs.stats
                    first_stats = (stats.hits, stats.misses)
                t0 = time.perf_counter()
                page.goto(server.url)
                page.wait_for_function("window.udwPages.length >= 1", timeout=120_000)
                d = page.evaluate("window.udwPages[0]")
                d["load_to_thumbs_ms"] = ms(t0)
                visits.append(d)
                print(f"\n== in the page ({visit}) ==\nfirst page: server {d['serverMs']:.0f} ms, rendered "
                      f"{d['renderedMs']:.0f} ms, visible thumbnails loaded {d['imagesMs']:.0f} ms after the "
                      f"request ({d['load_to_thumbs_ms']:.0f} ms from navigation)")
                stats = gallery_nodes.browser_service().thumbs.stats
                print(f"thumbnail cache so far: {stats.hits} hits, {stats.misses} misses")
            page.wait_for_load_state("networkidle")
            hits = stats.hits - first_stats[0]
            misses = stats.misses - first_stats[1]
            out["page_second_visit_hit_rate"] = hits / max(hits + misses, 1)
            print(f"second visit thumbnail hit rate: {out['page_second_visit_hit_rate']:.0%} ({hits} hits, {misses} misses)")
            filters = []
            for name, kw in FILTERS[:5]:
                page.evaluate("window.udwPages = []")
                # the same path as typing a filter and pressing Enter: state, then refresh()
                page.evaluate("f => { window.udwBrowser.state.filter = {status: 'active', ...f};"
                              " window.udwBrowser.refresh(); }", kw)
                page.wait_for_function("window.udwPages.length >= 1", timeout=120_000)
                d = page.evaluate("window.udwPages[0]")
                filters.append(d)
                print(f"filter {name:16} {d['total']:>7,} items: server {d['serverMs']:.0f} ms, shown "
                      f"{d['renderedMs']:.0f} ms, visible thumbnails {d['imagesMs']:.0f} ms")
            out["page_first_visit"] = visits[0]
            out["page_filter_rendered_median"] = statistics.median(f["renderedMs"] for f in filters)
            out["page_filter_images_median"] = statistics.median(f["imagesMs"] for f in filters)
            page.screenshot(path="/tmp/udw-shots/bench_100k.png")
            ctx.close()
    finally:
        server.close()
        mp.undo()
        shutil.rmtree(base, ignore_errors=True)
    return out


def gradio_app(root: Path, cache: Path) -> dict:
    """The standalone app's Browser tab in Chromium: click, then wait until the gallery shows
    all 48 thumbnails of the page (query, thumbnails, gradio's file handling, image loads)."""
    try:
        from playwright.sync_api import sync_playwright

        from udw.ui import UiHost, build_blocks
    except ImportError:
        print("\n(gradio timings skipped: gradio or playwright is not installed)")
        return {}
    conftest = _load(REPO / "tests" / "conftest.py", "udw_bench_conftest2")
    harness_mod = _load(REPO / "tests" / "browser_harness.py", "udw_bench_harness2")
    blocks = build_blocks(UiHost("standalone", Roots(root.parent), thumb_dir=str(cache)))
    blocks.queue()
    port = harness_mod.free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    out = {}
    shown = ("[...document.querySelectorAll('#udw_browser_gallery img')].filter(i => i.complete && "
             "i.naturalWidth > 0).length === __N__ && document.querySelector('#udw_browser_info').innerText.includes('__T__')")
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory() as prof:
            ctx = p.chromium.launch_persistent_context(prof, executable_path=conftest.CHROMIUM, headless=True,
                                                       args=conftest.CHROMIUM_FLAGS, viewport={"width": 1400, "height": 900})
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name="Gallery").click()
            page.get_by_role("tab", name="Browser").click()
            page.locator("#udw_browser_dataset textarea, #udw_browser_dataset input").first.fill(root.name)
            print("\n== standalone Gradio app in Chromium (48 thumbnails per page) ==")
            svc = BrowserService(Roots(root.parent))
            steps = [("open, cold thumbnails", "", "#udw_browser_open"), ("open again, cached", "", "#udw_browser_open"),
                     ("filter '1girl, -smile'", "1girl, -smile", "#udw_browser_filter"),
                     ("filter 'tag0500|tag1500'", "tag0500|tag1500", "#udw_browser_filter")]
            for label, tags, button in steps:
                total = svc.page(root.name, Filter(tags=tags)).total
                page.locator("#udw_browser_tags textarea, #udw_browser_tags input").first.fill(tags)
                t0 = time.perf_counter()
                page.click(button)
                page.wait_for_function(shown.replace("__N__", str(min(48, total))).replace("__T__", f"{total:,} items"),
                                       timeout=120_000)
                out[label] = ms(t0)
                print(f"{label:28} {total:>7,} items: thumbnails shown after {out[label]:.0f} ms")
            page.screenshot(path="/tmp/udw-shots/bench_gradio.png")
            ctx.close()
    finally:
        blocks.close()
    return out


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--root", default=str(Path(tempfile.gettempdir()) / "udw-bench100k"))
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    root = Path(args.root)
    if not (root / MANIFEST_NAME).exists() or Dataset(root).count(None) != args.n:
        shutil.rmtree(root, ignore_errors=True)
        build(root, args.n)
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    Path("/tmp/udw-shots").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="udw-bench-thumbs-") as thumbs:
        res = server_side(root, Path(thumbs) / "svc")
        batch_edits(root)
        if not args.no_browser:
            res.update(in_the_page(root, Path(thumbs) / "page"))
            res.update(gradio_app(root, Path(thumbs) / "gradio"))
    ok_first = res["first page (cold service)"] < 1000
    ok_filter = res["filter_cold_median"] < 300
    print(f"\nsummary: first page {res['first page (cold service)']:.0f} ms (goal < 1000: {'met' if ok_first else 'MISSED'}), "
          f"filter median {res['filter_cold_median']:.0f} ms cold / {res['filter_warm_median']:.0f} ms warm "
          f"(goal < 300: {'met' if ok_filter else 'MISSED'}); vs naive SQL "
          f"{res['naive_median'] / res['filter_cold_median']:.1f}x; thumbnail hit rate on a second visit "
          f"{res['second_visit_hit_rate']:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
