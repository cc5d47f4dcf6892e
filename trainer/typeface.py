"""The legacy plates' lettering as a font file: `python -m trainer typeface --out FILE.ttf`.

No font that can be fetched here draws the 1995-2016 plates' characters (straight-legged
M, W and N, a serifed I, an O that is a rounded rectangle beside a D with a straight
back), so `lettering.py` draws them from stroke skeletons. This module turns those
strokes into glyph outlines and writes a TrueType font with every plate character, made
at set-up from the repository's own stroke data. The generator draws the same shapes
straight from the strokes (`--lettering`); the font file is for everything else that
draws text (`--fonts build/fonts` loads it like any other font, and so does any tool).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from trainer.fonts import PLATE_CHARS
from trainer.lettering import STYLES, Lettering, draw_glyph

UNITS = 1000  # font units per em
CAP = 700  # the capitals' height in font units, rendered at this many pixels
SIDE = 40  # side bearing in font units
FAMILY = "anprd Legacy Plate"


def outlines(ch: str, style: Lettering) -> list[np.ndarray]:
    """The character's contours in font units (y up, baseline at 0): the outer ones
    clockwise and the holes counter-clockwise, as TrueType fills them."""
    mask = draw_glyph(ch, style, CAP)
    pad = cv2.copyMakeBorder((mask > 127).astype(np.uint8), 2, 2, 2, 2, cv2.BORDER_CONSTANT)
    contours, hierarchy = cv2.findContours(pad, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    height = mask.shape[0]
    out = []
    for c, (_, _, _, parent) in zip(contours, hierarchy[0], strict=True):
        c = cv2.approxPolyDP(c, 1.0, True)[:, 0].astype(np.float64)
        if len(c) < 3:
            continue
        pts = np.column_stack([c[:, 0] - 2, height - (c[:, 1] - 2)])  # y up from the bottom
        x, y = pts[:, 0], pts[:, 1]
        area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)  # > 0: counter-clockwise
        outer = parent < 0
        if (area > 0) == outer:
            pts = pts[::-1]
        out.append(np.round(pts).astype(int))
    return out


def build(path: Path, style: Lettering = STYLES[0]) -> Path:
    """Write the typeface of `style` to `path` (a .ttf file) and return the path."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = {ch: (ch if ch.isalpha() else f"digit{ch}") for ch in PLATE_CHARS}
    order = [".notdef", "space", *names.values()]
    glyphs, metrics, top = {}, {}, CAP
    glyphs[".notdef"], glyphs["space"] = TTGlyphPen(None).glyph(), TTGlyphPen(None).glyph()
    metrics[".notdef"] = metrics["space"] = (round(CAP * style.width * 0.6), 0)
    for ch, name in names.items():
        pen = TTGlyphPen(None)
        contours = outlines(ch, style)
        for c in contours:
            c = c + [SIDE, 0]
            pen.moveTo(tuple(c[0]))
            for p in c[1:]:
                pen.lineTo(tuple(p))
            pen.closePath()
        glyphs[name] = pen.glyph()
        right = max(int(c[:, 0].max()) for c in contours) + 2 * SIDE
        top = max(top, *(int(c[:, 1].max()) for c in contours))
        metrics[name] = (right, SIDE)
    fb = FontBuilder(UNITS, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({ord(" "): "space", **{ord(c): n for c, n in names.items()}})
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=top + 100, descent=-100)
    fb.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=top + 100, sTypoDescender=-100, usWinAscent=top + 100,
                usWinDescent=100, sCapHeight=top)
    fb.setupPost()
    path.parent.mkdir(parents=True, exist_ok=True)
    fb.save(str(path))
    return path
