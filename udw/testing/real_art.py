"""Real anime-style art for tests and benchmarks, fetched from Debian's packages (never committed).

Ren'Py's example games ship character sprites in several expressions and outfits plus painted
backgrounds, under the Expat (MIT) licence: `renpy-thequestion` (Sylvie: blue/green outfit x normal,
smile, giggle, surprised; four backgrounds) and `renpy-demo` (Eileen, Lucy; three backgrounds).
The packages are downloaded with `apt-get download` (or read where they are installed) and unpacked
once into a cache folder (`UDW_TEST_CACHE`, default `~/.cache/udw-studio/debian`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

LICENCE = "Expat (MIT): Ren'Py example games, Debian packages renpy-thequestion and renpy-demo"
PACKAGES = {"renpy-thequestion": "usr/share/games/renpy/the_question/game/images",
            "renpy-demo": "usr/share/games/renpy/demo/game/images"}
CHARACTERS = ("sylvie", "eileen", "lucy")


class RealArtUnavailable(RuntimeError):
    """The packages could not be had here (no apt, no network): tests skip with this reason."""


def cache_dir() -> Path:
    return Path(os.environ.get("UDW_TEST_CACHE") or Path.home() / ".cache" / "udw-studio" / "debian")


def package_images(package: str) -> Path:
    """The images folder of one Ren'Py package: installed, cached, or downloaded now."""
    inner = PACKAGES[package]
    installed = Path("/") / inner
    if installed.is_dir():
        return installed
    unpacked = cache_dir() / package
    if (unpacked / ".complete").is_file():
        return unpacked / inner
    _download_and_unpack(package, unpacked)
    return unpacked / inner


def _download_and_unpack(package: str, target: Path) -> None:
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        raise RealArtUnavailable(f"{package}: apt-get/dpkg-deb are not on this machine")
    with tempfile.TemporaryDirectory() as tmp:
        if not _apt_download(package, tmp):
            # A fresh machine may have no package lists yet; root can fetch them once.
            if os.geteuid() == 0:
                subprocess.run(["apt-get", "update", "-qq"], capture_output=True, timeout=300)
            if not _apt_download(package, tmp):
                raise RealArtUnavailable(f"`apt-get download {package}` failed (no package "
                                         "registry reachable?)")
        deb = next(Path(tmp).glob("*.deb"))
        partial = target.with_name(target.name + ".udwtmp")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True, timeout=300)
        (partial / ".complete").write_text(deb.name)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)


def _apt_download(package: str, folder: str) -> bool:
    try:
        done = subprocess.run(["apt-get", "download", "-qq", package], cwd=folder,
                              capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and any(Path(folder).glob("*.deb"))


def sprites() -> dict[str, Path]:
    """Character sprites by name, e.g. 'sylvie green smile' -> its transparent PNG."""
    found = {}
    for package in PACKAGES:
        for p in sorted(package_images(package).glob("*.png")):
            if p.name.split()[0] in CHARACTERS:
                found[p.stem] = p
    return found


def backgrounds() -> dict[str, Path]:
    """Painted backgrounds by name, e.g. 'bg meadow' -> its JPEG."""
    found = {}
    for package in PACKAGES:
        for p in sorted(package_images(package).glob("bg *.jpg")):
            found[p.stem] = p
    return found
