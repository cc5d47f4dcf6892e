"""Search the events log: by plate (a prefix, or the whole plate one character off),
camera and time range, newest first, a page at a time.

The log is read line by line from the start, keeping only the newest `offset + limit`
matches, so memory stays bounded however long the log is; a torn last line is skipped.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_LIMIT = 500


def normalise_plate(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def one_off(a: str, b: str) -> bool:
    """True when `a` and `b` differ by at most one character replaced, added or left out."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def plate_matches(query: str, plate: str) -> bool:
    plate = normalise_plate(plate)
    return plate.startswith(query) or one_off(query, plate)


def parse_time(text: str) -> float:
    """An ISO 8601 time (UTC when no offset is given) as seconds since the epoch."""
    value = text.strip().upper()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    value = re.sub(r"(T\d\d:\d\d):60", r"\1:59", value)  # a leap second
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


@dataclass(frozen=True)
class EventQuery:
    plate: str | None = None  # normalised
    since: float | None = None  # on first_seen, inclusive
    until: float | None = None  # on first_seen, exclusive
    camera: str | None = None
    limit: int = 50
    offset: int = 0

    def matches(self, event: dict[str, Any]) -> bool:
        if self.camera is not None and event.get("camera") != self.camera:
            return False
        if self.plate and not plate_matches(self.plate, str(event.get("plate", ""))):
            return False
        if self.since is not None or self.until is not None:
            try:
                t = parse_time(str(event.get("first_seen", "")))
            except ValueError:
                return False
            if self.since is not None and t < self.since:
                return False
            if self.until is not None and t >= self.until:
                return False
        return True


def search_events(path: Path, query: EventQuery) -> dict[str, Any]:
    """{"events": [...newest first], "total": matches in all, "next_offset": or None}."""
    keep: deque[dict[str, Any]] = deque(maxlen=query.offset + query.limit)
    total = 0
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n") or not raw.strip():
                    continue
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(event, dict) and query.matches(event):
                    total += 1
                    keep.append(event)
    except FileNotFoundError:
        pass
    newest = list(reversed(keep))[query.offset: query.offset + query.limit]
    following = query.offset + len(newest)
    return {"events": newest, "total": total,
            "next_offset": following if following < total else None}
