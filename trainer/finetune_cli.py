"""`python -m trainer finetune --crops DIR [--crops DIR ...] --out FILE`: its options,
their checks, and the run (trainer/finetune.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from anprd.detect.shipped import DEFAULT_READERS


def register(sub, with_sources) -> None:
    f = with_sources(sub.add_parser(
        "finetune", help="fine-tune a reader on a site's labelled crops",
        description="Fine-tune the reader of --from on labelled plate crops (folders with "
        "a labels.csv: events.crops, corrected with `anprd label`), mixed with synthetic "
        "windows; the trunk and the presence head keep their weights."))
    f.add_argument("--crops", type=Path, action="append", required=True, metavar="DIR",
                   help="a folder of labelled crops (repeatable)")
    f.add_argument("--from", dest="start", type=Path, default=DEFAULT_READERS[0],
                   metavar="WEIGHTS", help=f"the weights to start from (default "
                   f"{DEFAULT_READERS[0].name}, the shipped reader)")
    f.add_argument("--out", type=Path, required=True, help="the weights file to write (.keras)")
    f.add_argument("--epochs", type=int, default=15, help="at most this many (default 15)")
    f.add_argument("--patience", type=int, default=3,
                   help="stop after this many epochs without a better held-back figure")
    f.add_argument("--held-back", type=float, default=0.2,
                   help="share of the crops kept out of training to measure it (default 0.2)")
    f.add_argument("--lr", type=float, default=3e-4)
    f.add_argument("--min-crops", type=int, default=50, help=argparse.SUPPRESS)
    f.add_argument("--guard-windows", type=int, default=1000, help=argparse.SUPPRESS)
    f.set_defaults(func=cmd_finetune)


def problem(args) -> str | None:
    if args.out.suffix != ".keras":
        return f"--out {args.out}: the weights file is a .keras file"
    if not args.start.is_file():
        return f"--from {args.start}: weights not found"
    if not 0 < args.held_back < 1:
        return f"--held-back {args.held_back}: a share between 0 and 1, such as 0.2"
    if args.epochs < 1 or args.patience < 1:
        return "--epochs and --patience are at least 1"
    return None


def cmd_finetune(args) -> int:
    from trainer.real_crops import CropsError, load_crops, split

    bad = problem(args)
    if bad:
        print(f"error: {bad}", file=sys.stderr)
        return 2
    try:
        crops = load_crops(args.crops, args.min_crops)
    except CropsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    train, held = split(crops, args.held_back, args.seed)
    print(f"{len(crops)} crops: {len(train)} to train on, {len(held)} held back", flush=True)

    from trainer.finetune import FinetuneConfig, finetune, report
    from trainer.generate import Sources

    sources = Sources.from_args(args)
    cfg = FinetuneConfig(start=args.start, out=args.out, epochs=args.epochs,
                         patience=args.patience, lr=args.lr, seed=args.seed,
                         guard_windows=args.guard_windows)
    figs = finetune(cfg, train, held, sources)
    for line in report(figs, args.out):
        print(line)
    print(json.dumps(figs))
    return 0
