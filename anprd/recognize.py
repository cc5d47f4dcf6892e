"""The recognition API's request logic, independent of the HTTP server.

`POST /v1/recognize` takes a picture (JPEG, PNG or WebP: as the body, as the multipart
form field `image`, or fetched from an allowed host with `url=`) and answers the plates
found in it as JSON. This module holds everything between the bytes of a request and
that JSON: the limits (size, pixels, concurrency, token), the pixel limit enforced from
the image's header (`anprd.image_headers`) before anything is decoded, multipart
extraction, the guarded URL fetcher, and the serialisation of `PlateRead`s.
`anprd.http` only moves bytes.

Every refusal is an `ApiError` carrying the HTTP status, a message for the client and
any extra headers; nothing here answers a 5xx for bad input.
"""

from __future__ import annotations

import hmac
import http.client
import itertools
import logging
import math
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import HTTP as HTTP_POLICY
from typing import Any

import numpy as np

from anprd import __version__
from anprd.config import DEFAULT_MIN_CONFIDENCE
from anprd.formats import FORMATS
from anprd.image_headers import CorruptHeader, ImageInfo, image_info
from anprd.pyramid import PICTURE_MAX_PIXELS
from anprd.reads import ALPHABET, BLANK, DetectParams, PlateRead

log = logging.getLogger("anprd.recognize")

# Content types accepted as a raw body; the bytes themselves decide the format.
IMAGE_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
BODY_CONTENT_TYPES = (*IMAGE_CONTENT_TYPES, "image/jpg", "application/octet-stream")
MULTIPART = "multipart/form-data"
MULTIPART_FIELD = "image"

DEFAULT_FORMATS = DetectParams().formats


class ApiError(Exception):
    """A refusal with its HTTP status, a message for the client, and extra headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.headers = dict(headers or {})


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ApiSettings:
    """The `api:` section of the config, with defaults for what it leaves out."""

    enabled: bool = True
    max_body_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_concurrent: int = 2
    token: str | None = None
    fetch_allowed_hosts: tuple[str, ...] = ()
    fetch_timeout_s: float = 10.0
    fetch_max_redirects: int = 3
    request_timeout_s: float = 30.0
    max_connections: int = 64
    retry_after_s: int = 1

    @classmethod
    def from_config(cls, cfg: Any) -> ApiSettings:
        """Build from the config's `api` object (pydantic model, dict, or None)."""
        if cfg is None:
            return cls()
        if isinstance(cfg, ApiSettings):
            return cfg

        def get(name: str, default: Any) -> Any:
            if isinstance(cfg, Mapping):
                value = cfg.get(name, default)
            else:
                value = getattr(cfg, name, default)
            return default if value is None else value

        base = cls()
        token = get("token", None)
        if token is not None and hasattr(token, "get_secret_value"):  # pydantic SecretStr
            token = token.get_secret_value()
        token = str(token) if token else None
        hosts = tuple(
            str(h).strip().lower() for h in get("fetch_allowed_hosts", ()) if str(h).strip()
        )
        return cls(
            enabled=bool(get("enabled", True)),
            max_body_bytes=int(get("max_body_bytes", base.max_body_bytes)),
            max_pixels=int(get("max_pixels", base.max_pixels)),
            max_concurrent=max(1, int(get("max_concurrent", base.max_concurrent))),
            token=token,
            fetch_allowed_hosts=hosts,
            fetch_timeout_s=float(get("fetch_timeout_s", base.fetch_timeout_s)),
            fetch_max_redirects=int(get("fetch_max_redirects", base.fetch_max_redirects)),
            request_timeout_s=float(get("request_timeout_s", base.request_timeout_s)),
            max_connections=max(4, int(get("max_connections", base.max_connections))),
            retry_after_s=max(1, int(get("retry_after_s", base.retry_after_s))),
        )


# ---------------------------------------------------------------------- image headers


def sniff_image(data: bytes) -> ImageInfo:
    """Format and size of a picture, read from its header only (nothing is decoded).

    Raises ApiError 415 when the bytes are not JPEG, PNG or WebP, and 422 when the
    header of one of those is truncated or invalid.
    """
    try:
        info = image_info(data)
    except CorruptHeader as e:
        raise ApiError(422, str(e)) from None
    if info is None:
        raise ApiError(415, "the body is not a JPEG, PNG or WebP image")
    return info


def check_pixels(info: ImageInfo, max_pixels: int) -> None:
    if info.pixels > max_pixels:
        raise ApiError(
            422,
            f"the image is {info.width}x{info.height} = {info.pixels} pixels; "
            f"the limit is {max_pixels} pixels",
        )


def decode_image(data: bytes, max_pixels: int) -> tuple[np.ndarray, ImageInfo]:
    """The picture as BGR uint8 (H, W, 3), its pixel count checked from the header first."""
    info = sniff_image(data)
    check_pixels(info, max_pixels)
    import cv2  # noqa: PLC0415  (heavy; only the decoding path needs it)

    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as e:  # over OpenCV's own pixel limit, when max_pixels is set above it
        raise ApiError(422, f"the {info.format.upper()} image cannot be decoded: {e.err}") from None
    if image is None or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
        raise ApiError(422, f"corrupt {info.format.upper()} image: it could not be decoded")
    h, w = image.shape[:2]
    # EXIF orientation may swap the sides; the pixel count must match the header's.
    if h * w != info.pixels:
        raise ApiError(
            422, f"corrupt {info.format.upper()} image: its data does not match its header"
        )
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image)
    return np.ascontiguousarray(image), info


# ------------------------------------------------------------------------ the request


def known_formats() -> tuple[str, ...]:
    """The plate format names the detector can decode under."""
    return tuple(FORMATS)


@dataclass(frozen=True)
class RecognizeQuery:
    formats: tuple[str, ...] = DEFAULT_FORMATS
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # as `detect` and the cameras
    url: str | None = None

    def params(self) -> DetectParams:
        return DetectParams(formats=self.formats, min_confidence=self.min_confidence,
                            max_pixels=PICTURE_MAX_PIXELS)


QUERY_KEYS = ("formats", "min_confidence", "url")


def parse_query(query_string: str) -> RecognizeQuery:
    """Validate `formats=`, `min_confidence=` and `url=`; 400 for anything else."""
    try:
        pairs = urllib.parse.parse_qsl(
            query_string, keep_blank_values=True, strict_parsing=False, max_num_fields=16
        )
    except ValueError as e:
        raise ApiError(400, f"invalid query string: {e}") from None
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key not in QUERY_KEYS:
            raise ApiError(
                400, f"unknown query parameter {key!r}; expected one of {', '.join(QUERY_KEYS)}"
            )
        if key in seen:
            raise ApiError(400, f"query parameter {key!r} given twice")
        seen[key] = value
    given: dict[str, Any] = {}  # the rest keep RecognizeQuery's defaults
    if "formats" in seen:
        names = tuple(dict.fromkeys(f.strip() for f in seen["formats"].split(",") if f.strip()))
        if not names:
            raise ApiError(400, "formats= is empty; give a comma-separated list of plate formats")
        known = known_formats()
        unknown = [f for f in names if f not in known]
        if unknown:
            raise ApiError(
                400, f"unknown plate format {unknown[0]!r}; known formats: {', '.join(known)}"
            )
        given["formats"] = names
    if "min_confidence" in seen:
        try:
            min_conf = float(seen["min_confidence"])
        except ValueError:
            min_conf = math.nan
        if not 0.0 <= min_conf <= 1.0:  # also refuses NaN
            raise ApiError(400, "min_confidence= must be a number from 0 to 1")
        given["min_confidence"] = min_conf
    if "url" in seen:
        if not seen["url"].strip():
            raise ApiError(400, "url= is empty; give the picture's http(s) URL, or leave it out")
        given["url"] = seen["url"]
    return RecognizeQuery(**given)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None) -> str:
    """The media type of a request body, or 415 when it is not one the API takes."""
    mtype = media_type(content_type)
    if not mtype:
        raise ApiError(
            415,
            "missing Content-Type; send image/jpeg, image/png, image/webp, or multipart/form-data "
            f"with the picture in the field {MULTIPART_FIELD!r}",
        )
    if mtype == MULTIPART or mtype in BODY_CONTENT_TYPES:
        return mtype
    raise ApiError(
        415,
        f"unsupported Content-Type {mtype!r}; send image/jpeg, image/png, image/webp, "
        f"or multipart/form-data with the field {MULTIPART_FIELD!r}",
    )


_BOUNDARY_RE = re.compile(r"""boundary=(?:"([^"]{1,200})"|([^;\s]{1,200}))""", re.IGNORECASE)


def extract_multipart_image(body: bytes, content_type: str) -> bytes:
    """The bytes of the form field `image` of a multipart/form-data body."""
    m = _BOUNDARY_RE.search(content_type or "")
    if not m:
        raise ApiError(400, "multipart/form-data without a boundary")
    delimiter = b"--" + (m.group(1) or m.group(2)).encode("latin-1", "replace")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise ApiError(400, "malformed multipart body: no parts")
    header_parser = BytesHeaderParser(policy=HTTP_POLICY)
    # chunks[0] is the preamble; the last chunk starts with "--" (the close delimiter).
    for part in chunks[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        elif part.startswith(b"\n"):
            part = part[1:]
        # The headers end at the first blank line (CRLF or, from lax clients, bare LF).
        ends = [(i, n) for i, n in ((part.find(b"\r\n\r\n"), 4), (part.find(b"\n\n"), 2)) if i >= 0]
        sep, sep_len = min(ends) if ends else (-1, 0)
        if sep < 0:
            raise ApiError(400, "malformed multipart body: a part has no header end")
        try:
            headers = header_parser.parsebytes(part[:sep] + b"\r\n\r\n")
            name = headers.get_param("name", header="content-disposition")
        except Exception:  # noqa: BLE001 - any header garbage is the client's error
            raise ApiError(400, "malformed multipart body: unreadable part headers") from None
        if name != MULTIPART_FIELD:
            continue
        data = part[sep + sep_len :]
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        return data
    raise ApiError(400, f"the multipart form has no field {MULTIPART_FIELD!r}")


# ---------------------------------------------------------------------------- output


def _r(x: float) -> float:
    return round(float(x), 4)


def _align(plate: str, probs: np.ndarray) -> list[int] | None:
    """The positions of `probs` that hold the characters of `plate`, in order.

    A 6-character plate sits in 7 positions with one "no character"; the alignment
    chosen is the one the network finds most probable.
    """
    n_pos = probs.shape[0]
    if not plate or len(plate) > n_pos or any(c not in ALPHABET for c in plate):
        return None
    if len(plate) == n_pos:
        return list(range(n_pos))
    logp = np.log(np.clip(probs.astype(np.float64), 1e-12, 1.0))
    idx = [ALPHABET.index(c) for c in plate]
    best, best_score = None, -math.inf
    for combo in itertools.combinations(range(n_pos), len(plate)):
        chosen = set(combo)
        score = sum(logp[p, k] for p, k in zip(combo, idx, strict=True))
        score += sum(logp[p, BLANK] for p in range(n_pos) if p not in chosen)
        if score > best_score:
            best, best_score = list(combo), score
    return best


def plate_json(read: PlateRead, size: tuple[int, int] | None = None) -> dict[str, Any]:
    """One plate of the answer: text, format, confidence, presence, box, characters.

    For each character: `prob` is the network's probability of that character at its
    position, `runner_up` the most probable other character there (the blank "no
    character" class excluded) and `runner_up_prob` its probability. The reported
    character is decoded under the plate format, so it may differ from the network's
    single favourite (a letter place turns a '0' into an 'O'); then `runner_up_prob`
    is the larger.
    """
    probs = getattr(read, "probs", None)
    positions = None
    if isinstance(probs, np.ndarray) and probs.ndim == 2 and probs.shape[1] == len(ALPHABET) + 1:
        positions = _align(read.plate, probs)
    characters = []
    for i, ch in enumerate(read.plate):
        item: dict[str, Any] = {"char": ch}
        if positions is not None:
            pos = positions[i]
            row = probs[pos, : len(ALPHABET)].astype(np.float64)
            k = ALPHABET.index(ch)
            other = row.copy()
            other[k] = -1.0
            j = int(np.argmax(other))
            item.update(
                position=pos,
                prob=_r(row[k]),
                runner_up=ALPHABET[j],
                runner_up_prob=_r(row[j]),
            )
        else:
            conf = read.char_conf[i] if i < len(read.char_conf) else read.confidence
            item.update(position=i, prob=_r(conf), runner_up=None, runner_up_prob=None)
        characters.append(item)
    box = [int(v) for v in read.box]
    if size is not None:  # within the picture: (width, height)
        w, h = size
        box = [
            min(max(box[0], 0), w),
            min(max(box[1], 0), h),
            min(max(box[2], 0), w),
            min(max(box[3], 0), h),
        ]
    return {
        "plate": read.plate,
        "format": read.format,
        "confidence": _r(read.confidence),
        "presence": _r(read.presence),
        "box": box,
        "characters": characters,
    }


# ------------------------------------------------------------------------ URL fetch


def host_allowed(host: str, port: int | None, allowed: Sequence[str]) -> bool:
    """Whether `host` (and `port`) is on the allow list.

    Entries: `name` (any port), `name:port`, `*.domain` (any subdomain of domain, not
    domain itself), `[v6addr]` or `[v6addr]:port`. Names compare case-insensitively and
    exactly: no DNS is involved in the decision.
    """
    host = host.lower().rstrip(".")
    for entry in allowed:
        e = entry.strip().lower()
        e_port: int | None = None
        if e.startswith("["):
            addr, _, rest = e[1:].partition("]")
            e = addr
            if rest.startswith(":") and rest[1:].isdigit():
                e_port = int(rest[1:])
        elif e.count(":") == 1:
            name, _, p = e.partition(":")
            if not p.isdigit():
                continue
            e, e_port = name, int(p)
        e = e.rstrip(".")
        if e_port is not None and e_port != port:
            continue
        if e.startswith("*."):
            if host.endswith(e[1:]) and len(host) > len(e) - 1:
                return True
        elif e and host == e:
            return True
    return False


REDIRECTS = (301, 302, 303, 307, 308)


def fetch_disabled() -> ApiError:
    return ApiError(
        403,
        "fetching a picture by URL is disabled on this server; post the picture as the "
        "request body (an operator can allow hosts with api.fetch_allowed_hosts)",
    )


class UrlFetcher:
    """GET a picture from an allowed host: bounded redirects, each hop re-checked,
    a deadline over the whole fetch, and the body size limit while reading."""

    def __init__(self, settings: ApiSettings):
        self.settings = settings

    def fetch(self, url: str) -> tuple[bytes, str | None]:
        s = self.settings
        if not s.fetch_allowed_hosts:
            raise fetch_disabled()
        deadline = time.monotonic() + s.fetch_timeout_s
        try:
            for _hop in range(s.fetch_max_redirects + 1):
                result = self._get(url, deadline)
                if isinstance(result, str):
                    url = result  # a redirect, checked on the next hop
                    continue
                return result
        except ApiError:
            raise
        except TimeoutError:
            raise ApiError(504, "timed out fetching the picture's URL") from None
        except ssl.SSLError as e:
            raise ApiError(502, f"TLS error fetching the picture's URL: {e.reason or e}") from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise ApiError(
                502, f"could not fetch the picture's URL: {type(e).__name__}: {e}"
            ) from None
        raise ApiError(
            422, f"too many redirects (more than {s.fetch_max_redirects}) fetching the URL"
        )

    def _get(self, url: str, deadline: float) -> tuple[bytes, str | None] | str:
        s = self.settings
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ApiError(400, "url= must be an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ApiError(400, "url= must not carry credentials")
        host = parts.hostname
        if not host:
            raise ApiError(400, "url= has no host")
        try:
            port = parts.port
        except ValueError:
            raise ApiError(400, "url= has an invalid port") from None
        if not host_allowed(host, port, s.fetch_allowed_hosts):
            raise ApiError(
                403, f"host {host!r} is not on the list of hosts pictures may be fetched from"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(host, port, timeout=remaining)
        # The socket's timeout bounds each read; a server that trickles its headers or
        # chunk sizes a byte at a time would outlast it. At the deadline, cut the socket.
        cutter = threading.Timer(remaining, _cut, (conn,))
        cutter.daemon = True
        cutter.start()
        try:
            return self._request(conn, url, parts, deadline)
        except (OSError, http.client.HTTPException):
            if time.monotonic() >= deadline:
                raise TimeoutError from None
            raise
        finally:
            cutter.cancel()
            conn.close()

    def _request(self, conn: http.client.HTTPConnection, url: str,
                 parts: urllib.parse.SplitResult, deadline: float
                 ) -> tuple[bytes, str | None] | str:
        s = self.settings
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(
            "GET",
            target,
            headers={
                "User-Agent": f"anprd/{__version__}",
                "Accept": ", ".join(IMAGE_CONTENT_TYPES),
                "Accept-Encoding": "identity",
            },
        )
        resp = conn.getresponse()
        if resp.status in REDIRECTS:
            location = resp.getheader("Location")
            if not location:
                raise ApiError(
                    422, f"the URL answered a redirect ({resp.status}) without a Location"
                )
            return urllib.parse.urljoin(url, location.strip())
        if resp.status != 200:
            raise ApiError(422, f"the URL answered HTTP {resp.status}, not a picture")
        length = resp.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > s.max_body_bytes:
            raise ApiError(
                413,
                f"the picture at the URL is larger than the limit of {s.max_body_bytes} bytes",
            )
        buf = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) > s.max_body_bytes:
                raise ApiError(
                    413,
                    f"the picture at the URL is over the limit of {s.max_body_bytes} bytes",
                )
        if time.monotonic() >= deadline:  # the end was the deadline's cut
            raise TimeoutError
        return bytes(buf), resp.getheader("Content-Type")


def _cut(conn: http.client.HTTPConnection) -> None:
    """Wake a read blocked on `conn`'s socket: it ends as if the server had closed."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# ---------------------------------------------------------------------- the service


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
        self.settings = ApiSettings()
        self.in_flight = 0
        self.configure(api_config)

    def configure(self, api_config: Any) -> None:
        """Apply a (re)loaded `api:` section; requests already running keep their slot."""
        settings = ApiSettings.from_config(api_config)
        with self._lock:
            if self._sem is None or settings.max_concurrent != self.settings.max_concurrent:
                self._sem = threading.BoundedSemaphore(settings.max_concurrent)
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
        image, _info = decode_image(data, self.settings.max_pixels)
        detector = self.detector_provider()
        if detector is None:
            raise ApiError(503, "model not loaded yet; retry shortly", {"Retry-After": "5"})
        reads = detector.detect([image], [query.params()])[0]
        ms = (time.perf_counter() - t0) * 1000.0
        h, w = image.shape[:2]
        return {
            "width": int(w),
            "height": int(h),
            "ms": round(ms, 1),
            "plates": [plate_json(r, (int(w), int(h))) for r in reads],
        }


# ---------------------------------------------------------------------- the OpenAPI


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route the HTTP server answers."""
    error = {"$ref": "#/components/schemas/Error"}

    def err(desc: str, extra_headers: dict[str, Any] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "description": desc,
            "content": {"application/json": {"schema": error}},
        }
        if extra_headers:
            out["headers"] = extra_headers
        return out

    retry_after = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    binary = {"type": "string", "format": "binary", "minLength": 1}
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "anprd",
            "version": __version__,
            "description": (
                "Argentine licence plate recognition: the plates in a posted picture as JSON, "
                "plus the daemon's metrics and health checks."
            ),
        },
        "paths": {
            "/v1/recognize": {
                "post": {
                    "operationId": "recognize",
                    "summary": "Read the plates in a picture",
                    "description": (
                        "Send a JPEG, PNG or WebP picture as the body (with its Content-Type) "
                        "or as the multipart form field `image`; or, when the server allows it, "
                        "name it with `url=` and send no body. The pixel count is checked from "
                        "the image header before decoding."
                    ),
                    "security": [{}, {"bearer": []}],
                    "parameters": [
                        {
                            "name": "formats",
                            "in": "query",
                            "required": False,
                            "description": "comma-separated plate formats to decode under "
                            f"(default: all, {','.join(DEFAULT_FORMATS)})",
                            "style": "form",
                            "explode": False,
                            "schema": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"type": "string", "enum": list(known_formats())},
                            },
                        },
                        {
                            "name": "min_confidence",
                            "in": "query",
                            "required": False,
                            "description": "drop readings less confident than this "
                                           "(0 lists every reading)",
                            "schema": {"type": "number", "minimum": 0, "maximum": 1,
                                       "default": RecognizeQuery.min_confidence},
                        },
                        {
                            "name": "url",
                            "in": "query",
                            "required": False,
                            "description": "fetch the picture from this URL (allowed hosts only)",
                            "schema": {"type": "string", "format": "uri"},
                        },
                    ],
                    "requestBody": {
                        "description": "the picture; empty (Content-Length: 0) with url=",
                        "required": True,
                        "content": {
                            "image/jpeg": {"schema": binary},
                            "image/png": {"schema": binary},
                            "image/webp": {"schema": binary},
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": [MULTIPART_FIELD],
                                    "properties": {MULTIPART_FIELD: binary},
                                },
                                "encoding": {
                                    MULTIPART_FIELD: {"contentType": ", ".join(IMAGE_CONTENT_TYPES)}
                                },
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the plates found",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Recognition"}
                                }
                            },
                        },
                        "400": err("bad query, empty body or malformed multipart form"),
                        "401": err(
                            "bearer token missing or wrong",
                            {"WWW-Authenticate": {"schema": {"type": "string"}}},
                        ),
                        "403": err("fetching by URL disabled, or the host is not allowed"),
                        "404": err("the recognition API is disabled on this server"),
                        "405": err("method not allowed", {"Allow": {"schema": {"type": "string"}}}),
                        "408": err("the body did not arrive in time"),
                        "411": err("no Content-Length and not chunked"),
                        "413": err("body (or fetched picture) larger than the limit"),
                        "415": err("not a JPEG, PNG or WebP picture, or unsupported Content-Type"),
                        "422": err("corrupt picture, too many pixels, or the URL gave no picture"),
                        "502": err("the URL's host could not be reached"),
                        "503": err(
                            "too many requests at once, or the model is not loaded yet", retry_after
                        ),
                        "504": err("the URL's host did not answer in time"),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "Liveness: the process answers",
                    "responses": {
                        "200": {
                            "description": "alive",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"status": {"type": "string", "const": "ok"}},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "Readiness: model loaded and the state of every camera",
                    "responses": {
                        "200": {
                            "description": "ready",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Ready"}
                                }
                            },
                        },
                        "503": {
                            "description": "not ready yet",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Ready"}
                                }
                            },
                        },
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "required on /v1/recognize when api.token is set",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Ready": {
                    "type": "object",
                    "required": ["ready"],
                    "properties": {"ready": {"type": "boolean"}},
                    "additionalProperties": True,
                },
                "Recognition": {
                    "type": "object",
                    "required": ["width", "height", "ms", "plates"],
                    "properties": {
                        "width": {"type": "integer", "description": "picture width in pixels"},
                        "height": {"type": "integer", "description": "picture height in pixels"},
                        "ms": {
                            "type": "number",
                            "description": "milliseconds to decode and read it",
                        },
                        "plates": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Plate"},
                        },
                    },
                },
                "Plate": {
                    "type": "object",
                    "required": ["plate", "format", "confidence", "presence", "box", "characters"],
                    "properties": {
                        "plate": {"type": "string", "example": "AB123CD"},
                        "format": {"type": "string", "example": "mercosur_ar"},
                        "confidence": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 1,
                            "description": "probability of the whole reading under its format",
                        },
                        "presence": {
                            "type": "number",
                            "minimum": 0,
                            "maximum": 1,
                            "description": "the detector's plate-present probability",
                        },
                        "box": {
                            "type": "array",
                            "items": {"type": "integer"},
                            "minItems": 4,
                            "maxItems": 4,
                            "description": "x1, y1, x2, y2 in the picture's pixels",
                        },
                        "characters": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Character"},
                        },
                    },
                },
                "Character": {
                    "type": "object",
                    "required": ["char", "position", "prob", "runner_up", "runner_up_prob"],
                    "properties": {
                        "char": {"type": "string", "minLength": 1, "maxLength": 1},
                        "position": {
                            "type": "integer",
                            "description": "the network's position, 0-6",
                        },
                        "prob": {
                            "type": "number",
                            "description": "the network's probability of char there",
                        },
                        "runner_up": {
                            "type": ["string", "null"],
                            "description": "most probable other character",
                        },
                        "runner_up_prob": {"type": ["number", "null"]},
                    },
                },
            },
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
