"""`anprd export`: each format written, checked, and run back without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anprd.detect.exported import ExportError, find_exports, read_export

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "weights" / "anprd.keras"
READER = REPO / "weights" / "wide.keras"
SHIPPED = REPO / "weights" / "litert-int8"
needs_weights = pytest.mark.skipif(not WEIGHTS.is_file() or not READER.is_file(),
                                   reason="no shipped weights")

# Run in a child process where TensorFlow, Keras and JAX cannot be imported: what a gate
# box with only `anprd[lite]` installed has.
NO_TF = """
import sys
for name in ("tensorflow", "keras", "jax"):
    sys.modules[name] = None
"""


def anprd(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "anprd", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def without_tf(code: str, timeout=300):
    return subprocess.run([sys.executable, "-c", NO_TF + code], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def fixed_windows() -> np.ndarray:
    """Synthetic windows from a fixed seed (most with a plate), a flat and a noisy one."""
    from trainer.export import synthetic_windows
    from trainer.generate import Sources

    x = synthetic_windows(Sources.resolve(), seed=5, count=40)[0]
    rng = np.random.default_rng(3)
    extra = [np.full((64, 128), 128, np.uint8), rng.integers(0, 255, (64, 128), np.uint8)]
    return np.concatenate([x, np.stack(extra)[..., None]]).astype(np.uint8)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Exports of the shipped pair, made with small calibration and check sets."""
    if not WEIGHTS.is_file():
        pytest.skip("no shipped weights")
    root = tmp_path_factory.mktemp("exports")
    made = {}
    for name, args in (("litert", ["--format", "litert"]),
                       ("litert-int8", ["--format", "litert", "--int8"]),
                       ("onnx", ["--format", "onnx"])):
        r = anprd("export", *args, "--calibration", "64", "--check", "128", WEIGHTS,
                  root / name)
        assert r.returncode == 0, r.stderr[-3000:]
        if "int8" not in name:  # float exports compute what Keras does: they pass
            assert "passed" in r.stdout and read_export(root / name).passed, r.stdout
        made[name] = root / name
    return made


def keras_outputs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from anprd.detect import backend as be

    be.select("tensorflow", "cpu")
    from anprd.detect.model import load_model, presence_net, reader_net

    presence = be.compiled(presence_net(load_model(WEIGHTS)))(x)
    chars = be.compiled(reader_net(load_model(READER)))(x)["chars"]
    return presence, chars


@needs_weights
@pytest.mark.parametrize("name, tolerance", [("litert", 1e-3), ("onnx", 1e-3),
                                             ("litert-int8", 0.6)])
def test_an_export_runs_without_tensorflow_and_gives_keras_outputs(exports, tmp_path, name,
                                                                    tolerance):
    x = fixed_windows()
    np.save(tmp_path / "x.npy", x)
    r = without_tf(f"""
import numpy as np
from pathlib import Path
from anprd.detect.exported import nets, read_export
e = read_export(Path({str(exports[name])!r}))
presence, readers = nets(e, threads=1)
x = np.load({str(tmp_path / 'x.npy')!r})
np.save({str(tmp_path / 'p.npy')!r}, presence(x))
np.save({str(tmp_path / 'c.npy')!r}, readers[0](x)["chars"])
""")
    assert r.returncode == 0, r.stderr[-3000:]
    presence, chars = keras_outputs(x)
    got_p, got_c = np.load(tmp_path / "p.npy"), np.load(tmp_path / "c.npy")
    assert got_p.shape == presence.shape and got_c.shape == chars.shape
    scale = max(1.0, float(np.abs(chars).max()))
    assert np.abs(got_p - presence).max() <= tolerance * max(1.0, float(np.abs(presence).max()))
    assert np.abs(got_c - chars).max() <= tolerance * scale
    # Where Keras is sure of a character, the export reads the same one.
    sure = (np.exp(chars - chars.max(-1, keepdims=True)).max(-1)
            / np.exp(chars - chars.max(-1, keepdims=True)).sum(-1)) > 0.9
    assert (got_c.argmax(-1) == chars.argmax(-1))[sure].mean() >= 0.97


@needs_weights
def test_an_export_records_its_sources_and_its_check(exports):
    meta = json.loads((exports["litert-int8"] / "export.json").read_text())
    assert meta["format"] == "litert" and meta["int8"] is True
    assert meta["finder"]["file"] == "anprd.keras" and meta["readers"][0]["file"] == "wide.keras"
    check = meta["check"]
    assert check["windows"] == 128 and check["max_loss"] == 0.01
    assert set(check["loss"]) == {"plate_exact", "presence"}
    found, skipped = find_exports([exports["onnx"].parent], WEIGHTS, [READER])
    assert {e.folder.name for e in found} == {"litert", "litert-int8", "onnx"} and not skipped
    # Another reader: the same exports are of other weights, and said so.
    found, skipped = find_exports([exports["onnx"].parent], WEIGHTS, [WEIGHTS])
    assert not found and all("other weights files" in s for s in skipped)


@needs_weights
def test_the_shipped_export_reads_the_sample_without_tensorflow():
    """A gate box with only `anprd[lite]`: `anprd detect` picks the shipped LiteRT export."""
    assert read_export(SHIPPED).passed
    r = without_tf("""
import sys
from anprd.cli import main
sys.exit(main(["detect", "--json", "samples/scene.jpg"]))
""")
    assert r.returncode == 0, r.stderr[-3000:]
    (line,) = r.stdout.strip().splitlines()
    plates = [p["plate"] for p in json.loads(line)["plates"]]
    assert plates == ["AE418KT"]
    r = without_tf("""
import sys
from anprd.cli import main
sys.exit(main(["detect", "--runtime", "keras", "samples/scene.jpg"]))
""")
    assert r.returncode == 2 and "Keras is not installed" in r.stderr, r.stderr
    # What needs Keras says so, by name, without a traceback.
    r = without_tf("""
import sys
from anprd.cli import main
sys.exit(main(["export", "--format", "litert", "weights/anprd.keras", "runs/never"]))
""")
    assert r.returncode == 2 and "needs Keras with TensorFlow" in r.stderr, r.stderr
    r = without_tf("""
import sys
from trainer.__main__ import main
sys.exit(main(["train", "--out", "runs/never/t.keras", "--steps", "1"]))
""")
    assert r.returncode == 2 and "keras is not installed" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_a_damaged_or_foreign_export_is_refused_by_name(tmp_path):
    with pytest.raises(ExportError, match="no export.json"):
        read_export(tmp_path)
    (tmp_path / "export.json").write_text("{not json")
    with pytest.raises(ExportError, match="unreadable"):
        read_export(tmp_path)
    (tmp_path / "export.json").write_text(json.dumps(
        {"format": "litert", "int8": True, "finder": {"sha256": "x"},
         "readers": [{"sha256": "y"}]}))
    with pytest.raises(ExportError, match="presence.tflite is missing"):
        read_export(tmp_path)


@needs_weights
def test_export_checks_its_arguments_before_converting(tmp_path):
    r = anprd("export", "--format", "litert", tmp_path / "none.keras", tmp_path / "out")
    assert r.returncode == 2 and "no such weights file" in r.stderr
    (tmp_path / "file").write_text("x")
    r = anprd("export", "--format", "onnx", WEIGHTS, tmp_path / "file")
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr
    r = anprd("export", "--format", "onnx", "--int8", "--calibration", "5", WEIGHTS,
              tmp_path / "out")
    assert r.returncode == 2 and "--calibration 5: give 16 to 2048 windows" in r.stderr
    assert "Traceback" not in r.stderr


def _export(fmt: str, int8: bool, passed: bool):
    from anprd.detect.exported import Export

    return Export(Path(f"/x/{fmt}{int8}"), fmt, int8, "f", ("r",),
                  {"passed": passed})


def test_auto_takes_the_fastest_checked_export_and_a_named_runtime_its_own():
    from anprd.detect.runtime_choice import NoRuntime, choose

    exports = [_export("onnx", False, True), _export("litert", False, True),
               _export("litert", True, False)]
    # The int8 LiteRT export failed its check: auto takes float LiteRT, not it.
    assert choose("auto", "cpu", "tensorflow", exports).name == "litert"
    assert choose("onnxruntime", "cpu", "tensorflow", exports).name == "onnxruntime"
    assert choose("auto", "gpu", "tensorflow", exports).name == "keras"
    assert choose("auto", "cpu", "jax", exports).name == "keras"
    assert choose("auto", "cpu", "tensorflow", []).name == "keras"
    with pytest.raises(NoRuntime, match="no litert export of these weights.*anprd export"):
        choose("litert", "cpu", "tensorflow", [], ["/w/old: exported from other weights"])


@needs_weights
def test_a_stale_export_is_passed_over_with_a_warning(exports, caplog):
    """Exports of other weights files (here: another reader) are never run; auto falls
    back to Keras and the log names each one."""
    from anprd.detect.loading import load_detector

    with caplog.at_level("WARNING", logger="anprd.detector"):
        det = load_detector(WEIGHTS, reader_weights=WEIGHTS, exports=[exports["onnx"].parent])
    assert det.runtime == "keras"
    passed_over = [r.getMessage() for r in caplog.records if "passed over" in r.getMessage()]
    assert len(passed_over) == 3 and all("other weights files" in m for m in passed_over)
