"""Gallery pages as static HTML and as Markdown for mkdocs-material (`attr_list` + `md_in_html`),
in the style of the UDW model card: sections of thumbnails that link to the full images.

Every string that came from a file (names, prompts, tags, folder names) goes through `esc`
(HTML) or `md_text` (Markdown: HTML entities for markup characters too); URLs are
percent-encoded. Nothing from a file can open a tag, an attribute or a link.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import quote

_MD_SPECIAL = set("\\`*_[]{}()#|~:")  # what can open markup, a link or an attribute list
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


@dataclass
class Card:
    image_url: str          # relative URL of the full image (unencoded path)
    thumb_url: str
    name: str
    prompt: str = ""
    seed: Optional[int] = None
    note: str = ""          # one line under the prompt (tags, sampler summary)
    details: str = ""       # the full parameters, shown folded
    width: Optional[int] = None
    height: Optional[int] = None


@dataclass
class Section:
    title: str
    cards: list[Card] = field(default_factory=list)
    more: int = 0           # items left out by the per-section limit


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def url(path: str) -> str:
    """A relative path as a URL: every segment percent-encoded (spaces, quotes, #, ?)."""
    return quote(path.replace("\\", "/"), safe="/")


def md_text(text) -> str:
    """Text that Markdown and HTML both show literally."""
    out = []
    for ch in str(text):
        if ch in _HTML_SPECIAL:
            out.append(_HTML_SPECIAL[ch])
        elif ch in _MD_SPECIAL:
            out.append(f"&#{ord(ch)};")
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def short(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


CSS = """
:root{--bg:#f7f7f9;--fg:#1d1d22;--card:#fff;--muted:#666;--line:#e2e2e8;--accent:#5b5bd6}
@media (prefers-color-scheme:dark){:root{--bg:#15151a;--fg:#e8e8ee;--card:#1f1f26;--muted:#9a9aa8;
--line:#2c2c36;--accent:#8c8cff}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
background:var(--bg);color:var(--fg)}header{padding:28px 32px 8px}h1{margin:0 0 4px;font-size:26px}
.sub{color:var(--muted)}nav{padding:6px 32px 14px;display:flex;flex-wrap:wrap;gap:8px}
nav a{color:var(--accent);text-decoration:none;border:1px solid var(--line);border-radius:99px;
padding:3px 12px;font-size:13px}section{padding:6px 32px 24px}h2{font-size:19px;margin:18px 0 12px}
h2 small{color:var(--muted);font-weight:400;font-size:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:14px}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;
display:flex;flex-direction:column}figure a.img{display:block;cursor:zoom-in}
figure img{width:100%;height:auto;display:block}
.warn{margin:4px 32px 10px;padding:10px 14px;border-radius:8px;background:#fff4dc;color:#6b4500;border:1px solid #e0a030}
.warn ul{margin:4px 0 0;padding-left:20px}
@media (prefers-color-scheme:dark){.warn{background:#4a3510;color:#ffe2a8}}
#view{position:fixed;inset:0;background:#000e;display:none;flex-direction:column;align-items:center;justify-content:center;
gap:10px;padding:16px;z-index:10;color:#eee}#view.open{display:flex}
#view img{max-width:94vw;max-height:calc(100vh - 170px);object-fit:contain;box-shadow:0 6px 30px #000}
#view .cap{max-width:90vw;max-height:130px;overflow:auto;font-size:13px;text-align:center;display:flex;flex-direction:column;gap:3px}
#view .cap details{display:none}#view button{position:absolute;top:14px;right:18px;font-size:20px;background:#fff2;
color:#fff;border:0;border-radius:50%;width:40px;height:40px;cursor:pointer}
#view a.full{color:#aab;font-size:12px}
figcaption{padding:8px 10px 10px;font-size:13px;display:flex;flex-direction:column;gap:3px}
.name{font-weight:600;overflow-wrap:anywhere}.prompt{overflow-wrap:anywhere}
.seed,.note{color:var(--muted);font-size:12px;overflow-wrap:anywhere}
details{font-size:12px;color:var(--muted)}pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0 0}
.more{color:var(--muted);margin-top:10px}footer{padding:20px 32px;color:var(--muted);font-size:12px}
"""


# A click on a card shows the image large with its caption (name, prompt, tags); Esc, a click or ✕
# closes it. Without JavaScript the card still links to the image file.
VIEWER = """<div id="view" role="dialog" aria-modal="true"><button type="button" aria-label="close">✕</button>
<img alt=""><div class="cap"></div><a class="full" target="_blank">open the file</a></div><script>
(function(){var v=document.getElementById('view'),im=v.querySelector('img'),cap=v.querySelector('.cap'),
full=v.querySelector('a.full');function close(){v.classList.remove('open');im.removeAttribute('src');}
im.addEventListener('load',function(){var k=Math.min(innerWidth*.94/im.naturalWidth,(innerHeight-170)/im.naturalHeight,3);
im.style.width=Math.floor(im.naturalWidth*k)+'px';im.style.height=Math.floor(im.naturalHeight*k)+'px';});
document.querySelectorAll('figure a.img').forEach(function(a){a.addEventListener('click',function(e){
e.preventDefault();im.src=a.getAttribute('href');full.href=a.getAttribute('href');
cap.replaceChildren(a.parentNode.querySelector('figcaption').cloneNode(true));v.classList.add('open');});});
v.addEventListener('click',function(e){if(e.target!==im&&!cap.contains(e.target)&&e.target!==full)close();});
document.addEventListener('keydown',function(e){if(e.key==='Escape')close();});})();
</script>"""


def _notes_html(notes: list[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f'<div class="warn" id="skipped"><b>Not in this page:</b><ul>{items}</ul></div>'


def render_html(title: str, subtitle: str, sections: list[Section], notes: Optional[list[str]] = None) -> str:
    """The page; `notes` (e.g. the build's skipped steps) are shown as a warning under the title."""
    total = sum(len(s.cards) for s in sections)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
             f"<header><h1>{esc(title)}</h1><div class=\"sub\">{esc(subtitle)} · {total} images</div></header>",
             _notes_html(notes or [])]
    if len(sections) > 1:
        parts.append("<nav>" + "".join(f'<a href="#s{i}">{esc(s.title)} ({len(s.cards)})</a>'
                                       for i, s in enumerate(sections)) + "</nav>")
    for i, sec in enumerate(sections):
        parts.append(f'<section id="s{i}"><h2>{esc(sec.title)} <small>{len(sec.cards)}</small></h2>'
                     '<div class="grid">')
        parts += [_card_html(c) for c in sec.cards]
        parts.append("</div>")
        if sec.more:
            parts.append(f'<div class="more">… and {sec.more} more not shown</div>')
        parts.append("</section>")
    parts.append(f"<footer>Made with UDW Studio.</footer>{VIEWER}</body></html>")
    return "\n".join(parts)


def _card_html(c: Card) -> str:
    size = f' width="{int(c.width)}" height="{int(c.height)}"' if c.width and c.height else ""
    alt = short(c.prompt or c.name, 120)
    bits = [f'<figure><a class="img" href="{esc(url(c.image_url))}">'
            f'<img src="{esc(url(c.thumb_url))}" loading="lazy" alt="{esc(alt)}"{size}></a><figcaption>',
            f'<span class="name">{esc(c.name)}</span>']
    if c.prompt:
        bits.append(f'<span class="prompt" title="{esc(short(c.prompt, 2000))}">{esc(short(c.prompt))}</span>')
    if c.seed is not None:
        bits.append(f'<span class="seed">seed {esc(c.seed)}</span>')
    if c.note:
        bits.append(f'<span class="note">{esc(short(c.note, 200))}</span>')
    if c.details:
        bits.append(f"<details><summary>parameters</summary><pre>{esc(c.details)}</pre></details>")
    bits.append("</figcaption></figure>")
    return "".join(bits)


def render_markdown(title: str, subtitle: str, sections: list[Section], thumb_px: int = 256,
                    notes: Optional[list[str]] = None) -> str:
    """mkdocs-material page (needs `attr_list` and `md_in_html`); plain renderers show the images too."""
    total = sum(len(s.cards) for s in sections)
    lines = ["---", f"title: {json.dumps(title)}", "---", "",
             "<!-- Made with UDW Studio. mkdocs-material: enable attr_list and md_in_html. -->", "",
             f"# {md_text(title)}", "", f"{md_text(subtitle)} · {total} images", ""]
    if notes:
        lines += ['!!! warning "Not in this page"', ""] + [f"    - {md_text(n)}" for n in notes] + [""]
    for sec in sections:
        lines += [f"## {md_text(sec.title)}", "", '<div class="grid" markdown>', ""]
        for c in sec.cards:
            alt = md_text(short(c.prompt or c.name, 120))
            cap = [f"<b>{md_text(c.name)}</b>"]
            if c.prompt:
                cap.append(md_text(short(c.prompt)))
            if c.seed is not None:
                cap.append(f"seed {md_text(c.seed)}")
            if c.note:
                cap.append(md_text(short(c.note, 200)))
            lines += ['<figure markdown="span">',
                      f'[![{alt}]({url(c.thumb_url)}){{ loading=lazy width="{thumb_px}" }}]({url(c.image_url)})',
                      f"<figcaption>{'<br>'.join(cap)}</figcaption>", "</figure>", ""]
        lines += ["</div>", ""]
        if sec.more:
            lines += [f"*… and {sec.more} more not shown*", ""]
    return "\n".join(lines)
