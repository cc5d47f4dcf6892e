"""`python -m trainer {generate,preview,train,eval,bench,scenes,sample-video,typeface}`."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from trainer import finetune_cli
from trainer.backgrounds import BackgroundError
from trainer.fonts import FontError


def _refuse(problem: str) -> int:
    """A clear message naming the problem, and the exit code of bad input."""
    print(f"error: {problem}", file=sys.stderr)
    return 2


def _sources(args):
    from trainer.generate import Sources

    return Sources.from_args(args)


def _count_problem(count: int) -> str | None:
    return None if count >= 1 else f"--count must be at least 1, not {count}"


def _out_folder_problem(out: Path) -> str | None:
    """A folder to write samples into must be new or empty: old samples left in it
    would be scored with the new ones."""
    if out.is_file():
        return f"--out {out} is a file, not a folder"
    if out.is_dir() and any(out.iterdir()):
        return f"--out {out} already holds files: give a new or empty folder"
    return None


def _common_problem(args) -> str | None:
    """The checks of the arguments that several commands share."""
    if getattr(args, "seed", 0) < 0:
        return f"--seed must be 0 or more, not {args.seed}"
    out = getattr(args, "out", None)
    above = next((p for p in out.parents if p.is_file()), None) if out else None
    return f"--out: {above} is a file, not a folder" if above else None


def cmd_generate(args) -> int:
    from tqdm import tqdm

    from trainer.generate import write_samples

    problem = _count_problem(args.count) or _out_folder_problem(args.out)
    if problem:
        return _refuse(problem)
    if args.workers < 1:
        return _refuse("--workers must be at least 1")
    sources = _sources(args)
    with tqdm(total=args.count, unit="samples", disable=None) as bar:
        write_samples(args.out, args.count, args.seed, args.workers, sources, bar.update)
    return 0


def cmd_preview(args) -> int:
    import cv2

    from trainer.generate import ChunkMaker, preview_sheet

    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        return _refuse(f"--out {args.out}: the sheet is a .png or .jpg file")
    samples = ChunkMaker(_sources(args), args.seed).chunk(0, 0, 64)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.out), preview_sheet(samples)):
        return _refuse(f"cannot write {args.out}")
    print(f"wrote {args.out}")
    return 0


def cmd_bench(args) -> int:
    """Samples per second of one worker, pool building included."""
    import cv2

    from trainer.generate import CHUNK, ChunkMaker

    if args.chunks < 1:
        return _refuse("--chunks must be at least 1")
    cv2.setNumThreads(1)  # as in a worker process: one core

    maker = ChunkMaker(_sources(args), args.seed)
    maker.chunk(0, 0, 16)  # warm up
    t, cpu = time.perf_counter(), time.process_time()
    n = 0
    for k in range(args.chunks):
        n += len(maker.chunk(k + 1, 0, CHUNK))
    rate = n / (time.perf_counter() - t)
    cpu_rate = n / (time.process_time() - cpu)
    # CPU time is what one core gives when the machine is busy with other work too.
    print(f"one worker: {rate:.0f} samples/s wall clock, {cpu_rate:.0f} per CPU second "
          f"({n} samples, background pools included)")
    print(json.dumps({"samples_per_second": round(rate, 1),
                      "samples_per_cpu_second": round(cpu_rate, 1), "n": n}))
    return 0


def cmd_train(args) -> int:
    from trainer.generate import CHUNK
    from trainer.train_config import TrainConfig, run_dir

    if args.out.suffix != ".keras" or args.out.is_dir():
        return _refuse(f"--out {args.out}: the weights are written to a .keras file")
    if not args.resume and (run_dir(args.out) / "checkpoint.keras").exists():
        run = run_dir(args.out)
        return _refuse(f"a run of {args.out} is already in {run}: go on with it (--resume "
                       f"{run / 'checkpoint.keras'}), or move it away for a new run")
    if not 1 <= args.batch <= CHUNK:
        return _refuse(f"--batch must be 1 to {CHUNK} (the windows of one generated chunk)")
    if args.workers < 1 or args.val_count < 1:
        return _refuse("--workers and --val-count must be at least 1")
    if not 0 < args.lr < math.inf:
        return _refuse(f"--lr must be a finite number above 0, not {args.lr}")
    for path, what in ((args.resume, "checkpoint"), (args.init, "weights")):
        if path and not path.is_file():
            return _refuse(f"{what} not found: {path}")
    # A resumed run goes on as its checkpoint was compiled, presence-only or not.
    if args.presence_only and (args.resume or not args.init):
        return _refuse("--presence-only starts a new run from trained weights: give them "
                       "with --init (a --resume goes on as the checkpoint's run was)")
    if args.resume and (args.init or args.stem or args.size):
        return _refuse("--init, --stem and --size start a new run; a --resume goes on with "
                       "the checkpoint's network")
    if args.steps < 1 or args.eval_every < 1:
        return _refuse("--steps and --eval-every must be at least 1")
    # A short run is scored once, at its end.
    eval_every = min(args.eval_every, args.steps)
    if args.steps % eval_every:
        return _refuse(f"--steps {args.steps} is not a multiple of --eval-every {eval_every}: "
                       "the run is scored and checkpointed every --eval-every steps")
    # The framework loads only now, once the cheap checks have passed.
    from anprd.detect.model import SIZES, STEMS
    from trainer.train import InitError, PrecisionError, ResumeError, train

    if args.stem is not None and args.stem not in STEMS:
        return _refuse(f"unknown --stem {args.stem!r}: one of {', '.join(STEMS)}")
    if args.size is not None and args.size not in SIZES:
        return _refuse(f"unknown --size {args.size!r}: one of {', '.join(SIZES)}")
    cfg = TrainConfig(
        out=args.out, steps=args.steps, batch=args.batch, lr=args.lr, seed=args.seed,
        workers=args.workers, eval_every=eval_every, val_count=args.val_count,
        resume=args.resume, init=args.init, presence_only=args.presence_only, stem=args.stem,
        size=args.size, precision=args.precision,
    )
    try:
        train(cfg, _sources(args))
    except (InitError, PrecisionError, ResumeError) as e:
        return _refuse(str(e))
    return 0


def cmd_eval(args) -> int:
    from trainer.figures import main

    if not args.weights.is_file():
        return _refuse(f"weights not found: {args.weights}")
    if not args.data.is_dir():
        return _refuse(f"data folder not found: {args.data}")
    from anprd.commands.eval_sheet import sheet_problem

    problem = sheet_problem(args.sheet)
    if problem:
        return _refuse(problem)
    try:
        return main(args.weights, args.data, args.sheet)
    except (OSError, ValueError) as e:
        return _refuse(str(e))


def cmd_sample_video(args) -> int:
    from trainer.sample_video import write

    if args.out.suffix.lower() not in (".mp4", ".mkv", ".avi", ".mov"):
        return _refuse(f"--out {args.out}: the video is an .mp4, .mkv, .avi or .mov file")
    write(args.out)
    print(f"wrote {args.out} and {args.out.with_name('scene.jpg')}")
    return 0


def cmd_typeface(args) -> int:
    from trainer.typeface import build

    if args.out.suffix.lower() != ".ttf":
        return _refuse(f"--out {args.out}: the typeface is a TrueType file (name it .ttf)")
    if args.out.is_dir():
        return _refuse(f"--out {args.out} is a folder, not a file")
    build(args.out)
    print(f"wrote {args.out}: the legacy plates' lettering, every plate character")
    return 0


def _scene_size(text: str) -> tuple[int, int]:
    from anprd.commands.args import parse_size

    try:
        w, h = parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if w > 960 or h > 540:
        raise argparse.ArgumentTypeError(f"size {text} is larger than the 960x540 drawn")
    return w, h


def cmd_scenes(args) -> int:
    from trainer.scenes import write, write_crops

    problem = _count_problem(args.count) or _out_folder_problem(args.out)
    if problem:
        return _refuse(problem)
    if args.crops:
        write_crops(args.out, args.count, args.seed, _sources(args))
        print(f"wrote {args.count} crops and {args.out / 'labels.csv'}; "
              f"score them with: anprd eval --crops {args.out}")
        return 0
    write(args.out, args.count, args.seed, _sources(args), args.size, args.close_ups)
    print(f"wrote {args.count} pictures and {args.out / 'labels.csv'}; "
          f"score them with: anprd eval {args.out}")
    return 0


def with_sources(sp):
    """The options every command that draws plates takes."""
    sp.add_argument("--fonts", action="append", type=Path, metavar="DIR",
                    help="extra font folder (repeatable)")
    sp.add_argument("--backgrounds", action="append", type=Path, metavar="DIR",
                    help="extra background picture folder (repeatable)")
    sp.add_argument("--lettering", action="store_true",
                    help="draw half the legacy plates in the stroke lettering of "
                         "trainer/lettering.py instead of a font (as the last stages of "
                         "the shipped weights: weights/MODEL_CARD.md)")
    sp.add_argument("--street-wear", action="store_true",
                    help="peel some plates' character ink in patches and put stickers "
                         "on some (trainer/wear.py; the shipped weights were not "
                         "trained with it)")
    sp.add_argument("--seed", type=int, default=1)
    return sp


def _add_train(sub) -> None:
    t = with_sources(sub.add_parser("train", help="train the network"))
    t.add_argument("--out", type=Path, required=True,
                   help="the weights file to write (.keras); its run folder, <name>.run/, "
                        "holds the log, the curves and the checkpoint")
    t.add_argument("--steps", type=int, default=30000)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    t.add_argument("--eval-every", type=int, default=500)
    t.add_argument("--val-count", type=int, default=2048)
    t.add_argument("--resume", type=Path, metavar="CHECKPOINT",
                   help="go on with an interrupted run (model, optimizer, schedule, step)")
    t.add_argument("--init", type=Path, metavar="WEIGHTS",
                   help="start a new run from trained weights, e.g. weights/anprd.keras")
    t.add_argument("--presence-only", action="store_true",
                   help="with --init: train only the presence head (every reading stays "
                        "the same), e.g. on new kinds of not-a-plate")
    t.add_argument("--stem", default=None,
                   help="the network's first layer for a new run: pool (full-resolution "
                        "convolution, then max-pooling) or stride (the convolution at every "
                        "second pixel, faster); default: that of --init, else pool")
    t.add_argument("--size", default=None,
                   help="the network's size for a new run: compact (the trunk's last "
                        "convolution 64 wide, one 64-wide reader convolution) or wide (96, "
                        "and two 128-wide reader convolutions); default: that of --init, "
                        "else compact")
    t.add_argument("--precision", default="auto",
                   help="auto (default: mixed float16 on GPUs, mixed bfloat16 on CPUs with "
                        "native bfloat16, such as AVX-512 BF16 or AMX, else float32), "
                        "float32, mixed_float16 or mixed_bfloat16")
    t.set_defaults(func=cmd_train)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)


    g = with_sources(sub.add_parser("generate", help="write labelled windows as PNG files"))
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    g.set_defaults(func=cmd_generate)

    pv = with_sources(sub.add_parser("preview", help="a contact sheet of 64 samples"))
    pv.add_argument("--out", type=Path, required=True)
    pv.set_defaults(func=cmd_preview)

    b = with_sources(sub.add_parser("bench", help="generator speed of one worker"))
    b.add_argument("--chunks", type=int, default=2)
    b.set_defaults(func=cmd_bench)

    _add_train(sub)

    sc = with_sources(sub.add_parser(
        "scenes", help="labelled synthetic scene pictures for `anprd eval`"))
    sc.add_argument("--count", type=int, default=200)
    sc.add_argument("--out", type=Path, required=True)
    sc.add_argument("--size", type=_scene_size, default=(960, 540), metavar="WxH",
                    help="shrink the 960x540 pictures to this size (default 960x540)")
    kind = sc.add_mutually_exclusive_group()
    kind.add_argument("--close-ups", action="store_true",
                      help="one plate filling 55-95%% of each picture's width")
    kind.add_argument("--crops", action="store_true",
                      help="tight plate crops cut from generated windows, for "
                           "`anprd eval --crops`")
    sc.set_defaults(func=cmd_scenes)

    sv = sub.add_parser("sample-video", help="make the bundled demo video")
    sv.add_argument("--out", type=Path, default=Path("samples/gate.mp4"))
    sv.set_defaults(func=cmd_sample_video)

    tf = sub.add_parser("typeface", help="write the legacy plates' lettering as a .ttf font")
    tf.add_argument("--out", type=Path, default=Path("build/fonts/anprd-legacy.ttf"))
    tf.set_defaults(func=cmd_typeface)

    finetune_cli.register(sub, with_sources)

    e = sub.add_parser("eval", help="figures on a folder of generated samples")
    e.add_argument("--weights", type=Path, required=True)
    e.add_argument("--data", type=Path, required=True)
    e.add_argument("--sheet", type=Path, metavar="FILE.png",
                   help="write a contact sheet of every window scored wrong to this PNG file")
    e.set_defaults(func=cmd_eval)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    problem = _common_problem(args)
    if problem:
        return _refuse(problem)
    try:
        return args.func(args)
    except (FontError, BackgroundError) as e:
        return _refuse(str(e))
    except ModuleNotFoundError as e:  # a lean install (make run): no Keras, no tqdm
        return _refuse(f"this command needs the trainer's packages ({e.name} is not "
                       "installed): pip install '.[train]', or make test")
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
