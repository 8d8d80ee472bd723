"""HTTP routes of the UDW Dataset Browser and the gallery node, under /udw/ on ComfyUI's server.

Thin handlers over `udw.gallery.browser.BrowserService`: parse the request, run the (blocking)
service call in a small thread pool so ComfyUI's event loop never waits on SQLite or image
decoding, and map errors to JSON (400 bad input, 403 outside the allowed folders, 404 missing).
Paths resolve only inside dataset_roots() (ComfyUI output/input/temp and UDW_ROOTS); `..`,
absolute paths elsewhere and symlinks out of a root are refused by the core. Writes take JSON
bodies only, so a cross-site form cannot post to them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import functools
import json
import logging
from pathlib import Path
from typing import Any, Callable, Optional

from aiohttp import web

from ..udw.core.errors import BadInput, NotFound, OutsideRoot, UdwError
from ..udw.core.paths import within
from ..udw.gallery.browser import BrowserService
from ..udw.gallery.metadata import read_metadata
from ..udw.gallery.query import Filter

log = logging.getLogger("udw")
PREFIX = "/udw"
_state: dict[str, Any] = {}


def _pool(kind: str) -> cf.ThreadPoolExecutor:
    """Separate small pools: queries stay quick while a page of thumbnails is being decoded."""
    if kind not in _state:
        _state[kind] = cf.ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"udw-{kind}")
    return _state[kind]


def _error(exc: Exception) -> web.Response:
    if isinstance(exc, UdwError):
        status = 403 if isinstance(exc, OutsideRoot) else 404 if isinstance(exc, NotFound) else 400
        return web.json_response({"error": str(exc).split("\n  -> ")[0], "hint": exc.hint}, status=status)
    log.exception("udw route failed")
    return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)


def handler(fn: Callable) -> Callable:
    """Run `fn(service, request_data)` in the pool; turn its result into a response."""

    @functools.wraps(fn)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            data: dict = dict(request.query)
            if request.method == "POST":
                if request.content_type != "application/json":
                    return web.json_response({"error": "send JSON (Content-Type: application/json)"}, status=415)
                body = await request.json()
                if not isinstance(body, dict):
                    raise BadInput("the request body must be a JSON object")
                data.update(body)
            pool = _pool("thumbs" if fn.__name__.endswith("thumb") else "queries")
            result = await asyncio.get_running_loop().run_in_executor(
                pool, functools.partial(fn, _state["service"](), data))
        except (UdwError, ValueError, TypeError, KeyError) as exc:
            if not isinstance(exc, UdwError):
                exc = BadInput(f"bad request: {exc}")
            return _error(exc)
        except Exception as exc:  # keep ComfyUI's server alive; report what happened
            return _error(exc)
        if isinstance(result, Path):
            return web.FileResponse(result, headers={"Cache-Control": "private, max-age=300"})
        return web.json_response(result, dumps=functools.partial(json.dumps, default=str))

    return wrapped


def _int(data: dict, key: str, default: Optional[int] = None) -> int:
    value = data.get(key, default)
    if value is None or value == "":
        raise BadInput(f"missing `{key}`")
    return int(value)


def _filter(data: dict) -> Filter:
    raw = data.get("filter")
    if isinstance(raw, str):
        raw = json.loads(raw or "{}")
    return Filter.from_dict(raw if isinstance(raw, dict) else data)


# -- handlers (service, data) -> JSON-able | Path ------------------------------------------------
def datasets(svc: BrowserService, data: dict):
    return {"datasets": svc.find_datasets(), "roots": [str(r) for r in svc.roots.folders]}


def facets(svc: BrowserService, data: dict):
    svc.warm(data["dataset"])
    return svc.facets(data["dataset"])


def page(svc: BrowserService, data: dict):
    return svc.page(data["dataset"], _filter(data), _int(data, "offset", 0), _int(data, "limit", 60),
                    data.get("order") or "id").to_dict()


def item(svc: BrowserService, data: dict):
    return svc.detail(data["dataset"], _int(data, "id"))


def thumb(svc: BrowserService, data: dict) -> Path:
    return svc.thumb(data["dataset"], _int(data, "id"))


def image(svc: BrowserService, data: dict) -> Path:
    return svc.image_path(data["dataset"], _int(data, "id"))


def suggest(svc: BrowserService, data: dict):
    return {"tags": svc.suggest_tags(data["dataset"], data.get("prefix", ""), _int(data, "limit", 20))}


def set_tags(svc: BrowserService, data: dict):
    tags = data.get("tags")
    if not isinstance(tags, list):
        raise BadInput("`tags` must be a list of strings")
    return svc.set_tags(data["dataset"], _int(data, "id"), [str(t) for t in tags]).__dict__


def batch(svc: BrowserService, data: dict):
    report = svc.batch_edit(data["dataset"], _filter(data), str(data.get("op", "")), str(data.get("arg1", "")),
                            str(data.get("arg2", "")), dry_run=bool(data.get("dry_run")))
    return {**report.__dict__, "summary": report.summary()}


def move(svc: BrowserService, data: dict):
    face = data.get("face")
    report = svc.move(data["dataset"], _int(data, "id"), data.get("character"), data.get("bucket"),
                      int(face) if face not in (None, "") else None)
    return {**report.__dict__, "summary": report.summary()}


def check(svc: BrowserService, data: dict):
    return svc.check_files(data["dataset"], _filter(data))


def _comfy_file(svc: BrowserService, data: dict) -> Path:
    """A file named like ComfyUI's /view names it (type, subfolder, filename), or by `path`."""
    if data.get("path"):
        return svc.file_path(str(data["path"]))
    folder = _state["folders"]().get(data.get("type") or "output")
    if folder is None:
        raise BadInput(f"unknown folder type {data.get('type')!r}", "use output, input or temp")
    path = within(folder, Path(data.get("subfolder") or "") / str(data.get("filename") or ""))
    return svc.file_path(str(path))


def file_thumb(svc: BrowserService, data: dict) -> Path:
    return svc.thumbs.get(_comfy_file(svc, data))


def file_meta(svc: BrowserService, data: dict):
    meta = read_metadata(_comfy_file(svc, data))
    return {**meta.to_dict(), "infotext": meta.info.to_infotext() if meta.info else "",
            "notes": meta.info.detail_lines() if meta.info else [], "raw": meta.raw_json(60_000)}  # LoRAs, passes


ROUTES = [
    ("GET", "/browser/datasets", datasets), ("GET", "/browser/facets", facets), ("GET", "/browser/page", page),
    ("GET", "/browser/item", item), ("GET", "/browser/thumb", thumb), ("GET", "/browser/image", image),
    ("GET", "/browser/suggest", suggest), ("POST", "/browser/tags", set_tags), ("POST", "/browser/batch", batch),
    ("POST", "/browser/move", move), ("POST", "/browser/check", check),
    ("GET", "/file/thumb", file_thumb), ("GET", "/file/meta", file_meta),
]


def register(routes: web.RouteTableDef, service: Callable[[], BrowserService],
             folders: Callable[[], dict[str, str]]) -> None:
    """Add the /udw routes to a RouteTableDef (ComfyUI's PromptServer.instance.routes)."""
    _state["service"], _state["folders"] = service, folders
    for method, path, fn in ROUTES:
        routes.route(method, PREFIX + path)(handler(fn))
