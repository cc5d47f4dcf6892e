"""The HTTP API's request and answer types; `anprd.api.openapi` writes the OpenAPI
document from them. The routes answer plain dicts of these shapes (the OpenAPI test
and Schemathesis check every answer against them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from anprd.api.request import MULTIPART_FIELD
from anprd.detect.formats import FORMATS
from anprd.reads import PICTURE_MIN_CONFIDENCE

Probability = Annotated[float, Field(ge=0, le=1)]
FormatName = Literal[tuple(FORMATS)]  # type: ignore[valid-type]
Binary = Annotated[bytes, Field(min_length=1)]


class Error(BaseModel):
    error: str = Field(description="what was wrong, for a person to read")


# ------------------------------------------------------------------ recognition


class RecognizeQuery(BaseModel):
    """The query of `POST /v1/recognize`."""

    model_config = ConfigDict(extra="forbid")

    formats: list[FormatName] | None = Field(
        None, min_length=1, description="plate formats to decode under, comma-separated "
                                        "(default: all)")
    min_confidence: Probability = Field(
        PICTURE_MIN_CONFIDENCE, description="drop readings less confident than this "
                                            "(0 lists every reading)")
    url: str | None = Field(None, min_length=1, json_schema_extra={"format": "uri"},
                            description="fetch the picture from this URL (allowed hosts "
                                        "only) and send no body")


class RecognizeForm(BaseModel):
    """The multipart form of `POST /v1/recognize`: the picture in one field."""

    image: Binary = Field(alias=MULTIPART_FIELD, description="a JPEG, PNG or WebP picture")


class Character(BaseModel):
    char: str = Field(min_length=1, max_length=1)
    position: int = Field(ge=0, le=6, description="the network's position, 0-6")
    prob: Probability = Field(description="the network's probability of char there")
    runner_up: str | None = Field(description="the most probable other character")
    runner_up_prob: Probability | None


class Plate(BaseModel):
    plate: str = Field(examples=["AB123CD"])
    format: str = Field(examples=["mercosur_ar"])
    confidence: Probability = Field(description="probability of the reading under its format")
    presence: Probability = Field(description="the detector's plate-present probability")
    box: list[int] = Field(min_length=4, max_length=4,
                           description="x1, y1, x2, y2 in the picture's pixels")
    characters: list[Character]


class Recognition(BaseModel):
    width: int = Field(ge=1, description="the picture's width in pixels")
    height: int = Field(ge=1, description="the picture's height in pixels")
    ms: float = Field(ge=0, description="milliseconds to decode and read it")
    plates: list[Plate]


# --------------------------------------------------------------- health, metrics


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    model_config = ConfigDict(extra="allow")

    ready: bool
    model: dict | None = Field(None, description="the weights, runtime and device")
    cameras: dict | None = Field(None, description="each camera's state, by name")
    sinks: dict | None = Field(None, description="each event sink's state")


# ---------------------------------------------------------------- the live page


class CameraState(BaseModel):
    name: str
    state: Literal["starting", "up", "retrying", "ended", "stopped"]
    since: str = Field(description="when it entered this state (ISO 8601, UTC)")
    url: str = Field(description="the camera's address, its password left out")
    last_error: str | None
    sample_fps: float
    sampled_fps: float | None = Field(description="frames sampled a second, lately")
    dropped_fps: float | None = Field(description="sampled frames dropped a second, lately")
    frame: int = Field(ge=0, description="the latest sampled frame's number (0: none yet)")
    frame_at: float | None = Field(description="when it was sampled (Unix time)")


class Cameras(BaseModel):
    cameras: list[CameraState]


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    camera: str
    plate: str
    format: str
    confidence: Probability
    first_seen: str = Field(description="ISO 8601, UTC")
    last_seen: str = Field(description="ISO 8601, UTC")
    reads: int = Field(ge=1)
    box: list[int] = Field(min_length=4, max_length=4)
    snapshot: str | None
    snapshot_url: str | None = Field(None, description="the snapshot on this server")
    snapshot_crop_url: str | None = Field(None, description="its plate crop on this server")
    list_: str | None = Field(alias="list", description="the known-plates list it matched")
    label: str | None


class EventsQuery(BaseModel):
    """The query of `GET /events`."""

    model_config = ConfigDict(extra="forbid")

    plate: str | None = Field(None, description="a plate prefix, or a plate one character off")
    since: str | None = Field(None, json_schema_extra={"format": "date-time"},
                              description="first seen at or after (ISO 8601)")
    until: str | None = Field(None, json_schema_extra={"format": "date-time"},
                              description="first seen before (ISO 8601)")
    camera: str | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000, description="skip this many (paging)")


class EventsPage(BaseModel):
    events: list[Event] = Field(description="newest first")
    total: int = Field(ge=0, description="events that match, in all")
    next_offset: int | None = Field(description="the offset of the next page; null: none")
