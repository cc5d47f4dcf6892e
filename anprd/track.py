"""Reads to events, per camera: one event per passing vehicle.

A `Tracker` takes the plate reads of each sampled frame of one camera, with the frame's
timestamp, and associates them across frames into tracks (one per vehicle): by box
position (overlap or a short move) and by text similarity (edit distance). A track's
reads are combined into one reading: the per-character log-probabilities of its reads
are summed (a vote over frames, which beats the best single frame) and the combined
distribution is decoded under the camera's plate formats.

A track is emitted as an event
  - as soon as `min_reads` of its reads agree with (read exactly) the combined reading
    and that reading's confidence is at least `min_confidence` (a gate opens at once), or
  - when it closes, not seen for `track_timeout_s` (the vehicle has left), if it has at
    least `min_reads` reads and its combined confidence is at least `min_confidence`.
A track is emitted at most once. A plate emitted on this camera is not emitted again
until `cooldown_s` after it was last seen (so a car parked at a gate, briefly hidden,
makes no second event). Readings that fit no allowed format make no event.

Everything here is pure: time comes in as arguments, nothing reads a clock, so that the
logic is tested with plain numbers.

The combined distribution is the normalised product of the reads' distributions (the
sum of their log-probabilities): confident reads dominate, vague ones (far away,
blurred) barely count, and reads that disagree on a character are settled by the
evidence of all frames. Its confidence grows as agreeing reads come in; each read has
already passed the camera's `min_confidence` in the detector, so a text that no single
frame reads well never becomes an event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from anprd.boxes import iou
from anprd.detect.formats import KNOWN_FORMATS, PROB_FLOOR, softmax
from anprd.reads import DEFAULT_MIN_CONFIDENCE, N_CLASSES, N_POSITIONS, PlateRead

# decode(probs (7, 37), formats) -> a reading or None; anprd.detect.formats.decode by default.
# A reading is anprd.detect.formats.Reading (attributes plate, format, confidence, char_conf)
# or a (plate, format, confidence, char_conf) tuple.
Decoded = tuple[str, str, float, tuple[float, ...]]
DecodeFn = Callable[[np.ndarray, Sequence[str]], Any]

def _as_tuple(reading: Any) -> Decoded | None:
    if reading is None:
        return None
    if hasattr(reading, "plate"):
        return (reading.plate, reading.format, float(reading.confidence),
                tuple(reading.char_conf))
    plate, fmt, confidence, char_conf = reading
    return plate, fmt, float(confidence), tuple(char_conf)


@dataclass(frozen=True)
class TrackerParams:
    formats: tuple[str, ...] = KNOWN_FORMATS
    min_reads: int = 2
    track_timeout_s: float = 2.0
    cooldown_s: float = 30.0
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    # Association: a read continues a track if its box overlaps the track's last box
    # (IoU >= min_iou) or its centre moved at most max_shift plate widths, and its text
    # is within max_text_distance edits of the track's reading; an identical text
    # continues a track wherever it is in the picture.
    min_iou: float = 0.05
    max_shift: float = 2.0
    max_text_distance: int = 2
    max_tracks: int = 32  # open tracks per camera; the stalest is closed beyond it


@dataclass(frozen=True, eq=False)
class PlateEvent:
    camera: str
    plate: str
    format: str
    confidence: float
    char_conf: tuple[float, ...]
    first_seen: float  # Unix time of the track's first read
    last_seen: float  # ... and of its last read so far
    reads: int
    box: tuple[int, int, int, int]  # the most confident read's box, in the camera's pixels
    track_id: int
    ref: Any = field(default=None, repr=False)  # what came with the most confident read


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def centre_shift(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Distance between the boxes' centres, in widths of the wider box."""
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    width = max(a[2] - a[0], b[2] - b[0], 1)
    return math.hypot(dx, dy) / width


class Track:
    def __init__(self, track_id: int, read: PlateRead, t: float, ref: Any) -> None:
        self.id = track_id
        self.first_seen = t
        self.last_seen = t
        self.logp = np.zeros((N_POSITIONS, N_CLASSES), dtype=np.float64)
        self.texts: list[str] = []
        self.last_box = read.box
        self.best_conf = -1.0
        self.best_box = read.box
        self.best_ref: Any = None
        self.emitted_plate: str | None = None  # set once emitted or suppressed by the cool-down
        self._reading: Decoded | None = None
        self._stale = True
        self.add(read, t, ref)

    @property
    def n(self) -> int:
        return len(self.texts)

    def add(self, read: PlateRead, t: float, ref: Any) -> None:
        probs = np.asarray(read.probs, dtype=np.float64)
        self.logp += np.log(np.clip(probs, PROB_FLOOR, 1.0))
        self.texts.append(read.plate)
        self.last_seen = max(self.last_seen, t)
        self.last_box = read.box
        if read.confidence > self.best_conf:
            self.best_conf = read.confidence
            self.best_box = read.box
            self.best_ref = ref
        self._stale = True

    def reading(self, decode: DecodeFn, formats: Sequence[str]) -> Decoded | None:
        if self._stale:
            self._reading = _as_tuple(decode(softmax(self.logp), formats))
            self._stale = False
        return self._reading

    def text(self, decode: DecodeFn, formats: Sequence[str]) -> str:
        """The track's current best text, for association."""
        r = self.reading(decode, formats)
        return r[0] if r is not None else self.texts[-1]


class Tracker:
    """One camera's tracks. Feed `update()` every sampled frame (also frames without
    reads), `tick()` when time passes without frames, `flush()` at the end."""

    def __init__(self, camera: str, params: TrackerParams, decode: DecodeFn | None = None) -> None:
        if decode is None:
            from anprd.detect.formats import decode as formats_decode

            decode = formats_decode
        self.camera = camera
        self.params = params
        self._decode = decode
        self._tracks: list[Track] = []
        self._next_id = 1
        self._cooldown: dict[str, float] = {}  # plate -> time until which it is not emitted

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def update(self, reads: Sequence[PlateRead], t: float, ref: Any = None) -> list[PlateEvent]:
        """The reads of one frame taken at `t`; returns the events now due."""
        events = self.tick(t)
        p = self.params
        pairs: list[tuple[float, int, int]] = []
        for ri, read in enumerate(reads):
            for ti, track in enumerate(self._tracks):
                d = edit_distance(read.plate, track.text(self._decode, p.formats))
                overlap = iou(read.box, track.last_box)
                near = overlap >= p.min_iou or centre_shift(read.box, track.last_box) <= p.max_shift
                if d == 0 or (near and d <= p.max_text_distance):
                    pairs.append((d + (1.0 - overlap), ri, ti))
        pairs.sort()
        used_reads: set[int] = set()
        used_tracks: set[int] = set()
        touched: list[Track] = []
        for _, ri, ti in pairs:
            if ri in used_reads or ti in used_tracks:
                continue
            used_reads.add(ri)
            used_tracks.add(ti)
            self._tracks[ti].add(reads[ri], t, ref)
            touched.append(self._tracks[ti])
        for ri, read in enumerate(reads):
            if ri in used_reads:
                continue
            if len(self._tracks) >= p.max_tracks:
                stalest = min(self._tracks, key=lambda tr: tr.last_seen)
                events += self._close(stalest)
            track = Track(self._next_id, read, t, ref)
            self._next_id += 1
            self._tracks.append(track)
            touched.append(track)
        for track in touched:
            event = self._try_emit(track, t, closing=False)
            if event is not None:
                events.append(event)
        return events

    def tick(self, t: float) -> list[PlateEvent]:
        """Close the tracks not seen for `track_timeout_s` before `t`; the events due."""
        events: list[PlateEvent] = []
        for track in [tr for tr in self._tracks if t - tr.last_seen > self.params.track_timeout_s]:
            events += self._close(track)
        for plate in [k for k, until in self._cooldown.items() if until <= t]:
            del self._cooldown[plate]
        return events

    def flush(self) -> list[PlateEvent]:
        """Close every track (the camera is gone or the daemon stops); the events due."""
        events: list[PlateEvent] = []
        for track in list(self._tracks):
            events += self._close(track)
        return events

    # -------------------------------------------------------------------------------
    def _close(self, track: Track) -> list[PlateEvent]:
        self._tracks.remove(track)
        event = self._try_emit(track, track.last_seen, closing=True)
        return [event] if event is not None else []

    def _hold_cooldown(self, plate: str, last_seen: float) -> None:
        until = last_seen + self.params.cooldown_s
        self._cooldown[plate] = max(self._cooldown.get(plate, until), until)

    def _try_emit(self, track: Track, t: float, closing: bool) -> PlateEvent | None:
        p = self.params
        if track.emitted_plate is not None:
            # Emitted (or suppressed): keep its plate in cool-down while it is seen.
            self._hold_cooldown(track.emitted_plate, track.last_seen)
            return None
        reading = track.reading(self._decode, p.formats)
        if reading is None or track.n < p.min_reads:
            return None
        plate, fmt, confidence, char_conf = reading
        if confidence < p.min_confidence:
            return None
        if not closing and sum(text == plate for text in track.texts) < p.min_reads:
            return None
        track.emitted_plate = plate
        suppressed = self._cooldown.get(plate, -math.inf) > t
        self._hold_cooldown(plate, track.last_seen)
        if suppressed:
            return None
        return PlateEvent(
            camera=self.camera,
            plate=plate,
            format=fmt,
            confidence=float(confidence),
            char_conf=tuple(float(c) for c in char_conf),
            first_seen=track.first_seen,
            last_seen=track.last_seen,
            reads=track.n,
            box=tuple(int(v) for v in track.best_box),  # type: ignore[arg-type]
            track_id=track.id,
            ref=track.best_ref,
        )
