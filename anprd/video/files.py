"""Reading pictures and video files for the one-off commands, and drawing results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from anprd.reads import PlateRead
from anprd.video.image_headers import MAX_PICTURE_PIXELS, CorruptHeader, image_info

VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".ts", ".m4v", ".mpg", ".mpeg"}


class PictureError(Exception):
    pass


def read_image(path: Path | str) -> np.ndarray:
    """A picture file as BGR uint8, or PictureError saying why not.

    A JPEG, PNG or WebP file's size is checked from its header, before it is decoded;
    other kinds (BMP, TIFF, ...) only once decoded."""
    path = Path(path)
    _check_file(path)
    data = path.read_bytes()
    if not data:
        raise PictureError(f"{path}: empty file")
    try:
        info = image_info(data)
    except CorruptHeader as e:
        raise PictureError(f"{path}: {e}") from None
    if info is not None:
        _check_size(path, info.width, info.height)
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as e:  # OpenCV refuses pictures over its own pixel limit
        raise PictureError(f"{path}: OpenCV cannot decode it ({e.err})") from None
    if img is None:
        raise PictureError(f"{path}: not a picture OpenCV can decode")
    _check_size(path, img.shape[1], img.shape[0])
    return img


def _check_size(path: Path, width: int, height: int) -> None:
    if width * height > MAX_PICTURE_PIXELS:
        raise PictureError(f"{path}: {width}x{height} is over {MAX_PICTURE_PIXELS:,} pixels, the "
                           "most a picture may have")


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise PictureError(f"{path}: a folder; give the pictures or videos in it")
    if not path.is_file():
        raise PictureError(f"{path}: no such file")


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def video_frames(path: Path | str, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, BGR frame) of every `every`-th frame; corrupt packets are skipped,
    and PictureError at the end when fewer frames were decoded than the file declares."""
    import av

    from anprd.video.decoding import packet_frames

    path = Path(path)
    _check_file(path)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as e:
        raise PictureError(f"{path}: cannot open video: {e}") from None
    with container:
        if not container.streams.video:
            raise PictureError(f"{path}: no video stream")
        stream = container.streams.video[0]
        index = 0
        try:
            for frames in packet_frames(container, stream, lambda e: None):
                for frame in frames:
                    if index % every == 0:
                        yield index, frame.to_ndarray(format="bgr24")
                    index += 1
        except av.FFmpegError as e:
            raise PictureError(f"{path}: video broken at frame {index}: {e}") from None
        # A cut-off file ends early without an error: its frames read so far stand.
        if index == 0:
            raise PictureError(f"{path}: no frame of the video could be decoded")
        if index < stream.frames:
            raise PictureError(f"{path}: only {index} of the {stream.frames} frames it "
                               "declares could be decoded (a truncated or damaged file?)")


def annotate(img: np.ndarray, reads: list[PlateRead]) -> np.ndarray:
    out = img.copy() if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    for r in reads:
        x1, y1, x2, y2 = r.box
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 220, 0), 2)
        label = f"{r.plate} {r.confidence:.2f}"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)
        ty = y1 - 6 if y1 - th - 8 > 0 else y2 + th + 6
        cv2.rectangle(out, (x1, ty - th - 4), (x1 + tw + 4, ty + 4), (0, 0, 0), -1)
        cv2.putText(out, label, (x1 + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 255, 255), 2,
                    cv2.LINE_AA)
    return out
