"""Making the folders that outputs go to, with a reason an operator can act on."""

from __future__ import annotations

from pathlib import Path


def make_folder(path: Path) -> None:
    """`path` made a folder with its parents; else OSError whose strerror says why, as
    "X is a file, not a folder" when a file stands where a folder must be (the system's
    own words, "File exists" or "Not a directory", name neither)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        if path.is_dir():
            return
        blocker = next((p for p in [*reversed(path.parents), path]
                        if p.exists() and not p.is_dir()), None)
        raise OSError(e.errno, f"{blocker} is a file, not a folder" if blocker else e.strerror
                      ) from None
