"""The recurring cast of the sample series: stable ids, display names and flat-colour palettes.

Each character differs from the others in hair colour *and* hair shape, eye colour and outfit
colour, so that a colour histogram of the face crop (bangs, eyes, skin) tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

RGB = tuple[int, int, int]

SKIN: RGB = (255, 228, 208)
SKIN_SHADE: RGB = (238, 190, 172)
LINE: RGB = (52, 36, 48)
EYE_WHITE: RGB = (255, 255, 255)
MOUTH: RGB = (150, 48, 58)
TONGUE: RGB = (235, 120, 120)


@dataclass(frozen=True)
class Character:
    """One member of the cast. Colours are sRGB tuples; ``hair_style`` picks the hair shapes."""

    id: str
    name: str
    hair_style: str  # "bob", "twintails", "spiky", "long"
    hair: RGB
    hair_shade: RGB
    hair_light: RGB
    eyes: RGB
    eyes_dark: RGB
    outfit: RGB
    outfit_shade: RGB
    accent: RGB  # collar, ribbon, shirt under a jacket
    legs: RGB  # skirt / trousers

    def to_dict(self) -> dict:
        def hx(c: RGB) -> str:
            return "#%02x%02x%02x" % c

        return {
            "id": self.id,
            "name": self.name,
            "hair_style": self.hair_style,
            "hair": hx(self.hair),
            "eyes": hx(self.eyes),
            "outfit": hx(self.outfit),
            "accent": hx(self.accent),
            "skin": hx(SKIN),
        }


CHARACTERS: tuple[Character, ...] = (
    Character(
        id="aoi", name="Aoi", hair_style="bob",
        hair=(64, 124, 222), hair_shade=(40, 84, 170), hair_light=(150, 196, 255),
        eyes=(236, 168, 36), eyes_dark=(150, 88, 10),
        outfit=(248, 248, 252), outfit_shade=(206, 210, 228), accent=(36, 56, 128),
        legs=(40, 58, 126),
    ),
    Character(
        id="beni", name="Beni", hair_style="twintails",
        hair=(214, 52, 66), hair_shade=(150, 28, 44), hair_light=(255, 140, 140),
        eyes=(52, 176, 96), eyes_dark=(16, 96, 48),
        outfit=(255, 164, 52), outfit_shade=(214, 116, 28), accent=(255, 236, 160),
        legs=(70, 70, 92),
    ),
    Character(
        id="kuro", name="Kuro", hair_style="spiky",
        hair=(44, 40, 56), hair_shade=(24, 20, 32), hair_light=(110, 108, 140),
        eyes=(214, 36, 44), eyes_dark=(110, 10, 20),
        outfit=(52, 140, 92), outfit_shade=(30, 96, 62), accent=(240, 240, 236),
        legs=(48, 52, 66),
    ),
    Character(
        id="shiro", name="Shiro", hair_style="long",
        hair=(232, 234, 246), hair_shade=(184, 188, 214), hair_light=(255, 255, 255),
        eyes=(156, 84, 216), eyes_dark=(84, 36, 140),
        outfit=(242, 140, 184), outfit_shade=(206, 96, 146), accent=(255, 255, 255),
        legs=(242, 140, 184),
    ),
)

CHARACTER_IDS: tuple[str, ...] = tuple(c.id for c in CHARACTERS)


def character(char_id: str) -> Character:
    """The cast member with this id (``KeyError`` if unknown)."""
    for c in CHARACTERS:
        if c.id == char_id:
            return c
    raise KeyError(f"unknown sample character {char_id!r}; known: {', '.join(CHARACTER_IDS)}")


# Outfit-colour variants (index 1..): (outfit, shade). Some keep the brightness of others and change
# only the hue, so that a grey signature cannot tell them apart while the picture clearly differs.
OUTFITS: tuple[tuple[RGB, RGB], ...] = (
    ((0, 0, 0), (0, 0, 0)),  # 0: the character's own colours (placeholder, never used)
    ((226, 72, 84), (170, 44, 60)),
    ((72, 150, 206), (44, 104, 160)),
    ((150, 126, 64), (108, 90, 40)),
    ((120, 170, 90), (80, 124, 58)),
)


def dressed(ch: Character, outfit: int) -> Character:
    """``ch`` in outfit-colour variant ``outfit`` (0: unchanged)."""
    if outfit == 0:
        return ch
    if not 0 < outfit < len(OUTFITS):
        raise ValueError(f"outfit variant {outfit} is outside 0..{len(OUTFITS) - 1}")
    colour, shade = OUTFITS[outfit]
    return replace(ch, outfit=colour, outfit_shade=shade)
