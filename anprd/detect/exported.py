"""Networks exported for a CPU runtime (LiteRT or ONNX Runtime): reading an export's
manifest and running its networks, without TensorFlow or Keras in the process.

An export is a folder written by `anprd export`: `presence.<ext>` (the finder's dense
presence network), `reader-<k>.<ext>` (the readers) and `export.json`, which names the
weights files it came from (by SHA-256, so a retrained file is not run by a stale
export) and the figures of its accuracy check against Keras.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anprd.detect.backend import padded_batch, quiet_native_stderr

MANIFEST = "export.json"
FORMATS = ("litert", "onnx")
RUNTIME_OF = {"litert": "litert", "onnx": "onnxruntime"}
EXTENSION = {"litert": ".tflite", "onnx": ".onnx"}
MODULE_OF = {"litert": "ai_edge_litert", "onnxruntime": "onnxruntime", "keras": "keras"}
# An export whose plates or presence fall further than this below Keras' on the check's
# synthetic windows (fractions) is not chosen by `runtime: auto`.
MAX_LOSS = 0.01
SHAPES_KEPT = 24  # LiteRT interpreters kept per network, one per input shape


class ExportError(Exception):
    """An export folder that is missing, damaged, or of other weights."""


@dataclass(frozen=True)
class Export:
    folder: Path
    format: str
    int8: bool
    finder: str  # SHA-256 of the finder's weights file
    readers: tuple[str, ...]  # SHA-256 of each reader's weights file
    check: dict

    @property
    def runtime(self) -> str:
        return RUNTIME_OF[self.format]

    @property
    def name(self) -> str:
        return f"{self.runtime}{' int8' if self.int8 else ''}"

    @property
    def passed(self) -> bool:
        return bool(self.check.get("passed"))

    def file(self, net: str) -> Path:
        return self.folder / f"{net}{EXTENSION[self.format]}"

    @property
    def reader_files(self) -> list[Path]:
        return [self.file(f"reader-{k}") for k in range(len(self.readers))]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_export(folder: Path) -> Export:
    try:
        meta = json.loads((folder / MANIFEST).read_text())
        fmt = meta["format"]
        if fmt not in FORMATS:
            raise ExportError(f"{folder}: unknown export format {fmt!r}")
        export = Export(folder, fmt, bool(meta["int8"]), str(meta["finder"]["sha256"]),
                        tuple(str(r["sha256"]) for r in meta["readers"]),
                        dict(meta.get("check") or {}))
    except FileNotFoundError:
        raise ExportError(f"{folder}: no {MANIFEST} (not a folder written by anprd export)"
                          ) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ExportError(f"{folder}/{MANIFEST}: unreadable ({e})") from None
    for f in [export.file("presence"), *export.reader_files]:
        if not f.is_file():
            raise ExportError(f"{folder}: {f.name} is missing")
    return export


def find_exports(folders: list[Path], finder: Path, readers: list[Path]
                 ) -> tuple[list[Export], list[str]]:
    """The exports among `folders` (each an export, or a folder of exports) made from
    these weights files, and why each other one was passed over."""
    candidates = []
    for folder in folders:
        if (folder / MANIFEST).exists():
            candidates.append(folder)
        elif folder.is_dir():
            candidates += sorted(p for p in folder.iterdir() if (p / MANIFEST).exists())
    if not candidates:
        return [], []
    want = (sha256(finder), tuple(sha256(r) for r in readers))
    found, skipped = [], []
    for c in candidates:
        try:
            e = read_export(c)
        except ExportError as err:
            skipped.append(str(err))
            continue
        if (e.finder, e.readers) != want:
            skipped.append(f"{c}: exported from other weights files (run anprd export again)")
        else:
            found.append(e)
    return found, skipped


def loss_figures(reference: dict, exported: dict) -> dict:
    """The check an export passes: its plate and presence accuracy on the same synthetic
    windows no more than MAX_LOSS below Keras'."""
    loss = {k: round(reference[k] - exported[k], 4) for k in ("plate_exact", "presence")}
    return {"keras": reference, "export": exported, "loss": loss,
            "max_loss": MAX_LOSS, "passed": all(v <= MAX_LOSS for v in loss.values())}


def installed(runtime: str) -> bool:
    return importlib.util.find_spec(MODULE_OF[runtime]) is not None


# ---------------------------------------------------------------------------- running


def _uint8_or_float(batch: np.ndarray, dtype) -> np.ndarray:
    return batch if dtype == np.uint8 else batch.astype(np.float32)


class LitertNet:
    """A .tflite network as a function of a uint8 batch (B, H, W, 1): an array, or a
    dict of arrays for a network with several outputs.

    LiteRT plans its memory per input shape, so one interpreter is kept for each recent
    shape. To keep those few: with `one_by_one` (the presence network, whose pictures
    come in as many sizes as pyramid levels) a batch runs one picture at a time, which
    costs XNNPACK nothing on pictures this large; otherwise (the readers, whose batch
    size changes from frame to frame) the batch is padded to `padded_batch`."""

    def __init__(self, path: Path, threads: int, one_by_one: bool = False):
        self._one_by_one = one_by_one
        from ai_edge_litert.interpreter import Interpreter

        self._make = lambda: Interpreter(model_path=str(path), num_threads=threads)
        with quiet_native_stderr():
            first = self._make()
        (key,) = first.get_signature_list()
        runner = first.get_signature_runner(key)
        (self._input,) = (d["index"] for d in runner.get_input_details().values())
        self._dtype = next(iter(runner.get_input_details().values()))["dtype"]
        self._outputs = {k: d["index"] for k, d in runner.get_output_details().items()}
        self._by_shape: OrderedDict[tuple, object] = OrderedDict()

    def _interpreter(self, shape: tuple):
        it = self._by_shape.pop(shape, None)
        if it is None:
            with quiet_native_stderr():  # LiteRT's note on its CPU delegate, every time
                it = self._make()
                it.resize_tensor_input(self._input, shape)
                it.allocate_tensors()
        self._by_shape[shape] = it
        while len(self._by_shape) > SHAPES_KEPT:
            self._by_shape.popitem(last=False)
        return it

    def _run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        it = self._interpreter(batch.shape)
        it.set_tensor(self._input, _uint8_or_float(batch, self._dtype))
        it.invoke()
        return {k: it.get_tensor(i).copy() for k, i in self._outputs.items()}

    def __call__(self, batch: np.ndarray):
        n = len(batch)
        if self._one_by_one:
            parts = [self._run(batch[i : i + 1]) for i in range(n)]
            out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        else:
            size = padded_batch(n)
            if size > n:
                batch = np.concatenate([batch, np.zeros((size - n, *batch.shape[1:]),
                                                        batch.dtype)])
            out = {k: v[:n] for k, v in self._run(batch).items()}
        return out if len(out) > 1 else next(iter(out.values()))


class OnnxNet:
    """An .onnx network as a function of a uint8 batch, as `LitertNet`."""

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), options,
                                             providers=["CPUExecutionProvider"])
        (inp,) = self._session.get_inputs()
        self._input = inp.name
        self._float = "float" in inp.type
        self._names = [o.name for o in self._session.get_outputs()]

    def __call__(self, batch: np.ndarray):
        x = batch.astype(np.float32) if self._float else batch
        outs = [_batch_first(o, len(batch)) for o in self._session.run(None, {self._input: x})]
        return dict(zip(self._names, outs, strict=True)) if len(outs) > 1 else outs[0]


def _batch_first(out: np.ndarray, n: int) -> np.ndarray:
    """`out` with the batch as its first axis. A tf2onnx conversion once (in one CI run
    of several, not reproduced) gave the presence network an extra leading axis of 1."""
    if out.ndim >= 2 and out.shape[0] == 1 and out.shape[1] == n and n != 1:
        return out[0]
    return out


def nets(export: Export, threads: int) -> tuple[Callable, list[Callable]]:
    """The presence network and the readers of an export, ready to run."""
    if export.format == "litert":
        return (LitertNet(export.file("presence"), threads, one_by_one=True),
                [LitertNet(f, threads) for f in export.reader_files])
    return OnnxNet(export.file("presence"), threads), [OnnxNet(f, threads)
                                                       for f in export.reader_files]
