"""Figures of a model on labelled synthetic windows: exact plates, presence, confusions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from anprd.commands.eval_report import Miss
from anprd.reads import ALPHABET, BLANK
from trainer.generate import encode_text

NAME = re.compile(r"^(\d{8})_([A-Z0-9]*)_([01])\.png$")


def load_folder(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Windows, labels and file names, in the windows' order, from files named
    `{index:08d}_{PLATE}_{p}.png`."""
    files = sorted(p for p in folder.iterdir() if NAME.match(p.name))
    if not files:
        raise FileNotFoundError(f"no generated samples (NNNNNNNN_PLATE_P.png) in {folder}")
    xs, ps, cs = [], [], []
    for f in files:
        _, text, p = NAME.match(f.name).groups()
        img = cv2.imread(str(f), cv2.IMREAD_GRAYSCALE)
        if img is None or img.shape != (64, 128):
            raise ValueError(f"{f}: not a 128 x 64 grayscale window")
        xs.append(img)
        ps.append([float(p)])
        cs.append(encode_text(text, p == "1"))
    return np.stack(xs)[..., None], np.array(ps, np.float32), np.stack(cs), [f.name for f in files]


def figures(presence_logit: np.ndarray, char_logits: np.ndarray, presence: np.ndarray,
            chars: np.ndarray) -> dict:
    present = presence[:, 0] > 0.5
    pred_present = presence_logit[:, 0] > 0
    best = char_logits.argmax(-1)
    right = (best == chars).all(-1)
    pos = (best == chars)[present].mean(0) if present.any() else np.zeros(7)
    confusions = Counter()
    for b, c in zip(best[present], chars[present], strict=True):
        for i in range(len(c)):
            if b[i] != c[i]:
                truth = ALPHABET[c[i]] if c[i] != BLANK else "_"
                got = ALPHABET[b[i]] if b[i] != BLANK else "_"
                confusions[f"{truth}->{got}"] += 1
    return {
        "plate_exact": float(right[present].mean()) if present.any() else 0.0,
        "presence": float((pred_present == present).mean()),
        "n": int(len(presence)),
        "n_present": int(present.sum()),
        "per_position": [round(float(v), 4) for v in pos],
        "confusions": confusions.most_common(10),
    }


def predict(model, x: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    out = model.predict(x, batch_size=batch, verbose=0)
    return np.asarray(out["presence"]), np.asarray(out["chars"])


def _text(indices: np.ndarray) -> str:
    return "".join(ALPHABET[i] for i in indices if i != BLANK)


def misses(names: list[str], presence_logit: np.ndarray, char_logits: np.ndarray,
           presence: np.ndarray, chars: np.ndarray) -> list[Miss]:
    """The windows scored wrong, once each, as `anprd eval`'s misses: plates misread
    first (with "called no plate" where presence was called wrong too), then windows
    whose presence alone was called wrong."""
    present = presence[:, 0] > 0.5
    called = presence_logit[:, 0] > 0
    best = char_logits.argmax(-1)
    misread, wrongly = [], []
    for n, p, k, b, c in zip(names, present, called, best, chars, strict=True):
        if p and (b != c).any():
            misread.append(Miss(n, _text(c), _text(b) + ("" if k else ", called no plate")))
        elif p != k:
            wrongly.append(Miss(n, _text(c), "no plate") if p
                           else Miss(n, "no plate", f"a plate ({_text(b)})"))
    return misread + wrongly


def main(weights: Path, data: Path, sheet: Path | None = None) -> int:
    from anprd.detect.model import load_model

    x, presence, chars, names = load_folder(data)
    model = load_model(weights)
    out = predict(model, x)
    f = figures(*out, presence, chars)
    print(f"windows: {f['n']} ({f['n_present']} with a plate present)")
    print(f"plate exact match (present windows): {f['plate_exact']:.4f}")
    print(f"presence accuracy: {f['presence']:.4f}")
    print("per-position accuracy: " + " ".join(f"{v:.3f}" for v in f["per_position"]))
    print("most frequent confusions: "
          + (", ".join(f"{k} x{n}" for k, n in f["confusions"]) or "none"))
    if sheet is not None:
        from anprd.commands.eval_sheet import write_sheet

        wrong = misses(names, *out, presence, chars)
        shown = write_sheet(sheet, data, wrong, lambda p: cv2.imread(str(p), cv2.IMREAD_GRAYSCALE))
        print(f"wrote {sheet}: {shown} of {len(wrong)} windows scored wrong")
    print(json.dumps({k: f[k] for k in ("plate_exact", "presence", "n")}))
    return 0
