"""Serve the /udw routes (as registered on ComfyUI's server) plus web/ and a page that mounts the
dataset browser, on 127.0.0.1 in a background thread. Used by the browser tests and the benchmark.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from pathlib import Path

from aiohttp import web

REPO = Path(__file__).resolve().parents[1]

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>UDW Dataset Browser</title><link rel="icon" href="data:,">
<style>html,body{margin:0;height:100%;background:#15151a}</style></head>
<body><div id="root" style="height:100vh"></div>
<script type="module">
import { mountBrowser } from "/web/udw_browser_core.js";
const io = { fetch: (path, init) => fetch(path, init), url: (path) => path };
window.udwBrowser = mountBrowser(document.getElementById("root"), io, { dataset: DATASET });
</script></body></html>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HarnessServer:
    def __init__(self, routes: web.RouteTableDef, dataset: str = ""):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="udw-harness", daemon=True)
        page = PAGE.replace("DATASET", json.dumps(dataset))

        async def index(request):
            return web.Response(text=page, content_type="text/html")

        app = web.Application()
        app.add_routes(routes)
        app.router.add_static("/web", REPO / "web")
        app.router.add_get("/", index)
        self.runner = web.AppRunner(app)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
