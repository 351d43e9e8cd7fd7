"""Logging to a rotating, bounded file in the state folder (``$XDG_STATE_HOME/hero``).

At most ~4 MB on disk (1 MB x 4 files). Secrets are never logged: verbs log what they did,
not credentials. ``HERO_LOG_LEVEL`` sets the level (default INFO).
"""

from __future__ import annotations

import logging
import os

MAX_BYTES = 1_000_000
BACKUPS = 3
_configured = False


def setup() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    from logging.handlers import RotatingFileHandler

    from herotui import paths
    from herotui.errors import HeroError

    try:
        folder = paths.ensure_private_dir(paths.state_dir())
        handler = RotatingFileHandler(folder / "hero.log", maxBytes=MAX_BYTES, backupCount=BACKUPS, delay=True)
    except (OSError, HeroError):
        return  # logging must never stop Hero; the command itself reports an unwritable home
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("hero")
    root.addHandler(handler)
    root.setLevel(os.environ.get("HERO_LOG_LEVEL", "INFO").upper())
    root.propagate = False
