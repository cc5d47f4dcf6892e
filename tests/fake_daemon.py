"""`anprd run` with the test's FakeDetector instead of the neural network.

    python tests/fake_daemon.py --config FILE [--once] [--delay SECONDS] [--noisy]

Everything else is the real daemon (sources, tracker, events, metrics, HTTP, signals),
so that the daemon's tests run without trained weights.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from daemon_helpers import FakeDetector  # noqa: E402

from anprd.config.load import load_config  # noqa: E402
from anprd.detect.formats import decode  # noqa: E402
from anprd.service.daemon import Daemon  # noqa: E402
from anprd.service.logs import setup_logging  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, type=Path)
    ap.add_argument("--once", action="store_true")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds per detector batch")
    ap.add_argument("--noisy", action="store_true",
                    help="every read has one wrong character (see FakeDetector)")
    args = ap.parse_args()
    setup_logging("INFO")
    config = load_config(args.config, check_files=False)

    def load(model):  # as the real loader, a weights file that is not there is refused
        if not Path(model.weights).is_file():
            raise FileNotFoundError(f"weights file not found: {model.weights}")
        return FakeDetector(args.delay, noisy=args.noisy)

    daemon = Daemon(args.config, config, load, once=args.once, decode=decode)
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
