"""Street wear (`--street-wear`): character ink peeling off in patches, and stickers on
the plate, as street cameras see old and badly made plates.

Both take their randomness from the plate's own generator and draw nothing when the
option is off, so the windows of a seed without it stay the same.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

PEELING_SHARE = 0.3  # of plates, with ink peeled off their characters
STICKER_SHARE = 0.2  # of plates, with a sticker on them


def peeled(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """The characters' ink `mask` with irregular patches lost: 5% to 20% of the plate,
    in blobs up to half a character high, so that a character may lose a leg."""
    h, w = mask.shape
    cells = int(rng.integers(14, 30))
    small = rng.random((max(2, round(cells * h / w)), cells)).astype(np.float32)
    noise = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    lost = (noise > np.quantile(noise, 1 - rng.uniform(0.05, 0.2))).astype(np.float32)
    lost = cv2.GaussianBlur(lost, (0, 0), 0.6) * rng.uniform(0.75, 1.0)
    return mask * (1 - lost)


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
    print_v = 1.0 - v if abs(1 - 2 * v) > 0.3 else float(rng.uniform(0, 1))
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
