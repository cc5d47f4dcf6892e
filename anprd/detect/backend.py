"""Choosing the Keras backend and device, and compiling the networks for it.

Keras reads its backend when first imported, so `select()` must run before anything
imports keras; the detector calls it on load.
"""

from __future__ import annotations

import contextlib
import os
import sys

import numpy as np

BACKENDS = ("tensorflow", "jax")
DEVICES = ("auto", "cpu", "gpu")


class BackendError(Exception):
    pass


def select(backend: str, device: str, threads: int | None = None) -> None:
    """Keras' backend and device for this process; `threads`: TensorFlow's threads for
    one operation (a process's first choice holds: TensorFlow fixes them at start)."""
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if device not in DEVICES:
        raise BackendError(f"unknown device {device!r}: use one of {', '.join(DEVICES)}")
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise BackendError(
                f"keras is already running with the {keras.backend.backend()} backend in this "
                f"process; cannot switch to {backend}"
            )
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        if backend == "jax":
            os.environ["JAX_PLATFORMS"] = "cpu"
    try:
        with quiet_native_stderr():
            if backend == "jax":
                import jax  # noqa: F401
            else:
                import tensorflow as tf

                if threads:
                    with contextlib.suppress(RuntimeError):
                        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except ImportError:
        extra = " (pip install 'anprd[jax]')" if backend == "jax" else ""
        raise BackendError(f"the {backend} backend is not installed{extra}") from None


@contextlib.contextmanager
def quiet_native_stderr():
    """Silence what native libraries write straight to file descriptor 2 (TensorFlow's
    start-up notes about CUDA on a machine without a GPU); Python errors still raise."""
    if os.environ.get("ANPRD_DEBUG") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def gpu_devices() -> list[str]:
    """The GPUs the Keras backend sees (JAX raises where TensorFlow answers none)."""
    import keras

    try:
        with quiet_native_stderr():
            return list(keras.distribution.list_devices("gpu"))
    except RuntimeError:
        return []


def device_in_use(device: str) -> str:
    """'gpu' or 'cpu': what `device` (auto, cpu, gpu) resolves to; gpu must exist if asked."""
    import keras

    gpus = [] if device == "cpu" else gpu_devices()
    if device == "gpu" and not gpus:
        raise BackendError("model.device is gpu but no GPU is visible to "
                           f"{keras.backend.backend()}")
    return "gpu" if gpus else "cpu"


def padded_batch(n: int, smallest: int = 8) -> int:
    """The batch size a batch of `n` is padded to for JAX: the next power of two (at
    least `smallest`). The reader's batch is the number of candidates of a frame times
    its views, which changes from frame to frame; padded, it takes a handful of sizes,
    so a handful of compilations serve a camera for good, not one per count."""
    size = smallest
    while size < n:
        size *= 2
    return size


def compiled(model, pad_batch: bool = False):
    """A function from a uint8 batch to the model's outputs as NumPy arrays.

    TensorFlow traces one graph for every input shape (unknown dimensions); JAX compiles
    once per input shape and keeps it, so a camera's steady frame size pays once. With
    `pad_batch` (for batches whose size varies), JAX gets the batch padded to
    `padded_batch` with blank pictures, whose outputs are dropped: at inference each
    picture's outputs depend on that picture alone.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(model, reduce_retracing=True, jit_compile=False)

        def run(x):
            out = fn(tf.convert_to_tensor(x))
            return _to_numpy(out)

        return run
    import jax

    params = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
    )

    @jax.jit
    def _apply(trainable, non_trainable, x):
        out, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        return out

    def run(x):
        n = len(x)
        size = padded_batch(n) if pad_batch else n
        if size > n:
            x = np.concatenate([x, np.zeros((size - n, *x.shape[1:]), x.dtype)])
        out = _to_numpy(_apply(params[0], params[1], x))
        return {k: v[:n] for k, v in out.items()} if isinstance(out, dict) else out[:n]

    return run


def _to_numpy(out):
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    return np.asarray(out)
