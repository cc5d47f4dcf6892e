"""Every figure of the model card for one weights file, with the commands that make them.

    .venv/bin/python bench/weights_figures.py --weights weights/anprd.keras
    .venv/bin/python bench/weights_figures.py --weights runs/x.keras --only synth crops_real
    .venv/bin/python bench/weights_figures.py --weights weights/anprd.keras \
        --reader-weights weights/wide.keras     # one file finds, the other reads
    .venv/bin/python bench/weights_figures.py --weights weights/anprd.keras \
        --reader-weights weights/anprd.keras weights/wide.keras   # both read, averaged

Draws the synthetic sets of the model card into data/ when they are missing (their seeds
are never used in training), then runs, for the weights: `trainer eval` on 5,000 fresh
windows and on 3,000 with street wear (`--street-wear`); `anprd eval` on the synthetic
scenes, the same scenes at 320 x 180, the synthetic close-ups (no confidence floor),
synthetic tight crops, the real crops and the real scenes; and `anprd detect` over the
news video, every 2nd frame, scored against its `plates.csv`. Each command's output goes
to --out (one file per figure); a line per figure is printed, and the last line is one
JSON object with them all. With --reader-weights, the `anprd` commands read with those
files' readers (`trainer eval`, which scores whole windows, then scores the first of
them). Without it, the `anprd` commands read as they do by default (the shipped pair for
the shipped weights).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FONTS = ["--fonts", str(SHARED / "fonts")]
PY = [sys.executable]
ANPRD = PY + ["-m", "anprd"]
TRAINER = PY + ["-m", "trainer"]
VIDEO = SHARED / "realdata" / "video" / "tv_news_mercosur.mp4"

# folder under data/ -> the trainer's arguments that draw it there
SETS = {
    "eval": ["generate", "--count", "5000", "--seed", "20261124"],
    "eval_street": ["generate", "--count", "3000", "--seed", "20261210", "--street-wear"],
    "scenes_synth": ["scenes", "--count", "120", "--seed", "5"],
    "scenes_small": ["scenes", "--count", "120", "--seed", "5", "--size", "320x180"],
    "closeups": ["scenes", "--close-ups", "--count", "40", "--seed", "21"],
    "crops": ["scenes", "--crops", "--count", "1500", "--seed", "31337"],
}

# figure -> (the set it needs or None, the command's arguments after the weights)
FIGURES = {
    "synth": ("eval", TRAINER + ["eval", "--data", "data/eval", "--weights"]),
    "synth_street": ("eval_street", TRAINER + ["eval", "--data", "data/eval_street",
                                               "--weights"]),
    "scenes_synth": ("scenes_synth", ANPRD + ["eval", "data/scenes_synth", "--weights"]),
    "scenes_small": ("scenes_small", ANPRD + ["eval", "data/scenes_small", "--weights"]),
    "closeups": ("closeups", ANPRD + ["eval", "data/closeups", "--min-confidence", "0",
                                      "--weights"]),
    "crops_synth": ("crops", ANPRD + ["eval", "--crops", "data/crops", "--weights"]),
    "crops_real": (None, ANPRD + ["eval", "--crops", str(SHARED / "realdata" / "crops"),
                                  "--weights"]),
    "scenes_real": (None, ANPRD + ["eval", str(SHARED / "realdata" / "scenes"), "--weights"]),
    "video": (None, ANPRD + ["detect", str(VIDEO), "--every", "2", "--json", "--weights"]),
}


def video_figures(lines: list[str]) -> dict:
    """Frames where each plate of plates.csv is read exactly, and the other readings."""
    frames = [json.loads(line) for line in lines if line.startswith("{")]
    plates = list(csv.DictReader((VIDEO.parent / "plates.csv").open()))
    out: dict = {}
    for p in plates:
        lo, hi = int(p["first_frame"]), int(p["last_frame"])
        seen = [f for f in frames if lo <= f["frame"] <= hi]
        hit = sum(any(r["plate"] == p["plate"] for r in f["plates"]) for f in seen)
        out[p["plate"]] = {"read": hit, "frames": len(seen), "expected": p["expected"]}
    known = {p["plate"] for p in plates}
    others = Counter(r["plate"] for f in frames for r in f["plates"] if r["plate"] not in known)
    out["other_readings"] = sum(others.values())
    out["most_common_others"] = others.most_common(8)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--reader-weights", type=Path, nargs="+", default=[],
                    help="read the candidates with these files' readers together "
                         "(anprd --reader-weights)")
    ap.add_argument("--out", type=Path, help="folder for each command's output "
                    "(default runs/figures_<weights name>)")
    ap.add_argument("--only", nargs="+", choices=list(FIGURES), help="these figures alone")
    args = ap.parse_args(argv)
    for w in (args.weights, *args.reader_weights):
        if not w.is_file():
            print(f"error: weights not found: {w}", file=sys.stderr)
            return 2
    tag = "+".join([args.weights.stem] + [w.stem for w in args.reader_weights])
    out = args.out or REPO / "runs" / f"figures_{tag}"
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.only or FIGURES:
        needs, cmd = FIGURES[name]
        if needs and not (REPO / "data" / needs).is_dir():
            subprocess.run(TRAINER + SETS[needs] + ["--out", f"data/{needs}"] + FONTS,
                           cwd=REPO, check=True, capture_output=True)
        weights = [str(args.weights)]
        if args.reader_weights and name.startswith("synth"):
            weights = [str(args.reader_weights[0])]
        elif args.reader_weights:
            weights += ["--reader-weights", *map(str, args.reader_weights)]
        r = subprocess.run(cmd + weights, cwd=REPO, capture_output=True, text=True)
        (out / f"{name}.txt").write_text(r.stdout + r.stderr)
        lines = r.stdout.strip().splitlines()
        if name == "video":
            results[name] = video_figures(lines)
        else:
            results[name] = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {
                "error": (r.stderr.strip().splitlines() or ["no output"])[-1]}
        print(f"{name}: {json.dumps(results[name])}", flush=True)
    print(json.dumps({"weights": str(args.weights),
                      "reader_weights": [str(w) for w in args.reader_weights] or None,
                      **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
