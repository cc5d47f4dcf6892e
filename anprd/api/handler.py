"""Answering the HTTP server's requests: the routes, JSON errors instead of HTML, no 5xx
for malformed requests, chunked request bodies, a body size limit enforced before and
while reading, and `Expect: 100-continue` answered only once the request has passed its
checks (so a refused upload is never sent). The server is `anprd.api.server`."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from anprd import __version__
from anprd.api.body import BodyReader, _BodyError
from anprd.api.guard import HEALTH_ROUTES, RESERVE_DEADLINE_S
from anprd.api.metrics import api_metrics
from anprd.api.openapi import openapi_document
from anprd.api.recognize import RecognizeService
from anprd.api.request import ApiError, check_content_type, parse_query

if TYPE_CHECKING:
    from anprd.api.server import AnprdHTTPServer

log = logging.getLogger("anprd.http")

ReadyFn = Callable[[], "tuple[bool, dict]"]

ROUTES: dict[str, tuple[str, ...]] = {
    "/metrics": ("GET", "HEAD"),
    "/healthz": ("GET", "HEAD"),
    "/readyz": ("GET", "HEAD"),
    "/openapi.json": ("GET", "HEAD"),
    "/v1/recognize": ("POST",),
}

# ---------------------------------------------------------------------------- handler


class Handler(BodyReader, BaseHTTPRequestHandler):
    server: AnprdHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server_version = f"anprd/{__version__}"
    sys_version = ""
    error_content_type = "application/json"

    # ----------------------------------------------------------- stdlib overrides

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        self._admission = self.server.admission_of(self.request)
        self._reserved = bool(self._admission and self._admission.reserved)
        settings = self.server.app.service.settings
        self._deadline_s = RESERVE_DEADLINE_S if self._reserved else settings.request_timeout_s
        self.timeout = self._deadline_s
        super().setup()

    def handle(self) -> None:
        self._linger = False
        super().handle()
        if self._linger:
            self._lingering_close()

    def handle_one_request(self) -> None:
        # As the standard library's, but every method reaches `_dispatch` (an unknown
        # method is a 405, not a 501) and a client that goes away is not an error.
        self._expect_continue = False
        self._body_read = True
        self._route = "other"
        self._status = 0
        self.server.guard.watch(self.connection, self._deadline_s)
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            if self.request_version == "HTTP/0.9":
                self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported")
                return
            self._dispatch()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        finally:
            self.server.guard.unwatch(self.connection)
        if self._reserved:
            self.close_connection = True  # one request per reserved connection

    def handle_expect_100(self) -> bool:
        # Answer "100 Continue" only once the request has passed its checks.
        self._expect_continue = True
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Called by the standard library for malformed requests: answer JSON, and keep
        # its two 5xx answers to bad input (unknown method, HTTP/2 request line) 4xx.
        if code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
            code, message = HTTPStatus.BAD_REQUEST, "unsupported HTTP version"
        elif code == HTTPStatus.NOT_IMPLEMENTED:
            code = HTTPStatus.METHOD_NOT_ALLOWED
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        # The standard library answers errors of the request line the HTTP/0.9 way,
        # with no status line. HTTP/0.9 is not served: always send a status line.
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        self.close_connection = True
        self._send_json(int(code), {"error": message or phrase})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if isinstance(code, HTTPStatus):
            code = code.value
        log.debug('%s "%s" %s', self.address_string(), self.requestline, code)

    # ----------------------------------------------------------------- responses

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self._status = status
        # Counted before the answer goes out, so a client that reads /metrics right
        # after an answer always finds that answer counted.
        try:
            self.server.app.metrics.requests.labels(self._route, str(status)).inc()
        except Exception:  # noqa: BLE001 - metrics must never break an answer
            log.debug("metrics update failed", exc_info=True)
        if self._has_unread_body():
            self.close_connection = True
            self._linger = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", "") != "HEAD" and status >= 200 and status not in (204, 304):
            self.wfile.write(body)

    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
        self._send(status, body, "application/json", headers)

    def _send_api_error(self, err: ApiError) -> None:
        self._send_json(err.status, {"error": err.message}, err.headers)

    # ------------------------------------------------------------------ body

    def _dispatch(self) -> None:
        self._body_read = False
        try:
            parts = urllib.parse.urlsplit(self.path)
        except ValueError:
            self._send_json(400, {"error": "invalid request target"})
            return
        path = parts.path
        self.server.guard.arrived(self._admission)
        if path != "/v1/recognize":
            self.server.guard.unwatch(self.connection)  # the request has arrived
        if self._reserved and path not in HEALTH_ROUTES:
            self.close_connection = True
            self._send_json(503, {"error": "too many open connections; retry shortly"},
                            {"Retry-After": "1"})
            return
        methods = ROUTES.get(path)
        if methods is None:
            self._send_json(404, {"error": f"no such route: {path[:200]}"})
            return
        self._route = path
        if self.command not in methods:
            allow = ", ".join(methods)
            self._send_json(
                405,
                {"error": f"method {self.command[:20]} not allowed on {path}; use {allow}"},
                {"Allow": allow},
            )
            return
        try:
            if path == "/v1/recognize":
                self._recognize(parts.query)
            elif path == "/metrics":
                self._send(200, generate_latest(self.server.app.registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send_json(200, {"status": "ok"})
            elif path == "/readyz":
                self._readyz()
            elif path == "/openapi.json":
                self._send_json(200, self.server.app.openapi)
        except ApiError as e:
            self._send_api_error(e)
        except (ConnectionError, TimeoutError):
            raise
        except Exception:
            log.exception("internal error answering %s %s", self.command, path)
            self.close_connection = True
            self._send_json(500, {"error": "internal error; see the server log"})

    def _readyz(self) -> None:
        try:
            ok, info = self.server.app.ready()
        except Exception:
            log.exception("readiness check failed")
            ok, info = False, {"error": "readiness check failed; see the server log"}
        body = {"ready": bool(ok), **(info or {})}
        self._send_json(200 if ok else 503, body)

    def _recognize(self, query_string: str) -> None:
        app = self.server.app
        svc = app.service
        t0 = time.perf_counter()
        if not svc.settings.enabled:
            raise ApiError(404, "the recognition API is disabled on this server (api.enabled)")
        svc.check_auth(self.headers.get("Authorization"))
        query = parse_query(query_string)
        length, chunked = self._body_framing()
        has_body = chunked or bool(length)
        if query.url is None:
            if length is None and not chunked:
                raise ApiError(411, "Content-Length required (or Transfer-Encoding: chunked)")
            if has_body:
                check_content_type(self.headers.get("Content-Type"))
        if length is not None:
            svc.check_length(length)
        with svc.slot():
            app.metrics.recognize_in_flight.inc()
            try:
                body = b""
                if has_body:
                    try:
                        body = self._read_body(length, chunked, svc.settings.max_body_bytes)
                    except _BodyError as e:
                        self.close_connection = True
                        raise e.err from None
                else:
                    self._body_read = True
                self.server.guard.unwatch(self.connection)  # all of the request is here
                result = svc.recognize(body, self.headers.get("Content-Type"), query)
            finally:
                app.metrics.recognize_in_flight.dec()
        app.metrics.recognize_seconds.observe(time.perf_counter() - t0)
        self._send_json(200, result)


class App:
    """What the handlers share: registry, readiness, the recognition service."""

    def __init__(self, registry: CollectorRegistry, ready: ReadyFn, service: RecognizeService):
        self.registry = registry
        self.ready = ready
        self.service = service
        self.metrics = api_metrics(registry)
        self.openapi = openapi_document()
