"""A camera's URL: a network stream (RTSP, HTTP) or a video file, by its scheme."""

from __future__ import annotations

import re

SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://(.*)$", re.DOTALL)
NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")


def is_file_url(url: str) -> bool:
    """A path, or a `file://` URL: anything whose scheme is not a network stream's."""
    m = SCHEME_RE.match(url)
    return m is None or m[1].lower() not in NETWORK_SCHEMES


def file_path(url: str) -> str:
    """The path of a file camera's URL."""
    return url[len("file://"):] if url.lower().startswith("file://") else url
