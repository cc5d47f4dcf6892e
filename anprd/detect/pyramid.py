"""The picture pyramid: scales in steps of 1/sqrt(2), limited to plate sizes that matter."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from anprd.detect.window import MAX_W_FRAC, MIN_FRAC, STRIDE, WINDOW_H, WINDOW_W

STEP = 2 ** -0.5
MIN_PLATE = MIN_FRAC * WINDOW_W  # plate widths a level sees as present, in its pixels
MAX_PLATE = MAX_W_FRAC * WINDOW_W
MARGIN = 2**0.25  # half a pyramid step of tolerance on each side of the plate range
MAX_UPSCALE = 2.0
SMALL_PICTURE_W = 640  # with no plate range, frames are enlarged up to this width
# and pictures read one by one up to a 720p frame's: a web photo 555 px wide shows its
# plates at 60-80 px, under the window's smallest present width (77 px): doubled, it
# is 1110 x 762 px, under a 720p frame. Camera frames, read 5 to 25 a second, keep 640.
SMALL_PICTURE_W_READ_ALONE = 1280
K_MIN = math.ceil(-2 * math.log2(MAX_UPSCALE))  # the most enlarged level's index (-2)
MIN_PLATE_ASPECT = 0.25  # height / width: plates are wider than this (Mercosur 0.33)
# A level sees plate widths in a ratio of 4/3, under the sqrt(2) step: a plate between
# MAX_PLATE / s and MIN_PLATE / s / STEP wide is present on no level. On a big level the
# network's presence is looser than the rule, but a plate filling much of the picture
# (a tight crop, a close-up, a car's front in a phone photo) has few windows to be seen
# in, and falls into that gap. In a picture read one by one, levels narrower than this
# after half a step get that half step too (k + 1/2): cheap, since they are small. A
# camera sees a passing plate at every size in turn, so its frames keep whole steps.
HALF_STEP_W = 4 * WINDOW_W


@dataclass(frozen=True)
class Level:
    index: float  # k: the level's scale is STEP ** k (negative k: enlarged; halves: small)
    scale: float
    shape: tuple[int, int]  # height, width of the scaled picture

    @property
    def canvas(self) -> tuple[int, int]:
        """Height, width of the level's image: the scaled picture, padded to hold a window."""
        return max(self.shape[0], WINDOW_H), max(self.shape[1], WINDOW_W)

    @property
    def pad(self) -> tuple[int, int]:
        """Where the scaled picture starts in the canvas (top, left): it is centred."""
        return (self.canvas[0] - self.shape[0]) // 2, (self.canvas[1] - self.shape[1]) // 2

    @property
    def positions(self) -> int:
        """How many windows the level's dense presence map has."""
        ch, cw = self.canvas
        return ((ch - WINDOW_H) // STRIDE + 1) * ((cw - WINDOW_W) // STRIDE + 1)

    def image(self, gray: np.ndarray, fill: float | None = None) -> np.ndarray:
        """The level's canvas: the scaled picture, and round it (when the picture is
        smaller than a window) the grey `fill`, or the picture's edge repeated.

        A flat field is what a plate filling the picture needs: repeated, the pixels
        on its edge (a character, the frame) smear into streaks no plate has."""
        return self.padded(self.scaled(gray), fill)

    def scaled(self, gray: np.ndarray) -> np.ndarray:
        """The picture (or a smaller copy of it) at the level's scale."""
        h, w = self.shape
        interp = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR
        return cv2.resize(gray, (w, h), interpolation=interp)

    def padded(self, img: np.ndarray, fill: float | None = None) -> np.ndarray:
        """`img`, the scaled picture, on the level's canvas (see `image`)."""
        h, w = self.shape
        (ch, cw), (top, left) = self.canvas, self.pad
        if (ch, cw) == (h, w):
            return img
        if fill is None:
            return cv2.copyMakeBorder(img, top, ch - h - top, left, cw - w - left,
                                      cv2.BORDER_REPLICATE)
        return cv2.copyMakeBorder(img, top, ch - h - top, left, cw - w - left,
                                  cv2.BORDER_CONSTANT, value=round(fill))

    def windows(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(n, 4) boxes x1, y1, x2, y2 in the picture's pixels of the windows at these
        positions of the level's dense presence map."""
        top, left = self.pad
        x1 = (cols * STRIDE - left) / self.scale
        y1 = (rows * STRIDE - top) / self.scale
        return np.stack([x1, y1, x1 + WINDOW_W / self.scale, y1 + WINDOW_H / self.scale], axis=1)

    def plate_widths(self) -> tuple[float, float]:
        """Plate widths in the original picture that this level sees as present."""
        return MIN_PLATE / self.scale, MAX_PLATE / self.scale


def levels_for(width: int, height: int, plate_width_px=None,
               max_pixels: int | None = None) -> list[Level]:
    """Levels of a width x height picture that can hold a plate of the given width range.

    With no range: every level from full size (or, given `max_pixels`, from the first
    level within it) down to the last that still holds a plate
    of the smallest present width (a plate that fills the frame); a small picture is
    first enlarged by the most pyramid steps (up to two: 2x) that keep it within
    `SMALL_PICTURE_W` wide (from 452 px down), or, given `max_pixels`,
    `SMALL_PICTURE_W_READ_ALONE` (from 905 px down), since a plate in a thumbnail, a web
    photo or a low-resolution camera is usually under the window's smallest present
    width. Levels smaller than the window are padded to hold one (`Level.canvas`), and,
    given `max_pixels` (a picture, not a camera's frame), those narrower than
    `HALF_STEP_W` come half a step apart.
    With one: only levels whose present-plate widths come within half a step of the range;
    pictures are enlarged (up to 2x) when plates can be narrower than 60% of a window.
    """
    # Level k has scale s = STEP ** k, i.e. k = -2 log2(s); enlarging is bounded by K_MIN.
    alone = bool(max_pixels)  # a picture read one by one, not a camera's frame
    if plate_width_px is None:
        small_w = SMALL_PICTURE_W_READ_ALONE if alone else SMALL_PICTURE_W
        k_lo = math.ceil(-2 * math.log2(max(1.0, small_w / max(width, 1))))
        # Level k has width * height / 2**k pixels: none above the budget, enlarged or not.
        if alone:
            k_lo = max(k_lo, math.ceil(math.log2(max(width * height, 1) / max_pixels)))
        k_hi = 10**6
    else:
        wmin, wmax = plate_width_px
        # Level k sees widths MIN_PLATE / s .. MAX_PLATE / s.
        k_lo = math.ceil(-2 * math.log2(MAX_PLATE * MARGIN / wmin))
        k_hi = math.floor(-2 * math.log2(MIN_PLATE / (wmax * MARGIN)))
    k_lo = max(k_lo, K_MIN)
    levels = []
    k: float = k_lo
    while k <= k_hi:
        s = STEP**k
        h, w = round(height * s), round(width * s)
        if w < MIN_PLATE or h < MIN_PLATE * MIN_PLATE_ASPECT:
            break
        levels.append(Level(k, s, (h, w)))
        k += 0.5 if alone and width * STEP ** (k + 0.5) < HALF_STEP_W else 1
    return levels


def level_images(levels: list[Level], gray: np.ndarray, fill: float | None = None
                 ) -> list[np.ndarray]:
    """Every level's canvas (`Level.image`), each shrunk from the level an octave (two
    steps) above it when that one is there, not from the picture: a quarter of the
    pixels to average for nearly the same picture (within a grey level on average;
    sharp edges differ by a few)."""
    scaled: dict[int, np.ndarray] = {}
    out = []
    for lv in levels:
        above = scaled.get(lv.index - 2) if lv.index >= 2 else None
        img = lv.scaled(gray if above is None else above)
        scaled[lv.index] = img
        out.append(lv.padded(img, fill))
    return out
