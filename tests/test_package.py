"""The wheel: what `pip install anprd` gets runs the daemon on its sample, without the
repository's folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO_ROOT

RUN_INSTALLED = """
import sys
sys.path.insert(0, sys.argv[1])
import anprd
from anprd.cli import main
assert anprd.__file__.startswith(sys.argv[1]), anprd.__file__
sys.exit(main(["run", "--sample", "--once", "--log-level", "WARNING"]))
"""


def test_the_wheel_holds_the_weights_and_sample_and_runs_the_sample(tmp_path: Path):
    source = tmp_path / "source"  # the files git knows of: no build/ left from before
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                            "anprd", "trainer", "weights", "samples", "pyproject.toml",
                            "README.md"], cwd=REPO_ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for name in files:
        if not (REPO_ROOT / name).is_file():  # deleted, not yet committed
            continue
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(source)],
                   check=True, capture_output=True, cwd=tmp_path)
    wheel = next(wheels.glob("anprd-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("anprd/weights/anprd.keras", "anprd/weights/wide.keras",
                    "anprd/weights/litert-int8/export.json", "anprd/samples/gate.mp4",
                    "anprd/samples/scene.jpg"):
        assert shipped in names
    assert not any(n.endswith((".csv", ".png")) and "weights" in n for n in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel, installed as pip would
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = subprocess.run([sys.executable, "-c", RUN_INSTALLED, str(site)], cwd=work,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    config = (work / "anprd-sample" / "sample.yaml").read_text()
    assert str(site / "anprd" / "samples" / "gate.mp4") in config
    events = [json.loads(line) for line in
              (work / "anprd-sample" / "events.jsonl").read_text().splitlines()]
    assert sorted(e["plate"] for e in events) == ["AE418KT", "GHP372"]
