"""Delivery: one thread per sink takes its queue's oldest event, delivers it, then the next.

A failed delivery is retried, the same event first (so that each camera's events arrive
in order), after an exponential back-off with jitter; the failure is logged when it
starts and when it ends, not at every retry. Nothing here blocks the cameras: they only
`put` into the queues (`Sinks.put`), each sink's thread does the waiting.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from anprd.config.sinks import MqttSinkConfig, SinkConfig
from anprd.output.events import EventRecord
from anprd.output.folders import make_folder
from anprd.output.metrics import Metrics, SinkMetrics
from anprd.output.sinks.queue import Message, Outbox, QueueError
from anprd.output.sinks.transport import DeliveryError, Transport
from anprd.video.sampling import backoff_delay

log = logging.getLogger("anprd.sinks")

LOG_EVERY_S = 300.0  # a failure that lasts is logged again this often


def make_transport(config: SinkConfig) -> Transport:
    if isinstance(config, MqttSinkConfig):
        from anprd.output.sinks.mqtt import MqttTransport

        return MqttTransport(config)
    from anprd.output.sinks.webhook import WebhookTransport

    return WebhookTransport(config)


class Delivery:
    """One sink: its queue, its transport and the thread between them."""

    def __init__(self, config: SinkConfig, outbox: Outbox, transport: Transport,
                 metrics: SinkMetrics) -> None:
        self.config = config
        self.name = config.label
        self.outbox = outbox
        self.transport = transport
        self.metrics = metrics
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sink-{self.name}", daemon=True)
        self._rng = random.Random()
        self.failing_since: float | None = None

    def start(self) -> None:
        self.transport.start()
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self.transport.close()

    def _run(self) -> None:
        attempt = 0
        logged = 0.0
        while not self._stop.is_set():
            try:
                message = self.outbox.head()
            except QueueError as e:
                log.error("sink %s: %s", self.name, e)
                self._stop.wait(5.0)
                continue
            if message is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self._deliver(message)
            except DeliveryError as e:
                now = time.time()
                if self.failing_since is None or now - logged >= LOG_EVERY_S:
                    log.warning("sink %s: cannot deliver event %s: %s (%d queued; retrying)",
                                self.name, message.event_id, e, self.outbox.depth)
                    logged = now
                    self.failing_since = self.failing_since or now
                self.metrics.retried()
                delay = backoff_delay(attempt, self.config.retry_initial_s,
                                      self.config.retry_max_s, self._rng)
                attempt += 1
                self._stop.wait(delay)
                continue
            if self.failing_since is not None:
                log.info("sink %s: delivering again after %.0fs and %d retries",
                         self.name, time.time() - self.failing_since, attempt)
                self.failing_since = None
            attempt = 0
            try:
                self.outbox.ack(message)
            except QueueError as e:
                log.error("sink %s: %s (the event may be delivered again)", self.name, e)
            self.metrics.delivered(time.time() - message.created)

    def _deliver(self, message: Message) -> None:
        try:
            self.transport.deliver(message)
        except DeliveryError:
            raise
        except Exception as e:  # noqa: BLE001 (a transport's bug must not end delivery)
            raise DeliveryError(f"{type(e).__name__}: {e}") from None

    def status(self) -> dict[str, Any]:
        """For /readyz: no secrets, only where to and how it goes."""
        return {
            "type": self.config.type,
            "target": self.transport.target,
            "queued": self.outbox.depth,
            "oldest_age_s": round(self.outbox.oldest_age(), 1),
            "failing_since": self.failing_since,
        }


def events_after(events_log: Path, event_id: str, tail_bytes: int = 1 << 20) -> list[dict]:
    """The events after `event_id` among the log's last `tail_bytes`; none when it is not
    there (a rotated log)."""
    try:
        with open(events_log, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - tail_bytes))
            lines = f.read().split(b"\n")
    except OSError:
        return []
    events = []
    for raw in lines[1:] if size > tail_bytes else lines:
        try:
            events.append(json.loads(raw))
        except ValueError:
            continue
    ids = [e.get("id") for e in events if isinstance(e, dict)]
    if event_id not in ids:
        return []
    return [e for e in events[ids.index(event_id) + 1:]
            if isinstance(e, dict) and isinstance(e.get("id"), str)
            and isinstance(e.get("camera"), str)]


class Sinks:
    """Every sink of `events.sinks`; the daemon's one handle on them."""

    def __init__(self, configs: Sequence[SinkConfig], state_dir: Path, metrics: Metrics) -> None:
        self.configs = tuple(configs)
        self.state_dir = Path(state_dir)
        self._metrics = metrics
        self.deliveries: list[Delivery] = []
        self._states: dict[str, dict[str, Any]] = {}

    def open(self) -> Sinks:
        """Open every queue and start every sink (OSError naming what failed)."""
        if not self.configs:
            return self
        try:
            make_folder(self.state_dir)
        except OSError as e:
            raise OSError(f"cannot make the state folder {self.state_dir} (events.state_dir): "
                          f"{e.strerror or e}") from None
        try:
            for config in self.configs:
                outbox = Outbox(self.state_dir / f"queue-{config.label}.sqlite3",
                                config.max_queue, config.max_queue_bytes).open()
                metrics = self._metrics.sink(config.label)
                metrics.watch(lambda o=outbox: o.depth, lambda o=outbox: o.size_bytes,
                              outbox.oldest_age)
                delivery = Delivery(config, outbox, make_transport(config), metrics)
                self.deliveries.append(delivery)
                delivery.start()
                if outbox.depth:
                    log.info("sink %s: %d events queued from before, delivering them first",
                             config.label, outbox.depth)
        except OSError:
            self.close(0)
            raise
        return self

    def catch_up(self, events_log: Path) -> None:
        """Queue the events that reached the log but not a queue (the process killed in
        between): those after the last one each queue took, in the log's last lines."""
        for d in self.deliveries:
            last = d.outbox.last_put()
            if last is None:
                continue  # a new sink: it gets the events from now on
            missed = events_after(events_log, last)
            for event in missed:
                self._put_one(d, event["camera"], event["id"],
                              json.dumps(event, separators=(",", ":")).encode())
            if missed:
                log.info("sink %s: queued %d events of the events log it had missed",
                         d.name, len(missed))

    def put(self, record: EventRecord) -> None:
        """Queue `record` for every sink; a queue that cannot take it is logged and counted,
        never raised: the event is in the events log already."""
        body = record.line().encode()
        for d in self.deliveries:
            self._put_one(d, record.camera, record.id, body)

    def _put_one(self, d: Delivery, camera: str, event_id: str, body: bytes) -> None:
        try:
            dropped = d.outbox.put(camera, event_id, body)
        except QueueError as e:
            log.error("sink %s: %s; the event is in the events log only", d.name, e)
            d.metrics.dropped("queue_error")
            return
        if dropped:
            log.warning("sink %s: queue full (max_queue %d events, %d bytes): dropped the "
                        "%d oldest", d.name, d.config.max_queue, d.config.max_queue_bytes,
                        dropped)
            d.metrics.dropped("queue_full", dropped)
        d.notify()

    def camera_state(self, camera: str, state: dict[str, Any]) -> None:
        """Tell the sinks a camera's state, when it changed."""
        if self._states.get(camera) == state:
            return
        self._states[camera] = dict(state)
        for d in self.deliveries:
            d.transport.camera_state(camera, state)

    def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for the queues to empty; the events left."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = sum(d.outbox.depth for d in self.deliveries if d.failing_since is None)
            if not left:
                break
            time.sleep(0.05)
        return sum(d.outbox.depth for d in self.deliveries)

    def close(self, drain_s: float = 5.0) -> None:
        if drain_s > 0 and self.deliveries:
            left = self.drain(drain_s)
            if left:
                log.info("sinks: %d events stay queued for the next start", left)
        for d in self.deliveries:
            d.stop(timeout=d.config.timeout_s + 1)
            d.outbox.close()
        self.deliveries = []

    def status(self) -> dict[str, dict[str, Any]]:
        return {d.name: d.status() for d in self.deliveries}
