"""Browser filters as SQL over the manifest: every condition is an indexed lookup, never a scan
of tag text, so a page of a 100k-item manifest costs milliseconds.

Tag expressions: comma-separated terms that must all hold (AND); `a | b` inside a term means
either (OR); a leading `-` or `!` negates a term (NOT); `*` and `?` are wildcards (`* hair`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..core.errors import BadInput

NONE = "(none)"   # filter value meaning "not set" (no bucket, no character)
STATUSES = ("active", "duplicate", "excluded", "missing", "any")
ORDERS = {"id": "i.id", "path": "i.path", "newest": "i.id DESC",
          "face": "i.face_ratio IS NULL, i.face_ratio DESC, i.id"}
MAX_TERMS = 32


@dataclass
class Filter:
    tags: str = ""
    status: str = "active"
    bucket: Optional[str] = None
    character: Optional[str] = None
    episode: Optional[str] = None      # "series/episode" (see `episode_key`)
    source: Optional[int] = None
    cluster: Optional[int] = None
    text: str = ""                     # part of the file path
    min_score: float = 0.0             # tag terms match only tags at least this confident

    @classmethod
    def from_dict(cls, data: dict) -> "Filter":
        """From untrusted input (query strings, JSON): unknown keys ignored, types checked."""
        f = cls()
        for key in ("tags", "status", "bucket", "character", "episode", "text"):
            value = data.get(key)
            if value not in (None, ""):
                setattr(f, key, str(value)[:2000])
        for key in ("source", "cluster"):
            value = data.get(key)
            if value not in (None, ""):
                try:
                    setattr(f, key, int(value))
                except (TypeError, ValueError):
                    raise BadInput(f"{key} must be a whole number, not {str(value)[:40]!r}") from None
        if data.get("min_score") not in (None, ""):
            try:
                f.min_score = float(data["min_score"])
            except (TypeError, ValueError):
                raise BadInput("min_score must be a number between 0 and 1") from None
        return f

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", 0.0) or k == "status"}


def episode_key(series: Optional[str], episode: Optional[str]) -> str:
    return f"{series or ''}/{episode or ''}"


def parse_episode(key: str) -> tuple[Optional[str], Optional[str]]:
    series, _, episode = key.rpartition("/")  # series names may hold '/', episodes do not
    return series or None, episode or None


@dataclass
class TagTerm:
    alternatives: list[str]
    negate: bool = False


def parse_tags(expr: str) -> list[TagTerm]:
    terms = []
    for raw in (expr or "").split(","):
        raw = raw.strip()
        if not raw:
            continue
        negate = raw[0] in "-!" and len(raw) > 1
        body = raw[1:].strip() if negate else raw
        alts = [a.strip() for a in body.split("|") if a.strip()]
        if alts:
            terms.append(TagTerm(alts, negate))
    if len(terms) > MAX_TERMS:
        raise BadInput(f"too many tag terms ({len(terms)})", f"use at most {MAX_TERMS}")
    return terms


def _tag_match(term: TagTerm, min_score: float) -> tuple[str, list[Any]]:
    conds, args = [], []
    exact = [a for a in term.alternatives if not any(c in a for c in "*?[")]
    if exact:
        conds.append(f"tag IN ({','.join('?' * len(exact))})")
        args += exact
    for pattern in (a for a in term.alternatives if any(c in a for c in "*?[")):
        conds.append("tag GLOB ?")
        args.append(pattern)
    sql = f"SELECT item_id FROM tags WHERE ({' OR '.join(conds)})"
    if min_score > 0:
        sql += " AND score >= ?"
        args.append(min_score)
    return sql, args


def where(f: Filter) -> tuple[str, list[Any]]:
    """SQL condition over `items i` and its parameters."""
    conds: list[str] = []
    args: list[Any] = []
    if f.status not in STATUSES:
        raise BadInput(f"unknown status {f.status!r}", f"use one of {', '.join(STATUSES)}")
    if f.status != "any":
        conds.append("i.status = ?")
        args.append(f.status)
    for term in parse_tags(f.tags):
        sub, sub_args = _tag_match(term, f.min_score)
        conds.append(f"i.id {'NOT IN' if term.negate else 'IN'} ({sub})")
        args += sub_args
    if f.bucket is not None:
        conds.append("i.bucket IS NULL" if f.bucket == NONE else "i.bucket = ?")
        args += [] if f.bucket == NONE else [f.bucket]
    if f.character is not None:
        if f.character == NONE:
            conds.append("i.id NOT IN (SELECT item_id FROM faces WHERE character IS NOT NULL)")
        else:
            conds.append("i.id IN (SELECT item_id FROM faces WHERE character = ?)")
            args.append(f.character)
    if f.episode is not None:
        series, episode = parse_episode(f.episode)
        conds.append("i.series IS ?" + " AND i.episode IS ?")
        args += [series, episode]
    if f.source is not None:
        conds.append("i.source_id = ?")
        args.append(f.source)
    if f.cluster is not None:
        conds.append("i.cluster = ?")
        args.append(f.cluster)
    if f.text:
        conds.append("i.path LIKE ? ESCAPE '\\'")
        args.append("%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    return (" AND ".join(conds) or "1"), args


def order_by(order: str) -> str:
    if order not in ORDERS:
        raise BadInput(f"unknown sort order {order!r}", f"use one of {', '.join(ORDERS)}")
    return ORDERS[order]
