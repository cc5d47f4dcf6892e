"""A built-in stroke font in the style of the legacy plates' lettering.

The 1995-2016 plates were stamped with tall, narrow characters drawn as strokes of one
width: rounded-rectangle bowls (O, 0 and D are boxes with round corners, not ovals), an
M whose middle vertex stops half way down, flat-topped digits. None of the installed
sans faces has those shapes, so this module draws them from their strokes. Each glyph
is a few polylines on a box one unit wide and two tall (y down); a vertex may carry a
corner radius. A few variants (stroke weight, corner roundness, end caps) make a family.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .fonts import GLYPH_SIZE, Font

R = -1.0  # a vertex with this radius is rounded with the variant's corner radius

# A stroke is (points, closed). A point is (x, y) or (x, y, radius).
_O = [((0, 0, R), (1, 0, R), (1, 2, R), (0, 2, R)), True]
GLYPHS: dict[str, list] = {
    "A": [[((0, 2), (0.38, 0), (0.62, 0), (1, 2)), False], [((0.17, 1.3), (0.83, 1.3)), False]],
    "B": [[((0, 0), (0.85, 0, R), (0.85, 0.95, R), (0, 0.95)), False],
          [((0, 0.95), (1, 0.95, R), (1, 2, R), (0, 2), (0, 0)), False]],
    "C": [[((1, 0.45), (1, 0, R), (0, 0, R), (0, 2, R), (1, 2, R), (1, 1.55)), False]],
    "D": [[((0, 0), (1, 0, R), (1, 2, R), (0, 2)), True]],
    "E": [[((1, 0), (0, 0), (0, 2), (1, 2)), False], [((0, 0.97), (0.8, 0.97)), False]],
    "F": [[((1, 0), (0, 0), (0, 2)), False], [((0, 0.97), (0.8, 0.97)), False]],
    "G": [[((1, 0.45), (1, 0, R), (0, 0, R), (0, 2, R), (1, 2, R), (1, 1.05), (0.5, 1.05)),
           False]],
    "H": [[((0, 0), (0, 2)), False], [((1, 0), (1, 2)), False], [((0, 0.97), (1, 0.97)), False]],
    "I": [[((0.5, 0), (0.5, 2)), False]],
    "J": [[((1, 0), (1, 2, R), (0, 2, R), (0, 1.5)), False]],
    "K": [[((0, 0), (0, 2)), False], [((1, 0), (0, 1.3)), False], [((0.32, 0.9), (1, 2)), False]],
    "L": [[((0, 0), (0, 2), (1, 2)), False]],
    "M": [[((0, 2), (0, 0), (0.5, 1.1), (1, 0), (1, 2)), False]],
    "N": [[((0, 2), (0, 0), (1, 2), (1, 0)), False]],
    "O": [_O],
    "P": [[((0, 2), (0, 0), (1, 0, R), (1, 1.05, R), (0, 1.05)), False]],
    "Q": [_O, [((0.55, 1.45), (1.05, 2.15)), False]],
    "R": [[((0, 2), (0, 0), (1, 0, R), (1, 1.05, R), (0, 1.05)), False],
          [((0.5, 1.05), (1, 2)), False]],
    "S": [[((1, 0.4), (1, 0, R), (0, 0, R), (0, 0.97, R), (1, 0.97, R), (1, 2, R), (0, 2, R),
            (0, 1.6)), False]],
    "T": [[((0, 0), (1, 0)), False], [((0.5, 0), (0.5, 2)), False]],
    "U": [[((0, 0), (0, 2, R), (1, 2, R), (1, 0)), False]],
    "V": [[((0, 0), (0.5, 2), (1, 0)), False]],
    "W": [[((0, 0), (0.22, 2), (0.5, 0.7), (0.78, 2), (1, 0)), False]],
    "X": [[((0, 0), (1, 2)), False], [((1, 0), (0, 2)), False]],
    "Y": [[((0, 0), (0.5, 1.05), (1, 0)), False], [((0.5, 1.05), (0.5, 2)), False]],
    "Z": [[((0, 0), (1, 0), (0, 2), (1, 2)), False]],
    "0": [_O],
    "1": [[((0.15, 0.45), (0.6, 0), (0.6, 2)), False]],
    "2": [[((0, 0.45), (0, 0, R), (1, 0, R), (1, 0.85, R), (0, 2), (1, 2)), False]],
    "3": [[((0, 0.4), (0, 0, R), (1, 0, R), (1, 2, R), (0, 2, R), (0, 1.6)), False],
          [((0.3, 0.97), (1, 0.97)), False]],
    "4": [[((0.8, 2), (0.8, 0), (0, 1.4), (1, 1.4)), False]],
    "5": [[((1, 0), (0, 0), (0, 0.95), (1, 0.95, R), (1, 2, R), (0, 2, R), (0, 1.6)), False]],
    "6": [[((1, 0.4), (1, 0, R), (0, 0, R), (0, 2, R), (1, 2, R), (1, 0.95, R), (0, 0.95)),
           False]],
    "7": [[((0, 0), (1, 0), (0.3, 2)), False]],
    "8": [[((0.06, 0, R), (0.94, 0, R), (0.94, 0.95, R), (0.06, 0.95, R)), True],
          [((0, 0.95, R), (1, 0.95, R), (1, 2, R), (0, 2, R)), True]],
    "9": [[((0, 1.6), (0, 2, R), (1, 2, R), (1, 0, R), (0, 0, R), (0, 1.05, R), (1, 1.05)),
           False]],
    "-": [[((0.15, 1.1), (0.85, 1.1)), False]],
    ".": [[((0.5, 1.95), (0.5, 2)), False]],
    ":": [[((0.5, 0.6), (0.5, 0.65)), False], [((0.5, 1.5), (0.5, 1.55)), False]],
    "/": [[((1, 0), (0, 2)), False]],
    "+": [[((0.5, 0.5), (0.5, 1.5)), False], [((0, 1), (1, 1)), False]],
}


@dataclass(frozen=True)
class StrokeStyle:
    name: str
    weight: float  # stroke width, in units of the glyph's width
    corner: float  # corner radius of rounded vertices, same units
    round_caps: bool


STYLES = (
    StrokeStyle("legacy-stroke-bold", 0.26, 0.42, False),
    StrokeStyle("legacy-stroke", 0.2, 0.3, False),
    StrokeStyle("legacy-stroke-round", 0.17, 0.5, True),
)
STROKE_FONT_NAMES = frozenset(s.name for s in STYLES)


def _fillet(a: np.ndarray, p: np.ndarray, b: np.ndarray, r: float) -> list[np.ndarray]:
    """Points of a rounded corner at p between segments a-p and p-b (quadratic Bezier)."""
    da, db = np.linalg.norm(a - p), np.linalg.norm(b - p)
    d = min(r, 0.5 * da, 0.5 * db)
    if d <= 0:
        return [p]
    p0 = p + (a - p) / da * d
    p1 = p + (b - p) / db * d
    t = np.linspace(0.0, 1.0, 8)[:, None]
    return list((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p + t**2 * p1)


def stroke_path(points, closed: bool, corner: float) -> np.ndarray:
    """The polyline of one stroke with its marked corners rounded, in glyph units."""
    pts = [np.array(p[:2], np.float64) for p in points]
    radii = [corner if len(p) > 2 else 0.0 for p in points]
    n = len(pts)
    out: list[np.ndarray] = []
    for i in range(n):
        if radii[i] > 0 and (closed or 0 < i < n - 1):
            out.extend(_fillet(pts[i - 1], pts[i], pts[(i + 1) % n], radii[i]))
        else:
            out.append(pts[i])
    if closed:
        out.append(out[0])
    return np.array(out)


def _extend_ends(path: np.ndarray, d: float) -> None:
    for end, nxt in ((0, 1), (-1, -2)):
        v = path[end] - path[nxt]
        n = np.linalg.norm(v)
        if n > 1e-6:
            path[end] += v / n * d


def render_glyph(strokes, style: StrokeStyle, height: int = GLYPH_SIZE) -> np.ndarray:
    """A glyph as a uint8 mask cropped to its ink, drawn 4x larger and reduced (antialiased)."""
    ss = 4
    unit = height * ss / (2 + style.weight)
    sw = style.weight * unit
    pad = sw
    canvas = Image.new("L", (round(1.3 * unit + 2 * pad), round(2.2 * unit + 2 * pad)), 0)
    draw = ImageDraw.Draw(canvas)
    for points, closed in strokes:
        path = stroke_path(points, closed, style.corner) * unit + pad
        if not closed and not style.round_caps:  # square caps: ends reach the cap height
            _extend_ends(path, sw / 2)
        xy = [tuple(p) for p in path]
        if len(xy) == 1 or np.ptp(path, axis=0).max() < 1e-6:
            xy = xy * 2
        draw.line(xy, fill=255, width=max(1, round(sw)), joint="curve")
        for x, y in (xy[0], xy[-1]) if style.round_caps and not closed else ():
            draw.ellipse((x - sw / 2, y - sw / 2, x + sw / 2, y + sw / 2), fill=255)
    a = np.asarray(canvas)
    ys, xs = np.nonzero(a > 64)
    a = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = a.shape
    return cv2.resize(a, (max(1, round(w / ss)), max(1, round(h / ss))),
                      interpolation=cv2.INTER_AREA)


def stroke_fonts() -> list[Font]:
    """The built-in stroke font family; lower-case text is drawn in capitals."""
    fonts = []
    for style in STYLES:
        glyphs = {ch: render_glyph(strokes, style) for ch, strokes in GLYPHS.items()}
        for ch in "abcdefghijklmnopqrstuvwxyz":
            glyphs[ch] = glyphs[ch.upper()]
        fonts.append(Font(style.name, glyphs, glyphs["H"].shape[0]))
    return fonts
