"""Install what UDW Studio's nodes need into the running Python, without touching the host's packages.

Runs under ComfyUI-Manager, A1111's extension installer, or by hand (`python install.py`).
- Reads requirements.txt and installs only the packages that are missing.
- Never upgrades or replaces a package that is already installed: every installed distribution
  is pinned to its current version through a pip constraints file, so pip refuses rather than
  replacing the host's torch, numpy or gradio.
- For onnxruntime and OpenCV, any installed variant counts (onnxruntime-gpu, opencv-python, ...);
  only when none is present is the CPU variant installed, within the versions that fit the host's
  numpy, protobuf and Python (so pip picks one at once instead of backtracking through releases).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))

# One of each group satisfies the requirement; the first is installed when none is present.
VARIANTS = {
    "onnxruntime": ["onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-silicon",
                    "onnxruntime-openvino", "onnxruntime-qnn"],
    "opencv": ["opencv-python-headless", "opencv-python", "opencv-contrib-python",
               "opencv-contrib-python-headless"],
}


# What onnxruntime releases need, from their published metadata: 1.19 is the first built against
# numpy 2; 1.25 needs Python >= 3.11; 1.27 needs protobuf >= 4.25.8 (A1111 pins protobuf 3.20).
# 1.17 is the oldest that runs the v3 WD taggers with a batch.
ORT_MIN = (1, 17)


def onnxruntime_requirement(have: dict[str, str], python: tuple = sys.version_info[:2]) -> str:
    """`onnxruntime>=A,<B` for the versions that can install next to the host's packages."""
    low, high = ORT_MIN, None
    if _version(have.get("numpy", "0")) >= (2,):
        low = max(low, (1, 19))
    if python < (3, 11):
        high = (1, 25)
    if "protobuf" in have and _version(have["protobuf"]) < (4, 25, 8):
        high = min(high or (1, 27), (1, 27))
    spec = f"onnxruntime>={low[0]}.{low[1]}"
    return spec + (f",<{high[0]}.{high[1]}" if high else "")


def _version(text: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:3])


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    out = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            out[_norm(name)] = dist.version
    return out


def requirements(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        lines = [ln.split("#", 1)[0].strip() for ln in fh]
    return [ln for ln in lines if ln]


def req_name(req: str) -> str:
    """The distribution name of a requirement line (a wheel path gives its file name's first part)."""
    if req.endswith(".whl"):
        return _norm(os.path.basename(req).split("-", 1)[0])
    return _norm(re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0])


def too_old(req: str, version: str) -> bool:
    """True when an installed version does not meet the requirement."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # every venv has pip, and pip carries packaging
        from pip._vendor.packaging.requirements import Requirement
    try:
        return not Requirement(req).specifier.contains(version, prereleases=True)
    except Exception:  # a path or URL requirement: nothing to compare
        return False


def missing(reqs: list[str], have: dict[str, str]) -> list[str]:
    todo = []
    for req in reqs:
        name = req_name(req)
        if name not in have:
            todo.append(req)
        elif too_old(req, have[name]):
            print(f"[UDW Studio] {name} {have[name]} does not meet {req!r}; not upgrading a package the "
                  "host already has (upgrade it yourself if you are sure)", flush=True)
    for group in VARIANTS.values():
        if not any(_norm(v) in have for v in group):
            todo.append(onnxruntime_requirement(have) if group[0] == "onnxruntime" else group[0])
    return todo


def pip_install(packages: list[str], have: dict[str, str], dry_run: bool) -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(f"{name}=={version}" for name, version in sorted(have.items())))
        constraints = fh.name
    cmd = [sys.executable, "-m", "pip", "install", "--constraint", constraints, *packages]
    print("[UDW Studio] " + " ".join(cmd[3:]), flush=True)
    try:
        return 0 if dry_run else subprocess.call(cmd)
    finally:
        os.unlink(constraints)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", default=os.path.join(HERE, "requirements.txt"))
    parser.add_argument("--dry-run", action="store_true", help="print the pip command only")
    args = parser.parse_args(argv)
    have = installed()
    todo = missing(requirements(args.requirements), have)
    if not todo:
        print("[UDW Studio] all requirements present; nothing installed", flush=True)
        return 0
    code = pip_install(todo, have, args.dry_run)
    if code:
        print("[UDW Studio] could not install " + ", ".join(todo) + " without changing packages the host "
              "already has. Install them by hand in a way that suits your setup; nothing was changed.",
              file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
