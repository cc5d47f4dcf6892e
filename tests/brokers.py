"""Real receivers for the sink tests: a Mosquitto broker, an MQTT subscriber, an HTTP receiver.

`Mosquitto` runs Debian's mosquitto on a free loopback port with a config written here,
and can be stopped and started again on the same port, its messages persisted (the
subscriber's session survives a restart). `Subscriber` collects every message under a
topic filter with a persistent session, so nothing published while the broker restarts
is lost to the test. `Receiver` is an HTTP server answering the status codes it is told.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from daemon_helpers import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def mosquitto_missing() -> str | None:
    if not Path(MOSQUITTO).is_file():
        return "mosquitto is not installed (make setup installs the Debian package)"
    return None


class Mosquitto:
    def __init__(self, folder: Path, port: int | None = None, extra: str = "") -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.conf = self.folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.folder}/\n"
            "log_dest stderr\n"
            "log_type error\n"
            "max_queued_messages 100000\n"
            + extra
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> Mosquitto:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read()!r}") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # saves its persistence file
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        self.stop()


class Subscriber:
    """Every message on `topics`, in arrival order: (topic, payload bytes, retained)."""

    def __init__(self, port: int, topics: Iterable[str] = ("anprd/#",),
                 client_id: str = "test-subscriber") -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self.arrived: list[float] = []  # when each message came
        self._topics = list(topics)
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.connected = threading.Event()
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise RuntimeError("the test subscriber could not connect")

    def _on_connect(self, client, _u, _f, reason, _p) -> None:
        if not reason.is_failure:
            for t in self._topics:
                client.subscribe(t, qos=1)
            self.connected.set()

    def _on_message(self, _client, _u, msg) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self.arrived.append(time.time())

    def on(self, suffix: str) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return [m for m in self.messages if m[0].endswith(suffix)]

    def events(self) -> list[dict]:
        """Event messages, duplicates (by id) dropped, in order of first arrival."""
        seen, out = set(), []
        for _topic, payload, _retained in self.on("/event"):
            event = json.loads(payload)
            if event["id"] not in seen:
                seen.add(event["id"])
                out.append(event)
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Receiver:
    """An HTTP server that records each POST and answers the next status of `script`
    (then `default`)."""

    def __init__(self, script: Iterable[int] = (), default: int = 200) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def setup(self) -> None:
                super().setup()
                with receiver._lock:
                    receiver._conns.add(self.connection)

            def finish(self) -> None:
                with receiver._lock:
                    receiver._conns.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with receiver._lock:
                    status = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.answers.append(status)
                    if 200 <= status < 300:
                        receiver.requests.append({"headers": dict(self.headers),
                                                  "body": body, "at": time.time()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._handler = Handler
        self.port = 0
        self.start()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        """Listen (again, on the same port after `stop`)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and drop open connections: clients get connection refused."""
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def events(self) -> list[dict]:
        """Delivered JSON bodies, duplicates (by id) dropped."""
        seen, out = set(), []
        with self._lock:
            bodies = [r["body"] for r in self.requests]
        for body in bodies:
            event = json.loads(body)
            if event["id"] not in seen:
                seen.add(event["id"])
                out.append(event)
        return out

    def events_multipart(self) -> list[dict]:
        """Delivered multipart bodies: {event, snapshot, body, signature, event_id_header},
        duplicates (by id) dropped."""
        from email.parser import BytesParser
        from email.policy import HTTP

        with self._lock:
            requests = list(self.requests)
        seen, out = set(), []
        for r in requests:
            ctype = r["headers"].get("Content-Type", "")
            msg = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + r["body"])
            parts = {part.get_param("name", header="content-disposition"):
                     part.get_payload(decode=True) for part in msg.iter_parts()}
            event = json.loads(parts["event"])
            if event["id"] in seen:
                continue
            seen.add(event["id"])
            out.append({"event": event, "snapshot": parts.get("snapshot"), "body": r["body"],
                        "signature": r["headers"].get("X-Anprd-Signature"),
                        "event_id_header": r["headers"].get("X-Anprd-Event-Id")})
        return out

    def close(self) -> None:
        self.stop()
