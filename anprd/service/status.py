"""What the daemon tells about itself: readiness for /readyz, each camera's state for
the live page and the sinks, and the page's token. Plain functions of the running
cameras; the daemon holds the cameras and calls them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from anprd.api.token_file import TokenFileError, read_token_file
from anprd.config.sections import ModelConfig
from anprd.output.events import iso_utc
from anprd.service.running import Camera
from anprd.video.cameras import SourceState

log = logging.getLogger("anprd.daemon")


def camera_state(cam: Camera) -> dict[str, Any]:
    """A camera's state, since when (ISO 8601), address (no password), last error."""
    info = cam.source.info()
    return {**info, "since": iso_utc(info["since"])}


def readiness(cams: Iterable[Camera], detector: Any, model: ModelConfig, stopping: bool,
              sinks: dict) -> tuple[bool, dict]:
    """Ready once the model is loaded and every camera has been tried once."""
    cameras = {cam.name: camera_state(cam) for cam in cams}
    about = {
        "loaded": detector is not None,
        "weights": str(model.weights),
        "readers": [str(f) for f in model.readers],
        "backend": getattr(detector, "backend", model.backend),
        "device": getattr(detector, "device", model.device),
        "runtime": getattr(detector, "runtime", model.runtime),
    }
    ok = (detector is not None and not stopping
          and all(c["state"] != SourceState.STARTING.value for c in cameras.values()))
    return ok, {"model": about, "cameras": cameras, "sinks": sinks}


def live_states(cams: Iterable[Camera]) -> list[dict[str, Any]]:
    """For the live page: each camera's state with its sampling rate and tallies."""
    return [{"name": cam.name, **camera_state(cam), "sample_fps": cam.config.sample_fps,
             "sampled": cam.metrics.sampled, "dropped": cam.metrics.dropped} for cam in cams]


class PageToken:
    """The bearer token of `http.token_file`, read at start and again on SIGHUP."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.token: str | None = None

    def read(self) -> bool:
        """False, logged, when the file cannot be used; the token in use then stays."""
        if self.path is None:
            return True
        try:
            self.token = read_token_file(self.path)
        except TokenFileError as e:
            log.error("%s", e)
            return False
        return True

    def __call__(self) -> str | None:
        return self.token
