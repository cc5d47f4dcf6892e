"""Camera readers: one thread per camera decoding its stream with PyAV.

A `CameraSource` opens an RTSP stream (over TCP), an HTTP(S) stream or a video file,
decodes every frame, and `sample_fps` times a second (of the stream's own time) puts
the newest frame into a one-frame `FrameSlot`. A frame that replaces one the detector
has not taken yet counts as dropped: nothing ever queues, so memory stays bounded
whatever the camera does. Files are played in real time (`realtime`: paced at their
own frame rate, dropping like a camera) or as fast as the detector takes the frames
(no pacing and no drops), once or looped.

A stream that cannot be opened, stalls (no frame for `stall_timeout_s`) or ends is
reopened with exponential back-off and jitter; state changes are logged once, not once
per retry. Decode errors are counted and skipped; a corrupt or truncated file is
survived. Passwords in URLs never reach a log line or an error message.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av

from anprd.redact import redact_text as redact
from anprd.video.decoding import packet_frames
from anprd.video.sampling import Frame, FrameSlot, Sampler, backoff_delay
from anprd.video.urls import file_path, is_file_url

log = logging.getLogger("anprd.sources")

class SourceState(enum.StrEnum):
    STARTING = "starting"  # first open in progress
    UP = "up"  # frames are arriving
    RETRYING = "retrying"  # failed, stalled or ended; reopening with back-off
    ENDED = "ended"  # a file (not looped) played to its end
    STOPPED = "stopped"  # stopped by the daemon


@dataclass(frozen=True)
class SourceSpec:
    """What a reader needs to know about one camera (plain data, from the config)."""

    name: str
    url: str
    sample_fps: float = 5.0
    loop: bool = False  # files only
    realtime: bool = True  # files only
    open_timeout_s: float = 10.0
    stall_timeout_s: float = 10.0  # no frame for this long: reopen (also the read timeout)
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0

    @property
    def is_file(self) -> bool:
        return is_file_url(self.url)

    @property
    def path(self) -> str:
        return file_path(self.url)

    @property
    def safe_url(self) -> str:
        return redact(self.url)


class SourceObserver(Protocol):
    """What a reader reports (anprd.output.metrics.CameraMetrics implements it)."""

    def frame_decoded(self) -> None: ...
    def frame_sampled(self) -> None: ...
    def frame_dropped(self) -> None: ...
    def decode_error(self) -> None: ...
    def stream_up(self, up: bool) -> None: ...
    def stream_state(self, state: str) -> None: ...
    def attempt_failed(self) -> None: ...
    def reconnected(self) -> None: ...


class NullObserver(SourceObserver):
    """Reports nothing: the protocol's methods do nothing."""


class StreamError(Exception):
    """The stream failed; the reader reopens it after a back-off."""


class CameraSource:
    """One camera's reader thread. `start()`, then `take()` the newest sampled frame."""

    def __init__(
        self,
        spec: SourceSpec,
        observer: SourceObserver | None = None,
        notify: Callable[[], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.spec = spec
        self.observer: SourceObserver = observer or NullObserver()
        self.slot = FrameSlot(notify)
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"source-{spec.name}", daemon=True)
        self._lock = threading.Lock()
        self._state = SourceState.STARTING
        self._since = time.time()
        self.last_error: str | None = None
        self._clock: float | None = None  # timestamp of the newest decoded frame
        self._index = 0
        self._loop_offset = 0.0
        self._wall0: float | None = None  # a file's timestamps count from its first opening

    # ---- public ---------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop; from now on it reports nothing (a camera restarted by a
        reload has a new reader reporting under the same name)."""
        self._stop.set()
        self.observer.stream_up(False)
        if self._state != SourceState.ENDED:
            self.observer.stream_state(SourceState.STOPPED.value)
        self.observer = NullObserver()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; False if it is still blocked (in a network read)."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def take(self) -> Frame | None:
        return self.slot.take()

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def finished(self) -> bool:
        """Nothing more will come: the file ended (or the reader stopped) and the slot is empty."""
        return self._state in (SourceState.ENDED, SourceState.STOPPED) and not self.slot

    def now(self) -> float:
        """The camera's clock, for closing tracks: the wall clock, except for a file
        played as fast as possible, whose clock is its newest frame's timestamp."""
        if self.spec.is_file and not self.spec.realtime:
            return self._clock if self._clock is not None else time.time()
        return time.time()

    def info(self) -> dict:
        """The camera's state for /readyz and logs."""
        return {
            "state": self._state.value,
            "since": self._since,
            "url": self.spec.safe_url,
            "last_error": self.last_error,
        }

    # ---- state ----------------------------------------------------------------------
    def _set_state(self, state: SourceState, reason: str | None = None) -> None:
        with self._lock:
            if state == self._state:
                if reason:
                    log.debug("camera %s: still %s: %s", self.spec.name, state.value, reason)
                return
            previous, self._state, self._since = self._state, state, time.time()
        self.observer.stream_up(state == SourceState.UP)
        self.observer.stream_state(state.value)
        msg = f"camera {self.spec.name}: {previous.value} -> {state.value}"
        if state == SourceState.UP:
            log.info("%s (%s)", msg, self.spec.safe_url)
        elif state == SourceState.RETRYING:
            log.warning("%s: %s; retrying with back-off", msg, reason)
        elif state == SourceState.ENDED and reason:
            log.warning("%s: %s", msg, reason)
        else:
            log.info("%s", msg)

    def _failed(self, reason: str) -> None:
        self.observer.attempt_failed()
        self.last_error = redact(reason)
        self._set_state(SourceState.RETRYING, self.last_error)

    # ---- the thread -----------------------------------------------------------------
    def _run(self) -> None:
        attempt = 0
        try:
            while not self._stop.is_set():
                try:
                    container = self._open()
                except av.error.InvalidDataError as e:
                    # The content itself is bad: a file will not mend by retrying.
                    self.observer.decode_error()
                    if self.spec.is_file and not self.spec.loop:
                        self.last_error = redact(f"cannot decode: {e}")
                        self._set_state(SourceState.ENDED, self.last_error)
                        return
                    self._failed(f"cannot decode: {e}")
                except Exception as e:  # noqa: BLE001 (any failure to open is retried)
                    self._failed(str(e) if isinstance(e, StreamError) else f"cannot open: {e}")
                else:
                    try:
                        was_retrying = self._state == SourceState.RETRYING
                        got_frames = self._read(container, was_retrying)
                        if got_frames:
                            attempt = 0
                        if self._stop.is_set():
                            return
                        if self.spec.is_file:
                            if not self.spec.loop:
                                self._set_state(SourceState.ENDED)
                                return
                            if got_frames:
                                continue  # loop: play it again straight away
                            self._failed("file has no decodable frames")
                        else:
                            self._failed("stream ended")
                    except StreamError as e:
                        self._failed(str(e))
                    finally:
                        container.close()
                spec = self.spec
                delay = backoff_delay(
                    attempt, spec.backoff_initial_s, spec.backoff_max_s, self._rng
                )
                attempt += 1
                log.debug("camera %s: reopening in %.1fs (attempt %d)", spec.name, delay, attempt)
                if self._stop.wait(delay):
                    return
        except Exception:  # noqa: BLE001 (a reader bug must not kill the daemon silently)
            log.exception("camera %s: reader crashed", self.spec.name)
            self.last_error = "reader crashed"
        finally:
            if self._state != SourceState.ENDED:
                self._set_state(SourceState.STOPPED)

    def _open(self) -> av.container.InputContainer:
        spec = self.spec
        timeout = (spec.open_timeout_s, spec.stall_timeout_s)
        if spec.is_file:
            path = spec.path
            if not Path(path).is_file():
                raise FileNotFoundError(f"no such file: {path}")
            return av.open(path, timeout=timeout)
        options: dict[str, str] = {}
        micros = str(int(max(spec.open_timeout_s, spec.stall_timeout_s) * 1_000_000))
        scheme = spec.url.split("://", 1)[0].lower()
        if scheme in ("rtsp", "rtsps"):
            options.update({"rtsp_transport": "tcp", "timeout": micros})
        elif scheme in ("http", "https"):
            options.update({"timeout": micros})
        try:
            return av.open(spec.url, options=options, timeout=timeout)
        except Exception as e:  # noqa: BLE001
            # PyAV's messages quote the URL, password included.
            raise StreamError(redact(str(e))) from None

    def _bad_packet(self, e: Exception) -> None:
        self.observer.decode_error()
        log.debug("camera %s: decode error: %s", self.spec.name, redact(str(e)))

    def _read(self, container: av.container.InputContainer, was_retrying: bool) -> bool:
        """Decode until the stream ends or stops; True if any frame was decoded."""
        spec = self.spec
        if not container.streams.video:
            raise StreamError("no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        sampler = Sampler(spec.sample_fps)
        paced = spec.is_file and spec.realtime
        lossless = spec.is_file and not spec.realtime
        if self._wall0 is None:
            self._wall0 = time.time()
        mono0 = time.monotonic()
        media0: float | None = None
        last_media = 0.0
        frame_no = 0
        rate = float(stream.average_rate) if stream.average_rate else 25.0
        last_frame_mono = time.monotonic()
        got = False
        batches = packet_frames(container, stream, self._bad_packet)
        while not self._stop.is_set():
            try:
                frames = next(batches)
            except StopIteration:
                break
            except av.error.FFmpegError as e:
                if spec.is_file:  # truncated or corrupt tail: count it, the file has ended
                    self.observer.decode_error()
                    log.debug("camera %s: demux error: %s", spec.name, redact(str(e)))
                    break
                raise StreamError(f"read failed: {redact(str(e))}") from None
            mono = time.monotonic()
            if not frames:
                if mono - last_frame_mono > spec.stall_timeout_s:
                    raise StreamError(f"stalled: no frame for {spec.stall_timeout_s:g}s")
                continue
            for frame in frames:
                last_frame_mono = time.monotonic()
                self.observer.frame_decoded()
                if not got:
                    got = True
                    if was_retrying:
                        self.observer.reconnected()
                    self._set_state(SourceState.UP)
                    self.last_error = None
                media = frame.time if frame.time is not None else frame_no / rate
                frame_no += 1
                if media0 is None:
                    media0 = media
                elapsed = media - media0
                last_media = elapsed
                if paced:
                    delay = mono0 + elapsed - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return got
                if spec.is_file:
                    timestamp = self._wall0 + self._loop_offset + elapsed
                    sample_t = self._loop_offset + elapsed
                else:
                    timestamp = time.time()
                    sample_t = elapsed
                self._clock = timestamp
                if not sampler.due(sample_t):
                    continue
                image = frame.to_ndarray(format="bgr24")
                self._index += 1
                self.observer.frame_sampled()
                if lossless:
                    while not self.slot.wait_empty(0.2):
                        if self._stop.is_set():
                            return got
                if self.slot.put(Frame(spec.name, image, timestamp, self._index)):
                    self.observer.frame_dropped()
        if spec.is_file and spec.loop:
            self._loop_offset += last_media + 1.0 / rate
        return got
