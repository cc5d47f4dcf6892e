"""Benchmark of the recognition web service: N concurrent clients POST a picture to
/v1/recognize; prints requests per second and latency percentiles for each N.

    python bench/api_bench.py                          # own server, weights/anprd.keras
    python bench/api_bench.py --clients 1,2,4 --duration 20 --image car.jpg
    python bench/api_bench.py --url http://127.0.0.1:9108 --token SECRET
    python bench/api_bench.py --no-model               # HTTP path only, no detection

Without --url the server runs in a child process (so that the clients' threads do not
share its interpreter) with the real detector. `--no-model` swaps in a stand-in that
finds nothing: it measures the HTTP, upload and decoding overhead alone and says so.
Each client keeps one keep-alive connection. A 503 "too many at once" is counted, and
the client waits 50 ms before its next request; latencies are those of 200 answers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANPRD_SHARED", REPO.parent / "shared"))
DEFAULT_IMAGE = SHARED / "realdata" / "scenes" / "3611915-20220118094147.jpeg"


# ---------------------------------------------------------------- the server child


def serve(args: argparse.Namespace) -> None:
    """Child process: start the server, print its port, run until stdin closes."""
    sys.path.insert(0, str(REPO))
    from prometheus_client import CollectorRegistry

    from anprd.api.server import start_http_server

    if args.no_model:

        class NoPlatesStandIn:
            def detect(self, images, params):
                return [[] for _ in images]

        detector = NoPlatesStandIn()
    else:
        from anprd.detect.loading import load_detector
        from anprd.detect.shipped import readers_for

        detector = load_detector(Path(args.weights), device=args.device,
                                 reader_weights=readers_for(Path(args.weights)))
    api = {"max_concurrent": args.max_concurrent, "max_body_bytes": 50_000_000}
    server = start_http_server(
        "127.0.0.1:0", CollectorRegistry(), lambda: (True, {}), lambda: detector, api
    )
    print(server.port, flush=True)
    sys.stdin.read()
    server.shutdown()


def start_child(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    cmd = [
        sys.executable,
        __file__,
        "--serve",
        "--weights",
        args.weights,
        "--device",
        args.device,
        "--max-concurrent",
        str(args.max_concurrent),
    ]
    if args.no_model:
        cmd.append("--no-model")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if not line.isdigit():
        child.kill()
        sys.exit(f"the server did not start (got {line!r})")
    return child, f"http://127.0.0.1:{line}"


# ------------------------------------------------------------------------- clients


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def run_level(url: str, body: bytes, ctype: str, n: int, args: argparse.Namespace) -> dict:
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Type": ctype}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    lat: list[float] = []
    server_ms: list[float] = []
    counts = {"ok": 0, "busy": 0, "other": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + args.duration
    remaining = [args.requests] if args.requests else None

    def take() -> bool:
        if remaining is not None:
            with lock:
                if remaining[0] <= 0:
                    return False
                remaining[0] -= 1
                return True
        return time.monotonic() < stop_at

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        while take():
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1/recognize", body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
                with lock:
                    counts["other"] += 1
                continue
            dt = time.perf_counter() - t0
            with lock:
                if r.status == 200:
                    counts["ok"] += 1
                    lat.append(dt)
                    server_ms.append(json.loads(data)["ms"])
                elif r.status in (429, 503):
                    counts["busy"] += 1
                else:
                    counts["other"] += 1
            if r.status in (429, 503):
                time.sleep(0.05)
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
        conn.close()

    t_start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_start
    lat.sort()
    return {
        "clients": n,
        "ok": counts["ok"],
        "busy": counts["busy"],
        "errors": counts["other"],
        "rps": counts["ok"] / wall if wall > 0 else 0.0,
        "p50": percentile(lat, 0.5) * 1000,
        "p90": percentile(lat, 0.9) * 1000,
        "p99": percentile(lat, 0.99) * 1000,
        "server_ms": statistics.fmean(server_ms) if server_ms else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", help="benchmark a running server instead of starting one")
    ap.add_argument("--token", help="bearer token for a server that requires one")
    ap.add_argument("--image", default=str(DEFAULT_IMAGE), help="picture to post (JPEG/PNG/WebP)")
    ap.add_argument("--clients", default="1,2,4", help="comma list of concurrent client counts")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per client count")
    ap.add_argument("--requests", type=int, default=0, help="requests per count (overrides time)")
    ap.add_argument("--warmup", type=int, default=2, help="requests sent first, not measured")
    ap.add_argument("--weights", default=str(REPO / "weights" / "anprd.keras"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--max-concurrent", type=int, default=4, help="server's api.max_concurrent")
    ap.add_argument("--no-model", action="store_true", help="stand-in detector: HTTP cost only")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args)
        return

    image = Path(args.image)
    if image.is_file():
        body = image.read_bytes()
    else:
        sys.path.insert(0, str(REPO))
        import cv2
        import numpy as np

        print(f"{image} not found: posting a synthetic 640x480 picture", file=sys.stderr)
        rng = np.random.default_rng(0)
        body = cv2.imencode(".jpg", rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))[
            1
        ].tobytes()
        image = Path("synthetic.jpg")
    ctype = {".png": "image/png", ".webp": "image/webp"}.get(image.suffix.lower(), "image/jpeg")

    child = None
    url = args.url
    if url is None:
        if not args.no_model and not Path(args.weights).is_file():
            sys.exit(f"{args.weights} not found: train the weights, or use --no-model / --url")
        child, url = start_child(args)
    try:
        warm = argparse.Namespace(**{**vars(args), "requests": max(1, args.warmup)})
        run_level(url, body, ctype, 1, warm)
        if args.url:
            what = "running server"
        elif args.no_model:
            what = "stand-in detector (no model): HTTP overhead only"
        else:
            what = f"model {Path(args.weights).name}"
        print(f"anprd API benchmark: {url}, {image.name} ({len(body)} bytes), {what}, ", end="")
        print(f"{os.cpu_count()} CPUs")
        print(
            f"{'clients':>7} {'ok':>6} {'503':>5} {'err':>4} {'req/s':>7} "
            f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'server ms':>9}"
        )
        for n in (int(x) for x in args.clients.split(",") if x.strip()):
            r = run_level(url, body, ctype, n, args)
            print(
                f"{r['clients']:>7} {r['ok']:>6} {r['busy']:>5} {r['errors']:>4} {r['rps']:>7.2f} "
                f"{r['p50']:>8.1f} {r['p90']:>8.1f} {r['p99']:>8.1f} {r['server_ms']:>9.1f}",
                flush=True,
            )
    finally:
        if child is not None:
            assert child.stdin is not None
            child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
