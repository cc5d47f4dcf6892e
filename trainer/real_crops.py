"""Labelled real crops for fine-tuning the reader: folders checked and loaded, and
training windows made from a crop as the reader sees one (`anprd eval --crops`), a
little different each time (shifted, scaled, turned, blurred, lit, noisy, JPEG)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from anprd.detect.formats import FORMATS, format_of
from anprd.detect.reader import edge_grey
from anprd.detect.window import READ_W_FRAC, WINDOW_H, WINDOW_W
from anprd.labels import read_rows

MIN_CROPS = 50
SHOWN = 5  # problems listed by name; the rest counted


class CropsError(ValueError):
    """A folder that cannot be fine-tuned on, said in words."""


@dataclass(frozen=True)
class Crop:
    path: Path
    plate: str
    image: np.ndarray  # grayscale uint8


def load_crops(folders: list[Path], min_crops: int = MIN_CROPS) -> list[Crop]:
    """Every labelled crop of the folders (rows with an empty plate, no plate to read,
    are left out); CropsError for labels that fit no format, unreadable pictures, a
    file labelled twice, or fewer than `min_crops` crops in all."""
    crops: list[Crop] = []
    bad: list[str] = []
    for folder in folders:
        try:
            rows = read_rows(folder)
        except (OSError, ValueError) as e:
            raise CropsError(str(e)) from None
        seen: set[str] = set()
        for row in rows:
            if row.file in seen:
                raise CropsError(f"{folder / row.file}: labelled twice; a crop holds one plate")
            seen.add(row.file)
            if not row.plate:
                continue
            if format_of(row.plate) is None:
                bad.append(f"{folder / row.file} {row.plate!r}")
                continue
            image = cv2.imread(str(folder / row.file), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise CropsError(f"{folder / row.file}: missing, or not a picture")
            crops.append(Crop(folder / row.file, row.plate, image))
    if bad:
        more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        raise CropsError("labels that fit no plate format (" + ", ".join(FORMATS) + "): "
                         + "; ".join(bad[:SHOWN]) + more
                         + " (correct them, or leave the plate empty for no plate)")
    if len(crops) < min_crops:
        names = ", ".join(str(f) for f in folders)
        raise CropsError(f"{names}: {len(crops)} labelled crops; fine-tuning needs at least "
                         f"{min_crops}")
    return crops


def split(crops: list[Crop], held_back: float, seed: int) -> tuple[list[Crop], list[Crop]]:
    """(training crops, held-back crops): a `held_back` share, at least one, kept out."""
    order = np.random.default_rng(seed).permutation(len(crops))
    n = max(1, round(held_back * len(crops)))
    return [crops[i] for i in order[n:]], [crops[i] for i in order[:n]]


def crop_window(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 128 x 64 uint8 training window of a tight crop, placed as the reader reads one
    (centred at READ_W_FRAC of the width on its edge's grey), then varied."""
    h, w = crop.shape
    scale = READ_W_FRAC * WINDOW_W / w
    if h * scale > 0.8 * WINDOW_H:
        scale = 0.8 * WINDOW_H / h
    scale *= float(np.exp(rng.uniform(np.log(0.9), np.log(1.1))))
    src = crop.astype(np.float32)
    if scale < 1:  # smoothed as the pyramid shrinks a picture
        src = cv2.GaussianBlur(src, (0, 0), 0.5 / scale)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-3, 3), scale)
    m[0, 2] += WINDOW_W / 2 - w / 2 + rng.uniform(-4, 4)
    m[1, 2] += WINDOW_H / 2 - h / 2 + rng.uniform(-3, 3)
    win = cv2.warpAffine(src, m, (WINDOW_W, WINDOW_H), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=edge_grey(crop))
    if rng.random() < 0.3:
        win = cv2.GaussianBlur(win, (0, 0), rng.uniform(0.3, 1.2))
    mean = float(win.mean())
    win = (win - mean) * rng.uniform(0.7, 1.3) + mean + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        win = win + rng.normal(0, rng.uniform(2, 8), win.shape)
    win = np.clip(win, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, data = cv2.imencode(".jpg", win, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        win = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return win
