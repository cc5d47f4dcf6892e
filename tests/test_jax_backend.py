"""The JAX backend (`model.backend: jax`): it reads what TensorFlow reads, and a camera's
steady stream pays no compilation once its first frames are done."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, WEIGHTS, needs_weights

needs_jax = pytest.mark.skipif(not importlib.util.find_spec("jax"),
                               reason="jax not installed: pip install '.[jax]'")
ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"}

# Runs in its own process: Keras picks its backend once, at import.
SCRIPT = r"""
import json, sys
import numpy as np
from anprd.detect.backend import compiled, select
select("jax", "cpu")
import jax
from anprd.detect.loading import load_detector
from anprd.detect.model import reader_net
from anprd.video.files import video_frames
from anprd.reads import DetectParams

compiles = []
def count(event, duration, **kw):
    if event == "/jax/core/compile/backend_compile_duration":
        compiles.append(event)
jax.monitoring.register_event_duration_secs_listener(count)

det = load_detector(sys.argv[1], "jax", "cpu")
frames = [f for _, f in video_frames(sys.argv[2], every=5)]
first = [[r.plate for r in det.detect([f], [DetectParams()])[0]] for f in frames]
after_first = len(compiles)
again = [[r.plate for r in det.detect([f], [DetectParams()])[0]] for f in frames]
after_again = len(compiles)

# The reader alone, on every batch size from 1 to 40 windows.
reader = reader_net(det.model)
run = compiled(reader, pad_batch=True)
windows = np.random.default_rng(0).integers(0, 256, (40, 64, 128, 1)).astype(np.uint8)
before = len(compiles)
outs = [run(windows[:n]) for n in range(1, 41)]
reader_compiles = len(compiles) - before
direct = reader(windows.astype("float32"))  # eagerly: this compiles op by op
same = all(np.allclose(o["chars"], np.asarray(direct["chars"])[: len(o["chars"])], atol=1e-4)
           for o in outs)
print(json.dumps({"frames": len(frames), "first": first, "again": again,
                  "compiles_first": after_first, "compiles_again": after_again - after_first,
                  "reader_compiles": reader_compiles, "reader_same": same}))
"""


@pytest.fixture(scope="module")
def jax_run() -> dict:
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(WEIGHTS),
                        str(REPO_ROOT / "samples" / "gate.mp4")],
                       cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@needs_jax
@needs_weights
def test_a_steady_stream_compiles_nothing_after_its_first_frames(jax_run):
    assert jax_run["frames"] >= 10
    assert any("AE418KT" in plates for plates in jax_run["first"])
    # The same frames again: every level's shape and every batch of candidates has been
    # seen, so nothing is compiled, and the readings are the same.
    assert jax_run["compiles_again"] == 0
    assert jax_run["again"] == jax_run["first"]


@needs_jax
@needs_weights
def test_the_reader_compiles_once_per_padded_batch_not_per_count(jax_run):
    # Batches of 1 to 40 windows are padded to 8, 16, 32 or 64: at most four
    # compilations (the padding is dropped from the outputs, which match the network's).
    assert jax_run["reader_compiles"] <= 4
    assert jax_run["reader_same"]


@needs_jax
@needs_weights
def test_jax_reads_the_sample_as_tensorflow_does():
    out = {}
    for backend in ("tensorflow", "jax"):
        r = subprocess.run([sys.executable, "-m", "anprd", "detect",
                            str(REPO_ROOT / "samples" / "scene.jpg"), "--json", "--backend",
                            backend, "--device", "cpu", "--runtime", "keras"],
                           cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        out[backend] = json.loads(r.stdout)["plates"]
    (tf_plate,), (jax_plate,) = out["tensorflow"], out["jax"]
    assert jax_plate["plate"] == tf_plate["plate"] == "AE418KT"
    assert jax_plate["box"] == pytest.approx(tf_plate["box"], abs=1)
    assert jax_plate["confidence"] == pytest.approx(tf_plate["confidence"], abs=1e-3)
