"""The 128 x 64 window the network looks at, and the exact "plate present" rule."""

from __future__ import annotations

import numpy as np

WINDOW_W = 128
WINDOW_H = 64
MAX_W_FRAC = 0.8  # plate width must be under this share of the window's width
MAX_H_FRAC = 0.875  # and its height under this share of the window's height
MIN_FRAC = 0.6  # and its width or its height over this share
# The plate width, as a share of the window's, that crops are placed at to be read.
READ_W_FRAC = 0.7
STRIDE = 8  # pixels between neighbouring windows in the dense presence map
COLUMN_W = 4  # pixels of one column of the reading head
N_COLUMNS = WINDOW_W // COLUMN_W  # the reading head's columns across a window


def plate_present(corners: np.ndarray) -> bool:
    """True when a plate with these (4, 2) corners in window pixels counts as present.

    The plate's width and height are those of the corners' bounding box; it must lie
    wholly inside the window.
    """
    x, y = corners[:, 0], corners[:, 1]
    if x.min() < 0 or y.min() < 0 or x.max() > WINDOW_W or y.max() > WINDOW_H:
        return False
    w, h = x.max() - x.min(), y.max() - y.min()
    if w >= MAX_W_FRAC * WINDOW_W or h >= MAX_H_FRAC * WINDOW_H:
        return False
    return bool(w > MIN_FRAC * WINDOW_W or h > MIN_FRAC * WINDOW_H)
