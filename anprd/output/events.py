"""The event log: one JSON object per line, durable before it counts as emitted.

`EventSink.emit()` writes the event's line with a single `write()` on a file opened for
appending, then `fsync()`s it; only then does it return (and the daemon count the event
as emitted). A crash or power loss can therefore leave at most one partial line at the
end of the file, never a lost emitted event; `EventSink.open()` (and `repair_tail()`)
cuts such a partial line off, so that the file holds only whole lines; a write that
fails part way (a full disk) is cut back at once, before the next event. The same event
goes to the log as one line (journald-friendly: no timestamps of our own when running
under systemd; see anprd.service.logs).

Snapshots (when `events.snapshots` is a folder): `<folder>/<camera>/<YYYY-MM-DD>/<id>.jpg`
(the frame, the plate boxed) and `<id>-crop.jpg` (the plate), written before the event
line so that the paths in it exist.

Event fields (see the README's "Daemon" section):

    {"id": "0193f0c2...", "camera": "gate-north", "plate": "AB123CD",
     "format": "mercosur_ar", "confidence": 0.93,
     "first_seen": "2024-05-01T12:00:01.200Z", "last_seen": "2024-05-01T12:00:02.600Z",
     "reads": 7, "box": [412, 388, 540, 430], "snapshot": null, "snapshot_crop": null,
     "list": "residents", "label": "Ana, 4B", "matched_plate": "AB123CD", "distance": 0}

`list`, `label`, `matched_plate` and `distance` are null for a plate in no list
(anprd.output.known_plates); `distance` 1 says the plate read is one character off the listed
`matched_plate`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from anprd.output.folders import make_folder
from anprd.output.known_plates import Match
from anprd.track import PlateEvent

log = logging.getLogger("anprd.events")

_REPAIR_CHUNK = 1 << 16


def iso_utc(t: float) -> str:
    """Unix time -> ISO 8601 UTC with milliseconds, e.g. 2024-05-01T12:00:01.200Z."""
    return datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_event_id(t: float) -> str:
    """A unique id that sorts by time: 12 hex digits of milliseconds, 20 random."""
    return f"{int(t * 1000):012x}{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True)
class EventRecord:
    """An event as written: the JSON line's fields."""

    id: str
    camera: str
    plate: str
    format: str
    confidence: float
    first_seen: float
    last_seen: float
    reads: int
    box: tuple[int, int, int, int]
    snapshot: str | None = None
    snapshot_crop: str | None = None
    match: Match | None = None

    def to_json(self) -> dict:
        m = self.match
        return {
            "id": self.id,
            "camera": self.camera,
            "plate": self.plate,
            "format": self.format,
            "confidence": round(self.confidence, 4),
            "first_seen": iso_utc(self.first_seen),
            "last_seen": iso_utc(self.last_seen),
            "reads": self.reads,
            "box": list(self.box),
            "snapshot": self.snapshot,
            "snapshot_crop": self.snapshot_crop,
            "list": m.list if m else None,
            "label": m.label if m else None,
            "matched_plate": m.plate if m else None,
            "distance": m.distance if m else None,
        }

    def line(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=True)


def repair_tail(path: Path) -> int:
    """Cut a partial last line (a crash mid-write) off `path`; the bytes removed."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0
        os.lseek(fd, size - 1, os.SEEK_SET)
        if os.read(fd, 1) == b"\n":
            return 0
        # Find the last newline, reading backwards in chunks.
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - _REPAIR_CHUNK)
            os.lseek(fd, start, os.SEEK_SET)
            chunk = os.read(fd, end - start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                keep = start + i + 1
                break
            end = start
        os.ftruncate(fd, keep)
        os.fsync(fd)
        return size - keep
    finally:
        os.close(fd)


def _make_folder(path: Path, what: str) -> None:
    try:
        make_folder(path)
    except OSError as e:
        raise OSError(e.errno, f"cannot make {what} {path}: {e.strerror}") from None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _append_durably(fd: int, data: bytes) -> None:
    """Append `data` and fsync it. If that fails (a full disk), a regular file is cut
    back to its length before, so that the next line written starts a line of its own
    instead of running on from a fragment of this one. Pipes and terminals (an events
    path of /dev/stdout) cannot be synced and need not be."""
    regular = stat.S_ISREG(os.fstat(fd).st_mode)
    before = os.lseek(fd, 0, os.SEEK_END) if regular else 0
    try:
        written = os.write(fd, data)
        while written < len(data):  # a short write (rare): write the rest
            written += os.write(fd, data[written:])
        if regular:
            os.fsync(fd)
    except OSError:
        if regular:
            try:
                os.ftruncate(fd, before)
            except OSError:
                pass  # repair_tail cuts the fragment off at the next start
        raise


class EventSink:
    """Appends events to a JSON-lines file (and snapshots to a folder). Thread-safe."""

    def __init__(self, path: Path, snapshots: Path | None = None) -> None:
        self.path = Path(path)
        self.snapshots = Path(snapshots) if snapshots is not None else None
        self._fd: int | None = None
        self._lock = threading.Lock()

    def open(self) -> EventSink:
        """Open the events file (OSError naming the file or folder in the way)."""
        with self._lock:
            if self._fd is not None:
                raise RuntimeError("EventSink is already open")
            self._fd = self._open_fd()
        if self.snapshots is not None:
            try:
                _make_folder(self.snapshots, "the snapshots folder (events.snapshots)")
            except OSError:
                self.close()
                raise
        return self

    def reopen(self) -> None:
        """Open `path` afresh (after log rotation moved the file away)."""
        with self._lock:  # no event is being written meanwhile
            fd = self._open_fd()
            if self._fd is not None:
                os.close(self._fd)
            self._fd = fd

    def _open_fd(self) -> int:
        _make_folder(self.path.parent, "the events file's folder")
        existed = self.path.exists()
        try:
            removed = repair_tail(self.path)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as e:
            raise OSError(e.errno, f"cannot open the events file {self.path}: "
                                   f"{e.strerror}") from None
        if removed:
            log.warning(
                "events file %s ended with a partial line (a crash while writing): "
                "removed its %d bytes; every whole line is kept",
                self.path, removed,
            )
        if not existed:
            _fsync_dir(self.path.parent)
        return fd

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> EventSink:
        return self.open() if self._fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def emit(
        self, event: PlateEvent, frame: np.ndarray | None = None, match: Match | None = None
    ) -> EventRecord:
        """Write `event` durably; returns the record written. `frame` (BGR) is the
        picture of the event's box, for snapshots; `match`, its known-plates entry."""
        now = time.time()
        event_id = new_event_id(event.first_seen if event.first_seen > 0 else now)
        snap = crop = None
        if self.snapshots is not None and frame is not None:
            snap, crop = self._write_snapshots(event, event_id, frame)
        record = EventRecord(
            id=event_id,
            camera=event.camera,
            plate=event.plate,
            format=event.format,
            confidence=event.confidence,
            first_seen=event.first_seen,
            last_seen=event.last_seen,
            reads=event.reads,
            box=event.box,
            snapshot=snap,
            snapshot_crop=crop,
            match=match,
        )
        line = record.line()
        data = (line + "\n").encode()
        with self._lock:
            if self._fd is None:
                raise RuntimeError("EventSink is not open")
            _append_durably(self._fd, data)
        log.info("plate event %s", line)
        return record

    def _write_snapshots(
        self, event: PlateEvent, event_id: str, frame: np.ndarray
    ) -> tuple[str | None, str | None]:
        import cv2

        assert self.snapshots is not None
        day = datetime.fromtimestamp(event.first_seen, tz=UTC).strftime("%Y-%m-%d")
        folder = self.snapshots / event.camera / day
        try:
            folder.mkdir(parents=True, exist_ok=True)
            h, w = frame.shape[:2]
            x1, y1, x2, y2 = event.box
            x1, x2 = sorted((min(max(x1, 0), w), min(max(x2, 0), w)))
            y1, y2 = sorted((min(max(y1, 0), h), min(max(y2, 0), h)))
            crop_path = None
            if x2 > x1 and y2 > y1:
                crop_path = folder / f"{event_id}-crop.jpg"
                _write_jpeg(crop_path, frame[y1:y2, x1:x2])
            annotated = frame.copy()
            thickness = max(2, w // 400)
            cv2.rectangle(annotated, (x1, y1), (x2, y2), (0, 255, 0), thickness)
            cv2.putText(
                annotated, event.plate, (x1, max(y1 - 8, 20)), cv2.FONT_HERSHEY_SIMPLEX,
                max(0.6, w / 1600), (0, 255, 0), thickness,
            )
            frame_path = folder / f"{event_id}.jpg"
            _write_jpeg(frame_path, annotated)
            return str(frame_path), (str(crop_path) if crop_path else None)
        except (OSError, ValueError) as e:
            log.warning(
                "camera %s: cannot write the snapshot of %s: %s", event.camera, event.plate, e
            )
            return None, None


def _write_jpeg(path: Path, image: np.ndarray) -> None:
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("JPEG encoding failed")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.tobytes())
    os.replace(tmp, path)


def read_events(path: Path) -> list[dict]:
    """The events of a JSON-lines file (whole lines only), for tests and tools."""
    out = []
    with open(path, "rb") as f:
        for raw in f:
            if raw.endswith(b"\n") and raw.strip():
                out.append(json.loads(raw))
    return out


def appending_note(path: Path) -> str:
    """A note that events go after those a file already holds (a demo run twice)."""
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        return ""
    return f" (appended after the {size:,} bytes it holds)" if size else ""
