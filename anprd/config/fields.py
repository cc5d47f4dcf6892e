"""Building blocks of the config models: shared field types, path resolution, errors.

Every section's model (in `anprd.config.sections`, `lists` and `sinks`) uses these, so
that a path, a pixel count or a plate format means the same everywhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from anprd.config.problems import _did_you_mean
from anprd.detect.formats import KNOWN_FORMATS


def fail(kind: str, message: str) -> PydanticCustomError:
    # The message goes through a "{message}" template so braces in it are harmless.
    return PydanticCustomError(kind, "{message}", {"message": message})


def base_dir_of(info: ValidationInfo) -> Path | None:
    ctx = info.context
    if isinstance(ctx, Mapping) and ctx.get("base_dir") is not None:
        return Path(ctx["base_dir"])
    return None


def resolve_path(path: Path, info: ValidationInfo) -> Path:
    path = path.expanduser()
    base = base_dir_of(info)
    if base is not None and not path.is_absolute():
        path = base / path
    return Path(os.path.normpath(path))


def round_number(v: Any) -> Any:
    # Pixel coordinates may be written as floats; store whole pixels.
    if isinstance(v, float) and math.isfinite(v):
        return round(v)
    return v


def one_or_list(v: Any) -> Any:
    """A single path where a list of them is expected is a list of one."""
    return [v] if isinstance(v, str | Path) else v


def check_format(name: str) -> str:
    known = KNOWN_FORMATS
    if name not in known:
        raise fail(
            "unknown_format",
            f"unknown plate format '{name}'{_did_you_mean(name, known)}; "
            f"known formats: {', '.join(known)}",
        )
    return name


Coord = Annotated[int, BeforeValidator(round_number), Field(strict=True, ge=0)]
Point = tuple[Coord, Coord]
PosInt = Annotated[int, Field(strict=True, gt=0)]
FormatName = Annotated[str, Field(strict=True), AfterValidator(check_format)]

FROZEN = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
