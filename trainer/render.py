"""Renders flat, front-on Argentine plates in grayscale: Mercosur and legacy.

A plate is drawn on a small canvas (about 0.4 px per millimetre) in values 0..1,
with an alpha mask for its rounded outline; `scene.py` then warps it into a window.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, replace

import cv2
import numpy as np

from anprd.detect.formats import SERIES
from trainer.fonts import Font, scaled_glyph
from trainer.lettering import SHALLOW_DEPTHS, with_shallow_m
from trainer.wear import peel_some

LETTERS = string.ascii_uppercase
DIGITS = string.digits
CANVAS_W = 160  # canvas width in pixels for a 400 mm Mercosur plate
SHALLOW_M_SHARE = 0.35  # of Mercosur plates, with the real typeface's M and W


@dataclass
class Plate:
    image: np.ndarray  # float32 (h, w) in 0..1
    alpha: np.ndarray  # float32 (h, w) in 0..1: the plate's outline
    text: str  # the plate's characters, no spaces
    format: str  # "mercosur_ar" or "legacy_ar"
    corners: np.ndarray | None = None  # (4, 2) plate corners on the canvas, clockwise
    centres: np.ndarray | None = None  # (len(text), 2) each character's centre on the canvas

    def __post_init__(self) -> None:
        if self.corners is None:
            h, w = self.image.shape
            self.corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])


def random_text(rng: np.random.Generator, fmt: str) -> str:
    groups = "LLDDDLL" if fmt == "mercosur_ar" else "LLLDDD"
    picks = rng.integers(0, 26 * 10, len(groups))  # one draw serves letters and digits
    series = SERIES.get(fmt, {})  # the letters the decoder accepts there, if fewer
    out = []
    for i, (g, k) in enumerate(zip(groups, picks, strict=True)):
        chars = series.get(i, LETTERS) if g == "L" else DIGITS
        out.append(chars[k % len(chars)])
    if fmt == "mercosur_ar" and rng.random() < 0.3:
        out[0] = "A"  # real Mercosur series have started with A so far
    return "".join(out)


def _rounded_mask(h: int, w: int, r: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    r = max(1, min(r, h // 3, w // 3))
    cv2.rectangle(m, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(m, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(m, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    return m.astype(np.float32) / 255.0


def _paste(dst: np.ndarray, g: np.ndarray, x: int, y: int) -> None:
    """Paste mask g at (x, y) by maximum, clipped to dst."""
    h, w = g.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, dst.shape[1]), min(y + h, dst.shape[0])
    if x1 > x0 and y1 > y0:
        np.maximum(
            dst[y0:y1, x0:x1], g[y0 - y : y1 - y, x0 - x : x1 - x], out=dst[y0:y1, x0:x1]
        )


def text_line(
    font: Font,
    text: str,
    shape: tuple[int, int],
    height: int,
    width_factor: float,
    spacing: float,
    gaps: dict[int, float],
    center: tuple[float, float],
    stroke: int = 0,
    max_width: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mask of a line of text centred at `center`, and (len(text), 2) character centres;
    `gaps` adds space before an index.

    A line wider than `max_width` is narrowed to fit, as plate makers fit the characters
    into the plate's text box: a wide font must never run off the plate."""
    if max_width is not None:
        scale = height / font.cap_height * width_factor
        natural = sum(
            font.glyphs[c].shape[1] * scale if c in font.glyphs else height * 0.3 * width_factor
            for c in text
        ) + (spacing * (len(text) - 1) + sum(gaps.values())) * height
        if natural > max_width:
            r = max_width / natural
            # Down to the glyph cache's 1/20 grid, so that the narrowed line does fit.
            width_factor = max(1, math.floor(width_factor * r * 20)) / 20
            spacing, gaps = spacing * r, {i: g * r for i, g in gaps.items()}
    glyphs = [
        scaled_glyph(font, c, height, width_factor) if c in font.glyphs else None for c in text
    ]
    adv = [g.shape[1] if g is not None else height * 0.3 * width_factor for g in glyphs]
    total = sum(adv) + spacing * height * (len(text) - 1) + sum(gaps.values()) * height
    mask = np.zeros(shape, np.float32)
    centres = np.zeros((len(text), 2), np.float32)
    x = center[0] - total / 2
    for i, g in enumerate(glyphs):
        x += gaps.get(i, 0.0) * height
        centres[i] = x + adv[i] / 2, center[1]
        if g is not None:
            # Glyphs sit on a common baseline: the bottom of the capitals.
            y = center[1] + height / 2 - g.shape[0]
            if text[i] in "gjpqy":
                y += height * 0.25
            _paste(mask, g, round(x), round(y))
        x += adv[i] + spacing * height
    if stroke > 0:
        mask = cv2.dilate(mask, np.ones((stroke + 1, stroke + 1), np.uint8))
    elif stroke < 0:
        mask = cv2.erode(mask, np.ones((2, 2), np.uint8))
    return mask, centres


def serif_bars(mask: np.ndarray, text: str, centres: np.ndarray, height: int,
               width: float) -> None:
    """Draw bars at the top and bottom of every I of a line, in place: the legacy plates'
    typeface draws its I so, so that it cannot pass for a 1."""
    thick = max(1, round(height * 0.11))
    for i, (ch, (cx, cy)) in enumerate(zip(text, centres, strict=True)):
        if ch != "I":
            continue
        x0, x1 = round(cx - width / 2), round(cx + width / 2)
        top, bottom = round(cy - height / 2), round(cy + height / 2)
        # The bars stop short of the neighbours: real plates keep their characters apart.
        if i > 0:
            x0 = max(x0, _ink_edge(mask, top, bottom, round(centres[i - 1, 0]), round(cx)) + 2)
        if i + 1 < len(text):
            x1 = min(x1, _ink_edge(mask, top, bottom, round(centres[i + 1, 0]), round(cx)) - 2)
        cv2.rectangle(mask, (x0, top), (x1, top + thick - 1), 1.0, -1)
        cv2.rectangle(mask, (x0, bottom - thick), (x1, bottom - 1), 1.0, -1)


def _ink_edge(mask: np.ndarray, top: int, bottom: int, start: int, stop: int) -> int:
    """The last column, going from `start` towards `stop`, that the characters ink between
    rows top and bottom before the first blank column."""
    step = 1 if stop > start else -1
    cols = mask[max(0, top) : bottom].max(axis=0, initial=0.0)
    x = start
    while x != stop and 0 <= x + step < len(cols) and cols[x + step] >= 0.05:
        x += step
    return x


def label_mask(
    font: Font, text: str, shape: tuple[int, int], height: int, spacing: float,
    center: tuple[float, float],
) -> np.ndarray:
    """Like text_line's mask for fixed words ("REPUBLICA ARGENTINA"): rendered once per font and
    height, then only pasted."""
    key = ("label", text, height, round(spacing * 100))
    line = font.cache.get(key)
    if line is None:
        canvas = (height * 2 + 4, round(len(text) * height * 1.6) + 8)
        m = text_line(font, text, canvas, height, 1.0, spacing, {},
                      (canvas[1] / 2, canvas[0] / 2))[0]
        ys, xs = np.nonzero(m)
        line = m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] if len(ys) else m[:1, :1]
        line.flags.writeable = False
        font.cache[key] = line
    mask = np.zeros(shape, np.float32)
    _paste(mask, line, round(center[0] - line.shape[1] / 2), round(center[1] - line.shape[0] / 2))
    return mask


def render_mercosur(
    rng: np.random.Generator, font: Font, small_font: Font, text: str | None = None,
    wear: np.random.Generator | None = None,
) -> Plate:
    w = CANVAS_W
    h = round(w * 130 / 400)
    text = text or random_text(rng, "mercosur_ar")
    if rng.random() < SHALLOW_M_SHARE:
        font = with_shallow_m(font, SHALLOW_DEPTHS[int(rng.integers(len(SHALLOW_DEPTHS)))])
    field = rng.uniform(0.72, 1.0)
    ink = rng.uniform(0.0, min(0.35, field - 0.35))
    band_v = rng.uniform(0.2, 0.6)  # blue band in gray: dark to mid
    band_h = round(h * rng.uniform(0.17, 0.23))
    img = np.full((h, w), field, np.float32)
    img[:band_h] = band_v
    # Security print: a faint diagonal wave pattern over the white field.
    if rng.random() < 0.8:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        freq = rng.uniform(0.15, 0.35)
        wave = np.sin((xx + yy * rng.uniform(-1, 1)) * freq) * rng.uniform(0.01, 0.05)
        img[band_h:] -= np.abs(wave[band_h:])
    band_ink = min(1.0, band_v + rng.uniform(0.3, 0.6))
    band_text = label_mask(
        small_font, "REPUBLICA ARGENTINA", (h, w), max(3, round(band_h * 0.45)), 0.12,
        (w / 2, band_h / 2),
    )
    img = img * (1 - band_text) + band_ink * band_text
    # Emblem (left) and flag (right) marks in the band.
    r = max(2, band_h // 3)
    cv2.circle(img, (round(w * 0.07), band_h // 2), r, float(band_ink * 0.9), -1, cv2.LINE_AA)
    fx = round(w * rng.uniform(0.86, 0.9))
    cv2.rectangle(img, (fx, band_h // 5), (fx + band_h, band_h - band_h // 5), 0.85, -1)
    cv2.rectangle(img, (fx, band_h // 2 - 1), (fx + band_h, band_h // 2), 0.98, -1)
    char_h = round(h * rng.uniform(0.46, 0.56))
    wf = rng.uniform(0.8, 1.15)
    gap = rng.uniform(0.15, 0.4)
    cy = band_h + (h - band_h) * rng.uniform(0.48, 0.54)
    stroke = int(rng.choice([-1, 0, 0, 0, 1]))
    mask, centres = text_line(
        font, text, (h, w), char_h, wf, rng.uniform(0.04, 0.12), {2: gap, 5: gap},
        (w / 2 + rng.uniform(-3, 3), cy), stroke, max_width=w * rng.uniform(0.8, 0.92),
    )
    mask = peel_some(wear, mask, centres)
    img = img * (1 - mask) + ink * mask
    border = rng.uniform(0.0, 0.35)
    th = int(rng.integers(1, 3))
    cv2.rectangle(img, (0, 0), (w - 1, h - 1), float(border), th)
    alpha = _rounded_mask(h, w, int(rng.integers(2, 8)))
    return Plate(img, alpha, text, "mercosur_ar", centres=centres)


EMBOSSED_SHARE = 0.5  # of legacy plates, drawn in their embossed holder look


def render_legacy(
    rng: np.random.Generator, font: Font, small_font: Font, text: str | None = None,
    wear: np.random.Generator | None = None,
) -> Plate:
    w = round(CANVAS_W * rng.uniform(0.78, 0.9))
    h = round(w / rng.uniform(2.2, 2.8))  # 294 x 129 mm, and cropped by frames
    text = text or random_text(rng, "legacy_ar")
    if rng.random() < EMBOSSED_SHARE:
        img, box = _embossed_field(rng, h, w, small_font)
        ink = float(rng.uniform(max(0.45, img[h // 2, w // 2] + 0.3), 1.0))
    else:
        img, box, ink = _flat_field(rng, h, w, small_font)
    x0, y0, x1, y1 = box
    fh, fw = y1 - y0, x1 - x0
    # Real legacy characters are tall and condensed, and fill most of their field.
    char_h = round(fh * rng.uniform(0.6, 0.82))
    sep = rng.random()
    gap = rng.uniform(0.3, 0.7)
    mask, centres = text_line(
        font, text, (h, w), char_h, rng.uniform(0.7, 1.15), rng.uniform(0.04, 0.14), {3: gap},
        ((x0 + x1) / 2 + rng.uniform(-2, 2), y0 + fh * rng.uniform(0.48, 0.56)),
        int(rng.choice([0, 0, 1])), max_width=fw * rng.uniform(0.84, 0.97),
    )
    if rng.random() < 0.7:
        serif_bars(mask, text, centres, char_h, char_h * rng.uniform(0.22, 0.3))
    if rng.random() < 0.25:  # embossed characters worn to their edges: outlines
        mask = mask - rng.uniform(0.3, 0.8) * cv2.erode(mask, np.ones((3, 3), np.uint8))
    if sep < 0.5:  # a dot or dash between letters and digits, as on many real plates
        _separator(mask, centres, char_h, dash=sep >= 0.25, jitter=rng.uniform(-0.2, 0.2))
    mask = peel_some(wear, mask, centres)
    img = img * (1 - mask) + ink * mask
    alpha = _rounded_mask(h, w, int(rng.integers(2, 6)))
    return Plate(img, alpha, text, "legacy_ar", centres=centres)


def _flat_field(rng: np.random.Generator, h: int, w: int, small_font: Font):
    """A legacy plate painted flat: a dark field (light under infrared or strong light,
    with dark characters) with a thin raised line near its edge. Returns the picture,
    the characters' box and their ink."""
    inverted = rng.random() < 0.35
    field = rng.uniform(0.0, 0.3)
    ink = rng.uniform(field + 0.35, 1.0)
    if inverted:
        field, ink = 1.0 - field, 1.0 - ink
    img = np.full((h, w), field, np.float32)
    inset = max(2, round(h * 0.06))
    if rng.random() < 0.85:  # the raised border
        cv2.rectangle(img, (inset, inset), (w - 1 - inset, h - 1 - inset), float(ink),
                      int(rng.integers(1, 3)))
    top = inset
    if rng.random() < 0.8:
        label = label_mask(
            small_font, "ARGENTINA", (h, w), max(3, round(h * 0.09)), 0.15,
            (w / 2, inset + h * 0.1),
        )
        img = img * (1 - label) + ink * label
        top = round(inset + h * 0.08)
    return img, (inset, top, w - inset, h - inset), float(ink)


def _embossed_field(rng: np.random.Generator, h: int, w: int, small_font: Font):
    """A legacy plate as pressed: a dark field sunk inside a wide bright rim that carries
    "ARGENTINA", the bolt holes at the top and the slots at the bottom. The rim makes
    the characters a smaller share of the plate than a flat field does, as on the real
    plates. Returns the picture and the characters' box (the field)."""
    rim = float(rng.uniform(0.5, 1.0))
    field = float(rng.uniform(0.0, min(0.35, rim - 0.25)))
    top, bottom = round(h * rng.uniform(0.13, 0.22)), round(h * rng.uniform(0.09, 0.17))
    side = round(h * rng.uniform(0.04, 0.1))
    img = np.full((h, w), rim, np.float32)
    fh, fw = h - top - bottom, w - 2 * side
    inner = _rounded_mask(fh, fw, int(rng.integers(1, 5)))
    img[top : top + fh, side : side + fw] = rim * (1 - inner) + field * inner
    dark = float(max(0.0, rim - rng.uniform(0.25, 0.6)))
    if rng.random() < 0.8:
        label = label_mask(small_font, "ARGENTINA", (h, w), max(3, round(top * 0.45)), 0.15,
                           (w / 2, top * 0.5))
        img = img * (1 - label) + dark * label
    r = max(1, round(top * 0.2))
    if rng.random() < 0.8:
        hx = rng.uniform(0.1, 0.3)
        for x in (w * hx, w * (1 - hx)):  # bolt holes, bolts or their shadows
            cv2.circle(img, (round(x), round(top * 0.5)), r, dark, -1, cv2.LINE_AA)
    if rng.random() < 0.7:
        sy = round(h - bottom * 0.5)
        for x in (w * 0.28, w * 0.72):  # the slots of the plate's lower rim
            cv2.rectangle(img, (round(x - 2.5 * r), sy - max(1, r // 2)),
                          (round(x + 2.5 * r), sy + max(1, r // 2)), dark, -1)
    return img, (side, top, side + fw, top + fh)


def _separator(mask: np.ndarray, centres: np.ndarray, char_h: int, dash: bool,
               jitter: float) -> None:
    """Draw the legacy plates' dot or dash in place, in the blank gap between the third
    and fourth characters; none when the characters leave no gap wide enough for it.

    Placed at the plate's middle instead, it often cut through a letter or a digit
    (an H with a bar out of its side, a G joined to the 0), shapes no real plate has."""
    y = round(float(centres[2, 1]))
    top, bottom = y - char_h // 2, y + char_h // 2
    a, b = round(centres[2, 0]), round(centres[3, 0])
    left = _ink_edge(mask, top, bottom, a, b) + 1
    width = _ink_edge(mask, top, bottom, b, a) - left
    half = char_h * 0.12 if dash else max(1, char_h // 12)
    if width < 2 * half + 2:
        return
    x = left + width / 2 + jitter * (width / 2 - half - 1)
    if dash:
        cv2.line(mask, (round(x - half), y), (round(x + half), y), 1.0, 2)
    else:
        cv2.circle(mask, (round(x), y), round(half), 1.0, -1)


def with_frame(rng: np.random.Generator, plate: Plate, small_font: Font) -> Plate:
    """Surround the plate with a holder frame, sometimes with a dealer's name below.

    The text labels are unchanged: the reader must ignore the frame's text.
    """
    h, w = plate.image.shape
    top = round(h * rng.uniform(0.03, 0.12))
    side = round(h * rng.uniform(0.03, 0.12))
    bottom = round(h * rng.uniform(0.05, 0.3))
    H, W = h + top + bottom, w + 2 * side
    v = float(rng.uniform(0, 1))
    img = np.full((H, W), v, np.float32)
    img[top : top + h, side : side + w] = plate.image * plate.alpha + v * (1 - plate.alpha)
    if bottom > 8 and rng.random() < 0.5:
        words = ["Grupo Bavarian", "Strianese", "AUTOMOTORES", "Concesionario", "Tel 4455"]
        t = str(rng.choice(words))
        m = text_line(
            small_font, t, (H, W), max(3, round(bottom * 0.5)), 1.0, 0.1, {},
            (W / 2, top + h + bottom / 2), 0,
        )[0]
        ink = 1.0 - v if abs(1 - 2 * v) > 0.2 else 0.0
        img = img * (1 - m) + ink * m
    alpha = _rounded_mask(H, W, int(rng.integers(3, 10)))
    shift = np.float32([side, top])
    return replace(plate, image=img, alpha=alpha, corners=plate.corners + shift,
                   centres=None if plate.centres is None else plate.centres + shift)
