"""The HTTP server, over real loopback sockets: routes, health, metrics, OpenAPI, and
every limit and error path of POST /v1/recognize. None of these needs the model: the
detector is either absent (503 "model not loaded") or the no-plates stand-in."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from api_helpers import (
    FailingDetector,
    NoPlatesDetector,
    encode,
    multipart,
    post_image,
    raw_exchange,
    read_response,
    request,
    start,
    synthetic_picture,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter

from anprd.api.request import IMAGE_CONTENT_TYPES as IMAGE_TYPES
from anprd.api.server import parse_listen, start_http_server
from anprd.reads import PICTURE_MIN_CONFIDENCE

JPEG = encode(synthetic_picture(), ".jpg")
PNG = encode(synthetic_picture(), ".png")


@pytest.fixture
def no_plates():
    return NoPlatesDetector()


@pytest.fixture
def server(no_plates):
    s = start(no_plates)
    yield s
    s.shutdown()


@pytest.fixture
def make_server():
    servers = []

    def make(*args, **kw):
        s = start(*args, **kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.shutdown()


def assert_json_error(r, status):
    assert r.status == status, (r.status, r.body)
    assert r.headers["content-type"] == "application/json"
    body = r.json
    assert isinstance(body["error"], str) and body["error"]
    return body["error"]


# ------------------------------------------------------------------------- routes


def test_healthz(server):
    r = request(server, "GET", "/healthz")
    assert r.status == 200 and r.json == {"status": "ok"}


def test_head_has_headers_and_no_body(server):
    r = request(server, "HEAD", "/healthz")
    assert r.status == 200 and r.body == b""
    assert int(r.headers["content-length"]) > 0


def test_readyz_follows_ready(make_server):
    state = {"ok": False}

    def ready():
        return state["ok"], {"model": "loading", "cameras": {"gate": "connecting"}}

    s = make_server(None, ready=ready)
    r = request(s, "GET", "/readyz")
    assert r.status == 503
    assert r.json == {"ready": False, "model": "loading", "cameras": {"gate": "connecting"}}
    state["ok"] = True
    r = request(s, "GET", "/readyz")
    assert (
        r.status == 200 and r.json["ready"] is True and r.json["cameras"] == {"gate": "connecting"}
    )


def test_readyz_when_the_check_itself_fails(make_server):
    def ready():
        raise RuntimeError("boom")

    s = make_server(None, ready=ready)
    r = request(s, "GET", "/readyz")
    assert r.status == 503 and r.json["ready"] is False
    assert "boom" not in r.body.decode()


def test_metrics_serves_the_registry(make_server, no_plates):
    registry = CollectorRegistry()
    c = Counter("anprd_frames_decoded", "frames", ["camera"], registry=registry)
    c.labels("gate").inc(3)
    s = make_server(no_plates, registry=registry)
    post_image(s, JPEG)
    request(s, "GET", "/nope")
    r = request(s, "GET", "/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.body.decode()
    assert 'anprd_frames_decoded_total{camera="gate"} 3.0' in text
    assert 'anprd_http_requests_total{code="200",route="/v1/recognize"} 1.0' in text
    assert 'anprd_http_requests_total{code="404",route="other"} 1.0' in text
    assert "anprd_recognize_seconds_count 1.0" in text


def test_restart_on_the_same_registry(no_plates):
    # The daemon may restart its server (config reload) on the same registry.
    registry = CollectorRegistry()
    for _ in range(2):
        s = start(no_plates, registry=registry)
        assert request(s, "GET", "/healthz").status == 200
        s.shutdown()
        s.shutdown()  # idempotent


def test_openapi_describes_every_route(server):
    r = request(server, "GET", "/openapi.json")
    assert r.status == 200
    doc = r.json
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/v1/recognize",
        "/metrics",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/cameras",
        "/camera/{name}/frame.jpg",
        "/events",
        "/events/stream",
    }  # the page, its files and the snapshots are for the browser, not for clients
    post = doc["paths"]["/v1/recognize"]["post"]
    assert {"image/jpeg", "image/png", "image/webp", "multipart/form-data"} <= set(
        post["requestBody"]["content"]
    )
    for code in ("200", "401", "413", "415", "422", "503"):
        assert code in post["responses"]
    # Every $ref resolves.
    refs = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "$ref":
                    refs.append(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    assert refs
    for ref in refs:
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]


def test_unknown_route_is_404(server):
    assert_json_error(request(server, "GET", "/v2/recognize"), 404)
    assert_json_error(request(server, "POST", "/v1/nope", b"x", {"Content-Type": "image/png"}), 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v1/recognize", "POST"),
        ("PUT", "/v1/recognize", "POST"),
        ("POST", "/metrics", "GET, HEAD"),
        ("DELETE", "/healthz", "GET, HEAD"),
        ("BREW", "/readyz", "GET, HEAD"),  # unknown methods too: 405, not 501
    ],
)
def test_wrong_method_is_405_with_allow(server, method, path, allow):
    r = request(server, method, path)
    assert_json_error(r, 405)
    assert sorted(r.headers["allow"].split(", ")) == sorted(allow.split(", "))


def test_http2_request_line_is_a_client_error(server):
    r = raw_exchange(server.port, b"GET /healthz HTTP/2.0\r\n\r\n")
    assert r is not None and r.status == 400


def test_http09_is_refused_with_a_status_line(server):
    r = raw_exchange(server.port, b"GET /healthz\r\n\r\n")
    assert r is not None and r.status == 400


def test_api_disabled_is_404(make_server, no_plates):
    s = make_server(no_plates, api={"enabled": False})
    assert "disabled" in assert_json_error(post_image(s, JPEG), 404)
    assert request(s, "GET", "/healthz").status == 200


def test_keep_alive_serves_several_requests_on_one_connection(server):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for _ in range(3):
        conn.request("POST", "/v1/recognize", body=JPEG, headers={"Content-Type": "image/jpeg"})
        r = conn.getresponse()
        assert r.status == 200
        r.read()
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        assert r.status == 200
        r.read()
    conn.close()


def test_parse_listen():
    assert parse_listen("127.0.0.1:9108") == ("127.0.0.1", 9108, socket.AF_INET)
    assert parse_listen(":9108")[:2] == ("0.0.0.0", 9108)
    assert parse_listen("[::1]:0") == ("::1", 0, socket.AF_INET6)
    for bad in ("9108", "host:port", "::1:9108", "[::1]9108", "1.2.3.4:70000"):
        with pytest.raises(ValueError):
            parse_listen(bad)


def test_listen_address_in_use_raises(server):
    with pytest.raises(OSError):
        start_http_server(
            f"127.0.0.1:{server.port}", CollectorRegistry(), lambda: (True, {}), lambda: None
        )


# ------------------------------------------------------------------ recognize basics


def test_recognize_jpeg_png_webp_body(server, no_plates):
    img = synthetic_picture(321, 123)
    for data, ctype in [
        (encode(img, ".jpg"), "image/jpeg"),
        (encode(img, ".png"), "image/png"),
        (encode(img, ".webp", 1, 101), "image/webp"),  # lossless
        (encode(img, ".webp"), "image/webp"),
        (encode(img, ".png"), "application/octet-stream"),
    ]:
        r = post_image(server, data, ctype)
        assert r.status == 200, r.body
        body = r.json
        assert (body["width"], body["height"], body["plates"]) == (321, 123, [])
        assert isinstance(body["ms"], float | int) and body["ms"] >= 0
    # The detector got the decoded BGR picture: exact for the lossless formats.
    images = [c[0][0] for c in no_plates.calls]
    assert all(im.shape == (123, 321, 3) and im.dtype.name == "uint8" for im in images)
    assert (images[1] == img).all() and (images[2] == img).all()


class ScriptedDetector:
    """Answers one fixed read for any picture: checks the JSON shape of a plate, not
    recognition."""

    def __init__(self, read):
        self.read = read

    def detect(self, images, params):
        return [[self.read] for _ in images]


def test_recognize_answer_shape(make_server):
    import numpy as np

    from anprd.reads import ALPHABET, N_CLASSES, PlateRead

    probs = np.full((7, N_CLASSES), 0.01, np.float32)
    for pos, ch in enumerate("AB123CD"):
        probs[pos, ALPHABET.index(ch)] = 0.6
    read = PlateRead("AB123CD", "mercosur_ar", 0.7, 0.95, (5, 6, 70, 30), (0.6,) * 7, probs)
    s = make_server(ScriptedDetector(read))
    r = post_image(s, JPEG)
    assert r.status == 200
    (plate,) = r.json["plates"]
    schema = request(s, "GET", "/openapi.json").json["components"]["schemas"]
    assert set(plate) == set(schema["Plate"]["required"])
    assert plate["plate"] == "AB123CD" and plate["box"] == [5, 6, 70, 30]
    assert plate["confidence"] == 0.7 and plate["presence"] == 0.95
    for c in plate["characters"]:
        assert set(c) == set(schema["Character"]["required"])
        assert c["prob"] == 0.6 and c["runner_up_prob"] == 0.01


def test_recognize_passes_formats_and_min_confidence(server, no_plates):
    r = post_image(server, JPEG, query="formats=legacy_ar&min_confidence=0.75")
    assert r.status == 200
    params = no_plates.calls[-1][1][0]
    assert params.formats == ("legacy_ar",) and params.min_confidence == 0.75
    r = post_image(server, JPEG)
    params = no_plates.calls[-1][1][0]
    assert set(params.formats) == {"mercosur_ar", "legacy_ar"}
    assert params.min_confidence == PICTURE_MIN_CONFIDENCE


def test_recognize_multipart(server, no_plates):
    body, ctype = multipart(
        [("note", None, b"hello", None), ("image", "car.png", PNG, "image/png")]
    )
    r = post_image(server, body, ctype)
    assert r.status == 200, r.body
    assert (r.json["width"], r.json["height"]) == (320, 200)
    body, ctype = multipart([("picture", "car.png", PNG, "image/png")])
    assert "image" in assert_json_error(post_image(server, body, ctype), 400)
    assert_json_error(post_image(server, b"garbage", "multipart/form-data"), 400)


def test_recognize_chunked_body(server):
    def chunks():
        for i in range(0, len(JPEG), 1000):
            yield JPEG[i : i + 1000]

    r = request(
        server,
        "POST",
        "/v1/recognize",
        chunks(),
        {"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    assert r.status == 200 and r.json["width"] == 320


@pytest.mark.parametrize(
    "query",
    [
        "min_confidence=2",
        "min_confidence=nan",
        "min_confidence=abc",
        "formats=qatar_plates",
        "formats=",
        "color=red",
        "formats=legacy_ar&formats=mercosur_ar",
    ],
)
def test_bad_query_is_400(server, query):
    assert_json_error(post_image(server, JPEG, query=query), 400)


# ------------------------------------------------------------------------- limits


def test_model_not_loaded_is_503(make_server):
    s = make_server(None)
    r = post_image(s, JPEG)
    assert "model not loaded" in assert_json_error(r, 503)
    assert r.headers["retry-after"].isdigit()


def test_body_too_large_refused_from_content_length_before_reading(make_server, no_plates):
    s = make_server(no_plates, api={"max_body_bytes": 10_000})
    # The headers promise 50 MB; the refusal comes without a byte of body sent.
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            b"Content-Length: 50000000\r\n\r\n"
        )
        r = read_response(sock, "POST")
    assert r is not None
    assert "limit" in assert_json_error(r, 413)
    assert r.headers["connection"] == "close"
    assert no_plates.calls == []


def test_expect_100_continue_is_refused_without_the_upload(make_server, no_plates):
    s = make_server(no_plates, api={"max_body_bytes": 10_000})
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            b"Expect: 100-continue\r\nContent-Length: 50000000\r\n\r\n"
        )
        r = read_response(sock, "POST")
    assert r is not None and r.status == 413  # no "100 Continue" first


def test_expect_100_continue_accepted(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(JPEG)
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(JPEG)
        r = read_response(sock, "POST")
    assert r is not None and r.status == 200


def test_body_too_large_while_reading_chunked(make_server, no_plates):
    s = make_server(no_plates, api={"max_body_bytes": 10_000})

    def chunks():
        for _ in range(50):
            yield b"\xff" * 1000

    r = request(
        s,
        "POST",
        "/v1/recognize",
        chunks(),
        {"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    assert_json_error(r, 413)
    assert no_plates.calls == []
    assert request(s, "GET", "/healthz").status == 200


def test_length_required(server):
    r = raw_exchange(
        server.port,
        b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n\r\n",
        method="POST",
    )
    assert r is not None
    assert_json_error(r, 411)


@pytest.mark.parametrize(
    "headers",
    [
        b"Content-Length: 12\r\nContent-Length: 13\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: 1e3\r\n",
        b"Content-Length: 10\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
    ],
)
def test_bad_framing_is_400(server, headers):
    r = raw_exchange(
        server.port,
        b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        + headers
        + b"\r\n",
        method="POST",
    )
    assert r is not None
    assert_json_error(r, 400)


def test_malformed_chunked_is_400(server):
    r = raw_exchange(
        server.port,
        b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        method="POST",
    )
    assert r is not None
    assert_json_error(r, 400)


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (b"hello, not a picture", "text/plain"),
        (JPEG, "text/plain"),
        (JPEG, "application/json"),
        (b"hello, not a picture", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/png"),
        (encode(synthetic_picture(), ".bmp"), "image/png"),
    ],
)
def test_not_an_image_is_415(server, data, ctype):
    assert_json_error(post_image(server, data, ctype), 415)


def test_missing_content_type_is_415(server):
    r = request(server, "POST", "/v1/recognize", JPEG, {"Content-Type": ""})
    assert_json_error(r, 415)


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (PNG[: len(PNG) // 2], "image/png"),  # header fine, data cut
        (PNG[:20], "image/png"),  # header cut
        (b"\xff\xd8\xff\xd9", "image/jpeg"),  # no frame header
        (b"\xff\xd8" + b"\x00" * 100, "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "image/webp"),
        (JPEG[:300] + b"\x00" * 300, "image/jpeg"),  # header fine, garbage data
    ],
)
def test_corrupt_image_is_422(server, data, ctype):
    r = post_image(server, data, ctype)
    assert r.status in (415, 422), r.body
    assert_json_error(r, 422)


def test_too_many_pixels_checked_from_the_header(make_server, no_plates):
    s = make_server(no_plates, api={"max_pixels": 100 * 100})
    img = synthetic_picture(101, 100)
    for data, ctype in [
        (encode(img, ".jpg"), "image/jpeg"),
        (encode(img, ".png"), "image/png"),
        (encode(img, ".webp"), "image/webp"),
    ]:
        msg = assert_json_error(post_image(s, data, ctype), 422)
        assert "101x100" in msg and "pixels" in msg
    # A PNG header claiming 100000 x 100000 followed by nothing decodable: the size is
    # refused from the header (a decoder would have failed, or allocated 30 GB).
    bomb = PNG[:16] + (100_000).to_bytes(4, "big") * 2 + PNG[24:200]
    assert "100000x100000" in assert_json_error(post_image(s, bomb, "image/png"), 422)
    assert no_plates.calls == []
    assert post_image(s, encode(synthetic_picture(100, 100), ".png"), "image/png").status == 200


def test_too_many_at_once_is_503_with_retry_after(make_server, no_plates):
    s = make_server(no_plates, api={"max_concurrent": 1})
    # A first request holds the only slot while its body is still arriving.
    slow = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    slow.sendall(
        b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
        b"Content-Length: %d\r\n\r\n" % len(JPEG) + JPEG[:100]
    )
    deadline = time.monotonic() + 5
    while s.service.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.service.in_flight == 1
    t0 = time.monotonic()
    r = post_image(s, JPEG)
    assert time.monotonic() - t0 < 2  # answered at once, not queued
    assert "at once" in assert_json_error(r, 503)
    assert int(r.headers["retry-after"]) >= 1
    slow.sendall(JPEG[100:])
    first = read_response(slow, "POST")
    slow.close()
    assert first is not None and first.status == 200
    assert post_image(s, JPEG).status == 200  # the slot is free again


def test_concurrent_requests_within_the_limit_all_succeed(make_server, no_plates):
    s = make_server(no_plates, api={"max_concurrent": 8})
    results = []

    def worker():
        results.append(post_image(s, JPEG).status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8


def test_bearer_token(make_server, no_plates):
    s = make_server(no_plates, api={"token": "s3cret-token"})
    r = post_image(s, JPEG)
    assert "token" in assert_json_error(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert_json_error(post_image(s, JPEG, Authorization="Bearer wrong"), 401)
    assert_json_error(post_image(s, JPEG, Authorization="Basic s3cret-token"), 401)
    assert_json_error(post_image(s, JPEG, Authorization="Bearer s3cret-token-and-more"), 401)
    assert no_plates.calls == []
    assert post_image(s, JPEG, Authorization="Bearer s3cret-token").status == 200
    assert post_image(s, JPEG, Authorization="bearer  s3cret-token").status == 200
    # Health, readiness and metrics stay open for probes and Prometheus.
    assert request(s, "GET", "/healthz").status == 200
    assert request(s, "GET", "/metrics").status == 200


def test_token_checked_before_the_body_is_read(make_server):
    s = make_server(NoPlatesDetector(), api={"token": "t"})
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            b"Content-Length: 5000000\r\n\r\n"
        )
        r = read_response(sock, "POST")
    assert r is not None and r.status == 401


def test_slow_body_times_out_with_408(make_server, no_plates):
    s = make_server(no_plates, api={"request_timeout_s": 0.5})
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            b"Content-Length: 1000\r\n\r\nabc"
        )
        r = read_response(sock, "POST")
    assert r is not None and r.status == 408
    assert s.service.in_flight == 0


def test_connection_cap(make_server, no_plates):
    s = make_server(no_plates, api={"max_connections": 4})
    idle = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(4)]
    try:
        time.sleep(0.2)
        # The API's slots are full: the API is refused, health and metrics still answer.
        r = raw_exchange(s.port, b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r is not None and r.status == 503 and r.headers["retry-after"] == "1"
        r = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r is not None and r.status == 200
        more = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(8)]
        time.sleep(0.2)
        r = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r is not None and r.status == 200  # in the place of an idle reserved one
        for sock in more:
            sock.close()
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if r is not None and r.status == 200:
            break
        time.sleep(0.05)
    assert r is not None and r.status == 200


def test_trickling_clients_are_cut_off_and_health_answers_meanwhile(make_server, no_plates):
    s = make_server(no_plates, api={"request_timeout_s": 1.5, "max_connections": 64})
    socks = []
    for _ in range(64):
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(b"POST /v1/recognize HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    try:
        t0 = time.monotonic()
        answers = []
        while time.monotonic() - t0 < 2.0:  # a byte every 0.3 s: never idle long enough
            for sock in socks:
                try:
                    sock.sendall(b"X")
                except OSError:
                    pass
            answers += [request(s, "GET", path).status for path in ("/healthz", "/metrics")]
            time.sleep(0.3)
        assert answers and all(a == 200 for a in answers), answers
        # Each trickler was closed at its deadline (1.5 s and a grace), not served forever.
        socks[0].settimeout(5)
        closed = False
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not closed:
            try:
                closed = socks[0].recv(4096) == b""
            except (ConnectionResetError, TimeoutError):
                closed = True
        assert closed
        assert time.monotonic() - t0 < 6
    finally:
        for sock in socks:
            sock.close()


def test_one_client_cannot_take_every_connection(make_server, no_plates):
    s = make_server(no_plates, api={"max_connections": 8, "max_connections_per_client": 3})
    held = [socket.create_connection(("127.0.0.1", s.port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.2)
        r = raw_exchange(s.port, b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert r is not None and r.status == 503  # a fourth from the same address
    finally:
        for sock in held:
            sock.close()


def test_internal_error_is_500_json_without_details(make_server, caplog):
    s = make_server(FailingDetector())
    with caplog.at_level("ERROR", logger="anprd.http"):
        r = post_image(s, JPEG)
    msg = assert_json_error(r, 500)
    assert "secret-internal-detail" not in r.body.decode() and "Traceback" not in r.body.decode()
    assert "internal error" in msg
    assert any("secret-internal-detail" in rec.exc_text for rec in caplog.records if rec.exc_text)
    assert request(s, "GET", "/healthz").status == 200


def test_reconfigure_applies_new_limits(server):
    assert post_image(server, JPEG).status == 200
    server.configure({"token": "new", "max_pixels": 10})
    assert post_image(server, JPEG).status == 401
    assert post_image(server, JPEG, Authorization="Bearer new").status == 422


# ---------------------------------------------------------- property-based malformed


SAFE_STATUSES = {200, 400, 401, 404, 405, 408, 411, 413, 414, 415, 422, 431}


@pytest.fixture(scope="module")
def fuzz_server():
    s = start(NoPlatesDetector(), api={"max_body_bytes": 200_000, "request_timeout_s": 2})
    yield s
    s.shutdown()


def _still_serving(s):
    r = request(s, "GET", "/healthz", timeout=5)
    assert r.status == 200


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.binary(min_size=1, max_size=600))
def test_fuzz_raw_bytes_never_5xx(fuzz_server, data):
    # Arbitrary bytes then end of input: whatever the server makes of it, no 5xx.
    with socket.create_connection(("127.0.0.1", fuzz_server.port), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        r = read_response(sock)
    if r is not None:
        assert r.status < 500, (data, r.status, r.body)
    _still_serving(fuzz_server)


_token = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=20,
)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT", "OPTIONS", "PATCH", "XYZ"]),
    path=st.one_of(
        st.sampled_from(["/v1/recognize", "/metrics", "/healthz", "/readyz", "/openapi.json"]),
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40).map(
            lambda p: "/" + p
        ),
    ),
    query=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=60),
    headers=st.lists(st.tuples(_token, _token), max_size=6),
    ctype=st.sampled_from(
        [
            "image/jpeg",
            "image/png",
            "image/webp",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "text/plain",
            "",
            "image/png; charset=\x7f",
        ]
    ),
    body=st.binary(max_size=2000),
    chunked=st.booleans(),
)
def test_fuzz_requests_never_5xx(fuzz_server, method, path, query, headers, ctype, body, chunked):
    head = f"{method} {path}{'?' + query if query else ''} HTTP/1.1\r\nHost: x\r\n"
    for k, v in headers:
        head += f"{k}: {v}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    if chunked:
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
        head += "Transfer-Encoding: chunked\r\n"
    else:
        payload = body
        head += f"Content-Length: {len(body)}\r\n"
    head += "Connection: close\r\n\r\n"
    r = raw_exchange(fuzz_server.port, head.encode("latin-1") + payload, method=method)
    assert r is not None
    assert r.status in SAFE_STATUSES, (r.status, r.body)
    if r.status >= 400 and method != "HEAD":
        assert "error" in json.loads(r.body)
    _still_serving(fuzz_server)


_SEEDS = [
    (JPEG, "image/jpeg"),
    (PNG, "image/png"),
    (encode(synthetic_picture(), ".webp"), "image/webp"),
    (encode(synthetic_picture(), ".webp", 1, 101), "image/webp"),
]


@FUZZ
@given(
    seed=st.sampled_from(_SEEDS),
    cut=st.integers(0, 100_000),
    flips=st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 255)), max_size=8),
)
def test_fuzz_mutated_pictures_never_5xx(fuzz_server, seed, cut, flips):
    data, ctype = seed
    buf = bytearray(data[: max(1, cut % (len(data) + 1))])
    for pos, val in flips:
        buf[pos % len(buf)] = val
    r = post_image(fuzz_server, bytes(buf), ctype)
    assert r.status in (200, 400, 415, 422), (r.status, r.body)
    _still_serving(fuzz_server)


# ------------------------------------------------ schema-driven (Schemathesis)

try:
    import schemathesis
except ImportError:  # pragma: no cover - it is in the `test` extra
    schemathesis = None


def _pictures():
    """What a client sends as image/*: a real picture (a schema cannot say "a JPEG"),
    of a drawn size and content, in any of the three formats."""

    @st.composite
    def picture(draw):
        w, h = draw(st.integers(16, 160)), draw(st.integers(16, 120))  # within the limit
        seed = draw(st.integers(0, 2**16))
        ext = draw(st.sampled_from([".jpg", ".png", ".webp"]))
        return encode(synthetic_picture(w, h, seed), ext)

    return picture()


@pytest.fixture(scope="module")
def live_fuzz_server(tmp_path_factory):
    from anprd.output.live import LiveView

    folder = tmp_path_factory.mktemp("live")
    events = folder / "events.jsonl"
    events.write_text(json.dumps({
        "id": "01", "camera": "gate", "plate": "AE418KT", "format": "mercosur_ar",
        "confidence": 0.97, "first_seen": "2026-12-07T10:00:00.000Z",
        "last_seen": "2026-12-07T10:00:02.000Z", "reads": 4, "box": [1, 2, 30, 12],
        "snapshot": None, "snapshot_crop": None, "list": None, "label": None,
        "matched_plate": None, "distance": None}) + "\n")
    states = [{"name": "gate", "state": "up", "since": "2026-12-07T10:00:00.000Z",
               "url": "rtsp://cam/x", "last_error": None, "sample_fps": 5.0, "sampled": 3,
               "dropped": 0}]
    live = LiveView(lambda: [dict(x) for x in states], events, folder)
    live.frame("gate", synthetic_picture(), [])
    s = start(NoPlatesDetector(), api={"max_body_bytes": 200_000, "request_timeout_s": 2},
              live=live)
    yield s
    s.shutdown()


@pytest.mark.skipif(schemathesis is None, reason="schemathesis not installed")
@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("kind", ["api", "daemon"])
def test_schemathesis_against_openapi(fuzz_server, live_fuzz_server, mode, kind):
    """Requests generated from /openapi.json, valid and invalid, with every check
    Schemathesis has: no 5xx; every status, content type, header and body as documented;
    valid requests accepted and invalid ones refused; 405 with Allow for other methods.
    Against the API alone and with a daemon's live view (whose event stream never ends,
    so it is read by test_live_api instead)."""
    from hypothesis.errors import Unsatisfiable

    server = fuzz_server if kind == "api" else live_fuzz_server
    for media in IMAGE_TYPES:
        schemathesis.openapi.media_type(media, _pictures())
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    generation_mode = schemathesis.GenerationMode(mode)
    seen = []
    for result in schema.get_all_operations():
        op = result.ok()
        if kind == "daemon" and op.path == "/events/stream":
            continue

        @given(case=op.as_strategy(generation_mode=generation_mode))
        @settings(
            max_examples=60 if op.path == "/v1/recognize" else 10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            seen.append(case.call_and_validate(base_url=server.url).status_code)

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid in an operation without inputs
            assert mode == "negative"
    assert seen and max(seen) < 500
    _still_serving(server)


def test_concurrent_requests_share_a_memory_budget(make_server, no_plates):
    from anprd.api.recognize import request_cost

    one = request_cost(640 * 480)
    s = make_server(no_plates, api={"memory_budget_bytes": one + one // 2})
    assert post_image(s, JPEG).status == 200
    with s.service.budget.hold(one, s.service.too_busy()):  # another request holds it
        r = post_image(s, JPEG)
        assert_json_error(r, 503)
        assert r.headers["retry-after"] == "1"
    assert post_image(s, JPEG).status == 200
    s.configure({"memory_budget_bytes": one // 2})
    assert "budget" in assert_json_error(post_image(s, JPEG), 422)
