"""`anprd bench`: milliseconds per frame over the full pyramid, against the seed's network.

The seed's network (SPEC §3) is built here with random weights, since its cost does not
depend on them, and run over the same pyramid levels of the same frames.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from .detect_cli import add_model_args, load_detector

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "scene.jpg"


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="detector speed against the seed's network",
                              description=__doc__)
    p.add_argument("--size", nargs="+", default=["640x480", "1280x720"], metavar="WxH")
    p.add_argument("--repeats", type=int, default=10, help="timed frames per size (ours)")
    p.add_argument("--seed-repeats", type=int, default=2,
                   help="timed frames per size for the seed's network (slow)")
    p.add_argument("--no-seed", action="store_true", help="skip the seed's network")
    add_model_args(p)
    p.set_defaults(func=run)


def seed_network():
    """The seed's detector network, fully convolutional: 48-64-128 5x5 convolutions, the
    2048-unit dense layer as an 8 x 32 convolution, and 1 + 7 x 36 outputs."""
    import keras
    from keras import layers

    inp = keras.Input((None, None, 1))
    x = layers.Rescaling(1 / 255)(inp)
    x = layers.Conv2D(48, 5, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    x = layers.Conv2D(64, 5, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D((2, 1))(x)
    x = layers.Conv2D(128, 5, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D((2, 2))(x)
    # Dense layer over the 8 x 32 x 128 window; a stride of 2 across = 8 pixels.
    x = layers.Conv2D(2048, (8, 32), strides=(1, 2), activation="relu")(x)
    out = layers.Conv2D(1 + 7 * 36, 1)(x)
    return keras.Model(inp, out)


def frame_of(size: tuple[int, int]) -> np.ndarray:
    """A frame of the given size: the bundled scene, resized, or noise without it."""
    import cv2

    w, h = size
    img = cv2.imread(str(SAMPLE)) if SAMPLE.is_file() else None
    if img is None:
        return np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: tracing or compilation for these shapes
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def parse_size(s: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {s!r} is not WxH, e.g. 640x480") from None
    if w < 128 or h < 64:
        raise ValueError(f"size {s} is smaller than the 128 x 64 window")
    from .pictures import MAX_PIXELS

    if w * h > MAX_PIXELS:
        raise ValueError(f"size {s} is over {MAX_PIXELS:,} pixels, the most a picture may have")
    return w, h


def run(args) -> int:
    import cv2

    from . import backend as be
    from .pyramid import PICTURE_MAX_PIXELS, levels_for
    from .reads import DetectParams

    try:
        sizes = [parse_size(s) for s in args.size]
    except ValueError as e:
        print(f"anprd bench: {e}", file=sys.stderr)
        return 2
    if args.repeats < 1 or args.seed_repeats < 1:
        print("anprd bench: --repeats and --seed-repeats must be at least 1", file=sys.stderr)
        return 2
    detector = load_detector(args)
    if detector is None:
        return 2
    seed = None if args.no_seed else be.compiled(seed_network())
    params = DetectParams(max_pixels=PICTURE_MAX_PIXELS)  # a big size is a photo
    results = []
    print(f"backend {detector.backend}, device {detector.device}")
    print(f"{'size':>10s} {'levels':>6s} {'anprd ms':>9s} {'seed ms':>9s} {'speedup':>8s}")
    for w, h in sizes:
        frame = frame_of((w, h))
        ours = _median_ms(lambda f=frame: detector.detect([f], [params]), args.repeats)
        levels = levels_for(w, h, None, params.max_pixels)
        seed_ms = None
        if seed is not None:
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)

            def seed_frame(g=gray, lv=levels):
                for level in lv:
                    seed(level.image(g)[None, ..., None])

            seed_ms = _median_ms(seed_frame, args.seed_repeats)
        speedup = seed_ms / ours if seed_ms else None
        print(f"{w:>5d}x{h:<4d} {len(levels):6d} {ours:9.1f} "
              f"{seed_ms if seed_ms else float('nan'):9.1f} "
              f"{speedup if speedup else float('nan'):7.1f}x", flush=True)
        results.append({"size": f"{w}x{h}", "ms_per_frame": round(ours, 1),
                        "seed_ms_per_frame": round(seed_ms, 1) if seed_ms else None,
                        "speedup": round(speedup, 1) if speedup else None,
                        "backend": detector.backend, "device": detector.device})
    if len(results) == 1:
        print(json.dumps(results[0]))
    else:  # one object, each figure a list in the order of --size
        print(json.dumps({k: [r[k] for r in results] for k in results[0]}))
    return 0
