"""Options that several subcommands share (the model's, the reading's, a frame size) and
the detector they load, with a clear message instead of a traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anprd.detect.formats import KNOWN_FORMATS
from anprd.detect.shipped import DEFAULT_WEIGHTS, readers_for
from anprd.reads import DEFAULT_MIN_CONFIDENCE, PICTURE_MIN_CONFIDENCE
from anprd.video.image_headers import MAX_PICTURE_PIXELS


def _threads(text: str) -> int:
    n = int(text)
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"{n}: give 1 to 256 threads")
    return n


def add_model_args(p: argparse.ArgumentParser, runtimes: tuple[str, ...] = ()) -> None:
    p.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS,
                   help=f"weights file (default {DEFAULT_WEIGHTS})")
    p.add_argument("--reader-weights", type=Path, nargs="+", default=(), metavar="FILE",
                   help="read the candidates with these weights files' readers, their "
                        "readings averaged (default: for the shipped weights the shipped "
                        "pair, else the reader of --weights)")
    p.add_argument("--backend", choices=("tensorflow", "jax"), default="tensorflow")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    from anprd.detect.runtime_choice import RUNTIMES

    p.add_argument("--runtime", choices=(*RUNTIMES, *runtimes),
                   default="auto", help="what runs the networks (default auto: the fastest "
                   "installed export of the weights that passed its check, else Keras)")
    p.add_argument("--exports", type=Path, nargs="+", default=None, metavar="DIR",
                   help="folders of exports, or exports (default: the weights' folder)")
    p.add_argument("--threads", type=_threads, default=None, metavar="N",
                   help="the runtime's threads (default: every core)")


def add_read_args(p: argparse.ArgumentParser, floor_help: str | None = None) -> None:
    p.add_argument("--formats", nargs="+", default=list(KNOWN_FORMATS), metavar="FORMAT",
                   help=f"plate formats to accept (default: {' '.join(KNOWN_FORMATS)})")
    floor_help = floor_help or (f"{PICTURE_MIN_CONFIDENCE} in pictures, "
                                f"{DEFAULT_MIN_CONFIDENCE} in video frames, as for cameras")
    p.add_argument("--min-confidence", type=float, default=None,
                   help=f"drop readings less probable than this (default: {floor_help})")


def read_params(args):
    """What a picture read alone and what a video's frame (a camera's) ask of the
    detector: their pyramids and their floors, `--min-confidence` for both when given."""
    from anprd.reads import DetectParams

    if args.min_confidence is None:
        picture_floor, frame_floor = PICTURE_MIN_CONFIDENCE, DEFAULT_MIN_CONFIDENCE
    else:
        picture_floor = frame_floor = args.min_confidence
    return (DetectParams.for_picture(tuple(args.formats), picture_floor),
            DetectParams(tuple(args.formats), frame_floor))


def read_args_problem(args) -> str | None:
    """What is wrong with the reading options, checked before the model is loaded."""
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        return f"--min-confidence {args.min_confidence} is not a probability from 0 to 1"
    if getattr(args, "every", 1) < 1:
        return f"--every {args.every}: look at every Nth frame, N at least 1"
    return None


def detector_from_args(args):
    """The detector, or a clear message and exit code 2 (never a traceback)."""
    from anprd.detect.detector import DetectorError
    from anprd.detect.formats import unknown_formats
    from anprd.detect.loading import load_detector

    bad = unknown_formats(getattr(args, "formats", ()))
    if bad:
        from anprd.detect.formats import FORMATS

        print(f"anprd: unknown format {bad[0]!r}: use {', '.join(FORMATS)}", file=sys.stderr)
        return None
    try:
        return load_detector(args.weights, args.backend, args.device,
                             readers_for(args.weights, args.reader_weights),
                             runtime=args.runtime, threads=args.threads,
                             exports=args.exports)
    except DetectorError as e:
        print(f"anprd: {e}", file=sys.stderr)
        return None


def parse_size(s: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {s!r} is not WxH, e.g. 640x480") from None
    if w < 128 or h < 64:
        raise ValueError(f"size {s} is smaller than the 128 x 64 window")
    if w * h > MAX_PICTURE_PIXELS:
        raise ValueError(f"size {s} is over {MAX_PICTURE_PIXELS:,} pixels, "
                         "the most a picture may have")
    return w, h
