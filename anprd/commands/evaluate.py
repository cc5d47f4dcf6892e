"""`anprd eval DIR [--crops | --as-frames]`: exact reads on a labelled folder of pictures
or crops.

The folder has a `labels.csv` with a `file,plate` header and a row per plate (a picture
with no plate has one row with an empty plate), as in the project's real data. An
optional `width` column gives the plate's width as a share of its picture's width
(`trainer scenes` writes it), and the misses are then split by it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from anprd.commands.args import (
    add_model_args,
    add_read_args,
    detector_from_args,
    read_args_problem,
    read_params,
)
from anprd.commands.eval_report import (
    Miss,
    by_width,
    confusion_lines,
    confusion_tables,
    width_lines,
)
from anprd.detect.formats import FORMATS
from anprd.labels import Labels, Widths, load_labels
from anprd.reads import DEFAULT_MIN_CONFIDENCE, PICTURE_MIN_CONFIDENCE


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="exact reads on a labelled folder",
                              description=__doc__)
    p.add_argument("folder", type=Path, metavar="DIR")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--crops", action="store_true",
                      help="the pictures are tight plate crops, not scenes")
    kind.add_argument("--as-frames", action="store_true",
                      help="search each picture as the daemon searches a camera frame (its "
                           f"pyramid and its floor, {DEFAULT_MIN_CONFIDENCE}), not as a "
                           "picture read alone")
    p.add_argument("--verbose", "-v", action="store_true", help="a line per picture")
    p.add_argument("--sheet", type=Path, metavar="FILE.png",
                   help="write a contact sheet of every miss and misread to this PNG file")
    add_read_args(p, floor_help=f"{PICTURE_MIN_CONFIDENCE}, {DEFAULT_MIN_CONFIDENCE} with "
                                "--as-frames; with --crops every crop's reading counts, "
                                "whatever its confidence")
    add_model_args(p)
    p.set_defaults(func=run)


def format_of(plate: str) -> str:
    """The format a labelled plate is written in, or 'other'."""
    pattern = "".join("L" if c.isalpha() else "D" for c in plate)
    for name, classes in FORMATS.items():
        if classes.rstrip("_") == pattern:
            return name
    return "other"


def _distance(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))


def _confusions(truth: str, got: str) -> list[str]:
    if len(truth) != len(got):
        return [f"{truth}->{got or '-'}"]
    return [f"{a}->{b}" for a, b in zip(truth, got, strict=True) if a != b]


def eval_crops(detector, folder: Path, labels: Labels, formats, verbose: bool) -> dict:
    from anprd.video.files import PictureError, read_image

    per = defaultdict(lambda: [0, 0])
    misses: list[Miss] = []
    pairs: list[tuple[str, str]] = []
    names, crops, truths = [], [], []
    unreadable = 0
    for name, plates in labels.items():
        try:
            crops.append(read_image(folder / name))
        except PictureError as e:
            print(f"anprd eval: {e}", file=sys.stderr)
            unreadable += 1
            truth = plates[0] if plates else ""
            per[format_of(truth)][1] += 1  # a crop that cannot be read is not read right
            misses.append(Miss(name, truth, ""))
            pairs.append((truth, ""))
            continue
        names.append(name)
        truths.append(plates[0] if plates else "")
    t = time.perf_counter()
    reads = detector.read_crops(crops, formats) if crops else []
    ms = (time.perf_counter() - t) * 1000 / max(1, len(crops))
    for name, truth, r in zip(names, truths, reads, strict=True):
        got = r.plate if r else ""
        fmt = format_of(truth)
        per[fmt][1] += 1
        per[fmt][0] += got == truth
        pairs.append((truth, got))
        if got != truth:
            misses.append(Miss(name, truth, got))
        if verbose:
            print(f"{name}: {truth} read {got or '-'} {'ok' if got == truth else 'WRONG'}")
    return _summary(per, misses, pairs, {"ms_per_crop": round(ms, 2), "unreadable": unreadable})


def misread_as(missed: list[str], reads: list) -> dict[str, object]:
    """Each missed plate's reading, among `reads` (the readings that are no label's
    plate): one to one, nearest pairs first, and only a reading with at most half the
    plate's characters wrong, so that another car's plate is not called a misread."""
    near = ((_distance(r.plate, p), i, j) for i, p in enumerate(missed)
            for j, r in enumerate(reads))
    pairs = sorted(t for t in near if t[0] <= len(missed[t[1]]) // 2)
    out: dict[str, object] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if missed[i] not in out and j not in used:
            out[missed[i]] = reads[j]
            used.add(j)
    return out


def eval_scenes(detector, folder: Path, labels: Labels, widths: Widths, params,
                verbose: bool) -> dict:
    from anprd.video.files import PictureError, read_image

    per = defaultdict(lambda: [0, 0])
    misses: list[Miss] = []
    pairs: list[tuple[str, str]] = []
    false_plates = pictures = unreadable = 0
    times = []
    for name, truth in labels.items():
        for plate in truth:
            per[format_of(plate)][1] += 1
        try:
            img = read_image(folder / name)
        except PictureError as e:
            print(f"anprd eval: {e}", file=sys.stderr)
            unreadable += 1
            reads = None  # a picture that cannot be read has its plates missed
        else:
            t = time.perf_counter()
            reads = detector.detect([img], [params])[0]
            times.append((time.perf_counter() - t) * 1000)
            pictures += 1
        got = [r.plate for r in reads or []]
        missed = [p for p in truth if p not in got]
        near = misread_as(missed, [r for r in reads or [] if r.plate not in truth])
        for plate in truth:
            r = near.get(plate)
            pairs.append((plate, plate if plate in got else r.plate if r else ""))
            if plate in got:
                per[format_of(plate)][0] += 1
            else:
                misses.append(Miss(name, plate, r.plate if r else "", widths.get((name, plate)),
                                   r.box if r else None))
        extra = [g for g in got if g not in truth]
        false_plates += len(extra)
        if verbose and reads is not None:
            print(f"{name}: expected {' '.join(truth) or '-'}; read {' '.join(got) or '-'}"
                  f"{'; not in labels: ' + ' '.join(extra) if extra else ''} "
                  f"({times[-1]:.0f} ms)")
    extra = {
        "missed": len(misses),
        "false_plates": false_plates,
        "pictures": pictures,
        "false_per_picture": round(false_plates / max(1, pictures), 3),
        "ms_median": round(statistics.median(times), 1) if times else None,
        "unreadable": unreadable,
        "by_width": by_width([widths.get((f, p)) for f, ps in labels.items() for p in ps],
                             [m.width for m in misses]),
    }
    return _summary(per, misses, pairs, extra)


def _summary(per, misses: list[Miss], pairs: list[tuple[str, str]], extra: dict) -> dict:
    right = sum(v[0] for v in per.values())
    n = sum(v[1] for v in per.values())
    out = {"exact": round(right / max(1, n), 4), "right": right, "n": n, **extra}
    for fmt, (r, k) in sorted(per.items()):
        out[fmt] = {"exact": round(r / max(1, k), 4), "right": r, "n": k}
    confusions = Counter(c for m in misses for c in _confusions(m.expected, m.read))
    out["confusions"] = confusions.most_common(10)
    out["tables"] = confusion_tables(pairs)
    out["misses"] = misses
    return out


def run(args) -> int:
    try:
        labels, widths = load_labels(args.folder)
    except (OSError, ValueError) as e:
        print(f"anprd eval: {e}", file=sys.stderr)
        return 2
    from anprd.commands.eval_sheet import sheet_problem

    problem = read_args_problem(args) or sheet_problem(args.sheet)
    if problem:
        print(f"anprd eval: {problem}", file=sys.stderr)
        return 2
    detector = detector_from_args(args)
    if detector is None:
        return 2
    if args.crops:
        s = eval_crops(detector, args.folder, labels, tuple(args.formats), args.verbose)
    else:
        picture, frame = read_params(args)
        params = frame if args.as_frames else picture
        s = eval_scenes(detector, args.folder, labels, widths, params, args.verbose)
        s["searched_as"] = "pictures" if params.max_pixels else "camera frames"
    notes, failed = [], bool(s["unreadable"])
    if args.sheet:
        from anprd.commands.eval_sheet import MAX_TILES, write_sheet
        from anprd.video.files import read_image

        try:  # a sheet that cannot be written still leaves the figures printed
            n = write_sheet(args.sheet, args.folder, s["misses"], read_image)
            more = len(s["misses"]) - n
            notes.append(f"contact sheet of {n} misses and misreads: {args.sheet}"
                         + (f" (the first {MAX_TILES}; {more} more not drawn)" if more else ""))
        except OSError as e:
            print(f"anprd eval: {e}", file=sys.stderr)
            failed = True
    _print(s, args.crops, notes)
    return 1 if failed else 0


def _print(s: dict, crops: bool, notes: list[str]) -> None:
    """The figures, then `notes`, then the whole summary as one JSON line, last."""
    for key in sorted(k for k in s if isinstance(s[k], dict) and "right" in s[k]):
        v = s[key]
        print(f"{key:12s} {v['right']:4d} / {v['n']:4d} read exactly ({v['exact']:.1%})")
    print(f"{'total':12s} {s['right']:4d} / {s['n']:4d} read exactly ({s['exact']:.1%})")
    if not crops:
        print(f"missed {s['missed']}, false plates {s['false_plates']} "
              f"({s['false_per_picture']} per picture), median {s['ms_median']} ms per picture")
        for line in width_lines(s["by_width"]):
            print(line)
    print("worst confusions: " + (", ".join(f"{k} x{n}" for k, n in s["confusions"]) or "none"))
    for line in confusion_lines(s["tables"]):
        print(line)
    if s["unreadable"]:
        print(f"{s['unreadable']} file(s) could not be read: their plates count as not read")
    for line in notes:
        print(line)
    hidden = ("confusions", "tables", "misses")
    print(json.dumps({k: v for k, v in s.items() if k not in hidden}))
