"""Plain data that flows from the detector to the tracker, the events and the API."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Character classes of every position: A-Z, 0-9, then "no character" (index 36).
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BLANK = len(ALPHABET)
N_CLASSES = len(ALPHABET) + 1
N_POSITIONS = 7
# Readings less sure than this are not reported, unless a camera or request asks otherwise.
DEFAULT_MIN_CONFIDENCE = 0.6
# A picture read one by one (`anprd detect`, `anprd eval`, the API) gets no second look,
# where a camera's frames vote in the tracker: it reports surer readings only. Chosen on
# the synthetic sets (docs/detector.md, "Confidence floors").
PICTURE_MIN_CONFIDENCE = 0.9
# Such a picture with no plate range, if bigger, starts its pyramid at the first level
# within this many pixels (three 1280 x 720 frames). A phone photo's full-size levels see
# only plates narrower than a twentieth of its width, and cost several frames each.
# Camera frames keep every level: a distant plate on a 4K camera is small.
PICTURE_MAX_PIXELS = 3 * 1280 * 720


@dataclass(frozen=True)
class PlateRead:
    """One plate read in one picture.

    `probs` is the reader's (7, 37) per-position distribution, kept so that the
    tracker can combine the reads of one vehicle across frames.
    """

    plate: str  # e.g. "AB123CD" or "ABC123", no spaces
    format: str  # name of the format it decoded under, e.g. "mercosur_ar"
    confidence: float  # probability of the whole reading under the format
    presence: float  # the detector's plate-present probability
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in the picture's pixels
    char_conf: tuple[float, ...]  # probability of each character of `plate`
    probs: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class DetectParams:
    """What one camera (or one API request) asks of the detector."""

    formats: tuple[str, ...] = ("mercosur_ar", "legacy_ar")
    min_confidence: float = 0.0
    roi: tuple[tuple[int, int], ...] | None = None  # polygon in pixels
    plate_width_px: tuple[int, int] | None = None  # smallest, largest plate width
    # For pictures (not camera frames) with no plate range: a bigger one starts its
    # pyramid at the first level within this many pixels (`pyramid.levels_for`).
    max_pixels: int | None = None

    @classmethod
    def for_picture(cls, formats: tuple[str, ...] = ("mercosur_ar", "legacy_ar"),
                    min_confidence: float = PICTURE_MIN_CONFIDENCE) -> DetectParams:
        """What a picture read one by one asks: its floor and its pixel budget (its
        small levels half a step apart follow from the budget: `pyramid.levels_for`)."""
        return cls(tuple(formats), min_confidence, max_pixels=PICTURE_MAX_PIXELS)
