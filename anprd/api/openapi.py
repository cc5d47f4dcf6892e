"""The OpenAPI 3.1 document, written from the routes' table and the types of
`anprd.api.schemas`: each route's query, body and answers, every status it can give."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from anprd import __version__
from anprd.api import schemas
from anprd.api.request import IMAGE_CONTENT_TYPES, MULTIPART, MULTIPART_FIELD

JSON = "application/json"
_REF = "#/components/schemas/{model}"
_HEADERS = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}},
    "WWW-Authenticate": {"schema": {"type": "string"}},
    "Allow": {"description": "the methods the route takes", "schema": {"type": "string"}},
}


# One event of /events/stream: its data is the JSON of Cameras' list, of a list of
# Events (`recent`) or of one Event (`plate`).
_SSE_EVENT = {
    "type": "object", "required": ["event", "data"],
    "properties": {"event": {"enum": ["cameras", "recent", "plate"]},
                   "data": {"type": "string", "contentMediaType": JSON}},
}


@dataclass(frozen=True)
class Answer:
    status: int
    description: str
    model: type[BaseModel] | None = schemas.Error  # None: `media` with a free body
    media: str = JSON
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    path: str
    operation_id: str
    summary: str
    answers: tuple[Answer, ...]
    method: str = "get"
    query: type[BaseModel] | None = None
    path_names: tuple[str, ...] = ()
    body: bool = False  # the recognition body: a picture, or a form with one
    open: bool = False  # answered without the page's token


_BUSY = Answer(503, "too many connections or requests at once, or not ready yet",
               headers=("Retry-After",))
_TOKEN = Answer(401, "the bearer token is missing or wrong", headers=("WWW-Authenticate",))
_METHOD = Answer(405, "method not allowed on this route", headers=("Allow",))
_BAD = Answer(400, "a malformed request or query")

_RECOGNIZE_ERRORS = (
    Answer(403, "fetching by URL is disabled, or the host is not allowed"),
    Answer(404, "the recognition API is disabled on this server (api.enabled)"),
    Answer(408, "the body did not arrive in time"),
    Answer(411, "no Content-Length, and not chunked"),
    Answer(413, "the body (or the fetched picture) is larger than the limit"),
    Answer(415, "not a JPEG, PNG or WebP picture, or a Content-Type the API does not take"),
    Answer(422, "a damaged picture, too many pixels, or the URL gave no picture"),
    Answer(502, "the URL's host could not be reached"),
    Answer(504, "the URL's host did not answer in time"),
)

OPERATIONS = (
    Operation("/v1/recognize", "recognize", "Read the plates in a picture", method="post",
              query=schemas.RecognizeQuery, body=True,
              answers=(Answer(200, "the plates found", schemas.Recognition),
                       *_RECOGNIZE_ERRORS)),
    Operation("/metrics", "metrics", "Prometheus metrics",
              answers=(Answer(200, "Prometheus text exposition format", None, "text/plain"),)),
    Operation("/healthz", "healthz", "Liveness: the process answers", open=True,
              answers=(Answer(200, "alive", schemas.Health),)),
    Operation("/readyz", "readyz", "Readiness: the model loaded, every camera's state",
              answers=(Answer(200, "ready", schemas.Ready),
                       Answer(503, "not ready yet", schemas.Ready))),
    Operation("/openapi.json", "openapi", "This document",
              answers=(Answer(200, "the OpenAPI 3.1 document", None, JSON),)),
    Operation("/cameras", "cameras", "Each camera's state and rates (the live page)",
              answers=(Answer(200, "the cameras", schemas.Cameras),)),
    Operation("/camera/{name}/frame.jpg", "frame", "A camera's latest sampled frame, "
              "with its ROI and last boxes drawn", path_names=("name",),
              answers=(Answer(200, "a JPEG picture", None, "image/jpeg"),
                       Answer(404, "no camera of that name"))),
    Operation("/events", "events", "Search the events log, newest first",
              query=schemas.EventsQuery,
              answers=(Answer(200, "a page of events", schemas.EventsPage),
                       Answer(404, "this server keeps no events log"))),
    Operation("/events/stream", "event_stream", "Server-Sent Events: `cameras` every "
              "second, `recent` once, then each `plate` event as it is emitted",
              answers=(Answer(200, "an event stream", None, "text/event-stream"),)),
)


@functools.lru_cache(maxsize=4)
def openapi_document(server_url: str | None = None,
                     max_body_bytes: int | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route the server answers (bar the page),
    with the server's body limit when given. Made once per limit: do not change it."""
    models: dict[str, type[BaseModel]] = {}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, models, max_body_bytes)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "anprd", "version": __version__,
                 "description": "Argentine licence plate recognition: the plates in a posted "
                                "picture, the cameras and events of the daemon, its metrics "
                                "and health checks."},
        "paths": paths,
        "components": {"schemas": _schemas(models), "securitySchemes": {"bearer": {
            "type": "http", "scheme": "bearer",
            "description": "the token of http.token_file (every route but /healthz), or "
                           "api.token on /v1/recognize"}}},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _operation(op: Operation, models: dict[str, type[BaseModel]],
               max_body_bytes: int | None) -> dict[str, Any]:
    answers = [*op.answers, _BAD, _METHOD, _BUSY] + ([] if op.open else [_TOKEN])
    responses: dict[str, Any] = {}
    for a in answers:
        responses.setdefault(str(a.status), _response(a, models))
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "responses": responses}
    if not op.open:
        out["security"] = [{}, {"bearer": []}]
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in op.path_names]
    if op.query is not None:
        params += _query_parameters(op.query)
    if params:
        out["parameters"] = params
    if op.body:
        out["requestBody"] = _picture_body(max_body_bytes)
    return out


def _response(a: Answer, models: dict[str, type[BaseModel]]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": a.description}
    if a.model is not None:
        models[a.model.__name__] = a.model
        out["content"] = {a.media: {"schema": {"$ref": _REF.format(model=a.model.__name__)}}}
    elif a.media == JSON:
        out["content"] = {a.media: {"schema": {"type": "object"}}}
    elif a.media == "text/event-stream":
        out["content"] = {a.media: {"schema": _SSE_EVENT}}
    else:
        out["content"] = {a.media: {"schema": {"type": "string"}}}
    if a.headers:
        out["headers"] = {h: _HEADERS[h] for h in a.headers}
    return out


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        prop = _not_null(prop)
        description = prop.pop("description", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required,
                                 "schema": prop}
        if description:
            param["description"] = description
        if prop.get("type") == "array":
            param.update(style="form", explode=False)
        out.append(param)
    return out


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent, never null: `T | None` is documented as `T`."""
    prop = {k: v for k, v in prop.items() if k not in ("title", "default")
            or (k == "default" and v is not None)}
    branches = [b for b in prop.pop("anyOf", ()) if b.get("type") != "null"]
    if len(branches) == 1:
        prop = {**branches[0], **prop}
    elif branches:
        prop["anyOf"] = branches
    return prop


def _picture_body(max_body_bytes: int | None) -> dict[str, Any]:
    binary: dict[str, Any] = {"type": "string", "format": "binary", "minLength": 1}
    if max_body_bytes:
        binary["maxLength"] = max_body_bytes
    form = schemas.RecognizeForm.model_json_schema(by_alias=True)
    form.pop("title", None)
    content: dict[str, Any] = {t: {"schema": binary} for t in IMAGE_CONTENT_TYPES}
    content[MULTIPART] = {"schema": form, "encoding": {
        MULTIPART_FIELD: {"contentType": ", ".join(IMAGE_CONTENT_TYPES)}}}
    return {"description": "the picture, as the body or the form field "
                           f"{MULTIPART_FIELD!r}; none with url=", "required": True,
            "content": content}


def _schemas(models: dict[str, type[BaseModel]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(models):
        schema = models[name].model_json_schema(by_alias=True, ref_template=_REF)
        out.update(schema.pop("$defs", {}))
        out[name] = schema
    return out
