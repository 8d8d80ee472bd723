"""A local model mirror for tests: `URL/<model name>/<file name>` served on 127.0.0.1 (UDW_MODEL_MIRROR).

It serves real files (the test puts them in place: `../shared`'s cascade, a tiny ONNX) through
the same HTTP download path users get from GitHub or the Hugging Face Hub; it counts requests
and can cut a file short to show that a broken download leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from pathlib import Path
from typing import Iterator


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        return None

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        if self.path.lstrip("/") in self.server.truncate:
            data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])  # then the connection closes
            return
        super().do_GET()


class Mirror:
    def __init__(self, folder: Path, server: http.server.ThreadingHTTPServer):
        self.folder, self.server = folder, server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    @property
    def requests(self) -> list[str]:
        return self.server.requests

    def add(self, model: str, file: Path) -> Path:
        target = self.folder / model / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        return target

    def truncate(self, model: str, name: str) -> None:
        self.server.truncate.add(f"{model}/{name}")


@contextlib.contextmanager
def serve_mirror(folder: Path) -> Iterator[Mirror]:
    """Serve `folder` on 127.0.0.1 (a free port) until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(folder)))
    server.requests, server.truncate = [], set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Mirror(folder, server)
    finally:
        server.shutdown()
        server.server_close()
