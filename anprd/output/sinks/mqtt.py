"""The MQTT sink (paho-mqtt): events, camera states, a last will and Home Assistant discovery.

Topics, under `topic_prefix` (default ``anprd``):

- ``<prefix>/<camera>/event``: one JSON message per event, QoS 1, not retained;
- ``<prefix>/<camera>/state``: the camera's state and last plate, JSON, retained;
- ``<prefix>/status``: ``online`` while connected, ``offline`` (the last will, or said
  on a clean stop), retained;
- ``<discovery_prefix>/sensor/anprd_<camera>/last_plate/config``: with
  ``homeassistant: true``, a Home Assistant sensor per camera showing its last plate.

paho's network thread connects and reconnects in the background; `deliver` publishes
only while connected and returns once the broker has acknowledged (PUBACK).
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from typing import Any

from anprd import __version__
from anprd.config.sinks import MqttSinkConfig, read_secret
from anprd.output.sinks.queue import Message
from anprd.output.sinks.transport import DeliveryError

log = logging.getLogger("anprd.sinks.mqtt")


class MqttTransport:
    def __init__(self, config: MqttSinkConfig) -> None:
        import paho.mqtt.client as mqtt

        self.config = config
        self.target = config.target
        self.prefix = config.topic_prefix
        self._mqtt = mqtt
        self._client: Any = None
        self._lock = threading.Lock()
        self._states: dict[str, dict[str, Any]] = {}
        self._announced: set[str] = set()
        self.last_error: str | None = "not connected yet"
        self._tried = threading.Event()  # a first connection attempt ended

    # ------------------------------------------------------------------------ life
    def start(self) -> None:
        """Start connecting (in the background); OSError for a secret file or TLS file
        that cannot be read."""
        mqtt, cfg = self._mqtt, self.config
        client_id = cfg.client_id or f"anprd-{socket.gethostname()}"
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv311, clean_session=True)
        password = read_secret(cfg.password_file) if cfg.password_file else cfg.password
        if cfg.username is not None or password is not None:
            client.username_pw_set(cfg.username or "", password)
        if cfg.tls is not None:
            try:
                client.tls_set(
                    ca_certs=str(cfg.tls.ca_file) if cfg.tls.ca_file else None,
                    certfile=str(cfg.tls.cert_file) if cfg.tls.cert_file else None,
                    keyfile=str(cfg.tls.key_file) if cfg.tls.key_file else None,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as e:
                raise OSError(f"cannot set up TLS for {self.target}: {e}") from None
            client.tls_insecure_set(cfg.tls.insecure)
        client.will_set(self._topic("status"), "offline", qos=1, retain=True)
        client.reconnect_delay_set(1, max(1, int(cfg.retry_max_s)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.connect_async(cfg.host, cfg.broker_port, keepalive=cfg.keepalive_s)
        self._client = client
        client.loop_start()

    def close(self) -> None:
        client = self._client
        if client is None:
            return
        if client.is_connected():
            try:
                client.publish(self._topic("status"), "offline", qos=1, retain=True
                               ).wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                pass
        client.disconnect()
        client.loop_stop()
        self._client = None

    # -------------------------------------------------------------------- delivery
    def deliver(self, message: Message) -> None:
        self._tried.wait(self.config.timeout_s)  # at start: the first attempt to connect
        client = self._client
        if client is None or not client.is_connected():
            raise DeliveryError(f"not connected to {self.target}: {self.last_error}")
        topic = self._topic(message.camera, "event")
        self._publish_and_wait(client, topic, message.body)
        try:
            event = json.loads(message.body)
        except ValueError:
            return
        self.camera_state(message.camera, {
            "last_plate": event.get("plate"), "last_event_id": event.get("id"),
            "last_seen": event.get("last_seen"), "last_list": event.get("list"),
            "last_label": event.get("label"),
        })

    def send_test(self) -> str:
        """Publish one test message (`anprd sinks test`); where it went."""
        self._tried.wait(self.config.timeout_s)
        client = self._client
        if client is None or not client.is_connected():
            raise DeliveryError(f"not connected to {self.target}: {self.last_error}")
        topic = self._topic("test")
        body = json.dumps({"test": True, "from": f"anprd {__version__}"}).encode()
        self._publish_and_wait(client, topic, body)
        return f"{self.target}, topic {topic}"

    def _publish_and_wait(self, client: Any, topic: str, body: bytes) -> None:
        timeout = self.config.timeout_s
        try:
            info = client.publish(topic, body, qos=1)
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as e:
            raise DeliveryError(f"publish to {self.target} failed: {e}") from None
        if not info.is_published():
            raise DeliveryError(f"no acknowledgement from {self.target} within {timeout:g}s")

    def camera_state(self, camera: str, state: dict[str, Any]) -> None:
        """Merge `state` into the camera's retained state message and publish it."""
        with self._lock:
            merged = {**self._states.get(camera, {"camera": camera}), **state}
            self._states[camera] = merged
        client = self._client
        if client is not None and client.is_connected():
            self._announce(client, camera)
            client.publish(self._topic(camera, "state"), json.dumps(merged), qos=1, retain=True)

    # ------------------------------------------------------------------- callbacks
    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any,
                    _properties: Any) -> None:
        self._tried.set()
        if reason.is_failure:
            self.last_error = f"the broker refused the connection: {reason}"
            log.warning("mqtt %s: %s", self.target, self.last_error)
            return
        self.last_error = None
        log.info("mqtt: connected to %s", self.target)
        client.publish(self._topic("status"), "online", qos=1, retain=True)
        with self._lock:
            states = dict(self._states)
            self._announced.clear()
        for camera, state in states.items():
            self._announce(client, camera)
            client.publish(self._topic(camera, "state"), json.dumps(state), qos=1, retain=True)

    def _on_disconnect(self, _client: Any, _userdata: Any, _flags: Any, reason: Any,
                       _properties: Any) -> None:
        self.last_error = ("the broker closed the connection" if str(reason) ==
                           "Unspecified error" else f"disconnected ({reason})")

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        """paho gives no reason: find it with a plain connection attempt."""
        cfg = self.config
        try:
            with socket.create_connection((cfg.host, cfg.broker_port), timeout=cfg.timeout_s):
                reason = "the connection was closed during the MQTT handshake"
        except OSError as e:
            reason = e.strerror or str(e) or type(e).__name__
        self.last_error = f"cannot connect: {reason}"
        self._tried.set()

    def _announce(self, client: Any, camera: str) -> None:
        """Home Assistant discovery of the camera's last-plate sensor (once per connection)."""
        if not self.config.homeassistant or camera in self._announced:
            return
        self._announced.add(camera)
        state_topic = self._topic(camera, "state")
        config = {
            "name": "Last plate",
            "unique_id": f"anprd_{camera}_last_plate",
            "state_topic": state_topic,
            "value_template": "{{ value_json.last_plate }}",
            "json_attributes_topic": state_topic,
            "availability_topic": self._topic("status"),
            "payload_available": "online",
            "payload_not_available": "offline",
            "icon": "mdi:car",
            "device": {
                "identifiers": [f"anprd_{camera}"],
                "name": f"anprd {camera}",
                "manufacturer": "anprd",
                "model": "plate camera",
                "sw_version": __version__,
            },
        }
        topic = f"{self.config.discovery_prefix}/sensor/anprd_{camera}/last_plate/config"
        client.publish(topic, json.dumps(config), qos=1, retain=True)

    def _topic(self, *parts: str) -> str:
        return "/".join((self.prefix, *parts))
