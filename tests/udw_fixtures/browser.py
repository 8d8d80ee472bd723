"""Headless Chromium through Playwright (Debian's /usr/bin/chromium; never `playwright install`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .patience import patience

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class BrowserPage:
    """A page plus what it reported: page errors, console errors, and dialogs (alert = XSS)."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status} {r.url}"))

        def dialog(d):
            self.dialogs.append(f"{d.type}: {d.message}")
            d.accept() if d.type == "confirm" else d.dismiss()

        page.on("dialog", dialog)


@pytest.fixture
def chromium(tmp_path):
    """new_page(width, height) -> BrowserPage in a fresh headless Chromium profile."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (uses the system chromium)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(tmp_path / "chromium-profile"), executable_path=CHROMIUM,
                                                   headless=True, args=CHROMIUM_FLAGS,
                                                   viewport={"width": 1400, "height": 900})
        # Every wait polls for its state; how long it may take scales with the machine's load.
        ctx.set_default_timeout(patience(60) * 1000)

        def new_page(width: int = 1400, height: int = 900) -> BrowserPage:
            page = ctx.new_page()
            page.set_viewport_size({"width": width, "height": height})
            return BrowserPage(page)

        yield new_page
        ctx.close()
