"""Flat-colour background art (panoramas wider and/or taller than the frame) and the title card.

Layouts are measured from the *bottom* of the panorama in units of the frame height ``fh``, so a
taller panorama only adds sky above (for tilts). Everything is drawn at twice the size and
box-reduced, so flat areas keep exact colours and outlines are anti-aliased.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .cast import LINE

SS = 2
BACKGROUNDS = ("city", "sunset", "room", "park", "roof")


def _lerp(a, b, t):
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))


def _sky(d: ImageDraw.ImageDraw, w: int, h: int, top, bottom, bands: int = 12) -> None:
    """A banded (cel-style) vertical gradient."""
    for k in range(bands):
        y0, y1 = h * k // bands, h * (k + 1) // bands
        d.rectangle((0, y0, w, y1), fill=_lerp(top, bottom, k / (bands - 1)))


def _clouds(d, rng, w, y_lo, y_hi, s, colour=(255, 255, 255), shade=(222, 232, 246)) -> None:
    for _ in range(max(2, w // (260 * s))):
        cx, cy = rng.uniform(0, w), rng.uniform(y_lo, y_hi)
        r = rng.uniform(24, 46) * s
        for k, (dx, dy, f) in enumerate(((-1.2, 0.25, 0.75), (1.2, 0.25, 0.7), (0, 0, 1.0), (0.6, 0.35, 0.6))):
            x, y, rr = cx + dx * r, cy + dy * r, r * f
            d.ellipse((x - rr * 1.4, y - rr, x + rr * 1.4, y + rr), fill=colour if k != 3 else shade,
                      outline=None)


def _buildings(d, rng, w, base, fh, s, day: bool) -> None:
    x = -rng.uniform(0, 60) * s
    while x < w:
        bw = rng.uniform(70, 160) * s
        bh = rng.uniform(0.25, 0.6) * fh
        col = tuple(int(c) for c in rng.choice(
            [(196, 200, 214), (176, 186, 204), (214, 206, 196), (160, 172, 190)] if day else
            [(92, 70, 104), (74, 58, 92), (108, 78, 100), (64, 52, 84)]))
        d.rectangle((x, base - bh, x + bw, base), fill=col, outline=LINE, width=2 * s // 2 + 1)
        win = (150, 190, 226) if day else (255, 214, 120)
        for wy in np.arange(base - bh + 14 * s, base - 16 * s, 22 * s):
            for wx in np.arange(x + 10 * s, x + bw - 18 * s, 24 * s):
                if day or rng.random() < 0.55:
                    d.rectangle((wx, wy, wx + 12 * s, wy + 12 * s), fill=win)
        x += bw + rng.uniform(4, 30) * s


def _street(d, rng, w, h, fh, s, day: bool) -> None:
    ground = h - int(0.28 * fh)
    _buildings(d, rng, w, ground, fh, s, day)
    d.rectangle((0, ground, w, h), fill=(150, 150, 160) if day else (92, 80, 104), outline=LINE, width=s + 1)
    d.rectangle((0, ground, w, ground + int(0.05 * fh)), fill=(200, 198, 190) if day else (140, 110, 120))
    for x in np.arange(0, w, 90 * s):
        d.rectangle((x, h - int(0.12 * fh), x + 46 * s, h - int(0.105 * fh)), fill=(240, 240, 236))
    poles = list(np.arange(rng.uniform(40, 160) * s, w, 420 * s))
    top = ground - int(0.7 * fh)
    for k, px in enumerate(poles):  # power poles and sagging wires: an anime staple
        d.rectangle((px, top, px + 9 * s, ground + 6 * s), fill=(120, 110, 104), outline=LINE, width=s)
        d.rectangle((px - 26 * s, top + 18 * s, px + 35 * s, top + 24 * s), fill=(120, 110, 104))
        if k + 1 < len(poles):
            nx = poles[k + 1]
            for off, sag in ((-22, 40), (30, 52)):
                pts = [(px + off * s + (nx - px) * t / 10, top + 20 * s + sag * s * 4 * (t / 10) * (1 - t / 10))
                       for t in range(11)]
                d.line(pts, fill=LINE, width=s, joint="curve")


def _room(d, rng, w, h, fh, s) -> None:
    floor = h - int(0.22 * fh)
    d.rectangle((0, 0, w, floor), fill=(244, 232, 206))
    d.rectangle((0, floor, w, h), fill=(196, 150, 104), outline=LINE, width=s + 1)
    for x in np.arange(0, w, 60 * s):
        d.line([(x, floor), (x - 80 * s, h)], fill=(170, 124, 84), width=s)
    d.rectangle((0, floor - 12 * s, w, floor), fill=(170, 140, 110), outline=LINE, width=s)
    wy0, wy1 = h - int(0.95 * fh), floor - int(0.3 * fh)
    x = 50 * s
    while x < w - 200 * s:
        if rng.random() < 0.35:  # blackboard
            d.rectangle((x, wy0 + 20 * s, x + 260 * s, wy1), fill=(46, 96, 74), outline=(120, 84, 50), width=6 * s)
            d.line([(x + 30 * s, wy0 + 60 * s), (x + 150 * s, wy0 + 70 * s)], fill=(240, 240, 240), width=2 * s)
            x += 320 * s
            continue
        d.rectangle((x, wy0, x + 190 * s, wy1), fill=(150, 206, 246), outline=LINE, width=3 * s)
        d.ellipse((x + 20 * s, wy0 + 30 * s, x + 110 * s, wy0 + 70 * s), fill=(255, 255, 255))
        d.line([(x + 95 * s, wy0), (x + 95 * s, wy1)], fill=(236, 236, 236), width=6 * s)
        d.line([(x, (wy0 + wy1) / 2), (x + 190 * s, (wy0 + wy1) / 2)], fill=(236, 236, 236), width=6 * s)
        d.rectangle((x - 8 * s, wy0, x + 24 * s, wy1 + 20 * s), fill=(238, 206, 110), outline=LINE, width=s)
        x += 260 * s


def _park(d, rng, w, h, fh, s) -> None:
    ground = h - int(0.3 * fh)
    for k, col in enumerate(((140, 196, 120), (110, 176, 100))):
        pts = [(0, h)] + [(x, ground - (0.18 - 0.1 * k) * fh * (1 + np.sin(x / (170 * s) + k * 2)) / 2)
                          for x in np.arange(0, w + 40 * s, 40 * s)] + [(w, h)]
        d.polygon(pts, fill=col, outline=LINE, width=s)
    d.polygon([(0, h), (w * 0.35, ground + 20 * s), (w * 0.65, ground + 20 * s), (w, h)], fill=(226, 206, 160))
    for x in np.arange(rng.uniform(20, 120) * s, w, rng.uniform(180, 260) * s):
        ty = ground - rng.uniform(0.05, 0.15) * fh
        d.rectangle((x - 7 * s, ty - 0.1 * fh, x + 7 * s, ty + 30 * s), fill=(130, 90, 60), outline=LINE, width=s)
        r = rng.uniform(40, 60) * s
        d.ellipse((x - r, ty - 0.1 * fh - 1.5 * r, x + r, ty - 0.1 * fh + 0.4 * r), fill=(70, 150, 84),
                  outline=LINE, width=s + 1)


def _roof(d, rng, w, h, fh, s) -> None:
    floor = h - int(0.3 * fh)
    _buildings(d, rng, w, floor - int(0.12 * fh), fh * 0.5, s, True)
    d.rectangle((0, floor, w, h), fill=(182, 186, 180), outline=LINE, width=s + 1)
    for x in np.arange(0, w, 140 * s):
        d.line([(x, floor), (x - 40 * s, h)], fill=(160, 164, 158), width=s)
    top = floor - int(0.42 * fh)
    d.rectangle((0, top, w, top + 6 * s), fill=(90, 130, 110))
    for x in np.arange(0, w, 18 * s):  # chain-link fence
        d.line([(x, top), (x + 0.42 * fh * 0.6, floor)], fill=(90, 130, 110), width=s)
        d.line([(x, top), (x - 0.42 * fh * 0.6, floor)], fill=(90, 130, 110), width=s)
    for x in np.arange(0, w, 200 * s):
        d.rectangle((x, top, x + 8 * s, floor), fill=(70, 104, 90), outline=LINE, width=s)


def panorama(kind: str, width: int, height: int, frame_h: int, seed: int) -> np.ndarray:
    """An (height, width, 3) uint8 background of ``kind`` (one of BACKGROUNDS)."""
    if kind not in BACKGROUNDS:
        raise ValueError(f"unknown background {kind!r}; known: {', '.join(BACKGROUNDS)}")
    rng = np.random.default_rng([seed, BACKGROUNDS.index(kind)])
    s, w, h, fh = SS, width * SS, height * SS, frame_h * SS
    img = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(img)
    day = kind != "sunset"
    if kind == "room":
        _room(d, rng, w, h, fh, s)
    else:
        top, bottom = ((58, 120, 214), (176, 220, 250)) if day else ((74, 54, 130), (255, 170, 110))
        _sky(d, w, h, top, bottom)
        _clouds(d, rng, w, 0.05 * h, h - 0.75 * fh, s,
                *(() if day else ((255, 196, 170), (236, 150, 150))))
        if kind in ("city", "sunset"):
            _street(d, rng, w, h, fh, s, day)
        elif kind == "park":
            _park(d, rng, w, h, fh, s)
        else:
            _roof(d, rng, w, h, fh, s)
    return np.asarray(img.reduce(SS), dtype=np.uint8).copy()


def title_card(width: int, height: int, title: str, seed: int) -> np.ndarray:
    """A logo card: diagonal colour bands, a star burst and the series title."""
    rng = np.random.default_rng([seed, 99])
    s, w, h = SS, width * SS, height * SS
    img = Image.new("RGB", (w, h), (255, 244, 250))
    d = ImageDraw.Draw(img)
    for k in range(8):
        x = (k - 2) * w / 5
        d.polygon([(x, 0), (x + w / 10, 0), (x + w / 10 - h * 0.6, h), (x - h * 0.6, h)],
                  fill=(255, 206, 226) if k % 2 else (206, 226, 255))
    cx, cy = w * 0.5, h * 0.46
    pts = []
    for k in range(24):
        r = (0.36 if k % 2 == 0 else 0.22) * h * (1 + 0.05 * rng.random())
        a = np.pi * 2 * k / 24
        pts.append((cx + r * 1.6 * np.cos(a), cy + r * np.sin(a)))
    d.polygon(pts, fill=(255, 214, 80), outline=LINE, width=3 * s)
    size = max(8, int(h * 0.16))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        font = ImageFont.load_default()
    d.text((cx, cy), title.upper(), font=font, fill=(230, 60, 110), anchor="mm", stroke_width=max(1, size // 12),
           stroke_fill=LINE)
    return np.asarray(img.reduce(SS), dtype=np.uint8).copy()
