"""The built-in stroke font: the legacy plates' shapes that no installed face has."""

from __future__ import annotations

import numpy as np

from trainer.fonts import GLYPH_SIZE, PLATE_CHARS, load_fonts
from trainer.render import render_legacy
from trainer.stroke_font import STROKE_FONT_NAMES, stroke_fonts


def _ink(glyph: np.ndarray) -> np.ndarray:
    return glyph > 128


def test_every_plate_character_at_the_glyph_size_in_every_style():
    for font in stroke_fonts():
        assert set(PLATE_CHARS) <= set(font.glyphs), font.name
        assert abs(font.cap_height - GLYPH_SIZE) <= 2
        for ch in PLATE_CHARS:
            g = font.glyphs[ch]
            assert g.dtype == np.uint8 and _ink(g).any(), (font.name, ch)
            if ch not in "MW":  # tall and narrow, as stamped on the plates
                assert g.shape[1] < 0.7 * g.shape[0], (font.name, ch)


def test_o_is_a_rounded_box_with_straight_sides_not_an_oval():
    for font in stroke_fonts():
        o = _ink(font.glyphs["O"])
        left = o[:, : max(2, o.shape[1] // 8)].any(axis=1)
        assert left.mean() > 0.55, font.name  # an ellipse touches its side near the middle


def test_m_middle_vertex_stops_half_way_down():
    for font in stroke_fonts():
        m = _ink(font.glyphs["M"])
        h, w = m.shape
        middle = m[:, w // 2 - 1 : w // 2 + 2].any(axis=1)
        lowest = np.nonzero(middle)[0].max()
        assert 0.4 * h < lowest < 0.75 * h, font.name


def test_the_family_is_among_the_generator_fonts_and_draws_legacy_plates():
    names = {f.name for f in load_fonts()}
    assert STROKE_FONT_NAMES <= names
    rng = np.random.default_rng(0)
    small = load_fonts()[0]
    for font in stroke_fonts():
        plate = render_legacy(rng, font, small, "MOW508")
        assert plate.text == "MOW508" and len(plate.centres) == 6
        assert np.all(np.diff(plate.centres[:, 0]) > 0)
