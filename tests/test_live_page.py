"""The live page in a real headless Chromium, against the real daemon (`anprd run`, the
shipped weights) watching the sample video in real time, looped."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from anprd.detect.shipped import SAMPLE_VIDEO
from tests.browser import browser_missing, chrome
from tests.daemon_helpers import free_port, wait_until
from tests.test_daemon import DaemonProcess

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))

SAMPLE_PLATES = ("AE418KT", "GHP372")
TOKEN = "page-test-token-0123456789"


def _config(tmp: Path, port: int, token_file: Path | None = None) -> Path:
    doc = {
        "http": {"listen": f"127.0.0.1:{port}",
                 **({"token_file": str(token_file)} if token_file else {})},
        "events": {"path": str(tmp / "events.jsonl"), "snapshots": str(tmp / "snapshots")},
        "cameras": [{"name": "gate", "url": str(SAMPLE_VIDEO), "sample_fps": 5,
                     "loop": True, "realtime": True}],
    }
    path = tmp / "anprd.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _emitted(events: Path) -> dict[str, float]:
    """Each plate's first event, with the time this test saw its line."""
    seen: dict[str, float] = {}
    if events.exists():
        for line in events.read_text().splitlines():
            seen.setdefault(json.loads(line)["plate"], time.time())
    return seen


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("page")
    port = free_port()
    d = DaemonProcess(_config(tmp, port), real=True)
    try:
        ok = wait_until(lambda: "starting -> up" in d.log, 60)
        assert ok, d.log
        yield f"http://127.0.0.1:{port}", tmp / "events.jsonl", d
    finally:
        d.kill()


@pytest.fixture
def browser():
    driver = chrome()
    yield driver
    driver.quit()


def _js(driver, script: str):
    return driver.execute_script(script)


def _shown(driver, element_id: str) -> bool:
    return bool(_js(driver, f"const e = document.getElementById('{element_id}'); "
                            "return e !== null && !e.hidden"))


def test_the_page_shows_the_camera_its_frames_and_its_events_live(daemon, browser):
    url, events, d = daemon
    browser.get(url + "/")
    assert wait_until(lambda: _js(browser, "return document.querySelector("
                                           "'.camera .state')?.textContent") == "up", 15), d.log
    assert wait_until(lambda: _js(browser, "return document.querySelector('.camera img')"
                                           "?.naturalWidth") > 0, 10)
    first = _js(browser, "return document.querySelector('.camera img').dataset.frame")
    assert wait_until(lambda: _js(browser, "return document.querySelector('.camera img')"
                                           ".dataset.frame") != first, 10), "no new frame"
    # Every plate event reaches the page without a reload, within seconds of its line.
    start = time.time()
    seen_on_page: dict[str, float] = {}
    while len(seen_on_page) < len(SAMPLE_PLATES) and time.time() - start < 60:
        rows = _js(browser, "return [...document.querySelectorAll('#recent tr')]"
                            ".map(r => r.dataset.plate)")
        for plate in rows:
            seen_on_page.setdefault(plate, time.time())
        time.sleep(0.2)
    emitted = _emitted(events)
    for plate in SAMPLE_PLATES:
        assert plate in emitted and plate in seen_on_page, (plate, emitted, seen_on_page, d.log)
        assert seen_on_page[plate] - emitted[plate] < 5
    thumb = _js(browser, "return document.querySelector('#recent img')?.naturalWidth")
    assert thumb and thumb > 0, "the event's snapshot thumbnail did not load"


def test_the_search_finds_a_plate_one_character_off(daemon, browser):
    url, events, _d = daemon
    assert wait_until(lambda: "GHP372" in _emitted(events), 60)
    browser.get(url + "/")
    assert wait_until(lambda: _shown(browser, "main"), 10)
    browser.find_element("id", "q-plate").send_keys("GHP37Z")
    browser.find_element("css selector", "#search button").click()
    assert wait_until(lambda: "GHP372" in _js(
        browser, "return [...document.querySelectorAll('#results tr')].map(r => r.dataset.plate)"),
        10)


def test_a_wrong_token_gets_the_login_prompt(tmp_path, browser):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    d = DaemonProcess(_config(tmp_path, port, token_file), real=True)
    try:
        assert wait_until(lambda: "HTTP listening" in d.log, 60), d.log
        url = f"http://127.0.0.1:{port}/"
        browser.get(url)
        _js(browser, "sessionStorage.setItem('anprd-token', 'not-the-token'); location.reload()")
        assert wait_until(lambda: _shown(browser, "login"),
                          10)
        assert "refused" in browser.find_element("id", "login-why").text
        browser.find_element("id", "token").send_keys(TOKEN)
        browser.find_element("css selector", "#login button").click()
        assert wait_until(lambda: _js(browser, "return document.querySelector("
                                               "'.camera .state')?.textContent") == "up", 15)
    finally:
        d.kill()
