"""The network: it learns, it saves and loads, and its dense views agree with it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = r"""
import sys, numpy as np, keras
from anprd.detect.model import (SIZES, build_model, compile_model, load_model, presence_net,
                                reader_net)
from trainer.generate import ChunkMaker, Sources, to_targets

keras.utils.set_random_seed(0)
x, y = to_targets(ChunkMaker(Sources.resolve(), seed=3).chunk(0, 0, 32))
model = compile_model(build_model(sys.argv[2], SIZES[sys.argv[3]]), 1e-3)
# Training loss (batch statistics): inference-mode loss lags while the batch
# normalisation averages settle, which takes longer than a test should.
h = model.fit(x, y, batch_size=32, epochs=25, verbose=0).history["loss"]
first, last = h[0], h[-1]
path = sys.argv[1]
model.save(path)
again = load_model(path)
a, b = model.predict(x, verbose=0), again.predict(x, verbose=0)
same = all(np.allclose(a[k], b[k], atol=1e-5) for k in a)
dense = np.asarray(presence_net(again)(x[:4]))[:, 0, 0, 0]
reader = reader_net(again)(x[:4])
views = np.allclose(dense, b["presence"][:4, 0], atol=1e-4) and all(
    np.allclose(np.asarray(reader[k]), b[k][:4], atol=1e-4) for k in ("chars", "where"))
# A picture of odd size and the same picture one pixel smaller (even size): the windows
# that see neither lost pixel must get the same presence (the stem's cells do not move).
odd = np.random.default_rng(0).integers(0, 255, (1, 64 + 8 * 5 + 3, 128 + 8 * 3 + 3, 1))
dense_odd, dense_even = (np.asarray(presence_net(again)(p.astype("float32")))
                         for p in (odd, odd[:, :-1, :-1]))
aligned = np.allclose(dense_odd[:, :-2, :-2], dense_even[:, :-2, :-2], atol=1e-5)
print(first, last, same, views, aligned, "x".join(map(str, dense_odd.shape)),
      "x".join(map(str, dense_even.shape)))
"""


def backends_and_designs():
    """Both stems and both sizes on TensorFlow; JAX (when installed) with the design of the
    shipped weights."""
    jax = ("jax", "stride", "wide")
    if not importlib.util.find_spec("jax"):
        jax = pytest.param(*jax, marks=pytest.mark.skip(reason="jax not installed: "
                                                              "pip install '.[jax]'"))
    return [("tensorflow", "pool", "compact"), ("tensorflow", "stride", "wide"), jax]


@pytest.mark.parametrize(("backend", "stem", "size"), backends_and_designs())
def test_tiny_training_lowers_the_loss_and_the_saved_file_loads_back(backend, stem, size,
                                                                     tmp_path):
    env = {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
           "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "m.keras"), stem, size],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    first, last, same, views, aligned, odd, even = r.stdout.strip().splitlines()[-1].split()
    assert float(last) < 0.7 * float(first)
    assert same == "True", "a saved model gives other outputs once loaded"
    assert views == "True", "the dense presence and reader views disagree with the model"
    # One presence logit per window position, stride 8, for pictures of odd or even size,
    # and a window's logit does not depend on whether the picture's size is odd.
    assert odd == even == "1x6x4x1"
    assert aligned == "True", "the stem's cells move with the picture's size"


def test_weights_file_is_small():
    w = REPO_ROOT / "weights" / "anprd.keras"
    if not w.exists():
        pytest.skip("weights/anprd.keras not built")
    assert w.stat().st_size <= 32 * 1024 * 1024


def test_train_command_checkpoints_and_resumes(tmp_path):
    out = tmp_path / "w" / "m.keras"
    base = [sys.executable, "-m", "trainer", "train", "--out", str(out), "--batch", "8",
            "--eval-every", "2", "--val-count", "16", "--workers", "1"]
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(base + ["--steps", "4", "--stem", "stride", "--size", "wide"],
                       cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    run = out.parent / "m.run"
    assert out.is_file() and (run / "checkpoint.keras").is_file() and (run / "curves.png").is_file()
    r = subprocess.run(base + ["--steps", "6", "--resume", str(run / "checkpoint.keras")],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "resuming from" in r.stdout and "at step 4" in r.stdout
    # The run planned for 4 steps goes on to 6: its learning-rate schedule is refitted,
    # and the checkpoint carries the refitted one.
    assert "learning-rate schedule now ends at step 6" in r.stdout
    with zipfile.ZipFile(run / "checkpoint.keras") as z:
        optimizer = json.loads(z.read("config.json"))["compile_config"]["optimizer"]
    lr = optimizer["config"]["learning_rate"]["config"]
    assert lr["decay_steps"] + (lr.get("warmup_steps") or 0) == 6
    rows = (run / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["step", "2", "4", "6"]
    again = tmp_path / "again" / "m.keras"
    r = subprocess.run(base[:5] + [str(again)] + base[6:] + ["--steps", "1", "--init", str(out)],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "starting from the weights of" in r.stdout and again.is_file()
    # A run shorter than --eval-every is one step long, scored at its end.
    rows = (again.parent / "m.run" / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["step", "1"]
    # A run from trained weights keeps their stem and size, and so does every file it writes.
    from anprd.detect.model import SIZES, load_model, size_of, stem_of

    models = [load_model(p) for p in (out, run / "checkpoint.keras", again)]
    assert [stem_of(m) for m in models] == ["stride"] * 3
    assert [size_of(m) for m in models] == [SIZES["wide"]] * 3
    r = subprocess.run(base + ["--steps", "6", "--resume", str(tmp_path / "nope.keras")],
                       cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "checkpoint not found" in r.stderr
    # A new run over one that is there would destroy its log and checkpoint.
    r = subprocess.run(base + ["--steps", "4"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "is already in" in r.stderr and "--resume" in r.stderr
    assert len((run / "log.csv").read_text().splitlines()) == 4  # the run is as it was
    r = subprocess.run(base + ["--steps", "8", "--eval-every", "4", "--resume",
                               str(run / "checkpoint.keras")], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "at step 6, which is not a multiple of --eval-every 4" in r.stderr
    r = subprocess.run(base + ["--steps", "8", "--size", "wide", "--resume",
                               str(run / "checkpoint.keras")], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "a --resume goes on with the checkpoint's network" in r.stderr
    fresh = base[:5] + [str(tmp_path / "fresh" / "m.keras")] + base[6:]
    for args, problem in ((["--out", str(tmp_path)], "written to a .keras file"),
                          (["--batch", "4096"], "--batch must be 1 to 2048"),
                          (["--workers", "0"], "--workers and --val-count must be at least 1")):
        r = subprocess.run(fresh + ["--steps", "2"] + args, cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 2 and problem in r.stderr, (args, r.stderr[-500:])
    r = subprocess.run(fresh + ["--steps", "5"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "--steps 5 is not a multiple of --eval-every 2" in r.stderr
    r = subprocess.run(fresh + ["--steps", "2", "--stem", "same"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "unknown --stem 'same': one of pool, stride" in r.stderr
    r = subprocess.run(fresh + ["--steps", "2", "--size", "huge"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "unknown --size 'huge': one of compact, wide" in r.stderr
    r = subprocess.run(fresh + ["--steps", "2", "--precision", "half"], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "unknown --precision 'half'" in r.stderr


def test_training_precision_follows_the_hardware(tmp_path):
    from trainer.train import PrecisionError, cpu_has_bf16, precision_for

    assert precision_for("auto", gpus=1, bf16_cpu=False) == "mixed_float16"
    assert precision_for("auto", gpus=0, bf16_cpu=True) == "mixed_bfloat16"
    assert precision_for("auto", gpus=0, bf16_cpu=False) == "float32"
    assert precision_for("float32", gpus=2, bf16_cpu=True) == "float32"
    info = tmp_path / "cpuinfo"
    info.write_text("flags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert cpu_has_bf16(info)
    info.write_text("flags\t\t: fpu sse avx2 avx512f avx512_vnni\n")
    assert not cpu_has_bf16(info)
    assert not cpu_has_bf16(tmp_path / "missing")
    # A mixed precision the hardware lacks is refused, by name, before any training.
    with pytest.raises(PrecisionError, match="mixed_float16 needs a GPU"):
        precision_for("mixed_float16", gpus=0, bf16_cpu=True)
    with pytest.raises(PrecisionError, match="native bfloat16"):
        precision_for("mixed_bfloat16", gpus=0, bf16_cpu=False)
    with pytest.raises(PrecisionError, match="unknown --precision 'half'"):
        precision_for("half", gpus=1, bf16_cpu=True)
    assert precision_for("mixed_bfloat16", gpus=1, bf16_cpu=False) == "mixed_bfloat16"


def test_weights_trained_in_mixed_precision_are_written_in_float32(tmp_path):
    import keras

    from anprd.detect.model import build_model, load_model
    from trainer.train import export

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = build_model()
        assert model.get_layer("c2").dtype_policy.name == "mixed_bfloat16"
        export(model, tmp_path / "w.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    again = load_model(tmp_path / "w.keras")
    assert {layer.dtype_policy.name for layer in again.layers} == {"float32"}
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        assert (a == b).all()


def test_init_copies_the_layers_whose_names_and_shapes_match_and_skips_the_others(tmp_path):
    import keras
    import numpy as np

    from anprd.detect.model import build_model, load_model
    from trainer.train import init_from

    inp = keras.Input((64, 128, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", name="c1")(inp)  # 8 filters, not 16
    x = keras.layers.Conv2D(16, 1, name="adapter")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", use_bias=False, name="c2")(x)
    old = keras.Model(inp, x)
    path = tmp_path / "old.keras"
    old.save(path)
    model = build_model()
    c1_before = model.get_layer("c1").get_weights()[0].copy()
    assert init_from(model, load_model(path)) == ["c2"]
    kernel = {name: model.get_layer(name).get_weights()[0] for name in ("c1", "c2")}
    assert np.array_equal(kernel["c2"], old.get_layer("c2").get_weights()[0])
    assert np.array_equal(kernel["c1"], c1_before)


def test_presence_only_training_changes_the_presence_head_and_nothing_else(tmp_path):
    import numpy as np

    from anprd.detect.model import PRESENCE_LAYERS, load_model

    shipped = REPO_ROOT / "weights" / "anprd.keras"
    if not shipped.exists():
        pytest.skip("weights/anprd.keras not built")
    out = tmp_path / "w" / "m.keras"
    base = [sys.executable, "-m", "trainer", "train", "--out", str(out), "--batch", "8",
            "--eval-every", "2", "--val-count", "16", "--workers", "1", "--presence-only"]
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}
    r = subprocess.run(base + ["--steps", "2"], cwd=REPO_ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 2 and "--init" in r.stderr
    r = subprocess.run(base + ["--steps", "2", "--init", str(shipped)], cwd=REPO_ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    # A resumed presence-only run stays presence-only, without being told again; being
    # told is refused, since a resume always goes on as its checkpoint's run was.
    resume = ["--steps", "4", "--resume", str(out.parent / "m.run" / "checkpoint.keras")]
    r = subprocess.run(base + resume, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 2 and "--resume" in r.stderr
    r = subprocess.run(base[:-1] + resume, cwd=REPO_ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    before, after = load_model(shipped), load_model(out)
    for layer in before.layers:
        old, new = layer.get_weights(), after.get_layer(layer.name).get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(old, new, strict=True))
        if layer.name in PRESENCE_LAYERS:
            assert not same, f"{layer.name} did not learn"
        else:
            assert same, f"{layer.name} changed in presence-only training"
