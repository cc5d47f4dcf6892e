"""The weights and samples that ship with anprd.

An installed wheel holds them as package data (`anprd/weights/`, `anprd/samples/`:
pyproject.toml maps the repository's `weights/` and `samples/` there); a source checkout
(an editable install, the tests) has them beside the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def shipped_folder(name: str) -> Path:
    """`weights` or `samples`: the package's copy, else the source checkout's."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


WEIGHTS_DIR = shipped_folder("weights")
SAMPLES_DIR = shipped_folder("samples")
# Used when `model.weights` is not given.
DEFAULT_WEIGHTS = WEIGHTS_DIR / "anprd.keras"
# The reader of the shipped weights' candidates: the wider network of weights/wide.keras.
# The shipped network finds the plates; on the synthetic sets of the model card the wide
# reader alone reads more of them than the pair of both readers averaged
# (weights/MODEL_CARD.md, "Synthetic sets: how the last stages were chosen").
DEFAULT_READERS = (WEIGHTS_DIR / "wide.keras",)
SAMPLE_VIDEO = SAMPLES_DIR / "gate.mp4"
SAMPLE_PICTURE = SAMPLES_DIR / "scene.jpg"


def readers_for(weights: Path, reader_weights: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The files whose readers read the candidates that `weights` finds: those given;
    else the shipped reader for the shipped weights, and any other file's own reader."""
    if reader_weights:
        return tuple(Path(w) for w in reader_weights)
    if Path(weights).resolve() == DEFAULT_WEIGHTS.resolve():
        return DEFAULT_READERS
    return (Path(weights),)
