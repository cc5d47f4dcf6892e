"""What hostile clients cost the service: huge flat PNGs, 16 MP photos, trickling connections.

    python bench/hostile_bench.py               # the daemon with the shipped weights
    python bench/hostile_bench.py --trickle-s 60

Runs `anprd run` (no cameras, the recognition API on) as a child process and samples its
resident memory every 10 ms. Cases, one after the other:

1. one 6320 x 6320 PNG of one flat colour (134 KB): seconds, peak memory above idle;
2. one 16 MP (4896 x 3264) JPEG photo: the same;
3. four of the flat PNGs at once: seconds for all, peak memory above idle;
4. 64 connections that send half a request's headers and then one byte every 2 s, while
   /healthz and /metrics are asked twice a second: how many of those answered 200.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """Peak resident memory of a process between `start` and `stop`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self.peak = rss_mb(self.pid)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.01)

    def stop(self) -> float:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        return self.peak


def post(port: int, body: bytes, ctype: str, timeout: float = 300) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", "/v1/recognize", body=body, headers={"Content-Type": ctype})
    status = conn.getresponse().status
    conn.close()
    return status, time.perf_counter() - t0


def get_status(port: int, path: str) -> int:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return 0


def pictures(folder: Path) -> tuple[bytes, bytes]:
    import cv2

    flat = folder / "flat.png"
    cv2.imwrite(str(flat), np.full((6320, 6320, 3), 128, np.uint8),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])
    rng = np.random.default_rng(0)
    small = cv2.GaussianBlur(rng.integers(0, 255, (816, 1224, 3), dtype=np.uint8), (5, 5), 0)
    photo = cv2.resize(small, (4896, 3264), interpolation=cv2.INTER_LINEAR)
    ok, jpg = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return flat.read_bytes(), jpg.tobytes()


def start_daemon(folder: Path, port: int) -> subprocess.Popen:
    config = folder / "anprd.yaml"
    config.write_text(f"http: {{listen: '127.0.0.1:{port}'}}\n"
                      f"events: {{path: {folder / 'events.jsonl'}}}\n"
                      "api: {max_body_bytes: 50000000}\ncameras: []\n")
    proc = subprocess.Popen([sys.executable, "-m", "anprd", "run", "--config", str(config)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if get_status(port, "/readyz") == 200:
            return proc
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the daemon did not become ready")


def trickle(port: int, n: int, seconds: float) -> tuple[int, int]:
    """n connections sending a byte every 2 s; health and metrics asked meanwhile."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    ok = asked = 0
    t_end = time.monotonic() + seconds
    next_byte = time.monotonic() + 2
    while time.monotonic() < t_end:
        for path in ("/healthz", "/metrics"):
            asked += 1
            ok += get_status(port, path) == 200
        if time.monotonic() >= next_byte:
            for s in socks:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            next_byte += 2
        time.sleep(0.5)
    for s in socks:
        s.close()
    return ok, asked


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trickle-s", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        flat, photo = pictures(folder)
        port = int(os.environ.get("ANPRD_BENCH_PORT", "0")) or _free_port()
        proc = start_daemon(folder, port)
        try:
            time.sleep(1)
            idle = rss_mb(proc.pid)
            print(f"hostile bench: the daemon idle at {idle:.0f} MB resident")
            for name, body, ctype in (("flat 6320x6320 PNG", flat, "image/png"),
                                      ("16 MP JPEG photo", photo, "image/jpeg")):
                sampler = Sampler(proc.pid).start()
                status, seconds = post(port, body, ctype)
                peak = sampler.stop()
                print(f"{name} ({len(body) // 1000} KB): HTTP {status} in {seconds:.2f} s, "
                      f"peak {peak - idle:.0f} MB above idle")
            sampler = Sampler(proc.pid).start()
            results: list[tuple[int, float]] = []
            t0 = time.perf_counter()
            threads = [threading.Thread(target=lambda: results.append(
                post(port, flat, "image/png"))) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            peak = sampler.stop()
            print(f"four flat PNGs at once: {sorted(s for s, _ in results)} in "
                  f"{time.perf_counter() - t0:.2f} s, peak {peak - idle:.0f} MB above idle")
            ok, asked = trickle(port, 64, args.trickle_s)
            print(f"64 trickling connections for {args.trickle_s:g} s: /healthz and /metrics "
                  f"answered 200 {ok} of {asked} times")
            print(f"the daemon still answers /healthz: {get_status(port, '/healthz')}")
        finally:
            proc.terminate()
            proc.wait(30)
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
