"""The gallery page as a user sees it in headless Chromium: 16:9 frames in cards of their own aspect
(no grey bars), a click opens the image large with its caption and tags, and the page says which build
steps were skipped. Screenshots: /tmp/udw-shots."""

from pathlib import Path

from udw.gallery.export import export_gallery
from udw.testing.frame_datasets import frames_dataset

SHOTS = Path("/tmp/udw-shots")


def test_page_cards_viewer_and_skipped_steps(tmp_path, make_image, chromium):
    frames_dataset(tmp_path / "ds", make_image, [f"EP01_{i}" for i in range(1, 7)], size=(320, 180), tags=["1girl"])
    report = export_gallery(tmp_path / "ds", tmp_path / "site", link=True,
                            notes=["faces step skipped: no face detector (put lbpcascade_animeface.xml "
                                   "into models/udw_detectors)"])
    bp = chromium(1200, 900)
    page = bp.page
    page.goto(report.html.as_uri())
    page.wait_for_function("document.images.length > 1 && document.images[1].complete && document.images[1].naturalWidth > 0")
    assert "faces step skipped" in page.inner_text("#skipped")
    ratios = page.locator("figure a.img").evaluate_all(
        "links => links.map(a => a.getBoundingClientRect().width / a.getBoundingClientRect().height)")
    assert ratios and all(abs(r - 16 / 9) < 0.05 for r in ratios), ratios  # the card is the frame's shape
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "gallery_page.png"))
    page.locator("figure a.img").nth(1).click()
    page.wait_for_selector("#view.open img")
    page.wait_for_function("document.querySelector('#view img').naturalWidth === 320")
    caption = page.inner_text("#view .cap")
    assert "EP01_2.png" in caption and "1girl" in caption
    page.screenshot(path=str(SHOTS / "gallery_page_view.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector("#view.open", state="detached")
    assert not bp.errors and not bp.dialogs


def test_build_page_lists_the_skipped_steps(tmp_path, make_image, monkeypatch):
    """A build whose tag step has no model: its gallery page says so at the top."""
    from udw.core.ports import Ports
    from udw.dataset.build import build_dataset

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("UDW_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("HOME", str(tmp_path))  # no user model cache either
    for i in range(4):
        make_image(tmp_path / "pics" / f"p{i}.png", i, size=(160, 90))
    report = build_dataset(tmp_path / "ds", [tmp_path / "pics"], ["frames", "tag", "gallery"], Ports(), strict=False)
    assert report.status("tag").status == "skipped"
    page = report.gallery.read_text()
    assert 'id="skipped"' in page and "tag step skipped" in page
