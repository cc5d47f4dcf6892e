"""SIGHUP: the config read again, and what differs from the running one."""

from __future__ import annotations

import logging
from pathlib import Path

from anprd.config.load import ConfigError, load_config
from anprd.config.sections import Config
from anprd.redact import redact_text

log = logging.getLogger("anprd.daemon")

# Sections read once at start: a change to them is logged, and waits for a restart. (A
# changed `model` is loaded beside the running one and swapped in: Daemon.reload.)
RESTART_SECTIONS = ("http", "events")


def read_again(path: Path) -> Config | None:
    """The config file validated again, or None (its problems logged)."""
    try:
        # The weights are in memory already: a missing file is no reason to refuse.
        return load_config(path, check_files=False)
    except ConfigError as e:
        for problem in e.problems:
            log.error("%s", problem)
        log.error("reload refused (%d problems): keeping the running config", len(e.problems))
    except Exception as e:  # noqa: BLE001
        log.error("reload refused: %s; keeping the running config", redact_text(str(e)))
    return None


def sections_needing_restart(old: Config, new: Config) -> list[str]:
    return [s for s in RESTART_SECTIONS if getattr(new, s) != getattr(old, s)]


def camera_changes(old: Config, new: Config) -> tuple[list[str], list[str], list[str]]:
    """The enabled cameras added, removed and changed, by name."""
    old_cams = {c.name: c for c in old.cameras if c.enabled}
    new_cams = {c.name: c for c in new.cameras if c.enabled}
    added = [n for n in new_cams if n not in old_cams]
    removed = [n for n in old_cams if n not in new_cams]
    changed = [n for n in new_cams if n in old_cams and new_cams[n] != old_cams[n]]
    return added, removed, changed
