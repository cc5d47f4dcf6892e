"""`http.listen` as an address to bind."""

from __future__ import annotations

import socket


def parse_listen(listen: str) -> tuple[str, int, socket.AddressFamily]:
    """`host:port`, `[v6]:port` or `:port` (all interfaces) to (host, port, family)."""
    text = listen.strip()
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"invalid listen address {listen!r}: expected [ipv6]:port")
        family = socket.AF_INET6
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError(f"invalid listen address {listen!r}: expected host:port")
        if ":" in host:
            raise ValueError(
                f"invalid listen address {listen!r}: write IPv6 addresses as [addr]:port"
            )
        host = host or "0.0.0.0"
        family = socket.AF_INET
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"invalid listen address {listen!r}: port must be 0-65535")
    return host, int(port_text), family
