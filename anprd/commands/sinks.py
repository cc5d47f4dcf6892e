"""`anprd sinks test --config FILE`: send one test message to each sink, say what happened."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from anprd.config.load import load_config
from anprd.redact import redact_text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "sinks",
        help="check the event sinks (MQTT brokers, webhooks) of a config",
        description="Check the sinks of events.sinks without running the daemon.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = sub.add_parser(
        "test",
        help="send one test message to each sink",
        description="Send one test message to each sink (MQTT: <prefix>/test, QoS 1; webhook: "
        "a POST of {\"test\": true}) and say whether it was acknowledged within the sink's "
        "timeout_s. Exit 0 when all were, 1 when any was not.",
    )
    t.add_argument("--config", required=True, type=Path, help="the daemon's YAML config")
    t.set_defaults(func=run_test)


def run_test(args: argparse.Namespace) -> int:
    from anprd.output.sinks.delivery import make_transport
    from anprd.output.sinks.transport import DeliveryError

    config = load_config(args.config, check_files=False)
    sinks = config.events.sinks
    if not sinks:
        print(f"{args.config}: no sinks configured (events.sinks)", file=sys.stderr)
        return 1
    failed = 0
    for sink in sinks:
        transport = make_transport(sink)
        what = f"{sink.type} sink '{sink.label}'"
        t0 = time.monotonic()
        try:
            transport.start()
            where = transport.send_test()
        except (OSError, DeliveryError) as e:
            failed += 1
            print(f"{what}: FAILED: {redact_text(str(e))}")
        else:
            print(f"{what}: delivered to {where} in {(time.monotonic() - t0) * 1000:.0f} ms")
        finally:
            transport.close()
    return 1 if failed else 0

