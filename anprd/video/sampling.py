"""Which decoded frames go on to the detector, and when a failed stream is tried again.

`Sampler` picks one frame every 1/fps seconds of stream time; `FrameSlot` holds the
newest picked frame until the detector takes it (a newer one replaces it: a drop);
`backoff_delay` spaces reconnection attempts (also the sinks' retries).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    camera: str
    image: np.ndarray  # BGR uint8 (H, W, 3)
    # Unix time the picture shows: the wall clock for streams, start + media time for files.
    timestamp: float
    index: int  # sampled frame number since the reader started


class FrameSlot:
    """Holds at most one frame: the newest. Thread-safe."""

    def __init__(self, notify: Callable[[], None] | None = None) -> None:
        self._frame: Frame | None = None
        self._cond = threading.Condition()
        self._notify = notify

    def put(self, frame: Frame) -> bool:
        """Store `frame`; True if it replaced a frame nobody had taken (a drop)."""
        with self._cond:
            dropped = self._frame is not None
            self._frame = frame
            self._cond.notify_all()
        if self._notify is not None:
            self._notify()
        return dropped

    def take(self) -> Frame | None:
        with self._cond:
            frame, self._frame = self._frame, None
            self._cond.notify_all()
            return frame

    def wait_empty(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._frame is None, timeout)

    def __bool__(self) -> bool:
        return self._frame is not None


class Sampler:
    """Decides which frames to look at: one every 1/fps seconds of stream time."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self._next: float | None = None
        self._last: float | None = None

    def due(self, t: float) -> bool:
        last, self._last = self._last, t
        # Start, or the clock went backwards or jumped far ahead: resynchronise.
        jumped = last is not None and (t < last or t > self._next + 10 * self.period)
        if self._next is None or jumped:
            self._next = t + self.period
            return True
        if t >= self._next - min(0.005, 0.1 * self.period):
            self._next = max(self._next + self.period, t + 0.5 * self.period)
            return True
        return False


def backoff_delay(attempt: int, initial: float, maximum: float, rng: random.Random) -> float:
    """Exponential back-off with jitter: attempt 0 waits about `initial`, doubling to `maximum`."""
    base = min(maximum, initial * (2.0 ** min(attempt, 30)))
    return base * rng.uniform(0.5, 1.0)
