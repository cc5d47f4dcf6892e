"""Box geometry shared by the merge, the detector and the tracker: boxes are
(x1, y1, x2, y2) in pixels."""

from __future__ import annotations

import numpy as np


def intersections(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, n) areas shared by each pair of (n, 4+) boxes x1, y1, x2, y2, and (n,) areas."""
    b = np.asarray(boxes, np.float64)
    x1 = np.maximum(b[:, None, 0], b[None, :, 0])
    y1 = np.maximum(b[:, None, 1], b[None, :, 1])
    x2 = np.minimum(b[:, None, 2], b[None, :, 2])
    y2 = np.minimum(b[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    return inter, np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two boxes (0 when both are empty)."""
    inter, area = intersections(np.array([a, b]))
    union = area[0] + area[1] - inter[0, 1]
    return float(inter[0, 1] / union) if union > 0 else 0.0
