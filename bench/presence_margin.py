"""Presence errors by how far each window lies from the presence rule's limits.

    .venv/bin/python bench/presence_margin.py --weights weights/anprd.keras [--count 3000]

The rule (`anprd/window.py`) has sharp limits: a plate 1% too small for the window is
absent. A window is "near a size limit" when scaling its plate by under 4% would change
its label, and "near an edge" when a corner lies within 3 pixels of the window's
border; the rest are "clear". The last line is one JSON object with the counts.
The windows come from the generator with seed 424242, which no training run uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SEED = 424242
SIZE_MARGIN = 0.04
EDGE_MARGIN_PX = 3.0


def margins(corners: np.ndarray | None) -> tuple[float, float]:
    """(relative distance to the nearest size limit, pixels to the nearest border)."""
    from anprd.detect.window import MAX_H_FRAC, MAX_W_FRAC, MIN_FRAC, WINDOW_H, WINDOW_W

    if corners is None:
        return np.inf, np.inf
    x, y = corners[:, 0], corners[:, 1]
    w, h = x.max() - x.min(), y.max() - y.min()
    size = min(abs(w / (MAX_W_FRAC * WINDOW_W) - 1), abs(h / (MAX_H_FRAC * WINDOW_H) - 1),
               abs(max(w / (MIN_FRAC * WINDOW_W), h / (MIN_FRAC * WINDOW_H)) - 1))
    edge = min(abs(x.min()), abs(y.min()), abs(WINDOW_W - x.max()), abs(WINDOW_H - y.max()))
    return float(size), float(edge)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--count", type=int, default=3000)
    args = ap.parse_args(argv)
    if not args.weights.is_file():
        print(f"error: weights not found: {args.weights}", file=sys.stderr)
        return 2
    from anprd.detect.model import load_model
    from trainer.figures import predict
    from trainer.generate import CHUNK, ChunkMaker, Sources, to_arrays

    fonts = [f for f in [REPO.parent / "shared" / "fonts"] if f.is_dir()]  # as training
    maker = ChunkMaker(Sources.resolve(font_dirs=fonts), SEED)
    samples = []
    for k in range(-(-args.count // CHUNK)):
        samples += maker.chunk(k, 0, min(CHUNK, args.count - len(samples)))
    x, _, _ = to_arrays(samples)
    said = np.asarray(predict(load_model(args.weights), x)[0]).reshape(-1) > 0
    counts = {"near_size_limit": 0, "near_edge": 0, "clear": 0}
    near_size_windows = 0
    for s, p in zip(samples, said, strict=True):
        size, edge = margins(s.corners)
        near_size_windows += size < SIZE_MARGIN
        if p == s.present:
            continue
        kind = ("near_size_limit" if size < SIZE_MARGIN else
                "near_edge" if edge < EDGE_MARGIN_PX else "clear")
        counts[kind] += 1
    errors = sum(counts.values())
    out = {"n": len(samples), "presence": round(1 - errors / len(samples), 4), "errors": errors,
           **counts, "windows_near_size_limit": int(near_size_windows)}
    print(f"{len(samples)} windows, presence accuracy {out['presence']:.2%}: {errors} errors, "
          f"{counts['near_size_limit']} within {SIZE_MARGIN:.0%} of a size limit (where "
          f"{near_size_windows} windows lie), {counts['near_edge']} within {EDGE_MARGIN_PX:.0f} "
          f"px of the border, {counts['clear']} clear of both")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
