"""The process's one HTTP server: uvicorn serving `anprd.api.app` in a thread of its own.

    server = start_http_server("127.0.0.1:9108", registry, ready, detector_provider, cfg.api)
    ...
    server.shutdown()

The socket is bound here (so that a port in use is an error the daemon reports before
it starts its cameras), and uvicorn serves it on its own event loop in a background
thread. Connections are admitted by `anprd.api.protocol`; the routes are `anprd.api.app`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry

from anprd.api.app import AppContext, ReadyFn, build_app
from anprd.api.guard import ConnectionGuard
from anprd.api.listen import parse_listen
from anprd.api.metrics import api_metrics
from anprd.api.protocol import ConnectionRules, protocol_for
from anprd.api.recognize import RecognizeService

log = logging.getLogger("anprd.http")
logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # its start and stop notes

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_GRACE_S = 2.0  # for answers under way; the event streams end at once


class UvicornThread:
    """uvicorn serving `config`'s app on an already bound socket, in a thread of its own
    (`start`, `shutdown`) or in the calling one (`serve_forever`, which stops on Ctrl-C)."""

    name = "anprd-http"

    def __init__(self, sock: socket.socket, config: uvicorn.Config) -> None:
        self.sock = sock
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.port = int(sock.getsockname()[1])
        self.host = str(sock.getsockname()[0])

    @property
    def url(self) -> str:
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        self._server.run(sockets=[self.sock])

    def start(self) -> UvicornThread:
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while (not self._server.started and self._thread.is_alive()
               and time.monotonic() < deadline):
            time.sleep(0.005)
        if not self._server.started:
            raise OSError(f"the HTTP server did not start on {self.url}")
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._server.serve(sockets=[self.sock]))
        except Exception:  # noqa: BLE001 - logged; the daemon goes on without HTTP
            log.exception("the HTTP server stopped")
        finally:
            loop.close()

    def shutdown(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(SHUTDOWN_GRACE_S + 3)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(2)
        self.sock.close()


class HttpServer(UvicornThread):
    """The daemon's server: the app of `ctx`, its connections under the guard's rules."""

    def __init__(self, sock: socket.socket, ctx: AppContext) -> None:
        self.ctx = ctx
        rules = ConnectionRules(ctx.guard, ctx.service, ctx.metrics)
        super().__init__(sock, uvicorn.Config(
            build_app(ctx), http=protocol_for(rules), ws="none", lifespan="off",
            log_config=None, access_log=False, server_header=False, date_header=True,
            timeout_keep_alive=max(1, int(ctx.service.settings.request_timeout_s)),
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE_S), backlog=128,
        ))

    @property
    def service(self) -> RecognizeService:
        return self.ctx.service

    def configure(self, api_config: Any) -> None:
        """Apply a reloaded `api:` config section (limits, token, fetch hosts)."""
        self.ctx.service.configure(api_config)

    def start(self) -> HttpServer:
        self.ctx.guard.start()
        super().start()
        return self

    def shutdown(self) -> None:
        if self.ctx.live is not None:
            self.ctx.live.close_streams()
        super().shutdown()
        self.ctx.guard.stop()


def bind(listen: str) -> socket.socket:
    """A listening socket on `listen`; OSError when in use, ValueError when malformed."""
    host, port, family = parse_listen(listen)
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY on accepted sockets only then, and
    # without it an answer's headers and body wait on the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def start_http_server(
    listen: str,
    registry: CollectorRegistry,
    ready: ReadyFn,
    detector_provider: Callable[[], Any],
    api_config: Any = None,
    *,
    live: Any = None,
    token: Callable[[], str | None] | None = None,
) -> HttpServer:
    """Bind `listen` and serve in a background thread; `.shutdown()` stops it.

    `ready()` returns (is_ready, details) for /readyz. `detector_provider()` returns the
    process's one Detector, or None while it is loading (then /v1/recognize answers 503).
    `api_config` is the config's `api:` section (or None for the defaults). `live` is the
    daemon's `LiveView` (the page's cameras and events); `token()` the bearer token of
    `http.token_file`, or None. Raises OSError when the address cannot be bound,
    ValueError when it is malformed.
    """
    sock = bind(listen)
    ctx = AppContext(registry, ready, RecognizeService(detector_provider, api_config),
                     api_metrics(registry), ConnectionGuard(), live,
                     token or (lambda: None))
    try:
        server = HttpServer(sock, ctx).start()
    except Exception:
        sock.close()
        raise
    log.info("HTTP listening on %s (page, metrics, health, recognition API)", server.url)
    return server
