"""Merging the overlapping windows that see the same plate into one candidate.

A plate lies wholly inside every window that sees it, so the (robust) intersection of a
group's windows bounds the plate: the seed's rule, made tolerant of a stray window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anprd.boxes import intersections
from anprd.detect.window import MIN_FRAC, WINDOW_W

MIN_OVERLAP = 0.25  # share of the smaller window two windows must share to join a group
# And their pyramid levels may differ by at most this. A level sees plate widths in a
# ratio of 4/3, under the sqrt(2) step, so a plate is present on one level, or two
# neighbours; the network's presence is looser by about one level on either side.
MAX_LEVEL_GAP = 2
TRIM = 0.2  # quantile of the window edges taken as the group's box
# Only windows within this many levels of the group's most confident one shape its box
# and reading scale (and count as its windows): farther ones join the group, so that
# they make no candidate of their own, but saw something of another size (on a close-up
# plate, the band's lettering at twice the scale).
SHAPE_LEVELS = 1
# And only those that share with it a part that could hold a plate it calls present:
# the plate lies in both. This bounds how flat such a plate's box can be.
PLATE_ASPECT = 4.0  # wider than any plate's bounding box, posed as the generator poses it


@dataclass(frozen=True)
class Candidate:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2: where the plate is
    presence: float  # the most confident window's probability
    read_scale: float  # the scale at which the plate fills a window as in training
    n_windows: int
    level: float  # pyramid level of the most confident window


def _overlaps(w: np.ndarray) -> np.ndarray:
    """(n, n) booleans: windows of neighbouring levels sharing at least MIN_OVERLAP of the
    smaller one's area.

    A window of a level far off holds something else: a frame-sized window on a small
    level would otherwise join the windows of every small plate (or text) in the frame.
    """
    inter, area = intersections(w)
    near = np.abs(w[:, None, 5] - w[None, :, 5]) <= MAX_LEVEL_GAP
    return near & (inter >= MIN_OVERLAP * np.minimum(area[:, None], area[None, :]))


def _clusters(windows: np.ndarray) -> list[np.ndarray]:
    """Greedy grouping: the most confident window not yet taken, with every untaken window
    that overlaps it directly, then the next.

    Not chained through neighbours of neighbours: a chain of overlapping windows can run
    from a plate across a grille, a headlight and a bumper, and the box and scale of such
    a group would be nobody's."""
    adj = _overlaps(windows)
    free = np.ones(len(windows), bool)
    groups = []
    for i in np.argsort(-windows[:, 4], kind="stable"):
        if free[i]:
            members = np.nonzero(adj[i] & free)[0]
            free[members] = False
            groups.append(members)
    return groups


def _can_share_a_plate(g: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Which windows share with the best one a part that could hold a plate it calls
    present (60% of its width, and a plate's height for that width; or 60% of its
    height): a plate lies wholly inside every window that sees it."""
    ix = np.minimum(g[:, 2], best[2]) - np.maximum(g[:, 0], best[0])
    iy = np.minimum(g[:, 3], best[3]) - np.maximum(g[:, 1], best[1])
    w_min = MIN_FRAC * (best[2] - best[0])
    h_min = MIN_FRAC * (best[3] - best[1])
    return ((ix >= w_min) & (iy >= w_min / PLATE_ASPECT)) | ((iy >= h_min) & (ix >= h_min))


def _inside(point: tuple[float, float], box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def group_windows(windows: np.ndarray) -> list[Candidate]:
    """Candidates from rows (x1, y1, x2, y2, p, level), most confident first."""
    if len(windows) == 0:
        return []
    out: list[Candidate] = []
    for idx in _clusters(windows):
        g = windows[idx]
        g = g[np.argsort(-g[:, 4])]
        g = g[np.abs(g[:, 5] - g[0, 5]) <= SHAPE_LEVELS]
        g = g[_can_share_a_plate(g, g[0])]
        x1, y1 = np.quantile(g[:, 0], 1 - TRIM), np.quantile(g[:, 1], 1 - TRIM)
        x2, y2 = np.quantile(g[:, 2], TRIM), np.quantile(g[:, 3], TRIM)
        if x2 - x1 < 4 or y2 - y1 < 4:  # inconsistent group: fall back to its best window
            bx1, by1, bx2, by2 = g[0, :4]
            cx, cy = (bx1 + bx2) / 2, (by1 + by2) / 2
            hw, hh = (bx2 - bx1) * 0.35, (by2 - by1) * 0.35
            x1, y1, x2, y2 = cx - hw, cy - hh, cx + hw, cy + hh
        scales = WINDOW_W / (g[:, 2] - g[:, 0])
        read_scale = float(np.exp(np.average(np.log(scales), weights=g[:, 4])))
        # The leftovers of a plate's windows, beside its stronger group, are no new plate.
        if any(_inside(((x1 + x2) / 2, (y1 + y2) / 2), c.box)
               and abs(np.log2(read_scale / c.read_scale)) <= MAX_LEVEL_GAP / 2 for c in out):
            continue
        out.append(Candidate((float(x1), float(y1), float(x2), float(y2)), float(g[0, 4]),
                             read_scale, len(g), float(g[0, 5])))
    return out
