"""`python -m trainer finetune`: the reader of a weights file fine-tuned on a site's
labelled crops, mixed with synthetic windows so that it does not forget other plates.

Only the reader's own layers learn (`compile_model(reader_only=True)`): the trunk and
the presence head keep their weights, so the file finds plates exactly as before and
loads wherever the weights it came from did. Each epoch shows every training crop a few
times, each time varied (`real_crops.crop_window`); the held-back crops are read after
each epoch as `anprd eval --crops` reads them, and training stops when they stop
improving, keeping the best epoch. The guard then measures the new reader beside the
old one on fresh synthetic windows and the held-back crops (whether it beats the start).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from anprd.detect import backend as be
from anprd.detect.detector import Detector
from anprd.detect.formats import KNOWN_FORMATS
from anprd.detect.model import compile_model, load_model, reader_net
from trainer.figures import figures, predict
from trainer.generate import BatchStream, ChunkMaker, Sources, encode_text, to_arrays
from trainer.real_crops import Crop, crop_window
from trainer.train import _is_tty, export

GUARD_SEED = 20261209  # synthetic windows no training run draws
GUARD_WINDOWS = 1000
GUARD_DROP = 2.0  # points of synthetic plates lost that the guard reports


@dataclass(frozen=True)
class FinetuneConfig:
    start: Path
    out: Path
    epochs: int = 15
    patience: int = 3
    views: int = 4  # varied windows of each training crop per epoch
    real_batch: int = 32
    synthetic_batch: int = 32
    lr: float = 3e-4
    seed: int = 1
    guard_windows: int = GUARD_WINDOWS


def exact(reader, crops: list[Crop]) -> int:
    """Crops whose plate this reader alone reads right, as `anprd eval --crops` reads them
    (the detector's own crop reading; no presence pass is run)."""
    reads = Detector(None, [reader], "keras", "cpu").read_crops([c.image for c in crops],
                                                               KNOWN_FORMATS)
    return sum(r is not None and r.plate == c.plate for r, c in zip(reads, crops, strict=True))


def _real_batch(crops: list[Crop], rng: np.random.Generator):
    x = np.stack([crop_window(c.image, rng) for c in crops])[..., None]
    n = len(crops)
    chars = np.stack([encode_text(c.plate, True) for c in crops])
    unknown = -np.ones((n, 7), np.int32)  # where each character stands is not known
    return x, {"presence": np.ones((n, 1), np.float32), "chars": chars,
               "columns": -np.ones((n, 32), np.int32), "where": unknown}


def _joined(a, b):
    return (np.concatenate([a[0], b[0]]),
            {k: np.concatenate([a[1][k], b[1][k]]) for k in a[1]})


def finetune(cfg: FinetuneConfig, train: list[Crop], held: list[Crop], sources: Sources) -> dict:
    """Fine-tune, write `cfg.out`, and return the guard's figures."""
    old = load_model(cfg.start)
    model = load_model(cfg.start)
    steps = max(1, math.ceil(len(train) * cfg.views / cfg.real_batch))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, cfg.epochs * steps, alpha=0.02, warmup_target=cfg.lr,
        warmup_steps=min(50, steps))
    compile_model(model, schedule, reader_only=True)
    reader = be.compiled(reader_net(model), pad_batch=True)
    rng = np.random.default_rng(cfg.seed)
    stream = BatchStream(sources, cfg.seed, cfg.synthetic_batch)
    print(f"held-back crops read before: {exact(reader, held)} of {len(held)}", flush=True)
    best = (-1, model.get_weights(), 0)  # the best epoch; ties go to the later one
    t0, stale = time.time(), 0
    try:
        synthetic = iter(stream)
        for epoch in range(1, cfg.epochs + 1):
            bar = keras.utils.Progbar(steps, verbose=1 if _is_tty() else 2,
                                      stateful_metrics=("loss",))
            order = rng.permutation(np.repeat(np.arange(len(train)), cfg.views))
            for i in range(steps):
                pick = order[i * cfg.real_batch:(i + 1) * cfg.real_batch]
                x, y = _joined(_real_batch([train[j] for j in pick], rng), next(synthetic))
                logs = model.train_on_batch(x, y, return_dict=True)
                bar.update(i + 1, [("loss", float(logs["loss"]))])
            right = exact(reader, held)
            print(f"epoch {epoch}: held-back crops read {right} of {len(held)} "
                  f"({time.time() - t0:.0f} s)", flush=True)
            if right >= best[0]:
                best, stale = (right, model.get_weights(), epoch), 0
            else:
                stale += 1
                if stale >= cfg.patience:
                    print(f"no better for {stale} epochs: stopping", flush=True)
                    break
    finally:
        stream.close()
    model.set_weights(best[1])
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    export(model, cfg.out)
    return guard(old, model, held, sources, cfg.guard_windows) | {"best_epoch": best[2],
                                                "seconds": round(time.time() - t0)}


def guard(old, new, held: list[Crop], sources: Sources, windows: int = GUARD_WINDOWS) -> dict:
    """Old and new reader on fresh synthetic windows and the held-back crops."""
    x, presence, chars = to_arrays(ChunkMaker(sources, GUARD_SEED).chunk(0, 0, windows))
    out = {"held_back": len(held)}
    for name, model in (("before", old), ("after", new)):
        out[f"synthetic_{name}"] = round(100 * figures(*predict(model, x), presence,
                                                       chars)["plate_exact"], 2)
        out[f"held_back_{name}"] = exact(be.compiled(reader_net(model), pad_batch=True), held)
    return out


def report(figs: dict, out: Path) -> list[str]:
    """The guard's lines: both figures before and after, and a warning when the
    synthetic plates dropped by more than GUARD_DROP points."""
    lines = [
        f"held-back crops read: {figs['held_back_before']} -> {figs['held_back_after']} of "
        f"{figs['held_back']}",
        f"fresh synthetic windows, plates read: {figs['synthetic_before']:.1f}% -> "
        f"{figs['synthetic_after']:.1f}%",
    ]
    drop = figs["synthetic_before"] - figs["synthetic_after"]
    if drop > GUARD_DROP:
        lines.append(f"WARNING: the synthetic figure dropped {drop:.1f} points (over "
                     f"{GUARD_DROP:g}): {out} reads other plates worse than before; train "
                     "on more crops or fewer epochs before using it")
    lines.append(f"wrote {out}: use it as model.reader_weights (or model.weights)")
    return lines
