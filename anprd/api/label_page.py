"""`anprd label DIR`: a small page to confirm or correct the plates of a crops folder.

Routes (loopback by default):

- `GET /`: the page (`label.html`): every crop with the plate read, to confirm (Enter)
  or correct; the next unchecked crop gets the focus.
- `GET /rows`: labels.csv as JSON, `[{"index", "file", "plate", "checked"}]`.
- `GET /crop/<index>`: that row's picture (only files labels.csv names are served).
- `POST /rows/<index>` with `{"plate": "AB123CD"}`: the row corrected (or confirmed) and
  marked checked, labels.csv rewritten at once; an empty plate says the crop holds no
  readable plate. A plate that fits no format is a 422, and nothing is written.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

from anprd.detect.formats import FORMATS, format_of
from anprd.labels import Row, read_rows, write_rows

log = logging.getLogger("anprd.label")

MAX_BODY = 4096
_ROW = re.compile(r"^/(rows|crop)/(\d+)$")


class LabelStore:
    """A crops folder's rows, read once and written back on every change."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.rows: list[Row] = read_rows(self.folder)
        self._lock = threading.Lock()

    def as_json(self) -> list[dict]:
        return [{"index": i, "file": r.file, "plate": r.plate, "checked": r.checked}
                for i, r in enumerate(self.rows)]

    def picture(self, index: int) -> tuple[bytes, str] | None:
        if not 0 <= index < len(self.rows):
            return None
        path = self.folder / self.rows[index].file
        try:
            data = path.read_bytes()
        except OSError:
            return None
        return data, mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    def correct(self, index: int, plate: str) -> Row:
        """The row's plate set and checked; ValueError for a plate that fits no format."""
        plate = plate.strip().upper().replace(" ", "").replace("-", "")
        if plate and format_of(plate) is None:
            raise ValueError(f"{plate!r} fits no plate format ({', '.join(FORMATS)}); "
                             "leave it empty if the crop holds no readable plate")
        with self._lock:
            row = self.rows[index]
            row.plate, row.checked = plate, True
            write_rows(self.folder, self.rows)
        return row


class LabelHandler(BaseHTTPRequestHandler):
    server: LabelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc) -> None:
        self._send(status, json.dumps(doc).encode(), "application/json")

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        store = self.server.store
        if self.path == "/":
            page = resources.files("anprd.api").joinpath("label.html").read_bytes()
            return self._send(200, page, "text/html; charset=utf-8")
        if self.path == "/rows":
            return self._json(200, store.as_json())
        m = _ROW.match(self.path)
        found = store.picture(int(m[2])) if m and m[1] == "crop" else None
        if found is None:
            return self._json(404, {"error": f"no such page or crop: {self.path}"})
        self._send(200, *found)

    def do_POST(self) -> None:  # noqa: N802
        store = self.server.store
        m = _ROW.match(self.path)
        if not m or m[1] != "rows" or int(m[2]) >= len(store.rows):
            return self._json(404, {"error": f"no such row: {self.path}"})
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            return self._json(400, {"error": f"send a JSON body of at most {MAX_BODY} bytes"})
        try:
            plate = json.loads(self.rfile.read(length))["plate"]
            if not isinstance(plate, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return self._json(400, {"error": 'the body is {"plate": "AB123CD"}'})
        try:
            row = store.correct(int(m[2]), plate)
        except ValueError as e:
            return self._json(422, {"error": str(e)})
        except OSError as e:
            return self._json(500, {"error": f"cannot write labels.csv: {e.strerror or e}"})
        self._json(200, {"index": int(m[2]), "file": row.file, "plate": row.plate,
                         "checked": row.checked})


class LabelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], store: LabelStore,
                 family: socket.AddressFamily = socket.AF_INET) -> None:
        self.store = store
        self.address_family = family
        super().__init__(address, LabelHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
