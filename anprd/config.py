"""The YAML configuration: typed, frozen objects, validated when loaded.

`load_config(path)` returns a `Config` or raises `ConfigError`, which carries *every*
problem of the file (not only the first), each with the file, the line where known, the
key path (``cameras[1].sample_fps``) and a message meant for an operator.

Relative paths in the file (``model.weights``, ``events.path``, ``events.snapshots`` and
camera URLs that are file paths) are resolved from the config file's folder, so that the
same file means the same thing whatever the working directory (systemd runs from ``/``).

Camera URLs may hold passwords (``rtsp://user:secret@host/...``): nothing here prints
one. Use `anprd.redact` before logging anything that may contain a URL. The wording of
problems and the YAML line map are `anprd.config_problems`; ROI geometry is
`anprd.polygons`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from anprd.config_problems import (
    ConfigError,
    Loc,
    Problem,
    _message,
    _show,
    _Yaml,
    format_path,
)
from anprd.config_types import (
    FROZEN,
    KNOWN_FORMATS,
    FormatName,
    Point,
    PosInt,
    fail,
    one_or_list,
    resolve_path,
)
from anprd.known_plates import PlateListConfig, list_problems
from anprd.polygons import _polygon_area, _self_intersection
from anprd.reads import DetectParams
from anprd.redact import _SCHEME_RE, redact_text, redact_url
from anprd.sinks.config import SinkConfig, sink_problems
from anprd.weights_check import weights_problem

# Readings less probable than this make no event (and are not listed by `detect`).
DEFAULT_MIN_CONFIDENCE = 0.6
# Used when `model.weights` is not given: the weights shipped in the repository.
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "anprd.keras"
# The reader of the shipped weights' candidates: the wider network of weights/wide.keras.
# The shipped network finds the plates; on the synthetic sets of the model card the wide
# reader alone reads more of them than the pair of both readers averaged
# (weights/MODEL_CARD.md, "Fine-tuned for real plates").
DEFAULT_READERS = (WEIGHTS_DIR / "wide.keras",)


def readers_for(weights: Path, reader_weights: Sequence[Path] = ()) -> tuple[Path, ...]:
    """The files whose readers read the candidates that `weights` finds: those given;
    else the shipped reader for the shipped weights, and any other file's own reader."""
    if reader_weights:
        return tuple(Path(w) for w in reader_weights)
    if Path(weights).resolve() == DEFAULT_WEIGHTS.resolve():
        return DEFAULT_READERS
    return (Path(weights),)

NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
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

    @field_validator("weights")
    @classmethod
    def _resolve_weights(cls, v: Path, info: ValidationInfo) -> Path:
        return resolve_path(v, info)

    @field_validator("reader_weights")
    @classmethod
    def _resolve_readers(cls, v: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        return tuple(resolve_path(p, info) for p in v)

    @property
    def readers(self) -> tuple[Path, ...]:
        return readers_for(self.weights, self.reader_weights)


_LISTEN_RE = re.compile(r"(?:\[(?P<ip6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\[\]\s]*)):(?P<port>\d+)")


class HttpConfig(BaseModel):
    """The HTTP endpoint: metrics, health checks and the recognition API."""

    model_config = FROZEN

    listen: Annotated[str, Field(strict=True)] = "127.0.0.1:9108"

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
    sinks: tuple[SinkConfig, ...] = ()
    state_dir: Path | None = None  # the sinks' queues; default: the events file's folder

    @field_validator("path", "snapshots", "state_dir")
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
    max_pixels: PosInt = 40_000_000
    max_concurrent: PosInt = 4
    token: Annotated[str | None, Field(strict=True, repr=False)] = None
    fetch_allowed_hosts: tuple[Annotated[str, Field(strict=True)], ...] = ()
    fetch_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 5.0
    # A whole request (line, headers, body) must arrive within this; idle keep-alive too.
    request_timeout_s: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)] = 30.0
    max_connections: Annotated[int, Field(strict=True, ge=4)] = 64
    max_connections_per_client: PosInt = 32
    # Memory that concurrent recognitions share; one that does not fit waits its turn (503).
    memory_budget_bytes: PosInt = 3 * 1024 * 1024 * 1024

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
        m = _SCHEME_RE.match(v)
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
        m = _SCHEME_RE.match(self.url)
        return m is None or m[1].lower() not in NETWORK_SCHEMES

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

    def camera(self, name: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        raise KeyError(name)


# --------------------------------------------------------------------------- loading

_SECTIONS = ("model", "http", "events", "api", "defaults")


def load_config(path: str | os.PathLike[str], *, check_files: bool = True) -> Config:
    """Read and validate a config file; relative paths in it are from its folder.

    `check_files=False` skips the check that the weights file exists (for tools and
    tests that never load the model).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([Problem(str(path), "", "not a UTF-8 text file")]) from None
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise ConfigError([Problem(str(path), "", f"cannot read the file: {reason}")]) from None
    return parse_config(text, source=str(path), base_dir=p.resolve().parent,
                        check_files=check_files)


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    base_dir: str | os.PathLike[str] | None = None,
    check_files: bool = True,
) -> Config:
    """Validate config text; `source` names it in problems, `base_dir` anchors paths."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    problems: list[Problem] = []

    def add(loc: Loc, message: str, line: int | None = None) -> None:
        problems.append(Problem(source, format_path(loc), redact_text(message), line))

    try:
        doc = _Yaml(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(str(s) for s in (e.context, e.problem) if s) or "invalid YAML"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        add((), f"YAML syntax error: {where}{what}", mark.line + 1 if mark else None)
        raise ConfigError(problems) from None
    except yaml.YAMLError as e:
        add((), f"YAML syntax error: {e}")
        raise ConfigError(problems) from None
    except RecursionError:  # PyYAML composes nested lists and mappings recursively
        add((), "the YAML is nested too deeply (lists or mappings hundreds of levels "
                 "inside each other)")
        raise ConfigError(problems) from None

    for loc, line, first in doc.duplicates:
        add(loc, f"key given twice (first on line {first}); the later one would win", line)

    data = doc.data
    if data is None:
        add((), "the file is empty; see config/anprd.example.yaml for what goes in it")
        raise ConfigError(problems)
    if not isinstance(data, dict):
        add((), f"the top level must be a mapping of sections (model, http, events, api, "
                 f"defaults, lists, cameras), got {_show(data)}")
        raise ConfigError(problems)

    data = dict(data)
    for key in _SECTIONS:  # "model:" with everything under it commented out
        if key in data and data[key] is None:
            data[key] = {}
    for key in ("cameras", "lists"):
        if key in data and data[key] is None:
            data[key] = []

    defaults = data.pop("defaults", {})
    if not isinstance(defaults, dict):
        add(("defaults",), f"expected a mapping of camera keys, got {_show(defaults)}",
            doc.line(("defaults",)))
        defaults = {}
    if "name" in defaults:
        add(("defaults", "name"), "every camera needs its own name; it cannot be a default",
            doc.line(("defaults", "name")))
        defaults = {k: v for k, v in defaults.items() if k != "name"}

    raw_cams = data.get("cameras")
    if isinstance(raw_cams, list):
        data["cameras"] = [_merge(defaults, c) if isinstance(c, dict) else c for c in raw_cams]

    context = {"base_dir": base}
    errors: list[tuple[Loc, dict[str, Any]]] = []
    if defaults:
        placeholder = {"name": "defaults", "url": "defaults.mp4", **defaults}
        try:
            CameraConfig.model_validate(placeholder, context=context)
        except ValidationError as e:
            errors += [(("defaults", *e_["loc"]), dict(e_)) for e_ in e.errors()]

    config: Config | None = None
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as e:
        for err in e.errors():
            loc = _untagged(tuple(err["loc"]))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                err = {**err, "type": "sink_type", "msg": _sink_type_message(err)}
            if err["type"] == "duplicate_camera_name":
                continue  # reported below, per camera, with its path
            if loc[:1] == ("cameras",) and len(loc) > 2 and isinstance(raw_cams, list):
                cam = raw_cams[loc[1]] if isinstance(loc[1], int) else None
                # The loc of a key that is not text has the key as text (1.5 as '1.5').
                rest = loc[2:-1] + (err["input"],) if err["type"] == "invalid_key" else loc[2:]
                if isinstance(cam, dict) and _from_defaults(cam, defaults, rest):
                    continue  # already reported under defaults.*
            errors.append((loc, dict(err)))

    for loc, err in errors:
        if err["type"] == "invalid_key":  # the key (5, null, true) is the last part of loc
            add(loc[:-1], f"key {_show(err['input'])} is not text", doc.line(loc[:-1]))
            continue
        root: type[BaseModel] = Config
        if loc[:1] == ("defaults",):
            root = CameraConfig
            err = {**err, "loc": loc[1:]}
        add(loc, _message(err, root), doc.line(loc))

    if isinstance(raw_cams, list):
        first_index: dict[str, int] = {}
        for i, cam in enumerate(data["cameras"]):
            name = cam.get("name") if isinstance(cam, dict) else None
            if not isinstance(name, str):
                continue
            if name in first_index:
                add(("cameras", i, "name"),
                    f"duplicate camera name '{name}' (also cameras[{first_index[name]}])",
                    doc.line(("cameras", i, "name")))
            else:
                first_index[name] = i

    if config is not None:
        late = list_problems(config.lists, (c.name for c in config.cameras))
        for loc, message in late + sink_problems(config.events.sinks):
            add(loc, message, doc.line(loc))

    if check_files:
        _check_weights(data.get("model"), base, add, doc)

    if problems:
        problems.sort(key=lambda p: p.line if p.line is not None else math.inf)
        raise ConfigError(problems)
    assert config is not None
    return config


def _untagged(loc: Loc) -> Loc:
    """A sink's loc without the type pydantic puts in it (events.sinks[0].webhook.url)."""
    if loc[:2] == ("events", "sinks") and len(loc) > 3 and loc[3] in ("mqtt", "webhook"):
        return loc[:3] + loc[4:]
    return loc


def _sink_type_message(err: dict[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "union_tag_not_found":
        return "a sink needs a type: mqtt or webhook"
    return f"unknown sink type {ctx.get('tag')!r}; known types: mqtt, webhook"


def _merge(defaults: dict[str, Any], camera: dict[str, Any]) -> dict[str, Any]:
    """Camera keys over defaults; mappings (``dedup``) are merged key by key."""
    out = dict(defaults)
    for key, value in camera.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _from_defaults(camera: dict[str, Any], defaults: dict[str, Any], rest: Loc) -> bool:
    """Whether the value at `rest` in the merged camera came from `defaults`."""
    key = rest[0]
    if key in camera:
        own, inherited = camera[key], defaults.get(key)
        if len(rest) > 1 and isinstance(own, dict) and isinstance(inherited, dict):
            return rest[1] not in own and rest[1] in inherited
        return False
    return key in defaults


def _check_weights(
    model: Any, base: Path, add: Callable[[Loc, str, int | None], None], doc: _Yaml
) -> None:
    if model is not None and not isinstance(model, dict):
        return  # a type error, already reported
    model = model or {}

    def path_of(w: str | Path) -> Path:
        return Path(os.path.normpath(base / Path(w).expanduser()))

    weights, readers = model.get("weights", DEFAULT_WEIGHTS), model.get("reader_weights")
    given = "(a relative path is taken from the config file's folder)"
    # (where, file, whether the file names it, what to say of a missing one)
    files: list[tuple[Loc, Any, bool, str]] = [(("model", "weights"), weights, "weights" in model,
                                                given)]
    if isinstance(readers, list):
        files += [(("model", "reader_weights", i), w, True, given) for i, w in enumerate(readers)]
    elif readers is not None:
        files.append((("model", "reader_weights"), readers, True, given))
    elif isinstance(weights, str | Path):
        # Not given: the readers the weights get by default (the shipped reader).
        files += [(("model", "reader_weights"), r, False, "(one of the shipped weights' "
                   "default readers)") for r in readers_for(path_of(weights))
                  if r != path_of(weights)]
    for loc, w, named, hint in files:
        if not isinstance(w, str | Path):
            continue  # a type error, already reported
        path = path_of(w)
        line = doc.line(loc) if named else None
        if path.is_dir():
            add(loc, f"is a folder, not a weights file: {path}", line)
        elif not path.is_file():
            add(loc, f"weights file not found: {path} {hint}", line)
        elif (problem := weights_problem(path)) is not None:
            add(loc, problem, line)

