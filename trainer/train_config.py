"""What a training run is asked to do, and where it keeps its files.

Apart from the training itself so that the command line can check a run's arguments
without loading the deep-learning framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainConfig:
    out: Path
    steps: int = 30000
    batch: int = 64
    lr: float = 2e-3
    seed: int = 1
    workers: int = 1
    eval_every: int = 500
    val_count: int = 2048
    resume: Path | None = None
    init: Path | None = None  # start from these weights (e.g. the shipped ones), new schedule
    presence_only: bool = False  # a new run from `init` training only the presence head
    stem: str | None = None  # the trunk's first layer (anprd.detect.model.STEMS); None: that of
    # the `init` weights, else "pool"
    size: str | None = None  # the network's size (anprd.detect.model.SIZES); None: that of the
    # `init` weights, else "compact"
    precision: str = "auto"  # PRECISIONS


def run_dir(out: Path) -> Path:
    return out.parent / f"{out.stem}.run"
