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
import threading
from importlib import resources
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from anprd.api.server import UvicornThread, bind
from anprd.detect.formats import FORMATS, format_of
from anprd.labels import Row, read_rows, write_rows

log = logging.getLogger("anprd.label")

MAX_BODY = 4096


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


def label_app(store: LabelStore) -> Starlette:
    page = resources.files("anprd.api").joinpath("label.html").read_bytes()

    async def index(_request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8")

    async def rows(_request: Request) -> Response:
        return _json(200, store.as_json())

    async def crop(request: Request) -> Response:
        found = store.picture(request.path_params["index"])
        if found is None:
            return _json(404, {"error": f"no such crop: {request.url.path}"})
        data, media = found
        return Response(data, media_type=media)

    async def correct(request: Request) -> Response:
        index = request.path_params["index"]
        if index >= len(store.rows):
            return _json(404, {"error": f"no such row: {request.url.path}"})
        body = await request.body()
        if not 0 < len(body) <= MAX_BODY:
            return _json(400, {"error": f"send a JSON body of at most {MAX_BODY} bytes"})
        try:
            plate = json.loads(body)["plate"]
            if not isinstance(plate, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": 'the body is {"plate": "AB123CD"}'})
        try:
            row = await run_in_threadpool(store.correct, index, plate)
        except ValueError as e:
            return _json(422, {"error": str(e)})
        except OSError as e:
            return _json(500, {"error": f"cannot write labels.csv: {e.strerror or e}"})
        return _json(200, {"index": index, "file": row.file, "plate": row.plate,
                           "checked": row.checked})

    async def not_found(request: Request, _exc: Exception) -> Response:
        return _json(404, {"error": f"no such page: {request.url.path[:200]}"})

    return Starlette(routes=[
        Route("/", index, methods=["GET"]),
        Route("/rows", rows, methods=["GET"]),
        Route("/crop/{index:int}", crop, methods=["GET"]),
        Route("/rows/{index:int}", correct, methods=["POST"]),
    ], exception_handlers={404: not_found})


def _json(status: int, doc) -> Response:
    return Response(json.dumps(doc), status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


class LabelServer(UvicornThread):
    """The page on `listen` (host:port): `serve_forever()`, or `start()` and `shutdown()`."""

    name = "anprd-label"

    def __init__(self, listen: str, store: LabelStore) -> None:
        self.store = store
        super().__init__(bind(listen), uvicorn.Config(
            label_app(store), ws="none", lifespan="off", log_config=None, access_log=False,
            server_header=False))

    @property
    def url(self) -> str:
        return super().url + "/"
