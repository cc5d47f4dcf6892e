"""Logging set-up: one line per message on stderr, journald-friendly under systemd."""

from __future__ import annotations

import logging
import os
import sys


class JournalFormatter(logging.Formatter):
    """Under systemd: no time stamp (journald adds one) and a `<N>` syslog priority
    prefix, so that `journalctl -p warning -u anprd` finds warnings and errors."""

    PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4),
                  (logging.INFO, 6))

    def format(self, record: logging.LogRecord) -> str:
        prio = next((p for level, p in self.PRIORITIES if record.levelno >= level), 7)
        return f"<{prio}>" + super().format(record).replace("\n", "\n" + f"<{prio}>")


def setup_logging(level: str = "INFO") -> None:
    """One line per message on stderr; journald-friendly when run by systemd."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


