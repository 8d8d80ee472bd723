"""install.py in a venv that mimics a host: it installs what is missing and never replaces host packages."""

import base64
import hashlib
import subprocess
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def fake_dist(site: Path, name: str, version: str) -> None:
    """An installed distribution as pip sees it: a dist-info folder with METADATA and RECORD."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "INSTALLER").write_text("pip\n")
    (info / "RECORD").write_text("")


def tiny_wheel(folder: Path, name: str, version: str, requires: tuple = ()) -> Path:
    """A real, installable pure-Python wheel built by hand (no network, no build backend)."""
    mod = name.replace("-", "_")
    path = folder / f"{mod}-{version}-py3-none-any.whl"
    files = {
        f"{mod}/__init__.py": f"VERSION = {version!r}\n",
        f"{mod}-{version}.dist-info/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{mod}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for fname, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{fname},sha256={digest},{len(text.encode())}")
    record.append(f"{mod}-{version}.dist-info/RECORD,,")
    files[f"{mod}-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(path, "w") as zf:
        for fname, text in files.items():
            zf.writestr(fname, text)
    return path


@pytest.fixture(scope="module")
def host_venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostvenv")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    py = root / "venv" / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    # What the host brings: its own torch, numpy, gradio, and GPU/GUI variants of onnxruntime/OpenCV.
    for name, version in [("torch", "2.1.2"), ("numpy", "1.26.4"), ("gradio", "3.41.2"),
                          ("onnxruntime-gpu", "1.17.1"), ("opencv-python", "4.8.0.76")]:
        fake_dist(site, name, version)
    return py, root


def versions(py):
    code = "from importlib import metadata as m; print({d.metadata['Name'].lower(): d.version for d in m.distributions()})"
    return eval(subprocess.check_output([str(py), "-c", code], text=True))


def run_install(py, reqs: Path):
    return subprocess.run([str(py), str(REPO / "install.py"), "--requirements", str(reqs)],
                          capture_output=True, text=True, env={"PIP_NO_INDEX": "1", "PATH": "/usr/bin:/bin"})


def test_installs_missing_only_and_keeps_host_packages(host_venv, tmp_path):
    py, root = host_venv
    wheel = tiny_wheel(tmp_path, "udw-test-dep", "1.0", requires=("numpy>=1.20",))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"{wheel}\nnumpy>=2  # present but older: must not be upgraded\n")
    before = versions(py)
    result = run_install(py, reqs)
    assert result.returncode == 0, result.stdout + result.stderr
    after = versions(py)
    assert after["udw-test-dep"] == "1.0"
    for name in ("torch", "numpy", "gradio", "onnxruntime-gpu", "opencv-python"):
        assert after[name] == before[name]
    assert "onnxruntime" not in after and "opencv-python-headless" not in after  # variants present
    assert "numpy 1.26.4" in result.stdout and "not upgrading" in result.stdout

    again = run_install(py, reqs)
    assert "nothing installed" in again.stdout


def test_refuses_what_would_replace_host_torch(host_venv, tmp_path):
    py, _ = host_venv
    wheel = tiny_wheel(tmp_path, "needs-new-torch", "1.0", requires=("torch>=2.5",))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text(f"{wheel}\n")
    result = run_install(py, reqs)
    assert result.returncode != 0
    assert "nothing was changed" in result.stderr
    after = versions(py)
    assert after["torch"] == "2.1.2" and "needs-new-torch" not in after


def test_onnxruntime_range_fits_the_host_without_backtracking():
    import importlib.util

    spec = importlib.util.spec_from_file_location("udw_install_script", REPO / "install.py")
    install = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(install)
    a1111 = {"numpy": "1.26.2", "protobuf": "3.20.0"}  # A1111 1.10.1 pins these
    assert install.onnxruntime_requirement(a1111, (3, 10)) == "onnxruntime>=1.17,<1.25"
    assert install.onnxruntime_requirement(a1111, (3, 11)) == "onnxruntime>=1.17,<1.27"
    assert install.onnxruntime_requirement({"numpy": "2.1.3", "protobuf": "5.29.0"}, (3, 12)) == "onnxruntime>=1.19"
    todo = install.missing([], {"numpy": "1.26.2", "protobuf": "3.20.0", "opencv-python": "4.8.0.76"})
    assert todo == [install.onnxruntime_requirement({"numpy": "1.26.2", "protobuf": "3.20.0"})]
