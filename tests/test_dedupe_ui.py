"""The Dedupe section of the shared Blocks, driven over HTTP like the other sections."""


import re
import pytest

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from udw.core.manifest import Dataset  # noqa: E402
from udw.core.paths import Roots  # noqa: E402
from udw.dedupe.synthetic import write_set  # noqa: E402
from udw.ui import UiHost  # noqa: E402
from udw.testing.ui import shown_error


@pytest.fixture
def served(tmp_path, serve_ui):
    root = tmp_path / "root"
    write_set(root / "pics", scenes=5, variants_per_scene=2, negatives=1, seed=6, size=(160, 90))
    client = serve_ui(UiHost("standalone", Roots(root)))
    yield root, client


def test_dedupe_dry_run_and_undo_over_http(served):
    root, client = served
    args = ["pics", "structure", 0.96, "sharpest", "direct", "move", "", "pics/truth.json"]
    status, preview = client.predict(*args, api_name="/udw_dedupe_dry_run")
    assert "would remove" in status and "removal" in status and preview
    assert Dataset(root / "pics").count("duplicate") == 0
    status, _ = client.predict(*args, api_name="/udw_dedupe")
    assert "moved" in status and (root / "pics" / "duplicates").is_dir()
    status = client.predict("pics", api_name="/udw_dedupe_undo")
    assert "restored" in status and not (root / "pics" / "duplicates").exists()


def test_bad_threshold_and_paths_are_refused(served, tmp_path):
    _, client = served
    result = client.predict(str(tmp_path), "structure", 0.96, "sharpest", "direct", "mark", "", "", api_name="/udw_dedupe")
    assert "outside the allowed folders" in shown_error(result)
    try:
        result = client.predict("pics", "phash", 0.2, "sharpest", "direct", "mark", "", "", api_name="/udw_dedupe")
    except Exception as exc:  # the slider's own check refuses it before ours
        assert re.search("out of range|less than minimum", str(exc)), exc
    else:
        assert re.search("out of range|less than minimum", shown_error(result))
