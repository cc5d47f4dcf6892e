"""Finds and reads plates in pictures: pyramid, dense presence, merge, read, decode.

Where a frame goes:
1. `pyramid.levels` picks the scales that can hold a plate of the camera's size range,
   cropped to the ROI's bounding box;
2. the presence network runs densely over each level (one batch per level shape,
   across the frames of several cameras), giving windows at a stride of 8 pixels;
3. `merge.group_windows` merges overlapping windows into one candidate per plate, and a
   candidate seen by too few windows is dropped;
4. the reader runs once, as one batch, on a few windows of every candidate (`reader`);
5. `reader.reading` decodes each candidate under the camera's formats, if the reader
   found its characters left to right (a plate filling the frame is read at a few
   scales, and the plate they agree on kept: `read_scales`, `_agreed`);
6. readings inside a much larger plate's box are dropped (`drop_nested`), then those
   under the camera's `min_confidence`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from anprd.boxes import intersections
from anprd.detect import backend as be
from anprd.detect.merge import Candidate, group_windows
from anprd.detect.pyramid import Level, level_images, levels_for
from anprd.detect.reader import crop_views, edge_grey, read_plates, reading, to_gray, views
from anprd.detect.window import WINDOW_H, WINDOW_W
from anprd.reads import DetectParams, PlateRead

PRESENCE_THRESHOLD = 0.5
# Bounds on the work a frame can cause, whatever the picture or the weights do.
MAX_WINDOWS = 1000  # most confident windows kept for merging (merging is quadratic)
MAX_CANDIDATES = 32  # most confident plates read per frame
# A plate fits inside windows at several neighbouring positions of its level (it is
# narrower than a window), so the network sees it in several; a lone window or two is a
# texture that looked like a plate once. Fewer are asked of levels with fewer positions.
MIN_WINDOWS = 3
# A read whose box lies mostly (this share) inside a plate's box of at least 4 times
# its area (twice as wide) is lettering on that plate: `drop_nested`.
NESTED_INSIDE = 0.8
NESTED_AREA = 4.0
# ... if that plate's reading is at least as likely right as wrong. A less sure one is no
# plate but a car's front, a grille or a whole small picture that a flat margin makes
# look framed, read as one: it must not hide the plate inside it.
NESTED_MIN_CONFIDENCE = 0.5
# A plate found on a level with fewer positions than MIN_WINDOWS (one filling most of the
# frame) has its reading scale from a handful of windows on levels a pyramid step apart,
# so it can be off by half a step or more, and the reader misreads plates at the edges of
# its trained sizes: such a plate is read at scales a quarter step apart, up to half a step
# either way, and the plate they read with the most confidence summed is kept
# (`_agreed`). (Done for every plate, this adds false readings: weights/MODEL_CARD.md,
# "Experiments".)
SCALE_SEARCH = tuple(2 ** (k / 8) for k in (-2, -1, 0, 1, 2))


class DetectorError(Exception):
    """Weights missing or unreadable, or a backend or device that cannot be used."""


@dataclass
class _Frame:
    gray: np.ndarray
    offset: tuple[int, int]  # where `gray` starts in the picture (ROI crop)
    params: DetectParams
    levels: list[Level]
    fill: float  # the grey that windows past the picture's edge see: `edge_grey`
    base: np.ndarray  # what the levels are scaled from: `gray`, or it at the top level

    @staticmethod
    def make(gray: np.ndarray, offset, params: DetectParams, levels: list[Level]) -> _Frame:
        """A frame whose levels are all smaller than the picture is shrunk once to the
        top level, and the levels scaled from that: a 12 MP photo is not shrunk from full
        size for every level."""
        base = gray
        if levels and levels[0].scale < 1:
            h, w = levels[0].shape
            base = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA)
        return _Frame(gray, offset, params, levels, edge_grey(gray), base)


class Detector:
    def __init__(self, presence, readers: Sequence, backend: str, device: str,
                 runtime: str = "keras", model=None, threads: int | None = None):
        """`presence`: a function from a uint8 batch of pictures to presence logits;
        `readers`: functions from a uint8 batch of windows to {"chars", "where"} logits,
        their readings averaged. `model`: the finder's Keras network, when Keras runs."""
        self.model = model
        self.backend = backend
        self.device = device
        self.runtime = runtime
        self.threads = threads
        self._presence = presence
        self._readers = list(readers)
        self._lock = threading.Lock()
        self.presence_threshold = PRESENCE_THRESHOLD

    @classmethod
    def from_models(cls, model, backend: str, device: str, reader_models: Sequence = (),
                    threads: int | None = None) -> Detector:
        """Keras runs `model`'s presence pass and the readers of `reader_models` (none:
        `model`'s own)."""
        from anprd.detect.model import presence_net, reader_net

        return cls(be.compiled(presence_net(model)),
                   [be.compiled(reader_net(m), pad_batch=True)
                    for m in (reader_models or [model])],
                   backend, device, "keras", model, threads)

    # -- the pipeline -------------------------------------------------------------------

    def detect(
        self, images: Sequence[np.ndarray], params: Sequence[DetectParams]
    ) -> list[list[PlateRead]]:
        """Plates in each picture (BGR or grayscale uint8), under each picture's params."""
        frames = [_prepare(img, p) for img, p in zip(images, params, strict=True)]
        with self._lock:
            windows = self._presence_pass(frames)
            candidates = [
                [c for c in group_windows(w)
                 if _in_roi(c, f.params.roi, f.offset) and _seen_enough(c, f.levels)
                 ][:MAX_CANDIDATES]
                for w, f in zip(windows, frames, strict=True)
            ]
            return self._read(frames, candidates)

    def _presence_pass(self, frames: list[_Frame]) -> list[np.ndarray]:
        """Windows over threshold per frame: rows (x1, y1, x2, y2, p, level) in frame coords."""
        found: list[list[np.ndarray]] = [[] for _ in frames]
        groups: dict[tuple[int, int], list[tuple[int, Level, np.ndarray]]] = {}
        for i, f in enumerate(frames):
            for lv, img in zip(f.levels, level_images(f.levels, f.base, f.fill), strict=True):
                groups.setdefault(lv.canvas, []).append((i, lv, img))
        for group in groups.values():
            members = [(i, lv) for i, lv, _ in group]
            batch = np.stack([img for _, _, img in group])[..., None]
            logits = self._presence(batch)[..., 0]
            probs = 1.0 / (1.0 + np.exp(-logits))
            for (i, lv), p in zip(members, probs, strict=True):
                ys, xs = np.nonzero(p > self.presence_threshold)
                if len(ys) == 0:
                    continue
                rows = np.column_stack(
                    [lv.windows(ys, xs), p[ys, xs], np.full(len(ys), lv.index)])
                found[i].append(rows)
        out = []
        for f in found:
            rows = np.concatenate(f) if f else np.zeros((0, 6))
            if len(rows) > MAX_WINDOWS:
                rows = rows[np.argsort(-rows[:, 4])[:MAX_WINDOWS]]
            out.append(rows)
        return out

    def _read(self, frames: list[_Frame], candidates: list[list[Candidate]]):
        owned = [(i, c) for i, cands in enumerate(candidates) for c in cands]
        tries = [(k, i, c, scale) for k, (i, c) in enumerate(owned)
                 for scale in read_scales(c, frames[i].levels)]
        dists = read_plates(self._readers,
                            [views(frames[i].gray, *_centre(c), scale, frames[i].fill)
                             for _, i, c, scale in tries])
        best = _agreed([(k, reading(p, cols, frames[i].params.formats), p)
                        for (k, i, _, _), (p, cols) in zip(tries, dists, strict=True)])
        out: list[list[PlateRead]] = [[] for _ in frames]
        for k, (r, p) in sorted(best.items()):
            i, c = owned[k]
            f = frames[i]
            ox, oy = f.offset
            h, w = f.gray.shape
            x1, x2 = np.clip([c.box[0], c.box[2]], 0, w)
            y1, y2 = np.clip([c.box[1], c.box[3]], 0, h)
            box = (int(x1 + ox), int(y1 + oy), int(x2 + ox), int(y2 + oy))
            out[i].append(PlateRead(r.plate, r.format, round(r.confidence, 4),
                                    round(c.presence, 4), box, r.char_conf, p))
        # A plate read with too little confidence to report (but at least
        # NESTED_MIN_CONFIDENCE) still holds no other plate.
        return [sorted((r for r in drop_nested(reads) if r.confidence >= f.params.min_confidence),
                       key=lambda r: (r.box[1], r.box[0]))
                for reads, f in zip(out, frames, strict=True)]

    def read_crops(self, crops: Sequence[np.ndarray], formats,
                   search: bool = True) -> list[PlateRead | None]:
        """Read tight plate crops, each twice: placed in a window at the width the
        presence rule calls present (`crop_views`), and searched as a picture, so that
        a crop with a margin, a frame or a bumper round its plate is read at its plate's
        own size and place; the more confident reading is kept. With `search` off (or
        no presence network) the first way alone: the reader's own figure."""
        with self._lock:
            dists = read_plates(self._readers, [crop_views(c) for c in crops])
        reads = []
        for crop, (p, cols) in zip(crops, dists, strict=True):
            r = reading(p, cols, formats)
            h, w = crop.shape[:2]
            reads.append(None if r is None else PlateRead(
                r.plate, r.format, round(r.confidence, 4), 1.0, (0, 0, w, h), r.char_conf, p))
        if not search or self._presence is None or not crops:
            return reads
        as_pictures = DetectParams.for_picture(formats, min_confidence=0.0)
        found = self.detect(crops, [as_pictures] * len(crops))
        return [_surer(r, max(f, key=_width, default=None))
                for r, f in zip(reads, found, strict=True)]


def _width(r: PlateRead) -> int:
    return r.box[2] - r.box[0]


def _surer(a: PlateRead | None, b: PlateRead | None) -> PlateRead | None:
    if a is None or (b is not None and b.confidence > a.confidence):
        return b
    return a


def _agreed(tries: list[tuple]) -> dict[int, tuple]:
    """Candidate -> (reading, distribution): of the plates its scales read, the one
    whose readings' confidences sum highest, at its most confident scale. A worn
    character can be read wrong at one scale with full confidence, and right at two."""
    votes: dict[tuple[int, str], float] = {}
    best: dict[tuple[int, str], tuple] = {}
    for k, r, p in tries:
        if r is None:
            continue
        key = (k, r.plate)
        votes[key] = votes.get(key, 0.0) + r.confidence
        if key not in best or r.confidence > best[key][0].confidence:
            best[key] = (r, p)
    out: dict[int, tuple] = {}
    for key in sorted(votes, key=votes.get, reverse=True):
        out.setdefault(key[0], best[key])
    return out


def drop_nested(reads: list[PlateRead]) -> list[PlateRead]:
    """The reads that do not lie inside a plate read at least twice as wide.

    Plates do not nest: a small reading within a large plate is lettering on that
    plate (a watermark, the country's name, a worn character's edges). The larger one
    is kept because the presence network was taught to call a window whose plate is
    too small for it empty, but nothing about the lettering inside a plate."""
    if len(reads) < 2:
        return reads
    inter, area = intersections(np.array([r.box for r in reads]))
    sure = np.array([r.confidence >= NESTED_MIN_CONFIDENCE for r in reads])
    # nested[i, j]: read i lies inside read j, which is at least NESTED_AREA times larger
    inside = inter >= NESTED_INSIDE * area[:, None]
    nested = inside & (area[None, :] >= NESTED_AREA * area[:, None]) & sure[None, :]
    np.fill_diagonal(nested, False)
    return [r for r, n in zip(reads, nested.any(axis=1), strict=True) if not n]


def _prepare(img: np.ndarray, params: DetectParams) -> _Frame:
    gray = to_gray(np.asarray(img))
    ox = oy = 0
    if params.roi:
        pts = np.array(params.roi, np.int32)
        x1, y1 = np.maximum(pts.min(0), 0)
        x2, y2 = pts.max(0)
        # Keep half a window around the ROI so windows on its edge still fit.
        x1, y1 = max(0, x1 - WINDOW_W // 2), max(0, y1 - WINDOW_H // 2)
        gray = gray[y1 : y2 + WINDOW_H // 2, x1 : x2 + WINDOW_W // 2]
        ox, oy = int(x1), int(y1)
    h, w = gray.shape
    return _Frame.make(np.ascontiguousarray(gray), (ox, oy), params,
                       levels_for(w, h, params.plate_width_px, params.max_pixels))


def _in_roi(c: Candidate, roi, offset) -> bool:
    if not roi:
        return True
    cx, cy = _centre(c)
    cx, cy = cx + offset[0], cy + offset[1]
    return cv2.pointPolygonTest(np.array(roi, np.float32), (float(cx), float(cy)), False) >= 0


def _level_of(c: Candidate, levels: list[Level]) -> Level:
    return next(lv for lv in levels if lv.index == c.level)


def _seen_enough(c: Candidate, levels: list[Level]) -> bool:
    """Whether the candidate's windows are MIN_WINDOWS, or every position its level has."""
    return c.n_windows >= min(MIN_WINDOWS, _level_of(c, levels).positions)


def read_scales(c: Candidate, levels: list[Level]) -> list[float]:
    """The scales to read the candidate at: its reading scale, or, when its level has
    fewer positions than MIN_WINDOWS, that scale times each of SCALE_SEARCH."""
    if _level_of(c, levels).positions < MIN_WINDOWS:
        return [c.read_scale * f for f in SCALE_SEARCH]
    return [c.read_scale]


def _centre(c: Candidate) -> tuple[float, float]:
    return (c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2
