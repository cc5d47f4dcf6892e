"""The `anprd` command line: global options and the list of subcommands.

Each subcommand lives in its own module with ``register(subparsers)``, which adds its
parser and sets ``func`` (``func(args) -> int``, the exit code). Keep heavy imports
(TensorFlow, JAX, OpenCV) inside ``func`` so that ``anprd --version`` and
``anprd check-config`` stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from anprd import __version__
from anprd.commands import (
    bench,
    check_config,
    detect,
    evaluate,
    export,
    label,
    run,
    sinks,
)
from anprd.config.problems import ConfigError
from anprd.redact import redact_text

# Subcommand modules, in the order `anprd --help` lists them.
COMMANDS: list[ModuleType] = [run, detect, evaluate, label, bench, export, check_config,
                              sinks]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anprd",
        description="Argentine licence plate monitoring daemon.",
    )
    parser.add_argument("--version", action="version", version=f"anprd {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`anprd eval ... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as e:  # e.g. a subcommand that loads a config
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:
        if os.environ.get("ANPRD_DEBUG") == "1":
            raise
        message = redact_text(" ".join(str(e).split())) or type(e).__name__
        print(f"anprd {args.command}: error: {message} (ANPRD_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_ERROR
