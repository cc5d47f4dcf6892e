"""Street wear (`--street-wear`): peeled ink and stickers change the look, never the label,
and draw nothing when the option is off."""

from __future__ import annotations

import numpy as np

from trainer.compose import random_plate
from trainer.fonts import load_fonts
from trainer.generate import ChunkMaker, Sources
from trainer.street_wear import peeled, with_sticker


def _text_mask() -> np.ndarray:
    mask = np.zeros((52, 160), np.float32)
    for x in range(8, 150, 20):  # seven bars a character wide
        mask[12:44, x:x + 12] = 1.0
    return mask


def test_peeling_only_takes_ink_away_in_patches():
    mask = _text_mask()
    for k in range(20):
        out = peeled(np.random.default_rng(k), mask)
        assert out.shape == mask.shape and (out <= mask + 1e-6).all()
        lost = 1 - out[mask > 0].sum() / mask.sum()
        assert 0.01 < lost < 0.35, (k, lost)
        assert (out[mask > 0] > 0.5).mean() > 0.6  # most of the ink stays


def test_a_sticker_sits_in_a_corner_and_keeps_the_label():
    fonts = load_fonts()
    for k in range(20):
        plate = random_plate(np.random.default_rng(k), fonts)
        stuck = with_sticker(np.random.default_rng(100 + k), plate)
        assert stuck.text == plate.text and stuck.format == plate.format
        changed = np.abs(stuck.image - plate.image) > 1e-3
        assert changed.any()
        cols = np.where(changed.any(0))[0]
        w = plate.image.shape[1]
        assert cols.max() - cols.min() < 0.2 * w  # one sticker, not a smear
        assert cols.max() < 0.2 * w or cols.min() > 0.8 * w  # at one end of the plate


def test_street_wear_changes_some_plates_but_no_text():
    fonts = load_fonts()
    plain = [random_plate(np.random.default_rng(k), fonts) for k in range(60)]
    worn = [random_plate(np.random.default_rng(k), fonts, street_wear=True) for k in range(60)]
    assert [p.text for p in plain] == [p.text for p in worn]
    differ = sum(a.image.shape != b.image.shape or not np.allclose(a.image, b.image)
                 for a, b in zip(plain, worn, strict=True))
    assert differ > 0.15 * 60


def test_without_the_option_the_windows_of_a_seed_are_unchanged():
    off = ChunkMaker(Sources.resolve(), 5).chunk(0, 0, 40)
    again = ChunkMaker(Sources.resolve(street_wear=False), 5).chunk(0, 0, 40)
    on = ChunkMaker(Sources.resolve(street_wear=True), 5).chunk(0, 0, 40)
    assert all((a.image == b.image).all() for a, b in zip(off, again, strict=True))
    assert [s.text for s in on] == [s.text for s in off]
    assert any(not (a.image == b.image).all() for a, b in zip(off, on, strict=True))


def test_the_commands_take_the_option(tmp_path):
    import csv
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT, trainer_scenes

    out = tmp_path / "windows"
    subprocess.run([sys.executable, "-m", "trainer", "generate", "--count", "12", "--workers",
                    "1", "--street-wear", "--out", str(out)], check=True, cwd=REPO_ROOT,
                   capture_output=True)
    assert len(list(out.glob("*.png"))) == 12
    trainer_scenes(tmp_path / "scenes", "--count", "3", "--street-wear")
    rows = list(csv.DictReader((tmp_path / "scenes" / "labels.csv").open()))
    assert rows and len(list((tmp_path / "scenes").glob("*.jpg"))) == 3
