"""From the config's types to the runtime's: the detector a model section loads,
and each camera's source and tracker settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from anprd.config.sections import CameraConfig, ModelConfig
from anprd.reads import DetectParams, PlateRead
from anprd.track import TrackerParams
from anprd.video.cameras import SourceSpec


class DetectorLike(Protocol):
    backend: str
    device: str
    runtime: str
    threads: int | None

    def detect(
        self, images: Sequence[np.ndarray], params: Sequence[DetectParams]
    ) -> list[list[PlateRead]]: ...


DetectorLoader = Callable[[ModelConfig], DetectorLike]


def detector_for(model: ModelConfig) -> DetectorLike:
    """The real detector (imports TensorFlow/JAX: slow, so only here)."""
    from anprd.detect.loading import load_detector

    return load_detector(Path(model.weights), backend=model.backend, device=model.device,
                         reader_weights=model.readers, runtime=model.runtime,
                         threads=model.threads, exports=model.exports or None)


# ------------------------------------------------------------------------- config maps


def source_spec(cam: CameraConfig, once: bool = False) -> SourceSpec:
    return SourceSpec(
        name=cam.name,
        url=cam.url,
        sample_fps=cam.sample_fps,
        loop=cam.loop and not once,
        realtime=cam.realtime,
        open_timeout_s=cam.open_timeout_s,
        stall_timeout_s=cam.stall_timeout_s,
        backoff_max_s=cam.reconnect_max_s,
    )


def tracker_params(cam: CameraConfig) -> TrackerParams:
    return TrackerParams(
        formats=tuple(cam.formats),
        min_reads=cam.dedup.min_reads,
        track_timeout_s=cam.dedup.track_timeout_s,
        cooldown_s=cam.dedup.cooldown_s,
        min_confidence=cam.min_confidence,
    )


