"""Background pictures for the windows: real photographs and procedural scenes.

A worker keeps a pool of large grayscale backgrounds and cuts each window from a
random one at a random scale, position and flip, so that no two windows share pixels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from trainer.fonts import Font
from trainer.render import text_line

# Debian packages of photographic wallpapers (see README); more with --backgrounds DIR.
SYSTEM_PHOTO_DIRS = (
    "/usr/share/backgrounds/mate",
    "/usr/share/backgrounds/ukui",
    "/usr/share/backgrounds/gnome",
)
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
POOL_SIZE = (360, 480)  # height, width of each pool image


class BackgroundError(Exception):
    pass


def find_photos(extra_dirs: list[str | Path] = ()) -> list[Path]:
    files: list[Path] = []
    for d in SYSTEM_PHOTO_DIRS:
        if Path(d).is_dir():
            files += sorted(p for p in Path(d).rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    for d in extra_dirs:
        d = Path(d)
        if not d.is_dir():
            raise BackgroundError(f"background folder not found: {d}")
        found = sorted(p for p in d.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
        if not found:
            raise BackgroundError(f"no .jpg/.png/.webp picture in background folder: {d}")
        files += found
    return files


PHOTO_MAX_SIDE = 1280  # photos are kept in memory at most this large


def load_photos(paths: list[Path]) -> list[np.ndarray]:
    """The readable photos, grayscale and shrunk, decoded once per worker."""
    out = []
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        h, w = img.shape
        s = min(1.0, PHOTO_MAX_SIDE / max(h, w))
        s = max(s, POOL_SIZE[0] / h, POOL_SIZE[1] / w)  # never smaller than a pool picture
        if s != 1:
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        out.append(img)
    return out


def crop_photo(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random POOL_SIZE crop of a photo at a random scale, in float 0..1."""
    h, w = img.shape
    ph, pw = POOL_SIZE
    s = rng.uniform(1.0, max(1.0, min(h / ph, w / pw)))
    ch, cw = round(ph * s), round(pw * s)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    crop = cv2.resize(img[y : y + ch, x : x + cw], (pw, ph), interpolation=cv2.INTER_AREA)
    return crop.astype(np.float32) / 255.0


def _noise(rng: np.random.Generator, shape: tuple[int, int], octaves: int = 4) -> np.ndarray:
    """Multi-scale value noise in roughly 0..1."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 2)
        small = rng.random((cells, cells)).astype(np.float32)
        out += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= rng.uniform(0.4, 0.7)
    return out / total


def _car(rng: np.random.Generator, shape: tuple[int, int], font: Font) -> np.ndarray:
    """A car front or rear: body panel, bumper lines, lights, grille, an empty plate recess."""
    h, w = shape
    body = rng.uniform(0.05, 0.95)
    img = np.full(shape, body, np.float32)
    img += np.linspace(rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2), h)[:, None]
    for _ in range(int(rng.integers(2, 6))):  # bumper and panel edges
        y = int(rng.integers(0, h))
        cv2.line(img, (0, y), (w, y + int(rng.integers(-20, 20))), float(rng.random()),
                 int(rng.integers(1, 6)), cv2.LINE_AA)
    cy = int(rng.integers(h // 4, 3 * h // 4))
    for cx in (int(rng.integers(0, w // 4)), int(rng.integers(3 * w // 4, w))):  # lights
        axes = (int(rng.integers(20, 70)), int(rng.integers(10, 35)))
        cv2.ellipse(img, (cx, cy), axes, 0, 0, 360, float(rng.uniform(0.5, 1.0)), -1)
    if rng.random() < 0.6:  # grille slats
        x0, x1 = int(rng.integers(w // 5, w // 2)), int(rng.integers(w // 2, 4 * w // 5))
        y0 = int(rng.integers(0, h // 2))
        v = float(rng.uniform(0, 0.4))
        for k in range(int(rng.integers(3, 9))):
            y = y0 + k * int(rng.integers(6, 14))
            cv2.line(img, (x0, y), (x1, y), v, int(rng.integers(2, 5)))
    if rng.random() < 0.5:  # a plate-shaped recess with no plate in it
        pw = int(rng.integers(60, 200))
        ph = int(pw / rng.uniform(2.5, 3.3))
        x, y = int(rng.integers(0, w - pw)), int(rng.integers(0, h - ph))
        cv2.rectangle(img, (x, y), (x + pw, y + ph), float(rng.random()), -1)
    if rng.random() < 0.5:  # a badge or model name
        words = ["TOYOTA", "Corolla", "FIAT", "Cronos", "PEUGEOT 208", "VW", "Gol Trend", "4x4"]
        t = str(rng.choice(words))
        m = text_line(font, t, shape, int(rng.integers(8, 24)), 1.0, 0.1, {},
                      (rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h), 0)[0]
        img = img * (1 - m) + float(rng.random()) * m
    return img


def _bricks(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    img = np.full(shape, rng.uniform(0.3, 0.8), np.float32)
    bh, bw = int(rng.integers(8, 30)), int(rng.integers(20, 70))
    mortar = float(rng.uniform(0, 1))
    for r, y in enumerate(range(0, h, bh)):
        cv2.line(img, (0, y), (w, y), mortar, 2)
        off = (r % 2) * bw // 2
        for x in range(off, w, bw):
            cv2.line(img, (x, y), (x, y + bh), mortar, 2)
    return img + (_noise(rng, shape) - 0.5) * 0.3


def _foliage(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    img = _noise(rng, shape) * rng.uniform(0.3, 0.8)
    for _ in range(int(rng.integers(100, 400))):
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(2, 12)), int(rng.integers(2, 8)))
        cv2.ellipse(img, c, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.random()), -1)
    return img


def _road(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    img = rng.uniform(0.2, 0.6) + (rng.random(shape).astype(np.float32) - 0.5) * 0.2
    img += (_noise(rng, shape) - 0.5) * 0.3
    for _ in range(int(rng.integers(0, 3))):
        x = int(rng.integers(0, w))
        cv2.line(img, (x, 0), (x + int(rng.integers(-200, 200)), h), 0.9, int(rng.integers(3, 12)))
    return img


def _clutter(rng: np.random.Generator, shape: tuple[int, int], font: Font) -> np.ndarray:
    """Urban clutter: rectangles, lines and signs with text that is not a plate."""
    h, w = shape
    img = _noise(rng, shape, 3)
    for _ in range(int(rng.integers(5, 25))):
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        v = float(rng.random())
        if rng.random() < 0.5:
            cv2.rectangle(img, p1, p2, v, -1 if rng.random() < 0.6 else int(rng.integers(1, 4)))
        else:
            cv2.line(img, p1, p2, v, int(rng.integers(1, 5)), cv2.LINE_AA)
    return img


def procedural(rng: np.random.Generator, font: Font) -> np.ndarray:
    kind = rng.integers(0, 6)
    if kind == 0:
        img = _car(rng, POOL_SIZE, font)
    elif kind == 1:
        img = _bricks(rng, POOL_SIZE)
    elif kind == 2:
        img = _foliage(rng, POOL_SIZE)
    elif kind == 3:
        img = _road(rng, POOL_SIZE)
    elif kind == 4:
        img = _clutter(rng, POOL_SIZE, font)
    else:
        img = _noise(rng, POOL_SIZE, int(rng.integers(2, 7)))
    return np.clip(img, 0, 1).astype(np.float32)


def build_pool(
    rng: np.random.Generator, photos: list[np.ndarray], fonts: list[Font], size: int
) -> list[np.ndarray]:
    """`size` backgrounds: half photographs (when there are any), half procedural."""
    pool = []
    n_photo = size // 2 if photos else 0
    for _ in range(n_photo):
        pool.append(crop_photo(photos[int(rng.integers(len(photos)))], rng))
    while len(pool) < size:
        pool.append(procedural(rng, fonts[int(rng.integers(len(fonts)))]))
    return pool


def cut_window(
    rng: np.random.Generator, pool: list[np.ndarray], out_hw: tuple[int, int]
) -> np.ndarray:
    """A random window of `out_hw` from a random pool image: any scale, flips."""
    img = pool[int(rng.integers(len(pool)))]
    oh, ow = out_hw
    H, W = img.shape
    s = rng.uniform(0.5, min(H / oh, W / ow))
    ch, cw = round(oh * s), round(ow * s)
    y, x = int(rng.integers(0, H - ch + 1)), int(rng.integers(0, W - cw + 1))
    win = cv2.resize(img[y : y + ch, x : x + cw], (ow, oh), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        win = win[:, ::-1]
    if rng.random() < 0.2:
        win = win[::-1]
    return np.ascontiguousarray(win)
