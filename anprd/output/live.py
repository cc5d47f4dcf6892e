"""What the live page shows: each camera's latest sampled frame with its ROI and boxes,
its state and rates, and the events as they are emitted.

The detector loop hands over references only (`frame`, `event`): a frame is drawn and
encoded when a browser asks for it, at most once per frame, so the cameras pay nothing
for the page. Events reach the page's event streams through one asyncio queue per
stream, filled from the detector's thread with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

FRAME_WIDTH = 960  # the page's frames are shrunk to at most this width
RATE_WINDOW_S = 5.0
RECENT_EVENTS = 50
STREAM_QUEUE = 256  # events a slow browser may fall behind by; the oldest are dropped


@dataclass
class _CameraFrame:
    image: np.ndarray | None = None
    boxes: list[tuple[tuple[int, int, int, int], str]] = field(default_factory=list)
    roi: Sequence[Sequence[float]] | None = None
    seq: int = 0
    at: float = 0.0
    jpeg: bytes | None = None
    jpeg_seq: int = -1


CameraStates = Callable[[], list[dict[str, Any]]]


class LiveView:
    """`states()` gives each camera's state dict (name, state, since, sampled and
    dropped tallies...), from the daemon; `events_path` is the events log, `snapshots`
    the events' snapshot folder."""

    def __init__(self, states: CameraStates, events_path: Path | None = None,
                 snapshots: Path | None = None) -> None:
        self._states = states
        self.events_path = events_path
        self.snapshots = snapshots
        self._lock = threading.Lock()
        self._frames: dict[str, _CameraFrame] = {}
        self._tallies: dict[str, deque[tuple[float, int, int]]] = {}
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)
        self._streams: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self.closed = False

    # ------------------------------------------------ from the detector's thread
    def frame(self, camera: str, image: np.ndarray, reads: Sequence[Any],
              roi: Sequence[Sequence[float]] | None = None) -> None:
        boxes = [(tuple(int(v) for v in r.box), str(r.plate)) for r in reads]
        with self._lock:
            f = self._frames.setdefault(camera, _CameraFrame())
            f.image, f.boxes, f.roi = image, boxes, roi  # type: ignore[assignment]
            f.seq += 1
            f.at = time.time()

    def event(self, record: dict[str, Any]) -> None:
        record = self.with_urls(record)
        with self._lock:
            self._recent.append(record)
            streams = list(self._streams)
        for loop, queue in streams:
            try:
                loop.call_soon_threadsafe(_put, queue, ("plate", record))
            except RuntimeError:  # that stream's loop has closed
                pass

    def forget(self, camera: str) -> None:
        with self._lock:
            self._frames.pop(camera, None)
            self._tallies.pop(camera, None)

    # ------------------------------------------------------- for the HTTP side
    def cameras(self) -> list[dict[str, Any]]:
        """Each camera's state, rates over the last few seconds and frame number."""
        now = time.monotonic()
        out = []
        for st in self._states():
            name = st["name"]
            sampled, dropped = int(st.pop("sampled", 0)), int(st.pop("dropped", 0))
            with self._lock:
                tally = self._tallies.setdefault(name, deque())
                tally.append((now, sampled, dropped))
                while len(tally) > 2 and now - tally[1][0] >= RATE_WINDOW_S:
                    tally.popleft()
                t0, s0, d0 = tally[0]
                f = self._frames.get(name)
                seq, at = (f.seq, f.at) if f else (0, 0.0)
            dt = now - t0
            st["sampled_fps"] = round((sampled - s0) / dt, 2) if dt > 0.5 else None
            st["dropped_fps"] = round((dropped - d0) / dt, 2) if dt > 0.5 else None
            st["frame"] = seq
            st["frame_at"] = at or None
            out.append(st)
        return out

    def recent_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)

    def has_camera(self, camera: str) -> bool:
        return any(st["name"] == camera for st in self._states())

    def frame_jpeg(self, camera: str) -> bytes | None:
        """The latest frame, shrunk, with the ROI and the last boxes drawn; None before
        the first. Encoded once per frame however many browsers ask."""
        with self._lock:
            f = self._frames.get(camera)
            if f is None or f.image is None:
                return None
            if f.jpeg_seq == f.seq:
                return f.jpeg
            image, boxes, roi, seq = f.image, list(f.boxes), f.roi, f.seq
        jpeg = draw_frame(image, boxes, roi)
        with self._lock:
            if f.seq == seq:
                f.jpeg, f.jpeg_seq = jpeg, seq
        return jpeg

    def with_urls(self, record: dict[str, Any]) -> dict[str, Any]:
        """The event with the addresses of its snapshot and plate crop on this server."""
        return {**record, "snapshot_url": self.snapshot_url(record.get("snapshot")),
                "snapshot_crop_url": self.snapshot_url(record.get("snapshot_crop"))}

    def snapshot_url(self, path: str | None) -> str | None:
        if not path or self.snapshots is None:
            return None
        try:
            rel = Path(path).resolve().relative_to(self.snapshots.resolve())
        except (ValueError, OSError):
            return None
        return "/snapshots/" + rel.as_posix()

    def subscribe(self) -> asyncio.Queue:
        """A queue of ("plate", record) for one event stream, on the running loop."""
        queue: asyncio.Queue = asyncio.Queue(STREAM_QUEUE)
        with self._lock:
            self._streams.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._streams = {s for s in self._streams if s[1] is not queue}

    def close_streams(self) -> None:
        """End every event stream (the server is stopping)."""
        self.closed = True
        with self._lock:
            streams = list(self._streams)
        for loop, queue in streams:
            try:
                loop.call_soon_threadsafe(_put, queue, ("end", None))
            except RuntimeError:
                pass


def _put(queue: asyncio.Queue, item: Any) -> None:
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(item)


def draw_frame(image: np.ndarray, boxes: Sequence[tuple[tuple[int, int, int, int], str]],
               roi: Sequence[Sequence[float]] | None) -> bytes:
    h, w = image.shape[:2]
    scale = min(1.0, FRAME_WIDTH / w)
    out = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1 else image.copy()
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    if roi:
        pts = np.round(np.asarray(roi, np.float64) * scale).astype(np.int32)
        cv2.polylines(out, [pts], True, (255, 200, 0), 2, cv2.LINE_AA)
    for (x1, y1, x2, y2), plate in boxes:
        p1 = (round(x1 * scale), round(y1 * scale))
        p2 = (round(x2 * scale), round(y2 * scale))
        cv2.rectangle(out, p1, p2, (0, 255, 0), 2)
        cv2.putText(out, plate, (p1[0], max(p1[1] - 6, 14)), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (0, 255, 0), 2, cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()
