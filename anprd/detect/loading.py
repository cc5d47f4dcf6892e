"""Loading a detector: the weights files checked, the runtime chosen, the networks made
ready on it (Keras, or an export for LiteRT or ONNX Runtime)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from anprd.detect import backend as be
from anprd.detect.detector import Detector, DetectorError
from anprd.detect.exported import ExportError, find_exports, nets
from anprd.detect.runtime_choice import NoRuntime, choose, usable_cores

log = logging.getLogger("anprd.detector")


def load_detector(weights: Path, backend: str = "tensorflow", device: str = "auto",
                  reader_weights: Sequence[Path] | Path = (), runtime: str = "auto",
                  threads: int | None = None, exports: Sequence[Path] | None = None
                  ) -> Detector:
    """The detector of `weights`; with `reader_weights`, those files' readers read the
    candidates together (`weights`' own among them only if it is listed).

    `runtime` (auto, keras, litert, onnxruntime: `runtime_choice.choose`) picks what
    runs them; exports of these files are looked for in `exports` (default: the weights
    file's folder). `threads`: the runtime's threads (default: every core this process
    may use)."""
    if isinstance(reader_weights, str | Path):
        reader_weights = [reader_weights]
    weights, readers = Path(weights), [Path(f) for f in reader_weights]
    for f in [weights, *readers]:
        if not f.is_file():
            raise DetectorError(f"weights file not found: {f}")
    threads = threads or usable_cores()
    found, skipped = find_exports(list(exports or [weights.parent]), weights,
                                  readers or [weights])
    try:
        choice = choose(runtime, device, backend, found, skipped)
    except NoRuntime as e:
        raise DetectorError(str(e)) from None
    for reason in skipped:  # a stale or damaged export is worth an operator's look
        log.warning("export passed over: %s", reason)
    if choice.export is None:
        return _keras_detector(weights, readers, backend, device, threads)
    try:
        presence, reader_nets = nets(choice.export, threads)
    except (ExportError, ImportError, ValueError, RuntimeError) as e:
        raise DetectorError(f"cannot load {choice.export.folder}: {e}") from None
    return Detector(presence, reader_nets, choice.name.replace(" ", "-"), "cpu", choice.name,
                    threads=threads)


def _keras_detector(weights: Path, readers: list[Path], backend: str, device: str,
                    threads: int) -> Detector:
    try:
        be.select(backend, device, threads)
        used = be.device_in_use(device)
    except be.BackendError as e:
        raise DetectorError(str(e)) from None
    from anprd.detect.model import load_model

    models = {}
    for f in dict.fromkeys([weights, *readers]):
        try:
            models[f] = load_model(f)
        except Exception as e:  # any damage to the file: say which file, not a traceback
            raise DetectorError(f"cannot load weights {f}: {e}") from None
    return Detector.from_models(models[weights], backend, used, [models[f] for f in readers],
                                threads)
