"""`anprd run --config FILE [--once]`: the daemon's command line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from anprd.config_load import load_config
from anprd.daemon import Daemon
from anprd.logs import setup_logging
from anprd.runtime import DetectorLoader, load_detector


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the daemon: watch the cameras, emit plate events, serve metrics",
        description="Watch the config's cameras, write one event per passing vehicle to "
        "events.path (and the log), serve /metrics, /healthz, /readyz and the recognition "
        "API on http.listen. SIGTERM stops cleanly, SIGHUP reloads the config. Exits by "
        "itself when every camera is a file played once and all have ended.",
    )
    p.add_argument("--config", required=True, type=Path, metavar="FILE", help="YAML config")
    p.add_argument(
        "--once", action="store_true",
        help="play video files once (ignore their 'loop') and exit when all have ended",
    )
    p.add_argument(
        "--log-level", default=os.environ.get("ANPRD_LOG_LEVEL", "INFO"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper,
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, detector_loader: DetectorLoader = load_detector) -> int:
    setup_logging(args.log_level)
    config = load_config(args.config)  # ConfigError: the CLI prints every problem, exit 2
    daemon = Daemon(args.config, config, detector_loader, once=args.once)
    return daemon.run()

