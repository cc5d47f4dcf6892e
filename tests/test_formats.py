"""Decoding under plate formats."""

from __future__ import annotations

import numpy as np

from anprd.detect.formats import combine, decode
from anprd.reads import ALPHABET, BLANK, N_CLASSES


def dist(text: str, sure: float = 0.9, **override) -> np.ndarray:
    """(7, 37) probabilities that read `text` (blank-padded), with overrides by position."""
    p = np.full((7, N_CLASSES), (1 - sure) / (N_CLASSES - 1))
    for i in range(7):
        c = ALPHABET.index(text[i]) if i < len(text) else BLANK
        p[i, c] = sure
    for pos, (ch, q) in override.items():
        i = int(pos[1:])
        p[i] = (1 - q) / (N_CLASSES - 1)
        p[i, ALPHABET.index(ch)] = q
    return p


def test_mercosur_and_legacy():
    r = decode(dist("AB123CD"), ["mercosur_ar", "legacy_ar"])
    assert (r.plate, r.format) == ("AB123CD", "mercosur_ar")
    assert 0.4 < r.confidence <= 1 and len(r.char_conf) == 7
    r = decode(dist("ABC123"), ["mercosur_ar", "legacy_ar"])
    assert (r.plate, r.format) == ("ABC123", "legacy_ar")


def test_letter_where_a_digit_belongs_becomes_the_digit():
    r = decode(dist("AB1O3CD"), ["mercosur_ar"])  # an O read in the digit group
    assert r.plate == "AB103CD"
    r = decode(dist("A8123CD"), ["mercosur_ar"])  # an 8 read in the letter group
    assert r.plate == "AB123CD"
    r = decode(dist("ABC1S3"), ["legacy_ar"])
    assert r.plate == "ABC153"


def test_reading_that_fits_no_allowed_format_is_dropped():
    # A clean legacy reading, but only Mercosur allowed: the blank cannot be a letter.
    assert decode(dist("ABC123"), ["mercosur_ar"]) is None
    # Letters everywhere (a word, not a plate) fit neither format.
    assert decode(dist("HELLOXY", sure=0.99), ["mercosur_ar", "legacy_ar"]) is None


def test_combining_frames_outvotes_one_bad_frame():
    good = dist("AB123CD", 0.7)
    bad = dist("AB123CD", 0.7, p3=("8", 0.8))
    assert decode(bad, ["mercosur_ar"]).plate == "AB183CD"
    assert decode(combine([good, good, bad]), ["mercosur_ar"]).plate == "AB123CD"


def test_legacy_plates_begin_only_with_issued_series():
    # No legacy plate begins with Q: a Q read there is the O it looks like.
    p = dist("QPT205", 0.6)
    p[0, ALPHABET.index("O")] = 0.3
    r = decode(p, ["legacy_ar"])
    assert r.plate == "OPT205"
    # Mercosur plates have no such rule, and later legacy letters neither.
    assert decode(dist("QB123CD"), ["mercosur_ar"]).plate == "QB123CD"
    assert decode(dist("AQZ123"), ["legacy_ar"]).plate == "AQZ123"


def test_generated_plates_follow_the_series_the_decoder_accepts():
    from trainer.render import random_text

    rng = np.random.default_rng(0)
    firsts = {random_text(rng, "legacy_ar")[0] for _ in range(2000)}
    assert firsts == set("ABCDEFGHIJKLMNOPRSTUVWX")  # every issued series, and only those
    texts = [random_text(rng, "mercosur_ar") for _ in range(200)]
    assert all(decode(dist(t), ["mercosur_ar"]).plate == t for t in texts)


def test_readers_are_averaged_not_multiplied():
    """Two readers of the same windows are not two independent looks: agreeing, they
    give the same confidence as one; disagreeing, the plate is less sure than either."""
    from anprd.detect.formats import average

    one = dist("AB123CD", sure=0.8)
    assert np.allclose(average([one, one]), one)
    assert np.allclose(average([one]), one)
    # combine (frames) would be surer than either read; average stays at their level.
    assert combine([one, one])[0].max() > 0.99
    mixed = average([one, dist("AB123CD", sure=0.8, p2=("7", 0.8))])
    assert mixed.shape == (7, N_CLASSES) and np.allclose(mixed.sum(axis=1), 1)
    assert mixed[0].max() == mixed[0, ALPHABET.index("A")]
    assert mixed[2, ALPHABET.index("1")] < 0.5 and mixed[2, ALPHABET.index("7")] < 0.5
    assert decode(mixed, ["mercosur_ar"]).confidence < decode(one, ["mercosur_ar"]).confidence
