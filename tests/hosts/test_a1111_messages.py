"""What a user of the UDW tab in a real A1111 sees when something is refused or skipped.

A path outside the allowed folders and a build whose tag step has no model must leave readable,
lasting messages in the tab (not a fading toast, no literal `\\n`), print no traceback into the
console, and show one progress bar while the build runs. The folders UDW may use are set in
A1111's Settings (UDW Studio section). Screenshots: UDW_SCREENSHOT_DIR.
"""

import pytest

from udw.samples import generate_samples

from .conftest import REPO, poll, shots_dir, time_scale

pytestmark = pytest.mark.host

# The largest number of progress bars visible at once in the UDW tab, counted while a build runs.
WATCH_BARS = """() => {
  window.udwMaxBars = 0;
  const count = () => {
    const tab = document.querySelector('#tab_udw_studio');
    const bars = [...(tab?.querySelectorAll('.progress-bar, .progress-level-inner') || [])]
      .filter((b) => b.offsetParent !== null && !b.closest('.progress-level-inner + *'));
    const wraps = new Set(bars.map((b) => b.closest('.wrap') || b));
    window.udwMaxBars = Math.max(window.udwMaxBars, wraps.size);
  };
  new MutationObserver(count).observe(document.body, { subtree: true, childList: true, attributes: true });
}"""


def open_build(page, url):
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#txt2img_prompt textarea", timeout=180_000 * time_scale())
    page.locator("#tabs > .tab-nav > button", has_text="UDW").first.click()
    page.locator("#tab_udw_studio .tab-nav > button", has_text="Build").first.click()


def build(page, source, dataset):
    page.fill("#udw_build_source textarea", source)
    page.fill("#udw_build_dataset textarea", dataset)
    page.fill("#udw_build_export textarea", "")
    page.click("#udw_build_btn")


def test_refused_path_and_skipped_step_are_lasting_messages(a1111, chromium, tmp_path):
    log_start = len(a1111.log_text())
    elsewhere = tmp_path / "my_episodes"  # outside outputs/udw and the webui folder
    generate_samples(elsewhere, episodes=1, duration_s=2.0, width=320, height=180)
    bp = chromium(1500, 1100)
    page = bp.page
    open_build(page, a1111.url)

    # 1. a path outside the allowed folders: a red message that says where to add folders
    build(page, str(elsewhere), "msg_refused")
    page.wait_for_selector("#udw_build_status [data-udw=error]", timeout=120_000 * time_scale())
    error = page.inner_text("#udw_build_status [data-udw=error]")
    assert "outside the allowed folders" in error and "Settings → UDW Studio" in error
    assert "\\n" not in error
    page.screenshot(path=str(shots_dir() / "a1111_refused_path.png"), full_page=True)
    # lasting: still there after visiting another section and coming back
    page.locator("#tab_udw_studio .tab-nav > button", has_text="Dataset").first.click()
    page.locator("#tab_udw_studio .tab-nav > button", has_text="Build").first.click()
    assert page.is_visible("#udw_build_status [data-udw=error]")
    assert page.locator(".toast-body.error").count() == 0  # no gradio error toast

    # 2. the folder added in A1111's Settings is accepted at once
    status, _ = a1111.post("/sdapi/v1/options", {"udw_roots": str(tmp_path)})
    assert status == 200

    # 3. a build with no tagger: the skipped step is an amber box with what to do; one progress bar
    page.evaluate(WATCH_BARS)
    build(page, str(elsewhere), "msg_built")
    page.wait_for_function("document.querySelector('#udw_build_status').innerText.includes('open ')",
                           timeout=600_000 * time_scale())
    warning = page.inner_text("#udw_build_status [data-udw=warning]")
    assert "step(s) skipped" in warning and "tag" in warning and "udw/taggers" in warning
    assert not page.is_visible("#udw_build_status [data-udw=error]")
    page.screenshot(path=str(shots_dir() / "a1111_skipped_step.png"), full_page=True)
    assert page.evaluate("window.udwMaxBars") == 1  # one bar was seen, never two
    poll(lambda: page.locator("#udw_build_grid img").count() == 1, 60, "the dataset grid")

    # 4. expected errors print no traceback into A1111's console
    # (A1111 itself prints one when a page loads without any checkpoint: not ours)
    log = a1111.log_text()[log_start:]
    frames = [line for line in log.splitlines() if line.lstrip().startswith('File "')]
    ours = [line for line in frames if "udw" in line.lower() or str(REPO) in line]
    assert not ours, ours
    assert not bp.dialogs
