"""`events.crops`: each event's plate kept for labelling and fine-tuning.

For an event with id ID the folder gets `ID.png`, the plate's own pixels (the best
read's box, grayscale, lossless), and `ID.window.png`, the 128 x 64 window the reader
reads it from; `labels.csv` gets the row `ID.png,PLATE` with the plate that was read.
`anprd eval DIR --crops` measures the folder as it is, `anprd label DIR` corrects it
and `python -m trainer finetune --crops DIR` learns from it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from anprd.detect.reader import crop_views, to_gray
from anprd.labels import Row, append_row
from anprd.output.folders import make_folder

log = logging.getLogger("anprd.events")

MIN_SIDE = 8  # pixels: a box smaller than this holds nothing to learn from


def plate_pixels(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The box's pixels of `frame` in grayscale, clipped to the frame; None if too small."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = box
    x1, x2 = sorted((min(max(x1, 0), w), min(max(x2, 0), w)))
    y1, y2 = sorted((min(max(y1, 0), h), min(max(y2, 0), h)))
    if x2 - x1 < MIN_SIDE or y2 - y1 < MIN_SIDE:
        return None
    return np.ascontiguousarray(to_gray(frame[y1:y2, x1:x2]))


class CropCollector:
    """Writes the crops of events into one folder; thread-safe, never raises for a write."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def open(self) -> CropCollector:
        """The folder made (OSError naming the reason if it cannot be)."""
        make_folder(self.folder)
        return self

    def save(self, event_id: str, plate: str, frame: np.ndarray,
             box: tuple[int, int, int, int]) -> Path | None:
        """The crop and window of one event, and its labels.csv row; the crop's path, or
        None when the box is too small or a write failed (logged: the event stands)."""
        import cv2

        crop = plate_pixels(frame, box)
        if crop is None:
            return None
        path = self.folder / f"{event_id}.png"
        try:
            with self._lock:
                if not cv2.imwrite(str(path), crop):
                    raise OSError(f"cannot write {path}")
                window = np.clip(crop_views(crop)[0], 0, 255).astype(np.uint8)
                cv2.imwrite(str(self.folder / f"{event_id}.window.png"), window)
                append_row(self.folder, Row(path.name, plate))
        except OSError as e:
            log.warning("cannot keep the crop of %s (%s): %s", plate, event_id, e)
            return None
        return path
