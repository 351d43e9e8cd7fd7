"""Logging to a rotating, bounded file in the state folder (``$XDG_STATE_HOME/hero``).

At most ~4 MB on disk (1 MB x 4 files). Secrets are never logged: verbs log what they did,
not credentials. ``HERO_LOG_LEVEL`` sets the level (default INFO). The files are owner-only
(0600) whatever the umask, and text that is not UTF-8 (a Latin-1 file name) is written
escaped (``\\udce9``) instead of failing the log call.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler

from herotui import paths, settings
from herotui.errors import HeroError

MAX_BYTES = 1_000_000
BACKUPS = 3
_configured = False


def _handler_class():
    class PrivateRotatingFileHandler(RotatingFileHandler):
        """Creates each file (the first, and each after a rollover) with mode 0600."""

        def _open(self):
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(self.baseFilename, flags, 0o600)
            try:
                if os.fstat(fd).st_mode & 0o077:  # made before, under a lax umask
                    os.fchmod(fd, 0o600)
                return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)
            except BaseException:
                os.close(fd)
                raise

    return PrivateRotatingFileHandler


def setup() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    try:
        folder = paths.ensure_private_dir(paths.state_dir())
        handler = _handler_class()(folder / "hero.log", maxBytes=MAX_BYTES, backupCount=BACKUPS, delay=True,
                                   encoding="utf-8", errors="backslashreplace")
    except (OSError, HeroError):
        return  # logging must never stop Hero; the command itself reports an unwritable home
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("hero")
    root.addHandler(handler)
    root.setLevel(settings.get().HERO_LOG_LEVEL.upper())
    root.propagate = False
