"""Kill -9 at random points of the event write path: every restart leaves a valid log.

The daemon (tests/fake_daemon.py) replays synthetic video as fast as it can, so that
events are being written all the time, and is killed with SIGKILL after a random
moment, again and again on the same events file, for a bounded time. After each
restart the file must hold only whole JSON lines, and every event the daemon reported
emitted (its "plate event" log line, written after the line is synced) must be there.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import yaml
from daemon_helpers import REPO, wait_until, write_synthetic_video

FAKE_DAEMON = REPO / "tests" / "fake_daemon.py"
BUDGET_S = 25.0


def reported_ids(log: str) -> list[str]:
    return [json.loads(line.split("plate event ", 1)[1])["id"]
            for line in log.splitlines() if "plate event " in line]


def whole_lines(path: Path) -> tuple[list[dict], bytes]:
    """The events of the file's whole lines, and the bytes after the last newline."""
    data = path.read_bytes() if path.exists() else b""
    body, _, tail = data.rpartition(b"\n")
    events = [json.loads(line) for line in body.split(b"\n") if line] if body else []
    return events, tail


def test_sigkill_anywhere_in_the_write_path_loses_no_reported_event(tmp_path):
    video = tmp_path / "synth.mp4"
    write_synthetic_video(video)
    events_path = tmp_path / "events.jsonl"
    config = tmp_path / "anprd.yaml"
    config.write_text(yaml.safe_dump({
        "http": {"listen": "127.0.0.1:0"},
        "events": {"path": str(events_path)},
        "cameras": [{"name": "gate", "url": str(video), "loop": True, "realtime": False,
                     "sample_fps": 5,
                     "dedup": {"min_reads": 2, "track_timeout_s": 0.5, "cooldown_s": 0}}],
    }))
    rng = random.Random(20261207)
    reported: list[str] = []
    kills = 0
    t_end = time.monotonic() + BUDGET_S
    while time.monotonic() < t_end:
        log_path = tmp_path / f"run-{kills}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, str(FAKE_DAEMON), "--config", str(config)],
                                    cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            before = len(whole_lines(events_path)[0])
            # Killed once it is writing events, at a random moment among them.
            wait_until(lambda b=before: len(whole_lines(events_path)[0]) > b, 30)
            time.sleep(rng.uniform(0.0, 0.4))
            proc.kill()
            proc.wait(10)
        kills += 1
        reported += reported_ids(log_path.read_text())
        events, _tail = whole_lines(events_path)
        ids = {e["id"] for e in events}
        missing = [i for i in reported if i not in ids]
        assert not missing, f"after kill {kills}: {len(missing)} reported events not in the log"
    # A last start repairs a partial line; then every line is whole and each event once.
    proc = subprocess.Popen([sys.executable, str(FAKE_DAEMON), "--config", str(config)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        n = len(whole_lines(events_path)[0])
        assert wait_until(lambda: len(whole_lines(events_path)[0]) > n, 30)
    finally:
        proc.terminate()
        proc.wait(30)
    events, tail = whole_lines(events_path)
    assert tail == b""
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids))
    assert set(reported) <= set(ids)
    assert kills >= 5 and len(reported) > 50
