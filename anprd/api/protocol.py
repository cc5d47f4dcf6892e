"""One HTTP/1.1 connection: uvicorn's h11 protocol, held to `anprd.api.guard`'s rules.

uvicorn parses the requests and runs the ASGI app. What this subclass adds is what a
server facing a camera network needs and uvicorn leaves out: a connection cap in all
and per client with a reserve for health checks, a deadline for a whole request to
arrive (a client trickling its headers is cut off), and JSON instead of plain text for
requests too malformed to reach the app.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from anprd.api.guard import RESERVE_DEADLINE_S, Admission, ConnectionGuard
from anprd.api.metrics import _ApiMetrics
from anprd.api.recognize import RecognizeService

LINGER_S = 1.0  # a connection closed with its request unread: how long to read on
LINGER_BYTES = 4 * 1024 * 1024  # and how much, before the rest is cut (a reset)
_REFUSED_BODY = b'{"error":"too many open connections; retry shortly"}\n'
_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_REFUSED_BODY), _REFUSED_BODY)
)


@dataclass
class ConnectionRules:
    """What every connection of one server shares."""

    guard: ConnectionGuard
    service: RecognizeService  # its settings hold the limits, reloadable
    metrics: _ApiMetrics

    def deadline_s(self, admission: Admission) -> float:
        if admission.reserved:
            return RESERVE_DEADLINE_S
        return self.service.settings.request_timeout_s


class GuardedProtocol(H11Protocol):
    """`rules` is set on the subclass `protocol_for` makes for one server."""

    rules: ConnectionRules
    admission: Admission | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        rules = self.rules
        settings = rules.service.settings
        loop = self.loop

        def cut() -> None:
            loop.call_soon_threadsafe(transport.abort)

        client = str(self.client[0]) if self.client else ""
        self.admission = rules.guard.admit(client, cut, settings.max_connections,
                                           settings.max_connections_per_client)
        if self.admission is None:
            rules.metrics.connections_refused.inc()
            transport.write(_REFUSED)
            transport.close()
            return
        if self.admission.reserved:
            rules.metrics.connections_reserved.inc()
        self.app_state = {**self.app_state, "admission": self.admission}
        self.transport = _Lingering(transport, self)  # type: ignore[assignment]
        self._arm()

    def _arm(self) -> None:
        """Start the clock of a request arriving: the app stops it once it is all in."""
        assert self.admission is not None
        self.admission.started = time.monotonic()
        self.rules.guard.watch(self.admission, self.rules.deadline_s(self.admission))

    def data_received(self, data: bytes) -> None:
        if self.admission is None:
            return  # refused: the answer is on its way and the connection closing
        if isinstance(self.transport, _Lingering) and self.transport.lingering:
            self.transport.discard(len(data))
            return
        if self.cycle is None or self.cycle.response_complete:
            self._arm()  # a new request begins
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.admission is not None:
            self.rules.guard.unwatch(self.admission)
            self.rules.guard.release(self.admission)
            self.admission = None
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": f"malformed HTTP request: {msg.rstrip('.')}"}).encode() + b"\n"
        headers = [(b"content-type", b"application/json"), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode())]
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                          h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:
            pass  # an answer had begun: only closing is left
        self.rules.metrics.requests.labels("other", "400").inc()
        self.transport.close()


class _Lingering:
    """The connection's transport, except that closing it while the client is still
    sending its request (an answer refused a body too large, a framing error) first
    shuts the sending side and reads on a while, discarding: a socket closed with
    unread bytes answers them with a reset, and the client would lose the answer."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedProtocol) -> None:
        self._raw = transport
        self._protocol = protocol
        self.lingering = False
        self._left = LINGER_BYTES

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def close(self) -> None:
        cycle = self._protocol.cycle
        unread = cycle is not None and cycle.more_body and not cycle.disconnected
        if self.lingering or not unread or not self._raw.can_write_eof():
            self._raw.close()
            return
        self.lingering = True
        self._raw.write_eof()
        self._raw.resume_reading()
        self._protocol.loop.call_later(LINGER_S, self._raw.abort)

    def discard(self, n: int) -> None:
        self._left -= n
        if self._left <= 0:
            self._raw.abort()


def protocol_for(rules: ConnectionRules) -> type[GuardedProtocol]:
    attrs: dict[str, Any] = {"rules": rules}
    return type("AnprdProtocol", (GuardedProtocol,), attrs)
