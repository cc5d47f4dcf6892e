"""What `anprd eval` tells beyond its totals: where reads fail.

Plain data in, text out: the misses and misreads of a run (`Miss`), the confusion of
characters by position and by character, and misses split by the plate's width as a
share of its picture's width (when labels.csv gives a `width` column).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

# Upper bounds of the plate-width bins, as a share of the picture's width.
WIDTH_BINS = (0.1, 0.3, 0.6, 1.01)
WIDTH_NAMES = ("under 10%", "10-30%", "30-60%", "60-100%")


@dataclass(frozen=True)
class Miss:
    """A plate not read exactly: what was expected, the nearest reading ("" if none),
    the picture it is in, the plate's width share (None if unknown) and the box of the
    nearest reading (None if none)."""

    file: str
    expected: str
    read: str
    width: float | None = None
    box: tuple[int, int, int, int] | None = None


def width_bin(share: float | None) -> str:
    if share is None:
        return "unknown"
    for bound, name in zip(WIDTH_BINS, WIDTH_NAMES, strict=True):
        if share < bound:
            return name
    return WIDTH_NAMES[-1]


def by_width(widths: list[float | None], missed: list[float | None]) -> list[tuple[str, int, int]]:
    """(bin, plates missed, plates) per width bin that has plates, narrowest first."""
    total = Counter(width_bin(w) for w in widths)
    miss = Counter(width_bin(w) for w in missed)
    order = [*WIDTH_NAMES, "unknown"]
    return [(b, miss[b], total[b]) for b in order if total[b]]


def confusion_tables(pairs: list[tuple[str, str]]) -> dict:
    """For (expected, read) pairs of every plate: errors per position and, per expected
    character, how often it was seen, how often misread and what as. Only plates read
    with their own length are compared character by character; the others (not read,
    or read as another format) are counted apart."""
    pos_err: Counter = Counter()  # by (plate length, position)
    pos_n: Counter = Counter()
    seen: Counter = Counter()
    wrong: dict[str, Counter] = defaultdict(Counter)
    other = 0
    for truth, got in pairs:
        if len(truth) != len(got):
            other += 1
            continue
        for i, (ch, r) in enumerate(zip(truth, got, strict=True)):
            pos_n[len(truth), i] += 1
            seen[ch] += 1
            if r != ch:
                pos_err[len(truth), i] += 1
                wrong[ch][r] += 1
    lengths = sorted({n for n, _ in pos_n}, reverse=True)
    return {
        "positions": {n: [(i + 1, pos_err[n, i], pos_n[n, i])
                          for m, i in sorted(pos_n) if m == n] for n in lengths},
        "characters": sorted(((ch, sum(c.values()), seen[ch], c.most_common(3))
                              for ch, c in wrong.items()),
                             key=lambda t: (-t[1], t[0])),
        "other_length": other,
    }


def confusion_lines(tables: dict) -> list[str]:
    lines = [f"plates not read, or read with another length: {tables['other_length']}"]
    if not tables["characters"]:
        return [*lines, "character errors among plates read with their length: none"]
    lines.append("character errors by position (wrong / plates read with their length):")
    for length, rows in tables["positions"].items():
        pos = "  ".join(f"{i}: {e}/{n}" for i, e, n in rows)
        lines.append(f"  {length} characters  {pos}")
    lines.append("character errors by character (wrong / seen, read as):")
    for ch, n_wrong, n_seen, top in tables["characters"]:
        as_ = ", ".join(f"{r} x{k}" for r, k in top)
        lines.append(f"  {ch}  {n_wrong:3d} / {n_seen:<4d} {as_}")
    return lines


def width_lines(rows: list[tuple[str, int, int]]) -> list[str]:
    if not rows:
        return []
    parts = "; ".join(f"{b}: {m} of {n}" for b, m, n in rows)
    return [f"missed by plate width (share of the picture's width): {parts}"]
