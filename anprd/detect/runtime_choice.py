"""Which runtime runs the networks: Keras (TensorFlow or JAX), or an export for LiteRT
or ONNX Runtime, chosen from what is installed and what `anprd export` checked."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from anprd.detect.exported import Export, installed

RUNTIMES = ("auto", "keras", "litert", "onnxruntime")
# Fastest first, as `anprd bench --runtime all` measures them on a CPU (docs/runtimes.md).
ORDER = (("litert", True), ("litert", False), ("onnxruntime", False), ("onnxruntime", True))


class NoRuntime(Exception):
    """No runtime can run these weights; the message says what to install or export."""


@dataclass(frozen=True)
class Choice:
    runtime: str  # keras | litert | onnxruntime
    export: Export | None  # None: Keras runs the weights files themselves

    @property
    def name(self) -> str:
        return self.export.name if self.export else "keras"


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def gpu_present() -> bool:
    """An NVIDIA GPU visible to this machine's driver (no framework imported to ask)."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def _ranked(exports: list[Export], runtime: str | None) -> list[Export]:
    rank = {key: i for i, key in enumerate(ORDER)}
    return sorted((e for e in exports if runtime in (None, e.runtime)),
                  key=lambda e: (not e.passed, rank[(e.runtime, e.int8)]))


def choose(runtime: str, device: str, backend: str, exports: list[Export],
           skipped: list[str] = ()) -> Choice:
    """`runtime: auto` takes the fastest installed export that passed its accuracy check
    (within MAX_LOSS of Keras), unless a GPU is asked for or seen, or JAX is: Keras
    runs there. A named runtime takes its best export, checked ones first."""
    keras_ok = installed("keras")
    if runtime == "keras" or (runtime == "auto" and keras_ok and (
            device == "gpu" or backend == "jax" or (device == "auto" and gpu_present()))):
        if not keras_ok:
            raise NoRuntime("model.runtime is keras but Keras is not installed "
                            "(pip install 'anprd[keras]')")
        return Choice("keras", None)
    if runtime != "auto":
        if not installed(runtime):
            raise NoRuntime(f"model.runtime is {runtime} but it is not installed "
                            "(pip install 'anprd[lite]')")
        mine = _ranked(exports, runtime)
        if not mine:
            raise NoRuntime(_none_found(f"no {runtime} export of these weights", skipped))
        return Choice(runtime, mine[0])
    for e in _ranked(exports, None):
        if e.passed and installed(e.runtime):
            return Choice(e.runtime, e)
    if keras_ok:
        return Choice("keras", None)
    raise NoRuntime(_none_found(
        "no runtime can run these weights: neither Keras nor a checked export for an "
        "installed runtime (pip install 'anprd[lite]' to run the shipped export, or "
        "'anprd[keras]')", skipped))


def _none_found(what: str, skipped) -> str:
    why = "; ".join(skipped)
    return f"{what} (make one with anprd export{'; passed over: ' + why if why else ''})"
