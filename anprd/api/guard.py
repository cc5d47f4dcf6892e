"""Who may hold the HTTP server's connections, and for how long.

- **Slots.** At most `max_connections` connections are served, and at most
  `max_connections_per_client` from one address, so that one client cannot take them
  all.
- **Reserve.** Beyond those, `HEALTH_RESERVE` more connections are taken, for health
  and metrics only: `/healthz`, `/readyz` and `/metrics` stay answerable however the
  API's slots are held. Any other route there is answered 503, and each such
  connection has `RESERVE_DEADLINE_S` for its one request. When the reserve is full, a
  new connection takes the place of the oldest reserved one whose request has not
  arrived (a probe sends its request at once; a trickler does not), so slow clients
  cannot hold the reserve either.
- **Deadlines.** A request has `request_timeout_s` in all to arrive, request line,
  headers and body together (a socket time-out only bounds the gap between two reads):
  a client that trickles a byte at a time is cut off when its time is up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

HEALTH_RESERVE = 8
RESERVE_DEADLINE_S = 5.0
HEALTH_ROUTES = ("/healthz", "/readyz", "/metrics")
GRACE_S = 1.0  # past the deadline, so that a plain socket time-out answers 408 first


@dataclass(eq=False)
class Admission:
    client: str
    reserved: bool
    cut: Callable[[], None]  # closes the connection; callable from any thread
    started: float = 0.0
    arrived: bool = False  # the request line and headers are in
    evicted: bool = False


class ConnectionGuard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._normal = 0
        self._reserve: list[Admission] = []
        self._per_client: dict[str, int] = {}
        self._deadlines: dict[int, tuple[Callable[[], None], float]] = {}
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # -------------------------------------------------------------------- slots
    def admit(self, client: str, cut: Callable[[], None], max_connections: int,
              per_client: int) -> Admission | None:
        """A place for a new connection from `client`, or None (refuse it)."""
        now = time.monotonic()
        evict = None
        with self._lock:
            mine = self._per_client.get(client, 0)
            if self._normal < max_connections and mine < min(per_client, max_connections):
                self._normal += 1
                self._per_client[client] = mine + 1
                return Admission(client, False, cut, now)
            if len(self._reserve) >= HEALTH_RESERVE:
                slow = [a for a in self._reserve if not a.arrived]
                if not slow:
                    return None
                evict = min(slow, key=lambda a: a.started)
                evict.evicted = True
                self._reserve.remove(evict)
            admission = Admission(client, True, cut, now)
            self._reserve.append(admission)
        if evict is not None:
            evict.cut()
        return admission

    def arrived(self, admission: Admission | None) -> None:
        if admission is not None:
            admission.arrived = True

    def release(self, admission: Admission) -> None:
        with self._lock:
            if admission.reserved:
                if not admission.evicted:
                    self._reserve.remove(admission)
                return
            self._normal -= 1
            left = self._per_client.get(admission.client, 1) - 1
            if left > 0:
                self._per_client[admission.client] = left
            else:
                self._per_client.pop(admission.client, None)

    # ----------------------------------------------------------------- deadlines
    def watch(self, admission: Admission, seconds: float) -> None:
        """Cut the connection off if it is still watched `seconds` (plus a grace) from now."""
        with self._lock:
            self._deadlines[id(admission)] = (admission.cut,
                                              time.monotonic() + seconds + GRACE_S)

    def unwatch(self, admission: Admission) -> None:
        with self._lock:
            self._deadlines.pop(id(admission), None)

    def start(self) -> None:
        self._reaper = threading.Thread(target=self._reap, name="anprd-http-deadlines",
                                        daemon=True)
        self._reaper.start()

    def stop(self) -> None:
        self._stop.set()
        if self._reaper is not None:
            self._reaper.join(2)

    def _reap(self) -> None:
        while not self._stop.wait(0.25):
            now = time.monotonic()
            with self._lock:
                late = [k for k, (_s, t) in self._deadlines.items() if t <= now]
                cuts = [self._deadlines.pop(k)[0] for k in late]
            for cut in cuts:
                cut()
