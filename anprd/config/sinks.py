"""`events.sinks`: where events go besides the JSONL log (MQTT brokers, webhooks).

Secrets (an MQTT password, a webhook's HMAC secret or bearer token) are best given as
files (`*_file`), read when the sink starts; none is ever part of a repr, a log line or
an error message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from anprd.config.fields import FROZEN, PosInt, fail, resolve_path
from anprd.redact import redact_url

SINK_NAME_RE = re.compile(r"[a-z0-9_-]+")
TOPIC_RE = re.compile(r"[^\s#+]+")  # no wildcards, no spaces; slashes allowed
Seconds = Annotated[float, Field(strict=False, gt=0, allow_inf_nan=False)]
Port = Annotated[int, Field(strict=True, ge=1, le=65535)]


def _readable_file(v: Path, info: ValidationInfo) -> Path:
    path = resolve_path(v, info)
    if path.is_dir():
        raise fail("secret_file", f"is a folder, not a file: {path}")
    if not path.is_file():
        raise fail("secret_file", f"file not found: {path}")
    if not os.access(path, os.R_OK):
        raise fail("secret_file", f"cannot read {path}: permission denied")
    return path


# A file the sink reads at start (a secret, a certificate): it must be there and readable.
ReadableFile = Annotated[Path, AfterValidator(_readable_file)]


def read_secret(path: Path) -> str:
    """A secret file's text without its trailing newline (OSError naming the file)."""
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as e:
        raise OSError(f"cannot read the secret file {path}: "
                      f"{getattr(e, 'strerror', None) or e}") from None


class SinkBase(BaseModel):
    """What every sink has: its name, its queue's bounds and its retry pace."""

    model_config = FROZEN

    name: Annotated[str | None, Field(strict=True)] = None  # default: the type
    max_queue: PosInt = 100_000  # events waiting; beyond, the oldest are dropped
    max_queue_bytes: PosInt = 256 * 1024 * 1024
    retry_initial_s: Seconds = 0.5
    retry_max_s: Seconds = 60.0
    timeout_s: Seconds = 10.0  # for one delivery

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str | None) -> str | None:
        if v is not None and not SINK_NAME_RE.fullmatch(v):
            raise fail("sink_name", f"must use only lowercase letters, digits, '-' and '_' "
                                    f"(got {v!r})")
        return v

    @property
    def label(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]


class TlsConfig(BaseModel):
    model_config = FROZEN

    ca_file: ReadableFile | None = None  # default: the system's CAs
    cert_file: ReadableFile | None = None  # a client certificate, with key_file
    key_file: ReadableFile | None = None
    insecure: Annotated[bool, Field(strict=True)] = False  # skip the host name check

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise fail("tls", "cert_file and key_file go together: give both or neither")
        return self


class MqttSinkConfig(SinkBase):
    """An MQTT broker: events on <prefix>/<camera>/event, states on <prefix>/<camera>/state."""

    type: Literal["mqtt"]
    host: Annotated[str, Field(strict=True, min_length=1)]
    port: Port | None = None  # default: 1883, or 8883 with TLS
    topic_prefix: Annotated[str, Field(strict=True)] = "anprd"
    client_id: Annotated[str | None, Field(strict=True)] = None  # default: anprd-<host name>
    username: Annotated[str | None, Field(strict=True)] = None
    password: Annotated[str | None, Field(strict=True, repr=False)] = None
    password_file: ReadableFile | None = None
    tls: TlsConfig | None = None
    keepalive_s: Annotated[int, Field(strict=True, ge=5, le=3600)] = 30
    homeassistant: Annotated[bool, Field(strict=True)] = False  # MQTT discovery
    discovery_prefix: Annotated[str, Field(strict=True)] = "homeassistant"

    @field_validator("host")
    @classmethod
    def _check_host(cls, v: str) -> str:
        if "://" in v or "/" in v or any(c.isspace() for c in v):
            raise fail("host", f"expected a host name or address like 127.0.0.1, not a URL: "
                               f"{redact_url(v)!r}")
        return v

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _check_topic(cls, v: str) -> str:
        v = v.strip("/")
        if not TOPIC_RE.fullmatch(v):
            raise fail("topic", f"must be a topic without spaces, '+' or '#' (got {v!r})")
        return v

    @model_validator(mode="after")
    def _one_password(self) -> MqttSinkConfig:
        if self.password is not None and self.password_file is not None:
            raise fail("password", "give password or password_file, not both")
        return self

    @property
    def broker_port(self) -> int:
        return self.port or (8883 if self.tls is not None else 1883)

    @property
    def target(self) -> str:
        scheme = "mqtts" if self.tls is not None else "mqtt"
        return f"{scheme}://{self.host}:{self.broker_port}"


class WebhookSinkConfig(SinkBase):
    """An HTTP receiver: each event POSTed as JSON (or multipart with its snapshot)."""

    type: Literal["webhook"]
    url: Annotated[str, Field(strict=True)]
    secret_file: ReadableFile | None = None  # HMAC-SHA256 of the body: X-Anprd-Signature
    token_file: ReadableFile | None = None  # Authorization: Bearer <token>
    snapshot: Annotated[bool, Field(strict=True)] = False

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        v = v.strip()
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https"):
            raise fail("url", f"expected an http:// or https:// URL, got {redact_url(v)!r}")
        if not parts.hostname:
            raise fail("url", f"has no host: {redact_url(v)!r}")
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number or too big)
        except ValueError:
            raise fail("url", f"the port is not a number from 1 to 65535: "
                              f"{redact_url(v)!r}") from None
        return v

    @property
    def target(self) -> str:
        return redact_url(self.url)


SinkConfig = Annotated[MqttSinkConfig | WebhookSinkConfig, Field(discriminator="type")]


def sink_problems(sinks: Sequence[SinkConfig]) -> list[tuple[tuple[str | int, ...], str]]:
    """Two sinks with one name would share a queue: each needs its own."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen: dict[str, int] = {}
    for i, sink in enumerate(sinks):
        if sink.label in seen:
            problems.append((("events", "sinks", i, "name"),
                             f"another sink is named '{sink.label}' (events.sinks"
                             f"[{seen[sink.label]}]); give each sink its own name"))
        seen.setdefault(sink.label, i)
    return problems
