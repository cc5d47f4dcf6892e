"""Benchmark of the event sinks: events through an MQTT broker and a webhook on loopback.

    python bench/sinks_bench.py                 # 10,000 events, receivers down a third
    python bench/sinks_bench.py --events 2000 --rate 100

Two phases, both through the real queues (SQLite, in a temporary folder), a real
Mosquitto and a real HTTP receiver:

1. burst: every event queued at once, receivers up; prints events per second delivered.
2. paced: events queued at --rate per second; both receivers are down for the middle
   third of the run. Prints the added latency, from an event queued to its arrival,
   p50 and p99 over all events and over those queued before the outage, and checks
   that every event arrived.

The receivers run in this process, so they share its interpreter with the sinks: the
figures are a floor of what the sinks do with receivers elsewhere.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from brokers import Mosquitto, Receiver, Subscriber, free_port  # noqa: E402

from anprd.config.sinks import MqttSinkConfig, WebhookSinkConfig  # noqa: E402
from anprd.output.events import EventRecord, new_event_id  # noqa: E402
from anprd.output.metrics import Metrics  # noqa: E402
from anprd.output.sinks.delivery import Sinks  # noqa: E402


def record(i: int) -> EventRecord:
    now = time.time()
    return EventRecord(id=new_event_id(now), camera=f"cam{i % 4}", plate="AB123CD",
                       format="mercosur_ar", confidence=0.9, first_seen=now, last_seen=now,
                       reads=5, box=(1, 2, 3, 4))


def arrivals_mqtt(sub: Subscriber) -> dict[str, float]:
    out: dict[str, float] = {}
    with sub._lock:
        pairs = list(zip(sub.messages, sub.arrived, strict=True))
    for (topic, payload, _r), at in pairs:
        if topic.endswith("/event"):
            out.setdefault(json.loads(payload)["id"], at)
    return out


def arrivals_hook(receiver: Receiver) -> dict[str, float]:
    out: dict[str, float] = {}
    with receiver._lock:
        reqs = list(receiver.requests)
    for r in reqs:
        out.setdefault(json.loads(r["body"])["id"], r["at"])
    return out


def wait_all(ids: list[str], arrived, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = arrived()
        if len(got) >= len(ids) and all(i in got for i in ids):
            return True
        time.sleep(0.25)
    return False


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=200.0, help="events per second, paced phase")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        broker = Mosquitto(folder / "broker", port).start()
        receiver = Receiver()
        sub = Subscriber(port, client_id="bench-subscriber")
        configs = [
            MqttSinkConfig(type="mqtt", host="127.0.0.1", port=port, retry_initial_s=0.05,
                           retry_max_s=0.5),
            WebhookSinkConfig(type="webhook", url=receiver.url, retry_initial_s=0.05,
                              retry_max_s=0.5),
        ]
        sinks = Sinks(configs, folder / "state", Metrics("bench")).open()
        try:
            results = run(args, sinks, broker, receiver, sub)
        finally:
            sinks.close(drain_s=0)
            sub.close()
            receiver.close()
            broker.stop()
    for line in results:
        print(line)
    return 0


def run(args, sinks, broker, receiver, sub) -> list[str]:
    out = [f"sinks bench: {args.events} events per phase, MQTT (mosquitto, QoS 1) and webhook "
           "(HTTP POST) on loopback"]
    sinks_of = {"mqtt": lambda: arrivals_mqtt(sub), "webhook": lambda: arrivals_hook(receiver)}

    # 1. burst
    t0 = time.time()
    ids = []
    for i in range(args.events):
        r = record(i)
        sinks.put(r)
        ids.append(r.id)
    queued_s = time.time() - t0
    out.append(f"burst: {args.events / queued_s:.0f} events/s queued (into both queues)")
    for name, arrived in sinks_of.items():
        ok = wait_all(ids, arrived, 600)
        got = arrived()
        last = max(got[i] for i in ids) if ok else float("nan")
        out.append(f"burst {name}: {args.events / (last - t0):.0f} events/s delivered"
                   f"{'' if ok else ' (NOT ALL ARRIVED)'}")

    # 2. paced, receivers down for the middle third
    start = time.time()
    length = args.events / args.rate
    down = (start + length / 3, start + 2 * length / 3)
    put_at: dict[str, float] = {}
    ids, is_down = [], False
    for i in range(args.events):
        due = start + i / args.rate
        while time.time() < due:
            time.sleep(min(0.005, max(0.0, due - time.time())))
        now = time.time()
        if not is_down and down[0] <= now < down[1]:
            broker.stop()
            receiver.stop()
            is_down = True
        elif is_down and now >= down[1]:
            broker.start()
            receiver.start()
            is_down = False
        r = record(i)
        put_at[r.id] = time.time()
        sinks.put(r)
        ids.append(r.id)
    if is_down:
        broker.start()
        receiver.start()
    out.append(f"paced: {args.rate:g} events/s for {length:.0f} s; both receivers down from "
               f"{down[0] - start:.1f} s to {down[1] - start:.1f} s")
    for name, arrived in sinks_of.items():
        ok = wait_all(ids, arrived, 600)
        got = arrived()
        lat = [got[i] - put_at[i] for i in ids if i in got]
        before = [got[i] - put_at[i] for i in ids if i in got and put_at[i] < down[0]]
        missing = sum(i not in got for i in ids)
        out.append(
            f"paced {name}: latency p50 {pct(lat, 50) * 1000:.1f} ms, p99 "
            f"{pct(lat, 99) * 1000:.0f} ms (all); before the outage: p50 "
            f"{pct(before, 50) * 1000:.1f} ms, p99 {pct(before, 99) * 1000:.0f} ms; "
            f"{len(ids) - missing}/{len(ids)} arrived{'' if ok else ' (TIMED OUT)'}")
    return out


if __name__ == "__main__":
    sys.exit(main())
