"""`POST /v1/recognize`, independent of the HTTP server: from a request's bytes to the
JSON of the plates found.

The request's limits, header checks and parsing are `anprd.api.request`; the guarded
URL fetcher is `anprd.api.fetch`; the OpenAPI document is `anprd.api.openapi`. This
module holds the service (concurrency, token, deadline, detection) and the
serialisation of `PlateRead`s. `anprd.api.server` only moves bytes.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from anprd.api.fetch import UrlFetcher, fetch_disabled
from anprd.api.request import (
    MULTIPART,
    MULTIPART_FIELD,
    ApiError,
    RecognizeQuery,
    check_content_type,
    check_pixels,
    decode_image,
    extract_multipart_image,
    jpeg_reduction,
    sniff_image,
)
from anprd.config.sections import ApiConfig
from anprd.output.plate_json import plate_json
from anprd.reads import PlateRead

log = logging.getLogger("anprd.recognize")

# ---------------------------------------------------------------------- the service


# What one request costs beside its decoded picture: the pyramid, which starts within
# PICTURE_MAX_PIXELS whatever the picture's size, and the network's buffers.
REQUEST_BASE_BYTES = 150 * 1024 * 1024
# The decoded picture (3 bytes a pixel), its grey copy and a shrunk copy, at most.
BYTES_PER_PIXEL = 9


def request_cost(pixels: int) -> int:
    """Memory one recognition of a picture of `pixels` pixels may take, in bytes."""
    return REQUEST_BASE_BYTES + BYTES_PER_PIXEL * pixels


def scaled(read: PlateRead, scale: float) -> PlateRead:
    """`read` with its box in pixels `scale` times bigger."""
    x1, y1, x2, y2 = read.box
    box = (round(x1 * scale), round(y1 * scale), round(x2 * scale), round(y2 * scale))
    return dataclasses.replace(read, box=box)


class MemoryBudget:
    """Bytes that concurrent requests share; a request that does not fit is refused
    (503), so that however many arrive at once the process stays within its budget."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, n: int, too_busy: ApiError) -> Iterator[None]:
        with self._lock:
            if n > self.total:
                raise ApiError(422, f"recognizing this picture would take about {n >> 20} MB; "
                                    f"the service's budget is {self.total >> 20} MB "
                                    "(api.memory_budget_bytes)")
            if self.used + n > self.total:
                raise too_busy
            self.used += n
        try:
            yield
        finally:
            with self._lock:
                self.used -= n


class RecognizeService:
    """Everything `POST /v1/recognize` does, minus reading the socket.

    The HTTP layer calls, in order: `check_auth`, `parse_query`, `check_content_type`
    and the size check on the declared length, then holds `slot()` while it reads the
    body and calls `recognize`.
    """

    def __init__(self, detector_provider: Callable[[], Any], api_config: Any = None):
        self.detector_provider = detector_provider
        self._lock = threading.Lock()
        self._sem: threading.BoundedSemaphore | None = None
        self.settings = ApiConfig()
        self.in_flight = 0
        self.budget = MemoryBudget(self.settings.memory_budget_bytes)
        self.configure(api_config)

    def configure(self, api_config: ApiConfig | Mapping | None) -> None:
        """Apply a (re)loaded `api:` section (a mapping is validated as one); requests
        already running keep their slot."""
        settings = (api_config if isinstance(api_config, ApiConfig)
                    else ApiConfig.model_validate(api_config or {}))
        with self._lock:
            if self._sem is None or settings.max_concurrent != self.settings.max_concurrent:
                self._sem = threading.BoundedSemaphore(settings.max_concurrent)
            self.budget.total = settings.memory_budget_bytes
            self.settings = settings

    def check_auth(self, authorization: str | None) -> None:
        token = self.settings.token
        if not token:
            return
        scheme, _, given = (authorization or "").strip().partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "surrogateescape"), token.encode("utf-8")
        )
        if not ok:
            raise ApiError(
                401,
                "missing or wrong bearer token"
                if authorization
                else "this server requires a bearer token",
                {"WWW-Authenticate": 'Bearer realm="anprd"'},
            )

    def check_length(self, length: int) -> None:
        if length > self.settings.max_body_bytes:
            raise ApiError(
                413,
                f"the body is {length} bytes; the limit is {self.settings.max_body_bytes} bytes",
            )

    def too_busy(self) -> ApiError:
        return ApiError(
            503,
            f"too many recognition requests at once (limit {self.settings.max_concurrent}); "
            "retry shortly",
            {"Retry-After": str(self.settings.retry_after_s)},
        )

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One of `max_concurrent` places, taken without waiting: 503 when all are held."""
        sem = self._sem
        assert sem is not None
        if not sem.acquire(blocking=False):
            raise self.too_busy()
        with self._lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            sem.release()

    def image_bytes(
        self, body: bytes | None, content_type: str | None, query: RecognizeQuery
    ) -> bytes:
        """The picture's bytes: from the body, its multipart field, or the URL."""
        if query.url is not None:
            if not self.settings.fetch_allowed_hosts:
                raise fetch_disabled()
            if body:
                raise ApiError(400, "give either url= or a picture in the body, not both")
            data, _ = UrlFetcher(self.settings).fetch(query.url)
            if not data:
                raise ApiError(422, "the picture's URL answered an empty body")
            return data
        if not body:
            raise ApiError(400, "empty body: post a JPEG, PNG or WebP picture")
        if check_content_type(content_type) == MULTIPART:
            return extract_multipart_image(body, content_type or "")
        return body

    def recognize(
        self, body: bytes | None, content_type: str | None, query: RecognizeQuery
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        data = self.image_bytes(body, content_type, query)
        if not data:
            raise ApiError(400, f"the field {MULTIPART_FIELD!r} is empty")
        info = sniff_image(data)
        check_pixels(info, self.settings.max_pixels)
        detector = self.detector_provider()
        if detector is None:
            raise ApiError(503, "model not loaded yet; retry shortly", {"Retry-After": "5"})
        reduce = jpeg_reduction(info)
        with self.budget.hold(request_cost(info.pixels // reduce**2), self.too_busy()):
            image, _info = decode_image(data, self.settings.max_pixels, reduce)
            reads = detector.detect([image], [query.params()])[0]
        scale = math.sqrt(info.pixels / (image.shape[0] * image.shape[1]))
        if scale != 1.0:  # boxes in the picture's own pixels, as sent
            reads = [scaled(r, scale) for r in reads]
            h, w = round(image.shape[0] * scale), round(image.shape[1] * scale)
        else:
            h, w = image.shape[:2]
        ms = (time.perf_counter() - t0) * 1000.0
        return {
            "width": int(w),
            "height": int(h),
            "ms": round(ms, 1),
            "plates": [plate_json(r, (int(w), int(h))) for r in reads],
        }


