"""`lists:`: the operator's known plates (residents, staff, banned), as config models.

A list comes from the YAML, from a CSV file (`file:`, columns plate and an optional
label; re-read when the config is reloaded on SIGHUP), or both. Plates are stored
without spaces or dashes, in capitals, and must fit a plate format. Matching events to
them is `anprd.output.known_plates`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from anprd.config.fields import FROZEN, fail, resolve_path
from anprd.detect.formats import format_of

LIST_NAME_RE = re.compile(r"[a-z0-9_-]+")
MAX_LABEL = 200
UNLISTED = "unlisted"  # the `list` label of the metrics for events in no list


def normalise_plate(text: str) -> str:
    """"ab 123-cd" -> "AB123CD"."""
    return re.sub(r"[\s.\-]+", "", text).upper()


class PlateEntry(BaseModel):
    model_config = FROZEN

    plate: Annotated[str, Field(strict=True)]
    label: Annotated[str | None, Field(strict=True, max_length=MAX_LABEL)] = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, v: Any) -> Any:
        return {"plate": v} if isinstance(v, str) else v

    @field_validator("plate")
    @classmethod
    def _check_plate(cls, v: str) -> str:
        plate = normalise_plate(v)
        if format_of(plate) is None:
            raise fail("plate", f"{v!r} fits no plate format (AB123CD or ABC123)")
        return plate


class PlateListConfig(BaseModel):
    """One list of `lists:`."""

    model_config = FROZEN

    name: Annotated[str, Field(strict=True)]
    plates: tuple[PlateEntry, ...] = ()
    file: Path | None = None
    cameras: tuple[Annotated[str, Field(strict=True)], ...] | None = None  # None: all
    match_distance: Literal[0, 1] = 0

    @model_validator(mode="before")
    @classmethod
    def _read_file(cls, data: Any, info: ValidationInfo) -> Any:
        """The CSV file's plates join the YAML's, so that a reload re-reads the file."""
        if not isinstance(data, dict) or not isinstance(data.get("file"), str | Path):
            return data
        path = resolve_path(Path(data["file"]), info)
        rows = read_plate_csv(path)
        yaml_plates = data.get("plates") or []
        if not isinstance(yaml_plates, list):
            return data  # a type error, reported for `plates`
        return {**data, "plates": [*yaml_plates, *rows]}

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not LIST_NAME_RE.fullmatch(v):
            raise fail("list_name", f"must use only lowercase letters, digits, '-' and '_' "
                                    f"(got {v!r})")
        if v == UNLISTED:
            raise fail("list_name", f"'{UNLISTED}' is reserved for events in no list")
        return v

    @field_validator("file")
    @classmethod
    def _resolve_file(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else resolve_path(v, info)

    def applies_to(self, camera: str) -> bool:
        return self.cameras is None or camera in self.cameras


def read_plate_csv(path: Path) -> list[dict[str, str | None]]:
    """The rows of a plates CSV (plate[,label]; a first row "plate,label" is a header).
    Problems are pydantic errors naming the file and line."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise fail("file", f"plates file not found: {path}") from None
    except UnicodeDecodeError:
        raise fail("file", f"{path} is not a UTF-8 text file") from None
    except (OSError, csv.Error) as e:
        raise fail("file", f"cannot read the plates file {path}: "
                           f"{getattr(e, 'strerror', None) or e}") from None
    out: list[dict[str, str | None]] = []
    for n, row in enumerate(rows, 1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if n == 1 and cells[0].lower() == "plate":
            continue
        if len(cells) > 2:
            raise fail("file", f"{path} line {n}: expected plate[,label], got {len(cells)} "
                               "columns")
        if format_of(normalise_plate(cells[0])) is None:
            raise fail("file", f"{path} line {n}: {cells[0]!r} fits no plate format "
                               "(AB123CD or ABC123)")
        label = cells[1] if len(cells) > 1 and cells[1] else None
        out.append({"plate": cells[0], "label": label})
    return out


def list_problems(
    lists: Sequence[PlateListConfig], cameras: Iterable[str]
) -> list[tuple[tuple[str | int, ...], str]]:
    """What the lists' models cannot see alone: duplicate names, unknown cameras."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    known = set(cameras)
    seen: dict[str, int] = {}
    for i, lst in enumerate(lists):
        if lst.name in seen:
            problems.append((("lists", i, "name"),
                             f"duplicate list name '{lst.name}' (also lists[{seen[lst.name]}])"))
        seen.setdefault(lst.name, i)
        for j, cam in enumerate(lst.cameras or ()):
            if cam not in known:
                names = ", ".join(sorted(known)) or "none"
                problems.append((("lists", i, "cameras", j),
                                 f"unknown camera '{cam}' (cameras: {names})"))
    return problems
