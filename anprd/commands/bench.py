"""`anprd bench`: milliseconds per frame over the full pyramid, per runtime, against the
seed's network.

The seed's network is the sliding-window network this project started from (three 5 x 5
convolutions and a 2048-unit dense layer at every window position, as in deep-anpr). It
is built here with random weights, since its cost does not depend on them, and run over
the same pyramid levels of the same frames.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from argparse import Namespace
from pathlib import Path

import numpy as np

from anprd.commands.args import add_model_args, detector_from_args, parse_size
from anprd.detect.shipped import SAMPLE_PICTURE


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="detector speed against the seed's network",
                              description=__doc__)
    p.add_argument("--size", nargs="+", default=["640x480", "1280x720"], metavar="WxH")
    p.add_argument("--repeats", type=int, default=10, help="timed frames per size (ours)")
    p.add_argument("--seed-repeats", type=int, default=2,
                   help="timed frames per size for the seed's network (slow)")
    p.add_argument("--no-seed", action="store_true", help="skip the seed's network")
    p.add_argument("--gate", action="store_true",
                   help="also a gate camera: a 1280x720 frame's lane ROI, plates 120-320 px")
    add_model_args(p, runtimes=("all",))
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
    img = cv2.imread(str(SAMPLE_PICTURE)) if SAMPLE_PICTURE.is_file() else None
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


GATE_SIZE = (1280, 720)
# A gate camera's view: the lane in the lower middle of a 720p frame, plates 120-320 px.
GATE_ROI = ((320, 240), (960, 240), (960, 720), (320, 720))
GATE_PLATES = (120, 320)


def _cases(sizes, gate: bool):
    """(name, size, params, levels) of each frame to time."""
    from anprd.detect.pyramid import levels_for
    from anprd.reads import PICTURE_MAX_PIXELS, DetectParams

    # A size within a picture's pixel budget is timed as a camera's frame (the sizes
    # cameras give); a bigger one as a photo read alone.
    frame, photo = DetectParams(), DetectParams.for_picture(min_confidence=0.0)
    cases = [(f"{w}x{h}", (w, h), photo if w * h > PICTURE_MAX_PIXELS else frame)
             for w, h in sizes]
    if gate:
        cases.append(("gate", GATE_SIZE, DetectParams(roi=GATE_ROI, plate_width_px=GATE_PLATES)))
    return [(name, size, p, levels_for(*size, p.plate_width_px, p.max_pixels))
            for name, size, p in cases]


def _runtimes(args) -> list[tuple[str, list[Path] | None]]:
    """(runtime, exports) to time: the one asked for, or with `all` Keras and each export
    of the weights for an installed runtime."""
    if args.runtime != "all":
        return [(args.runtime, args.exports)]
    from anprd.detect.exported import find_exports, installed
    from anprd.detect.shipped import readers_for

    found, _ = find_exports(list(args.exports or [args.weights.parent]), args.weights,
                            list(readers_for(args.weights, args.reader_weights)))
    return ([("keras", None)] if installed("keras") else []) + [
        (e.runtime, [e.folder]) for e in found if installed(e.runtime)]


def run(args) -> int:
    import cv2

    from anprd.detect import backend as be

    try:
        sizes = [parse_size(s) for s in args.size]
    except ValueError as e:
        print(f"anprd bench: {e}", file=sys.stderr)
        return 2
    if args.repeats < 1 or args.seed_repeats < 1:
        print("anprd bench: --repeats and --seed-repeats must be at least 1", file=sys.stderr)
        return 2
    runtimes = _runtimes(args)
    if not runtimes:
        print("anprd bench: no runtime to time (neither Keras nor an export is installed)",
              file=sys.stderr)
        return 2
    cases = _cases(sizes, args.gate)
    seed_ms: dict[str, float] = {}
    from anprd.detect.exported import installed

    if not args.no_seed and not installed("keras"):
        print("anprd bench: Keras is not installed, so the seed's network is not timed",
              file=sys.stderr)
    elif not args.no_seed:
        be.select("tensorflow", "cpu")
        seed = be.compiled(seed_network())
        for name, size, _, levels in cases:
            gray = cv2.cvtColor(frame_of(size), cv2.COLOR_BGR2GRAY)
            seed_ms[name] = _median_ms(lambda g=gray, lv=levels: [
                seed(v.image(g)[None, ..., None]) for v in lv], args.seed_repeats)
    results = []
    print(f"{'runtime':>22s} {'frame':>9s} {'levels':>6s} {'anprd ms':>9s} {'seed ms':>9s} "
          f"{'speedup':>8s}")
    for runtime, exports in runtimes:
        detector = detector_from_args(Namespace(**{**vars(args), "runtime": runtime,
                                              "exports": exports}))
        if detector is None:
            return 2
        for name, size, params, levels in cases:
            frame = frame_of(size)
            ours = _median_ms(lambda f=frame, p=params, d=detector: d.detect([f], [p]),
                              args.repeats)
            n = len(levels)
            sm = seed_ms.get(name)
            speedup = sm / ours if sm else None
            print(f"{detector.runtime:>22s} {name:>9s} {n:6d} {ours:9.1f} "
                  f"{sm if sm else float('nan'):9.1f} "
                  f"{speedup if speedup else float('nan'):7.1f}x", flush=True)
            results.append({"runtime": detector.runtime, "frame": name,
                            "ms_per_frame": round(ours, 1),
                            "seed_ms_per_frame": round(sm, 1) if sm else None,
                            "speedup": round(speedup, 1) if speedup else None,
                            "backend": detector.backend, "device": detector.device,
                            "threads": detector.threads})
    for r in results:
        print(json.dumps(r))
    return 0
