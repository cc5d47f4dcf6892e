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
import urllib.request
from pathlib import Path

import pytest
import yaml
from brokers import Mosquitto, Receiver, Subscriber, free_port, mosquitto_missing
from daemon_helpers import REPO, SYNTH_PLATES, wait_until, write_synthetic_video

from anprd.output.events import read_events
from anprd.output.sinks.webhook import signature

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


def sink_metric(port: int, name: str, sink: str = "mqtt") -> float | None:
    """One sample of the daemon's /metrics for `sink` (None while it does not answer)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("sink") == sink:
                return sample.value
    return None


def events_of(folder: Path) -> list[dict]:
    path = folder / "events.jsonl"
    return read_events(path) if path.exists() else []


# ------------------------------------------------------------------------------ MQTT


@needs_mosquitto
def test_broker_down_at_start_then_up_every_event_once_in_order(tmp_path, synth, stack):
    port = free_port()
    broker = Mosquitto(tmp_path / "broker", port)
    lists = [{"name": "residents", "plates": [{"plate": SYNTH_PLATES[0], "label": "Ana 4B"}]}]
    config = write_config(tmp_path, synth, [mqtt_sink(port, homeassistant=True)], lists=lists)
    daemon = Daemon(config, "--once")
    stack.append(daemon)
    # The video plays in real time: events are emitted (and queued) while no broker runs.
    assert wait_until(lambda: len(events_of(tmp_path)) >= 2, 30), daemon.log
    stack.append(broker.start())
    sub = Subscriber(port, topics=("anprd/#", "homeassistant/#"))
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
    # Home Assistant discovery: a sensor of the camera's last plate, from its state topic.
    discovery = json.loads(sub.on("homeassistant/sensor/anprd_gate/last_plate/config")[-1][1])
    assert discovery["state_topic"] == "anprd/gate/state"
    assert discovery["availability_topic"] == "anprd/status"
    assert "last_plate" in discovery["value_template"]


@needs_mosquitto
def test_sinks_test_command_says_what_each_sink_did(tmp_path, synth, stack):
    port = free_port()
    receiver = Receiver(script=[200])
    stack.append(receiver)
    secret = tmp_path / "mqtt.password"
    secret.write_text("pw-not-shown\n")
    sinks = [mqtt_sink(port, username="anprd", password_file=str(secret)),
             {"type": "webhook", "url": receiver.url}]
    config = write_config(tmp_path, synth, sinks)

    def sinks_test() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "anprd", "sinks", "test", "--config",
                               str(config)], capture_output=True, text=True, cwd=REPO,
                              timeout=60)

    down = sinks_test()
    assert down.returncode == 1
    assert f"mqtt sink 'mqtt': FAILED: not connected to mqtt://127.0.0.1:{port}" in down.stdout
    assert "Connection refused" in down.stdout
    assert f"webhook sink 'webhook': delivered to {receiver.url} (HTTP 200)" in down.stdout
    stack.append(Mosquitto(tmp_path / "broker", port).start())
    up = sinks_test()
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"mqtt sink 'mqtt': delivered to mqtt://127.0.0.1:{port}, topic anprd/test" in \
        up.stdout
    assert "pw-not-shown" not in down.stdout + down.stderr + up.stdout + up.stderr


@needs_mosquitto
def test_broker_restarted_ten_times_during_a_replay_loses_nothing(tmp_path, synth, stack):
    port = free_port()
    broker = Mosquitto(tmp_path / "broker", port).start()
    stack.append(broker)
    sub = Subscriber(port)
    stack.append(sub)
    config = write_config(tmp_path, synth, [mqtt_sink(port)], loop=True, cooldown_s=0)
    daemon = Daemon(config, "--delay", "0.01")
    stack.append(daemon)
    assert wait_until(lambda: len(events_of(tmp_path)) >= 3, 30), daemon.log
    for _ in range(10):
        broker.restart()
        time.sleep(0.6)
    n = len(events_of(tmp_path))
    assert wait_until(lambda: len(events_of(tmp_path)) >= n + 3, 30)  # still emitting
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.wait(30) == 0, daemon.log
    written = events_of(tmp_path)
    assert len(written) >= 10
    assert wait_until(lambda: len(sub.events()) >= len(written), 30), \
        (len(sub.events()), len(written))
    assert [e["id"] for e in sub.events()] == [e["id"] for e in written]


@needs_mosquitto
def test_sigkill_with_100_events_queued_then_restart_delivers_all(tmp_path, synth, stack):
    port = free_port()
    config = write_config(tmp_path, synth, [mqtt_sink(port)], loop=True, cooldown_s=0)
    daemon = Daemon(config)
    stack.append(daemon)
    assert wait_until(lambda: len(events_of(tmp_path)) >= 100, 60), daemon.log
    daemon.proc.kill()  # SIGKILL, the broker never up
    daemon.wait(10)
    written = events_of(tmp_path)
    assert len(written) >= 100
    stack.append(Mosquitto(tmp_path / "broker", port).start())
    sub = Subscriber(port)
    stack.append(sub)
    # Restarted with the camera off: only what was queued (or logged) before goes out.
    doc = yaml.safe_load(config.read_text())
    doc["cameras"][0]["enabled"] = False
    config.write_text(yaml.safe_dump(doc))
    again = Daemon(config)
    stack.append(again)
    assert wait_until(lambda: len(sub.events()) >= len(written), 30), \
        (len(sub.events()), len(written), again.log)
    assert [e["id"] for e in sub.events()] == [e["id"] for e in written]
    port_http = int(doc["http"]["listen"].rsplit(":", 1)[1])
    assert wait_until(lambda: sink_metric(port_http, "anprd_sink_queue_depth") == 0, 10)
    assert sink_metric(port_http, "anprd_sink_delivered_total") >= len(written)
    assert sink_metric(port_http, "anprd_sink_up") == 1
    again.proc.send_signal(signal.SIGTERM)
    assert again.wait(30) == 0


def test_full_disk_for_the_queue_keeps_the_log_and_the_daemon(tmp_path, synth):
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("no user and mount namespaces here (unshare -rm) for a small disk")
    state = tmp_path / "state"
    state.mkdir()
    config = write_config(tmp_path, synth, [mqtt_sink(free_port())], state_dir=str(state))
    # A 512 KiB disk for the queue, filled up once the queue is open.
    script = (
        f"mount -t tmpfs -o size=512k tmpfs {state} && "
        f"{sys.executable} {FAKE_DAEMON} --config {config} --once & "
        f"while [ ! -e {state}/queue-mqtt.sqlite3-wal ]; do sleep 0.05; done; "
        f"dd if=/dev/zero of={state}/filler bs=4k 2>/dev/null; wait $!"
    )
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], cwd=REPO, text=True,
                          capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert [e["plate"] for e in events_of(tmp_path)] == list(SYNTH_PLATES)
    assert "database or disk is full" in log and "in the events log only" in log
    assert "Traceback" not in log


# --------------------------------------------------------------------------- webhook


def test_webhook_500_then_200_delivers_in_order_signed_with_the_snapshot(tmp_path, synth):
    receiver = Receiver(script=[500, 500, 503])
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret-value\n")
    sink = {"type": "webhook", "name": "billing", "url": receiver.url,
            "secret_file": str(secret), "snapshot": True, "retry_initial_s": 0.1,
            "retry_max_s": 0.3}
    config = write_config(tmp_path, synth, [sink], snapshots=str(tmp_path / "snaps"))
    daemon = Daemon(config, "--once")
    try:
        assert daemon.wait(60) == 0, daemon.log
        written = events_of(tmp_path)
        assert wait_until(lambda: len(receiver.events_multipart()) >= len(written), 10)
    finally:
        daemon.kill()
        receiver.close()
    assert receiver.answers[:3] == [500, 500, 503]
    parts = receiver.events_multipart()
    assert [p["event"]["id"] for p in parts] == [e["id"] for e in written]
    for p in parts:
        assert p["signature"] == signature("s3cret-value", p["body"])
        assert p["snapshot"][:2] == b"\xff\xd8"  # a JPEG
        assert p["event_id_header"] == p["event"]["id"]
    assert "s3cret-value" not in daemon.log


# ------------------------------------------------------------------- known plates


def test_sighup_rereads_a_list_file_and_events_carry_its_label(tmp_path, synth):
    csv_file = tmp_path / "residents.csv"
    csv_file.write_text("plate,label\nAE000AA,nobody\n")
    lists = [{"name": "residents", "file": str(csv_file)}]
    config = write_config(tmp_path, synth, [], lists=lists)
    daemon = Daemon(config, "--once")
    try:
        assert wait_until(lambda: len(events_of(tmp_path)) >= 1, 30), daemon.log
        csv_file.write_text(f"plate,label\n{SYNTH_PLATES[2]},Visitor 7\n")
        daemon.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "reload: known plates: 1 in 1 lists" in daemon.log, 10), \
            daemon.log
        assert daemon.wait(60) == 0, daemon.log
    finally:
        daemon.kill()
    events = events_of(tmp_path)
    assert events[0]["list"] is None
    last = events[-1]
    assert last["plate"] == SYNTH_PLATES[2]
    assert (last["list"], last["label"], last["matched_plate"], last["distance"]) == \
        ("residents", "Visitor 7", SYNTH_PLATES[2], 0)
