"""The ASGI app the daemon serves: its routes, and the rules every answer follows.

Every answer is JSON except /metrics, the page and its files, pictures and the event
stream; errors are `{"error": "..."}`, never HTML, and a malformed request is a 4xx.
`Gate` wraps the routes: it counts answers by route and status, adds the headers every
answer carries, answers 503 on a connection of the health reserve for anything but
health and metrics, and asks for the bearer token of `http.token_file` on every route
but /healthz. The routes are in `anprd.api.service_routes` (metrics, health, OpenAPI,
recognition) and `anprd.api.live_routes` (the page and what it reads).
"""

from __future__ import annotations

import hmac
import json
import logging
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anprd import __version__
from anprd.api.guard import HEALTH_ROUTES, ConnectionGuard
from anprd.api.metrics import _ApiMetrics
from anprd.api.recognize import RecognizeService
from anprd.api.request import ApiError

log = logging.getLogger("anprd.http")

ReadyFn = Callable[[], "tuple[bool, dict]"]

# The routes as metrics label them; any other path is "other".
ROUTE_LABELS = ("/metrics", "/healthz", "/readyz", "/openapi.json", "/v1/recognize", "/",
                "/cameras", "/events", "/events/stream")
# Answered without the token: health, and the page's shell (no data: it asks for the
# token, then reads everything else with it).
OPEN_ROUTES = ("/healthz", "/")
OPEN_PREFIXES = ("/static/",)


@dataclass
class AppContext:
    """What the routes share. `live` is the daemon's live view (None: no cameras)."""

    registry: CollectorRegistry
    ready: ReadyFn
    service: RecognizeService
    metrics: _ApiMetrics
    guard: ConnectionGuard
    live: Any = None
    token: Callable[[], str | None] = field(default=lambda: None)


def route_label(path: str) -> str:
    if path in ROUTE_LABELS:
        return path
    if path.startswith("/camera/") and path.endswith("/frame.jpg"):
        return "/camera/{name}/frame.jpg"
    if path.startswith("/snapshots/"):
        return "/snapshots/{file}"
    if path.startswith("/static/"):
        return "/static"
    return "other"


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
    return Response(body, status, headers=headers, media_type="application/json")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, {"error": message}, headers)


def bearer_ok(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8"))


def token_given(scope: Scope, token: str) -> bool:
    """The page's token, from the Authorization header or, where a browser cannot set
    one (an <img>, an EventSource), the `access_token` query parameter of a GET."""
    headers = dict(scope.get("headers") or [])
    if bearer_ok(headers.get(b"authorization", b"").decode("latin-1"), token):
        return True
    if scope.get("method") not in ("GET", "HEAD"):
        return False
    query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
    given = query.get("access_token", [""])[0]
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="anprd"'}


class Gate:
    """Pure ASGI middleware (no body buffering: the event stream and uploads pass)."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        label = route_label(path)
        admission = (scope.get("state") or {}).get("admission")
        ctx = self.ctx
        if admission is not None:
            ctx.guard.arrived(admission)
            if path != "/v1/recognize":
                ctx.guard.unwatch(admission)  # the request has arrived
        reserved = bool(admission and admission.reserved)

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"server", f"anprd/{__version__}".encode()),
                            (b"x-content-type-options", b"nosniff")]
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                if reserved:
                    headers.append((b"connection", b"close"))  # one request per reserved one
                message = {**message, "headers": headers}
                # Counted before the answer goes out: a client that reads /metrics right
                # after an answer finds it counted.
                ctx.metrics.requests.labels(label, str(message["status"])).inc()
            await send(message)

        if scope.get("http_version") not in ("1.0", "1.1"):
            await error_response(400, "unsupported HTTP version")(scope, receive, answer)
            return
        if reserved and path not in HEALTH_ROUTES:
            refusal = error_response(503, "too many open connections; retry shortly",
                                     {"Retry-After": "1"})
            await refusal(scope, receive, answer)
            return
        token = ctx.token()
        if token and path not in OPEN_ROUTES and not path.startswith(OPEN_PREFIXES) \
                and path != "/v1/recognize" and not token_given(scope, token):
            refusal = error_response(401, "this server requires a bearer token (http.token_file)",
                                     UNAUTHORIZED)
            await refusal(scope, receive, answer)
            return
        try:
            await self.app(scope, receive, answer)
        except Exception:  # noqa: BLE001 - _internal_error has answered and logged it,
            # unless a streamed answer had begun: then only this says so
            log.debug("error answering %s", path[:200], exc_info=True)


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return error_response(404, f"no such route: {request.url.path[:200]}")
    if exc.status_code == 405:
        allow = headers.get("Allow", "")
        return error_response(405, f"method {request.method[:20]} not allowed on "
                                   f"{request.url.path[:200]}; use {allow}", headers)
    return error_response(exc.status_code, str(exc.detail), headers)


async def _internal_error(request: Request, _exc: Exception) -> Response:
    log.exception("internal error answering %s %s", request.method, request.url.path[:200])
    return error_response(500, "internal error; see the server log", {"Connection": "close"})


def build_app(ctx: AppContext) -> ASGIApp:
    from anprd.api.live_routes import live_routes
    from anprd.api.service_routes import service_routes

    app = Starlette(
        routes=[*service_routes(ctx), *live_routes(ctx)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error,
                            Exception: _internal_error},
    )
    return Gate(app, ctx)
