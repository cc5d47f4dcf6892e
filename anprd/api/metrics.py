"""The HTTP server's own Prometheus metrics: requests, recognitions, connections."""

from __future__ import annotations

import threading
import weakref

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class _ApiMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.requests = Counter(
            "anprd_http_requests",
            "HTTP requests answered, by route and status code",
            ["route", "code"],
            registry=registry,
        )
        self.recognize_seconds = Histogram(
            "anprd_recognize_seconds",
            "Time to answer a successful POST /v1/recognize (body read, decode, detection)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
            registry=registry,
        )
        self.recognize_in_flight = Gauge(
            "anprd_recognize_in_flight",
            "POST /v1/recognize requests being processed",
            registry=registry,
        )
        self.connections_refused = Counter(
            "anprd_http_connections_refused",
            "Connections refused because too many were open",
            registry=registry,
        )
        self.connections_reserved = Counter(
            "anprd_http_connections_reserved",
            "Connections beyond the API's slots, served for health and metrics only",
            registry=registry,
        )


_metrics_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, _ApiMetrics] = (
    weakref.WeakKeyDictionary()
)
_metrics_lock = threading.Lock()


def api_metrics(registry: CollectorRegistry) -> _ApiMetrics:
    """One set of API metrics per registry, so that a restarted server can reuse it."""
    with _metrics_lock:
        m = _metrics_by_registry.get(registry)
        if m is None:
            m = _metrics_by_registry[registry] = _ApiMetrics(registry)
        return m
