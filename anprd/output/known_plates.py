"""Matching events to the operator's lists (`anprd.config.lists`).

`KnownPlates.match(camera, plate)` finds the list entry of an event: an exact match in
any list the camera uses wins (lists in the file's order); else, in lists with
`match_distance: 1`, the one plate one edit away (a character changed, missing or
extra). Two plates of one list one edit away are ambiguous: that list does not match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from anprd.config.lists import PlateListConfig
from anprd.reads import ALPHABET


@dataclass(frozen=True)
class Match:
    """The list entry an event's plate matched."""

    list: str
    label: str | None
    plate: str  # as listed
    distance: int  # 0: exact; 1: one character changed, missing or extra


def neighbours(plate: str) -> set[str]:
    """Every text one edit away from `plate`."""
    out: set[str] = set()
    for i in range(len(plate) + 1):
        for c in ALPHABET:
            out.add(plate[:i] + c + plate[i:])
            if i < len(plate):
                out.add(plate[:i] + c + plate[i + 1:])
        if i < len(plate):
            out.add(plate[:i] + plate[i + 1:])
    out.discard(plate)
    return out


class KnownPlates:
    """The lists, indexed for matching; built again on every reload."""

    def __init__(self, lists: Sequence[PlateListConfig]) -> None:
        self.lists = tuple(lists)
        # Per list: plate -> label (the first entry of a plate listed twice wins).
        self._index: list[dict[str, str | None]] = []
        for lst in self.lists:
            index: dict[str, str | None] = {}
            for entry in lst.plates:
                index.setdefault(entry.plate, entry.label)
            self._index.append(index)

    def __len__(self) -> int:
        return sum(len(i) for i in self._index)

    def match(self, camera: str, plate: str) -> Match | None:
        used = [(lst, idx) for lst, idx in zip(self.lists, self._index, strict=True)
                if lst.applies_to(camera)]
        for lst, idx in used:
            if plate in idx:
                return Match(lst.name, idx[plate], plate, 0)
        near: set[str] | None = None
        for lst, idx in used:
            if lst.match_distance < 1:
                continue
            if near is None:
                near = neighbours(plate)
            found = [p for p in near if p in idx]
            if len(found) == 1:
                return Match(lst.name, idx[found[0]], found[0], 1)
        return None
