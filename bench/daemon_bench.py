"""Benchmark the daemon: N cameras replaying a video in real time, looped.

    .venv/bin/python bench/daemon_bench.py                      # 1, 2, 4 cameras, 30 s each
    .venv/bin/python bench/daemon_bench.py --cameras 1 2 4 8 --seconds 60 --sample-fps 5
    .venv/bin/python bench/daemon_bench.py --detector fake      # the pipeline without the network
    .venv/bin/python bench/daemon_bench.py --cameras 1 --gate --cores 1   # a gate camera, 1 core
    .venv/bin/python bench/daemon_bench.py --cameras 1 --cores 1 --browsers 5  # 5 live pages

Runs the real daemon in this process (readers, detector loop, trackers, event sink; HTTP
only with --browsers, which opens that many headless Chromiums on the live page for the
whole run) for each camera count, and prints per run: frames sampled per second (all cameras),
frames the detector processed per second, the drop rate (sampled frames replaced before
the detector took them), the detector's batch latency, event latency (from the frame
that made an event due to its line being on disk: median and 95th percentile), events,
and the CPU (in cores, process time / wall time) and memory (peak RSS) it took. The last
lines give the detector's throughput per CPU core (so, how many cameras at this sample
rate one core serves) and the most cameras whose drop rate stayed under --max-drop.

The video is the bundled sample (config/sample.yaml's camera) when present, else
../shared/realdata/video/tv_news_mercosur.mp4.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from api_bench import percentile  # noqa: E402 (this folder, on the path as a script's)

from anprd.config.load import load_config, parse_config  # noqa: E402
from anprd.config.sections import ModelConfig  # noqa: E402
from anprd.service.daemon import Daemon  # noqa: E402
from anprd.service.logs import setup_logging  # noqa: E402
from anprd.service.settings import detector_for  # noqa: E402


def default_video() -> Path:
    sample = REPO / "config" / "sample.yaml"
    if sample.exists():
        try:
            url = load_config(sample, check_files=False).cameras[0].url
            if Path(url).exists():
                return Path(url)
        except Exception:  # noqa: BLE001 (fall back to the shared clip)
            pass
    shared = Path(os.environ.get("ANPRD_SHARED", REPO.parent / "shared"))
    return shared / "realdata" / "video" / "tv_news_mercosur.mp4"


# `--gate`: the sample's lane (its plates pass in the lower half of the 720p frame) and
# the width range of its plates, as a gate camera would be set up.
GATE = ("    roi: [[0, 360], [1280, 360], [1280, 720], [0, 720]]\n"
        "    plate_width_px: [120, 320]\n")


def make_config(tmp: Path, video: Path, n: int, args: argparse.Namespace):
    cams = "\n".join(
        f"  - name: cam{i}\n"
        f"    url: {video}\n"
        f"    sample_fps: {args.sample_fps}\n"
        f"    loop: true\n"
        f"    realtime: true\n" + (GATE if args.gate else "")
        for i in range(n)
    )
    http = f"http:\n  listen: 127.0.0.1:{args.port}\n" if args.browsers else ""
    text = (
        f"model:\n  weights: {args.weights}\n  device: {args.device}\n{http}"
        f"events:\n  path: {tmp / f'events-{n}.jsonl'}\n"
        f"cameras:\n{cams}"
    )
    path = tmp / f"bench-{n}.yaml"
    path.write_text(text)
    return path, parse_config(text, source=str(path), base_dir=tmp, check_files=False)


def run_once(n: int, video: Path, detector, args: argparse.Namespace, tmp: Path) -> dict:
    path, config = make_config(tmp, video, n, args)
    daemon = Daemon(path, config, lambda _m: detector, http=bool(args.browsers),
                    decode=args.decode)
    browsers = Browsers(args.browsers, f"http://127.0.0.1:{args.port}/")
    stopper = threading.Timer(args.warmup + args.seconds, daemon.request_stop)
    marks: dict[str, float] = {}

    def mark() -> None:  # counters at the end of the warm-up
        marks.update(snapshot(daemon, n))
        marks["cpu"] = time.process_time()
        marks["wall"] = time.monotonic()

    warm = threading.Timer(args.warmup, mark)
    stopper.start()
    warm.start()
    browsers.start()
    daemon.run(install_signals=False)
    end = snapshot(daemon, n)
    browsers.close()
    cpu, wall = time.process_time() - marks["cpu"], time.monotonic() - marks["wall"]
    sampled = end["sampled"] - marks["sampled"]
    dropped = end["dropped"] - marks["dropped"]
    processed = end["processed"] - marks["processed"]
    lat = sorted(daemon.stats.event_latency_s)
    return {
        "cameras": n,
        "sampled_per_s": sampled / wall,
        "processed_per_s": processed / wall,
        "drop_rate": dropped / sampled if sampled else 0.0,
        "detect_ms": 1000 * (end["detect_sum"] - marks["detect_sum"])
        / max(1.0, end["detect_count"] - marks["detect_count"]),
        "events": int(end["events"] - marks["events"]),
        "latency_p50_s": statistics.median(lat) if lat else float("nan"),
        "latency_p95_s": percentile(lat, 0.95),
        "cpu_cores": cpu / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class Browsers:
    """`n` headless Chromiums showing the live page, opened once the daemon answers."""

    def __init__(self, n: int, url: str) -> None:
        self.n, self.url = n, url
        self.drivers: list = []
        self._thread = threading.Thread(target=self._open, daemon=True)

    def start(self) -> None:
        if self.n:
            self._thread.start()

    def _open(self) -> None:
        import urllib.request

        from tests.browser import chrome

        spare = set(range(os.cpu_count() or 1)) - os.sched_getaffinity(0)
        if spare:  # with --cores: the browsers (this thread's children) on the other cores
            os.sched_setaffinity(0, spare)

        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        for _ in range(self.n):
            driver = chrome()
            driver.get(self.url)
            self.drivers.append(driver)

    def close(self) -> None:
        if self.n:
            self._thread.join(30)
        for d in self.drivers:
            d.quit()


def secs(v: float) -> str:
    return "-" if v != v else f"{v:.2f}s"


def snapshot(daemon: Daemon, n: int) -> dict[str, float]:
    m = daemon.metrics

    def total(name: str) -> float:
        return sum(m.value(name, f"cam{i}") or 0.0 for i in range(n))

    return {
        "sampled": total("anprd_frames_sampled_total"),
        "dropped": total("anprd_frames_dropped_total"),
        "processed": float(daemon.stats.frames),
        "events": total("anprd_plate_events_total"),
        "detect_sum": m.value("anprd_detect_seconds_sum") or 0.0,
        "detect_count": m.value("anprd_detect_seconds_count") or 0.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seconds", type=float, default=30.0, help="measured time per run")
    ap.add_argument("--warmup", type=float, default=5.0, help="unmeasured start of each run")
    ap.add_argument("--sample-fps", type=float, default=5.0)
    ap.add_argument("--video", type=Path, default=None)
    ap.add_argument("--weights", type=Path, default=REPO / "weights" / "anprd.keras")
    ap.add_argument("--backend", default="tensorflow", choices=["tensorflow", "jax"])
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ap.add_argument("--detector", default="real", choices=["real", "fake"],
                    help="fake: no network (reads nothing), to measure decoding alone")
    ap.add_argument("--max-drop", type=float, default=0.05,
                    help="drop rate under which a camera count counts as served")
    ap.add_argument("--runtime", default="auto",
                    choices=["auto", "keras", "litert", "onnxruntime"])
    ap.add_argument("--threads", type=int, default=None,
                    help="the runtime's threads (default: the cores it may use)")
    ap.add_argument("--cores", type=int, default=None,
                    help="run on this many CPU cores only (the process's affinity)")
    ap.add_argument("--gate", action="store_true",
                    help="each camera a gate camera: the lane's ROI and plates 120-320 px")
    ap.add_argument("--browsers", type=int, default=0,
                    help="this many headless Chromiums on the live page during each run "
                         "(on the cores --cores leaves free, if any)")
    args = ap.parse_args()
    args.port = 0
    if args.browsers:
        from tests.daemon_helpers import free_port

        args.port = free_port()
    if args.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    setup_logging("WARNING")
    video = args.video or default_video()
    args.decode = None
    if args.detector == "fake":
        class Nothing:
            backend, device, runtime, threads = "none", "cpu", "none", 0

            def detect(self, images, params):
                return [[] for _ in images]

        detector = Nothing()
    else:
        t0 = time.monotonic()
        detector = detector_for(ModelConfig(weights=args.weights, backend=args.backend,
                                             device=args.device, runtime=args.runtime,
                                             threads=args.threads))
        print(f"model loaded in {time.monotonic() - t0:.1f}s "
              f"({detector.runtime}, {detector.device}, {detector.threads} threads)")
    print(f"video {video}, {args.sample_fps:g} sampled fps per camera, "
          f"{len(os.sched_getaffinity(0))} of {os.cpu_count()} CPUs, "
          f"{args.seconds:g}s measured per run{', gate ROI and plate widths' if args.gate else ''}")
    header = (f"{'cams':>4} {'sampled/s':>9} {'detected/s':>10} {'drop':>6} {'batch ms':>8} "
              f"{'events':>6} {'lat p50':>7} {'lat p95':>7} {'CPU':>5} {'peak MB':>7}")
    print(header)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.cameras:
            r = run_once(n, video, detector, args, Path(tmp))
            results.append(r)
            print(f"{r['cameras']:>4} {r['sampled_per_s']:>9.1f} {r['processed_per_s']:>10.1f} "
                  f"{100 * r['drop_rate']:>5.1f}% {r['detect_ms']:>8.0f} {r['events']:>6} "
                  f"{secs(r['latency_p50_s']):>7} {secs(r['latency_p95_s']):>7} "
                  f"{r['cpu_cores']:>5.2f} {r['peak_rss_mb']:>7.0f}", flush=True)
    top = max(results, key=lambda r: r["processed_per_s"])
    per_core = top["processed_per_s"] / max(top["cpu_cores"], 1e-9)
    print(f"throughput: {top['processed_per_s']:.1f} frames/s on {top['cpu_cores']:.2f} cores "
          f"= {per_core:.1f} frames/s per core, i.e. ~{per_core / args.sample_fps:.1f} "
          f"cameras at {args.sample_fps:g} fps per CPU core")
    served = [r for r in results if r["drop_rate"] <= args.max_drop]
    if served:
        best = max(served, key=lambda r: r["cameras"])
        per_core = best["cameras"] / max(best["cpu_cores"], 1e-9)
        print(f"kept up (drop <= {100 * args.max_drop:g}%) with {best['cameras']} cameras at "
              f"{args.sample_fps:g} fps using {best['cpu_cores']:.2f} cores: "
              f"~{per_core:.1f} cameras per CPU core")
    else:
        print(f"no camera count kept the drop rate under {100 * args.max_drop:g}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
