"""`python -m trainer eval`: figures on generated windows, and the sheet of those scored wrong."""

from __future__ import annotations

import re
import subprocess
import sys

import cv2
import numpy as np

from anprd.reads import ALPHABET, BLANK
from tests.conftest import REPO_ROOT, needs_weights
from trainer.figures import misses
from trainer.generate import encode_text


def _logits(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 7, len(ALPHABET) + 1), np.float32)
    for k, t in enumerate(texts):
        for i, c in enumerate(encode_text(t, True)):
            out[k, i, BLANK if c < 0 else c] = 5.0
    return out


def test_misses_lists_each_window_once_misreads_first():
    names = ["a.png", "b.png", "c.png", "d.png", "e.png"]
    truth = ["AB123CD", "ABC123", "AB123CD", "", "AB123CD"]
    chars = np.stack([encode_text(t, bool(t)) for t in truth])
    presence = np.float32([[1], [1], [1], [0], [1]])
    called = np.float32([[3], [3], [-3], [3], [-3]])  # c, e: called absent; d: present
    read = _logits(["AB123CD", "ABC128", "AB123CD", "XYZ987", "AB128CD"])
    wrong = misses(names, called, read, presence, chars)
    assert [(m.file, m.expected, m.read) for m in wrong] == [
        ("b.png", "ABC123", "ABC128"),
        ("e.png", "AB123CD", "AB128CD, called no plate"),
        ("c.png", "AB123CD", "no plate"),
        ("d.png", "no plate", "a plate (XYZ987)"),
    ]


def _trainer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trainer", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True)


@needs_weights
def test_eval_prints_figures_and_draws_the_windows_scored_wrong(tmp_path):
    data = tmp_path / "windows"
    assert _trainer("generate", "--count", "60", "--seed", "9", "--workers", "1",
                    "--out", str(data)).returncode == 0
    # One present window labelled with a plate of the other format: scored wrong whatever
    # the weights read.
    first = next(p for p in sorted(data.glob("*_1.png")))
    index, plate, _ = first.name.split("_")
    other = "ZZZ999" if len(plate) == 7 else "ZZ999ZZ"
    first.rename(data / f"{index}_{other}_1.png")
    sheet = tmp_path / "wrong.png"
    r = _trainer("eval", "--weights", "weights/wide.keras", "--data", str(data),
                 "--sheet", str(sheet))
    assert r.returncode == 0, r.stderr
    assert "plate exact match (present windows):" in r.stdout
    shown = re.search(r"wrote .*: (\d+) of (\d+) windows scored wrong", r.stdout)
    assert shown and shown[1] == shown[2] and int(shown[1]) >= 1
    tiles = int(shown[1])
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape == (148 * -(-tiles // 6), 256 * min(tiles, 6), 3)
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "a_file").write_text("x")
    for name, says in (("wrong.jpg", "PNG"), ("folder.png", "folder"),
                       ("a_file/wrong.png", "is a file")):
        bad = _trainer("eval", "--weights", "weights/wide.keras", "--data", str(data),
                       "--sheet", str(tmp_path / name))
        assert bad.returncode == 2 and "--sheet" in bad.stderr and says in bad.stderr
        assert "Traceback" not in bad.stderr and not bad.stdout
