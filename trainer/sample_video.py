"""The bundled demo video: two cars pass a gate camera, one Mercosur, one legacy plate.

`python -m trainer sample-video --out samples/gate.mp4` makes it (and a still of it);
the README's `make run` plays it through the daemon.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from trainer.backgrounds import _car, _noise
from trainer.fonts import load_fonts
from trainer.render import render_legacy, render_mercosur
from trainer.wear import weather

SIZE = (1280, 720)
FPS = 10
PLATES = (("AE418KT", "mercosur_ar"), ("GHP372", "legacy_ar"))


def _scene(rng: np.random.Generator) -> np.ndarray:
    w, h = SIZE
    img = 0.35 + (_noise(rng, (h, w), 5) - 0.5) * 0.25
    img[: h // 3] = 0.6 + (_noise(rng, (h // 3, w), 4) - 0.5) * 0.2  # wall behind the gate
    cv2.line(img, (0, h // 3), (w, h // 3), 0.2, 4)
    return img.astype(np.float32)


def _vehicle(rng, font, text: str, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """A car rear as seen by the camera, with its plate: (picture, alpha mask)."""
    body = _car(rng, (300, 520), font)
    render = render_mercosur if fmt == "mercosur_ar" else render_legacy
    plate = weather(rng, render(rng, font, font, text))
    pw = 190
    ph = round(pw * plate.image.shape[0] / plate.image.shape[1])
    pimg = cv2.resize(plate.image, (pw, ph), interpolation=cv2.INTER_AREA)
    palpha = cv2.resize(plate.alpha, (pw, ph), interpolation=cv2.INTER_AREA)
    y, x = 170, (520 - pw) // 2
    region = body[y : y + ph, x : x + pw]
    body[y : y + ph, x : x + pw] = region * (1 - palpha) + pimg * palpha
    alpha = np.zeros((300, 520), np.uint8)
    cv2.rectangle(alpha, (0, 0), (519, 299), 255, -1)
    return body, cv2.GaussianBlur(alpha, (0, 0), 3).astype(np.float32) / 255


def frames(seed: int = 7):
    rng = np.random.default_rng(seed)
    fonts = load_fonts()
    font = next((f for f in fonts if "DIN" in f.name), fonts[0])
    scene = _scene(rng)
    cars = [_vehicle(rng, font, t, f) for t, f in PLATES]
    w, h = SIZE
    per_car = 4 * FPS  # frames a car takes to cross the picture
    gap = FPS  # empty frames between cars
    for i, (img, alpha) in enumerate(cars):
        for k in range(per_car):
            frame = scene.copy()
            ch, cw = img.shape
            x = round(-cw + (w + cw) * (k + 0.5) / per_car)
            y = 330 + round(20 * np.sin(k / 6))
            x0, x1 = max(0, x), min(w, x + cw)
            if x1 > x0:
                a = alpha[:, x0 - x : x1 - x]
                frame[y : y + ch, x0:x1] = frame[y : y + ch, x0:x1] * (1 - a) + \
                    img[:, x0 - x : x1 - x] * a
            yield _camera(rng, frame)
        for _ in range(gap if i < len(cars) - 1 else 2 * gap):
            yield _camera(rng, scene)


def _camera(rng, frame: np.ndarray) -> np.ndarray:
    frame = cv2.GaussianBlur(frame, (0, 0), 0.8)
    frame = frame + rng.normal(0, 0.015, frame.shape).astype(np.float32)
    gray = np.clip(frame * 255, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def write(out: Path) -> None:
    import av

    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "26", "preset": "slow"}
        still = None
        for i, f in enumerate(frames()):
            if i == 2 * FPS:
                still = f
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    cv2.imwrite(str(out.with_name("scene.jpg")), still, [cv2.IMWRITE_JPEG_QUALITY, 90])
