"""The webhook sink (requests): each event POSTed to a URL; any 2xx answer delivers it.

The body is the event's JSON; with `snapshot: true` and a snapshot on disk it is
multipart/form-data instead, with the parts ``event`` (the JSON) and ``snapshot`` (the
JPEG). Headers: ``X-Anprd-Event-Id`` (drop duplicates by it: delivery is at least once),
``X-Anprd-Signature: sha256=<hex>`` (HMAC-SHA256 of the exact body with the secret of
`secret_file`) and ``Authorization: Bearer`` (the token of `token_file`), each when set.
Redirects are not followed: a 3xx is retried like any other answer but 2xx.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from anprd import __version__
from anprd.config.sinks import WebhookSinkConfig, read_secret
from anprd.output.sinks.queue import Message
from anprd.output.sinks.transport import DeliveryError
from anprd.redact import redact_text


def signature(secret: str, body: bytes) -> str:
    """The X-Anprd-Signature value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport:
    def __init__(self, config: WebhookSinkConfig) -> None:
        self.config = config
        self.target = config.target
        self.last_error: str | None = None
        self._session: Any = None
        self._secret: str | None = None
        self._token: str | None = None

    def start(self) -> None:
        import requests

        cfg = self.config
        self._secret = read_secret(cfg.secret_file) if cfg.secret_file else None
        self._token = read_secret(cfg.token_file) if cfg.token_file else None
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"anprd/{__version__}"

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def deliver(self, message: Message) -> None:
        snapshot = None
        if self.config.snapshot:
            snapshot = _snapshot_of(message.body)
        self._post(message.body, message.event_id, snapshot)

    def send_test(self) -> str:
        body = json.dumps({"test": True, "from": f"anprd {__version__}"}).encode()
        status = self._post(body, "test", None)
        return f"{self.target} (HTTP {status})"

    def camera_state(self, camera: str, state: dict[str, Any]) -> None:
        pass  # a webhook gets events only

    def _post(self, body: bytes, event_id: str, snapshot: Path | None) -> int:
        import requests

        if self._session is None:
            raise DeliveryError("the webhook sink is not started")
        headers = {"X-Anprd-Event-Id": event_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if snapshot is not None:
            request = requests.Request(
                "POST", self.config.url, headers=headers,
                files={"event": (None, body, "application/json"),
                       "snapshot": (snapshot.name, snapshot.read_bytes(), "image/jpeg")},
            )
        else:
            headers["Content-Type"] = "application/json"
            request = requests.Request("POST", self.config.url, headers=headers, data=body)
        prepared = self._session.prepare_request(request)
        if self._secret:
            prepared.headers["X-Anprd-Signature"] = signature(self._secret, prepared.body)
        try:
            response = self._session.send(prepared, timeout=self.config.timeout_s,
                                          allow_redirects=False)
            response.close()
        except requests.RequestException as e:
            raise DeliveryError(f"POST to {self.target} failed: {_reason(e)}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"{self.target} answered HTTP {response.status_code}")
        return response.status_code


def _snapshot_of(body: bytes) -> Path | None:
    try:
        path = json.loads(body).get("snapshot")
    except (ValueError, AttributeError):
        return None
    if isinstance(path, str) and Path(path).is_file():
        return Path(path)
    return None


def _reason(e: Exception) -> str:
    """A short reason: requests' messages nest the whole chain of causes."""
    text = str(e)
    for known in ("Connection refused", "timed out", "Name or service not known",
                  "Connection reset", "Remote end closed"):
        if known in text:
            return known.lower()
    return redact_text(" ".join(text.split()))[:200]
