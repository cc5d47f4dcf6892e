"""Whether a file can be the network's weights, found without loading the network.

A `.keras` file is a zip archive holding `config.json` (the architecture) and the
weights. `weights_problem` opens the file and reads that config only, so that
check-config and the daemon's start name the real cause: a file that cannot be read
(and why), one that is no zip archive, or an archive that is no Keras model.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path


def weights_problem(path: Path) -> str | None:
    """None when `path` looks like a Keras model archive, else what is wrong with it."""
    try:
        with open(path, "rb") as f:
            f.read(4)
    except OSError as e:
        return f"cannot read the weights file {path}: {e.strerror or e}"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                return (f"{path} is a zip archive but not a .keras model (it has no "
                        "config.json)")
            config = json.loads(archive.read("config.json"))
    except zipfile.BadZipFile:
        return (f"{path} is not a .keras weights file (a zip archive): damaged, cut short, "
                "or another kind of file")
    except (OSError, ValueError, RuntimeError) as e:
        return f"{path}: the model's config cannot be read: {e}"
    if not isinstance(config, dict) or "class_name" not in config:
        return f"{path}: the archive's config.json does not describe a Keras model"
    return None
