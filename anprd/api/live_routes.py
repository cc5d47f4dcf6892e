"""The live page and what it reads: `/` (the page, `anprd/api/page/`), `/cameras`,
`/camera/<name>/frame.jpg`, `/events` (search the events log), `/events/stream`
(Server-Sent Events: the cameras every second, each plate event as it is emitted) and
`/snapshots/...` (the events' pictures). The daemon's `LiveView` feeds them; a server
without one (the API alone) shows no cameras and keeps no events."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from anprd.api.app import AppContext, json_response
from anprd.api.request import ApiError
from anprd.output.event_search import (
    MAX_LIMIT,
    EventQuery,
    normalise_plate,
    parse_time,
    search_events,
)

PAGE_DIR = Path(__file__).parent / "page"
STREAM_TICK_S = 1.0
EVENT_QUERY_KEYS = ("plate", "since", "until", "camera", "limit", "offset", "access_token")


def live_routes(ctx: AppContext) -> list[Route | Mount]:
    async def page(_request: Request) -> Response:
        return FileResponse(PAGE_DIR / "index.html", media_type="text/html; charset=utf-8")

    async def cameras(_request: Request) -> Response:
        states = await run_in_threadpool(ctx.live.cameras) if ctx.live else []
        return json_response(200, {"cameras": states})

    async def frame(request: Request) -> Response:
        name = request.path_params["name"]
        live = ctx.live
        jpeg = await run_in_threadpool(live.frame_jpeg, name) if live else None
        if jpeg is None:  # the cameras' states are asked for only then
            if live is None or not live.has_camera(name):
                raise ApiError(404, f"no camera named {name[:100]!r}")
            raise ApiError(503, f"camera {name[:100]!r} has no sampled frame yet",
                           {"Retry-After": "1"})
        return Response(jpeg, media_type="image/jpeg")

    async def events(request: Request) -> Response:
        query = event_query(request.scope.get("query_string", b"").decode("latin-1"))
        if ctx.live is None or ctx.live.events_path is None:
            raise ApiError(404, "this server keeps no events log")
        found = await run_in_threadpool(search_events, ctx.live.events_path, query)
        found["events"] = [ctx.live.with_urls(e) for e in found["events"]]
        return json_response(200, found)

    async def stream(_request: Request) -> Response:
        return StreamingResponse(_stream(ctx), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})

    async def snapshot(request: Request) -> Response:
        root = ctx.live.snapshots if ctx.live else None
        rel = request.path_params["path"]
        if root is None:
            raise ApiError(404, "this server keeps no snapshots")
        path = (root / rel).resolve()
        if not path.is_relative_to(root.resolve()) or path.suffix != ".jpg" \
                or not path.is_file():
            raise ApiError(404, f"no snapshot {rel[:200]!r}")
        return FileResponse(path, media_type="image/jpeg")

    return [
        Route("/", page, methods=["GET"]),
        Route("/cameras", cameras, methods=["GET"]),
        Route("/camera/{name}/frame.jpg", frame, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/events/stream", stream, methods=["GET"]),
        Route("/snapshots/{path:path}", snapshot, methods=["GET"]),
        Mount("/static", StaticFiles(directory=PAGE_DIR), name="static"),
    ]


def event_query(query_string: str) -> EventQuery:
    """`plate`, `since`, `until`, `camera`, `limit`, `offset`; 400 for anything else."""
    try:
        pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True, max_num_fields=16)
    except ValueError as e:
        raise ApiError(400, f"invalid query string: {e}") from None
    given: dict[str, str] = {}
    for key, value in pairs:
        if key not in EVENT_QUERY_KEYS:
            raise ApiError(400, f"unknown query parameter {key[:40]!r}; expected one of "
                                f"{', '.join(EVENT_QUERY_KEYS[:-1])}")
        if key in given:
            raise ApiError(400, f"query parameter {key!r} given twice")
        given[key] = value
    times = {}
    for key in ("since", "until"):
        if key in given:
            try:
                times[key] = parse_time(given[key])
            except (ValueError, OverflowError):
                raise ApiError(400, f"{key}= must be an ISO 8601 time, "
                                    f"e.g. 2026-12-07T10:00:00Z") from None
    numbers = {}
    for key, low, high, default in (("limit", 1, MAX_LIMIT, 50), ("offset", 0, 10**7, 0)):
        if key not in given:
            numbers[key] = default
            continue
        raw = given[key]
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ApiError(400, f"{key}= must be a whole number from {low} to {high}")
        numbers[key] = int(raw)
    plate = normalise_plate(given.get("plate", "")) or None
    return EventQuery(plate=plate, since=times.get("since"), until=times.get("until"),
                      camera=given.get("camera") or None, **numbers)


def _sse(kind: str, data: object) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _stream(ctx: AppContext) -> AsyncIterator[bytes]:
    live = ctx.live
    yield b"retry: 2000\n\n"
    if live is None:
        yield _sse("cameras", [])
        return
    queue = live.subscribe()
    try:
        yield _sse("recent", live.recent_events())
        while not live.closed:
            yield _sse("cameras", await run_in_threadpool(live.cameras))
            deadline = asyncio.get_running_loop().time() + STREAM_TICK_S
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                try:
                    kind, item = await asyncio.wait_for(queue.get(), left)
                except TimeoutError:
                    break
                if kind == "end":
                    return
                yield _sse(kind, item)
    finally:
        live.unsubscribe(queue)
