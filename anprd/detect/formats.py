"""Plate formats and decoding the reader's per-position distributions under them.

A format says, for each of the 7 positions, whether a letter, a digit or nothing
belongs there. Decoding under a format folds the probability of a look-alike of the
other class into the allowed one (an "O" read where a digit belongs counts for "0"),
then takes the best allowed character at every position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from anprd.reads import ALPHABET, BLANK, N_CLASSES

LETTER, DIGIT, NONE = "L", "D", "_"
# Position classes; room for more formats (motorcycles, trailers, other countries).
FORMATS: dict[str, str] = {
    "mercosur_ar": "LLDDDLL",  # AB 123 CD
    "legacy_ar": "LLLDDD_",  # ABC 123
}
# The formats the config and the commands accept: those the decoder knows.
KNOWN_FORMATS: tuple[str, ...] = tuple(FORMATS)
# Characters a position can hold, where a format's issued series allow fewer than its
# class. Legacy plates were issued from AAA 000 for new cars (up to the P series by
# 2016) and from R to X for the cars re-plated in 1995: none begins with Q, Y or Z.
SERIES: dict[str, dict[int, str]] = {
    "legacy_ar": {0: "ABCDEFGHIJKLMNOPRSTUVWX"},
}
# Letter <-> digit pairs that plates' typefaces make hard or impossible to tell apart.
LOOKALIKES = {"O": "0", "Q": "0", "D": "0", "I": "1", "Z": "2", "A": "4", "S": "5",
              "G": "6", "T": "7", "B": "8"}
# Below this folded probability at any position, a reading does not fit the format.
MIN_FIT = 0.05

LETTERS = np.array([c.isalpha() for c in ALPHABET] + [False])
DIGITS = np.array([c.isdigit() for c in ALPHABET] + [False])
BLANKS = np.arange(N_CLASSES) == BLANK


def _fold_matrix(to_digits: bool) -> np.ndarray:
    """(37, 37) matrix that moves each look-alike's mass onto its counterpart."""
    m = np.eye(N_CLASSES)
    seen = set()
    for letter, digit in LOOKALIKES.items():
        src, dst = (letter, digit) if to_digits else (digit, letter)
        if src in seen:
            continue  # "0" folds into "O" only, not also into "Q" and "D"
        seen.add(src)
        i, j = ALPHABET.index(src), ALPHABET.index(dst)
        m[i, i] = 0.0
        m[i, j] = 1.0
    return m


FOLD = {DIGIT: _fold_matrix(True), LETTER: _fold_matrix(False), NONE: np.eye(N_CLASSES)}
ALLOWED = {DIGIT: DIGITS, LETTER: LETTERS, NONE: BLANKS}


@dataclass(frozen=True)
class Reading:
    plate: str
    format: str
    confidence: float  # product of the per-character probabilities below
    char_conf: tuple[float, ...]  # one per character of `plate`


def unknown_formats(names) -> list[str]:
    return [n for n in names if n not in FORMATS]


def format_of(plate: str) -> str | None:
    """The format whose pattern (and issued series) `plate` fits, e.g. "AB123CD" ->
    "mercosur_ar"; None when it fits none."""
    for fmt, pattern in FORMATS.items():
        chars = [c for c in pattern if c != NONE]
        if len(plate) != len(chars):
            continue
        series = SERIES.get(fmt, {})
        if all((c.isdigit() if cls == DIGIT else c.isalpha() and c.isascii() and c.isupper())
               and (i not in series or c in series[i])
               for i, (c, cls) in enumerate(zip(plate, chars, strict=True))):
            return fmt
    return None


def _allowed(fmt: str) -> list[np.ndarray]:
    """Per position of the format, which of the 37 classes it may hold."""
    series = SERIES.get(fmt, {})
    out = []
    for i, cls in enumerate(FORMATS[fmt]):
        allowed = ALLOWED[cls].copy()
        if i in series:
            allowed &= np.array([c in series[i] for c in ALPHABET] + [False])
        out.append(allowed)
    return out


ALLOWED_AT = {fmt: _allowed(fmt) for fmt in FORMATS}


def decode_format(probs: np.ndarray, fmt: str) -> Reading | None:
    """Best reading of (7, 37) probabilities under one format, or None if it cannot fit."""
    pattern = FORMATS[fmt]
    chars, char_conf, conf = [], [], 1.0
    for i, cls in enumerate(pattern):
        folded = probs[i] @ FOLD[cls]
        best = int(np.where(ALLOWED_AT[fmt][i], folded, -1.0).argmax())
        p = float(folded[best])
        if p < MIN_FIT:
            return None
        conf *= p
        if cls != NONE:
            chars.append(ALPHABET[best])
            char_conf.append(round(p, 4))
    return Reading("".join(chars), fmt, conf, tuple(char_conf))


def decode(probs: np.ndarray, formats) -> Reading | None:
    """The most probable reading among the allowed formats; None when none fits."""
    best = None
    for fmt in formats:
        r = decode_format(probs, fmt)
        if r is not None and (best is None or r.confidence > best.confidence):
            best = r
    return best


# Floor of a read's probabilities when reads are multiplied, so that one overconfident
# wrong frame cannot veto the others.
PROB_FLOOR = 1e-4


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def combine(probs: list[np.ndarray]) -> np.ndarray:
    """One (7, 37) distribution from several reads of the same plate.

    The product of the per-frame distributions (a sum of log-probabilities), each
    floored at PROB_FLOOR.
    """
    logp = np.sum([np.log(np.maximum(p, PROB_FLOOR)) for p in probs], axis=0)
    return softmax(logp)


def average(probs: list[np.ndarray]) -> np.ndarray:
    """One distribution from several readers' distributions of the same plate: their
    normalised geometric mean. Unlike `combine`, it is no more confident than the
    readers are: they read the same windows, so their agreement is not independent
    evidence the way another frame's is."""
    if len(probs) == 1:
        return probs[0]
    logp = np.mean([np.log(np.maximum(p, PROB_FLOOR)) for p in probs], axis=0)
    return softmax(logp)
