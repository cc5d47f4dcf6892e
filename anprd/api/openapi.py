"""The OpenAPI 3.1 document of every route the HTTP server answers."""

from __future__ import annotations

from typing import Any

from anprd import __version__
from anprd.api.request import (
    DEFAULT_FORMATS,
    IMAGE_CONTENT_TYPES,
    MULTIPART_FIELD,
    RecognizeQuery,
    known_formats,
)

# ---------------------------------------------------------------------- the OpenAPI


_ERROR = {"$ref": "#/components/schemas/Error"}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
_BINARY = {"type": "string", "format": "binary", "minLength": 1}


def openapi_document(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route the HTTP server answers."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "anprd",
            "version": __version__,
            "description": (
                "Argentine licence plate recognition: the plates in a posted picture as JSON, "
                "plus the daemon's metrics and health checks."
            ),
        },
        "paths": {"/v1/recognize": _recognize(), **_service_paths()},
        "components": _components(),
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _err(desc: str, extra_headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": desc,
        "content": {"application/json": {"schema": _ERROR}},
    }
    if extra_headers:
        out["headers"] = extra_headers
    return out


def _recognize() -> dict[str, Any]:
    """POST /v1/recognize: its query, bodies, answers and errors."""
    return {
    "post": {
        "operationId": "recognize",
        "summary": "Read the plates in a picture",
        "description": (
            "Send a JPEG, PNG or WebP picture as the body (with its Content-Type) "
            "or as the multipart form field `image`; or, when the server allows it, "
            "name it with `url=` and send no body. The pixel count is checked from "
            "the image header before decoding."
        ),
        "security": [{}, {"bearer": []}],
        "parameters": [
            {
                "name": "formats",
                "in": "query",
                "required": False,
                "description": "comma-separated plate formats to decode under "
                f"(default: all, {','.join(DEFAULT_FORMATS)})",
                "style": "form",
                "explode": False,
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "enum": list(known_formats())},
                },
            },
            {
                "name": "min_confidence",
                "in": "query",
                "required": False,
                "description": "drop readings less confident than this "
                               "(0 lists every reading)",
                "schema": {"type": "number", "minimum": 0, "maximum": 1,
                           "default": RecognizeQuery.min_confidence},
            },
            {
                "name": "url",
                "in": "query",
                "required": False,
                "description": "fetch the picture from this URL (allowed hosts only)",
                "schema": {"type": "string", "format": "uri"},
            },
        ],
        "requestBody": {
            "description": "the picture; empty (Content-Length: 0) with url=",
            "required": True,
            "content": {
                "image/jpeg": {"schema": _BINARY},
                "image/png": {"schema": _BINARY},
                "image/webp": {"schema": _BINARY},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [MULTIPART_FIELD],
                        "properties": {MULTIPART_FIELD: _BINARY},
                    },
                    "encoding": {
                        MULTIPART_FIELD: {"contentType": ", ".join(IMAGE_CONTENT_TYPES)}
                    },
                },
            },
        },
        "responses": {
            "200": {
                "description": "the plates found",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/Recognition"}
                    }
                },
            },
            "400": _err("bad query, empty body or malformed multipart form"),
            "401": _err(
                "bearer token missing or wrong",
                {"WWW-Authenticate": {"schema": {"type": "string"}}},
            ),
            "403": _err("fetching by URL disabled, or the host is not allowed"),
            "404": _err("the recognition API is disabled on this server"),
            "405": _err("method not allowed", {"Allow": {"schema": {"type": "string"}}}),
            "408": _err("the body did not arrive in time"),
            "411": _err("no Content-Length and not chunked"),
            "413": _err("body (or fetched picture) larger than the limit"),
            "415": _err("not a JPEG, PNG or WebP picture, or unsupported Content-Type"),
            "422": _err("corrupt picture, too many pixels, or the URL gave no picture"),
            "502": _err("the URL's host could not be reached"),
            "503": _err(
                "too many requests at once, or the model is not loaded yet", _RETRY_AFTER
            ),
            "504": _err("the URL's host did not answer in time"),
        },
    }
    }


def _service_paths() -> dict[str, Any]:
    """The metrics, the health checks and this document."""
    return {
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics",
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "healthz",
            "summary": "Liveness: the process answers",
            "responses": {
                "200": {
                    "description": "alive",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"status": {"type": "string", "const": "ok"}},
                            }
                        }
                    },
                }
            },
        }
    },
    "/readyz": {
        "get": {
            "operationId": "readyz",
            "summary": "Readiness: model loaded and the state of every camera",
            "responses": {
                "200": {
                    "description": "ready",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Ready"}
                        }
                    },
                },
                "503": {
                    "description": "not ready yet",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Ready"}
                        }
                    },
                },
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    }


def _components() -> dict[str, Any]:
    return {
    "securitySchemes": {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "required on /v1/recognize when api.token is set",
        }
    },
    "schemas": {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Ready": {
            "type": "object",
            "required": ["ready"],
            "properties": {"ready": {"type": "boolean"}},
            "additionalProperties": True,
        },
        "Recognition": {
            "type": "object",
            "required": ["width", "height", "ms", "plates"],
            "properties": {
                "width": {"type": "integer", "description": "picture width in pixels"},
                "height": {"type": "integer", "description": "picture height in pixels"},
                "ms": {
                    "type": "number",
                    "description": "milliseconds to decode and read it",
                },
                "plates": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Plate"},
                },
            },
        },
        "Plate": {
            "type": "object",
            "required": ["plate", "format", "confidence", "presence", "box", "characters"],
            "properties": {
                "plate": {"type": "string", "example": "AB123CD"},
                "format": {"type": "string", "example": "mercosur_ar"},
                "confidence": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "probability of the whole reading under its format",
                },
                "presence": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "the detector's plate-present probability",
                },
                "box": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "minItems": 4,
                    "maxItems": 4,
                    "description": "x1, y1, x2, y2 in the picture's pixels",
                },
                "characters": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Character"},
                },
            },
        },
        "Character": {
            "type": "object",
            "required": ["char", "position", "prob", "runner_up", "runner_up_prob"],
            "properties": {
                "char": {"type": "string", "minLength": 1, "maxLength": 1},
                "position": {
                    "type": "integer",
                    "description": "the network's position, 0-6",
                },
                "prob": {
                    "type": "number",
                    "description": "the network's probability of char there",
                },
                "runner_up": {
                    "type": ["string", "null"],
                    "description": "most probable other character",
                },
                "runner_up_prob": {"type": ["number", "null"]},
            },
        },
    },
    }
