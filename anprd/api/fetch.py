"""`url=`: the guarded fetcher of a picture from an allowed host, the whole fetch
bounded in time and size."""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Sequence

from anprd import __version__
from anprd.api.request import (
    IMAGE_CONTENT_TYPES,
    ApiError,
)
from anprd.config.sections import ApiConfig

log = logging.getLogger("anprd.recognize")

# ------------------------------------------------------------------------ URL fetch


def host_allowed(host: str, port: int | None, allowed: Sequence[str]) -> bool:
    """Whether `host` (and `port`) is on the allow list.

    Entries: `name` (any port), `name:port`, `*.domain` (any subdomain of domain, not
    domain itself), `[v6addr]` or `[v6addr]:port`. Names compare case-insensitively and
    exactly: no DNS is involved in the decision.
    """
    host = host.lower().rstrip(".")
    for entry in allowed:
        e = entry.strip().lower()
        e_port: int | None = None
        if e.startswith("["):
            addr, _, rest = e[1:].partition("]")
            e = addr
            if rest.startswith(":") and rest[1:].isdigit():
                e_port = int(rest[1:])
        elif e.count(":") == 1:
            name, _, p = e.partition(":")
            if not p.isdigit():
                continue
            e, e_port = name, int(p)
        e = e.rstrip(".")
        if e_port is not None and e_port != port:
            continue
        if e.startswith("*."):
            if host.endswith(e[1:]) and len(host) > len(e) - 1:
                return True
        elif e and host == e:
            return True
    return False


REDIRECTS = (301, 302, 303, 307, 308)


def fetch_disabled() -> ApiError:
    return ApiError(
        403,
        "fetching a picture by URL is disabled on this server; post the picture as the "
        "request body (an operator can allow hosts with api.fetch_allowed_hosts)",
    )


class UrlFetcher:
    """GET a picture from an allowed host: bounded redirects, each hop re-checked,
    a deadline over the whole fetch, and the body size limit while reading."""

    def __init__(self, settings: ApiConfig):
        self.settings = settings

    def fetch(self, url: str) -> tuple[bytes, str | None]:
        s = self.settings
        if not s.fetch_allowed_hosts:
            raise fetch_disabled()
        deadline = time.monotonic() + s.fetch_timeout_s
        try:
            for _hop in range(s.fetch_max_redirects + 1):
                result = self._get(url, deadline)
                if isinstance(result, str):
                    url = result  # a redirect, checked on the next hop
                    continue
                return result
        except ApiError:
            raise
        except TimeoutError:
            raise ApiError(504, "timed out fetching the picture's URL") from None
        except ssl.SSLError as e:
            raise ApiError(502, f"TLS error fetching the picture's URL: {e.reason or e}") from None
        except (OSError, http.client.HTTPException, ValueError) as e:
            raise ApiError(
                502, f"could not fetch the picture's URL: {type(e).__name__}: {e}"
            ) from None
        raise ApiError(
            422, f"too many redirects (more than {s.fetch_max_redirects}) fetching the URL"
        )

    def _get(self, url: str, deadline: float) -> tuple[bytes, str | None] | str:
        s = self.settings
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ApiError(400, "url= must be an http:// or https:// URL")
        if parts.username is not None or parts.password is not None:
            raise ApiError(400, "url= must not carry credentials")
        host = parts.hostname
        if not host:
            raise ApiError(400, "url= has no host")
        try:
            port = parts.port
        except ValueError:
            raise ApiError(400, "url= has an invalid port") from None
        if not host_allowed(host, port, s.fetch_allowed_hosts):
            raise ApiError(
                403, f"host {host!r} is not on the list of hosts pictures may be fetched from"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_cls(host, port, timeout=remaining)
        # The socket's timeout bounds each read; a server that trickles its headers or
        # chunk sizes a byte at a time would outlast it. At the deadline, cut the socket.
        cutter = threading.Timer(remaining, _cut, (conn,))
        cutter.daemon = True
        cutter.start()
        try:
            return self._request(conn, url, parts, deadline)
        except (OSError, http.client.HTTPException):
            if time.monotonic() >= deadline:
                raise TimeoutError from None
            raise
        finally:
            cutter.cancel()
            conn.close()

    def _request(self, conn: http.client.HTTPConnection, url: str,
                 parts: urllib.parse.SplitResult, deadline: float
                 ) -> tuple[bytes, str | None] | str:
        s = self.settings
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(
            "GET",
            target,
            headers={
                "User-Agent": f"anprd/{__version__}",
                "Accept": ", ".join(IMAGE_CONTENT_TYPES),
                "Accept-Encoding": "identity",
            },
        )
        resp = conn.getresponse()
        if resp.status in REDIRECTS:
            location = resp.getheader("Location")
            if not location:
                raise ApiError(
                    422, f"the URL answered a redirect ({resp.status}) without a Location"
                )
            return urllib.parse.urljoin(url, location.strip())
        if resp.status != 200:
            raise ApiError(422, f"the URL answered HTTP {resp.status}, not a picture")
        length = resp.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > s.max_body_bytes:
            raise ApiError(
                413,
                f"the picture at the URL is larger than the limit of {s.max_body_bytes} bytes",
            )
        buf = bytearray()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) > s.max_body_bytes:
                raise ApiError(
                    413,
                    f"the picture at the URL is over the limit of {s.max_body_bytes} bytes",
                )
        if time.monotonic() >= deadline:  # the end was the deadline's cut
            raise TimeoutError
        return bytes(buf), resp.getheader("Content-Type")


def _cut(conn: http.client.HTTPConnection) -> None:
    """Wake a read blocked on `conn`'s socket: it ends as if the server had closed."""
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


