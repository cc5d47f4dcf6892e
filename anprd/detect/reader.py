"""Reading a plate: the windows a candidate (or a tight crop) is read from, the readers
run over them, their distributions combined and decoded under the camera's formats.

Functions from arrays to arrays; the readers are callables from a uint8 batch of
(N, 64, 128, 1) windows to {"chars", "where"} logits (Keras, LiteRT or ONNX Runtime).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from anprd.detect.formats import Reading, average, combine, decode, softmax
from anprd.detect.window import READ_W_FRAC, WINDOW_H, WINDOW_W

READ_BATCH = 256  # windows per reader call
# The views read per plate: (shift in window pixels, scale factor).
READ_VIEWS = ((0.0, 1.0), (-3.0, 1.0), (3.0, 1.0), (0.0, 0.94), (0.0, 1.06))


def read_plates(readers: Sequence, views: list[list[np.ndarray]]
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per plate, combined over its READ_VIEWS windows and the readers: the (7, 37)
    distribution and the column each position's character was read from."""
    if not views:
        return []
    windows = np.stack([v for vs in views for v in vs])
    reads = [read_windows(reader, windows) for reader in readers]
    n = len(READ_VIEWS)
    return [(average([combine(list(probs[i * n : (i + 1) * n])) for probs, _ in reads]),
             average([combine(list(where[i * n : (i + 1) * n])) for _, where in reads]
                     ).argmax(-1))
            for i in range(len(views))]

def read_windows(reader, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 7, 37) character and (N, 7, 32) column probabilities for (N, 64, 128)
    windows, in bounded batches."""
    parts = [reader(windows[i : i + READ_BATCH, ..., None])
             for i in range(0, len(windows), READ_BATCH)]
    return tuple(softmax(np.concatenate([q[k] for q in parts]).astype(np.float64))
                 for k in ("chars", "where"))


def reading(probs: np.ndarray, columns: np.ndarray, formats) -> Reading | None:
    """The plate decoded under the formats, if its characters were read left to right."""
    r = decode(probs, formats)
    return r if r is not None and left_to_right(columns, len(r.plate)) else None


def left_to_right(columns: np.ndarray, n: int) -> bool:
    """Whether the first `n` positions were read from distinct columns, left to right.

    A plate's characters stand side by side; when several positions read the same
    column the window holds no whole plate (a stray candidate, a caption), whatever the
    characters' confidence."""
    return bool(np.all(np.diff(columns[:n]) > 0))


def to_gray(img: np.ndarray) -> np.ndarray:
    """A BGR, BGRA or grayscale picture as grayscale."""
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY)
    if img.ndim == 2:
        return img
    raise ValueError(f"not a picture: array of shape {img.shape}")


def edge_grey(gray: np.ndarray) -> float:
    """The median of a picture's outermost two rows and columns: the flat field that
    windows reaching past its edge see, as a tight crop is read (`crop_views`)."""
    if not gray.size:  # an ROI wholly outside the picture: nothing to search
        return 0.0
    edge = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(),
                           gray[:, :2].ravel(), gray[:, -2:].ravel()])
    return float(np.median(edge))


def _smoothed(gray: np.ndarray, cx: float, cy: float, scale: float,
              shift: float, reach: float | None = None) -> tuple[np.ndarray, float, float]:
    """The part of the picture that windows at `reach` (default: `scale`) centred within
    `shift` pixels (sideways) of (cx, cy) sample, smoothed for sampling down by `scale`
    as the pyramid's INTER_AREA does, and (cx, cy) in its coordinates. Cut with room for
    the kernel, so that it is the same as smoothing the whole picture, for a fraction of
    the cost."""
    if scale >= 1:
        return gray, cx, cy
    reach = min(scale, reach or scale)
    sigma = 0.5 / scale
    r = int(4 * sigma) + 2  # OpenCV's kernel for a float picture reaches 4 sigma
    hx = (WINDOW_W / 2 + 1) / reach + shift + r
    hy = (WINDOW_H / 2 + 1) / reach + r
    x0, y0 = max(0, int(cx - hx)), max(0, int(cy - hy))
    patch = gray[y0 : int(cy + hy) + 1, x0 : int(cx + hx) + 1]
    if not patch.size:
        return gray, cx, cy
    return cv2.GaussianBlur(patch, (0, 0), sigma), cx - x0, cy - y0


def _window_at(gray: np.ndarray, cx: float, cy: float, scale: float,
               fill: float | None = None) -> np.ndarray:
    """The 128 x 64 window centred at (cx, cy) of the picture scaled by `scale` (already
    smoothed for it); past the picture's edge, its edge pixels repeated, or the grey
    `fill` when one is given."""
    m = np.float32([[scale, 0, WINDOW_W / 2 - scale * cx], [0, scale, WINDOW_H / 2 - scale * cy]])
    border = cv2.BORDER_REPLICATE if fill is None else cv2.BORDER_CONSTANT
    return cv2.warpAffine(gray, m, (WINDOW_W, WINDOW_H), flags=cv2.INTER_LINEAR,
                          borderMode=border, borderValue=0.0 if fill is None else fill)


def views(gray: np.ndarray, cx: float, cy: float, scale: float,
           fill: float | None = None) -> list[np.ndarray]:
    """Windows to read a plate centred at (cx, cy) from: at the scale where it fills the
    window as the reader was trained on most, shifted a little and scaled a little; the
    reads of all of them are combined. The picture is smoothed once, for the middle
    scale: the others are within 6% of it, and smoothing is most of a view's cost."""
    shift = max(abs(dx) for dx, _ in READ_VIEWS) / scale
    smallest = min(f for _, f in READ_VIEWS)
    g, x, y = _smoothed(gray, cx, cy, scale, shift, reach=scale * smallest)
    return [_window_at(g, x + dx / scale, y, scale * f, fill) for dx, f in READ_VIEWS]


def crop_views(crop: np.ndarray) -> list[np.ndarray]:
    """A tight plate crop placed centred in windows, at READ_W_FRAC of their width, on
    a flat field of its edge's median grey.

    Replicating the crop's edge instead smears a character or a frame that touches it
    into streaks the reader never saw in training (`trainer scenes --crops`: fewer read)."""
    g = to_gray(crop)
    h, w = g.shape
    scale = READ_W_FRAC * WINDOW_W / w
    if h * scale > 0.8 * WINDOW_H:  # a tall crop (two-line plate): fit its height instead
        scale = 0.8 * WINDOW_H / h
    return views(g, w / 2, h / 2, scale, fill=edge_grey(g))
