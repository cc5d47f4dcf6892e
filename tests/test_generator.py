"""The synthetic generator: exact labels, coverage, determinism, clear errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from anprd.detect.window import COLUMN_W, MAX_W_FRAC, N_COLUMNS, WINDOW_H, WINDOW_W, plate_present
from anprd.reads import ALPHABET, BLANK
from tests.conftest import REPO_ROOT, needs_weights, trainer_scenes
from trainer.fonts import PLATE_CHARS, FontError, find_font_files
from trainer.generate import ChunkMaker, Sources, encode_columns, encode_where, file_name


@pytest.fixture(scope="module")
def samples():
    return ChunkMaker(Sources.resolve(), seed=123).chunk(0, 0, 600)


def test_label_follows_the_presence_rule_exactly(samples):
    for s in samples:
        assert s.image.shape == (WINDOW_H, WINDOW_W) and s.image.dtype == np.uint8
        if s.corners is None:
            assert not s.present and s.text == ""
        else:
            assert s.present == plate_present(s.corners)


def test_character_centres_lie_on_the_plate_left_to_right_and_label_the_columns(samples):
    present = [s for s in samples if s.present]
    spelled = 0
    for s in present:
        assert s.centres is not None and len(s.centres) == len(s.text)
        lo, hi = s.corners.min(axis=0), s.corners.max(axis=0)
        assert np.all(s.centres >= lo) and np.all(s.centres <= hi)
        # Left to right along the plate's own direction (top-left to top-right corner).
        along = (s.centres - s.corners[0]) @ (s.corners[1] - s.corners[0])
        assert np.all(np.diff(along) > 0)
        columns = encode_columns(s)
        spelled += "".join(ALPHABET[c] for c in columns if c != BLANK) == s.text
        # Each position points at the column of its character's centre, left to right;
        # the blank seventh position of a legacy plate points nowhere.
        where = encode_where(s)
        assert np.all(np.diff(where[: len(s.text)]) >= 0)
        assert np.all(where[len(s.text):] == -1)
        assert np.all(where[: len(s.text)] == (s.centres[:, 0] // COLUMN_W).clip(0, N_COLUMNS - 1))
    # Two characters share a 4-pixel column only when drawn very narrow.
    assert spelled >= 0.9 * len(present)
    absent = next(s for s in samples if not s.present)
    assert np.all(encode_columns(absent) == -1) and np.all(encode_where(absent) == -1)


def test_presence_rule_edges():
    def box(x1, y1, x2, y2):
        return np.float32([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])

    assert plate_present(box(10, 10, 10 + 90, 40))
    assert not plate_present(box(10, 10, 10 + 0.8 * WINDOW_W, 40))  # width not under 80%
    assert not plate_present(box(10, 10, 10 + 0.6 * WINDOW_W, 30))  # not over 60%
    assert plate_present(box(10, 2, 40, 2 + 0.7 * WINDOW_H))  # tall enough instead
    assert not plate_present(box(-1, 10, 89, 40))  # cut by the edge
    assert not plate_present(box(0, 0, 100, 0.875 * WINDOW_H))  # too tall


def test_present_and_absent_both_common_and_every_character_occurs(samples):
    present = [s for s in samples if s.present]
    assert 0.4 < len(present) / len(samples) < 0.75
    assert any(s.text == "" for s in samples)
    assert any(len(s.text) == 7 for s in present) and any(len(s.text) == 6 for s in present)
    seen = set("".join(s.text for s in samples))
    assert set(PLATE_CHARS) <= seen


def test_file_names_carry_the_labels(samples):
    s = next(s for s in samples if s.present)
    assert file_name(42, s) == f"00000042_{s.text}_1.png"


def _generate(out, seed, workers):
    cmd = [sys.executable, "-m", "trainer", "generate", "--count", "150", "--out", str(out),
           "--seed", str(seed), "--workers", str(workers)]
    subprocess.run(cmd, check=True, cwd=REPO_ROOT, capture_output=True)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_same_seed_same_files_whatever_the_workers(tmp_path):
    a = _generate(tmp_path / "a", 5, 1)
    b = _generate(tmp_path / "b", 5, 2)
    assert len(a) == 150 and a == b
    c = _generate(tmp_path / "c", 6, 1)
    assert a != c
    img = cv2.imread(str(tmp_path / "a" / next(iter(a))), cv2.IMREAD_UNCHANGED)
    assert img.shape == (WINDOW_H, WINDOW_W)


def test_missing_font_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FontError, match="font folder not found"):
        find_font_files([tmp_path / "nope"])
    r = subprocess.run(
        [sys.executable, "-m", "trainer", "preview", "--out", str(tmp_path / "s.png"),
         "--fonts", str(tmp_path / "nope")],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert r.returncode == 2
    assert "font folder not found" in r.stderr and "Traceback" not in r.stderr


def test_empty_font_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FontError, match="no .ttf or .otf"):
        find_font_files([tmp_path])


def test_sample_writers_refuse_bad_counts_and_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.png").write_text("x")
    for cmd, problem in (
        (["generate", "--count", "0", "--out", str(tmp_path / "new")], "--count must be at"),
        (["scenes", "--count", "-3", "--out", str(tmp_path / "new")], "--count must be at"),
        (["generate", "--count", "5", "--out", str(tmp_path / "file")], "is a file, not a folder"),
        (["scenes", "--count", "5", "--out", str(tmp_path / "full")], "already holds files"),
        (["preview", "--out", str(tmp_path / "sheet")], "a .png or .jpg file"),
        (["sample-video", "--out", str(tmp_path / "clip")], "an .mp4, .mkv, .avi or .mov"),
        (["eval", "--weights", str(tmp_path / "file"), "--data", str(tmp_path / "full")],
         "no generated samples"),
    ):
        r = subprocess.run([sys.executable, "-m", "trainer", *cmd], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and problem in r.stderr, (cmd, r.stderr[-800:])
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("cmd", "problem"), [
    *((c, "--seed must be 0 or more, not -5") for c in (
        ["generate", "--count", "2", "--out", "new"], ["scenes", "--out", "new"],
        ["preview", "--out", "new.png"], ["bench"], ["train", "--out", "new/t.keras"])),
    *((c, "--out: FILE is a file, not a folder") for c in (
        ["generate", "--count", "2", "--out", "file/sub"], ["scenes", "--out", "file/x"],
        ["preview", "--out", "file/p.png"], ["sample-video", "--out", "file/v.mp4"],
        ["train", "--out", "file/t.keras"])),
    (["generate", "--count", "2", "--out", "new", "--workers", "0"], "--workers must be at"),
    (["generate", "--count", "2", "--out", "new", "--workers", "-1"], "--workers must be at"),
    (["train", "--out", "new/t.keras", "--lr", "-1"], "--lr must be a finite number above 0"),
    (["train", "--out", "new/t.keras", "--lr", "nan"], "--lr must be a finite number above 0"),
    (["train", "--out", "new/t.keras", "--steps", "1", "--init", "file"],
     "cannot load --init weights FILE: "),
])
def test_commands_refuse_bad_seeds_outs_workers_rates_and_weights(tmp_path, cmd, problem):
    (tmp_path / "file").write_text("not weights")
    seed = ["--seed", "-5"] if "--seed" in problem else []
    cmd = [str(tmp_path / a) if a.startswith(("new", "file")) else a for a in cmd]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    r = subprocess.run([sys.executable, "-m", "trainer", *cmd, *seed], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    problem = problem.replace("FILE", str(tmp_path / "file"))
    assert r.returncode == 2 and f"error: {problem}" in r.stderr, r.stderr[-800:]
    assert "Traceback" not in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # nothing written


def test_preview_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    subprocess.run([sys.executable, "-m", "trainer", "preview", "--out", str(out)],
                   check=True, cwd=REPO_ROOT, capture_output=True)
    sheet = cv2.imread(str(out))
    assert sheet is not None and sheet.shape[0] > 8 * WINDOW_H and sheet.shape[1] > 8 * WINDOW_W


def test_wide_text_is_narrowed_to_stay_on_the_plate():
    # A plate's label must be readable in its picture: a wide font may not run off it.
    from trainer.fonts import load_fonts
    from trainer.render import text_line

    for font in load_fonts():
        mask = text_line(font, "WM888WM", (60, 300), 40, 1.3, 0.1, {2: 0.4, 5: 0.4},
                         (150, 30), max_width=200)[0]
        cols = np.nonzero(mask.max(axis=0) > 0.1)[0]
        assert cols[-1] - cols[0] + 1 <= 200 + 7, font.name  # pixel rounding: under 1 a glyph


def test_plate_lettering_draws_every_character_condensed_and_distinct():
    from trainer.lettering import STYLES, stroke_fonts

    fonts = stroke_fonts()
    assert len(fonts) == len(STYLES)
    for font in fonts:
        assert set(font.glyphs) == set(PLATE_CHARS)
        shapes = {}
        for ch, g in font.glyphs.items():
            assert g.dtype == np.uint8 and g.max() == 255
            if ch not in "I1":  # tall and condensed, as embossed plate characters are
                assert 0.3 < g.shape[1] / g.shape[0] < 0.75, (font.name, ch, g.shape)
            shapes[ch] = cv2.resize(g, (24, 48), interpolation=cv2.INTER_AREA) / 255.0
        # The pairs the reader confused on real legacy plates look different here. (O and
        # 0 may share a shape: the formats say which one a position holds.)
        for a, b in ("OD", "MH", "MW", "NH", "WH", "OQ", "B8", "S5", "EF", "PR"):
            differ = int((np.abs(shapes[a] - shapes[b]) > 0.5).sum())
            assert differ > 0.025 * shapes[a].size, (font.name, a, b, differ)


def test_legacy_plates_are_drawn_in_the_plate_lettering_when_given(monkeypatch):
    import trainer.compose as scene
    from trainer.fonts import load_fonts
    from trainer.lettering import stroke_fonts

    fonts, lettering = load_fonts(), stroke_fonts()
    render = scene.render_legacy
    used: list[str] = []

    def recording(rng, font, small, text=None, **options):
        used.append(font.name)
        return render(rng, font, small, text, **options)

    monkeypatch.setattr(scene, "render_legacy", recording)
    plates = [scene.random_plate(np.random.default_rng(k), fonts, lettering) for k in range(80)]
    assert all(len(p.text) == 6 for p in plates if p.format == "legacy_ar")
    stroke = sum(name.startswith("stroke-") for name in used)
    assert 0.25 * len(used) < stroke < 0.75 * len(used), (stroke, len(used))  # about half
    used.clear()
    for k in range(80):
        scene.random_plate(np.random.default_rng(k), fonts)
    assert used and not any(name.startswith("stroke-") for name in used)
    # The generator draws it only when asked (`--lettering`): run 18 read real legacy
    # plates worse with it.
    assert ChunkMaker(Sources.resolve(), 0).new_plate.keywords["lettering"] == []
    drawn = ChunkMaker(Sources.resolve(lettering=True), 0).new_plate.keywords["lettering"]
    assert [f.name for f in drawn] == [f.name for f in lettering]


def test_serif_bars_go_on_every_i_and_nowhere_else():
    from trainer.render import serif_bars

    mask = np.zeros((40, 100), np.float32)
    centres = np.float32([[20, 20], [50, 20], [80, 20]])
    serif_bars(mask, "AIB", centres, 20, 8)
    cols = np.nonzero(mask.any(axis=0))[0]
    assert cols.min() >= 46 and cols.max() <= 54  # only around the I's centre
    rows = np.nonzero(mask.any(axis=1))[0]
    assert rows.min() == 10 and rows.max() == 29  # the top and bottom of the capitals
    assert not mask[15:25].any()  # bars, not a filled box


def test_serif_bars_stop_short_of_close_neighbours():
    from trainer.render import serif_bars

    mask = np.zeros((40, 100), np.float32)
    mask[10:30, 36:44] = 1.0  # the letters either side of the I, close to it
    mask[10:30, 56:64] = 1.0
    mask[10:30, 49:51] = 1.0  # the I's stem
    serif_bars(mask, "AIB", np.float32([[40, 20], [50, 20], [60, 20]]), 20, 16)
    cols = np.nonzero(mask[10])[0]
    assert cols.min() == 36 and cols.max() == 63  # no bar beyond the neighbours
    assert mask[10, 44] == 0 and mask[10, 55] == 0  # a blank column each side
    assert mask[10, 45:55].all() and mask[29, 45:55].all()  # but the bars are drawn


def test_legacy_dot_or_dash_sits_in_the_gap_between_the_groups():
    from trainer.render import _separator

    def letters_and_digits(gap_from: int, gap_to: int) -> np.ndarray:
        m = np.zeros((60, 200), np.float32)
        for x in (20, 45, gap_from - 20):
            m[15:45, x : x + 20] = 1.0
        for x in (gap_to, gap_to + 25, gap_to + 50):
            m[15:45, x : x + 20] = 1.0
        return m

    centres = np.float32([[30, 30], [55, 30], [90, 30], [130, 30], [155, 30], [180, 30]])
    for dash in (False, True):
        for jitter in (-0.2, 0.0, 0.2):
            m = letters_and_digits(100, 120)
            before = m.copy()
            _separator(m, centres, 30, dash, jitter)
            added = np.nonzero((m > 0) & (before == 0))
            assert len(added[1]) and added[1].min() > 100 and added[1].max() < 120
    m = letters_and_digits(100, 102)  # no room between the groups: none drawn
    before = m.copy()
    _separator(m, np.float32([[30, 30], [55, 30], [90, 30], [112, 30], [137, 30], [162, 30]]),
               30, True, 0.0)
    assert (m == before).all()


def test_data_workers_stop_when_training_is_killed():
    """A training run killed outright cannot stop its data workers; they notice and exit."""
    code = (
        "import time\n"
        "from trainer.generate import BatchStream, Sources\n"
        "if __name__ == '__main__':\n"
        "    s = BatchStream(Sources.resolve(), 0, 8, workers=1, depth=1)\n"
        "    print(s.procs[0].pid, flush=True)\n"
        "    next(iter(s))\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(600)\n"
    )
    import os
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            text=True)
    try:
        worker = int(proc.stdout.readline())
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                return
            time.sleep(0.5)
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the data worker outlived the killed training process")
    finally:
        proc.kill()


@needs_weights
def test_synthetic_scenes_are_labelled_for_anprd_eval_and_read(tmp_path):
    out = tmp_path / "scenes"
    trainer_scenes(out, "--count", "8", "--seed", "3")
    with (out / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["file"] for r in rows} == {f"scene_{i:05d}.jpg" for i in range(8)}
    plates = [r["plate"] for r in rows if r["plate"]]
    assert plates and all(len(p) in (6, 7) for p in plates)
    assert cv2.imread(str(out / rows[0]["file"])).shape == (540, 960, 3)
    r = subprocess.run([sys.executable, "-m", "anprd", "eval", str(out)],
                       cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["n"] == len(plates)
    assert figures["exact"] >= 0.5, r.stdout


@needs_weights
def test_small_synthetic_scenes_are_read_once_the_detector_enlarges_them(tmp_path):
    # The same scenes shrunk to 320 x 180: plates of 23 to 80 px, mostly under the window's
    # smallest present width until the detector enlarges small pictures.
    out = tmp_path / "small"
    trainer_scenes(out, "--count", "8", "--seed", "3", "--size", "320x180")
    assert cv2.imread(str(out / "scene_00000.jpg")).shape == (180, 320, 3)
    r = subprocess.run([sys.executable, "-m", "anprd", "eval", str(out)],
                       cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["exact"] >= 0.3, r.stdout


@needs_weights
def test_synthetic_crops_are_labelled_for_anprd_eval_crops_and_read(tmp_path):
    out = tmp_path / "crops"
    trainer_scenes(out, "--crops", "--count", "20", "--seed", "3")
    with (out / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == [f"crop_{i:05d}.png" for i in range(20)]
    assert all(len(r["plate"]) in (6, 7) for r in rows)
    for r in rows:  # tight: a present plate's box is over 60% of a side of its window
        h, w = cv2.imread(str(out / r["file"]), cv2.IMREAD_GRAYSCALE).shape
        assert w > 0.5 * WINDOW_W or h > 0.5 * WINDOW_H
        # and under MAX_W_FRAC of its width, plus at most 4% of the box on each side
        assert w <= (MAX_W_FRAC * 1.08) * WINDOW_W + 1 and h <= WINDOW_H
    r = subprocess.run([sys.executable, "-m", "anprd", "eval", "--crops", str(out)],
                       cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["n"] == 20 and figures["exact"] >= 0.5, r.stdout


def test_scenes_refuse_a_size_larger_than_drawn(tmp_path):
    r = subprocess.run([sys.executable, "-m", "trainer", "scenes", "--count", "1",
                        "--size", "1920x1080", "--out", str(tmp_path)],
                       cwd=REPO_ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "960x540" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("widget", ["_forecast_box", "_logo_box"])
def test_tv_widgets_are_drawn_on_a_copy_of_the_window(widget):
    from trainer import compose as scene
    from trainer.fonts import load_fonts

    draw = getattr(scene, widget)
    fonts = load_fonts()
    rng = np.random.default_rng(2)
    for _ in range(50):
        bg = np.full((64, 128), 0.5, np.float32)
        win = draw(rng, bg, fonts[0])
        assert win.shape == (64, 128) and bg.min() == bg.max() == 0.5
        assert np.abs(win - 0.5).max() > 0.2  # a panel was drawn on the window
        assert -0.2 <= win.min() and win.max() <= 1.2  # the camera stage clips to 0..1


def test_overlay_boxes_never_spell_a_plate():
    import re

    from trainer.compose import _overlay_text

    rng = np.random.default_rng(0)
    texts = [_overlay_text(rng) for _ in range(2000)]
    plate = re.compile(r"^([A-Z]{3}\d{3}|[A-Z]{2}\d{3}[A-Z]{2})$")
    assert not [t for t in texts if plate.match(t.replace(" ", ""))]
    assert len(set(texts)) > 500


def test_legacy_plates_come_flat_and_embossed_with_their_characters_in_the_field():
    from trainer.fonts import load_fonts
    from trainer.render import render_legacy

    font = load_fonts()[0]
    embossed = 0
    for k in range(60):
        p = render_legacy(np.random.default_rng(k), font, font)
        h, w = p.image.shape
        xs, ys = p.centres[:, 0], p.centres[:, 1]
        assert np.all(np.diff(xs) > 0) and np.all((0 < xs) & (xs < w))
        rim = np.median(p.image[: max(1, h // 12)])  # the top strip
        field = np.median(p.image[h // 3 : 2 * h // 3, : w // 12 + 1])  # beside the text
        # The embossed look: a bright rim around a dark field, the characters inside it,
        # lower on the plate than its middle (the rim above carries ARGENTINA).
        if rim - field > 0.2 and ys.mean() > 0.5 * h:
            embossed += 1
    assert 0.3 * 60 < embossed < 0.75 * 60, embossed


def test_the_legacy_typeface_builds_with_every_plate_character_in_the_lettering(tmp_path):
    from trainer.fonts import load_font
    from trainer.lettering import STYLES, draw_glyph
    from trainer.typeface import build

    font = load_font(build(tmp_path / "legacy.ttf"))  # what `make setup` does
    assert set(PLATE_CHARS) <= set(font.glyphs)
    def iou(ch: str, other: str) -> float:
        drawn = draw_glyph(ch, STYLES[0]) > 127
        got = cv2.resize(font.glyphs[other], drawn.shape[::-1], interpolation=cv2.INTER_AREA)
        return (drawn & (got > 127)).sum() / (drawn | (got > 127)).sum()

    for ch in PLATE_CHARS:  # the outlines are the stroke lettering's shapes
        assert iou(ch, ch) > 0.7, ch
    r = subprocess.run([sys.executable, "-m", "trainer", "typeface", "--out",
                        str(tmp_path / "x.otf")], cwd=REPO_ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "name it .ttf" in r.stderr


def test_mercosur_m_and_w_come_with_vertical_legs_and_a_shallow_v():
    from trainer.fonts import load_fonts
    from trainer.lettering import SHALLOW_DEPTHS, with_shallow_m

    for font in load_fonts():
        for depth in SHALLOW_DEPTHS:
            f = with_shallow_m(font, depth)
            assert f.glyphs["H"] is font.glyphs["H"] and f is with_shallow_m(font, depth)
            m, w = f.glyphs["M"] > 127, f.glyphs["W"] > 127
            for g in (m, w):  # legs: ink down both sides, top to bottom
                assert g[:, :3].max(1).mean() > 0.85 and g[:, -3:].max(1).mean() > 0.85
            h = m.shape[0]
            centre_m = np.flatnonzero(m[:, m.shape[1] // 2])
            centre_w = np.flatnonzero(w[:, w.shape[1] // 2])
            assert centre_m.max() < 0.7 * h and centre_w.min() > 0.3 * h  # the V stays shallow
@needs_weights
def test_a_legacy_plate_in_the_typeface_is_read_by_the_shipped_reader(tmp_path):
    from pathlib import Path

    from anprd.detect.loading import load_detector
    from trainer.fonts import load_font
    from trainer.render import render_legacy
    from trainer.typeface import build

    font = load_font(build(tmp_path / "legacy.ttf"))
    small = load_font(Path(find_font_files()[0]))
    detector = load_detector(REPO_ROOT / "weights" / "anprd.keras",
                             reader_weights=REPO_ROOT / "weights" / "wide.keras")
    read = 0
    texts = ("MIG060", "KWH671", "NMM840", "OOH058")
    for k, text in enumerate(texts):
        p = render_legacy(np.random.default_rng(k), font, small, text)
        crop = np.clip(p.image * 255, 0, 255).astype(np.uint8)
        (r,) = detector.read_crops([crop], ("legacy_ar", "mercosur_ar"))
        read += r is not None and r.plate == text
    assert read >= 3, read


def test_half_the_lettering_styles_draw_the_legacy_4_with_a_flat_top():
    import numpy as np

    from trainer.lettering import STYLES, draw_glyph

    def top_share(style) -> float:
        """How much of the 4's width its top twelfth inks."""
        g = draw_glyph("4", style) > 127
        cols = np.nonzero(g[: max(1, g.shape[0] // 12)].any(0))[0]
        return (cols.max() - cols.min() + 1) / g.shape[1]

    flat = [s for s in STYLES if s.flat4]
    assert len(flat) == len(STYLES) // 2
    # The flat top spans half the glyph; a triangle's apex, a third at most.
    assert all(top_share(s) > 0.45 for s in flat)
    assert all(top_share(s) < 0.4 for s in STYLES if not s.flat4)
