"""`anprd export --format litert|onnx [--int8] WEIGHTS OUT`: the networks of a weights
file (and of its readers) as files for LiteRT or ONNX Runtime, checked against Keras."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anprd.detect.shipped import readers_for


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="export the networks for LiteRT or ONNX Runtime",
                              description=__doc__)
    p.add_argument("weights", type=Path, metavar="WEIGHTS",
                   help="the .keras file whose presence network finds the plates")
    p.add_argument("out", type=Path, metavar="OUT", help="the export folder to write")
    p.add_argument("--format", choices=("litert", "onnx"), required=True)
    p.add_argument("--int8", action="store_true",
                   help="full-integer int8, calibrated on windows the generator draws")
    p.add_argument("--reader-weights", type=Path, nargs="+", default=(), metavar="FILE",
                   help="the readers to export (default: those `anprd run` uses with "
                        "WEIGHTS)")
    p.add_argument("--fonts", nargs="+", default=(), metavar="DIR",
                   help="extra font folders for the generator's windows")
    p.add_argument("--calibration", type=int, default=512, metavar="N",
                   help="calibration windows for --int8 (default 512, at most 2048)")
    p.add_argument("--check", type=int, default=2000, metavar="N",
                   help="fresh synthetic windows to check the export on (default 2000)")
    p.set_defaults(func=run)


def _problem(args: argparse.Namespace, readers: tuple[Path, ...]) -> str | None:
    for f in [args.weights, *readers]:
        if not f.is_file():
            return f"{f}: no such weights file"
        if f.suffix != ".keras":
            return f"{f}: not a .keras weights file"
    if args.out.exists() and not args.out.is_dir():
        return f"{args.out} is a file, not a folder"
    if args.out.is_dir() and any(args.out.iterdir()) and not (args.out / "export.json").exists():
        return f"{args.out} holds other files: give a new folder or an earlier export's"
    for name, n in (("--calibration", args.calibration), ("--check", args.check)):
        if not 16 <= n <= 2048:
            return f"{name} {n}: give 16 to 2048 windows"
    return None


def run(args: argparse.Namespace) -> int:
    readers = readers_for(args.weights, args.reader_weights)
    problem = _problem(args, readers)
    if problem:
        print(f"anprd export: {problem}", file=sys.stderr)
        return 2
    from anprd.detect.exported import installed

    if not installed("keras"):
        print("anprd export: needs Keras with TensorFlow (pip install 'anprd[keras]', "
              "or make test)", file=sys.stderr)
        return 2
    try:
        from trainer.export import export
        from trainer.fonts import FontError
        from trainer.generate import Sources
    except ImportError as e:
        print(f"anprd export: needs the trainer's packages ({e.name} is missing: "
              "pip install 'anprd[train]')", file=sys.stderr)
        return 2
    try:
        sources = Sources.resolve(args.fonts)
    except FontError as e:
        print(f"anprd export: {e}", file=sys.stderr)
        return 2
    from anprd.detect.backend import select

    select("tensorflow", "cpu")
    log = lambda s: print(f"anprd export: {s}", file=sys.stderr)  # noqa: E731
    e = export(args.weights, list(readers), args.format, args.int8, args.out, sources,
               args.calibration, args.check, log=log)
    c = e.check
    print(f"{e.folder}: {e.name}, plates {c['export']['plate_exact']:.4f} "
          f"(Keras {c['keras']['plate_exact']:.4f}), presence {c['export']['presence']:.4f} "
          f"(Keras {c['keras']['presence']:.4f}) on {c['windows']} synthetic windows: "
          f"{'passed' if e.passed else 'FAILED, so runtime: auto will not choose it'}")
    return 0
