"""`anprd run --config FILE`: the long-running service.

Threads: one reader per camera (`anprd.video.cameras`), one detector loop, the HTTP
server's, and the main thread, which handles signals, reloads and shutdown.

The detector loop (`anprd.service.pipeline`) takes the newest sampled frame of every
camera, detects, tracks and writes the events due; this module starts and stops it, the cameras,
the HTTP server and the sinks.

Signals: SIGTERM/SIGINT stop the readers, emit the events already due (tracks with
enough reads are closed as if the vehicles had left) and exit 0; a second one exits at
once (nothing emitted is lost: every event line is synced when written). SIGHUP reloads
the config: cameras added, removed or changed are started, stopped or restarted, the
others are untouched; the known-plates lists (and their CSV files) are read again; a
config that fails validation is refused and the running one kept. A changed `model`
(new weights, such as a fine-tuned reader) is loaded beside the running one and swapped
in; `http.listen` and `events` (the sinks with it) changes need a restart (logged).

The daemon also exits (0) when every camera is a file played once and all have ended,
which makes `anprd run` usable as a one-off on recorded video; `--once` forces that
(files are not looped).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from anprd import __version__
from anprd.config.sections import CameraConfig, Config, ModelConfig
from anprd.output.crops import CropCollector
from anprd.output.events import EventSink, appending_note
from anprd.output.known_plates import KnownPlates
from anprd.output.live import LiveView
from anprd.output.metrics import Metrics
from anprd.output.sinks.delivery import Sinks
from anprd.redact import redact_text
from anprd.service.pipeline import Pipeline
from anprd.service.reload import camera_changes, read_again, sections_needing_restart
from anprd.service.running import Camera, RunStats
from anprd.service.settings import (
    DetectorLike,
    DetectorLoader,
    detector_for,
    source_spec,
    tracker_params,
)
from anprd.service.status import PageToken, camera_state, live_states, readiness
from anprd.track import DecodeFn, Tracker
from anprd.video.cameras import CameraSource

log = logging.getLogger("anprd.daemon")

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2
DRAIN_TIMEOUT_S = 5.0  # how long SIGTERM waits for the detector's batch in progress


# ----------------------------------------------------------------------------- daemon


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: Config,
        detector_loader: DetectorLoader = detector_for,
        *,
        once: bool = False,
        http: bool = True,
        decode: DecodeFn | None = None,
    ) -> None:
        self.config_path = Path(config_path)
        self.config = config
        self._loader = detector_loader
        self._once = once
        self._http_enabled = http
        self._decode = decode  # None: anprd.detect.formats.decode
        self.metrics = Metrics(__version__)
        self.sink = EventSink(config.events.path, config.events.snapshots)
        self.sinks = Sinks(config.events.sinks, config.events.state_folder, self.metrics)
        self.crops = CropCollector(config.events.crops) if config.events.crops else None
        self.detector: DetectorLike | None = None
        self.http_server: Any = None
        self.stats = RunStats()
        self._cameras: dict[str, Camera] = {}
        self._lock = threading.RLock()  # cameras, trackers and the sink's emissions
        self._stop = threading.Event()
        self._wake = threading.Event()  # wakes the main loop
        self._frames_ready = threading.Event()  # wakes the detector loop
        self.live = LiveView(self.camera_states, config.events.path, config.events.snapshots)
        self.pipeline = Pipeline(self._cameras, self._lock, self.sink, self.sinks, self.crops,
                                 KnownPlates(config.lists), self.metrics, self.stats,
                                 self._stop, self._frames_ready, self._wake, self.live)
        self._page_token = PageToken(config.http.token_file)
        self._reload_requested = False
        self._model_loading: threading.Thread | None = None
        self._signals = 0
        self._detector_thread: threading.Thread | None = None

    # --------------------------------------------------------------------------- API
    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._frames_ready.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wake.set()

    def ready(self) -> tuple[bool, dict]:
        """For /readyz (`status.readiness`)."""
        with self._lock:
            cams = list(self._cameras.values())
        return readiness(cams, self.detector, self.config.model, self._stop.is_set(),
                         self.sinks.status())

    def camera_states(self) -> list[dict]:
        """For the live page (`status.live_states`)."""
        with self._lock:
            cams = list(self._cameras.values())
        return live_states(cams)

    # --------------------------------------------------------------------------- run
    def run(self, install_signals: bool = True) -> int:
        if install_signals:
            self._install_signals()
        try:
            self.sink.open()
            if self.crops is not None:
                self.crops.open()
        except OSError as e:
            log.error("%s", e.strerror or e)
            self.sink.close()
            return EXIT_ERROR
        try:
            self.sinks.open()
            self.sinks.catch_up(self.sink.path)
        except OSError as e:
            log.error("%s", redact_text(str(e)))
            self.sink.close()
            return EXIT_ERROR
        known = self.pipeline.known
        if known.lists:
            log.info("known plates: %d in %d lists", len(known), len(known.lists))
        try:
            if self._http_enabled and not self._start_http():
                return EXIT_ERROR
            log.info("loading the model %s", self.config.model.weights)
            t0 = time.monotonic()
            try:
                self.detector = self._loader(self.config.model)
            except Exception as e:  # noqa: BLE001 (DetectorError and anything from the backend)
                log.error("cannot load the model: %s", redact_text(str(e)) or type(e).__name__)
                return EXIT_ERROR
            self.metrics.set_build_info(self.detector.backend, self.detector.device)
            log.info("model loaded in %.1fs (%s)", time.monotonic() - t0,
                     _described(self.detector))
            if self._stop.is_set():
                return EXIT_OK
            with self._lock:
                for cam in self.config.cameras:
                    if cam.enabled:
                        self._start_camera(cam)
            if not self._cameras:
                log.warning("no cameras enabled: serving the web API only")
            self._detector_thread = threading.Thread(
                target=self.pipeline.run, args=(self.detector,), name="detector", daemon=True
            )
            self._detector_thread.start()
            return self._main_loop()
        finally:
            self._shutdown()

    def _main_loop(self) -> int:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            if self._stop.is_set():
                break
            if self._reload_requested:
                self._reload_requested = False
                self.reload()
            self._tell_camera_states()
            if self._all_ended():
                log.info("every camera has ended: exiting")
                break
            if self._detector_thread is not None and not self._detector_thread.is_alive():
                log.error("the detector loop died; exiting")
                return EXIT_ERROR
        return EXIT_OK

    def _tell_camera_states(self) -> None:
        if not self.sinks.deliveries:
            return
        with self._lock:
            cams = list(self._cameras.values())
        for cam in cams:
            state = camera_state(cam)
            self.sinks.camera_state(cam.name, {"state": state["state"], "since": state["since"]})

    def _all_ended(self) -> bool:
        with self._lock:
            cams = list(self._cameras.values())
        if not cams:
            return False
        return all(c.source.spec.is_file and not c.source.spec.loop and c.flushed for c in cams)

    def _shutdown(self) -> None:
        self._stop.set()
        self._frames_ready.set()
        with self._lock:
            cams = list(self._cameras.values())
        for cam in cams:
            cam.source.stop()
        if self._detector_thread is not None:
            self._detector_thread.join(DRAIN_TIMEOUT_S)
            if self._detector_thread.is_alive():
                log.warning("the detector is still busy after %.0fs; not waiting for it",
                            DRAIN_TIMEOUT_S)
        self.pipeline.close()
        self.sink.close()
        self._tell_camera_states()
        self.sinks.close()
        if self.http_server is not None:
            try:
                self.http_server.shutdown()
            except Exception:  # noqa: BLE001
                log.exception("HTTP server shutdown failed")
        deadline = time.monotonic() + 1.0
        for cam in cams:
            cam.source.join(max(0.0, deadline - time.monotonic()))
        log.info("stopped (%d events emitted)", self.stats.events)

    def _start_http(self) -> bool:
        try:
            from anprd.api.server import start_http_server
        except ImportError as e:
            log.warning("HTTP server unavailable (%s): no metrics endpoint", e)
            return True
        listen = self.config.http.listen
        if not self._page_token.read():
            return False
        try:
            self.http_server = start_http_server(
                listen, self.metrics.registry, self.ready, lambda: self.detector, self.config.api,
                live=self.live, token=self._page_token,
            )
        except (OSError, ValueError) as e:
            log.error("cannot serve HTTP on %s: %s", listen, e)
            return False
        url = getattr(self.http_server, "url", f"http://{listen}")
        log.info("anprd %s: metrics at %s/metrics, readiness at %s/readyz, events to %s%s",
                 __version__, url, url, self.config.events.path,
                 appending_note(Path(self.config.events.path)))
        return True

    # ----------------------------------------------------------------------- cameras
    def _start_camera(self, cam: CameraConfig) -> None:
        metrics = self.metrics.camera(cam.name)
        source = CameraSource(source_spec(cam, self._once), metrics, notify=self._frames_ready.set)
        camera = Camera(
            config=cam,
            source=source,
            tracker=Tracker(cam.name, tracker_params(cam), self._decode),
            metrics=metrics,
            params=cam.detect_params(),
        )
        self._cameras[cam.name] = camera
        log.info("camera %s: watching %s at %g fps", cam.name, cam.safe_url, cam.sample_fps)
        source.start()

    def _stop_camera(self, name: str, forget_metrics: bool) -> None:
        camera = self._cameras.pop(name)
        camera.removed = True
        camera.source.stop()
        self.pipeline.flush(camera)
        self.live.forget(name)
        if forget_metrics:
            self.metrics.remove_camera(name)

    def reload(self) -> bool:
        """Apply the config file again; False (and the running config kept) if invalid."""
        log.info("reloading %s", self.config_path)
        new = read_again(self.config_path)
        if new is None:
            return False
        try:
            self.sink.reopen()  # after log rotation, a new file
        except OSError as e:
            log.error("reload: cannot reopen the events file %s: %s", self.sink.path, e)
        old = self.config
        if self.http_server is not None and old.http.token_file is not None:
            self._page_token.read()  # a rotated token; on failure the old one stays
        if new.lists != old.lists:
            self.pipeline.known = KnownPlates(new.lists)
            log.info("reload: known plates: %d in %d lists", len(self.pipeline.known),
                     len(new.lists))
        for section in sections_needing_restart(old, new):
            log.warning("reload: changes to '%s' need a restart; kept as they were", section)
        if new.api != old.api and self.http_server is not None:
            try:
                self.http_server.configure(new.api)
            except Exception as e:  # noqa: BLE001
                log.error("reload: cannot apply the 'api' section: %s", e)
        added, removed, changed = camera_changes(old, new)
        new_cams = {c.name: c for c in new.cameras}
        with self._lock:
            for name in removed:
                if name in self._cameras:
                    self._stop_camera(name, forget_metrics=True)
            for name in changed:
                if name in self._cameras:
                    self._stop_camera(name, forget_metrics=False)
                self._start_camera(new_cams[name])
            for name in added:
                self._start_camera(new_cams[name])
            self.config = old.model_copy(update={"cameras": new.cameras, "api": new.api,
                                                 "lists": new.lists})
        log.info(
            "reloaded: %d cameras (added: %s; removed: %s; changed: %s)",
            len(self._cameras), ", ".join(added) or "none", ", ".join(removed) or "none",
            ", ".join(changed) or "none",
        )
        if new.model != old.model:
            self._swap_model(new.model)
        return True

    def _swap_model(self, model: ModelConfig) -> None:
        """Load `model` in a thread beside the running one, then swap it in between two
        batches; if it cannot be loaded the running one stays."""
        if self._model_loading is not None and self._model_loading.is_alive():
            log.warning("reload: a model is still loading; send SIGHUP again once it is in")
            return

        def load() -> None:
            log.info("reload: loading the model %s", model.weights)
            t0 = time.monotonic()
            try:
                detector = self._loader(model)
            except Exception as e:  # noqa: BLE001 (as at start: any loading failure)
                log.error("reload: cannot load the model: %s; keeping the running one",
                          redact_text(str(e)) or type(e).__name__)
                return
            with self._lock:
                self.detector = self.pipeline.detector = detector
                self.config = self.config.model_copy(update={"model": model})
            self.metrics.set_build_info(detector.backend, detector.device)
            log.info("reload: model %s loaded in %.1fs and swapped in (%s)", model.weights,
                     time.monotonic() - t0, _described(detector))

        self._model_loading = threading.Thread(target=load, name="model-reload", daemon=True)
        self._model_loading.start()

    # ----------------------------------------------------------------------- signals
    def _install_signals(self) -> None:
        def on_stop(signum: int, _frame: Any) -> None:
            self._signals += 1
            if self._signals > 1:
                log.warning("second %s: exiting now", signal.Signals(signum).name)
                os._exit(EXIT_ERROR)
            log.info("%s: stopping", signal.Signals(signum).name)
            self.request_stop()

        def on_hup(_signum: int, _frame: Any) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)


def _described(detector: DetectorLike) -> str:
    return (f"runtime {detector.runtime}, backend {detector.backend}, device "
            f"{detector.device}, {detector.threads or 'default'} threads")
