"""Shared by tests/test_http.py and tests/test_recognize_api.py: a real server on
loopback, a small HTTP client that shows status, headers and body as sent, test
pictures, and the no-plates stand-in detector for the limit tests."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from prometheus_client import CollectorRegistry

from anprd.api.server import start_http_server
from anprd.reads import DetectParams, PlateRead

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ANPRD_SHARED", Path(__file__).resolve().parents[2] / "shared"))
SCENES = SHARED / "realdata" / "scenes"
WEIGHTS = Path(os.environ.get("ANPRD_WEIGHTS", REPO / "weights" / "anprd.keras"))


class NoPlatesDetector:
    """A stand-in for the limit, header and error-path tests only: it finds no plate
    and records what it was asked. Never used to assert anything about recognition."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[np.ndarray], list[DetectParams]]] = []
        self.lock = threading.Lock()

    def detect(
        self, images: Sequence[np.ndarray], params: Sequence[DetectParams]
    ) -> list[list[PlateRead]]:
        with self.lock:
            self.calls.append((list(images), list(params)))
        return [[] for _ in images]


class FailingDetector:
    """A detector with a bug: every call raises, with a detail that must not leak."""

    def detect(self, images: Sequence[np.ndarray], params: Sequence[DetectParams]) -> list:
        raise RuntimeError("secret-internal-detail")


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def request(
    server: Any,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
    encode_chunked: bool = False,
) -> Resp:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=encode_chunked)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data, r.getheaders())
    finally:
        conn.close()


def post_image(server: Any, data: bytes, content_type: str = "image/jpeg", query: str = "", **kw):
    path = "/v1/recognize" + (f"?{query}" if query else "")
    return request(server, "POST", path, data, {"Content-Type": content_type, **kw})


def raw_exchange(port: int, data: bytes, timeout: float = 10, method: str = "GET") -> Resp | None:
    """Send raw bytes and parse one response; None when the server closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        return read_response(s, method)


def read_response(sock: socket.socket, method: str = "GET") -> Resp | None:
    r = http.client.HTTPResponse(sock, method=method)
    try:
        r.begin()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return None
    try:
        body = r.read()
    except (http.client.IncompleteRead, ConnectionResetError) as e:
        body = getattr(e, "partial", b"")
    return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, body, r.getheaders())


def multipart(fields: list[tuple[str, str | None, bytes, str | None]], boundary: str = "b0undary"):
    """(body, content type) of a multipart/form-data form: (name, filename, data, type)."""
    out = b""
    for name, filename, data, ctype in fields:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n".encode()
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def synthetic_picture(w: int = 320, h: int = 200, seed: int = 0) -> np.ndarray:
    """A small BGR picture with some structure (not a plate)."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 90, np.uint8)
    img[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = (230, 230, 230)
    noise = rng.integers(0, 30, size=(h, w, 3), dtype=np.uint8)
    return cv2.add(img, noise)


def encode(img: np.ndarray, ext: str, *params: int) -> bytes:
    ok, buf = cv2.imencode(ext, img, list(params))
    assert ok
    return buf.tobytes()


def start(
    provider: Any = None,
    api: dict | None = None,
    ready: Any = None,
    registry: CollectorRegistry | None = None,
    **server_kw: Any,
):
    """A real server on a free loopback port. `provider` is a detector or a callable."""
    if provider is None or not callable(provider):
        det = provider

        def provider_fn():
            return det
    else:
        provider_fn = provider
    return start_http_server(
        "127.0.0.1:0",
        registry or CollectorRegistry(),
        ready or (lambda: (True, {"model": {"loaded": True}, "cameras": {}, "sinks": {}})),
        provider_fn,
        api,
        **server_kw,
    )
