"""The README's runnable examples run as written: every ```sh runnable block, line by line.

A block opened with "```sh runnable" promises that each of its commands works from the
repository's root after the quick start, on the files the repository ships.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BLOCK_RE = re.compile(r"^```sh runnable\n(.*?)^```", re.MULTILINE | re.DOTALL)


def runnable_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    commands = []
    for block in BLOCK_RE.findall(text):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_the_readme_has_runnable_examples():
    assert len(runnable_commands()) >= 3


@pytest.mark.parametrize("command", runnable_commands())
def test_readme_command_runs_as_written(command):
    venv = REPO / ".venv" / "bin"
    if command.startswith(".venv/") and not venv.is_dir():
        pytest.skip("no .venv/ here (the quick start makes it)")
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output and "not found" not in output
