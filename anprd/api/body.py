"""Reading a request's body: its framing, Content-Length or chunked, within a limit, and
closing without resetting an answer sent before the body was read.

`BodyReader` is a mixin of the HTTP handler (`anprd.api.handler.Handler`): it uses the
handler's `rfile`, `wfile`, `connection` and `headers`.
"""

from __future__ import annotations

import socket
import time

from anprd.api.request import ApiError

_MAX_CHUNK_LINE = 1024
_MAX_TRAILERS = 32
_LINGER_S = 1.0
_LINGER_BYTES = 4 * 1024 * 1024



class _BodyError(Exception):
    """The request body could not be read; the answer has been decided."""

    def __init__(self, err: ApiError):
        super().__init__(err.message)
        self.err = err


class BodyReader:
    _expect_continue: bool
    _body_read: bool

    def _lingering_close(self) -> None:
        # The answer was sent before the body was read. Closing now, with the client's
        # data unread, makes the kernel send a reset that can destroy the answer in
        # flight; so half-close, and discard what still arrives for a moment.
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _LINGER_S
            drained = 0
            while drained < _LINGER_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.connection.settimeout(remaining)
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

    def _body_framing(self) -> tuple[int | None, bool]:
        """(Content-Length, chunked) of the request, 400 when they are invalid."""
        te = self.headers.get_all("Transfer-Encoding") or []
        cl = self.headers.get_all("Content-Length") or []
        chunked = False
        if te:
            codings = [c.strip().lower() for v in te for c in v.split(",") if c.strip()]
            if codings != ["chunked"]:
                raise ApiError(400, "unsupported Transfer-Encoding; only chunked is accepted")
            chunked = True
        if cl:
            if chunked:
                raise ApiError(400, "both Content-Length and Transfer-Encoding given")
            values = {v.strip() for v in cl}
            if len(values) != 1 or not next(iter(values)).isdigit():
                raise ApiError(400, "invalid Content-Length")
            return int(next(iter(values))), False
        return None, chunked

    def _has_unread_body(self) -> bool:
        if getattr(self, "_body_read", True):
            return False
        try:
            length, chunked = self._body_framing()
        except ApiError:
            return True
        return chunked or bool(length)

    def _continue(self) -> None:
        if self._expect_continue:
            self._expect_continue = False
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def _read_body(self, length: int | None, chunked: bool, limit: int) -> bytes:
        self._continue()
        # Read in full, or the answer lingers (closing with unread data resets it).
        try:
            if not chunked:
                data = self.rfile.read(length or 0)
                if len(data) != (length or 0):
                    raise _BodyError(ApiError(400, "the body ended before its Content-Length"))
            else:
                data = self._read_chunked(limit)
        except TimeoutError:
            raise _BodyError(ApiError(408, "timed out reading the request body")) from None
        self._body_read = True
        return data

    def _read_chunked(self, limit: int) -> bytes:
        buf = bytearray()
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if not line.endswith(b"\n") or len(line) > _MAX_CHUNK_LINE:
                raise _BodyError(ApiError(400, "malformed chunked body"))
            size_text = line.split(b";", 1)[0].strip()
            if (
                not size_text
                or len(size_text) > 16
                or any(c not in b"0123456789abcdefABCDEF" for c in size_text)
            ):
                raise _BodyError(ApiError(400, "malformed chunk size"))
            size = int(size_text, 16)
            if size == 0:
                for _ in range(_MAX_TRAILERS):
                    trailer = self.rfile.readline(_MAX_CHUNK_LINE + 1)
                    if trailer in (b"\r\n", b"\n"):
                        return bytes(buf)
                    if not trailer.endswith(b"\n"):
                        break
                raise _BodyError(ApiError(400, "malformed chunked body trailer"))
            if len(buf) + size > limit:
                raise _BodyError(
                    ApiError(413, f"the body is larger than the limit of {limit} bytes")
                )
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.read(2) not in (b"\r\n",):
                raise _BodyError(ApiError(400, "malformed chunked body"))
            buf += chunk

    # ---------------------------------------------------------------- routing
