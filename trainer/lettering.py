"""Plate lettering drawn from stroke skeletons, as plate makers emboss it.

Argentine legacy plates (1995-2016) carry tall, condensed characters of one stroke
width, with straight sides and rounded corners: an O is a narrow rounded rectangle,
close to a D; an M's middle strokes meet low down; a 4's crossbar sits low under a tall,
narrow triangle; an I has serifs. None of the installed fonts draws them so, and the
reader confused exactly those letters on real plates (O as D, M as H or W). Here each
character is a few strokes (polylines, arcs as short segments) in a box one unit tall,
drawn with a round pen; a `Lettering` sets the box's width, the pen's width and how
round the corners are, and `stroke_fonts` makes `Font`s of them, which the renderer
uses like any other font.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from trainer.fonts import GLYPH_SIZE, PLATE_CHARS, Font

Path = list[tuple[float, float]]


@dataclass(frozen=True)
class Lettering:
    width: float  # the character's width, as a share of its height
    pen: float  # the stroke's width, as a share of the height
    round: float  # corner radius, as a share of half the width (1: semicircles)
    depth: float  # how far down an M's middle strokes meet (W's up), 0.5 to 0.8
    o_round: float = 0.6  # the O's and 0's corner radius, as `round`: rounded rectangles
    bar: float = 0.76  # how far down the 4's crossbar is: its triangle is tall and narrow
    flat4: bool = False  # the 4's top a short flat stroke: its triangle a narrow trapezoid


@dataclass(frozen=True)
class Box:
    """The pen's centre line stays inside: left, top, right, bottom and the middle."""

    l: float  # noqa: E741 (the box's left, as the other sides are named)
    t: float
    r: float
    b: float
    m: float
    rad: float  # corner radius
    half: float  # radius of the half-height bowls (B, P, R, S, 3, 5, 6, 8, 9)
    depth: float
    o_rad: float = 0.0  # the O's and 0's corner radius
    bar: float = 0.76
    flat4: bool = False

    @property
    def bow(self) -> float:
        """The D's right corners: rounder than the O's, whatever the style."""
        return max(self.rad, 0.8 * (self.r - self.l) / 2)

    @property
    def cx(self) -> float:
        return (self.l + self.r) / 2


def _arc(cx: float, cy: float, rad: float, a0: float, a1: float, n: int = 6) -> Path:
    """Points on a circle from angle a0 to a1 in degrees (0 right, 90 down: y points down)."""
    a = np.deg2rad(np.linspace(a0, a1, n))
    return list(zip(cx + rad * np.cos(a), cy + rad * np.sin(a), strict=True))


def _rounded(l: float, t: float, r: float, b: float, rad: float) -> Path:  # noqa: E741
    """A closed rounded rectangle, clockwise from the top left corner's end."""
    return (_arc(r - rad, t + rad, rad, -90, 0) + _arc(r - rad, b - rad, rad, 0, 90)
            + _arc(l + rad, b - rad, rad, 90, 180) + _arc(l + rad, t + rad, rad, 180, 270)
            + [(r - rad, t)])


def _c_shape(k: Box, top: float, bottom: float, rad: float) -> Path:
    """The left part of a rounded rectangle: from its upper right end round to its lower."""
    return (_arc(k.r - rad, top + rad, rad, 0, -90) + _arc(k.l + rad, top + rad, rad, 270, 180)
            + _arc(k.l + rad, bottom - rad, rad, 180, 90)
            + _arc(k.r - rad, bottom - rad, rad, 90, 0))


def _bowl_right(k: Box, top: float, bottom: float) -> Path:
    """From the stem at `top` round the right side back to the stem at `bottom`."""
    h = min(k.half, (bottom - top) / 2)
    return ([(k.l, top)] + _arc(k.r - h, top + h, h, -90, 0) + _arc(k.r - h, bottom - h, h, 0, 90)
            + [(k.l, bottom)])


def _six(k: Box) -> list[Path]:
    h = min(k.half, (k.b - k.m) / 2)
    hook = _arc(k.r - k.rad, k.t + k.rad, k.rad, 0, -90)[2:]
    side = (hook + _arc(k.l + k.rad, k.t + k.rad, k.rad, 270, 180)
            + _arc(k.l + h, k.b - h, h, 180, 90) + _arc(k.r - h, k.b - h, h, 90, 0)
            + _arc(k.r - h, k.m + h, h, 0, -90) + _arc(k.l + h, k.m + h, h, 270, 180))
    return [side]


def _turned(paths: list[Path], k: Box) -> list[Path]:
    """The paths turned half round the box's centre (6 into 9)."""
    return [[(k.l + k.r - x, k.t + k.b - y) for x, y in p] for p in paths]


def _s(k: Box) -> list[Path]:
    h = min(k.rad, (k.m - k.t) / 2)
    g = min(k.rad, (k.b - k.m) / 2)
    return [_arc(k.r - h, k.t + h, h, 20, -90) + _arc(k.l + h, k.t + h, h, 270, 180)
            + _arc(k.l + h, k.m - h, h, 180, 90) + _arc(k.r - g, k.m + g, g, -90, 0)
            + _arc(k.r - g, k.b - g, g, 0, 90) + _arc(k.l + g, k.b - g, g, 90, 160)]


def _three(k: Box) -> list[Path]:
    h = min(k.rad, (k.m - k.t) / 2)
    g = min(k.rad, (k.b - k.m) / 2)
    return [_arc(k.l + h, k.t + h, h, 200, 270) + _arc(k.r - h, k.t + h, h, -90, 0)
            + _arc(k.r - h, k.m - h, h, 0, 90) + [(k.cx - 0.05, k.m)],
            [(k.cx - 0.05, k.m)] + _arc(k.r - g, k.m + g, g, -90, 0)
            + _arc(k.r - g, k.b - g, g, 0, 90) + _arc(k.l + g, k.b - g, g, 90, 160)]


def _five(k: Box) -> list[Path]:
    top = k.m - 0.06
    h = min(k.rad, (k.b - top) / 2)
    return [[(k.r, k.t), (k.l, k.t), (k.l, top)] + _arc(k.r - h, top + h, h, -90, 0)
            + _arc(k.r - h, k.b - h, h, 0, 90) + _arc(k.l + h, k.b - h, h, 90, 160)]


def _four(k: Box) -> list[Path]:
    """Stem, slanted stroke and low crossbar. On many real legacy plates the slanted
    stroke rises steeply to a short flat top: the triangle is a narrow trapezoid, and
    blurred, its slit of a hole closes."""
    w = k.r - k.l
    stem, bar = k.r - 0.22 * w, k.t + k.bar * (k.b - k.t)
    top = [(k.l + 0.38 * w, k.t)] if k.flat4 else []
    return [[(stem, k.b), (stem, k.t), *top, (k.l, bar), (k.r, bar)]]


def _glyphs(k: Box) -> dict[str, Callable[[], list[Path]]]:
    l, t, r, b, m, cx, rad = k.l, k.t, k.r, k.b, k.m, k.cx, k.rad  # noqa: E741
    w = r - l
    a_bar = t + 0.62 * (b - t)
    return {
        "A": lambda: [[(l, b), (cx - 0.12 * w, t), (cx + 0.12 * w, t), (r, b)],
                      [(l + 0.16 * w, a_bar), (r - 0.16 * w, a_bar)]],
        "B": lambda: [[(l, t), (l, b)], _bowl_right(k, t, m), _bowl_right(k, m, b)],
        "C": lambda: [_c_shape(k, t, b, rad)],
        "D": lambda: [[(l, t)] + _arc(r - k.bow, t + k.bow, k.bow, -90, 0)
                      + _arc(r - k.bow, b - k.bow, k.bow, 0, 90) + [(l, b), (l, t)]],
        "E": lambda: [[(r, t), (l, t), (l, b), (r, b)], [(l, m), (r - 0.12 * w, m)]],
        "F": lambda: [[(r, t), (l, t), (l, b)], [(l, m), (r - 0.12 * w, m)]],
        "G": lambda: [_c_shape(k, t, b, rad) + [(r, m), (cx + 0.05, m)]],
        "H": lambda: [[(l, t), (l, b)], [(r, t), (r, b)], [(l, m), (r, m)]],
        "I": lambda: [[(cx, t), (cx, b)], [(cx - 0.3 * w, t), (cx + 0.3 * w, t)],
                      [(cx - 0.3 * w, b), (cx + 0.3 * w, b)]],
        "J": lambda: [[(r, t)] + _arc(r - rad, b - rad, rad, 0, 90)
                      + _arc(l + rad, b - rad, rad, 90, 180) + [(l, b - 0.3)]],
        "K": lambda: [[(l, t), (l, b)], [(r, t), (l, m + 0.08)], [(l + 0.3 * w, m - 0.04), (r, b)]],
        "L": lambda: [[(l, t), (l, b), (r, b)]],
        "M": lambda: [[(l, b), (l, t), (cx, t + k.depth * (b - t)), (r, t), (r, b)]],
        "N": lambda: [[(l, b), (l, t), (r, b), (r, t)]],
        "O": lambda: [_rounded(l, t, r, b, k.o_rad)],
        "P": lambda: [[(l, b), (l, t)], _bowl_right(k, t, m + 0.03)],
        "Q": lambda: [_rounded(l, t, r, b, rad), [(cx + 0.1 * w, b - 0.2), (r + 0.05, b + 0.06)]],
        "R": lambda: [[(l, b), (l, t)], _bowl_right(k, t, m), [(cx, m), (r, b)]],
        "S": lambda: _s(k),
        "T": lambda: [[(l - 0.03, t), (r + 0.03, t)], [(cx, t), (cx, b)]],
        "U": lambda: [[(l, t)] + _arc(l + rad, b - rad, rad, 180, 90)
                      + _arc(r - rad, b - rad, rad, 90, 0) + [(r, t)]],
        "V": lambda: [[(l, t), (cx, b), (r, t)]],
        "W": lambda: [[(l, t), (l, b), (cx, b - k.depth * (b - t)), (r, b), (r, t)]],
        "X": lambda: [[(l, t), (r, b)], [(r, t), (l, b)]],
        "Y": lambda: [[(l, t), (cx, m)], [(r, t), (cx, m)], [(cx, m), (cx, b)]],
        "Z": lambda: [[(l, t), (r, t), (l, b), (r, b)]],
        "0": lambda: [_rounded(l, t, r, b, k.o_rad)],
        "1": lambda: [[(l + 0.1 * w, t + 0.18), (cx + 0.12 * w, t), (cx + 0.12 * w, b)]],
        "2": lambda: [_arc(l + rad, t + rad, rad, 180, 270) + _arc(r - rad, t + rad, rad, -90, 0)
                      + [(r, m - 0.1), (l, b), (r, b)]],
        "3": lambda: _three(k),
        "4": lambda: _four(k),
        "5": lambda: _five(k),
        "6": lambda: _six(k),
        "7": lambda: [[(l, t), (r, t), (cx - 0.1 * w, b)]],
        "8": lambda: [_rounded(l + 0.04 * w, t, r - 0.04 * w, m, min(k.half, (m - t) / 2)),
                      _rounded(l, m, r, b, min(k.half, (b - m) / 2))],
        "9": lambda: _turned(_six(k), k),
    }


def draw_glyph(ch: str, style: Lettering, height: int = GLYPH_SIZE) -> np.ndarray:
    """The character as a uint8 mask (0..255), cropped to its ink."""
    pen = style.pen
    w = style.width
    rad = style.round * (w - pen) / 2
    k = Box(l=pen / 2, t=pen / 2, r=w - pen / 2, b=1 - pen / 2, m=0.5, rad=rad,
            half=min(rad, (0.5 - pen / 2) / 2) if rad > 0 else 0.0, depth=style.depth,
            o_rad=style.o_round * (w - pen) / 2, bar=style.bar, flat4=style.flat4)
    pad = height
    canvas = np.zeros((height + 2 * pad, round(w * height) + 2 * pad), np.uint8)
    thick = max(1, round(pen * height))
    for path in _glyphs(k)[ch]():
        pts = np.round((np.array(path) * height + pad) * 16).astype(np.int32)
        cv2.polylines(canvas, [pts], False, 255, thick, cv2.LINE_AA, shift=4)
    ys, xs = np.nonzero(canvas > 16)
    return np.ascontiguousarray(canvas[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1])


# Widths, pens and roundness around the real legacy lettering, with room either side;
# half with the flat-topped 4.
STYLES = (
    Lettering(width=0.44, pen=0.13, round=0.9, depth=0.6, o_round=0.6, bar=0.76),
    Lettering(width=0.50, pen=0.15, round=0.7, depth=0.7, o_round=0.45, bar=0.8, flat4=True),
    Lettering(width=0.46, pen=0.11, round=0.5, depth=0.55, o_round=0.5, bar=0.72),
    Lettering(width=0.55, pen=0.17, round=1.0, depth=0.65, o_round=0.7, bar=0.78, flat4=True),
)


def stroke_font(style: Lettering, name: str) -> Font:
    glyphs = {ch: draw_glyph(ch, style) for ch in PLATE_CHARS}
    return Font(name, glyphs, glyphs["H"].shape[0])


def stroke_fonts(styles: tuple[Lettering, ...] = STYLES) -> list[Font]:
    return [stroke_font(s, f"stroke-{i}") for i, s in enumerate(styles)]


SHALLOW_DEPTHS = (0.38, 0.45, 0.52)  # how far down the Mercosur M's V reaches


def with_shallow_m(font: Font, depth: float) -> Font:
    """`font` with its M and W redrawn with vertical legs and a shallow V, as the real
    Mercosur typeface draws them (the installed fonts' M splay their legs or cut the V
    deep, and the reader took the real M for H or W). The strokes keep the font's
    widths: the M's and W's, and the H's stem for the pen. Made once per font and depth."""
    key = ("shallow_m", depth)
    out = font.cache.get(key)
    if out is None:
        cap = font.cap_height
        pen = min(0.2, max(0.07, 0.8 * _stem(font.glyphs["H"]) / cap))  # the pen adds its ends
        glyphs = dict(font.glyphs)
        for ch in "MW":
            width = max(0.45, min(0.9, font.glyphs[ch].shape[1] / cap))
            glyphs[ch] = draw_glyph(ch, Lettering(width, pen, 0.0, depth), cap)
        out = Font(f"{font.name}-shallow-m", glyphs, cap)
        font.cache[key] = out
    return out


def _stem(glyph: np.ndarray) -> int:
    """The width in pixels of a glyph's left stem, a quarter of the way down."""
    row = glyph[glyph.shape[0] // 4] > 127
    ink = np.flatnonzero(row)
    if not len(ink):
        return 1
    gaps = np.flatnonzero(~row[ink[0]:])
    return int(gaps[0]) if len(gaps) else len(row) - ink[0]
