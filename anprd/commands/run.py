"""`anprd run --config FILE [--once]`: the daemon's command line; `anprd run --sample` runs
it on the shipped sample video, wherever anprd is installed."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from anprd.config.load import load_config
from anprd.detect.shipped import SAMPLE_VIDEO
from anprd.service.daemon import Daemon
from anprd.service.logs import setup_logging
from anprd.service.settings import DetectorLoader, detector_for

SAMPLE_FOLDER = "anprd-sample"


def write_sample_config(folder: Path, live: bool = False) -> Path:
    """The sample's config, written into `folder` (events go there too); `live` plays it
    as a camera would, in real time and looped, with snapshots for the live page."""
    from anprd.output.folders import make_folder

    make_folder(folder)
    path = folder / "sample.yaml"
    path.write_text("# Written by `anprd run --sample`.\n"
                    "http: {listen: 127.0.0.1:9108}\n"
                    "events: {path: events.jsonl, "
                    f"snapshots: {'snapshots' if live else 'null'}}}\n"
                    "cameras:\n"
                    f"  - {{name: gate, url: {json.dumps(str(SAMPLE_VIDEO))}, sample_fps: 5, "
                    f"loop: {str(live).lower()}, realtime: {str(live).lower()}}}\n",
                    encoding="utf-8")
    return path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the daemon: watch the cameras, emit plate events, serve metrics",
        description="Watch the config's cameras, write one event per passing vehicle to "
        "events.path (and the log), serve /metrics, /healthz, /readyz and the recognition "
        "API on http.listen. SIGTERM stops cleanly, SIGHUP reloads the config. Exits by "
        "itself when every camera is a file played once and all have ended.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--config", type=Path, metavar="FILE", help="YAML config")
    which.add_argument("--sample", action="store_true",
                       help="the shipped sample video as the one camera, the shipped weights, "
                       f"events in ./{SAMPLE_FOLDER}/ (the config written there too)")
    p.add_argument(
        "--live", action="store_true",
        help="with --sample: play it in real time, looped, until stopped, to watch it on "
             "the live page (http://127.0.0.1:9108/)",
    )
    p.add_argument(
        "--once", action="store_true",
        help="play video files once (ignore their 'loop') and exit when all have ended",
    )
    p.add_argument(
        "--log-level", default=os.environ.get("ANPRD_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper,
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, detector_loader: DetectorLoader = detector_for) -> int:
    setup_logging(args.log_level)
    if args.sample:
        args.config = write_sample_config(Path(SAMPLE_FOLDER), live=args.live)
    config = load_config(args.config)  # ConfigError: the CLI prints every problem, exit 2
    daemon = Daemon(args.config, config, detector_loader, once=args.once)
    return daemon.run()

