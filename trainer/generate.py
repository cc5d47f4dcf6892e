"""Deterministic production of labelled windows: chunks, files, batches, preview sheets.

Sample i is drawn from chunk i // CHUNK, and each chunk builds its own background pool
from (seed, chunk): the same seed gives the same samples whatever the worker count.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from anprd.detect.window import COLUMN_W, N_COLUMNS
from anprd.reads import ALPHABET, BLANK, N_POSITIONS
from trainer.backgrounds import build_pool, find_photos, load_photos
from trainer.compose import Sample, make_sample, random_plate
from trainer.fonts import Font, load_fonts
from trainer.lettering import stroke_fonts
from trainer.render import Plate

CHUNK = 2048  # samples per chunk: one background pool each
PLATE_REUSE = 3  # consecutive samples that pose the same rendered plate, each its own way
POOL = 48  # background pictures per chunk
PARENT_CHECK_S = 5.0  # how often a waiting data worker checks that training still runs


@dataclass(frozen=True)
class Sources:
    """Where fonts and backgrounds come from; validated once, in the parent process."""

    font_dirs: tuple[str, ...] = ()
    background_dirs: tuple[str, ...] = ()
    photos: tuple[Path, ...] = field(default=(), compare=False)
    lettering: bool = False  # half the legacy plates in `lettering.stroke_fonts`
    street_wear: bool = False  # peeling ink and stickers (`wear.py`)

    @classmethod
    def resolve(cls, font_dirs=(), background_dirs=(), lettering: bool = False,
                street_wear: bool = False) -> Sources:
        load_fonts(list(font_dirs))  # raises FontError with a clear message
        photos = tuple(find_photos(list(background_dirs)))
        return cls(tuple(map(str, font_dirs)), tuple(map(str, background_dirs)), photos,
                   lettering, street_wear)

    @classmethod
    def from_args(cls, args) -> Sources:
        """Of the options `trainer.__main__.with_sources` adds to a command."""
        return cls.resolve(args.fonts or (), args.backgrounds or (), args.lettering,
                           args.street_wear)


PlateMaker = Callable[[np.random.Generator], Plate]  # a flat plate from a generator


def plate_maker(sources: Sources, fonts: list[Font]) -> PlateMaker:
    """How `sources` draw a flat plate: `compose.random_plate` with their lettering and
    street wear."""
    return functools.partial(random_plate, fonts=fonts,
                             lettering=stroke_fonts() if sources.lettering else [],
                             street_wear=sources.street_wear)


class ChunkMaker:
    """Produces the samples of whole chunks; one per worker process."""

    def __init__(self, sources: Sources, seed: int):
        self.fonts: list[Font] = load_fonts(list(sources.font_dirs))
        self.new_plate = plate_maker(sources, self.fonts)
        self.photos = load_photos(list(sources.photos))
        self.seed = seed

    def chunk(self, k: int, start: int = 0, stop: int = CHUNK) -> list[Sample]:
        rng = np.random.default_rng([self.seed, k])
        pool = build_pool(rng, self.photos, self.fonts, POOL)
        # PLATE_REUSE consecutive samples pose the same flat plate: rendering is the
        # costliest step. A plate depends only on the seed, the chunk and its number.
        @functools.lru_cache(maxsize=1)
        def plate(j: int) -> Plate:
            return self.new_plate(np.random.default_rng([self.seed, k, j, 1]))

        return [
            make_sample(np.random.default_rng([self.seed, k, i]), pool, self.fonts,
                        lambda i=i: plate(i // PLATE_REUSE))
            for i in range(start, stop)
        ]


def encode_text(text: str, present: bool) -> np.ndarray:
    """The 7 class indices of a window: -1s when no plate is present."""
    if not present:
        return np.full(N_POSITIONS, -1, np.int32)
    idx = [ALPHABET.index(c) for c in text] + [BLANK] * (N_POSITIONS - len(text))
    return np.array(idx, np.int32)


def encode_columns(s: Sample) -> np.ndarray:
    """The class under each `COLUMN_W`-pixel column of a window: the character whose
    centre lies in the column, "no character" in the others; -1s when no plate is present."""
    if not s.present or s.centres is None:
        return np.full(N_COLUMNS, -1, np.int32)
    out = np.full(N_COLUMNS, BLANK, np.int32)
    for ch, (x, _) in zip(s.text, s.centres, strict=True):
        j = int(x // COLUMN_W)
        if 0 <= j < N_COLUMNS:
            out[j] = ALPHABET.index(ch)
    return out


def encode_where(s: Sample) -> np.ndarray:
    """The column of each position's character centre, which the reading head is taught
    to look at; -1 where there is none (no plate, or the blank 7th of a legacy plate)."""
    out = np.full(N_POSITIONS, -1, np.int32)
    if s.present and s.centres is not None:
        for i, (x, _) in enumerate(s.centres):
            out[i] = min(max(int(x // COLUMN_W), 0), N_COLUMNS - 1)
    return out


def to_arrays(samples: list[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.stack([s.image for s in samples])[..., None]
    presence = np.array([[float(s.present)] for s in samples], np.float32)
    chars = np.stack([encode_text(s.text, s.present) for s in samples])
    return x, presence, chars


def to_targets(samples: list[Sample]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A training batch: windows and the targets of each model output."""
    x, presence, chars = to_arrays(samples)
    columns = np.stack([encode_columns(s) for s in samples])
    where = np.stack([encode_where(s) for s in samples])
    return x, {"presence": presence, "chars": chars, "columns": columns, "where": where}


def file_name(index: int, s: Sample) -> str:
    return f"{index:08d}_{s.text}_{int(s.present)}.png"


def _write_chunk(args: tuple[Sources, int, int, int, int, str]) -> int:
    sources, seed, k, start, stop, out = args
    maker = _worker_maker(sources, seed)
    for j, s in enumerate(maker.chunk(k, start, stop)):
        cv2.imwrite(str(Path(out) / file_name(k * CHUNK + start + j, s)), s.image)
    return stop - start


_MAKER: ChunkMaker | None = None


def _worker_maker(sources: Sources, seed: int) -> ChunkMaker:
    global _MAKER  # one per worker process: fonts are rendered once, not per chunk
    if _MAKER is None or _MAKER.seed != seed:
        cv2.setNumThreads(1)  # one core per worker: OpenCV's threads would fight the others
        _MAKER = ChunkMaker(sources, seed)
    return _MAKER


def write_samples(
    out: Path, count: int, seed: int, workers: int, sources: Sources, progress=None
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    for k in range((count + CHUNK - 1) // CHUNK):
        stop = min(CHUNK, count - k * CHUNK)
        # Split chunks into pieces so that small counts still use every worker.
        step = max(64, stop // max(1, workers))
        for start in range(0, stop, step):
            jobs.append((sources, seed, k, start, min(stop, start + step), str(out)))
    if workers <= 1:
        for j in jobs:
            n = _write_chunk(j)
            if progress:
                progress(n)
        return
    with mp.get_context("spawn").Pool(workers) as pool:
        for n in pool.imap_unordered(_write_chunk, jobs):
            if progress:
                progress(n)


def _stream_worker(sources: Sources, seed: int, first: int, step: int, batch: int, q) -> None:
    """Chunks first, first + step, ...: each worker takes every `step`-th chunk."""
    cv2.setNumThreads(1)  # one core per worker, leaving the rest to training
    parent = os.getppid()
    maker = ChunkMaker(sources, seed)
    k = first
    while True:
        samples = maker.chunk(k)
        for b in range(0, len(samples) - batch + 1, batch):
            if not _put(q, to_targets(samples[b : b + batch]), parent):
                q.cancel_join_thread()  # no one will read what is left in the pipe
                return
        k += step


def _put(q, item, parent: int) -> bool:
    """Put `item` on the queue once there is room; False if the training process that
    started this worker has died meanwhile (killed, it cannot stop its daemonic
    workers, which would otherwise keep a core busy for nothing)."""
    while True:
        try:
            q.put(item, timeout=PARENT_CHECK_S)
            return True
        except queue.Full:
            if os.getppid() != parent:
                return False


class BatchStream:
    """Endless batches (x uint8 (B,64,128,1), targets of `to_targets`) from workers.

    The queue is bounded, so workers wait for training rather than fill memory.
    """

    def __init__(self, sources: Sources, seed: int, batch: int, workers: int = 1, depth: int = 8,
                 first_chunk: int = 0):
        ctx = mp.get_context("spawn")
        self.queue = ctx.Queue(maxsize=depth)
        self.procs = [
            ctx.Process(
                target=_stream_worker,
                args=(sources, seed, first_chunk + w, workers, batch, self.queue),
                daemon=True,
            )
            for w in range(workers)
        ]
        for p in self.procs:
            p.start()

    def __iter__(self) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        while True:
            try:
                batch = self.queue.get(timeout=120)
            except queue.Empty:
                if not any(p.is_alive() for p in self.procs):
                    raise RuntimeError("all data workers died") from None
                continue
            yield batch

    def close(self) -> None:
        for p in self.procs:
            p.terminate()


def preview_sheet(samples: list[Sample], cols: int = 8, scale: int = 2) -> np.ndarray:
    """A contact sheet: each window with its label (text and p) underneath."""
    cells = []
    for s in samples:
        img = cv2.resize(s.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if s.present and s.corners is not None:
            cv2.polylines(img, [np.int32(s.corners * scale)], True, (0, 200, 0), 1, cv2.LINE_AA)
            for x, y in (s.centres if s.centres is not None else ()):
                cv2.circle(img, (round(x * scale), round(y * scale)), 2, (0, 0, 255), -1)
        label = np.full((22, img.shape[1], 3), 255, np.uint8)
        color = (0, 140, 0) if s.present else (0, 0, 200)
        cv2.putText(label, f"{s.text or '-'}  p={int(s.present)}", (4, 16),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1, cv2.LINE_AA)
        cells.append(cv2.copyMakeBorder(np.vstack([img, label]), 2, 2, 2, 2,
                                         cv2.BORDER_CONSTANT, value=(128, 128, 128)))
    rows = [np.hstack(cells[i : i + cols]) for i in range(0, len(cells), cols)]
    if len(rows[-1]) != len(rows[0]) or rows[-1].shape != rows[0].shape:
        pad = np.full_like(rows[0], 255)
        pad[:, : rows[-1].shape[1]] = rows[-1]
        rows[-1] = pad
    return np.vstack(rows)
