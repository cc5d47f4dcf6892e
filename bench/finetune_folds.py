"""Fine-tuning the reader on a site's crops, measured in two folds.

The labelled crops of a folder (by default the dev set's) are split in two halves by a
fixed seed; the reader is fine-tuned on one half (`python -m trainer finetune`) and
measured on the other (`anprd eval --crops`), then the other way round. Printed: each
fold's figures before and after, and the fine-tune's minutes.

    .venv/bin/python bench/finetune_folds.py [--crops DIR] [--out DIR] [-- FINETUNE ARGS]

The crops with a plate that fits no format (motorcycles) are left out of both halves.
The shipped weights are never trained on these crops: the fine-tuned files stay in --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from anprd.detect.formats import format_of  # noqa: E402
from anprd.detect.shipped import DEFAULT_READERS  # noqa: E402
from anprd.labels import Row, read_rows, write_rows  # noqa: E402

DEV_CROPS = REPO.parent / "shared" / "realdata" / "crops"


def halves(folder: Path, seed: int) -> tuple[list[Row], list[Row]]:
    rows = [r for r in read_rows(folder) if r.plate and format_of(r.plate)]
    order = np.random.default_rng(seed).permutation(len(rows))
    half = len(rows) // 2
    return [rows[i] for i in order[:half]], [rows[i] for i in order[half:]]


def fold_folder(source: Path, rows: list[Row], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for r in rows:
        link = out / r.file
        if not link.exists():
            link.symlink_to((source / r.file).resolve())
    write_rows(out, rows)
    return out


def evaluate(folder: Path, reader: Path) -> dict:
    r = subprocess.run([sys.executable, "-m", "anprd", "eval", str(folder), "--crops",
                        "--runtime", "keras", "--reader-weights", str(reader)],
                       capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--crops", type=Path, default=DEV_CROPS)
    p.add_argument("--out", type=Path, default=REPO / "runs" / "finetune_folds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("finetune_args", nargs="*", help="more arguments for trainer finetune")
    args = p.parse_args()
    a, b = halves(args.crops, args.seed)
    folds = {"A": fold_folder(args.crops, a, args.out / "A"),
             "B": fold_folder(args.crops, b, args.out / "B")}
    print(f"{len(a) + len(b)} crops with a plate format: halves of {len(a)} and {len(b)}")
    for train, test in (("A", "B"), ("B", "A")):
        weights = args.out / f"reader_{train}.keras"
        t0 = time.time()
        subprocess.run([sys.executable, "-m", "trainer", "finetune", "--crops",
                        str(folds[train]), "--out", str(weights), *args.finetune_args],
                       check=True, cwd=REPO)
        minutes = (time.time() - t0) / 60
        before = evaluate(folds[test], DEFAULT_READERS[0])
        after = evaluate(folds[test], weights)
        for name, fig in (("before", before), ("after", after)):
            print(json.dumps({"trained_on": train, "measured_on": test, "weights": name,
                              "right": fig["right"], "n": fig["n"],
                              "legacy_ar": fig.get("legacy_ar"),
                              "mercosur_ar": fig.get("mercosur_ar"),
                              "finetune_minutes": round(minutes, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
