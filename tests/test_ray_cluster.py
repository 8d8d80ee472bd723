"""Ray as users start it (`ray start --head`): the local dataset byte for byte, and a clear, quick
failure for an address that is wrong, refused or not a Ray head, before anything runs."""

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from udw.cli.main import main
from udw.core.manifest import Dataset
from udw.scale.compare import canonical_manifest, manifest_differences

REPO = Path(__file__).resolve().parents[1]
UDW = [sys.executable, "-c", "import sys; from udw.cli.main import main; sys.exit(main())"]
samples = pytest.importorskip("udw.samples")


@dataclass
class Head:
    address: str   # what `ray start --head` printed
    env: dict      # RAY_TMPDIR of this cluster: `auto` finds it
    token_auth: bool


def _own_processes(marker: str) -> list[int]:
    """Processes whose command line names our temporary folder, and their descendants."""
    parents, found = {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if marker in cmd:
            found.add(int(entry.name))
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in found} - found
        found |= more
        grew = bool(more)
    return sorted(found - {os.getpid()})


def _stop(marker: str) -> None:
    """Stop this cluster by its own process ids (never `ray stop`: other Rays may run here)."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        pids = _own_processes(marker)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        end = time.monotonic() + wait
        while pids and time.monotonic() < end and _own_processes(marker):
            time.sleep(0.2)


@pytest.fixture(scope="module")
def ray_head():
    pytest.importorskip("ray", reason='Ray is not installed (pip install "udw-studio[ray]")')
    cli = Path(sys.executable).with_name("ray")
    if not cli.exists():
        pytest.skip(f"no `ray` command beside {sys.executable}")
    tmp = tempfile.mkdtemp(prefix="udw-ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_MODE")}
    env.update(RAY_TMPDIR=tmp, PYTHONPATH=str(REPO))
    try:
        run = subprocess.run([str(cli), "start", "--head", "--port=0", "--num-cpus=2", "--include-dashboard=false",
                              "--disable-usage-stats", f"--temp-dir={tmp}"], env=env, capture_output=True,
                             text=True, timeout=240)
        said = run.stdout + run.stderr
        printed = re.search(r"ray start --address='([^']+)'", said)
        if run.returncode or printed is None:
            pytest.skip(f"`ray start --head` could not start a cluster here: {said.strip()[-400:]}")
        yield Head(printed.group(1), env, "Token authentication is enabled" in said)
    finally:
        _stop(tmp)


@pytest.fixture(scope="module")
def episodes(tmp_path_factory):
    """Two sample episodes that share their opening and ending."""
    out = tmp_path_factory.mktemp("eps")
    return [str(e.video) for e in samples.generate_samples(out, episodes=2, width=320, height=180, fps=12,
                                                           duration_s=24.0)]


def udw(args, env, timeout=600):
    start = time.monotonic()
    run = subprocess.run(UDW + args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    return run, time.monotonic() - start


def files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def written_by_us(folder: Path, root: Path) -> dict:
    """The training folder's files; its card and arrangement name the dataset folder and the time."""
    out = files(folder)
    for name in ("README.md", ".udw-arrangement.json"):
        text = (folder / name).read_text()
        text = text.replace(str(root), "ROOT").replace(str(folder), "TRAIN")
        out[name] = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "TIME", text)
    return out


@pytest.mark.slow
def test_ray_cluster_builds_the_local_dataset(tmp_path, ray_head, episodes):
    steps = ["--steps", "frames,dedupe,export"]
    assert main(["-q", "build", *episodes, "-o", str(tmp_path / "local" / "DS"), *steps,
                 "--export", str(tmp_path / "local" / "TRAIN")]) == 0
    run, _ = udw(["-q", "build", *episodes, "-o", str(tmp_path / "ray" / "DS"), *steps, "--export",
                  str(tmp_path / "ray" / "TRAIN"), "--engine", "ray", "--address", "auto"], ray_head.env)
    assert run.returncode == 0, run.stderr[-2000:]
    local, ray = Dataset(tmp_path / "local" / "DS"), Dataset(tmp_path / "ray" / "DS")
    assert manifest_differences(canonical_manifest(local), canonical_manifest(ray)) == []
    with local.db() as conn:
        repeats = conn.execute("SELECT COUNT(*) FROM items WHERE extra LIKE '%cross_episode%'").fetchone()[0]
    assert repeats > 0  # the episodes do share an opening/ending
    assert files(local.root / "frames") == files(ray.root / "frames")
    assert (written_by_us(tmp_path / "local" / "TRAIN", local.root)
            == written_by_us(tmp_path / "ray" / "TRAIN", ray.root))


@pytest.mark.slow
def test_udw_cluster_checks_the_address_ray_start_printed(ray_head):
    run, _ = udw(["cluster", "--address", "auto"], ray_head.env, timeout=120)
    assert run.returncode == 0 and "1 node(s), 2 CPUs" in run.stdout, run.stderr[-2000:]
    port = ray_head.address.rsplit(":", 1)[1]
    run, seconds = udw(["cluster", "--address", f"127.0.0.1:{port}"], ray_head.env, timeout=120)
    if ray_head.token_auth:  # the case: the head's port on 127.0.0.1, without its token
        assert run.returncode == 2 and seconds < 30
        assert "token authentication" in run.stderr and "RAY_AUTH_MODE=token" in run.stderr
        run, _ = udw(["cluster", "--address", ray_head.address], {**ray_head.env, "RAY_AUTH_MODE": "token"})
    assert run.returncode == 0 and "node(s)" in run.stdout, run.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _assert_stopped_before_anything(run, seconds, address, inputs, before, dataset):
    assert run.returncode != 0 and seconds < 30, (seconds, run.stderr[-2000:])
    err = run.stderr
    assert f"cannot connect to the Ray cluster at {address}" in err
    assert "ray start --head" in err and "auto" in err and "RAY_ADDRESS" in err
    assert err.count("error:") == 1 and "frames:" not in run.stdout  # one message, no stage ran
    assert not dataset.exists()
    assert {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in inputs} == before


def test_refused_address_stops_at_once(tmp_path, episodes):
    pytest.importorskip("ray", reason='Ray is not installed (pip install "udw-studio[ray]")')
    before = {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in episodes}
    address = f"127.0.0.1:{_free_port()}"
    run, seconds = udw(["build", *episodes, "-o", str(tmp_path / "DS"), "--engine", "ray", "--address", address],
                       {**os.environ, "PYTHONPATH": str(REPO)})
    _assert_stopped_before_anything(run, seconds, address, episodes, before, tmp_path / "DS")
    assert "connection refused" in run.stderr


@pytest.mark.slow
def test_silent_address_stops_within_the_time_limit(tmp_path, episodes):
    """Something listens but never answers as Ray: `ray.init` would wait for minutes."""
    pytest.importorskip("ray", reason='Ray is not installed (pip install "udw-studio[ray]")')
    server = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.extend(server.accept() for _ in range(64)), daemon=True).start()
    address = f"127.0.0.1:{server.getsockname()[1]}"
    before = {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in episodes}
    try:
        run, seconds = udw(["frames", *episodes, "-d", str(tmp_path / "DS"), "--engine", "ray", "--address", address],
                           {**os.environ, "PYTHONPATH": str(REPO), "UDW_RAY_CONNECT_TIMEOUT": "10"})
    finally:
        server.close()
    _assert_stopped_before_anything(run, seconds, address, episodes, before, tmp_path / "DS")
