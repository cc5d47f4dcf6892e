"""`anprd detect`, `anprd eval` and `anprd bench` on real files, with the shipped weights."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, needs_weights, shared_dir

SCENES = shared_dir() / "realdata" / "scenes"
ANPRD = [sys.executable, "-m", "anprd"]


def run(*args, **kw):
    return subprocess.run([*ANPRD, *map(str, args)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600, **kw)


def scene_rows(n: int) -> list[dict]:
    if not SCENES.is_dir():
        pytest.skip(f"no real scenes at {SCENES}")
    with (SCENES / "labels.csv").open() as fh:
        return list(csv.DictReader(fh))[:n]


@needs_weights
def test_detect_reads_the_sample_and_writes_json_and_annotations(tmp_path):
    bad = tmp_path / "not-a-picture.jpg"
    bad.write_bytes(b"this is text, not a JPEG")
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", bad, "--json", "--annotate", tmp_path)
    assert r.returncode == 1  # one file failed
    assert "not-a-picture.jpg" in r.stderr and "Traceback" not in r.stderr
    (line,) = r.stdout.strip().splitlines()
    obj = json.loads(line)
    assert {"file", "width", "height", "ms", "plates"} <= set(obj)
    assert (obj["width"], obj["height"]) == (1280, 720)
    assert [p["plate"] for p in obj["plates"]] == ["AE418KT"]
    plate = obj["plates"][0]
    assert plate["format"] == "mercosur_ar" and 0 < plate["confidence"] <= 1
    x1, y1, x2, y2 = plate["box"]
    assert 500 < x1 < x2 < 800 and 400 < y1 < y2 < 600
    assert (tmp_path / "scene.jpg").is_file()


@needs_weights
def test_detect_samples_video_frames(tmp_path):
    r = run("detect", REPO_ROOT / "samples" / "gate.mp4", "--every", "10", "--json")
    assert r.returncode == 0, r.stderr
    frames = [json.loads(line) for line in r.stdout.splitlines()]
    assert [f["frame"] for f in frames[:3]] == [0, 10, 20]
    read = {p["plate"] for f in frames for p in f["plates"]}
    assert "AE418KT" in read


@needs_weights
def test_eval_on_small_real_pictures(tmp_path):
    rows = scene_rows(3)
    for row in rows:
        shutil.copy(SCENES / row["file"], tmp_path / row["file"])
    with (tmp_path / "labels.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, ["file", "plate"])
        w.writeheader()
        w.writerows(rows)
    r = run("eval", tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["n"] == len(rows) and summary["pictures"] == len(rows)
    assert {"exact", "missed", "false_plates", "ms_median"} <= set(summary)
    assert summary["right"] + summary["missed"] == summary["n"]


def test_missing_weights_and_labels_are_clear_errors(tmp_path):
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--weights", tmp_path / "no.keras")
    assert r.returncode == 2 and "weights file not found" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "labels.csv" in r.stderr


def test_corrupt_weights_file_is_a_clear_error(tmp_path):
    w = tmp_path / "broken.keras"
    w.write_bytes(b"PK\x03\x04 not really a keras file")
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--weights", w)
    assert r.returncode == 2 and "cannot load weights" in r.stderr
    assert "Traceback" not in r.stderr


@needs_weights
def test_bench_prints_both_networks_and_a_json_summary():
    r = run("bench", "--size", "320x240", "--repeats", "2", "--seed-repeats", "1")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["size"] == "320x240"
    assert summary["ms_per_frame"] > 0 and summary["seed_ms_per_frame"] > 0
    assert summary["speedup"] == pytest.approx(
        summary["seed_ms_per_frame"] / summary["ms_per_frame"], rel=0.05)


@needs_weights
def test_a_close_up_plate_is_read_once_not_again_from_its_own_lettering(tmp_path):
    # A plate filling most of a 1280 x 720 frame: windows of the full-size levels see
    # parts of its characters as small plates (on 40 such pictures, 39 extra readings
    # without a confidence floor); those lie inside the plate and are dropped.
    import cv2
    import numpy as np

    from trainer.fonts import load_fonts
    from trainer.scene import random_plate

    fonts, rng = load_fonts(), np.random.default_rng(21)
    texts = []
    for i in range(3):
        plate = random_plate(rng, fonts)
        img = (plate.image * 255).astype(np.uint8)
        w = int(rng.uniform(700, 1200))
        h = w * img.shape[0] // img.shape[1]
        canvas = np.full((720, 1280), 120, np.uint8)
        x, y = (1280 - w) // 2, (720 - h) // 2
        canvas[y : y + h, x : x + w] = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(str(tmp_path / f"close_{i}.png"), cv2.GaussianBlur(canvas, (0, 0), 1.0))
        texts.append(plate.text)
    # With no confidence floor, where lettering is read most often.
    r = run("detect", *sorted(tmp_path.glob("close_*.png")), "--json", "--min-confidence", "0")
    assert r.returncode == 0, r.stderr
    got = [[p["plate"] for p in json.loads(line)["plates"]] for line in r.stdout.splitlines()]
    assert all(len(g) <= 1 for g in got), got
    assert sum(g == [t] for g, t in zip(got, texts, strict=True)) >= 2, (got, texts)
