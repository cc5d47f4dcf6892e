"""The YAML configuration's sections: typed, frozen objects (loading a file is
`anprd.config.load`; the lists' and sinks' models are in their own modules).

Relative paths in the file (``model.weights``, ``events.path``, ``events.snapshots`` and
camera URLs that are file paths) are resolved from the config file's folder, so that the
same file means the same thing whatever the working directory (systemd runs from ``/``).

Camera URLs may hold passwords (``rtsp://user:secret@host/...``): nothing here prints
one. Use `anprd.redact` before logging anything that may contain a URL. The wording of
problems and the YAML line map are `anprd.config.problems`; ROI geometry is
`anprd.config.polygons`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from anprd.config.fields import (
    FROZEN,
    KNOWN_FORMATS,
    FormatName,
    Point,
    PosInt,
    fail,
    one_or_list,
    resolve_path,
)
from anprd.config.lists import PlateListConfig
from anprd.config.polygons import _polygon_area, _self_intersection
from anprd.config.sinks import SinkConfig
from anprd.detect.shipped import DEFAULT_WEIGHTS, readers_for
from anprd.reads import DEFAULT_MIN_CONFIDENCE, DetectParams
from anprd.redact import redact_text, redact_url
from anprd.video.image_headers import MAX_PICTURE_PIXELS
from anprd.video.urls import NETWORK_SCHEMES, SCHEME_RE, is_file_url

CAMERA_NAME_RE = re.compile(r"[a-z0-9_-]+")


# --------------------------------------------------------------------------- sections


class ModelConfig(BaseModel):
    """The recognizer network and where it runs."""

    model_config = FROZEN

    weights: Path = DEFAULT_WEIGHTS
    # Weights files (one, or a list) whose readers read the candidates that `weights`
    # finds (its presence pass), their readings averaged; none given: `readers_for`.
    reader_weights: Annotated[tuple[Path, ...], BeforeValidator(one_or_list)] = ()
    backend: Literal["tensorflow", "jax"] = "tensorflow"
    device: Literal["auto", "cpu", "gpu"] = "auto"
    # What runs the networks: Keras, or an export of these weights (`anprd export`) for
    # LiteRT or ONNX Runtime; auto: the fastest installed export that passed its check.
    runtime: Literal["auto", "keras", "litert", "onnxruntime"] = "auto"
    # Folders holding exports (or one export each); none given: the weights' folder.
    exports: Annotated[tuple[Path, ...], BeforeValidator(one_or_list)] = ()
    # The runtime's threads; none given: every core the daemon may use.
    threads: Annotated[int, Field(strict=True, ge=1, le=256)] | None = None

    @field_validator("weights")
    @classmethod
    def _resolve_weights(cls, v: Path, info: ValidationInfo) -> Path:
        return resolve_path(v, info)

    @field_validator("reader_weights", "exports")
    @classmethod
    def _resolve_readers(cls, v: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        return tuple(resolve_path(p, info) for p in v)

    @property
    def readers(self) -> tuple[Path, ...]:
        return readers_for(self.weights, self.reader_weights)


_LISTEN_RE = re.compile(r"(?:\[(?P<ip6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\[\]\s]*)):(?P<port>\d+)")


class HttpConfig(BaseModel):
    """The HTTP endpoint: the live page, metrics, health checks and the recognition API."""

    model_config = FROZEN

    listen: Annotated[str, Field(strict=True)] = "127.0.0.1:9108"
    # A file holding a bearer token: then every route but /healthz asks for it.
    token_file: Path | None = None

    @field_validator("token_file")
    @classmethod
    def _resolve_token_file(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else resolve_path(v, info)

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, v: str) -> str:
        m = _LISTEN_RE.fullmatch(v.strip())
        if not m or int(m["port"]) > 65535:
            raise fail(
                "listen",
                f"expected host:port, e.g. 127.0.0.1:9108 or [::1]:9108 (port 0-65535), "
                f"got {v!r}",
            )
        return v.strip()

    @property
    def host(self) -> str:
        """The address to bind; an empty host in the file means all interfaces."""
        m = _LISTEN_RE.fullmatch(self.listen)
        assert m is not None
        return m["ip6"] or m["host"] or "0.0.0.0"

    @property
    def port(self) -> int:
        m = _LISTEN_RE.fullmatch(self.listen)
        assert m is not None
        return int(m["port"])


class EventsConfig(BaseModel):
    """Where plate events go."""

    model_config = FROZEN

    path: Path = Path("/var/lib/anprd/events.jsonl")
    snapshots: Path | None = None
    # Each event's best plate crop and the reader's window of it, with labels.csv, to
    # label (`anprd label`) and fine-tune on (`trainer finetune`).
    crops: Path | None = None
    sinks: tuple[SinkConfig, ...] = ()
    state_dir: Path | None = None  # the sinks' queues; default: the events file's folder

    @field_validator("path", "snapshots", "crops", "state_dir")
    @classmethod
    def _resolve_paths(cls, v: Path | None, info: ValidationInfo) -> Path | None:
        return None if v is None else resolve_path(v, info)

    @property
    def state_folder(self) -> Path:
        return self.state_dir or self.path.parent


class ApiConfig(BaseModel):
    """Limits and access of the recognition web service (``POST /v1/recognize``)."""

    model_config = FROZEN

    enabled: Annotated[bool, Field(strict=True)] = True
    max_body_bytes: PosInt = 10_000_000
    max_pixels: PosInt = MAX_PICTURE_PIXELS
    max_concurrent: PosInt = 4
    token: Annotated[str | None, Field(strict=True, repr=False)] = None
    fetch_allowed_hosts: tuple[Annotated[str, Field(strict=True)], ...] = ()
    fetch_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 5.0
    fetch_max_redirects: Annotated[int, Field(strict=True, ge=0)] = 3
    # A whole request (line, headers, body) must arrive within this; idle keep-alive too.
    request_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 30.0
    max_connections: Annotated[int, Field(strict=True, ge=4)] = 64
    max_connections_per_client: PosInt = 32
    # Memory that concurrent recognitions share; one that does not fit waits its turn (503).
    memory_budget_bytes: PosInt = 3 * 1024 * 1024 * 1024
    # The Retry-After of a 503 answered when every recognition slot is busy.
    retry_after_s: PosInt = 1

    @field_validator("token")
    @classmethod
    def _check_token(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise fail("token", "must not be empty; leave it out (or null) for no token")
        return v

    @field_validator("fetch_allowed_hosts")
    @classmethod
    def _check_hosts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for host in v:
            if not host or "/" in host or any(c.isspace() for c in host):
                raise fail(
                    "host",
                    f"each entry must be a host name like images.example.com, not a URL "
                    f"or a path: {redact_text(host)!r}",
                )
        return tuple(h.lower() for h in v)


class DedupConfig(BaseModel):
    """How reads of one vehicle across frames become one event."""

    model_config = FROZEN

    min_reads: PosInt = 2
    track_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 2.0
    cooldown_s: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)] = 30.0


class CameraConfig(BaseModel):
    """One camera (or video file). Its `url` may hold a password: see `safe_url`."""

    model_config = FROZEN

    name: Annotated[str, Field(strict=True)]
    url: Annotated[str, Field(strict=True)]
    enabled: Annotated[bool, Field(strict=True)] = True
    sample_fps: Annotated[float, Field(strict=True, gt=0, le=120)] = 5.0
    roi: tuple[Point, ...] | None = None
    plate_width_px: tuple[PosInt, PosInt] | None = None
    formats: tuple[FormatName, ...] = KNOWN_FORMATS
    min_confidence: Annotated[float, Field(strict=True, ge=0, le=1)] = DEFAULT_MIN_CONFIDENCE
    dedup: DedupConfig = DedupConfig()
    loop: Annotated[bool, Field(strict=True)] = False
    realtime: Annotated[bool, Field(strict=True)] = True
    open_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 10.0
    stall_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 10.0
    reconnect_max_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 30.0

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not CAMERA_NAME_RE.fullmatch(v):
            slug = re.sub(r"[^a-z0-9_-]+", "-", v.lower()).strip("-")
            hint = f", e.g. '{slug}'" if slug else ""
            raise fail(
                "camera_name",
                f"must use only lowercase letters, digits, '-' and '_'{hint} (got {v!r})",
            )
        return v

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str, info: ValidationInfo) -> str:
        v = v.strip()
        if not v:
            raise fail("url", "must not be empty")
        m = SCHEME_RE.match(v)
        if m is None:
            return str(resolve_path(Path(v), info))
        scheme, rest = m[1].lower(), m[2]
        if scheme == "file":
            if not rest.strip():
                raise fail("url", "file:// names no file")
            return str(resolve_path(Path(rest), info))
        if scheme not in NETWORK_SCHEMES:
            raise fail(
                "url",
                f"unsupported URL scheme '{scheme}://' in {redact_url(v)!r}; use rtsp://, "
                "rtsps://, http://, https:// or a file path",
            )
        host = re.split(r"[/?#]", rest[rest.rfind("@") + 1:], maxsplit=1)[0]
        if not re.sub(r":[^:\]]*$", "", host):  # nothing before the port
            raise fail("url", f"has no host: {redact_url(v)!r}")
        port = host.rsplit("]", 1)[-1].rpartition(":")[2] if ":" in host else ""
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise fail("url", f"the port is not a number from 1 to 65535: {redact_url(v)!r}")
        return v

    @field_validator("roi")
    @classmethod
    def _check_roi(cls, v: tuple[Point, ...] | None) -> tuple[Point, ...] | None:
        if v is None:
            return None
        if len(v) < 3:
            raise fail("roi", f"a polygon needs at least 3 [x, y] points, got {len(v)}")
        crossing = _self_intersection(v)
        if crossing is not None:
            i, j = crossing
            n = len(v)
            raise fail(
                "roi",
                f"the polygon crosses itself: edge roi[{i}]-roi[{(i + 1) % n}] crosses "
                f"edge roi[{j}]-roi[{(j + 1) % n}] (list the points in order around it)",
            )
        if _polygon_area(v) == 0:
            raise fail("roi", "the points are all on one line: the polygon has no area")
        return v

    @field_validator("plate_width_px")
    @classmethod
    def _check_widths(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and v[0] > v[1]:
            raise fail(
                "plate_width_px",
                f"smallest width {v[0]} is larger than largest width {v[1]}; "
                "expected [smallest, largest]",
            )
        return v

    @field_validator("formats")
    @classmethod
    def _dedupe_formats(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            known = ", ".join(KNOWN_FORMATS)
            raise fail("formats", f"must not be empty; known formats: {known}")
        return tuple(dict.fromkeys(v))

    @property
    def is_file(self) -> bool:
        """True when `url` is a video file rather than a network stream."""
        return is_file_url(self.url)

    @property
    def safe_url(self) -> str:
        """`url` fit for logs, metrics and messages."""
        return redact_url(self.url)

    def detect_params(self) -> DetectParams:
        """What this camera asks of the detector."""
        return DetectParams(
            formats=self.formats,
            min_confidence=self.min_confidence,
            roi=self.roi,
            plate_width_px=self.plate_width_px,
        )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for key, value in super().__repr_args__():
            yield key, (redact_url(value) if key == "url" else value)


class Config(BaseModel):
    """The whole file, with `defaults:` already applied to every camera."""

    model_config = FROZEN

    model: ModelConfig = ModelConfig()
    http: HttpConfig = HttpConfig()
    events: EventsConfig = EventsConfig()
    api: ApiConfig = ApiConfig()
    lists: tuple[PlateListConfig, ...] = ()
    cameras: tuple[CameraConfig, ...]

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [c.name for c in self.cameras]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise fail("duplicate_camera_name", f"duplicate camera names: {', '.join(dupes)}")
        return self
