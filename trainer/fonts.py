"""Plate-like fonts: finding them and rendering their glyphs once into masks.

Plates are composed by pasting pre-rendered glyph masks, which is what makes the
generator fast enough to feed training: no font rasterisation per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PLATE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Extra glyphs for text that is not a plate (signs, captions, timestamps).
OTHER_CHARS = "abcdefghijklmnopqrstuvwxyz-:./%$#&+"

# Debian packages with clear licences (see README): narrow DIN-like sans faces.
SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/opendin/OSP-DIN.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Medium.ttf",
    "/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
    "/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Regular.otf",
    "/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Bold.otf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
)
FONT_SUFFIXES = (".ttf", ".otf", ".TTF", ".OTF")
GLYPH_SIZE = 64  # rendering size in pixels; glyphs are scaled down when pasted


class FontError(Exception):
    """No usable font, or a font folder that does not exist."""


@dataclass(frozen=True)
class Font:
    name: str
    glyphs: dict[str, np.ndarray]  # char -> uint8 mask cropped to its ink, 0..255
    cap_height: int  # height of the capital letters in the masks
    # Scaled glyphs already made, by (char, height, width factor in 1/20 steps).
    cache: dict = field(default_factory=dict, compare=False, repr=False)


def find_font_files(extra_dirs: list[str | Path] = ()) -> list[Path]:
    """The installed system fonts plus every font file in the given folders."""
    files = [Path(p) for p in SYSTEM_FONTS if Path(p).is_file()]
    for d in extra_dirs:
        d = Path(d)
        if not d.is_dir():
            raise FontError(f"font folder not found: {d}")
        found = sorted(p for p in d.rglob("*") if p.suffix in FONT_SUFFIXES)
        if not found:
            raise FontError(f"no .ttf or .otf font in folder: {d}")
        files.extend(found)
    if not files:
        raise FontError(
            "no plate font found: install the Debian packages fonts-opendin "
            "fonts-roboto-unhinted fonts-liberation (make setup does) or pass --fonts DIR"
        )
    return files


def _render_glyph(font: ImageFont.FreeTypeFont, ch: str) -> np.ndarray | None:
    left, top, right, bottom = font.getbbox(ch)
    if right <= left or bottom <= top:
        return None
    img = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(img).text((2 - left, 2 - top), ch, fill=255, font=font)
    a = np.asarray(img)
    ys, xs = np.nonzero(a > 16)
    if len(ys) == 0:
        return None
    return np.ascontiguousarray(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])


def load_font(path: Path) -> Font:
    try:
        ft = ImageFont.truetype(str(path), GLYPH_SIZE)
    except OSError as e:
        raise FontError(f"cannot read font {path}: {e}") from None
    glyphs = {}
    for ch in PLATE_CHARS + OTHER_CHARS:
        g = _render_glyph(ft, ch)
        if g is not None:
            glyphs[ch] = g
    missing = [c for c in PLATE_CHARS if c not in glyphs]
    if missing:
        raise FontError(f"font {path} lacks plate characters {''.join(missing)}")
    # A font's glyphs of digits/capitals can differ in height; use the letter H.
    return Font(path.stem, glyphs, glyphs["H"].shape[0])


def load_fonts(extra_dirs: list[str | Path] = ()) -> list[Font]:
    fonts = []
    for p in find_font_files(extra_dirs):
        try:
            fonts.append(load_font(p))
        except FontError:
            if any(str(p).startswith(str(d)) for d in extra_dirs):
                raise
    if not fonts:
        raise FontError("no usable plate font found")
    return fonts


def scaled_glyph(font: Font, ch: str, height: int, width_factor: float) -> np.ndarray:
    """The glyph as a float mask in 0..1, scaled to a cap height in pixels (read-only)."""
    key = (ch, int(height), round(width_factor * 20))
    out = font.cache.get(key)
    if out is None:
        g = font.glyphs[ch]
        scale = height / font.cap_height
        h = max(1, round(g.shape[0] * scale))
        w = max(1, round(g.shape[1] * scale * key[2] / 20))
        out = cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        out.flags.writeable = False
        font.cache[key] = out
    return out
