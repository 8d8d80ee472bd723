"""`udw frames` / `udw probe` on the command line, and the Frames section of the UI over HTTP."""

import json
import socket

import pytest

from udw.cli.main import main
from udw.core.manifest import Dataset
from udw.testing.ui import shown_error


def test_cli_frames(tmp_path, make_clip, capsys):
    make_clip(tmp_path / "in" / "[G] Show - 01 [720p].mkv")
    (tmp_path / "in" / "broken.mkv").write_bytes(b"\x1aE\xdf\xa3 not really")
    out = tmp_path / "ds"
    code = main(["-q", "frames", str(tmp_path / "in" / "*.mkv"), "-o", str(out), "--hi", "64*12", "--lo", "64*5",
                 "--format", "jpeg", "--quality", "90"])
    text = capsys.readouterr().out
    assert code == 1  # one video failed: scripts can tell
    assert "Show - 01 [720p].mkv: 15 frames kept of 34 decoded" in text and "broken.mkv: failed" in text
    assert len(list((out / "frames" / "ShowEP01").glob("ShowEP01_*.jpg"))) == 15
    code = main(["-q", "frames", str(tmp_path / "in" / "[G] Show - 01 [720p].mkv"), "-o", str(out),
                 "--hi", "768", "--lo", "320", "--format", "jpeg", "--quality", "90", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["videos"][0]["state"] == "skipped" and report["kept"] == 15


def test_cli_errors_and_probe(tmp_path, make_clip, capsys):
    assert main(["frames", str(tmp_path), "-o", str(tmp_path / "ds"), "--start", "abc"]) == 2
    assert "cannot read the time" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["frames", "x.mkv", "-o", "d", "--hi", "lots"])
    make_clip(tmp_path / "a.mkv", sar=(4, 3))
    assert main(["probe", str(tmp_path / "a.mkv")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["codec"] == "h264" and info["sar"] == "4:3" and info["display_size"] == [213, 96]


gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_frames_section_over_http(tmp_path, make_clip):
    from udw.core.paths import Roots
    from udw.ui import UiHost, build_blocks

    root = tmp_path / "root"
    make_clip(root / "eps" / "Show - 01.mkv")
    blocks = build_blocks(UiHost("standalone", Roots(root)))
    blocks.queue()
    port = _free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        args = ["eps/*.mkv", "ds", "mpdecimate", "png", 95, True, "drop", "", "", 0, 24, 0, 768, 320, 0.33,
                0.005, "", ""]
        status, sheet = client.predict(*args, api_name="/udw_frames")
        assert "15 kept" in status and "Show - 01.mkv" in status and sheet
        assert Dataset(root / "ds").count() == 15
        result = client.predict(str(tmp_path), *args[1:], api_name="/udw_frames")
        assert "outside the allowed folders" in shown_error(result)
    finally:
        blocks.close()
