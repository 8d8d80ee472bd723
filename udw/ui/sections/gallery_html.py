"""The browser's detail panel as HTML for gr.HTML: every value from a file is escaped here."""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Optional

STYLE = """<style>
.udw-d{font-size:13px;line-height:1.45}.udw-d h4{margin:10px 0 4px;font-size:12px;text-transform:uppercase;
letter-spacing:.05em;opacity:.7}.udw-d .chips{display:flex;flex-wrap:wrap;gap:4px}
.udw-d .chip{border:1px solid #8884;border-radius:99px;padding:1px 8px;font-size:12px;
background:linear-gradient(90deg,#7c7cff40 var(--s),transparent var(--s))}
.udw-d .chip.character{border-color:#4fb0ff}.udw-d .chip.rating{border-color:#e0a040}
.udw-d table{border-collapse:collapse;width:100%}.udw-d td{padding:1px 6px;vertical-align:top;overflow-wrap:anywhere}
.udw-d td:first-child{opacity:.65;white-space:nowrap}.udw-d pre{white-space:pre-wrap;overflow-wrap:anywhere;
max-height:240px;overflow:auto;font-size:11px}.udw-d .warn{color:#e06c6c}
</style>"""


def _rows(rows: Iterable[tuple[str, Any]]) -> str:
    cells = [f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>"
             for k, v in rows if v not in (None, "", [], {})]
    return f"<table>{''.join(cells)}</table>" if cells else ""


def tags_html(tags: list[dict]) -> str:
    chips = []
    for t in tags:
        pct = max(0, min(100, round(float(t.get("score") or 0) * 100)))
        cat = escape(str(t.get("category", "")))
        chips.append(f'<span class="chip {cat}" style="--s:{pct}%" title="{cat} {float(t.get("score") or 0):.3f}">'
                     f'{escape(str(t["tag"]))}</span>')
    return f'<div class="chips">{"".join(chips)}</div>'


def detail_html(d: Optional[dict]) -> str:
    if not d:
        return ""
    item, p = d["item"], d["provenance"]
    head = f"<b>{escape(item['path'])}</b>"
    if not d["exists"]:
        head += ' <span class="warn">(file missing)</span>'
    parts = [STYLE, '<div class="udw-d">', head, f"<h4>Tags ({len(d['tags'])})</h4>", tags_html(d["tags"]),
             "<h4>Provenance</h4>", _rows([
                 ("size", f"{d['width']}×{d['height']}" if d["width"] and d["height"] else ""),
                 ("status", item["status"] + (f" of {p['duplicate_of']['path']}" if p.get("duplicate_of") else "")),
                 ("source", (p.get("source") or {}).get("path")), ("licence", (p.get("source") or {}).get("licence")),
                 ("series", " ".join(x for x in (p.get("series"), p.get("episode")) if x)),
                 ("frame", p.get("frame_index")), ("time", p.get("timecode")), ("scene", p.get("scene")),
                 ("cluster", p.get("cluster")), ("duplicates", p.get("duplicates") or ""), ("bucket", item.get("bucket")),
                 ("parent", (p.get("parent") or {}).get("path")), ("added", p.get("created")),
                 *[(f"face {f['idx']}", f"{f['character'] or '?'} · detector {float(f['score']):.2f} {f['detector'] or ''}")
                   for f in d["faces"]],
                 *[(f"stage {s['stage']}", f"{'ok' if s['ok'] else 'failed'} {s['finished'] or ''} {s['error'] or ''}")
                   for s in d["stages"]]])]
    meta = d.get("metadata")
    if meta:
        info = meta.get("info") or {}
        parts += ["<h4>Generation</h4>", _rows([
            ("prompt", info.get("prompt")), ("negative", info.get("negative")), ("seed", info.get("seed")),
            ("steps", info.get("steps")), ("cfg", info.get("cfg")),
            ("sampler", " ".join(x for x in (info.get("sampler"), info.get("scheduler")) if x)),
            ("model", info.get("model")),
            *[tuple(n.split(": ", 1)) for n in meta.get("notes") or [] if ": " in n],  # each LoRA, each pass
            ("made by", info.get("source"))]) or "<div>no generation parameters</div>"]
        parts += [f'<div class="warn">⚠ {escape(w)}</div>' for w in meta.get("warnings") or []]
        parts.append(f"<details><summary>raw metadata</summary><pre>{escape(meta.get('raw') or '')}</pre></details>")
    for suffix, text in (d.get("sidecars") or {}).items():
        parts.append(f"<details><summary>sidecar {escape(suffix)}</summary><pre>{escape(text)}</pre></details>")
    parts.append("</div>")
    return "".join(parts)
