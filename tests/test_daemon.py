"""The daemon end to end: cameras in, one event per vehicle out, metrics, signals, reload.

Most tests run the real daemon with the tests' FakeDetector (tests/fake_daemon.py), which
reads synthetic video whose plates are known, so that everything except the neural
network is exercised without trained weights. The tests at the end use the real
detector and weights and skip while weights/anprd.keras is absent.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import pytest
import yaml
from daemon_helpers import (
    REAL_VIDEO,
    REPO,
    SHARED_MISSING,
    SYNTH_PLATES,
    FakeDetector,
    RtspServer,
    free_port,
    gst_rtsp_unavailable,
    wait_until,
    write_synthetic_video,
)
from prometheus_client.parser import text_string_to_metric_families

from anprd.config.load import load_config
from anprd.detect.formats import decode
from anprd.labels import Row, read_rows
from anprd.output.events import read_events
from anprd.service.daemon import Daemon

FAKE_DAEMON = REPO / "tests" / "fake_daemon.py"
WEIGHTS = REPO / "weights" / "anprd.keras"

needs_shared = pytest.mark.skipif(SHARED_MISSING is not None, reason=str(SHARED_MISSING))
gst_missing = gst_rtsp_unavailable()
needs_gst = pytest.mark.skipif(gst_missing is not None, reason=str(gst_missing))


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    """9.5 s at 10 fps: AB123CD, AC456EF, AD789GH cross the picture one after the other."""
    path = tmp_path_factory.mktemp("video") / "synth.mp4"
    write_synthetic_video(path)
    return path


def write_config(path: Path, cameras: list[dict], port: int = 0, **extra) -> Path:
    doc = {
        "model": {"weights": str(WEIGHTS)},
        "http": {"listen": f"127.0.0.1:{port}"},
        "events": {"path": str(path.parent / "events.jsonl"), "snapshots": None},
        "cameras": cameras,
        **extra,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def camera(name: str, url: str, **kw) -> dict:
    return {"name": name, "url": url, "sample_fps": 5,
            "dedup": {"min_reads": 2, "track_timeout_s": 1.0, "cooldown_s": 30}, **kw}


def scrape(port: int) -> dict[tuple[str, str], float]:
    """{(sample name, camera label): value} of the daemon's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, s.labels.get("camera", ""))] = s.value
    return out


def metric(port: int, name: str, camera: str = "") -> float | None:
    """One sample of the daemon's /metrics: None when it has no such sample, NaN (false in
    every comparison) while it does not answer."""
    try:
        return scrape(port).get((name, camera))
    except OSError:
        return math.nan


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class DaemonProcess:
    """tests/fake_daemon.py (or `anprd run`) as a child process, stderr collected."""

    def __init__(self, config: Path, *args: str, real: bool = False) -> None:
        cmd = ([sys.executable, "-m", "anprd", "run", "--config", str(config)] if real else
               [sys.executable, str(FAKE_DAEMON), "--config", str(config)])
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([*cmd, *args], cwd=REPO, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def logged_events(log: str) -> list[dict]:
    return [json.loads(line.split("plate event ", 1)[1])
            for line in log.splitlines() if "plate event " in line]


# ------------------------------------------------------------------ in-process, files


def test_file_once_one_event_per_vehicle_and_metrics(tmp_path, synth):
    cfg = write_config(tmp_path / "anprd.yaml", [camera("synth", str(synth), realtime=False)])
    config = load_config(cfg, check_files=False)
    fake = FakeDetector()
    daemon = Daemon(cfg, config, lambda _m: fake, decode=decode, http=False)
    assert daemon.ready()[0] is False  # model not loaded yet
    assert daemon.run(install_signals=False) == 0

    events = read_events(tmp_path / "events.jsonl")
    assert [e["plate"] for e in events] == list(SYNTH_PLATES)
    assert all(e["camera"] == "synth" and e["format"] == "mercosur_ar" for e in events)
    assert all(e["reads"] >= 2 and e["first_seen"] <= e["last_seen"] for e in events)
    m = daemon.metrics
    assert m.value("anprd_frames_decoded_total", "synth") == 95
    assert m.value("anprd_frames_sampled_total", "synth") == 48 == fake.images
    assert m.value("anprd_frames_dropped_total", "synth") == 0
    assert m.value("anprd_plate_events_total", "synth") == 3
    assert m.value("anprd_plate_reads_total", "synth") == 30  # 10 sampled frames a vehicle
    assert m.value("anprd_last_event_timestamp_seconds", "synth") > 0
    assert m.value("anprd_detect_seconds_count") == fake.calls > 0
    from anprd import __version__

    assert m.registry.get_sample_value(
        "anprd_build_info", {"version": __version__, "backend": "fake", "device": "cpu"}
    ) == 1


@needs_shared
def test_corrupt_camera_is_counted_and_the_others_unaffected(tmp_path, synth):
    data = REAL_VIDEO.read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(data[: len(data) // 3])
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(30_000))
    cfg = write_config(tmp_path / "anprd.yaml", [
        camera("synth", str(synth), realtime=False),
        camera("broken", str(broken), realtime=False),
        camera("garbage", str(garbage), realtime=False),
    ])
    daemon = Daemon(cfg, load_config(cfg, check_files=False), lambda _m: FakeDetector(),
                    decode=decode, http=False)
    assert daemon.run(install_signals=False) == 0
    assert [e["plate"] for e in read_events(tmp_path / "events.jsonl")] == list(SYNTH_PLATES)
    m = daemon.metrics
    assert m.value("anprd_frames_decoded_total", "broken") > 20
    assert m.value("anprd_decode_errors_total", "garbage") == 1


def test_bad_config_is_refused_with_the_key_and_exit_2(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "cameras:\n"
        "  - name: gate\n"
        "    url: rtsp://admin:hunter2@192.0.2.1/stream\n"
        "    sample_fps: -1\n"
    )
    r = subprocess.run([sys.executable, "-m", "anprd", "run", "--config", str(cfg)],
                       cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "cameras[0].sample_fps" in r.stderr and "Traceback" not in r.stderr
    assert "hunter2" not in r.stderr + r.stdout


# ------------------------------------------------------------ subprocess, RTSP, signals


@needs_gst
def test_rtsp_end_to_end_one_event_per_vehicle_metrics_and_sigterm(tmp_path, synth, processes):
    """A real RTSP server publishes the synthetic video; the daemon (fake detector) reads
    it over TCP alongside a looped file camera. Exactly one event per vehicle, even when
    the stream ends and is reopened (the cool-down); the metrics follow; SIGTERM exits 0
    quickly with every event in the file."""
    server = RtspServer(synth).start()
    processes.append(server)
    port = free_port()
    cfg = write_config(tmp_path / "anprd.yaml", [
        camera("rtsp", server.url, stall_timeout_s=3, reconnect_max_s=1),
        camera("loop", str(synth), loop=True, realtime=True),
    ], port=port)
    d = DaemonProcess(cfg)
    processes.append(d)

    assert wait_until(lambda: metric(port, "anprd_stream_up", "rtsp") == 1, 20), d.log
    status, ready = get_json(f"http://127.0.0.1:{port}/readyz")
    assert status == 200 and ready["ready"] is True and ready["model"]["loaded"] is True
    assert [Path(f).name for f in ready["model"]["readers"]] == ["wide.keras"]
    assert ready["cameras"]["rtsp"]["state"] == "up"
    assert wait_until(lambda: metric(port, "anprd_plate_events_total", "rtsp") == 3, 30), d.log
    # The 9.5 s stream ends; the camera reconnects and sees the same cars again: no event.
    assert wait_until(
        lambda: (metric(port, "anprd_stream_reconnects_total", "rtsp") or 0) >= 1, 20), d.log
    time.sleep(3)
    m = scrape(port)
    assert m[("anprd_plate_events_total", "rtsp")] == 3
    assert m[("anprd_frames_decoded_total", "rtsp")] >= 95
    assert m[("anprd_frames_sampled_total", "rtsp")] >= 45
    assert m[("anprd_frames_decoded_total", "loop")] > 0
    assert m[("anprd_plate_reads_total", "rtsp")] >= 20
    assert m[("anprd_detect_seconds_count", "")] > 0

    t0 = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.wait(15) == 0, d.log
    assert time.monotonic() - t0 < 6
    events = read_events(tmp_path / "events.jsonl")
    rtsp_plates = [e["plate"] for e in events if e["camera"] == "rtsp"]
    assert rtsp_plates == list(SYNTH_PLATES)
    # Every event that was logged as emitted is in the file, and nothing else.
    assert sorted(e["id"] for e in logged_events(d.log)) == sorted(e["id"] for e in events)
    assert "Traceback" not in d.log


def test_sigterm_emits_the_events_due_and_loses_none(tmp_path, synth, processes):
    # Tracks never time out on their own here (track_timeout_s 60) and need 3 agreeing
    # reads; SIGTERM closes them as if the vehicles had left: those with enough reads
    # become events, written before the process exits.
    cfg = write_config(tmp_path / "anprd.yaml", [
        camera("slow", str(synth), realtime=True, loop=True,
               dedup={"min_reads": 50, "track_timeout_s": 60, "cooldown_s": 30}),
    ])
    d = DaemonProcess(cfg)
    processes.append(d)
    # Wait until the first vehicle has crossed (0.5 s lead + 2 s crossing).
    assert wait_until(lambda: "-> up" in d.log, 20), d.log
    time.sleep(3.5)
    d.signal(signal.SIGTERM)
    assert d.wait(15) == 0, d.log
    assert "SIGTERM: stopping" in d.log
    # min_reads 50 is more reads than a crossing gives: no event, even at shutdown.
    assert read_events(tmp_path / "events.jsonl") == []

    # The same with min_reads 3 and reads that each have one character wrong: no read
    # agrees exactly, so nothing is emitted while running; SIGTERM closes the open track
    # and its combined reading, which is right, becomes an event before the exit.
    (tmp_path / "events.jsonl").unlink(missing_ok=True)
    write_config(cfg, [camera("slow", str(synth), realtime=True, loop=True,
                              dedup={"min_reads": 3, "track_timeout_s": 60,
                                     "cooldown_s": 30})])
    d = DaemonProcess(cfg, "--noisy")
    processes.append(d)
    assert wait_until(lambda: "-> up" in d.log, 20), d.log
    time.sleep(3.5)
    assert read_events(tmp_path / "events.jsonl") == [], "emitted before SIGTERM"
    d.signal(signal.SIGTERM)
    assert d.wait(15) == 0, d.log
    events = read_events(tmp_path / "events.jsonl")
    assert [e["plate"] for e in events][:1] == ["AB123CD"]
    assert sorted(e["id"] for e in logged_events(d.log)) == sorted(e["id"] for e in events)
    stop = d.log.index("SIGTERM: stopping")
    assert all(d.log.index(e["id"]) > stop for e in events)


def test_sighup_reload_adds_removes_and_refuses_a_bad_config(tmp_path, synth, processes):
    port = free_port()
    a = camera("cam-a", str(synth), realtime=True, loop=True)
    b = camera("cam-b", str(synth), realtime=True, loop=True)
    cfg = write_config(tmp_path / "anprd.yaml", [a], port=port)
    d = DaemonProcess(cfg)
    processes.append(d)

    def decoded(cam):
        return metric(port, "anprd_frames_decoded_total", cam)

    assert wait_until(lambda: (decoded("cam-a") or 0) > 5, 20), d.log

    # An invalid config: refused, the running one kept.
    bad = dict(a, sample_fps=-1)
    write_config(cfg, [bad, b], port=port)
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: "reload refused" in d.log, 10), d.log
    assert "cameras[0].sample_fps" in d.log
    before = decoded("cam-a")
    time.sleep(1.0)
    assert decoded("cam-a") > before and decoded("cam-b") is None

    # Add cam-b; cam-a unchanged keeps its reader (its counters keep counting).
    write_config(cfg, [a, b], port=port)
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: (decoded("cam-b") or 0) > 5, 10), d.log
    assert decoded("cam-a") > before
    assert d.log.count("camera cam-a: watching") == 1

    # Remove cam-a, change cam-b (sample_fps): cam-a's series go, cam-b restarts.
    write_config(cfg, [dict(b, sample_fps=2)], port=port)
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: decoded("cam-a") is None, 10), d.log
    assert wait_until(lambda: d.log.count("camera cam-b: watching") == 2, 10), d.log
    status, ready = get_json(f"http://127.0.0.1:{port}/readyz")
    assert list(ready["cameras"]) == ["cam-b"]

    d.signal(signal.SIGTERM)
    assert d.wait(15) == 0, d.log


def test_sighup_with_new_weights_swaps_the_model_and_keeps_the_old_if_they_fail(
        tmp_path, synth, processes):
    """The loop of learning a site: fine-tuned weights put in the config, SIGHUP, and
    the cameras go on with the new model; weights that cannot be loaded change nothing."""
    port = free_port()
    cams = [camera("cam-a", str(synth), realtime=True, loop=True)]
    cfg = write_config(tmp_path / "anprd.yaml", cams, port=port)
    d = DaemonProcess(cfg)
    processes.append(d)
    assert wait_until(lambda: (metric(port, "anprd_frames_decoded_total", "cam-a") or 0) > 5,
                      20), d.log
    tuned = tmp_path / "tuned.keras"
    tuned.write_bytes(WEIGHTS.read_bytes())
    write_config(cfg, cams, port=port, model={"weights": str(tuned)})
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: "and swapped in" in d.log, 10), d.log
    assert get_json(f"http://127.0.0.1:{port}/readyz")[1]["model"]["weights"] == str(tuned)

    write_config(cfg, cams, port=port, model={"weights": str(tmp_path / "gone.keras")})
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: "keeping the running one" in d.log, 10), d.log
    assert "gone.keras" in d.log and "need a restart" not in d.log
    assert get_json(f"http://127.0.0.1:{port}/readyz")[1]["model"]["weights"] == str(tuned)
    before = metric(port, "anprd_frames_sampled_total", "cam-a")
    assert wait_until(lambda: metric(port, "anprd_frames_sampled_total", "cam-a") > before, 10)
    d.signal(signal.SIGTERM)
    assert d.wait(15) == 0, d.log


# --------------------------------------------------------- the real detector and weights

needs_weights = pytest.mark.skipif(
    not WEIGHTS.exists(), reason=f"trained weights not present yet: {WEIGHTS}"
)


@needs_weights
@needs_shared
@pytest.mark.parametrize("runtime", ["auto", "keras"])
def test_real_video_as_a_file_one_event_per_plate_and_none_from_captions(tmp_path, runtime):
    """../shared/realdata/video played as a file through `anprd run` with the real model,
    on the default runtime (LiteRT int8 on CPUs) and on Keras (as on GPUs): one event for
    each `yes` plate of plates.csv, with the right text; nothing else (the `optional`
    plates may or may not be reported; the captions must not be)."""
    rows = list(csv.DictReader((REAL_VIDEO.parent / "plates.csv").open()))
    required = {r["plate"] for r in rows if r["expected"] == "yes"}
    allowed = {r["plate"] for r in rows}
    cfg = write_config(tmp_path / "anprd.yaml", [
        camera("news", str(REAL_VIDEO), realtime=False, sample_fps=5),
    ], port=0, model={"weights": str(WEIGHTS), "runtime": runtime})
    d = DaemonProcess(cfg, "--once", real=True)
    try:
        assert d.wait(600) == 0, d.log
    finally:
        d.kill()
    plates = [e["plate"] for e in read_events(tmp_path / "events.jsonl")]
    assert len(plates) == len(set(plates)), plates  # one event per plate, whatever it read
    assert required <= set(plates), f"missing {sorted(required - set(plates))}"
    assert set(plates) <= allowed, f"not in the video: {sorted(set(plates) - allowed)}"


def _sample_video() -> tuple[Path, list[str]] | None:
    """The bundled sample video (config/sample.yaml's camera) and its plates, in order:
    trainer.sample_video.PLATES made it."""
    cfg = REPO / "config" / "sample.yaml"
    if not cfg.exists():
        return None
    video = Path(load_config(cfg, check_files=False).cameras[0].url)
    try:
        from trainer.sample_video import PLATES
    except ImportError:
        return None
    return (video, [plate for plate, _fmt in PLATES]) if video.exists() else None


@needs_weights
@pytest.mark.parametrize("runtime", ["keras", "litert"])
def test_sample_video_as_a_file_real_detector_one_event_per_vehicle(tmp_path, runtime):
    """What `make run` does: the bundled sample through `anprd run` with the real model,
    the same events whether Keras or the shipped LiteRT export runs the networks; with
    `events.crops` each event's plate is kept, labelled with the plate read."""
    sample = _sample_video()
    if sample is None:
        pytest.skip("no bundled sample video (config/sample.yaml, trainer.sample_video)")
    video, expected = sample
    cfg = write_config(tmp_path / "anprd.yaml", [camera("gate", str(video), realtime=False)])
    doc = yaml.safe_load(cfg.read_text())
    doc["model"]["runtime"] = runtime
    doc["events"]["crops"] = "crops"
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
    d = DaemonProcess(cfg, "--once", real=True)
    try:
        assert d.wait(600) == 0, d.log[-3000:]
    finally:
        d.kill()
    events = read_events(tmp_path / "events.jsonl")
    plates = [e["plate"] for e in events]
    assert plates == expected, (plates, d.log[-3000:])
    crops = tmp_path / "crops"
    rows = [Row(e["id"] + ".png", e["plate"]) for e in events]
    assert read_rows(crops) == rows
    for e in events:
        crop = cv2.imread(str(crops / f"{e['id']}.png"), cv2.IMREAD_UNCHANGED)
        x1, y1, x2, y2 = e["box"]
        assert crop.ndim == 2 and crop.shape == (y2 - y1, x2 - x1)
        window = cv2.imread(str(crops / f"{e['id']}.window.png"), cv2.IMREAD_UNCHANGED)
        assert window.shape == (64, 128)


@needs_weights
@needs_gst
def test_rtsp_sample_video_real_detector_one_event_per_vehicle(tmp_path, processes):
    sample = _sample_video()
    if sample is None:
        pytest.skip("no bundled sample video (config/sample.yaml, trainer.sample_video)")
    video, expected = sample
    server = RtspServer(video).start()
    processes.append(server)
    port = free_port()
    cfg = write_config(tmp_path / "anprd.yaml", [camera("gate", server.url)], port=port)
    d = DaemonProcess(cfg, real=True)
    processes.append(d)

    def events_total():
        return metric(port, "anprd_plate_events_total", "gate") or 0

    assert wait_until(lambda: events_total() >= len(expected), 300, interval=1), d.log[-3000:]
    time.sleep(5)  # nothing more comes
    d.signal(signal.SIGTERM)
    assert d.wait(20) == 0
    plates = [e["plate"] for e in read_events(tmp_path / "events.jsonl")]
    assert sorted(plates) == sorted(expected), (plates, d.log[-3000:])


# ------------------------------------------------------------------------ odds and ends


def test_http_port_in_use_is_a_clear_error(tmp_path, synth, caplog):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cfg = write_config(tmp_path / "anprd.yaml", [camera("synth", str(synth))], port=port)
        daemon = Daemon(cfg, load_config(cfg, check_files=False), lambda _m: FakeDetector(),
                        decode=decode)
        assert daemon.run(install_signals=False) == 1
    assert f"cannot serve HTTP on 127.0.0.1:{port}" in caplog.text


def test_detector_that_cannot_load_is_a_clear_error(tmp_path, synth, caplog):
    def broken(_model):
        raise RuntimeError("cannot load weights /x/anprd.keras: not a zip file")

    cfg = write_config(tmp_path / "anprd.yaml", [camera("synth", str(synth))])
    daemon = Daemon(cfg, load_config(cfg, check_files=False), broken, http=False)
    assert daemon.run(install_signals=False) == 1
    assert "cannot load the model: cannot load weights /x/anprd.keras" in caplog.text


@pytest.mark.skipif(not Path("/usr/bin/systemd-analyze").exists(),
                    reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path):
    units = REPO / "systemd"
    for name in ("anprd.service", "anprd@.service"):
        text = (units / name).read_text()
        assert "ProtectSystem=strict" in text and "NoNewPrivileges=yes" in text
        assert "StateDirectory=anprd" in text and "ExecReload=/bin/kill -HUP $MAINPID" in text
        # verify insists that the executable exists: point it at one that does.
        (tmp_path / name).write_text(text.replace("/opt/anprd/bin/anprd", "/bin/true"))
    r = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "anprd.service"),
         str(tmp_path / "anprd@gates.service")],
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "anprd" not in r.stderr, r.stderr  # no warning about our units


def test_run_is_listed_in_the_cli():
    r = subprocess.run([sys.executable, "-m", "anprd", "run", "--help"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--config" in r.stdout and "--once" in r.stdout


def test_alert_rules_are_valid_for_promtool():
    import shutil

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (make setup installs Debian's prometheus)")
    rules = REPO / "config" / "prometheus-alerts.yaml"
    result = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    text = rules.read_text()
    assert 'anprd_stream_state{state=~"retrying|starting"}' in text  # not stream_up: files end
