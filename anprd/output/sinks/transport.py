"""What a sink's delivery thread needs of its transport (MQTT, webhook)."""

from __future__ import annotations

from typing import Any, Protocol

from anprd.output.sinks.queue import Message


class DeliveryError(Exception):
    """One delivery failed (receiver down, refused, timed out): it is retried."""


class Transport(Protocol):
    target: str  # where it delivers, fit for logs (no secrets)
    last_error: str | None

    def start(self) -> None:
        """Get ready (connect in the background); OSError for what cannot work at all."""

    def deliver(self, message: Message) -> None:
        """Deliver one event, or raise DeliveryError."""

    def send_test(self) -> str:
        """Deliver a test message; says where it went, or raises DeliveryError."""

    def camera_state(self, camera: str, state: dict[str, Any]) -> None:
        """The camera's state changed (a transport may ignore it)."""

    def close(self) -> None:
        """Stop; what is queued stays queued."""
