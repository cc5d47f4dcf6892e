"""The process's one HTTP server: metrics, health checks and the recognition API.

    server = start_http_server("127.0.0.1:9108", registry, ready, detector_provider, cfg.api)
    ...
    server.shutdown()

Routes: `GET /metrics` (Prometheus text of `registry`), `GET /healthz` (200 while the
process answers), `GET /readyz` (200 with the JSON of `ready()` when ready, else 503),
`POST /v1/recognize` (see `anprd.api.recognize`), `GET /openapi.json`. HEAD works wherever
GET does. Every answer other than /metrics is JSON; errors are `{"error": "..."}`.

Built on the standard library's ThreadingHTTPServer (one thread per connection). This
module is the server: binding, its thread, and who may hold a connection
(`anprd.api.guard`); `anprd.api.handler` answers the requests.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry

from anprd.api.guard import Admission, ConnectionGuard
from anprd.api.handler import App, Handler, ReadyFn
from anprd.api.listen import parse_listen
from anprd.api.recognize import RecognizeService

log = logging.getLogger("anprd.http")

# ----------------------------------------------------------------------------- server


_REFUSED_BODY = b'{"error":"too many open connections; retry shortly"}\n'
_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_REFUSED_BODY), _REFUSED_BODY)
)


class AnprdHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that runs in a background thread, with a connection cap."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, app: App):
        self.address_family = family
        self.app = app
        self._conn_lock = threading.Lock()
        self._admissions: dict[int, Admission] = {}
        self.guard = ConnectionGuard()
        self._thread: threading.Thread | None = None
        self._stopped = False
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can hang without DNS.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = (
            str(self.server_address[0]),
            int(self.server_address[1]),
        )

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def host(self) -> str:
        return str(self.server_address[0])

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def service(self) -> RecognizeService:
        return self.app.service

    def configure(self, api_config: Any) -> None:
        """Apply a reloaded `api:` config section (limits, token, fetch hosts)."""
        self.app.service.configure(api_config)

    def process_request(self, request: Any, client_address: Any) -> None:
        settings = self.app.service.settings
        client = str(client_address[0]) if client_address else ""
        admission = self.guard.admit(client, request, settings.max_connections,
                                     settings.max_connections_per_client)
        if admission is None:
            self.app.metrics.connections_refused.inc()
            try:
                request.settimeout(1.0)
                request.sendall(_REFUSED)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        if admission.reserved:
            self.app.metrics.connections_reserved.inc()
        with self._conn_lock:
            self._admissions[id(request)] = admission
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address), daemon=True)
        try:
            thread.start()
        except Exception:
            self._forget(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._forget(request)

    def _forget(self, request: Any) -> None:
        self.guard.unwatch(request)
        with self._conn_lock:
            admission = self._admissions.pop(id(request), None)
        if admission is not None:
            self.guard.release(admission)

    def admission_of(self, request: Any) -> Admission | None:
        with self._conn_lock:
            return self._admissions.get(id(request))

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("error on connection from %s", client_address, exc_info=True)

    def start(self) -> AnprdHTTPServer:
        self.guard.start()
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.1,), name="anprd-http", daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread is not None and self._thread.is_alive():
            super().shutdown()
            self._thread.join(timeout=5)
        self.guard.stop()
        self.server_close()


def start_http_server(
    listen: str,
    registry: CollectorRegistry,
    ready: ReadyFn,
    detector_provider: Callable[[], Any],
    api_config: Any = None,
) -> AnprdHTTPServer:
    """Bind `listen` and serve in a background thread; `.shutdown()` stops it.

    `ready()` returns (is_ready, details) for /readyz. `detector_provider()` returns the
    process's one Detector, or None while it is loading (then /v1/recognize answers 503).
    `api_config` is the config's `api:` section (or None for the defaults).
    Raises OSError when the address cannot be bound, ValueError when it is malformed.
    """
    host, port, family = parse_listen(listen)
    app = App(registry, ready, RecognizeService(detector_provider, api_config))
    server = AnprdHTTPServer((host, port), family, app)
    server.start()
    log.info("HTTP listening on %s (metrics, health, recognition API)", server.url)
    return server
