"""What time and the street do to a plate once it is made.

Every plate gets `weather` (dirt, shadows, flaked speckles, bolts). With `--street-wear`
some also get characters whose ink peels off in patches (`peeled`, drawn by the
renderers) and a sticker (`with_sticker`), as street cameras see old and badly made
plates. Street wear draws its randomness from a generator of its own (`compose.
random_plate` spawns it), so a seed's plates keep their text, pose, weather and frame
with it or without it, and draw exactly what they drew before when it is off.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

PEELING_SHARE = 0.3  # of plates, with ink peeled off their characters
STICKER_SHARE = 0.2  # of plates, with a sticker on them
MAX_CHAR_LOSS = 0.4  # of one character's ink: a peeled character stays itself


def _low_freq_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    small = rng.random((max(2, cells // 3), cells)).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def weather(rng: np.random.Generator, plate):
    """Dirt, light gradients, hard shadows, flaked speckles and bolts on a flat plate (a
    `render.Plate`), as every plate the generator draws has them."""
    img = plate.image
    h, w = img.shape
    if rng.random() < 0.5:  # dirt: low-frequency multiplicative stains
        img = img * (1 - rng.uniform(0.1, 0.35) * _low_freq_noise(rng, (h, w), 8))
    if rng.random() < 0.4:  # light gradient across the plate
        g = np.linspace(rng.uniform(-0.3, 0.1), rng.uniform(-0.1, 0.3), w, dtype=np.float32)
        img = img + g[None, :]
    if rng.random() < 0.25:  # a hard shadow over part of the plate
        x0 = rng.uniform(0, w)
        slope = rng.uniform(-2, 2)
        yy, xx = np.mgrid[0:h, 0:w]
        side = (xx - x0 - slope * (yy - h / 2)) > 0
        img = np.where(side, img * rng.uniform(0.4, 0.8), img)
    if rng.random() < 0.3:  # wear: paint flaking off in speckles
        speck = rng.random((h, w)).astype(np.float32) < rng.uniform(0.01, 0.06)
        img = np.where(speck, img + rng.uniform(-0.4, 0.4), img)
    if rng.random() < 0.4:  # bolts
        y = round(h * rng.uniform(0.08, 0.3))
        v = float(rng.uniform(0.2, 0.9))
        for x in (round(w * 0.2), round(w * 0.8)):
            cv2.circle(img, (x, y), max(2, h // 18), v, -1, cv2.LINE_AA)
    img = np.clip(img, 0, 1).astype(np.float32)
    return replace(plate, image=img)


def peeled(rng: np.random.Generator, mask: np.ndarray,
           centres: np.ndarray | None = None) -> np.ndarray:
    """The characters' ink `mask` with irregular patches lost: 5% to 20% of the plate,
    in blobs up to half a character high, so a character may lose part of a leg. With
    the characters' `centres`, none loses more than MAX_CHAR_LOSS of its ink: a stroke
    that tells E from F stays."""
    h, w = mask.shape
    noise = _low_freq_noise(rng, (h, w), int(rng.integers(14, 30)))
    lost = (noise > np.quantile(noise, 1 - rng.uniform(0.05, 0.2))).astype(np.float32)
    lost = cv2.GaussianBlur(lost, (0, 0), 0.6) * rng.uniform(0.75, 1.0)
    if centres is not None and len(centres) > 1:
        xs = np.sort(centres[:, 0])
        edges = np.round(np.concatenate([[0], (xs[1:] + xs[:-1]) / 2, [w]])).astype(int)
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            ink = mask[:, a:b].sum()
            gone = (mask[:, a:b] * lost[:, a:b]).sum()
            if gone > MAX_CHAR_LOSS * ink > 0:
                lost[:, a:b] *= MAX_CHAR_LOSS * ink / gone
    return mask * (1 - lost)


def peel_some(wear: np.random.Generator | None, mask: np.ndarray,
              centres: np.ndarray | None) -> np.ndarray:
    """The renderers' step: `mask` peeled in PEELING_SHARE of plates drawn with street
    wear (`wear`, its generator), as it is otherwise."""
    if wear is None or wear.random() >= PEELING_SHARE:
        return mask
    return peeled(wear, mask, centres)


def stick_some(wear: np.random.Generator | None, plate):
    """`plate` with a sticker in STICKER_SHARE of plates drawn with street wear."""
    if wear is None or wear.random() >= STICKER_SHARE:
        return plate
    return with_sticker(wear, plate)


def with_sticker(rng: np.random.Generator, plate):
    """`plate` (a `render.Plate`) with a sticker in one of its corners: a rectangle or a
    disc of its own shade with a stripe or two of print, which may cover a corner of the
    first or last character. The text label is unchanged: the reader must see past it."""
    img = plate.image.copy()
    h, w = img.shape
    sw = round(w * rng.uniform(0.06, 0.12))
    sh = round(h * rng.uniform(0.15, 0.3))
    left = rng.random() < 0.5
    cx = round(w * (rng.uniform(0.03, 0.09) if left else rng.uniform(0.91, 0.97)))
    top = rng.random() < 0.5
    cy = round(h * (rng.uniform(0.08, 0.25) if top else rng.uniform(0.75, 0.92)))
    v = float(rng.uniform(0.0, 1.0))
    print_v = 1.0 - v if abs(1 - 2 * v) > 0.3 else (v + 0.5) % 1.0  # always legible print
    x0, y0 = max(0, cx - sw // 2), max(0, cy - sh // 2)
    x1, y1 = min(w - 1, cx + sw // 2), min(h - 1, cy + sh // 2)
    if rng.random() < 0.6:
        cv2.rectangle(img, (x0, y0), (x1, y1), v, -1, cv2.LINE_AA)
    else:
        cv2.circle(img, (cx, cy), max(2, min(sw, sh) // 2), v, -1, cv2.LINE_AA)
    for _ in range(int(rng.integers(1, 3))):
        y = round(rng.uniform(y0 + 1, max(y0 + 2, y1 - 1)))
        cv2.line(img, (x0 + 1, y), (max(x0 + 2, x1 - 1), y), print_v, 1)
    return replace(plate, image=np.clip(img, 0, 1).astype(np.float32))
