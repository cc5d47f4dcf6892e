"""Where events go after the events log: a durable queue per sink, and its delivery.

`config` (the `events.sinks` models), `queue` (SQLite, on disk), `delivery` (a thread per
sink, and `Sinks`, the daemon's handle), and the transports `mqtt` and `webhook`.
"""
