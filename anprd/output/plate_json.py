"""A plate read as JSON: the one shape that `anprd detect --json` and the recognition
API answer with (docs/web-service.md)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from anprd.reads import ALPHABET, BLANK, PlateRead


def _r(x: float) -> float:
    return round(float(x), 4)


def _align(plate: str, probs: np.ndarray) -> list[int] | None:
    """The positions of `probs` that hold the characters of `plate`, in order.

    A 6-character plate sits in 7 positions with one "no character"; the alignment
    chosen is the one the network finds most probable.
    """
    n_pos = probs.shape[0]
    if not plate or len(plate) > n_pos or any(c not in ALPHABET for c in plate):
        return None
    if len(plate) == n_pos:
        return list(range(n_pos))
    logp = np.log(np.clip(probs.astype(np.float64), 1e-12, 1.0))
    idx = [ALPHABET.index(c) for c in plate]
    best, best_score = None, -math.inf
    for combo in itertools.combinations(range(n_pos), len(plate)):
        chosen = set(combo)
        score = sum(logp[p, k] for p, k in zip(combo, idx, strict=True))
        score += sum(logp[p, BLANK] for p in range(n_pos) if p not in chosen)
        if score > best_score:
            best, best_score = list(combo), score
    return best


def plate_json(read: PlateRead, size: tuple[int, int] | None = None) -> dict[str, Any]:
    """One plate of the answer: text, format, confidence, presence, box, characters.

    For each character: `prob` is the network's probability of that character at its
    position, `runner_up` the most probable other character there (the blank "no
    character" class excluded) and `runner_up_prob` its probability. The reported
    character is decoded under the plate format, so it may differ from the network's
    single favourite (a letter place turns a '0' into an 'O'); then `runner_up_prob`
    is the larger.
    """
    probs = getattr(read, "probs", None)
    positions = None
    if isinstance(probs, np.ndarray) and probs.ndim == 2 and probs.shape[1] == len(ALPHABET) + 1:
        positions = _align(read.plate, probs)
    characters = []
    for i, ch in enumerate(read.plate):
        item: dict[str, Any] = {"char": ch}
        if positions is not None:
            pos = positions[i]
            row = probs[pos, : len(ALPHABET)].astype(np.float64)
            k = ALPHABET.index(ch)
            other = row.copy()
            other[k] = -1.0
            j = int(np.argmax(other))
            item.update(
                position=pos,
                prob=_r(row[k]),
                runner_up=ALPHABET[j],
                runner_up_prob=_r(row[j]),
            )
        else:
            conf = read.char_conf[i] if i < len(read.char_conf) else read.confidence
            item.update(position=i, prob=_r(conf), runner_up=None, runner_up_prob=None)
        characters.append(item)
    box = [int(v) for v in read.box]
    if size is not None:  # within the picture: (width, height)
        w, h = size
        box = [
            min(max(box[0], 0), w),
            min(max(box[1], 0), h),
            min(max(box[2], 0), w),
            min(max(box[3], 0), h),
        ]
    return {
        "plate": read.plate,
        "format": read.format,
        "confidence": _r(read.confidence),
        "presence": _r(read.presence),
        "box": box,
        "characters": characters,
    }
