"""`anprd eval --sheet FILE`: a contact sheet (PNG) of every miss and misread.

Each tile shows the picture (or, where a reading was made, the part of the picture
around it), and under it what was expected and what was read, so that the next gap can
be seen instead of guessed.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from anprd.commands.eval_report import Miss
from anprd.video.files import PictureError

TILE_W, TILE_H = 256, 112  # the picture's part of a tile
CAPTION_H = 36
COLUMNS = 6
MAX_TILES = 600  # a sheet stays a picture one can open


def sheet_problem(path: Path | None) -> str | None:
    """What is wrong with `--sheet PATH` before any work is done, or None."""
    if path is None:
        return None
    if path.suffix.lower() != ".png":
        return f"--sheet {path}: the contact sheet is a PNG file (name it .png)"
    if path.is_dir():
        return f"--sheet {path}: is a folder, not a file"
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"--sheet {path}: {parent} is a file, not a folder"
    return None


def _fit(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """The picture scaled to fit w x h, centred on grey."""
    ih, iw = img.shape[:2]
    s = min(w / iw, h / ih)
    small = cv2.resize(img, (max(1, round(iw * s)), max(1, round(ih * s))),
                       interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.full((h, w, 3), 96, np.uint8)
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def _around(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part of the picture around a box, with room of half the box on each side."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) // 2 + 4, (y2 - y1) // 2 + 4
    h, w = img.shape[:2]
    part = img[max(0, y1 - my) : min(h, y2 + my), max(0, x1 - mx) : min(w, x2 + mx)]
    return part if part.size else img


def tile(img: np.ndarray, miss: Miss) -> np.ndarray:
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img[..., :3]
    view = img if miss.box is None else _around(img, miss.box)
    out = np.full((TILE_H + CAPTION_H, TILE_W, 3), 255, np.uint8)
    out[:TILE_H] = _fit(view, TILE_W, TILE_H)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(out, f"expected {miss.expected or '-'}", (4, TILE_H + 14), font, 0.42,
                (0, 110, 0), 1, cv2.LINE_AA)
    cv2.putText(out, f"read {miss.read or '-'}", (4, TILE_H + 30), font, 0.42,
                (0, 0, 200), 1, cv2.LINE_AA)
    name = miss.file if len(miss.file) <= 34 else "..." + miss.file[-31:]
    cv2.putText(out, name, (3, 11), font, 0.33, (255, 255, 255), 2, cv2.LINE_AA)
    cv2.putText(out, name, (3, 11), font, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def write_sheet(path: Path, folder: Path, misses: list[Miss], read_image) -> int:
    """Write the sheet of `misses` (pictures read from `folder` by `read_image`) to
    `path`; returns the number of tiles. No misses: a sheet saying so."""
    tiles = []
    for m in misses[:MAX_TILES]:
        try:
            img = read_image(folder / m.file)
        except PictureError:  # a picture that could not be read was reported already
            img = np.full((TILE_H, TILE_W), 64, np.uint8)
        tiles.append(tile(img, m))
    if not tiles:
        blank = np.full((TILE_H + CAPTION_H, TILE_W, 3), 255, np.uint8)
        cv2.putText(blank, "no misses", (60, 70), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 110, 0), 2)
        tiles = [blank]
    while len(tiles) % COLUMNS and len(tiles) > COLUMNS:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i : i + COLUMNS]) for i in range(0, len(tiles), COLUMNS)]
    sheet = np.vstack(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), sheet):
        raise OSError(f"cannot write the sheet {path}")
    return len(misses[:MAX_TILES])
