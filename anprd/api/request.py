"""A recognition request's settings, bytes and query, checked: the API's limits,
the picture's type and size from its header before anything is decoded, multipart
extraction, the query string.

Every refusal is an `ApiError` carrying the HTTP status, a message for the client and
any extra headers; nothing here answers a 5xx for bad input."""

from __future__ import annotations

import io
import math
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import HTTP as HTTP_POLICY
from typing import Any

import numpy as np

from anprd.detect.formats import FORMATS
from anprd.reads import PICTURE_MAX_PIXELS, PICTURE_MIN_CONFIDENCE, DetectParams
from anprd.video.image_headers import CorruptHeader, ImageInfo, image_info

# Content types accepted as a raw body; the bytes themselves decide the format.
IMAGE_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
BODY_CONTENT_TYPES = (*IMAGE_CONTENT_TYPES, "image/jpg", "application/octet-stream")
MULTIPART = "multipart/form-data"
MULTIPART_FIELD = "image"

DEFAULT_FORMATS = DetectParams().formats


class ApiError(Exception):
    """A refusal with its HTTP status, a message for the client, and extra headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.headers = dict(headers or {})


# ---------------------------------------------------------------------- image headers


def sniff_image(data: bytes) -> ImageInfo:
    """Format and size of a picture, read from its header only (nothing is decoded).

    Raises ApiError 415 when the bytes are not JPEG, PNG or WebP, and 422 when the
    header of one of those is truncated or invalid.
    """
    try:
        info = image_info(data)
    except CorruptHeader as e:
        raise ApiError(422, str(e)) from None
    if info is None:
        raise ApiError(415, "the body is not a JPEG, PNG or WebP image")
    return info


def check_pixels(info: ImageInfo, max_pixels: int) -> None:
    if info.pixels > max_pixels:
        raise ApiError(
            422,
            f"the image is {info.width}x{info.height} = {info.pixels} pixels; "
            f"the limit is {max_pixels} pixels",
        )


def jpeg_reduction(info: ImageInfo, enough: int = PICTURE_MAX_PIXELS) -> int:
    """How much smaller (1, 2, 4 or 8 times a side) a JPEG can be decoded and still hold
    `enough` pixels: the detector shrinks a bigger picture to that size anyway."""
    if info.format != "jpeg":
        return 1
    f = 1
    while f < 8 and info.pixels // ((2 * f) ** 2) >= enough:
        f *= 2
    return f


def decode_image(
    data: bytes, max_pixels: int, reduce: int = 1
) -> tuple[np.ndarray, ImageInfo]:
    """The picture as BGR uint8 (H, W, 3), its pixel count checked from the header first.
    `reduce` (a JPEG's `jpeg_reduction`) decodes each side that many times smaller, at
    the decoder's cost of the smaller picture.

    Pillow decodes it: a damaged file is an exception with its reason, which becomes the
    answer, where OpenCV's decoders print to the process's stderr (a client could write
    to the service's log)."""
    info = sniff_image(data)
    check_pixels(info, max_pixels)
    from PIL import Image, ImageOps  # noqa: PLC0415  (only the decoding path needs it)

    kind = info.format.upper()
    try:
        with Image.open(io.BytesIO(data), formats=(_PIL_FORMATS[info.format],)) as im:
            if im.width * im.height > max_pixels:
                raise ApiError(422, f"the {kind} image is larger than its header said")
            if reduce > 1:
                im.draft("RGB", (-(-im.width // reduce), -(-im.height // reduce)))
            im.load()
            # Each step copies the picture only when it has to: a copy of a 40 MP
            # picture is 120-160 MB.
            if im.getexif().get(_EXIF_ORIENTATION, 1) != 1:
                im = ImageOps.exif_transpose(im)
            if im.mode != "RGB":
                im = im.convert("RGB")
            image = np.array(im)  # one copy, writeable
            im.close()
    except ApiError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        reason = " ".join(str(e).split())[:200] or type(e).__name__
        raise ApiError(422, f"corrupt {kind} image: {reason}") from None
    import cv2  # noqa: PLC0415

    cv2.cvtColor(image, cv2.COLOR_RGB2BGR, dst=image)  # in place
    h, w = image.shape[:2]
    # EXIF orientation may swap the sides; the pixel count must match the header's.
    expected = (-(-info.width // reduce)) * (-(-info.height // reduce))
    if image.size == 0 or h * w not in (info.pixels, expected):
        raise ApiError(422, f"corrupt {kind} image: its data does not match its header")
    return image, info


_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_EXIF_ORIENTATION = 0x0112


# ------------------------------------------------------------------------ the request


def known_formats() -> tuple[str, ...]:
    """The plate format names the detector can decode under."""
    return tuple(FORMATS)


@dataclass(frozen=True)
class RecognizeQuery:
    formats: tuple[str, ...] = DEFAULT_FORMATS
    min_confidence: float = PICTURE_MIN_CONFIDENCE  # as `anprd detect` reads pictures
    url: str | None = None

    def params(self) -> DetectParams:
        return DetectParams.for_picture(self.formats, self.min_confidence)


QUERY_KEYS = ("formats", "min_confidence", "url")


def parse_query(query_string: str) -> RecognizeQuery:
    """Validate `formats=`, `min_confidence=` and `url=`; 400 for anything else."""
    try:
        pairs = urllib.parse.parse_qsl(
            query_string, keep_blank_values=True, strict_parsing=False, max_num_fields=16
        )
    except ValueError as e:
        raise ApiError(400, f"invalid query string: {e}") from None
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key not in QUERY_KEYS:
            raise ApiError(
                400, f"unknown query parameter {key!r}; expected one of {', '.join(QUERY_KEYS)}"
            )
        if key in seen:
            raise ApiError(400, f"query parameter {key!r} given twice")
        seen[key] = value
    given: dict[str, Any] = {}  # the rest keep RecognizeQuery's defaults
    if "formats" in seen:
        names = tuple(dict.fromkeys(f.strip() for f in seen["formats"].split(",") if f.strip()))
        if not names:
            raise ApiError(400, "formats= is empty; give a comma-separated list of plate formats")
        known = known_formats()
        unknown = [f for f in names if f not in known]
        if unknown:
            raise ApiError(
                400, f"unknown plate format {unknown[0]!r}; known formats: {', '.join(known)}"
            )
        given["formats"] = names
    if "min_confidence" in seen:
        try:
            min_conf = float(seen["min_confidence"])
        except ValueError:
            min_conf = math.nan
        if not 0.0 <= min_conf <= 1.0:  # also refuses NaN
            raise ApiError(400, "min_confidence= must be a number from 0 to 1")
        given["min_confidence"] = min_conf
    if "url" in seen:
        if not seen["url"].strip():
            raise ApiError(400, "url= is empty; give the picture's http(s) URL, or leave it out")
        given["url"] = seen["url"]
    return RecognizeQuery(**given)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None) -> str:
    """The media type of a request body, or 415 when it is not one the API takes."""
    mtype = media_type(content_type)
    if not mtype:
        raise ApiError(
            415,
            "missing Content-Type; send image/jpeg, image/png, image/webp, or multipart/form-data "
            f"with the picture in the field {MULTIPART_FIELD!r}",
        )
    if mtype == MULTIPART or mtype in BODY_CONTENT_TYPES:
        return mtype
    raise ApiError(
        415,
        f"unsupported Content-Type {mtype!r}; send image/jpeg, image/png, image/webp, "
        f"or multipart/form-data with the field {MULTIPART_FIELD!r}",
    )


_BOUNDARY_RE = re.compile(r"""boundary=(?:"([^"]{1,200})"|([^;\s]{1,200}))""", re.IGNORECASE)


def extract_multipart_image(body: bytes, content_type: str) -> bytes:
    """The bytes of the form field `image` of a multipart/form-data body."""
    m = _BOUNDARY_RE.search(content_type or "")
    if not m:
        raise ApiError(400, "multipart/form-data without a boundary")
    delimiter = b"--" + (m.group(1) or m.group(2)).encode("latin-1", "replace")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise ApiError(400, "malformed multipart body: no parts")
    header_parser = BytesHeaderParser(policy=HTTP_POLICY)
    # chunks[0] is the preamble; the last chunk starts with "--" (the close delimiter).
    for part in chunks[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        elif part.startswith(b"\n"):
            part = part[1:]
        # The headers end at the first blank line (CRLF or, from lax clients, bare LF).
        ends = [(i, n) for i, n in ((part.find(b"\r\n\r\n"), 4), (part.find(b"\n\n"), 2)) if i >= 0]
        sep, sep_len = min(ends) if ends else (-1, 0)
        if sep < 0:
            raise ApiError(400, "malformed multipart body: a part has no header end")
        try:
            headers = header_parser.parsebytes(part[:sep] + b"\r\n\r\n")
            name = headers.get_param("name", header="content-disposition")
        except Exception:  # noqa: BLE001 - any header garbage is the client's error
            raise ApiError(400, "malformed multipart body: unreadable part headers") from None
        if name != MULTIPART_FIELD:
            continue
        data = part[sep + sep_len :]
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        return data
    raise ApiError(400, f"the multipart form has no field {MULTIPART_FIELD!r}")


