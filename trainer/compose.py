"""Composes one labelled 128 x 64 training window: background, posed plate, camera.

The label comes from the plate's corners after the warp, by the exact presence rule
of `anprd.detect.window.plate_present`, never from what the sampler meant to draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from anprd.detect.window import MAX_W_FRAC, MIN_FRAC, WINDOW_H, WINDOW_W, plate_present
from trainer.backgrounds import cut_window
from trainer.fonts import OTHER_CHARS, PLATE_CHARS, Font
from trainer.render import Plate, render_legacy, render_mercosur, text_line, with_frame
from trainer.wear import stick_some, weather

MIN_W = MIN_FRAC * WINDOW_W
MAX_W = MAX_W_FRAC * WINDOW_W


@dataclass(frozen=True)
class Sample:
    image: np.ndarray  # uint8 (64, 128)
    text: str  # plate text in the window ("" when there is none)
    present: bool
    corners: np.ndarray | None  # (4, 2) plate corners in window pixels, if a plate was drawn
    centres: np.ndarray | None = None  # (len(text), 2) character centres in window pixels


def _rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    return rz @ rx @ ry


def pose_homography(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Homography from a w x h canvas to a random 3D pose seen in perspective."""
    roll = np.deg2rad(np.clip(rng.normal(0, 7), -20, 20))  # side cameras: up to 20 degrees
    pitch = np.deg2rad(rng.uniform(-25, 25))
    yaw = np.deg2rad(np.clip(rng.normal(0, 18), -45, 45))
    dist = rng.uniform(1.5, 8.0)  # camera distance in plate widths: perspective strength
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    pts = np.array([[x - w / 2, y - h / 2, 0.0] for x, y in src]) / w
    pts = pts @ _rotation(roll, pitch, yaw).T
    z = pts[:, 2] + dist
    dst = (pts[:, :2] * dist / z[:, None] * w).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def posed(rng: np.random.Generator, plate: Plate) -> tuple[np.ndarray, float]:
    """A random 3D pose of the flat plate (`pose_homography`) and the height / width
    ratio of its posed corners' box, to size and place it with `_place`."""
    h, w = plate.image.shape
    H = pose_homography(rng, w, h)
    pts = cv2.perspectiveTransform(plate.corners[None], H)[0]
    return H, (pts[:, 1].max() - pts[:, 1].min()) / (pts[:, 0].max() - pts[:, 0].min())


def _place(H: np.ndarray, corners: np.ndarray, width: float, x0: float, y0: float) -> np.ndarray:
    """Scale and move H so that the plate corners' box has `width` and its corner at x0, y0."""
    pts = cv2.perspectiveTransform(corners[None], H)[0]
    s = width / (pts[:, 0].max() - pts[:, 0].min())
    tx = x0 - s * pts[:, 0].min()
    ty = y0 - s * pts[:, 1].min()
    A = np.array([[s, 0, tx], [0, s, ty], [0, 0, 1]])
    return A @ H


LETTERING_SHARE = 0.5  # of legacy plates, in a plate maker's lettering when one is given


def random_plate(rng: np.random.Generator, fonts: list[Font],
                 lettering: list[Font] | tuple[Font, ...] = (),
                 street_wear: bool = False) -> Plate:
    """A flat plate of either format; legacy ones, in `LETTERING_SHARE` of cases, in one
    of the `lettering` fonts (`lettering.stroke_fonts`) when they are given. With
    `street_wear`, some plates' ink peels and some carry a sticker (`wear.py`)."""
    font = fonts[int(rng.integers(len(fonts)))]
    small = fonts[int(rng.integers(len(fonts)))]
    wear = rng.spawn(1)[0] if street_wear else None  # leaves rng's own draws as they were
    if rng.random() < 0.55:
        plate = render_mercosur(rng, font, small, wear=wear)
    else:
        if lettering and rng.random() < LETTERING_SHARE:
            font = lettering[int(rng.integers(len(lettering)))]
        plate = render_legacy(rng, font, small, wear=wear)
    plate = weather(rng, stick_some(wear, plate))
    if rng.random() < 0.35:
        plate = with_frame(rng, plate, small)
    return plate


def composite(win: np.ndarray, img: np.ndarray, alpha: np.ndarray, H: np.ndarray) -> np.ndarray:
    """`img` warped by H over `win` (a window or a whole picture) through its `alpha`."""
    size = (win.shape[1], win.shape[0])
    both = cv2.warpPerspective(np.dstack([img, alpha]), H, size, flags=cv2.INTER_LINEAR)
    a = both[..., 1]
    return win * (1 - a) + both[..., 0] * a


def _sizes(rng: np.random.Generator, kind: str) -> tuple[float, bool]:
    """Plate box width for a window kind, and whether it must stay inside the window."""
    if kind == "centred":
        return rng.uniform(0.64, 0.76) * WINDOW_W, True
    if kind == "present":
        return rng.uniform(MIN_W + 0.5, MAX_W - 0.5), True
    if kind == "small":  # mostly near the lower bound, where scale must be learnt
        return MIN_W * (1 - rng.beta(1.0, 3.0) * 0.75), True
    if kind == "large":
        return MAX_W * (1 + rng.beta(1.0, 2.5) * 1.2), False
    return rng.uniform(MIN_W, MAX_W), False  # "cut": the right size, crossing the edge


def _position(
    rng: np.random.Generator, bw: float, bh: float, inside: bool, kind: str
) -> tuple[float, float]:
    if kind == "centred":
        jx, jy = CENTRED_JITTER
        x = (WINDOW_W - bw) / 2 + rng.uniform(-jx, jx)
        y = (WINDOW_H - bh) / 2 + rng.uniform(-jy, jy)
        return float(np.clip(x, 0, WINDOW_W - bw)), float(np.clip(y, 0, max(0.0, WINDOW_H - bh)))
    if inside:
        return rng.uniform(0, max(0.0, WINDOW_W - bw)), rng.uniform(0, max(0.0, WINDOW_H - bh))
    if kind == "cut":  # cross one edge by 3 px to half the plate
        x = rng.uniform(0, max(0.0, WINDOW_W - bw))
        y = rng.uniform(0, max(0.0, WINDOW_H - bh))
        edge = rng.integers(4)
        if edge == 0:
            x = -rng.uniform(3, bw / 2)
        elif edge == 1:
            x = WINDOW_W - bw + rng.uniform(3, bw / 2)
        elif edge == 2:
            y = -rng.uniform(3, bh / 2)
        else:
            y = WINDOW_H - bh + rng.uniform(3, bh / 2)
        return x, y
    return rng.uniform(-bw / 2, WINDOW_W - bw / 2), rng.uniform(-bh / 2, WINDOW_H - bh / 2)


def _overlay_text(rng: np.random.Generator) -> str:
    """What broadcasters and cameras print in a box: a clock, a temperature, a hashtag,
    a channel's name; short, in a plate's size, but not a plate's pattern."""
    kind = rng.integers(4)
    if kind == 0:
        clock = f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}"
        return clock + (f" {rng.integers(-5, 40)}.{rng.integers(10)}" if rng.random() < 0.5 else "")
    if kind == 1:
        word = "".join(rng.choice(list(OTHER_CHARS[:26]), int(rng.integers(3, 8))))
        return "#" + str(rng.choice(list(PLATE_CHARS[:26]))) + word
    if kind == 2:  # letters only: a plate always has digits
        return "".join(rng.choice(list(PLATE_CHARS[:26]), int(rng.integers(2, 9))))
    return str(rng.choice(["24/7", "CH 13", "KM 45.5", "HD", "TV 9", "EN VIVO", "LIVE 4K",
                           "T: 18.5", "-2.1", "12/05", "5:40"]))


def _overlay_box(rng: np.random.Generator, win: np.ndarray, font: Font) -> np.ndarray:
    """A plate-sized box of overlay text, light on dark or dark on light, like a plate."""
    w = rng.uniform(0.45, 0.85) * WINDOW_W
    h = min(WINDOW_H * 0.9, w / rng.uniform(1.6, 3.5))
    x, y = rng.uniform(0, WINDOW_W - w), rng.uniform(0, WINDOW_H - h)
    box = float(rng.uniform(0, 0.35) if rng.random() < 0.6 else rng.uniform(0.65, 1))
    win = win.copy()
    win[round(y) : round(y + h), round(x) : round(x + w)] = box
    m = text_line(font, _overlay_text(rng), (WINDOW_H, WINDOW_W), round(h * rng.uniform(0.4, 0.7)),
                  rng.uniform(0.8, 1.2), 0.08, {}, (x + w / 2, y + h / 2), 0,
                  max_width=w * 0.92)[0]
    ink = 1.0 - box + rng.uniform(-0.2, 0.2)
    return win * (1 - m) + ink * m


def _forecast_box(rng: np.random.Generator, win: np.ndarray, font: Font) -> np.ndarray:
    """A TV weather widget: a panel with a cloud over a strip of the day's low
    and high ("8° | 12°"). Digits in a plate-sized strip under a plate-like header are
    what a reader most easily takes for a legacy plate."""
    w = rng.uniform(0.35, 0.8) * WINDOW_W
    h = w * rng.uniform(0.6, 1.1)
    strip = h * rng.uniform(0.25, 0.45)
    x, y = rng.uniform(-0.2 * w, WINDOW_W - 0.8 * w), rng.uniform(-0.5 * h, WINDOW_H - 0.7 * h)
    panel, band = float(rng.uniform(0.2, 0.6)), float(rng.uniform(0.75, 1.0))
    if rng.random() < 0.3:
        panel, band = band, 1.0 - band
    ink = 1.0 - band + rng.uniform(-0.15, 0.15)
    win = win.copy()
    x0, x1, y0, y1, ys = round(x), round(x + w), round(y), round(y + h), round(y + h - strip)
    cv2.rectangle(win, (x0, y0), (x1, ys), panel, -1)
    cv2.rectangle(win, (x0, ys), (x1, y1), band, -1)
    cv2.rectangle(win, (x0, y0), (x1, y1), band, max(1, round(w * 0.02)))
    icon = (h - strip) * 0.22
    cx, cy = x + w * rng.uniform(0.35, 0.65), y + (h - strip) * 0.5
    for dx, dy, r in ((-1.0, 0.3, 0.7), (0.0, -0.2, 1.0), (1.0, 0.3, 0.75)):
        cv2.circle(win, (round(cx + dx * icon), round(cy + dy * icon)), round(r * icon), band, -1)
    lo = int(rng.integers(-5, 30))
    hi = lo + int(rng.integers(1, 15))
    th = strip * rng.uniform(0.5, 0.75)
    m, centres = text_line(font, f"{lo}  {hi} ", (WINDOW_H, WINDOW_W), round(th),
                           rng.uniform(0.8, 1.1), 0.1, {}, (x + w / 2, ys + strip / 2), 0,
                           max_width=w * 0.9)
    marks = np.zeros_like(m)
    ring = max(1.0, th * 0.15)
    for i in (len(str(lo)), len(str(lo)) + 2 + len(str(hi))):  # the spaces after each number
        cv2.circle(marks, (round(centres[i][0] - ring), round(ys + strip / 2 - th * 0.35)),
                   round(ring), 1.0, max(1, round(ring * 0.5)))
    bar = round(centres[len(str(lo)) + 1][0])
    cv2.line(marks, (bar, round(ys + strip * 0.2)), (bar, round(y1 - strip * 0.2)), 1.0,
             max(1, round(th * 0.1)))
    m = np.maximum(m, marks)
    return win * (1 - m) + ink * m


LOGO_WORDS = ("buenos", "dias", "noticias", "en vivo", "hoy", "la tarde", "noche", "canal",
              "central", "todo", "mediodia", "deportes", "clima", "transito", "telefe", "tn",
              "america", "nueve", "trece", "cronica", "info", "la", "de", "vivo", "news")


def _logo_box(rng: np.random.Generator, win: np.ndarray, font: Font) -> np.ndarray:
    """A TV channel's logo: a coloured panel with one or two lines of lower-case words,
    often over a strip with the channel's name in capitals, sometimes with a diagonal
    flash. It has a plate's size, a frame and big bright strokes, but not a plate's
    text: lower case, few or no digits."""
    w = rng.uniform(0.35, 0.85) * WINDOW_W
    h = w * rng.uniform(0.45, 1.0)
    x, y = rng.uniform(-0.2 * w, WINDOW_W - 0.8 * w), rng.uniform(-0.4 * h, WINDOW_H - 0.6 * h)
    panel = float(rng.uniform(0.25, 0.75))
    ink = float(np.clip(panel + rng.choice([-1, 1]) * rng.uniform(0.35, 0.7), 0, 1))
    win = win.copy()
    x0, x1, y0, y1 = round(x), round(x + w), round(y), round(y + h)
    strip = h * rng.uniform(0.2, 0.3) if rng.random() < 0.6 else 0.0
    ys = round(y + h - strip)
    cv2.rectangle(win, (x0, y0), (x1, ys), panel, -1)
    if rng.random() < 0.4:  # a flash of another tone across a corner
        pts = np.array([[x + w * rng.uniform(0.5, 0.9), y + h],
                        [x + w, y + h * rng.uniform(0.2, 0.6)], [x + w, y + h]], np.int32)
        cv2.fillPoly(win, [pts], float(rng.uniform(0, 1)))
    lines = int(rng.integers(1, 3))
    words = [str(rng.choice(LOGO_WORDS)) for _ in range(lines)]
    if rng.random() < 0.3:
        words[0] = words[0].capitalize()
    body = h - strip
    th = body / lines * rng.uniform(0.35, 0.55)
    m = np.zeros_like(win)
    for i, word in enumerate(words):
        cy = y + body * (i + 0.5) / lines
        m = np.maximum(m, text_line(font, word, (WINDOW_H, WINDOW_W), max(3, round(th)),
                                    rng.uniform(0.8, 1.2), 0.06, {}, (x + w / 2, cy), 0,
                                    max_width=w * 0.9)[0])
    win = win * (1 - m) + ink * m
    if strip:
        band = float(rng.uniform(0, 1))
        cv2.rectangle(win, (x0, ys), (x1, y1), band, -1)
        name = str(rng.choice(LOGO_WORDS)).upper()
        m = text_line(font, name, (WINDOW_H, WINDOW_W), max(3, round(strip * 0.6)), 1.0, 0.08,
                      {}, (x + w / 2, ys + strip / 2), 0, max_width=w * 0.85)[0]
        win = win * (1 - m) + (1.0 - band) * m
    return win


def _not_a_plate(rng: np.random.Generator, win: np.ndarray, fonts: list[Font]) -> np.ndarray:
    """Draw text or shapes that a reader must not take for a plate."""
    font = fonts[int(rng.integers(len(fonts)))]
    kind = rng.integers(5)
    shape = (WINDOW_H, WINDOW_W)
    if kind == 4:
        box = rng.random()
        if box < 0.3:
            return _forecast_box(rng, win, font)
        if box < 0.6:
            return _logo_box(rng, win, font)
        return _overlay_box(rng, win, font)
    if kind == 0:  # a caption bar, as on TV or a camera's overlay
        y0 = int(rng.integers(0, WINDOW_H - 16))
        bh = int(rng.integers(14, 34))
        bar = float(rng.uniform(0, 1))
        win = win.copy()
        win[y0 : y0 + bh] = win[y0 : y0 + bh] * rng.uniform(0, 0.4) + bar * 0.6
        pool = PLATE_CHARS + OTHER_CHARS + "    "
        n = int(rng.integers(4, 14))
        text = "".join(rng.choice(list(pool), n))
        m = text_line(font, text, shape, int(bh * rng.uniform(0.4, 0.7)), 1.0, 0.08, {},
                      (rng.uniform(20, 108), y0 + bh / 2), 0)[0]
        ink = 1.0 - bar if rng.random() < 0.8 else float(rng.random())
        return win * (1 - m) + ink * m
    if kind == 1:  # a timestamp overlay
        t = f"20{rng.integers(10, 30)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d} " \
            f"{rng.integers(0, 24):02d}:{rng.integers(0, 60):02d}:{rng.integers(0, 60):02d}"
        m = text_line(font, t, shape, int(rng.integers(6, 14)), 1.0, 0.08, {},
                      (rng.uniform(30, 98), rng.uniform(8, 56)), 0)[0]
        return win * (1 - m) + float(rng.choice([0.0, 1.0])) * m
    if kind == 2:  # a plate-like rectangle with no plate text
        w = rng.uniform(50, 110)
        h = w / rng.uniform(2.2, 3.5)
        x, y = rng.uniform(0, WINDOW_W - w), rng.uniform(0, WINDOW_H - h)
        win = win.copy()
        p1, p2 = (round(x), round(y)), (round(x + w), round(y + h))
        cv2.rectangle(win, p1, p2, float(rng.random()), -1)
        cv2.rectangle(win, p1, p2, float(rng.random()), 1)
        if rng.random() < 0.6:
            words = ["Ford", "Honda", "TAXI", "sale", "venta", "Tel.", "www", "POLICIA", "abc"]
            m = text_line(font, str(rng.choice(words)), shape, round(h * rng.uniform(0.3, 0.6)),
                          1.0, 0.1, {}, (x + w / 2, y + h / 2), 0)[0]
            win = win * (1 - m) + float(rng.random()) * m
        return win
    # shop sign or sticker: random words, mixed case
    n = int(rng.integers(3, 10))
    text = "".join(rng.choice(list(OTHER_CHARS[:26] + PLATE_CHARS), n))
    m = text_line(font, text, shape, int(rng.integers(8, 30)), rng.uniform(0.7, 1.3), 0.08,
                  {}, (rng.uniform(20, 108), rng.uniform(10, 54)), 0)[0]
    return win * (1 - m) + float(rng.random()) * m


def _camera(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Lighting, optics and sensor: gradients, glare, blur, low resolution, noise."""
    if rng.random() < 0.3:
        g = np.linspace(rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), WINDOW_W, dtype=np.float32)
        img = img + g[None, :]
    if rng.random() < 0.1:  # glare: a bright blob
        yy, xx = np.mgrid[0:WINDOW_H, 0:WINDOW_W].astype(np.float32)
        cx, cy, r = rng.uniform(0, WINDOW_W), rng.uniform(0, WINDOW_H), rng.uniform(5, 25)
        img = img + rng.uniform(0.2, 0.6) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    if rng.random() < 0.2:  # motion blur
        n = int(rng.integers(3, 7))
        k = np.zeros((n, n), np.float32)
        k[n // 2] = 1.0 / n
        R = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        k = cv2.warpAffine(k, R, (n, n))
        img = cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))
    if rng.random() < 0.35:  # defocus
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.2))
    if rng.random() < 0.2:  # low resolution
        f = rng.uniform(1.3, 2.5)
        size = (round(WINDOW_W / f), round(WINDOW_H / f))
        small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (WINDOW_W, WINDOW_H), interpolation=cv2.INTER_LINEAR)
    contrast = rng.uniform(0.45, 1.3) if rng.random() < 0.2 else rng.uniform(0.7, 1.15)
    img = (img - 0.5) * contrast + 0.5 + rng.uniform(-0.25, 0.25)
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(0, 0.04)
    out = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    gamma = (np.arange(256) / 255.0) ** rng.uniform(0.6, 1.6) * 255 + 0.5
    out = cv2.LUT(out, gamma.astype(np.uint8))
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return out


# "centred" windows are present ones with the plate near the middle at a middling
# scale: the view the detector reads a plate from, so the reader learns it best.
KINDS = ("centred", "present", "small", "large", "cut", "none")
KIND_P = (0.42, 0.2, 0.13, 0.08, 0.08, 0.09)
CENTRED_JITTER = (6.0, 5.0)  # pixels, x and y
KIND_CUM = np.cumsum(KIND_P)[:-1]


def make_sample(
    rng: np.random.Generator, pool: list[np.ndarray], fonts: list[Font],
    plate_source: Callable[[], Plate],
) -> Sample:
    """One window. `plate_source` gives the flat plate to pose (if the window gets one);
    consecutive samples may share one, each with its own pose, scene and camera."""
    kind = KINDS[int(np.searchsorted(KIND_CUM, rng.random(), side="right"))]
    win = cut_window(rng, pool, (WINDOW_H, WINDOW_W))
    if rng.random() < 0.1:  # infrared night: dark scene, the plate lit by the camera
        win = win * rng.uniform(0.05, 0.35)
    text, corners, centres = "", None, None
    if kind == "none" or rng.random() < 0.15:
        win = _not_a_plate(rng, win, fonts)
    if kind != "none":
        plate = plate_source()
        H, ratio = posed(rng, plate)
        width, inside = _sizes(rng, kind)
        x0, y0 = _position(rng, width, width * ratio, inside, kind)
        H = _place(H, plate.corners, width, x0, y0)
        if rng.random() < 0.1:  # partial occlusion of the plate's edge by a small object
            img = plate.image.copy()
            ph, pw = img.shape
            ow = int(pw * rng.uniform(0.02, 0.06))  # the margin, not a character
            x = 0 if rng.random() < 0.5 else pw - ow
            img[:, x : x + ow] = rng.random()
            plate = replace(plate, image=img)
        win = composite(win, plate.image, plate.alpha, H)
        corners = cv2.perspectiveTransform(plate.corners[None], H)[0]
        if plate.centres is not None:
            centres = cv2.perspectiveTransform(plate.centres[None], H)[0]
        text = plate.text
    present = corners is not None and plate_present(corners)
    return Sample(_camera(rng, win), text, present, corners, centres)
