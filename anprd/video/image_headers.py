"""Picture sizes read from JPEG, PNG and WebP headers, before anything is decoded.

A PNG of a megabyte and a half can hold a 40,000 x 40,000 picture, 4.8 GB once decoded:
the recognition API and the one-off commands check a picture's size here first and
refuse an oversized one without decoding it.
"""

from __future__ import annotations

from dataclasses import dataclass

# The most pixels a picture may have, for the commands and (by default) the API: more is
# refused from its header, before anything is decoded.
MAX_PICTURE_PIXELS = 40_000_000


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg" | "png" | "webp"
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers: every SOFn except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
# Markers without a length field.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class CorruptHeader(ValueError):
    """The header of a JPEG, PNG or WebP file is truncated or invalid."""


def _corrupt(kind: str, why: str) -> CorruptHeader:
    return CorruptHeader(f"corrupt {kind} image: {why}")


def image_info(data: bytes) -> ImageInfo | None:
    """Format and size of a JPEG, PNG or WebP picture, from its header alone; None for
    bytes of any other kind. CorruptHeader when the header is truncated or invalid."""
    if data.startswith(PNG_SIGNATURE):
        return _png_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _png_size(data: bytes) -> ImageInfo:
    if len(data) < 33:  # signature, IHDR length and type, 13 bytes of IHDR, CRC
        raise _corrupt("PNG", "truncated header")
    length = int.from_bytes(data[8:12], "big")
    if data[12:16] != b"IHDR" or length != 13:
        raise _corrupt("PNG", "first chunk is not IHDR")
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise _corrupt("PNG", f"invalid size {width}x{height}")
    return ImageInfo("png", width, height)


def _jpeg_size(data: bytes) -> ImageInfo:
    i, n = 2, len(data)
    while True:
        # Each marker is 0xFF (possibly padded with more 0xFF) then its code.
        if i >= n:
            raise _corrupt("JPEG", "no frame header (SOF) before the end of the data")
        if data[i] != 0xFF:
            raise _corrupt("JPEG", f"expected a marker at byte {i}")
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            raise _corrupt("JPEG", "truncated marker")
        marker = data[i]
        i += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD8, 0xD9, 0xDA, 0x00):
            raise _corrupt("JPEG", "no frame header (SOF) before the image data")
        if i + 2 > n:
            raise _corrupt("JPEG", "truncated segment")
        seg_len = int.from_bytes(data[i : i + 2], "big")
        if seg_len < 2:
            raise _corrupt("JPEG", "invalid segment length")
        if marker in _JPEG_SOF:
            if seg_len < 8 or i + 7 > n:
                raise _corrupt("JPEG", "truncated frame header")
            height = int.from_bytes(data[i + 3 : i + 5], "big")
            width = int.from_bytes(data[i + 5 : i + 7], "big")
            if width == 0 or height == 0:
                raise _corrupt("JPEG", f"invalid size {width}x{height}")
            return ImageInfo("jpeg", width, height)
        i += seg_len


def _webp_size(data: bytes) -> ImageInfo:
    if len(data) < 30:
        raise _corrupt("WebP", "truncated header")
    chunk = data[12:16]
    body = data[20:]
    if chunk == b"VP8 ":
        # 3-byte frame tag, then the key frame start code and 14-bit width and height.
        if body[0] & 1:
            raise _corrupt("WebP", "first frame is not a key frame")
        if body[3:6] != b"\x9d\x01\x2a":
            raise _corrupt("WebP", "missing VP8 start code")
        width = int.from_bytes(body[6:8], "little") & 0x3FFF
        height = int.from_bytes(body[8:10], "little") & 0x3FFF
    elif chunk == b"VP8L":
        if body[0] != 0x2F:
            raise _corrupt("WebP", "missing VP8L signature")
        bits = int.from_bytes(body[1:5], "little")
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
    else:
        raise _corrupt("WebP", f"unknown first chunk {chunk!r}")
    if width == 0 or height == 0:
        raise _corrupt("WebP", f"invalid size {width}x{height}")
    return ImageInfo("webp", width, height)
