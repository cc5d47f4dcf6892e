"""Camera readers: sampling, the one-frame slot, files, failures, and a real RTSP server."""

from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest
from daemon_helpers import (
    REAL_VIDEO,
    SHARED_MISSING,
    RtspServer,
    gst_rtsp_unavailable,
    wait_until,
    write_synthetic_video,
)

from anprd.output.metrics import Metrics
from anprd.video.cameras import CameraSource, SourceSpec, SourceState
from anprd.video.sampling import Frame, FrameSlot, Sampler, backoff_delay

needs_shared = pytest.mark.skipif(SHARED_MISSING is not None, reason=str(SHARED_MISSING))
FRAMES_PER_PASS = 95  # write_synthetic_video's default: 0.5 s lead + 3 x (2 s + 1 s) at 10 fps


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "synth.mp4"
    write_synthetic_video(path)
    return path


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> Path:
    """3.5 s at 10 fps: one vehicle."""
    path = tmp_path_factory.mktemp("video") / "short.mp4"
    write_synthetic_video(path, plates=["AB123CD"])
    return path


def counters(m: Metrics, cam: str) -> dict[str, float]:
    names = [
        "frames_decoded_total",
        "frames_sampled_total",
        "frames_dropped_total",
        "decode_errors_total",
        "stream_up",
        "stream_reconnects_total",
    ]
    return {n: m.value(f"anprd_{n}", cam) for n in names}


def drain(src: CameraSource, timeout: float, every: float = 0.0) -> list[Frame]:
    """Take frames until the reader finishes (or `timeout`), pausing `every` s between."""
    out: list[Frame] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not src.finished:
        f = src.take()
        if f is not None:
            out.append(f)
        time.sleep(every or 0.002)
    return out


# ------------------------------------------------------------------------- pure parts


def test_sampler_takes_one_frame_per_period_of_stream_time():
    s = Sampler(5.0)
    picked = [i for i in range(100) if s.due(i / 25.0)]  # 25 fps stream, 4 s
    assert picked == list(range(0, 100, 5))
    s = Sampler(5.0)
    picked = [i for i in range(30) if s.due(i / 2.0)]  # 2 fps stream: every frame
    assert picked == list(range(30))
    s = Sampler(1.0)
    assert s.due(100.0) and not s.due(100.5) and s.due(101.0)
    assert s.due(50.0)  # the clock went back (a new stream): start again
    assert s.due(5000.0)  # a jump forward: start again


def test_slot_keeps_only_the_newest_frame_and_counts_replacements():
    notified = []
    slot = FrameSlot(lambda: notified.append(1))
    frames = [Frame("c", None, float(i), i) for i in range(3)]  # type: ignore[arg-type]
    assert slot.put(frames[0]) is False
    assert slot.put(frames[1]) is True  # replaced an untaken frame: a drop
    assert slot.take() is frames[1] and slot.take() is None
    assert slot.put(frames[2]) is False
    assert slot.wait_empty(0.01) is False
    assert slot.take() is frames[2] and slot.wait_empty(0.01) is True
    assert len(notified) == 3


def test_backoff_grows_to_its_cap_with_jitter():
    rng = random.Random(1)
    delays = [backoff_delay(a, 1.0, 30.0, rng) for a in range(12)]
    for a, d in enumerate(delays):
        base = min(30.0, 2.0**a)
        assert base * 0.5 <= d <= base
    assert max(delays) <= 30.0 and delays[-1] >= 15.0
    assert len({round(backoff_delay(3, 1.0, 30.0, rng), 6) for _ in range(20)}) > 10


# ------------------------------------------------------------------------------ files


def test_file_as_fast_as_the_consumer_no_drops(synth):
    m = Metrics("test")
    src = CameraSource(SourceSpec("f", str(synth), sample_fps=5, realtime=False), m.camera("f"))
    src.start()
    frames = drain(src, 20)
    assert src.join(5) and src.state == SourceState.ENDED and src.finished
    c = counters(m, "f")
    assert c["frames_decoded_total"] == FRAMES_PER_PASS
    assert c["frames_sampled_total"] == len(frames) == 48  # 9.5 s of video at 5 fps
    assert c["frames_dropped_total"] == 0 and c["decode_errors_total"] == 0
    assert c["stream_up"] == 0  # ended
    gaps = [b.timestamp - a.timestamp for a, b in zip(frames, frames[1:], strict=False)]
    assert all(abs(g - 0.2) < 0.01 for g in gaps)  # timestamps follow the video's clock
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype.name == "uint8"
    assert [f.index for f in frames] == list(range(1, 49))
    # Its clock stops at its last frame (the daemon flushes the tracks of an ended file).
    assert frames[-1].timestamp <= src.now() < frames[-1].timestamp + 0.2


def test_realtime_file_with_a_slow_consumer_drops_and_stays_bounded(short):
    m = Metrics("test")
    spec = SourceSpec("rt", str(short), sample_fps=10, realtime=True)
    src = CameraSource(spec, m.camera("rt"))
    t0 = time.monotonic()
    src.start()
    assert wait_until(lambda: m.value("anprd_stream_up", "rt") == 1, 5)
    taken = drain(src, 20, every=0.35)  # a detector slower than the camera
    elapsed = time.monotonic() - t0
    assert src.state == SourceState.ENDED
    assert 3.3 <= elapsed <= 6.0  # paced at the file's own frame rate (3.5 s)
    c = counters(m, "rt")
    assert c["frames_decoded_total"] == 35
    assert c["frames_sampled_total"] == 35  # 10 fps of a 10 fps file
    assert c["frames_dropped_total"] >= 35 / 2
    assert c["frames_sampled_total"] - c["frames_dropped_total"] == pytest.approx(len(taken), abs=1)


def test_looped_file_plays_again_with_a_continuing_clock(synth):
    m = Metrics("test")
    spec = SourceSpec("loop", str(synth), sample_fps=2, realtime=False, loop=True)
    src = CameraSource(spec, m.camera("loop"))
    src.start()
    frames: list[Frame] = []
    deadline = time.monotonic() + 20
    while len(frames) < 45 and time.monotonic() < deadline:  # 19 a pass: into the 3rd pass
        f = src.take()
        if f is not None:
            frames.append(f)
        time.sleep(0.001)
    src.stop()
    assert len(frames) == 45
    assert src.join(5)
    ts = [f.timestamp for f in frames]
    assert all(b > a for a, b in zip(ts, ts[1:], strict=False))  # keeps going forward
    assert m.value("anprd_frames_decoded_total", "loop") > FRAMES_PER_PASS * 2
    assert m.value("anprd_stream_reconnects_total", "loop") == 0  # a loop is no reconnect
    assert src.state == SourceState.STOPPED


def test_looped_realtime_file_keeps_to_the_wall_clock(short):
    # Tracks time out and cool-downs end by the wall clock: a looped file played in real
    # time must not stamp its frames ahead of it, pass after pass.
    m = Metrics("test")
    spec = SourceSpec("rt", str(short), sample_fps=2, realtime=True, loop=True)
    src = CameraSource(spec, m.camera("rt"))
    src.start()
    lags = []
    deadline = time.monotonic() + 9  # 3.5 s a pass: into the 3rd pass
    while time.monotonic() < deadline:
        f = src.take()
        if f is not None:
            lags.append(time.time() - f.timestamp)
        time.sleep(0.01)
    src.stop()
    assert src.join(5)
    assert len(lags) >= 14
    assert all(-0.2 < lag < 1.5 for lag in lags), lags


@needs_shared
def test_corrupt_and_truncated_files_are_counted_and_survived(tmp_path):
    data = REAL_VIDEO.read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.mp4"
    rng = random.Random(7)
    buf = bytearray(data)
    for _ in range(200):
        p = rng.randrange(100_000, len(buf) - 1000)
        buf[p : p + 64] = bytes(rng.randrange(256) for _ in range(64))
    corrupt.write_bytes(bytes(buf))
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(bytes(rng.randrange(256) for _ in range(50_000)))

    m = Metrics("test")
    srcs = [
        CameraSource(SourceSpec(p.stem, str(p), sample_fps=5, realtime=False), m.camera(p.stem))
        for p in (truncated, corrupt, garbage)
    ]
    for s in srcs:
        s.start()
    for s in srcs:
        drain(s, 60)
        assert s.join(5) and s.state == SourceState.ENDED
    t, c, g = (counters(m, s.spec.name) for s in srcs)
    assert 100 < t["frames_decoded_total"] < 200  # the first half of 268 frames
    assert c["frames_decoded_total"] > 200 and c["decode_errors_total"] >= 1
    assert g["frames_decoded_total"] == 0 and g["decode_errors_total"] == 1
    assert "cannot decode" in srcs[2].info()["last_error"]


def test_missing_file_is_retried_until_it_appears(tmp_path, synth):
    path = tmp_path / "later.mp4"
    m = Metrics("test")
    spec = SourceSpec(
        "later", str(path), sample_fps=5, realtime=False, backoff_initial_s=0.05, backoff_max_s=0.2
    )
    src = CameraSource(spec, m.camera("later"))
    src.start()
    assert wait_until(lambda: src.state == SourceState.RETRYING, 5)
    assert "no such file" in src.info()["last_error"]
    time.sleep(0.5)
    shutil.copy(synth, tmp_path / "tmp.mp4")
    os.replace(tmp_path / "tmp.mp4", path)
    frames = drain(src, 20)
    assert len(frames) == 48 and src.state == SourceState.ENDED
    assert m.value("anprd_stream_reconnects_total", "later") == 1
    assert m.value("anprd_stream_failures_total", "later") >= 1
    # A file that played to its end is "ended", which a dashboard tells from "down".
    ended = {"camera": "later", "state": "ended"}
    assert m.registry.get_sample_value("anprd_stream_state", ended) == 1
    assert m.registry.get_sample_value("anprd_stream_state", {**ended, "state": "up"}) == 0


def test_unreachable_stream_retries_logs_once_and_hides_the_password(caplog):
    caplog.set_level(logging.DEBUG, logger="anprd.sources")
    m = Metrics("test")
    spec = SourceSpec(
        "dark",
        "rtsp://admin:s3cr3t-pw@127.0.0.1:9/stream1",
        sample_fps=5,
        open_timeout_s=2,
        backoff_initial_s=0.05,
        backoff_max_s=0.1,
    )
    src = CameraSource(spec, m.camera("dark"))
    src.start()
    assert wait_until(lambda: caplog.text.count("reopening in") >= 4, 10)
    failures = m.value("anprd_stream_failures_total", "dark")
    src.stop()
    assert src.join(5)
    assert m.value("anprd_stream_up", "dark") == 0
    # Every failed attempt is counted; none succeeded, so no reconnection is.
    assert failures >= 4 and m.value("anprd_stream_reconnects_total", "dark") == 0
    assert "s3cr3t" not in caplog.text and "s3cr3t" not in str(src.info())
    assert "admin:***@127.0.0.1" in caplog.text
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "starting -> retrying" in warnings[0].getMessage()


# ------------------------------------------------------------------------------- RTSP

gst_missing = gst_rtsp_unavailable()
needs_gst = pytest.mark.skipif(gst_missing is not None, reason=str(gst_missing))


@needs_gst
@needs_shared
def test_rtsp_stall_kill_and_reconnect_while_another_camera_keeps_working(synth, caplog):
    """A real RTSP server (GStreamer) publishes the real news clip; PyAV reads it over TCP.

    Freezing the server (SIGSTOP) is a stall; killing it makes the stream go down; when
    it is back the camera reconnects by itself. A second camera (a looped file) keeps
    delivering frames all along.
    """
    caplog.set_level(logging.INFO, logger="anprd.sources")
    server = RtspServer(REAL_VIDEO).start()
    m = Metrics("test")
    rtsp = CameraSource(
        SourceSpec(
            "rtsp",
            server.url,
            sample_fps=5,
            open_timeout_s=3,
            stall_timeout_s=1.5,
            backoff_initial_s=0.2,
            backoff_max_s=0.5,
        ),
        m.camera("rtsp"),
    )
    other = CameraSource(SourceSpec("file", str(synth), sample_fps=5, loop=True), m.camera("file"))

    def up(cam):
        return m.value("anprd_stream_up", cam) == 1

    def decoded(cam):
        return m.value("anprd_frames_decoded_total", cam)

    try:
        rtsp.start()
        other.start()
        assert wait_until(lambda: up("rtsp") and decoded("rtsp") >= 10, 15)
        assert rtsp.take().image.shape == (720, 1280, 3)

        # A frozen server: no frame for stall_timeout_s -> down, then back by itself.
        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            assert wait_until(lambda: not up("rtsp"), 10), "stall not detected"
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        assert wait_until(lambda: up("rtsp"), 15), "no reconnect after a stall"
        assert m.value("anprd_stream_reconnects_total", "rtsp") == 1

        # A dead server: down, and the other camera keeps working meanwhile.
        server.kill()
        assert wait_until(lambda: not up("rtsp"), 10), "server death not noticed"
        before = decoded("file")
        down_frames = decoded("rtsp")
        time.sleep(1.5)
        assert decoded("file") >= before + 10 and up("file")
        assert decoded("rtsp") == down_frames and not up("rtsp")

        server.start()  # same port
        assert wait_until(lambda: up("rtsp") and decoded("rtsp") > down_frames + 5, 20)
        assert m.value("anprd_stream_reconnects_total", "rtsp") == 2
        assert m.value("anprd_stream_reconnects_total", "file") == 0
        assert m.value("anprd_decode_errors_total", "file") == 0
    finally:
        rtsp.stop()
        other.stop()
        server.kill()
    assert rtsp.join(5) and other.join(5)
    # State changes are logged once each, not once per retry.
    msgs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("camera rtsp:")]
    assert sum("-> retrying" in x for x in msgs) == 2
    assert sum("-> up" in x for x in msgs) == 3
