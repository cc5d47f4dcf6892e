"""A labelled folder's `labels.csv`: a `file,plate` header and a row per plate, as in the
project's real data and as the daemon's `events.crops` writes it.

A picture with no plate has one row with an empty plate. Optional columns: `width` (the
plate's width as a share of its picture's, which `trainer scenes` writes) and `checked`
(`yes` once a person confirmed or corrected the plate: `anprd label`).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

LABELS = "labels.csv"
COLUMNS = ("file", "plate", "checked")


Labels = dict[str, list[str]]  # picture -> its plates
Widths = dict[tuple[str, str], float]  # (picture, plate) -> width share, where given


def load_labels(folder: Path) -> tuple[Labels, Widths]:
    path = folder / "labels.csv"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: " + ("a file, not a folder" if folder.exists()
                                                 else "no such folder"))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no labels.csv (a file,plate header, a row per plate)")
    try:
        return _read_labels(path)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start}): labels.csv is a CSV "
                         "file of file,plate rows") from None


def _read_labels(path: Path) -> tuple[Labels, Widths]:
    labels: Labels = {}
    widths: Widths = {}
    first_line: dict[tuple[str, str], int] = {}
    # utf-8-sig: a spreadsheet's CSV export often starts with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"file", "plate"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: the header must be file,plate")
        for row in reader:
            if not (row["file"] or "").strip() or row["plate"] is None:
                raise ValueError(f"{path}, line {reader.line_num}: a row is file,plate "
                                 "(the plate may be empty, its comma may not be missing)")
            file, plate = row["file"].strip(), row["plate"].strip().upper().replace(" ", "")
            # One plate cannot be on two vehicles of one picture: a copied row would
            # count it twice.
            if (file, plate) in first_line:
                raise ValueError(f"{path}, line {reader.line_num}: {file},{plate} given twice "
                                 f"(first on line {first_line[file, plate]})")
            first_line[file, plate] = reader.line_num
            plates = labels.setdefault(file, [])
            if plate:
                plates.append(plate)
                width = _width(row.get("width"), path, reader.line_num)
                if width is not None:
                    widths[file, plate] = width
    if not labels:
        raise ValueError(f"{path}: no rows under the file,plate header")
    return labels, widths


def _width(text: str | None, path: Path, line: int) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        w = float(text)
    except ValueError:
        w = -1.0
    if not 0 < w <= 1.5:
        raise ValueError(f"{path}, line {line}: width {text!r} is not a share of the "
                         "picture's width (a number over 0 and at most 1.5, such as 0.35)")
    return w


@dataclass
class Row:
    file: str
    plate: str
    checked: bool = False


def read_rows(folder: Path) -> list[Row]:
    """The rows of a crops folder's labels.csv, in order (for labelling and fine-tuning:
    one plate per file)."""
    load_labels(folder)  # the same checks, with the same messages, as `anprd eval`
    with (folder / LABELS).open(newline="", encoding="utf-8-sig") as fh:
        return [Row(r["file"].strip(), r["plate"].strip().upper().replace(" ", ""),
                    (r.get("checked") or "").strip().lower() == "yes")
                for r in csv.DictReader(fh)]


def write_rows(folder: Path, rows: list[Row]) -> None:
    """labels.csv replaced by `rows` at once (a new file renamed over the old)."""
    tmp = folder / (LABELS + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        out.writerows([r.file, r.plate, "yes" if r.checked else ""] for r in rows)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(folder / LABELS)


def append_row(folder: Path, row: Row) -> None:
    """One row added at the end of labels.csv (its header written first if it is new)."""
    path = folder / LABELS
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        if new:
            out.writerow(COLUMNS)
        out.writerow([row.file, row.plate, "yes" if row.checked else ""])
