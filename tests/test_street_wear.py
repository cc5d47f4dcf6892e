"""Street wear (`--street-wear`): peeled ink and stickers change a plate's look, never its
text, pose or the presence label, and draw nothing when the option is off."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

import trainer.compose as compose
import trainer.render as render
import trainer.wear as wear
from tests.conftest import REPO_ROOT, trainer_scenes
from trainer.fonts import load_fonts
from trainer.generate import ChunkMaker, Sources
from trainer.wear import MAX_CHAR_LOSS, peeled, with_sticker


@pytest.fixture(scope="module")
def fonts():
    return load_fonts()


def _bars() -> tuple[np.ndarray, np.ndarray]:
    """Seven bars a character wide, and their centres."""
    mask = np.zeros((52, 160), np.float32)
    xs = np.arange(8, 150, 20)
    for x in xs:
        mask[12:44, x:x + 12] = 1.0
    return mask, np.stack([xs + 6.0, np.full(len(xs), 28.0)], 1)


def test_peeling_only_takes_ink_away_and_no_character_loses_much(fonts):
    mask, centres = _bars()
    for k in range(40):
        out = peeled(np.random.default_rng(k), mask, centres)
        assert out.shape == mask.shape and (out <= mask + 1e-6).all()
        lost = 1 - out.sum() / mask.sum()
        assert 0 < lost < 0.3, (k, lost)
        for x in centres[:, 0].astype(int):
            band = slice(x - 10, x + 10)
            assert out[:, band].sum() >= (1 - MAX_CHAR_LOSS - 0.01) * mask[:, band].sum()


def test_a_sticker_covers_at_most_a_corner_of_the_first_or_last_character(fonts):
    for k in range(30):
        rng = np.random.default_rng(k)
        make = render.render_mercosur if k % 2 else render.render_legacy
        plate = make(rng, fonts[k % len(fonts)], fonts[0])
        stuck = with_sticker(np.random.default_rng(100 + k), plate)
        changed = np.abs(stuck.image - plate.image) > 1e-3
        assert changed.any()
        cols = np.where(changed.any(0))[0]
        xs = plate.centres[:, 0]
        inner = (xs[1:-1].min(), xs[1:-1].max())  # every character but the end ones
        assert cols.max() < inner[0] or cols.min() > inner[1], (k, cols.min(), cols.max())


def test_street_wear_keeps_every_window_but_its_look(fonts):
    plain = ChunkMaker(Sources.resolve(), 5).chunk(0, 0, 60)
    worn = ChunkMaker(Sources.resolve(street_wear=True), 5).chunk(0, 0, 60)
    for a, b in zip(plain, worn, strict=True):
        assert (a.text, a.present) == (b.text, b.present)
        assert (a.corners is None) == (b.corners is None)
        if a.corners is not None:
            np.testing.assert_allclose(a.corners, b.corners)
    differ = sum(not (a.image == b.image).all() for a, b in zip(plain, worn, strict=True))
    assert 0.1 * 60 < differ < 60


def test_without_the_option_street_wear_draws_nothing(fonts, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("street wear drawn with the option off")

    monkeypatch.setattr(wear, "peeled", refuse)
    monkeypatch.setattr(wear, "with_sticker", refuse)
    for k in range(60):
        compose.random_plate(np.random.default_rng(k), fonts)
    ChunkMaker(Sources.resolve(), 5).chunk(0, 0, 30)


def test_the_commands_take_the_option(tmp_path):
    def generate(out, *option):
        subprocess.run([sys.executable, "-m", "trainer", "generate", "--count", "12",
                        "--workers", "1", "--seed", "3", *option, "--out", str(out)],
                       check=True, cwd=REPO_ROOT, capture_output=True)
        return sorted(out.glob("*.png"))

    plain, worn = generate(tmp_path / "plain"), generate(tmp_path / "worn", "--street-wear")
    assert [p.name for p in plain] == [p.name for p in worn] and len(plain) == 12  # labels
    assert any(a.read_bytes() != b.read_bytes() for a, b in zip(plain, worn, strict=True))
    trainer_scenes(tmp_path / "scenes", "--count", "3", "--street-wear")
    rows = list(csv.DictReader((tmp_path / "scenes" / "labels.csv").open()))
    assert rows and len(list((tmp_path / "scenes").glob("*.jpg"))) == 3
