"""`anprd check-config FILE...`: validate config files without starting anything."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from anprd.config.load import ConfigError, load_config
from anprd.config.sections import Config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "check-config",
        help="validate config files and report every problem",
        description="Validate config files. Exit 0 when all are good, 2 when any has a "
        "problem (each printed on stderr with its file, line and key).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="YAML config file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    status = 0
    for file in args.files:
        try:
            config = load_config(file)
        except ConfigError as e:
            for problem in e.problems:
                print(problem, file=sys.stderr)
            n = len(e.problems)
            print(f"{file}: {n} problem{'s' if n != 1 else ''}, config refused", file=sys.stderr)
            status = 2
        else:
            print(summary(file, config))
            for warning in waiting_for(config):
                print(f"{file}: warning: {warning}", file=sys.stderr)
    return status


def waiting_for(config: Config) -> list[str]:
    """The file cameras whose video is not there: valid (the daemon waits for the file
    to appear), but more often a mistyped path."""
    from anprd.video.cameras import SourceSpec

    paths = {c.name: SourceSpec(c.name, c.url).path for c in config.cameras if c.is_file}
    return [f"camera {name}: no video file at {path} yet; the daemon will wait for it"
            for name, path in paths.items() if not Path(path).is_file()]


def summary(file: str, config: Config) -> str:
    """One line: the cameras by name, the weights and, when they are other files, the
    readers; for logs and check-config."""
    names = [c.name for c in config.cameras]
    cameras = f"{len(names)} camera{'s' if len(names) != 1 else ''}"
    cameras += f" ({', '.join(names)})" if names else " (web service only)"
    model = f"model {_display(config.model.weights)}"
    if config.model.readers != (config.model.weights,):
        model += f" read by {' + '.join(_display(p) for p in config.model.readers)}"
    line = f"{file}: OK, {cameras}, {model}"
    if config.lists:
        n = sum(len({e.plate for e in lst.plates}) for lst in config.lists)
        lists = len(config.lists)
        line += f", {lists} list{'s' if lists != 1 else ''} ({n} plate{'s' if n != 1 else ''})"
    if config.events.sinks:
        line += ", sinks: " + ", ".join(f"{s.type} {s.target}" for s in config.events.sinks)
    return line


def _display(path: Path) -> str:
    """`path` relative to the working directory when it lies under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel
