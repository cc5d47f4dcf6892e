"""`anprd detect FILE...`: plates in pictures and video files, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from anprd.commands.args import (
    add_model_args,
    add_read_args,
    detector_from_args,
    read_args_problem,
    read_params,
)


def _threads(text: str) -> int:
    n = int(text)
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"{n}: give 1 to 256 threads")
    return n


def annotation_name(path: Path, frame: int | None, taken: set[str]) -> str:
    """`name.annotated.jpg` (`name_000120.annotated.jpg` for a video frame): never the
    name of a picture given to read, and not one written before in the same run."""
    stem = path.stem if frame is None else f"{path.stem}_{frame:06d}"
    name, k = f"{stem}.annotated.jpg", 1
    while name in taken:
        k += 1
        name = f"{stem}-{k}.annotated.jpg"
    taken.add(name)
    return name


def register(subparsers) -> None:
    p = subparsers.add_parser("detect", help="read the plates in pictures or video files",
                              description=__doc__)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per picture (or video frame) on stdout")
    p.add_argument("--annotate", type=Path, metavar="DIR",
                   help="write each picture with its plates drawn into DIR")
    p.add_argument("--every", type=int, default=5, metavar="N",
                   help="in videos, look at every Nth frame (default 5)")
    add_read_args(p)
    add_model_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import cv2

    from anprd.output.folders import make_folder
    from anprd.output.plate_json import plate_json
    from anprd.video.files import PictureError, annotate, is_video, read_image, video_frames

    problem = read_args_problem(args)
    if args.annotate and not problem:
        try:  # before the model loads: a typo here should not cost its start-up
            make_folder(args.annotate)
        except OSError as e:
            problem = f"--annotate {args.annotate}: cannot make the folder: {e.strerror}"
    if problem:
        print(f"anprd detect: {problem}", file=sys.stderr)
        return 2
    if not any(p.exists() for p in args.files):  # nothing to read: say so before loading
        for p in args.files:
            print(f"anprd detect: {p}: no such file", file=sys.stderr)
        return 1
    detector = detector_from_args(args)
    if detector is None:
        return 2
    # A video's frames are read as a camera's; pictures one by one (`pyramid.levels_for`).
    params, frame_params = read_params(args)
    failed = 0
    written: set[str] = set()

    def report(path: Path, frame: int | None, img) -> None:
        t = time.perf_counter()
        reads = detector.detect([img], [params if frame is None else frame_params])[0]
        ms = (time.perf_counter() - t) * 1000
        name = str(path) if frame is None else f"{path}#{frame}"
        if args.json:
            obj = {"file": str(path), "width": img.shape[1], "height": img.shape[0],
                   "ms": round(ms, 1),
                   "plates": [plate_json(r, (img.shape[1], img.shape[0])) for r in reads]}
            if frame is not None:
                obj["frame"] = frame
            print(json.dumps(obj), flush=True)
        else:
            plates = ", ".join(
                f"{r.plate} ({r.format}, {r.confidence:.2f}) at {list(r.box)}" for r in reads
            )
            print(f"{name}: {plates or 'no plate'}", flush=True)
        if args.annotate:
            out = args.annotate / annotation_name(path, frame, written)
            if not cv2.imwrite(str(out), annotate(img, reads)):
                raise PictureError(f"{out}: cannot write the annotated picture")

    for path in args.files:
        try:
            if is_video(path):
                for i, frame in video_frames(path, args.every):
                    report(path, i, frame)
            else:
                report(path, None, read_image(path))
        except PictureError as e:
            print(f"anprd detect: {e}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0
