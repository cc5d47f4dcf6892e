"""Shared test set-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Keep TensorFlow's start-up chatter out of test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def processes():
    """Child processes (daemons, RTSP servers) a test starts: killed after it."""
    started: list = []
    yield started
    for p in started:
        p.kill()


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def shared_dir() -> Path:
    """The project's shared data folder (real evaluation data, fonts), beside the repo."""
    return Path(os.environ.get("ANPRD_SHARED", REPO_ROOT.parent / "shared"))


WEIGHTS = REPO_ROOT / "weights" / "anprd.keras"
needs_weights = pytest.mark.skipif(not WEIGHTS.is_file(), reason="weights/anprd.keras not built")


def trainer_scenes(out: Path, *args: str) -> None:
    """`python -m trainer scenes ARGS --out OUT`, which must succeed (pictures drawn for
    `anprd eval`)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "trainer", "scenes", *args, "--out", str(out)],
                   check=True, cwd=REPO_ROOT, capture_output=True)


def fake_weights(path: Path) -> Path:
    """A stand-in weights file for config tests: a zip archive with a Keras config.json,
    which is all that check-config reads of it."""
    import json
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Functional", "config": {}}))
    return path
