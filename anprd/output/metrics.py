"""The daemon's Prometheus metrics, in a registry of their own, labelled by camera.

`Metrics` owns a `CollectorRegistry` (no prometheus_client global state), which the
HTTP server exposes on /metrics. `Metrics.camera(name)` returns a `CameraMetrics` bound
to one camera's label; the camera readers report through it (it implements
`anprd.video.cameras.SourceObserver`). A removed camera's series are dropped with
`Metrics.remove_camera`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# The camera states of anprd.video.cameras.SourceState, as the stream_state metric's label.
STREAM_STATES = ("starting", "up", "retrying", "ended", "stopped")
# Detector batch latency buckets (seconds): from a fast GPU batch to a slow CPU pyramid.
DETECT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class CameraMetrics:
    """One camera's series; the methods are what the camera reader calls."""

    def __init__(self, metrics: Metrics, camera: str) -> None:
        self.camera = camera
        self.sampled = 0  # plain tallies beside the counters, for the live page's rates
        self.dropped = 0
        # Touch every series so that it is exported at 0 before the first increment.
        self._decoded = metrics.frames_decoded.labels(camera)
        self._sampled = metrics.frames_sampled.labels(camera)
        self._dropped = metrics.frames_dropped.labels(camera)
        self._errors = metrics.decode_errors.labels(camera)
        self._up = metrics.stream_up.labels(camera)
        self._reconnects = metrics.stream_reconnects.labels(camera)
        self._failures = metrics.stream_failures.labels(camera)
        self._states = {state: metrics.stream_state.labels(camera, state)
                        for state in STREAM_STATES}
        self.stream_state("starting")
        self._reads = metrics.plate_reads.labels(camera)
        self._events = metrics.plate_events.labels(camera)
        self._last_event = metrics.last_event_timestamp.labels(camera)
        self._list_events = metrics.list_events

    # SourceObserver
    def frame_decoded(self) -> None:
        self._decoded.inc()

    def frame_sampled(self) -> None:
        self.sampled += 1
        self._sampled.inc()

    def frame_dropped(self) -> None:
        self.dropped += 1
        self._dropped.inc()

    def decode_error(self) -> None:
        self._errors.inc()

    def stream_up(self, up: bool) -> None:
        self._up.set(1 if up else 0)

    def stream_state(self, state: str) -> None:
        for name, gauge in self._states.items():
            gauge.set(1 if name == state else 0)

    def attempt_failed(self) -> None:
        self._failures.inc()

    def reconnected(self) -> None:
        self._reconnects.inc()

    # Detector loop
    def plate_reads(self, n: int) -> None:
        if n:
            self._reads.inc(n)

    def plate_event(self, timestamp: float, list_name: str) -> None:
        self._events.inc()
        self._last_event.set(timestamp)
        self._list_events.labels(self.camera, list_name).inc()


class SinkMetrics:
    """One sink's series: its queue, deliveries, retries and drops."""

    def __init__(self, metrics: Metrics, sink: str) -> None:
        self.sink = sink
        self._depth = metrics.sink_queue_depth.labels(sink)
        self._bytes = metrics.sink_queue_bytes.labels(sink)
        self._age = metrics.sink_oldest_age.labels(sink)
        self._delivered = metrics.sink_delivered.labels(sink)
        self._retries = metrics.sink_retries.labels(sink)
        self._up = metrics.sink_up.labels(sink)
        self._latency = metrics.sink_latency.labels(sink)
        self._dropped = {reason: metrics.sink_dropped.labels(sink, reason)
                         for reason in ("queue_full", "queue_error")}

    def watch(self, depth, size_bytes, oldest_age) -> None:
        """Read the queue's figures at each scrape (callables returning numbers)."""
        self._depth.set_function(depth)
        self._bytes.set_function(size_bytes)
        self._age.set_function(oldest_age)

    def delivered(self, latency_s: float) -> None:
        self._delivered.inc()
        self._latency.observe(max(0.0, latency_s))
        self._up.set(1)

    def retried(self) -> None:
        self._retries.inc()
        self._up.set(0)

    def dropped(self, reason: str, n: int = 1) -> None:
        self._dropped[reason].inc(n)


class Metrics:
    """All anprd metrics; see the README's "Daemon" section for their meaning."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._declare_camera_series(r)
        self._declare_sink_series(r)
        self.detect_seconds = Histogram(
            "anprd_detect_seconds",
            "Detector latency per batch of frames (one frame from each ready camera).",
            buckets=DETECT_BUCKETS,
            registry=r,
        )
        self.list_events = Counter(
            "anprd_list_events",
            "Plate events by camera and known-plates list (list=\"unlisted\": in none).",
            ("camera", "list"), registry=r,
        )
        self.build_info = Gauge(
            "anprd_build_info", "anprd version and the detector's backend and device.",
            ("version", "backend", "device"), registry=r,
        )
        self._version = version
        self.set_build_info("", "")
        # The series labelled by camera, dropped together when a camera is removed.
        self._per_camera = (
            self.frames_decoded, self.frames_sampled, self.frames_dropped, self.decode_errors,
            self.stream_up, self.stream_reconnects, self.stream_failures,
            self.plate_reads, self.plate_events,
            self.last_event_timestamp,
        )
        self._cameras: dict[str, CameraMetrics] = {}
        self._sinks: dict[str, SinkMetrics] = {}

    def _declare_camera_series(self, r: CollectorRegistry) -> None:
        """The series labelled by camera: frames, the stream, reads and events."""
        cam = ("camera",)
        self.frames_decoded = Counter(
            "anprd_frames_decoded",
            "Video frames decoded from the camera's stream.", cam, registry=r
        )
        self.frames_sampled = Counter(
            "anprd_frames_sampled",
            "Frames picked at the camera's sample_fps and handed to the detector.",
            cam,
            registry=r,
        )
        self.frames_dropped = Counter(
            "anprd_frames_dropped",
            "Sampled frames replaced by a newer one before the detector took them.",
            cam,
            registry=r,
        )
        self.decode_errors = Counter(
            "anprd_decode_errors",
            "Packets or files that failed to decode (skipped).", cam, registry=r
        )
        self.stream_up = Gauge(
            "anprd_stream_up",
            "1 while the camera's stream delivers frames, else 0.", cam, registry=r
        )
        self.stream_reconnects = Counter(
            "anprd_stream_reconnects",
            "Times the camera's stream was opened again after a failure, stall or end.",
            cam,
            registry=r,
        )
        self.stream_failures = Counter(
            "anprd_stream_failures",
            "Attempts to open or read the camera's stream that failed (each is retried).",
            cam, registry=r,
        )
        self.stream_state = Gauge(
            "anprd_stream_state",
            "1 for the camera's current state (starting, up, retrying, ended: a file played "
            "to its end, stopped), 0 for the others.",
            ("camera", "state"), registry=r,
        )
        self.plate_reads = Counter(
            "anprd_plate_reads",
            "Plate reads returned by the detector (before tracking).", cam, registry=r
        )
        self.plate_events = Counter(
            "anprd_plate_events", "Plate events emitted (one per passing vehicle).", cam, registry=r
        )
        self.last_event_timestamp = Gauge(
            "anprd_last_event_timestamp_seconds",
            "Unix time of the camera's last emitted plate event.",
            cam,
            registry=r,
        )

    def _declare_sink_series(self, r: CollectorRegistry) -> None:
        """The series labelled by sink: its queue and its deliveries."""
        sink = ("sink",)
        self.sink_queue_depth = Gauge(
            "anprd_sink_queue_depth", "Events queued for the sink, not yet delivered.", sink,
            registry=r,
        )
        self.sink_queue_bytes = Gauge(
            "anprd_sink_queue_bytes", "Bytes of the events queued for the sink.", sink,
            registry=r,
        )
        self.sink_oldest_age = Gauge(
            "anprd_sink_oldest_age_seconds",
            "How long the oldest event queued for the sink has waited (0 when none).", sink,
            registry=r,
        )
        self.sink_delivered = Counter(
            "anprd_sink_delivered", "Events the sink acknowledged.", sink, registry=r
        )
        self.sink_retries = Counter(
            "anprd_sink_retries", "Failed delivery attempts (each is retried).", sink,
            registry=r,
        )
        self.sink_dropped = Counter(
            "anprd_sink_dropped",
            "Events the sink will never get: reason queue_full (the oldest, dropped for "
            "room) or queue_error (the queue could not take it; the events log has it).",
            ("sink", "reason"), registry=r,
        )
        self.sink_up = Gauge(
            "anprd_sink_up", "1 when the sink's last delivery attempt succeeded, else 0.",
            sink, registry=r,
        )
        self.sink_latency = Histogram(
            "anprd_sink_delivery_seconds",
            "From an event queued to the sink acknowledging it.", sink,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 300, 3600),
            registry=r,
        )

    def sink(self, name: str) -> SinkMetrics:
        sm = self._sinks.get(name)
        if sm is None:
            sm = self._sinks[name] = SinkMetrics(self, name)
        return sm

    def set_build_info(self, backend: str, device: str) -> None:
        self.build_info.clear()
        self.build_info.labels(self._version, backend, device).set(1)

    def camera(self, name: str) -> CameraMetrics:
        cm = self._cameras.get(name)
        if cm is None:
            cm = self._cameras[name] = CameraMetrics(self, name)
        return cm

    def remove_camera(self, name: str) -> None:
        if self._cameras.pop(name, None) is None:
            return
        for metric in self._per_camera:
            try:
                metric.remove(name)
            except KeyError:
                pass
        for state in STREAM_STATES:
            try:
                self.stream_state.remove(name, state)
            except KeyError:
                pass

    def value(self, name: str, camera: str | None = None) -> float | None:
        """A sample's current value (for tests, the benchmark and /readyz)."""
        labels = {"camera": camera} if camera is not None else None
        return self.registry.get_sample_value(name, labels)
