"""Exporting the networks for CPU runtimes: LiteRT (TensorFlow's converter) or ONNX
(tf2onnx), in float32 or full-integer int8 calibrated on windows the generator draws,
each checked against Keras on fresh synthetic windows. Through Keras' own `export`.

The presence network is exported fully convolutional (any picture size); the readers
take batches of 128 x 64 windows. Pixels go in as 0-255 (the networks scale them), so an
int8 network takes the uint8 picture as it is.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from anprd.detect.exported import MANIFEST, Export, loss_figures, nets, read_export, sha256
from trainer.figures import figures
from trainer.generate import ChunkMaker, Sources, to_arrays

CALIBRATION_SEED = 20261207
CHECK_SEED = 20261208
MOSAIC = (4, 4)  # presence calibration pictures: windows tiled 4 high, 4 across


def synthetic_windows(sources: Sources, seed: int, count: int):
    """`count` windows, their presence and character labels, from the generator."""
    samples = ChunkMaker(sources, seed).chunk(0, 0, count)
    return to_arrays(samples)


def _mosaics(x: np.ndarray) -> np.ndarray:
    """Windows tiled into pictures the size of small pyramid levels."""
    rows, cols = MOSAIC
    n = len(x) // (rows * cols)
    tiles = x[: n * rows * cols, ..., 0].reshape(n, rows, cols, *x.shape[1:3])
    return tiles.transpose(0, 1, 3, 2, 4).reshape(n, rows * x.shape[1], cols * x.shape[2], 1)


def _calibration(x: np.ndarray, presence: bool) -> Iterator[list[np.ndarray]]:
    if presence:
        for m in _mosaics(x):
            yield [m[None].astype(np.float32)]
    for i in range(0, len(x), 16):
        yield [x[i : i + 16].astype(np.float32)]


def _litert(net, path: Path, calib: np.ndarray | None, presence: bool) -> None:
    import keras
    import tensorflow as tf

    shape = (None, None, None, 1) if presence else (None, *net.input_shape[1:])
    options = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if calib is not None:
        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": lambda: _calibration(calib, presence),
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
            "inference_input_type": tf.uint8,
        }
    net.export(str(path), format="litert", verbose=False,
               input_signature=[keras.InputSpec(shape=shape, dtype="float32")], **options)


def _onnx(net, path: Path, calib: np.ndarray | None, presence: bool) -> None:
    import keras

    shape = (None, None, None, 1) if presence else (None, *net.input_shape[1:])
    spec = [keras.InputSpec(shape=shape, dtype="float32")]
    if calib is None:
        net.export(str(path), format="onnx", verbose=False, input_signature=spec)
        return
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp:
        plain, prepared = Path(tmp) / "plain.onnx", Path(tmp) / "prepared.onnx"
        net.export(str(plain), format="onnx", verbose=False, input_signature=spec)
        quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)
        import onnx

        name = onnx.load(str(prepared)).graph.input[0].name

        class Reader(CalibrationDataReader):
            def __init__(self):
                self._batches = (({name: b[0]}) for b in _calibration(calib, presence))

            def get_next(self):
                return next(self._batches, None)

        quantize_static(str(prepared), str(path), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)


def _check_figures(presence, reader, x: np.ndarray, p: np.ndarray, chars: np.ndarray) -> dict:
    """Plate and presence accuracy of a presence net and a reader on windows."""
    logits = np.concatenate([presence(x[i : i + 64]).reshape(-1, 1)
                             for i in range(0, len(x), 64)])
    char_logits = np.concatenate([reader(x[i : i + 64])["chars"] for i in range(0, len(x), 64)])
    f = figures(logits, char_logits, p, chars)
    return {k: round(f[k], 4) for k in ("plate_exact", "presence")}


def export(finder: Path, readers: list[Path], fmt: str, int8: bool, out: Path,
           sources: Sources, calibration: int = 512, check: int = 2000,
           log=print) -> Export:
    """Writes the export folder `out` and returns it, its check's figures included."""
    from anprd.detect.backend import compiled
    from anprd.detect.model import load_model, presence_net, reader_net

    t0 = time.monotonic()
    models = {f: load_model(f) for f in dict.fromkeys([finder, *readers])}
    calib = None
    if int8:
        log(f"drawing {calibration} calibration windows")
        calib = synthetic_windows(sources, CALIBRATION_SEED, calibration)[0]
    write = _litert if fmt == "litert" else _onnx
    ext = ".tflite" if fmt == "litert" else ".onnx"
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"exporting the presence network of {finder}")
    write(presence_net(models[finder]), tmp / f"presence{ext}", calib, True)
    for k, r in enumerate(readers):
        log(f"exporting the reader of {r}")
        write(reader_net(models[r]), tmp / f"reader-{k}{ext}", calib, False)
    manifest = {
        "format": fmt, "int8": int8,
        "finder": {"file": finder.name, "sha256": sha256(finder)},
        "readers": [{"file": r.name, "sha256": sha256(r)} for r in readers],
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    log(f"checking against Keras on {check} fresh synthetic windows")
    x, p, chars = synthetic_windows(sources, CHECK_SEED, check)
    x = x.astype(np.uint8)
    keras_fig = _check_figures(compiled(presence_net(models[finder])),
                               compiled(reader_net(models[readers[0]])), x, p, chars)
    presence, reader_nets = nets(read_export(tmp), threads=2)  # the manifest, unchecked
    manifest["check"] = {"windows": check, "seed": CHECK_SEED, "reader": readers[0].name,
                         **loss_figures(keras_fig, _check_figures(presence, reader_nets[0],
                                                                  x, p, chars))}
    if int8:
        manifest["calibration"] = {"windows": calibration, "seed": CALIBRATION_SEED}
    manifest["seconds"] = round(time.monotonic() - t0, 1)
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return read_export(out)
