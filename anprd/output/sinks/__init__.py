"""Where events go after the events log: a durable queue per sink, and its delivery.

`queue` (SQLite, on disk), `delivery` (a thread per sink, and `Sinks`, the daemon's
handle), and the transports `mqtt` and `webhook`; their config models are
`anprd.config.sinks`.
"""
