"""What the daemon keeps of each running camera, and the figures of a run."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from anprd.config.sections import CameraConfig
from anprd.output.metrics import CameraMetrics
from anprd.reads import DetectParams
from anprd.track import Tracker
from anprd.video.cameras import CameraSource


@dataclass(eq=False)
class Camera:
    """One running camera: its config, reader, tracker and metrics."""

    config: CameraConfig
    source: CameraSource
    tracker: Tracker
    metrics: CameraMetrics
    params: DetectParams
    flushed: bool = False  # ended and its tracks closed
    removed: bool = False

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class RunStats:
    """Figures for the benchmark and tests. Event latency: from the frame that made the
    event due (its last read) to its line on disk; the latest 10000 events."""

    frames: int = 0
    events: int = 0
    event_latency_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
