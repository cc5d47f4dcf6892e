"""Training: synthetic batches from worker processes into the shared Keras model.

One "epoch" here is `eval_every` steps, after which the model is scored on a fixed
synthetic validation set, the log and plot are updated and a checkpoint is written.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import keras
import numpy as np

from anprd.detect.model import (
    CUSTOM_OBJECTS,
    SIZES,
    build_model,
    compile_model,
    load_model,
    size_of,
    stem_of,
)
from trainer.figures import figures, predict
from trainer.generate import CHUNK, ChunkMaker, Sources, to_arrays
from trainer.train_config import TrainConfig, run_dir

VAL_SEED = 7919  # the validation windows' seed: never a training seed


class ResumeError(ValueError):
    """A checkpoint that cannot be gone on with as asked."""


class InitError(ValueError):
    """--init weights that cannot be loaded."""


def _schedule(cfg: TrainConfig):
    warmup = min(500, cfg.steps // 10)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.lr / 20, decay_steps=max(1, cfg.steps - warmup), alpha=0.02,
        warmup_target=cfg.lr, warmup_steps=warmup,
    )


def _fit_schedule(optimizer, steps: int) -> None:
    """Stretch or shorten a resumed run's cosine schedule to end at `steps`: a run that
    turns out slower than planned can be resumed with fewer steps and still decay fully.
    The learning rate's peak and warm-up stay those of the run."""
    old = optimizer._learning_rate  # the schedule itself: `learning_rate` is its value now
    if not isinstance(old, keras.optimizers.schedules.CosineDecay):
        return
    c = old.get_config()
    warmup = c.get("warmup_steps") or 0
    if c["decay_steps"] + warmup == steps:
        return
    c["decay_steps"] = max(1, steps - warmup)
    optimizer.learning_rate = keras.optimizers.schedules.CosineDecay.from_config(c)
    print(f"learning-rate schedule now ends at step {steps}")


PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


class PrecisionError(ValueError):
    """A training precision that is unknown or that the hardware cannot run."""


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU computes in bfloat16 natively (AVX-512 BF16 or AMX). Only then
    are mixed-precision steps faster (README, "Model and training"); without it
    TensorFlow's oneDNN convolutions emulate bfloat16 or, on AVX2, fail."""
    try:
        flags = cpuinfo.read_text()
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def precision_for(requested: str, gpus: int, bf16_cpu: bool) -> str:
    """The Keras dtype policy to train under: with "auto", float16 mixed precision on
    GPUs, bfloat16 on CPUs that compute in it natively, float32 otherwise. A precision
    that is unknown or that the hardware cannot run is a PrecisionError naming it."""
    if requested not in PRECISIONS:
        raise PrecisionError(f"unknown --precision {requested!r}: one of "
                             f"{', '.join(PRECISIONS)}")
    if requested == "mixed_float16" and not gpus:
        raise PrecisionError("--precision mixed_float16 needs a GPU; on this CPU use auto "
                             "or float32")
    if requested == "mixed_bfloat16" and not gpus and not bf16_cpu:
        raise PrecisionError("--precision mixed_bfloat16 needs a GPU or a CPU with native "
                             "bfloat16 (AVX-512 BF16 or AMX), which this one lacks; use "
                             "auto or float32")
    if requested != "auto":
        return requested
    if gpus:
        return "mixed_float16"
    return "mixed_bfloat16" if bf16_cpu else "float32"


def _setup_devices(precision: str) -> str:
    """Use every GPU there is, with data parallelism across several, and the fastest
    precision the hardware has (variables stay float32 under every policy). Runs first
    in `train`, so a PrecisionError comes before any work."""
    from anprd.detect.backend import gpu_devices

    gpus = gpu_devices()
    policy = precision_for(precision, len(gpus), cpu_has_bf16())
    keras.mixed_precision.set_global_policy(policy)
    if len(gpus) > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=gpus))
    where = f"{len(gpus)} GPU(s)" if gpus else "CPU"
    return f"{where}, {policy}"


class Progress:
    """Validation, CSV log, plot and checkpoint after every block of steps."""

    def __init__(self, cfg: TrainConfig, val, run: Path, start_time: float):
        self.cfg, self.val, self.run, self.t0 = cfg, val, run, start_time
        self.log = run / "log.csv"

    def block_done(self, model: keras.Model, epoch: int, logs: dict[str, float]) -> None:
        f = figures(*predict(model, self.val[0]), self.val[1], self.val[2])
        step = (epoch + 1) * self.cfg.eval_every
        row = {
            "step": step,
            "samples": step * self.cfg.batch,
            "seconds": round(time.time() - self.t0, 1),
            "loss": round(float(logs.get("loss", np.nan)), 5),
            "train_presence_acc": round(float(logs.get("presence_acc", np.nan)), 5),
            "train_plate_acc": round(float(logs.get("chars_plate_acc", np.nan)), 5),
            "val_plate_exact": round(f["plate_exact"], 5),
            "val_presence": round(f["presence"], 5),
        }
        new = not self.log.exists()
        with self.log.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                w.writeheader()
            w.writerow(row)
        print(f"step {step}: val plate exact {f['plate_exact']:.4f}, "
              f"presence {f['presence']:.4f}, confusions {f['confusions'][:4]}", flush=True)
        ckpt = self.run / "checkpoint.keras"
        model.save(self.run / "checkpoint.tmp.keras")
        (self.run / "checkpoint.tmp.keras").replace(ckpt)
        (self.run / "state.json").write_text(json.dumps({"epoch": epoch + 1, **row}))
        plot(self.log, self.run / "curves.png")


def plot(log: Path, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with log.open() as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return
    s = [int(r["samples"]) / 1000 for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(s, [float(r["loss"]) for r in rows])
    a.set_yscale("log")
    a.set_xlabel("thousand samples")
    a.set_title("training loss")
    for key in ("train_plate_acc", "val_plate_exact", "val_presence"):
        b.plot(s, [float(r[key]) for r in rows], label=key)
    b.set_ylim(0.0, 1.0)
    b.set_xlabel("thousand samples")
    b.set_title("accuracy")
    b.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)


def export(model: keras.Model, out: Path) -> None:
    """Save the weights without optimizer state: the file the detector loads. It is
    built in float32 whatever the training precision, so the detector computes in
    float32 unless it is told otherwise."""
    policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("float32")
    try:
        clean = build_model(stem_of(model), size_of(model))
    finally:
        keras.mixed_precision.set_global_policy(policy)
    clean.set_weights(model.get_weights())
    tmp = out.with_suffix(".tmp.keras")
    clean.save(tmp)
    tmp.replace(out)


def init_from(model: keras.Model, old_model: keras.Model) -> list[str]:
    """Copy the weights of every layer of `old_model` whose name and shapes match into `model`.

    So a run can start from earlier weights of another design (a new reading head on a
    trained trunk). Returns the names of the layers copied.
    """
    old = {layer.name: layer for layer in old_model.layers}
    taken = []
    for layer in model.layers:
        src = old.get(layer.name)
        if src is None or not layer.weights:
            continue
        w = src.get_weights()
        if [a.shape for a in w] == [tuple(v.shape) for v in layer.weights]:
            layer.set_weights(w)
            taken.append(layer.name)
    return taken


def train(cfg: TrainConfig, sources: Sources) -> dict:
    from trainer.generate import BatchStream

    device = _setup_devices(cfg.precision)
    try:  # before the run folder is made: a bad file leaves nothing behind
        start = load_model(cfg.init) if cfg.init else None
    except Exception as e:  # a ValueError, OSError or KeyError, as the file is wrong
        raise InitError(f"cannot load --init weights {cfg.init}: {e}") from e
    run = run_dir(cfg.out)
    run.mkdir(parents=True, exist_ok=True)
    initial_epoch = 0
    if cfg.resume:
        model = keras.saving.load_model(cfg.resume, custom_objects=CUSTOM_OBJECTS)
        state = cfg.resume.parent / "state.json"
        if state.exists():
            done = json.loads(state.read_text())
            step = int(done.get("step", done["epoch"] * cfg.eval_every))
            if step % cfg.eval_every:
                raise ResumeError(f"the checkpoint is at step {step}, which is not a multiple "
                                  f"of --eval-every {cfg.eval_every}: resume with the "
                                  "--eval-every of its run")
            initial_epoch = step // cfg.eval_every
        print(f"resuming from {cfg.resume} at step {initial_epoch * cfg.eval_every}")
        _fit_schedule(model.optimizer, cfg.steps)
    else:
        stem = cfg.stem or (stem_of(start) if start else "pool")
        size = SIZES[cfg.size] if cfg.size else (size_of(start) if start else SIZES["compact"])
        model = compile_model(build_model(stem, size), _schedule(cfg), cfg.presence_only)
        if start:
            taken = init_from(model, start)
            print(f"starting from the weights of {cfg.init} ({len(taken)} layers: "
                  f"{', '.join(taken)})")
        (run / "log.csv").unlink(missing_ok=True)
    val = to_arrays(ChunkMaker(sources, VAL_SEED).chunk(0, 0, cfg.val_count))
    # A resumed run goes on with chunks it has not seen yet.
    seen = initial_epoch * cfg.eval_every * cfg.batch
    stream = BatchStream(sources, cfg.seed, cfg.batch, cfg.workers,
                         first_chunk=-(-seen // CHUNK))
    t0 = time.time()
    epochs = max(1, cfg.steps // cfg.eval_every)
    print(f"training on {device}: {cfg.steps} steps of {cfg.batch} windows", flush=True)
    try:
        progress = Progress(cfg, val, run, t0)
        batches = iter(stream)
        for epoch in range(initial_epoch, epochs):
            progress.block_done(model, epoch, _train_block(model, batches, cfg.eval_every))
    finally:
        stream.close()
    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    export(model, cfg.out)
    f = figures(*predict(model, val[0]), val[1], val[2])
    seconds = time.time() - t0
    steps_done = (epochs - initial_epoch) * cfg.eval_every
    result = {
        "plate_exact": f["plate_exact"], "presence": f["presence"], "seconds": round(seconds),
        "samples_per_second": round(steps_done * cfg.batch / max(seconds, 1e-9), 1),
        "device": device,
    }
    print(json.dumps(result))
    return result


TRAIN_FIGURES = ("loss", "presence_acc", "chars_plate_acc")  # logged per block


def _train_block(model: keras.Model, batches, steps: int) -> dict[str, float]:
    """`steps` optimizer steps; returns each figure's mean over them.

    A plain loop over `train_on_batch` rather than `fit`: with batches from a Python
    iterator, `fit`'s input pipeline cost 40% of the training speed on 2 CPU cores.
    """
    bar = keras.utils.Progbar(steps, verbose=1 if _is_tty() else 2,
                              stateful_metrics=TRAIN_FIGURES)
    sums = dict.fromkeys(TRAIN_FIGURES, 0.0)
    for i in range(steps):
        x, y = next(batches)
        logs = model.train_on_batch(x, y, return_dict=True)
        for k in sums:
            sums[k] += float(logs[k])
        bar.update(i + 1, [(k, v / (i + 1)) for k, v in sums.items()])
    return {k: v / steps for k, v in sums.items()}


def _is_tty() -> bool:
    import sys

    return sys.stdout.isatty()
