"""Events to MQTT and webhooks through the on-disk queues, against real receivers.

The daemon runs as a child process with the tests' FakeDetector (tests/fake_daemon.py) on
synthetic video whose plates are known; the broker is Debian's mosquitto, started and
stopped by the tests; the webhook receiver is a real HTTP server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from brokers import Mosquitto, Receiver, Subscriber, free_port, mosquitto_missing
from daemon_helpers import REPO, SYNTH_PLATES, wait_until, write_synthetic_video

from anprd.events import read_events

FAKE_DAEMON = REPO / "tests" / "fake_daemon.py"
missing = mosquitto_missing()
needs_mosquitto = pytest.mark.skipif(missing is not None, reason=str(missing))


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("video") / "synth.mp4"
    write_synthetic_video(path)
    return path


@pytest.fixture
def stack():
    """What a test starts, stopped at its end whatever happens."""
    started: list = []
    yield started
    for thing in reversed(started):
        try:
            thing.kill() if hasattr(thing, "kill") else thing.close()
        except Exception:  # noqa: BLE001
            pass


def write_config(folder: Path, video: Path, sinks: list[dict], *, loop: bool = False,
                 cooldown_s: float = 30, lists: list | None = None, **events) -> Path:
    cam = {"name": "gate", "url": str(video), "sample_fps": 5, "loop": loop,
           "realtime": not loop,
           "dedup": {"min_reads": 2, "track_timeout_s": 0.5, "cooldown_s": cooldown_s}}
    doc = {
        "http": {"listen": f"127.0.0.1:{free_port()}"},
        "events": {"path": str(folder / "events.jsonl"), "sinks": sinks, **events},
        "lists": lists or [],
        "cameras": [cam],
    }
    path = folder / "anprd.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def mqtt_sink(port: int, **kw) -> dict:
    return {"type": "mqtt", "host": "127.0.0.1", "port": port, "retry_initial_s": 0.1,
            "retry_max_s": 0.5, "timeout_s": 2, **kw}


class Daemon:
    def __init__(self, config: Path, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, str(FAKE_DAEMON), "--config", str(config),
                                      *args], cwd=REPO, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def events_of(folder: Path) -> list[dict]:
    path = folder / "events.jsonl"
    return read_events(path) if path.exists() else []


# ------------------------------------------------------------------------------ MQTT


@needs_mosquitto
def test_broker_down_at_start_then_up_every_event_once_in_order(tmp_path, synth, stack):
    port = free_port()
    broker = Mosquitto(tmp_path / "broker", port)
    lists = [{"name": "residents", "plates": [{"plate": SYNTH_PLATES[0], "label": "Ana 4B"}]}]
    config = write_config(tmp_path, synth, [mqtt_sink(port)], lists=lists)
    daemon = Daemon(config, "--once")
    stack.append(daemon)
    # The video plays in real time: events are emitted (and queued) while no broker runs.
    assert wait_until(lambda: len(events_of(tmp_path)) >= 2, 30), daemon.log
    stack.append(broker.start())
    sub = Subscriber(port)
    stack.append(sub)
    assert daemon.wait(60) == 0, daemon.log
    written = events_of(tmp_path)
    assert [e["plate"] for e in written] == list(SYNTH_PLATES)
    assert wait_until(lambda: len(sub.events()) == len(written), 10), sub.messages
    assert [e["id"] for e in sub.events()] == [e["id"] for e in written]
    assert sub.events()[0]["list"] == "residents" and sub.events()[0]["label"] == "Ana 4B"
    assert sub.events()[1]["list"] is None
    # The camera's state is retained with its last plate; the daemon said it went offline.
    state = json.loads(sub.on("anprd/gate/state")[-1][1])
    assert state["last_plate"] == SYNTH_PLATES[-1]
    assert sub.on("anprd/status")[-1][1] == b"offline"
