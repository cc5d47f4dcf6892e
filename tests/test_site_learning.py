"""Learning a site: crops labelled on a page (`anprd label`), a reader fine-tuned on
them (`trainer finetune`). The daemon's `events.crops` is tested with the sample video
in test_daemon.py."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import REPO_ROOT, WEIGHTS, needs_weights, trainer_scenes

from anprd.api.label_page import LabelServer, LabelStore
from anprd.labels import Row, read_rows, write_rows


def crops_folder(folder: Path, plates: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, _ in enumerate(plates):
        cv2.imwrite(str(folder / f"c{i}.png"), rng.integers(0, 255, (40, 130), np.uint8))
    write_rows(folder, [Row(f"c{i}.png", p) for i, p in enumerate(plates)])
    return folder


@pytest.fixture
def page(tmp_path):
    folder = crops_folder(tmp_path / "crops", ["AB123CD", "ABC123", "AB123CX"])
    server = LabelServer("127.0.0.1:0", LabelStore(folder)).start()
    yield folder, server.url
    server.shutdown()


def call(url: str, body: dict | bytes | None = None) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_label_page_serves_the_crops_and_writes_corrections_back(page):
    folder, url = page
    status, html = call(url)
    assert status == 200 and b"anprd label" in html
    status, rows = call(url + "rows")
    assert [r["plate"] for r in json.loads(rows)] == ["AB123CD", "ABC123", "AB123CX"]
    assert call(url + "crop/1") == (200, (folder / "c1.png").read_bytes())
    assert call(url + "crop/7")[0] == 404
    assert call(url + "crop/../labels.csv")[0] == 404

    status, answer = call(url + "rows/2", {"plate": "ab 123 cd"})  # corrected
    assert status == 200 and json.loads(answer)["plate"] == "AB123CD"
    assert call(url + "rows/0", {"plate": "AB123CD"})[0] == 200  # confirmed as read
    assert read_rows(folder) == [Row("c0.png", "AB123CD", True), Row("c1.png", "ABC123"),
                                 Row("c2.png", "AB123CD", True)]

    before = (folder / "labels.csv").read_bytes()
    status, answer = call(url + "rows/1", {"plate": "AB12"})
    assert status == 422 and "fits no plate format" in json.loads(answer)["error"]
    assert call(url + "rows/9", {"plate": "AB123CD"})[0] == 404
    assert call(url + "rows/1", b"not json")[0] == 400
    assert (folder / "labels.csv").read_bytes() == before


def run_cli(*args: str, module: str = "anprd") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=900)


def test_label_refuses_a_folder_without_labels(tmp_path):
    r = run_cli("label", tmp_path)
    assert r.returncode == 2 and "no labels.csv" in r.stderr and "Traceback" not in r.stderr


def test_finetune_refuses_bad_folders_by_name(tmp_path):
    out = tmp_path / "ft.keras"
    r = run_cli("finetune", "--crops", tmp_path / "none", "--out", out, module="trainer")
    assert r.returncode == 2 and "none: no such folder" in r.stderr
    few = crops_folder(tmp_path / "few", ["AB123CD"] * 10)
    r = run_cli("finetune", "--crops", few, "--out", out, module="trainer")
    assert r.returncode == 2 and "10 labelled crops; fine-tuning needs at least 50" in r.stderr
    odd = crops_folder(tmp_path / "odd", ["AB123CD"] * 60 + ["AB12", "HELLO"])
    r = run_cli("finetune", "--crops", odd, "--out", out, module="trainer")
    assert r.returncode == 2 and "fit no plate format" in r.stderr
    assert "c60.png 'AB12'" in r.stderr and "c61.png 'HELLO'" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()


@needs_weights
def test_finetune_changes_only_the_reader_and_the_file_loads(tmp_path):
    from anprd.detect.loading import load_detector
    from anprd.detect.model import PRESENCE_LAYERS, _trunk_layers, load_model, size_of, stem_of

    crops = tmp_path / "crops"
    trainer_scenes(crops, "--crops", "--count", "56", "--seed", "3")
    out = tmp_path / "ft.keras"
    r = run_cli("finetune", "--crops", crops, "--from", WEIGHTS, "--out", out, "--epochs", "1",
                "--guard-windows", "128", module="trainer")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "held-back crops read:" in r.stdout and "fresh synthetic windows" in r.stdout
    old, new = load_model(WEIGHTS), load_model(out)
    changed = {a.name for a, b in zip(old.layers, new.layers, strict=True)
               if any(not np.array_equal(x, y)
                      for x, y in zip(a.get_weights(), b.get_weights(), strict=True))}
    trunk = {layer.name for layer in _trunk_layers(stem_of(old), size_of(old))}
    assert changed and not changed & (set(PRESENCE_LAYERS) | trunk), changed
    detector = load_detector(WEIGHTS, reader_weights=[out], runtime="keras")
    row = read_rows(crops)[0]
    crop = cv2.imread(str(crops / row.file))
    assert len(detector.read_crops([crop], ("mercosur_ar", "legacy_ar"))) == 1
