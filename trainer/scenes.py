"""Synthetic scene pictures with their plates: the detector's figures on data that is
free to look at, tune on and regenerate, unlike the real pictures kept for evaluation.

`python -m trainer scenes --out DIR --count N` writes N JPEG pictures and a labels.csv
(`file,plate`, a row per plate, one empty row for a picture with none), the layout
`anprd eval DIR` scores. Each picture is a background with 0 to 3 vehicles, each with a
posed plate, sometimes a news-style caption bar (text that must not be read as a plate),
and camera effects. With `--crops`, tight plate crops for `anprd eval --crops` instead.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from trainer.backgrounds import _car, build_pool, load_photos
from trainer.compose import _place, composite, posed
from trainer.fonts import Font, load_fonts
from trainer.generate import CHUNK, ChunkMaker, PlateMaker, Sources, plate_maker
from trainer.render import text_line

SIZE = (960, 540)  # width, height
PLATE_W = (70.0, 240.0)  # plate box widths in pixels
POOL = 16
CAR_HW = (300, 520)
CAPTION_WORDS = ("ULTIMO MOMENTO", "EN VIVO", "TRANSITO", "Av. Corrientes 1234", "21:45",
                 "CABA", "Ruta 9 km 45", "24 HS", "Noticias", "Sabado 12 de marzo", "ALERTA",
                 "Estacionamiento", "Salida", "Entrada 3", "Cochera", "T 18 C")


def _vehicle(rng, img: np.ndarray, fonts: list[Font], x_slot: tuple[float, float],
             new_plate: PlateMaker) -> tuple[np.ndarray, tuple[str, float]]:
    """The picture with a car and its posed plate drawn in the slot's width; the plate's
    text and width in pixels."""
    H_img = img.shape[0]
    plate = new_plate(rng)
    lo, hi = x_slot
    pw = rng.uniform(PLATE_W[0], min(PLATE_W[1], (hi - lo) / 2.2))
    cw = min(hi - lo, pw * rng.uniform(2.2, 4.0))
    ch = cw * rng.uniform(0.45, 0.7)
    cx = rng.uniform(lo + cw / 2, hi - cw / 2)
    cy = rng.uniform(H_img * 0.35, H_img - ch * 0.3)
    car = _car(rng, CAR_HW, fonts[0])  # drawn at a fixed size, then scaled to the slot
    x0, y0 = cx - cw / 2, cy - ch / 2
    A = np.float64([[cw / CAR_HW[1], 0, x0], [0, ch / CAR_HW[0], y0], [0, 0, 1]])
    img = composite(img, car, np.ones_like(car), A)
    H, ratio = posed(rng, plate)
    px = cx - pw / 2 + rng.uniform(-0.1, 0.1) * cw
    py = y0 + ch * rng.uniform(0.45, 0.75) - pw * ratio / 2
    H = _place(H, plate.corners, pw, px, py)
    return composite(img, plate.image, plate.alpha, H), (plate.text, pw)


def _caption(rng, img: np.ndarray, font: Font) -> None:
    """A bar of text across the bottom, as news footage and camera overlays have."""
    H, W = img.shape
    bh = round(H * rng.uniform(0.06, 0.12))
    y0 = H - bh - round(rng.uniform(0, 0.08) * H)
    img[y0 : y0 + bh] = img[y0 : y0 + bh] * rng.uniform(0.0, 0.3) + rng.uniform(0, 0.3)
    text = "  ".join(rng.choice(CAPTION_WORDS, size=int(rng.integers(1, 4)), replace=False))
    m = text_line(font, text, img.shape, round(bh * rng.uniform(0.5, 0.75)), 1.0, 0.08, {},
                  (W * rng.uniform(0.3, 0.6), y0 + bh / 2), 0)[0]
    img *= 1 - m
    img += m * rng.uniform(0.8, 1.0)


def _camera(rng, img: np.ndarray) -> np.ndarray:
    if rng.random() < 0.5:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.3))
    img = (img - 0.5) * rng.uniform(0.7, 1.15) + 0.5 + rng.uniform(-0.15, 0.15)
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(0, 0.03)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def _background(rng: np.random.Generator, pool: list[np.ndarray]) -> np.ndarray:
    """A pool picture stretched to the scene's size, as float32."""
    bg = pool[int(rng.integers(len(pool)))]
    return cv2.resize(bg, SIZE, interpolation=cv2.INTER_LINEAR).astype(np.float32)


def picture(rng: np.random.Generator, pool: list[np.ndarray], fonts: list[Font],
            new_plate: PlateMaker):
    """One (uint8 gray picture, [(plate text, plate width in pixels)]) pair."""
    W, H = SIZE
    img = _background(rng, pool)
    n = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
    plates = []
    for k in range(n):  # side by side, each in its own share of the width
        img, plate = _vehicle(rng, img, fonts, (k * W / n, (k + 1) * W / n), new_plate)
        plates.append(plate)
    if rng.random() < 0.3:
        _caption(rng, img, fonts[int(rng.integers(len(fonts)))])
    return _camera(rng, img), plates


def close_up(rng: np.random.Generator, pool: list[np.ndarray], fonts: list[Font],
             new_plate: PlateMaker):
    """One (uint8 gray picture, [(plate text, width)]) pair: a plate 55% to 95% of the picture's
    width, slightly posed, as a phone or a news camera films it. Its own lettering must
    not be read as more plates."""
    img = _background(rng, pool)
    plate = new_plate(rng)
    H, ratio = posed(rng, plate)
    pw = rng.uniform(0.55, 0.95) * SIZE[0]
    px = rng.uniform(0, SIZE[0] - pw)
    py = rng.uniform(0, max(1.0, SIZE[1] - pw * ratio))
    img = composite(img, plate.image, plate.alpha, _place(H, plate.corners, pw, px, py))
    return _camera(rng, img), [(plate.text, pw)]


def write(out: Path, count: int, seed: int, sources: Sources,
          size: tuple[int, int] = SIZE, close_ups: bool = False) -> None:
    """`count` pictures and their labels.csv; drawn at 960 x 540 and shrunk to `size`
    when it is smaller, so that the same scenes measure small-picture cameras. With
    `close_ups`, each picture is one plate filling most of it (`close_up`). The labels'
    `width` column is each plate's width as a share of the picture's."""
    draw = close_up if close_ups else picture
    fonts = load_fonts(list(sources.font_dirs))
    new_plate = plate_maker(sources, fonts)
    rng = np.random.default_rng([seed, 7])
    pool = build_pool(rng, load_photos(list(sources.photos)), fonts, POOL)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "plate", "width"])
        for i in range(count):
            img, plates = draw(rng, pool, fonts, new_plate)
            if size != SIZE:
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            name = f"scene_{i:05d}.jpg"
            cv2.imwrite(str(out / name), img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 95))])
            for text, width in plates:
                w.writerow([name, text, f"{width / SIZE[0]:.3f}"])
            if not plates:
                w.writerow([name, "", ""])


def write_crops(out: Path, count: int, seed: int, sources: Sources,
                margin: float = 0.04) -> None:
    """`count` tight plate crops and their labels.csv, the layout of `anprd eval --crops`:
    each cut from a generated window with a plate present, around the plate's corners,
    each side moved out or in by up to `margin` of the plate's width (of twice its
    height, top and bottom), as hand-cut real crops are."""
    maker = ChunkMaker(sources, seed)
    rng = np.random.default_rng([seed, 11])
    out.mkdir(parents=True, exist_ok=True)
    written, k = 0, 0
    with (out / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "plate"])
        while written < count:
            # Only as many windows as are likely needed: a chunk's first samples are the
            # same whatever its length, so the crops do not depend on it.
            for s in maker.chunk(k, 0, min(CHUNK, 2 * (count - written) + 64)):
                if written == count or not s.present or s.corners is None:
                    continue
                (x0, y0), (x1, y1) = s.corners.min(0), s.corners.max(0)
                m = rng.uniform(-margin, margin, 4) * np.tile([x1 - x0, 2 * (y1 - y0)], 2)
                a, b = int(max(0, x0 - m[0])), int(max(0, y0 - m[1]))
                c, d = int(min(s.image.shape[1], x1 + m[2])), int(min(s.image.shape[0], y1 + m[3]))
                if c - a < 20 or d - b < 8:
                    continue
                name = f"crop_{written:05d}.png"
                cv2.imwrite(str(out / name), s.image[b:d, a:c])
                w.writerow([name, s.text])
                written += 1
            k += 1
