"""`anprd detect`, `anprd eval` and `anprd bench` on real files, with the shipped weights."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import REPO_ROOT, WEIGHTS, needs_weights, shared_dir, trainer_scenes

SCENES = shared_dir() / "realdata" / "scenes"
REAL_VIDEO = shared_dir() / "realdata" / "video" / "tv_news_mercosur.mp4"
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
    # The shape the recognition API answers with (anprd/plate_json.py).
    assert list(plate) == ["plate", "format", "confidence", "presence", "box", "characters"]
    assert "".join(c["char"] for c in plate["characters"]) == "AE418KT"
    assert all({"position", "prob", "runner_up", "runner_up_prob"} <= set(c)
               for c in plate["characters"])
    # Annotations never take an input's name: annotating into the pictures' own folder
    # must not overwrite them.
    assert (tmp_path / "scene.annotated.jpg").is_file()
    assert bad.read_bytes() == b"this is text, not a JPEG"


def blank_png(path: Path, width: int, height: int) -> None:
    """A valid all-black grayscale PNG, small on disk whatever its size."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    z = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte, then the row's pixels
    pixels = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
                     + chunk(b"IEND", b""))


@needs_weights
def test_oversized_pictures_and_folders_are_refused_by_name_and_the_others_read(tmp_path):
    # 8,000 x 8,000: 250 kB on disk, 192 MB decoded; refused from its header.
    huge = tmp_path / "huge.png"
    blank_png(huge, 8000, 8000)
    # Its data cut off: only the header can tell its size.
    cut = tmp_path / "cut.png"
    cut.write_bytes(huge.read_bytes()[:200])
    folder = tmp_path / "pictures"
    folder.mkdir()
    r = run("detect", huge, cut, folder, REPO_ROOT / "samples" / "scene.jpg", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "huge.png: 8000x8000 is over 40,000,000 pixels" in r.stderr
    assert "cut.png: 8000x8000 is over 40,000,000 pixels" in r.stderr
    assert f"{folder}: a folder; give the pictures or videos in it" in r.stderr
    assert [p["plate"] for p in json.loads(r.stdout)["plates"]] == ["AE418KT"]
    # A kind without a header check (BMP) over OpenCV's own pixel limit (lowered here).
    bmp = tmp_path / "wide.bmp"
    assert cv2.imwrite(str(bmp), np.zeros((100, 300), np.uint8))
    r = run("detect", bmp, env={**os.environ, "OPENCV_IO_MAX_IMAGE_PIXELS": "10000"})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "wide.bmp: OpenCV cannot decode it" in r.stderr, r.stderr


def faststart_video(path: Path, frames: int) -> None:
    """An MP4 whose index comes first, as streamed recordings are, so that a copy cut
    short still opens."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 256, (120, 160, 3), np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode())


@needs_weights
def test_a_cut_off_video_gives_its_frames_and_then_an_error(tmp_path):
    whole = tmp_path / "whole.mp4"
    faststart_video(whole, 40)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    r = run("detect", whole, cut, "--every", "5", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    frames = [json.loads(line) for line in r.stdout.splitlines()]
    assert [f["frame"] for f in frames if f["file"] == str(whole)] == list(range(0, 40, 5))
    got = [f["frame"] for f in frames if f["file"] == str(cut)]
    assert got and got == list(range(0, 5 * len(got), 5)) and len(got) < 8
    assert "cut.mp4: only" in r.stderr and "of the 40 frames it declares" in r.stderr
    assert "whole.mp4" not in r.stderr


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
    # A picture that cannot be read is reported, and its plate counts as missed, not
    # left out of the score; a spreadsheet's byte-order mark is no problem.
    (tmp_path / "broken.jpg").write_bytes(b"not a JPEG")
    text = (tmp_path / "labels.csv").read_text() + "broken.jpg,AB123CD\n"
    (tmp_path / "labels.csv").write_text("\ufeff" + text, encoding="utf-8")
    r = run("eval", tmp_path)
    assert r.returncode == 1 and "broken.jpg" in r.stderr and "Traceback" not in r.stderr
    again = json.loads(r.stdout.strip().splitlines()[-1])
    assert (again["n"], again["missed"], again["unreadable"]) == (
        summary["n"] + 1, summary["missed"] + 1, 1)


@needs_weights
def test_eval_crops_reads_a_tight_crop_of_a_plate_and_reports_per_format(tmp_path):
    import cv2

    scene = cv2.imread(str(REPO_ROOT / "samples" / "scene.jpg"))
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--json")
    (plate,) = json.loads(r.stdout)["plates"]
    x1, y1, x2, y2 = plate["box"]
    cv2.imwrite(str(tmp_path / "tight.png"), scene[y1:y2, x1:x2])
    (tmp_path / "labels.csv").write_text(f"file,plate\ntight.png,{plate['plate']}\n")
    r = run("eval", tmp_path, "--crops")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert (summary["exact"], summary["n"]) == (1.0, 1)
    assert summary["mercosur_ar"] == {"exact": 1.0, "right": 1, "n": 1}


def test_missing_weights_and_labels_are_clear_errors(tmp_path):
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--weights", tmp_path / "no.keras")
    assert r.returncode == 2 and "weights file not found" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "labels.csv" in r.stderr
    (tmp_path / "labels.csv").write_text("file,plate\nfoo.jpg\n")
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "labels.csv, line 2: a row is file,plate" in r.stderr
    (tmp_path / "labels.csv").write_text("file,plate\n")
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "labels.csv: no rows under the file,plate header" in r.stderr
    (tmp_path / "labels.csv").write_text("file,plate\nfoo.jpg,AB123CD\nbar.jpg,\n"
                                         "foo.jpg,AB 123 CD\n")
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "line 4: foo.jpg,AB123CD given twice (first on line 2)" in r.stderr
    (tmp_path / "labels.csv").write_text("file,plate\nfoo.jpg,AB123CD\n", encoding="utf-16")
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "labels.csv: not UTF-8 text" in r.stderr
    (tmp_path / "taken").write_text("x")
    for args, problem in ((["--min-confidence", "50"], "not a probability from 0 to 1"),
                          (["--every", "0"], "--every 0"),
                          (["--annotate", str(tmp_path / "taken" / "out")],
                           f"cannot make the folder: {tmp_path / 'taken'} is a file")):
        r = run("detect", REPO_ROOT / "samples" / "scene.jpg", *args)
        assert r.returncode == 2 and problem in r.stderr and "Traceback" not in r.stderr


@needs_weights
def test_another_weights_file_can_read_what_the_weights_find(tmp_path):
    import cv2
    import numpy as np

    from anprd.detect.formats import average
    from anprd.detect.loading import load_detector

    shipped, reader = WEIGHTS, REPO_ROOT / "weights" / "wide.keras"
    # A crop is read by the reader alone: the pair must read it as the second file does,
    # not as the first.
    crop = cv2.imread(str(REPO_ROOT / "samples" / "scene.jpg"), cv2.IMREAD_GRAYSCALE)
    # Shrunk to 40 px wide and back, so that neither network is sure of every character.
    crop = cv2.resize(cv2.resize(crop[475:575, 543:768], (40, 18), interpolation=cv2.INTER_AREA),
                      (225, 100))
    probs = {name: d.read_crops([crop], ["mercosur_ar"], search=False)[0].probs for name, d in (
        ("other", load_detector(shipped, reader_weights=reader)),
        ("both", load_detector(shipped, reader_weights=[shipped, reader])),
        ("first", load_detector(shipped)), ("second", load_detector(reader)))}
    assert np.allclose(probs["other"], probs["second"], atol=1e-5)
    assert not np.allclose(probs["other"], probs["first"], atol=1e-3)
    # Two readers: their readings averaged (a normalised geometric mean).
    assert np.allclose(probs["both"], average([probs["first"], probs["second"]]), atol=1e-5)
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--json", "--reader-weights", reader)
    assert r.returncode == 0, r.stderr[-2000:]
    assert [p["plate"] for p in json.loads(r.stdout)["plates"]] == ["AE418KT"]
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--reader-weights",
            tmp_path / "no.keras")
    assert r.returncode == 2 and f"weights file not found: {tmp_path / 'no.keras'}" in r.stderr
    assert "Traceback" not in r.stderr


@needs_weights
@pytest.mark.skipif(not REAL_VIDEO.is_file(),
                    reason=f"evaluation video not found: {REAL_VIDEO} "
                           "(set ANPRD_SHARED to the shared/ folder)")
@pytest.mark.parametrize("runtime", ["keras", "litert"])
def test_a_plate_filling_the_frame_is_read_at_the_scale_that_suits_it(runtime):
    """The news video's first frames: AA176YX fills the picture, found on the one window
    of a padded level, whose scale (with its neighbour's windows) reads it too large.
    Read across half a pyramid step, it is read: read at its one scale it was not (no
    reading, or JSS455). Its worn second A is the reader's weak point (read L in one of
    the three frames by the shipped reader: weights/MODEL_CARD.md), so one frame may be a
    character off (or, in int8, read under the confidence floor); none may be another
    plate."""
    from itertools import islice

    from anprd.detect.loading import load_detector
    from anprd.reads import DEFAULT_MIN_CONFIDENCE, DetectParams
    from anprd.video.files import video_frames

    frames = [f for i, f in islice(video_frames(REAL_VIDEO), 17) if i in (4, 10, 16)]
    det = load_detector(WEIGHTS, reader_weights=REPO_ROOT / "weights" / "wide.keras",
                        runtime=runtime)
    params = DetectParams(min_confidence=DEFAULT_MIN_CONFIDENCE)
    reads = det.detect(frames, [params] * len(frames))
    got = [[r.plate for r in rs] for rs in reads]
    assert all(len(rs) <= 1 for rs in got), got
    read = [rs[0] for rs in got if rs]
    assert len(read) >= (2 if runtime == "litert" else 3), got
    off = sorted(sum(a != b for a, b in zip(p, "AA176YX", strict=True)) for p in read)
    assert off[:2] == [0, 0] and off[-1] <= 1, got


def test_corrupt_weights_file_is_a_clear_error(tmp_path):
    w = tmp_path / "broken.keras"
    w.write_bytes(b"PK\x03\x04 not really a keras file")
    r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--weights", w)
    assert r.returncode == 2 and "cannot load weights" in r.stderr
    assert "Traceback" not in r.stderr
    # A copy cut short (a download stopped part way) is said to be one, not "not found".
    if WEIGHTS.is_file():
        w.write_bytes(WEIGHTS.read_bytes()[:100_000])
        r = run("detect", REPO_ROOT / "samples" / "scene.jpg", "--weights", w)
        assert r.returncode == 2 and f"{w} is not a .keras weights file" in r.stderr


@needs_weights
def test_bench_prints_both_networks_and_a_json_summary():
    r = run("bench", "--size", "320x240", "--repeats", "2", "--seed-repeats", "1",
            "--runtime", "keras")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["frame"] == "320x240" and summary["runtime"] == "keras"
    assert summary["ms_per_frame"] > 0 and summary["seed_ms_per_frame"] > 0
    assert summary["speedup"] == pytest.approx(
        summary["seed_ms_per_frame"] / summary["ms_per_frame"], rel=0.05)
    r = run("bench", "--size", "320x240", "--repeats", "0")
    assert r.returncode == 2 and "--repeats and --seed-repeats must be at least 1" in r.stderr
    for size, problem in (("100000x100000", "is over 40,000,000 pixels"),
                          ("100x50", "smaller than the 128 x 64 window"),
                          ("640by480", "is not WxH")):
        r = run("bench", "--size", size)
        assert r.returncode == 2 and problem in r.stderr and "Traceback" not in r.stderr


@needs_weights
def test_a_close_up_plate_is_not_read_again_from_its_own_lettering(tmp_path):
    # Plates filling 55-95% of the picture (`trainer scenes --close-ups`): windows of the
    # full-size levels see parts of their characters as small plates. With no confidence
    # floor, where those are read most often, no reading may lie inside a plate read at
    # least twice as wide, and the plates themselves are still read.
    trainer_scenes(tmp_path, "--close-ups", "--count", "6", "--seed", "21")
    with (tmp_path / "labels.csv").open() as fh:
        labels = {row["file"]: row["plate"] for row in csv.DictReader(fh)}
    r = run("detect", *sorted(tmp_path.glob("scene_*.jpg")), "--json", "--min-confidence", "0")
    assert r.returncode == 0, r.stderr
    nested, right = [], 0
    for line in r.stdout.splitlines():
        obj = json.loads(line)
        plates = obj["plates"]
        right += any(p["plate"] == labels[Path(obj["file"]).name] for p in plates)
        for a in plates:
            for b in plates:
                (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = a["box"], b["box"]
                inside = bx1 <= ax1 and by1 <= ay1 and ax2 <= bx2 and ay2 <= by2
                if a is not b and inside and (bx2 - bx1) >= 2 * (ax2 - ax1):
                    nested.append((a["plate"], b["plate"]))
    assert not nested, nested
    assert right >= 4, r.stdout
    # With no --min-confidence a picture reports exactly its readings at the picture floor.
    from anprd.reads import PICTURE_MIN_CONFIDENCE

    default = run("detect", *sorted(tmp_path.glob("scene_*.jpg")), "--json")
    every = [json.loads(line)["plates"] for line in r.stdout.splitlines()]
    sure = [[p for p in ps if p["confidence"] >= PICTURE_MIN_CONFIDENCE] for ps in every]
    assert [json.loads(line)["plates"] for line in default.stdout.splitlines()] == sure


@needs_weights
def test_eval_splits_misses_by_plate_width_tables_the_confusions_and_draws_a_sheet(tmp_path):
    out = tmp_path / "closeups"
    trainer_scenes(out, "--close-ups", "--count", "3", "--seed", "3")
    rows = list(csv.DictReader((out / "labels.csv").open(newline="")))
    assert all(0.55 <= float(r["width"]) <= 0.95 for r in rows)
    for r in rows:  # all in the widest bin, to check the split exactly
        r["width"] = "0.8"
    # One plate labelled wrong in its first letter: a misread at position 1 whatever the
    # weights read, unless they miss it altogether.
    first = rows[0]
    wrong = ("Q" if first["plate"][0] != "Q" else "W") + first["plate"][1:]
    rows[0] = {**first, "plate": wrong}
    with (out / "labels.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, ["file", "plate", "width"])
        w.writeheader()
        w.writerows(rows)
    sheet = tmp_path / "sheets" / "misses.png"
    r = run("eval", out, "--sheet", sheet, "-v")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["missed"] >= 1
    assert [b for b, _, _ in summary["by_width"]] == ["60-100%"]
    assert summary["by_width"][0][1:] == [summary["missed"], 3]
    assert "missed by plate width (share of the picture's width): 60-100%" in r.stdout
    # Where the picture's plate is read, the wrong label is a misread at position 1.
    if f"{first['file']}: expected {wrong}; read {first['plate']}" in r.stdout:
        assert f"{wrong[0]}->{first['plate'][0]} x1" in r.stdout
        n = len(wrong)
        assert f"  {n} characters  1: 1/" in r.stdout
        assert re.search(rf"^  {wrong[0]}\s+1 / 1\s+{first['plate'][0]} x1$", r.stdout, re.M)
    img = cv2.imread(str(sheet))
    tiles = summary["missed"]
    assert img is not None and img.shape == (148 * -(-tiles // 6), 256 * min(tiles, 6), 3)


def test_eval_checks_its_folder_and_sheet_before_loading_the_model(tmp_path):
    r = run("eval", tmp_path / "nothere")
    assert r.returncode == 2 and "nothere: no such folder" in r.stderr
    (tmp_path / "labels.csv").write_text("file,plate\nfoo.jpg,AB123CD\n")
    r = run("eval", tmp_path, "--sheet", tmp_path / "sheet.jpg", "--weights", tmp_path / "no")
    assert r.returncode == 2 and "is a PNG file" in r.stderr
    (tmp_path / "labels.csv").write_text("file,plate,width\nfoo.jpg,AB123CD,wide\n")
    r = run("eval", tmp_path)
    assert r.returncode == 2 and "line 2: width 'wide' is not a share" in r.stderr


def test_confusion_tables_count_by_position_and_by_character():
    from anprd.commands.eval_report import by_width, confusion_tables

    t = confusion_tables([("MIG060", "WIG060"), ("MEJ902", "WEJ902"), ("AB123CD", "AB123CD"),
                          ("HOT409", ""), ("KWH671", "KWH671")])
    assert t["other_length"] == 1
    assert t["positions"][6][0] == (1, 2, 3) and t["positions"][7] == [
        (i, 0, 1) for i in range(1, 8)]
    assert t["characters"] == [("M", 2, 2, [("W", 2)])]
    assert by_width([0.05, 0.5, 0.9, None, 0.95], [0.9, None]) == [
        ("under 10%", 0, 1), ("30-60%", 0, 1), ("60-100%", 1, 2), ("unknown", 1, 1)]


def test_detect_on_files_that_are_not_there_says_so_without_loading_the_model(tmp_path):
    r = run("detect", tmp_path / "nothere.jpg", tmp_path / "nor.mp4",
            "--weights", tmp_path / "no-weights.keras")  # the weights are never opened
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [f"anprd detect: {tmp_path / 'nothere.jpg'}: no such file",
                                     f"anprd detect: {tmp_path / 'nor.mp4'}: no such file"]


def test_pictures_take_a_surer_floor_and_their_own_pyramid_video_frames_a_cameras():
    """A picture gets no second look; a video's frames vote as a camera's do."""
    from anprd.cli import build_parser
    from anprd.commands.args import read_params
    from anprd.reads import DEFAULT_MIN_CONFIDENCE, PICTURE_MAX_PIXELS, PICTURE_MIN_CONFIDENCE

    for command in ("detect", "eval"):
        picture, frame = read_params(build_parser().parse_args([command, "x"]))
        assert (picture.min_confidence, frame.min_confidence) == (
            PICTURE_MIN_CONFIDENCE, DEFAULT_MIN_CONFIDENCE)
        assert (picture.max_pixels, frame.max_pixels) == (PICTURE_MAX_PIXELS, None)
        args = build_parser().parse_args([command, "x", "--min-confidence", "0.3",
                                          "--formats", "legacy_ar"])
        picture, frame = read_params(args)
        assert (picture.min_confidence, frame.min_confidence) == (0.3, 0.3)
        assert picture.formats == frame.formats == ("legacy_ar",)
    assert PICTURE_MIN_CONFIDENCE > DEFAULT_MIN_CONFIDENCE


def test_bench_times_camera_sizes_as_frames_and_bigger_ones_as_photos():
    from anprd.commands.bench import _cases
    from anprd.detect.pyramid import levels_for
    from anprd.reads import PICTURE_MAX_PIXELS

    (_, _, frame, frame_levels), (_, _, photo, photo_levels) = _cases(
        [(640, 480), (4000, 3000)], gate=False)
    # What a camera's 640 x 480 frame costs the daemon, not a picture enlarged 2x.
    assert frame.max_pixels is None and frame_levels == levels_for(640, 480)
    assert photo.max_pixels == PICTURE_MAX_PIXELS
    assert photo_levels == levels_for(4000, 3000, None, PICTURE_MAX_PIXELS)


@needs_weights
def test_eval_can_search_pictures_as_the_daemon_searches_camera_frames(tmp_path):
    out = tmp_path / "scenes"
    trainer_scenes(out, "--count", "3", "--seed", "4")
    frames = run("eval", out, "--as-frames")
    assert frames.returncode == 0, frames.stderr
    pictures = run("eval", out)
    as_frames = json.loads(frames.stdout.strip().splitlines()[-1])
    as_pictures = json.loads(pictures.stdout.strip().splitlines()[-1])
    assert (as_frames["searched_as"], as_pictures["searched_as"]) == ("camera frames", "pictures")
    assert as_frames["n"] == as_pictures["n"] and as_frames["pictures"] == 3
    both = run("eval", out, "--as-frames", "--crops")
    assert both.returncode == 2 and "not allowed" in both.stderr and "Traceback" not in both.stderr
