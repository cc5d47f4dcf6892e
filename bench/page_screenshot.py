"""Screenshots of the live page, as docs/live-page.md shows them.

    .venv/bin/python bench/page_screenshot.py              # docs/live-page.png, -phone.png

Runs the daemon (`anprd run`, the shipped weights) on the sample video in real time,
looped, with snapshots; waits for the sample's two plates; opens the page in a headless
Chromium (Debian's, through selenium), searches for a plate one character off, and
saves the page at a desktop width and at a phone's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from anprd.detect.shipped import SAMPLE_VIDEO  # noqa: E402
from tests.browser import browser_missing, chrome  # noqa: E402
from tests.daemon_helpers import free_port, wait_until  # noqa: E402

PLATES = ("AE418KT", "GHP372")


def shoot(url: str, out: Path, width: int, height: int) -> None:
    driver = chrome(width, height)
    try:
        driver.get(url)
        shown = "return [...document.querySelectorAll('#recent tr')].map(r => r.dataset.plate)"
        assert wait_until(lambda: set(PLATES) <= set(driver.execute_script(shown)), 20)
        assert wait_until(lambda: driver.execute_script(
            "return document.querySelector('.camera img').naturalWidth") > 0, 10)
        driver.find_element("id", "q-plate").send_keys("GHP37Z")
        driver.find_element("css selector", "#search button").click()
        assert wait_until(lambda: driver.execute_script(
            "return document.querySelectorAll('#results tr').length") > 0, 10)
        time.sleep(0.5)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "live-page.png")
    args = ap.parse_args()
    missing = browser_missing()
    if missing:
        print(f"page_screenshot: {missing}", file=sys.stderr)
        return 1
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "anprd.yaml"
        cfg.write_text(f"http: {{listen: 127.0.0.1:{port}}}\n"
                       f"events: {{path: {tmp}/events.jsonl, snapshots: {tmp}/snapshots}}\n"
                       f"cameras:\n  - {{name: gate, url: {SAMPLE_VIDEO}, sample_fps: 5, "
                       "loop: true, realtime: true}\n")
        daemon = subprocess.Popen([sys.executable, "-m", "anprd", "run", "--config", str(cfg)],
                                  cwd=REPO, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/"
            shoot(url, args.out, 1280, 900)
            phone = args.out.with_name(args.out.stem + "-phone.png")
            shoot(url, phone, 412, 1400)
        finally:
            daemon.terminate()
            daemon.wait(20)
    print(f"wrote {args.out} and {phone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
