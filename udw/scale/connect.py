"""Connecting to a Ray cluster as a step of its own, with a time limit and one clear message.

`ray.init(address=...)` can wait forever (an address where nothing answers), or print warnings
for a while and then leave a connection that runs nothing (a token-authenticated head reached
without the token). So before this process joins a cluster, a short-lived child process tries
the same `ray.init` and is stopped as soon as Ray reports a fatal problem or the time limit
passes; only when it connected does this process connect. A refused port is found first, in
milliseconds, by a plain TCP connection.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from typing import Optional

from ..core.errors import BadInput

TIMEOUT_S = float(os.environ.get("UDW_RAY_CONNECT_TIMEOUT", "15"))
WHAT_TO_DO = ("nothing was run. Give the address that `ray start --head` printed on the head machine (its "
              "line ray start --address='IP:PORT'), or auto on a machine of the cluster, or set RAY_ADDRESS; "
              "a Ray Client server is ray://HOST:10001")
# What Ray prints when it cannot join (it may keep retrying for minutes): stop at the first sign.
FATAL = [
    (r"InvalidAuthToken[^\n]*", "the cluster uses token authentication and refused this process's token",
     "set RAY_AUTH_MODE=token here (Ray then sends ~/.ray/auth_token; `ray get-auth-token` shows the head's) "
     "or use --address auto on the head machine; "),
    (r"Version mismatch[^\n]*", "the cluster runs another Ray or Python version",
     "install the cluster's Ray and Python versions here; "),
    (r"Could not find any running Ray instance[^\n]*", "no Ray cluster runs on this machine",
     "start one with ray start --head, or give the head's address; "),
    (r"Failed to connect to GCS[^\n]*", "nothing answers as a Ray head there", ""),
    (r"Timed out while waiting for GCS[^\n]*", "nothing answers as a Ray head there", ""),
    (r"Failed to get cluster ID from GCS server[^\n]*", "what answers there is not a Ray head", ""),
]
_PROBE = ("import sys, ray\n"
          "ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False, configure_logging=False)\n"
          "print('udw-connected', ray.__version__, flush=True)\n")


def cluster_address(address: Optional[str]) -> Optional[str]:
    """The address a connection would use (None: a private local Ray is started instead)."""
    return address or os.environ.get("RAY_ADDRESS") or None


def check_reachable(address: str, timeout: float = TIMEOUT_S) -> None:
    """Raise BadInput (what was tried, what Ray said, what to do) unless Ray can join `address`."""
    _check_port(address)
    said, reason, extra = _probe(address, timeout)
    if reason:
        raise BadInput(f"cannot connect to the Ray cluster at {address}: {reason}"
                       + (f" (Ray said: {said})" if said else ""), extra + WHAT_TO_DO)


def _check_port(address: str) -> None:
    """A refused or unroutable HOST:PORT fails here at once (Ray itself would wait)."""
    host_port = address[len("ray://"):] if address.startswith("ray://") else address
    match = re.fullmatch(r"\[?([^\]]+?)\]?:(\d+)", host_port)
    if address == "auto" or match is None:
        return
    host, port = match.group(1), int(match.group(2))
    try:
        with socket.create_connection((host, port), timeout=min(5.0, TIMEOUT_S)):
            return
    except OSError as exc:
        what = "nothing listens there (connection refused)" if isinstance(exc, ConnectionRefusedError) else (
            f"cannot reach {host}:{port} ({exc.strerror or exc})")
        raise BadInput(f"cannot connect to the Ray cluster at {address}: {what}", WHAT_TO_DO) from None


def _probe(address: str, timeout: float) -> tuple[str, str, str]:
    """(what Ray said, why it failed, extra advice); ('', '', '') when the child connected."""
    child = subprocess.Popen([sys.executable, "-c", _PROBE, address], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, errors="replace")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(child.stdout.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            text = "".join(lines)
            if "udw-connected" in text:
                return "", "", ""
            for pattern, reason, extra in FATAL:
                found = re.search(pattern, text)
                if found:
                    return found.group(0).strip(), reason, extra
            if child.poll() is not None and not reader.is_alive():
                return _last_error(text), "Ray could not connect", ""
            time.sleep(0.1)
        return _last_error("".join(lines)), f"no answer within {timeout:g} s", ""
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def _last_error(text: str) -> str:
    errors = [line.strip() for line in text.splitlines() if re.search(r"Error|Failed|failed|refused", line)]
    return errors[-1][:300] if errors else ""
