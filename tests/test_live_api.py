"""The live page's endpoints over real HTTP: /cameras, /camera/<name>/frame.jpg, /events
(search), /events/stream (Server-Sent Events), /snapshots, and the page's token."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from anprd.api.token_file import TokenFileError, read_token_file
from anprd.output.event_search import EventQuery, one_off, plate_matches, search_events
from anprd.output.live import LiveView
from tests.api_helpers import encode, post_image, request, start, synthetic_picture
from tests.daemon_helpers import free_port, wait_until
from tests.test_daemon import DaemonProcess, camera, get_json, write_config

TOKEN = "a-page-token-of-enough-length"


def _event(i: int, plate: str, camera_name: str = "gate", day: str = "2026-12-07") -> dict:
    return {"id": f"{i:032x}", "camera": camera_name, "plate": plate, "format": "mercosur_ar",
            "confidence": 0.9, "first_seen": f"{day}T10:{i % 60:02d}:00.000Z",
            "last_seen": f"{day}T10:{i % 60:02d}:01.000Z", "reads": 3, "box": [1, 2, 3, 4],
            "snapshot": None, "snapshot_crop": None, "list": None, "label": None,
            "matched_plate": None, "distance": None}


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(_event(i, p)) for i, p in
             enumerate(["AE418KT", "GHP372", "AE418KT", "AB123CD", "GHP371"])]
    lines.append(json.dumps(_event(9, "AE418KT", "exit", "2026-12-08")))
    path.write_text("\n".join(lines) + "\n" + '{"torn": ')
    return path


def test_plate_matching():
    assert one_off("AE418KT", "AE418KI") and one_off("AE418KT", "AE418T")
    assert one_off("GHP372", "GHP3722") and not one_off("GHP372", "GHP381")
    assert plate_matches("AE4", "AE418KT") and plate_matches("AE418KI", "AE418KT")
    assert not plate_matches("AF4", "AE418KT")


def test_search_newest_first_paged_and_filtered(events_file):
    found = search_events(events_file, EventQuery(plate="AE418KT", limit=2))
    assert [e["id"][-1] for e in found["events"]] == ["9", "2"]
    assert found["total"] == 3 and found["next_offset"] == 2
    rest = search_events(events_file, EventQuery(plate="AE418KT", limit=2, offset=2))
    assert [e["id"][-1] for e in rest["events"]] == ["0"] and rest["next_offset"] is None
    assert search_events(events_file, EventQuery(camera="exit"))["total"] == 1
    t = 1796637600.0 + 60 * 1  # 2026-12-07T10:01:00Z
    window = search_events(events_file, EventQuery(since=t, until=t + 120))
    assert [e["plate"] for e in window["events"]] == ["AE418KT", "GHP372"]
    assert search_events(events_file.with_name("none.jsonl"), EventQuery())["total"] == 0


def _live(tmp_path: Path, events: Path) -> LiveView:
    states = [{"name": "gate", "state": "up", "since": "2026-12-07T10:00:00.000Z",
               "url": "rtsp://cam/x", "last_error": None, "sample_fps": 5.0,
               "sampled": 10, "dropped": 1}]
    return LiveView(lambda: [dict(s) for s in states], events, tmp_path / "snapshots")


@pytest.fixture
def live_server(tmp_path, events_file):
    live = _live(tmp_path, events_file)
    s = start(None, live=live)
    yield s, live
    s.shutdown()


def test_cameras_and_frames(live_server):
    s, live = live_server
    r = request(s, "GET", "/cameras")
    assert r.status == 200 and json.loads(r.body)["cameras"][0]["name"] == "gate"
    assert request(s, "GET", "/camera/gate/frame.jpg").status == 503  # none yet
    assert request(s, "GET", "/camera/nope/frame.jpg").status == 404
    image = np.full((720, 1280, 3), 90, np.uint8)
    read = SimpleNamespace(plate="AE418KT", box=(100, 500, 300, 560))
    live.frame("gate", image, [read], ((0, 0), (1279, 0), (1279, 719)))
    r = request(s, "GET", "/camera/gate/frame.jpg")
    assert r.status == 200 and r.headers["content-type"] == "image/jpeg"
    shown = cv2.imdecode(np.frombuffer(r.body, np.uint8), cv2.IMREAD_COLOR)
    assert shown.shape == (540, 960, 3)  # shrunk for the page
    assert shown[375:420, 75:76, 1].max() > 200  # the box is drawn, in green


def test_events_endpoint_and_its_refusals(live_server):
    s, _live_view = live_server
    body = json.loads(request(s, "GET", "/events?plate=ghp37z&limit=5").body)
    assert {e["plate"] for e in body["events"]} == {"GHP372", "GHP371"}
    for query in ("limit=0", "limit=x", "since=yesterday", "colour=red", "limit=1&limit=2"):
        r = request(s, "GET", "/events?" + query)
        assert r.status == 400 and "error" in json.loads(r.body), query


def test_event_stream_sends_cameras_and_each_event(live_server):
    s, live = live_server
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as sock:
        sock.sendall(b"GET /events/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = b""
        deadline = time.time() + 5
        while b"event: cameras" not in buf and time.time() < deadline:
            buf += sock.recv(65536)
        assert b"text/event-stream" in buf and b"event: recent" in buf
        live.event(_event(30, "AA176YX"))
        while b"AA176YX" not in buf and time.time() < deadline:
            buf += sock.recv(65536)
        assert b"event: plate" in buf and b"AA176YX" in buf


def test_token_file_guards_everything_but_health_and_the_page_shell(tmp_path, events_file):
    s = start(None, live=_live(tmp_path, events_file), token=lambda: TOKEN)
    try:
        for path in ("/metrics", "/readyz", "/cameras", "/events", "/openapi.json",
                     "/events/stream", "/camera/gate/frame.jpg"):
            r = request(s, "GET", path)
            assert r.status == 401 and r.headers["www-authenticate"].startswith("Bearer"), path
        assert request(s, "GET", "/healthz").status == 200
        assert request(s, "GET", "/").status == 200  # the shell, which asks for the token
        assert post_image(s, encode(synthetic_picture(), ".jpg")).status == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert request(s, "GET", "/cameras", headers=auth).status == 200
        assert request(s, "GET", f"/cameras?access_token={TOKEN}").status == 200
        assert request(s, "GET", "/cameras?access_token=wrong").status == 401
    finally:
        s.shutdown()


def test_token_file_problems_are_named(tmp_path):
    with pytest.raises(TokenFileError, match="no such file"):
        read_token_file(tmp_path / "missing")
    (tmp_path / "short").write_text("abc\n")
    with pytest.raises(TokenFileError, match="at least 16"):
        read_token_file(tmp_path / "short")
    (tmp_path / "ok").write_text(f"  {TOKEN}\n")
    assert read_token_file(tmp_path / "ok") == TOKEN


def test_the_daemon_page_never_shows_camera_passwords(tmp_path, processes):
    port = free_port()
    cfg = write_config(tmp_path / "anprd.yaml", [
        camera("door", "rtsp://admin:s3cret-pass@127.0.0.1:1/stream", reconnect_max_s=1)],
        port=port)
    d = DaemonProcess(cfg)
    processes.append(d)
    assert wait_until(lambda: "HTTP listening" in d.log, 20), d.log
    status, cams = get_json(f"http://127.0.0.1:{port}/cameras")
    assert status == 200 and cams["cameras"][0]["name"] == "door"
    for path in ("/cameras", "/readyz", "/", "/static/page.js"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
        assert "s3cret" not in text, path


def test_a_bad_token_file_stops_the_daemon_with_its_name(tmp_path, processes):
    cfg = write_config(tmp_path / "anprd.yaml", [camera("a", "rtsp://127.0.0.1:1/x")],
                       port=free_port())
    text = cfg.read_text().replace("http:\n", f"http:\n  token_file: {tmp_path / 'nope'}\n")
    cfg.write_text(text)
    d = DaemonProcess(cfg)
    processes.append(d)
    assert d.wait(30) != 0
    assert "token_file" in d.log and "no such file" in d.log and "Traceback" not in d.log


def test_the_live_sample_plays_as_a_camera(tmp_path):
    from anprd.commands.run import write_sample_config
    from anprd.config.load import load_config

    config = load_config(write_sample_config(tmp_path, live=True))
    cam = config.cameras[0]
    assert cam.loop and cam.realtime and config.events.snapshots == tmp_path / "snapshots"
    once = load_config(write_sample_config(tmp_path / "once"))
    assert not once.cameras[0].loop and once.events.snapshots is None


def test_sighup_reads_a_rotated_token(tmp_path, processes):
    import signal

    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    cfg = write_config(tmp_path / "anprd.yaml", [camera("a", "rtsp://127.0.0.1:1/x")],
                       port=port)
    cfg.write_text(cfg.read_text().replace("http:\n", f"http:\n  token_file: {token_file}\n"))
    d = DaemonProcess(cfg)
    processes.append(d)
    assert wait_until(lambda: "HTTP listening" in d.log, 20), d.log

    def status(token: str) -> int:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/cameras",
                                     headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    assert status(TOKEN) == 200
    token_file.write_text("a-rotated-token-of-enough-length\n")
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: status("a-rotated-token-of-enough-length") == 200, 10), d.log
    assert status(TOKEN) == 401
    token_file.write_text("short\n")  # a broken file: the token in use stays
    d.signal(signal.SIGHUP)
    assert wait_until(lambda: "at least 16" in d.log, 10), d.log
    assert status("a-rotated-token-of-enough-length") == 200
