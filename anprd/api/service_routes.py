"""The service's routes: metrics, health, the OpenAPI document and `POST /v1/recognize`.

The recognition route reads the body itself, so that its limits hold before and while
it arrives: the declared length is checked before a byte is read (and before `Expect:
100-continue` is answered), the size while reading, and the request's deadline
throughout. Detection runs in a worker thread; the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import logging
import time

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from anprd.api.app import UNAUTHORIZED, AppContext, bearer_ok, json_response
from anprd.api.openapi import openapi_document
from anprd.api.request import ApiError, check_content_type, parse_query

log = logging.getLogger("anprd.http")


def service_routes(ctx: AppContext) -> list[Route]:
    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_request: Request) -> Response:
        return json_response(200, {"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            ok, info = await run_in_threadpool(ctx.ready)
        except Exception:  # noqa: BLE001 - a failing check is "not ready", not a 500
            log.exception("readiness check failed")
            ok, info = False, {"error": "readiness check failed; see the server log"}
        return json_response(200 if ok else 503, {"ready": bool(ok), **(info or {})})

    async def openapi(_request: Request) -> Response:
        return json_response(200, openapi_document(
            max_body_bytes=ctx.service.settings.max_body_bytes))

    async def recognize(request: Request) -> Response:
        return await _recognize(ctx, request)

    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1/recognize", recognize, methods=["POST"]),
    ]


def _framing(request: Request) -> tuple[int | None, bool]:
    """The body's declared length (None when not declared) and whether it is chunked."""
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    raw = request.headers.get("content-length")
    if raw is not None and chunked:
        raise ApiError(400, "give Content-Length or Transfer-Encoding: chunked, not both",
                       {"Connection": "close"})
    if raw is None:
        return None, chunked
    if not raw.strip().isdigit():
        raise ApiError(400, "invalid Content-Length")
    return int(raw), False


def _check_auth(ctx: AppContext, request: Request) -> None:
    """`api.token` when set; the page's token (`http.token_file`) is taken too."""
    page_token = ctx.token()
    auth = request.headers.get("authorization")
    if page_token and bearer_ok(auth, page_token):
        return
    if ctx.service.settings.token or not page_token:
        ctx.service.check_auth(auth)
        return
    raise ApiError(401, "missing or wrong bearer token" if auth
                   else "this server requires a bearer token", UNAUTHORIZED)


async def _read_body(ctx: AppContext, request: Request, limit: int) -> bytes:
    admission = request.scope.get("state", {}).get("admission")
    left = ctx.service.settings.request_timeout_s
    if admission is not None:
        left = ctx.service.settings.request_timeout_s - (time.monotonic() - admission.started)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(max(0.0, left)):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(413, f"the body is over the limit of {limit} bytes",
                                   {"Connection": "close"})
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, "the request did not arrive in time "
                            f"({ctx.service.settings.request_timeout_s:g} s)",
                       {"Connection": "close"}) from None
    if admission is not None:
        ctx.guard.unwatch(admission)  # all of the request is here
    return b"".join(chunks)


async def _recognize(ctx: AppContext, request: Request) -> Response:
    svc = ctx.service
    t0 = time.perf_counter()
    if not svc.settings.enabled:
        raise ApiError(404, "the recognition API is disabled on this server (api.enabled)")
    _check_auth(ctx, request)
    query = parse_query(request.scope.get("query_string", b"").decode("latin-1"))
    length, chunked = _framing(request)
    has_body = chunked or bool(length)
    content_type = request.headers.get("content-type")
    if query.url is None:
        if length is None and not chunked:
            raise ApiError(411, "Content-Length required (or Transfer-Encoding: chunked)")
        if has_body:
            check_content_type(content_type)
    if length is not None:
        try:
            svc.check_length(length)
        except ApiError as e:
            e.headers["Connection"] = "close"  # the body is not read
            raise
    with svc.slot():
        ctx.metrics.recognize_in_flight.inc()
        try:
            body = b""
            if has_body:
                try:
                    body = await _read_body(ctx, request, svc.settings.max_body_bytes)
                except ClientDisconnect:
                    return Response(status_code=400)  # nobody is left to read it
            result = await run_in_threadpool(svc.recognize, body, content_type, query)
        finally:
            ctx.metrics.recognize_in_flight.dec()
    ctx.metrics.recognize_seconds.observe(time.perf_counter() - t0)
    return json_response(200, result)
