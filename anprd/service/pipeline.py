"""Frames to events: the detector loop takes the newest sampled frame of every camera
that has one, runs them through the detector as one batch, feeds each camera's reads to
its `Tracker`, and writes the events due to the `EventSink`, then to every sink's queue
(`anprd.output.sinks`) and to the live page (`anprd.output.live`), each event with its
known-plates entry
(`anprd.output.known_plates`). An event is counted (metrics, log) only once its line is
on disk and it is in the queues."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from anprd.config.lists import UNLISTED
from anprd.output.crops import CropCollector
from anprd.output.events import EventSink
from anprd.output.known_plates import KnownPlates
from anprd.output.live import LiveView
from anprd.output.metrics import Metrics
from anprd.output.sinks.delivery import Sinks
from anprd.service.running import Camera, RunStats
from anprd.service.settings import DetectorLike
from anprd.track import PlateEvent
from anprd.video.cameras import Frame

log = logging.getLogger("anprd.daemon")


class Pipeline:
    """Shares the daemon's cameras and their lock: the daemon adds and removes cameras,
    this reads and tracks them. `known` is replaced when the lists are reloaded."""

    def __init__(self, cameras: dict[str, Camera], lock: threading.RLock, sink: EventSink,
                 sinks: Sinks, crops: CropCollector | None, known: KnownPlates,
                 metrics: Metrics, stats: RunStats, stop: threading.Event,
                 frames_ready: threading.Event,
                 camera_ended: threading.Event, live: LiveView | None = None) -> None:
        self._cameras, self._lock = cameras, lock
        self._sink, self._sinks, self._crops, self.known = sink, sinks, crops, known
        self._metrics, self._stats = metrics, stats
        self._stop, self._frames_ready, self._wake = stop, frames_ready, camera_ended
        self._live = live
        self._closed = False  # trackers flushed: results arriving now are discarded
        self.detector: DetectorLike | None = None  # replaced when a reload swaps the model

    def run(self, detector: DetectorLike) -> None:
        """The detector loop, until stopped: frames in, events out."""
        failures = 0
        self.detector = detector
        while not self._stop.is_set():
            detector = self.detector
            self._frames_ready.clear()  # before taking: a frame put from now on wakes us
            with self._lock:
                cams = list(self._cameras.values())
            batch: list[tuple[Camera, Frame]] = []
            for cam in cams:
                frame = cam.source.take()
                if frame is not None:
                    batch.append((cam, frame))
            if not batch:
                self.tick(cams)
                self._frames_ready.wait(0.25)
                continue
            t0 = time.perf_counter()
            try:
                results = detector.detect(
                    [f.image for _, f in batch], [c.params for c, _ in batch]
                )
                if len(results) != len(batch):
                    raise RuntimeError(f"detector returned {len(results)} results for "
                                       f"{len(batch)} images")
            except Exception:  # noqa: BLE001 (one bad batch must not stop the daemon)
                failures += 1
                if failures == 1 or failures % 100 == 0:
                    log.exception("detector failed on a batch (%d failures so far)", failures)
                self._stop.wait(min(5.0, 0.1 * failures))
                continue
            failures = 0
            self._metrics.detect_seconds.observe(time.perf_counter() - t0)
            self._stats.frames += len(batch)
            keep_frames = self._sink.snapshots is not None or self._crops is not None
            with self._lock:
                if self._closed:
                    return
                for (cam, frame), reads in zip(batch, results, strict=True):
                    if cam.removed:
                        continue
                    cam.metrics.plate_reads(len(reads))
                    if self._live is not None:
                        self._live.frame(cam.name, frame.image, reads, cam.params.roi)
                    ref = frame.image if keep_frames else None
                    self.emit(cam, cam.tracker.update(reads, frame.timestamp, ref))
            self.tick(cams)

    def tick(self, cams: list[Camera]) -> None:
        """Close the tracks that timed out; flush the cameras that ended."""
        with self._lock:
            if self._closed:
                return
            for cam in cams:
                if cam.removed or cam.flushed:
                    continue
                if cam.source.finished:
                    self.flush(cam)
                    self._wake.set()
                else:
                    self.emit(cam, cam.tracker.tick(cam.source.now()))

    def flush(self, cam: Camera) -> None:
        """Close every track of a camera that ended or goes away (once)."""
        if not cam.flushed:
            self.emit(cam, cam.tracker.flush())
            cam.flushed = True

    def emit(self, cam: Camera, events: list[PlateEvent]) -> None:
        for event in events:
            frame = event.ref if isinstance(event.ref, np.ndarray) else None
            match = self.known.match(cam.name, event.plate)
            try:
                record = self._sink.emit(event, frame, match)
            except OSError as e:
                log.error("camera %s: cannot write event %s: %s (not emitted)",
                          cam.name, event.plate, e)
                continue
            self._sinks.put(record)
            if self._live is not None:
                self._live.event(record.to_json())
            if self._crops is not None and frame is not None:
                self._crops.save(record.id, event.plate, frame, event.box)
            now = time.time()
            cam.metrics.plate_event(now, match.list if match else UNLISTED)
            self._stats.events += 1
            self._stats.event_latency_s.append(now - event.last_seen)

    def close(self) -> None:
        """Flush every camera's tracks; results of a batch still running are discarded."""
        with self._lock:
            self._closed = True
            for cam in self._cameras.values():
                self.flush(cam)
