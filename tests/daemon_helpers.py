"""Test doubles and data for the daemon's tests (sources, tracker, events, daemon).

- `make_probs` / `make_read`: PlateRead data with a chosen per-character distribution.
- `simple_decode`: a small format-constrained decoder with `anprd.detect.formats.decode`'s
  signature, so that the tracker's logic is tested on its own.
- `write_synthetic_video`: an H.264 MP4 of white "plates" crossing a dark picture, one
  vehicle after the other, each in its own horizontal band; `FakeDetector` reads it
  back (band -> plate text, white blob -> box), so that everything except the neural
  network runs for real: decoding, sampling, tracking, events, metrics, signals, RTSP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anprd.reads import ALPHABET, BLANK, N_CLASSES, N_POSITIONS, DetectParams, PlateRead

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANPRD_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REAL_VIDEO = SHARED / "realdata" / "video" / "tv_news_mercosur.mp4"
SHARED_MISSING = None if REAL_VIDEO.exists() else (
    f"evaluation video not found: {REAL_VIDEO} (set ANPRD_SHARED to the shared/ folder)"
)
SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER = REPO / "tests" / "rtsp_server.py"

# Slot of each character class in a position's distribution.
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
LETTERS = [_INDEX[c] for c in ALPHABET if c.isalpha()]
DIGITS = [_INDEX[c] for c in ALPHABET if c.isdigit()]
LAYOUTS = {"mercosur_ar": "LLDDDLL", "legacy_ar": "LLLDDD_"}


# ----------------------------------------------------------------------------- reads


def make_probs(text: str, p: float = 0.95, alt: dict[int, tuple[str, float]] | None = None):
    """A (7, 37) distribution: each position of `text` with probability `p` (blank after
    its end); `alt` = {position: (char, prob)} puts a second candidate in a position."""
    probs = np.full((N_POSITIONS, N_CLASSES), 0.0)
    for pos in range(N_POSITIONS):
        cls = _INDEX[text[pos]] if pos < len(text) else BLANK
        probs[pos, :] = (1.0 - p) / (N_CLASSES - 1)
        probs[pos, cls] = p
        if alt and pos in alt:
            ch, q = alt[pos]
            other = _INDEX[ch] if ch != "_" else BLANK
            probs[pos, :] = (1.0 - p - q) / (N_CLASSES - 2)
            probs[pos, cls] = p
            probs[pos, other] = q
    return probs


def simple_decode(probs: np.ndarray, formats: Sequence[str]):
    """Best reading of `probs` under `formats`: (plate, format, confidence, char_conf)."""
    best = None
    for fmt in formats:
        layout = LAYOUTS[fmt]
        chars, confs = [], []
        for pos, kind in enumerate(layout):
            allowed = LETTERS if kind == "L" else DIGITS if kind == "D" else [BLANK]
            cls = max(allowed, key=lambda c: probs[pos, c])
            confs.append(float(probs[pos, cls]))
            if cls != BLANK:
                chars.append(ALPHABET[cls])
        conf = float(np.prod(confs))
        if best is None or conf > best[2]:
            kept = tuple(c for c, k in zip(confs, layout, strict=True) if k != "_")
            best = ("".join(chars), fmt, conf, kept)
    return best


def make_read(text: str, box=(100, 100, 200, 130), p: float = 0.95, alt=None, fmt=None):
    return read_of(make_probs(text, p, alt), box, [fmt] if fmt else list(LAYOUTS))


def read_of(probs: np.ndarray, box, formats: list[str]) -> PlateRead:
    """The PlateRead a detector would report for these (7, 37) probabilities."""
    plate, f, conf, cc = simple_decode(probs, formats)
    return PlateRead(
        plate=plate, format=f, confidence=conf, presence=0.99, box=box, char_conf=cc, probs=probs
    )


# ----------------------------------------------------------------------------- video

W, H = 320, 240
BAND = 60  # each vehicle crosses in its own band of rows
PLATE_W, PLATE_H = 48, 16
SYNTH_PLATES = ("AB123CD", "AC456EF", "AD789GH")


@dataclass(frozen=True)
class Passage:
    plate: str
    first_frame: int
    last_frame: int


def synthetic_frames(
    fps: int = 10,
    cross_s: float = 2.0,
    gap_s: float = 1.0,
    plates: Sequence[str] = SYNTH_PLATES,
    lead_s: float = 0.5,
):
    """(frames as BGR arrays, passages): vehicles crossing left to right, one at a time."""
    frames: list[np.ndarray] = []
    passages: list[Passage] = []
    n_lead, n_cross, n_gap = int(lead_s * fps), int(cross_s * fps), int(gap_s * fps)
    frames += [np.zeros((H, W, 3), np.uint8) for _ in range(n_lead)]
    for i, plate in enumerate(plates):
        first = len(frames)
        for k in range(n_cross):
            img = np.zeros((H, W, 3), np.uint8)
            x = 10 + int((W - PLATE_W - 20) * k / max(n_cross - 1, 1))
            y = BAND * i + (BAND - PLATE_H) // 2
            img[y : y + PLATE_H, x : x + PLATE_W] = 255
            frames.append(img)
        passages.append(Passage(plate, first, len(frames) - 1))
        frames += [np.zeros((H, W, 3), np.uint8) for _ in range(n_gap)]
    return frames, passages


def write_video(path: Path, frames: Sequence[np.ndarray], fps: int = 10) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = W, H
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps), "bf": "0"}
        for img in frames:
            for packet in stream.encode(av_frame(img)):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def av_frame(img: np.ndarray):
    import av

    return av.VideoFrame.from_ndarray(img, format="bgr24")


def write_synthetic_video(path: Path, fps: int = 10, repeat: int = 1, **kw) -> list[Passage]:
    frames, passages = synthetic_frames(fps=fps, **kw)
    n = len(frames)
    write_video(path, frames * repeat, fps)
    return [
        Passage(p.plate, p.first_frame + r * n, p.last_frame + r * n)
        for r in range(repeat)
        for p in passages
    ]


class FakeDetector:
    """Reads `write_synthetic_video`'s pictures: a white blob in band i is SYNTH_PLATES[i]."""

    backend = "fake"
    device = "cpu"
    runtime = "fake"
    threads = 1

    def __init__(self, delay_s: float = 0.0, plates: Sequence[str] = SYNTH_PLATES,
                 noisy: bool = False) -> None:
        self.delay_s = delay_s
        self.plates = tuple(plates)
        # Noisy: every read gets one character wrong, a different one each frame, so no
        # read agrees exactly with the combined reading (which is right) and a track can
        # only become an event when it is closed.
        self.noisy = noisy
        self.calls = 0
        self.images = 0
        self._lock = threading.Lock()

    def detect(self, images: Sequence[np.ndarray], params: Sequence[DetectParams]):
        with self._lock:
            self.calls += 1
            self.images += len(images)
            if self.delay_s:
                time.sleep(self.delay_s)
            return [self._one(img) for img in images]

    def _one(self, img: np.ndarray) -> list[PlateRead]:
        gray = img[..., 1] if img.ndim == 3 else img
        if gray.shape != (H, W):
            return []
        reads = []
        for i, plate in enumerate(self.plates):
            band = gray[BAND * i : BAND * (i + 1)] > 128
            if band.sum() < PLATE_W * PLATE_H // 3:
                continue
            ys, xs = np.nonzero(band)
            box = (
                int(xs.min()),
                int(ys.min()) + BAND * i,
                int(xs.max()) + 1,
                int(ys.max()) + 1 + BAND * i,
            )
            if self.noisy:
                reads.append(_misread(plate, self.images % len(plate), box))
            else:
                reads.append(make_read(plate, box=box, p=0.97, fmt="mercosur_ar"))
        return reads


def _misread(plate: str, pos: int, box) -> PlateRead:
    """`plate` read with its character at `pos` taken for its neighbour in the alphabet."""
    right = plate[pos]
    pool = [c for c in ALPHABET if c.isdigit() == right.isdigit()]
    wrong = pool[(pool.index(right) + 1) % len(pool)]
    probs = make_probs(plate, 0.97)
    probs[pos, :] = 0.05 / (N_CLASSES - 2)
    probs[pos, _INDEX[right]] = 0.35
    probs[pos, _INDEX[wrong]] = 0.6
    return read_of(probs, box, ["mercosur_ar"])


# ----------------------------------------------------------------------------- RTSP


def gst_rtsp_unavailable() -> str | None:
    """Why the GStreamer RTSP server cannot run here, or None when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = (
        "import gi; gi.require_version('Gst', '1.0'); "
        "gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "missing = [e for e in ('qtdemux', 'h264parse', 'rtph264pay') "
        "if Gst.ElementFactory.find(e) is None]; "
        "print(' '.join(missing))"
    )
    try:
        r = subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"cannot run {SYSTEM_PYTHON}: {e}"
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["?"])[-1]
        return (
            "GStreamer RTSP server not installed (apt-get install python3-gi "
            f"gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good "
            f"gstreamer1.0-plugins-bad): {last}"
        )
    if r.stdout.strip():
        return f"GStreamer elements missing: {r.stdout.strip()}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RtspServer:
    """The GStreamer RTSP server of tests/rtsp_server.py, as a child process."""

    def __init__(self, video: Path, port: int | None = None) -> None:
        self.video = video
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, timeout: float = 20.0) -> RtspServer:
        self.proc = subprocess.Popen(
            [
                "nice",
                "-n",
                "5",
                SYSTEM_PYTHON,
                str(RTSP_SERVER),
                "--port",
                str(self.port),
                "--file",
                str(self.video),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("READY"):
                return self
            if not line and self.proc.poll() is not None:
                break
        self.kill()
        raise RuntimeError(f"RTSP server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
