"""Where Hero keeps things: every path in one small module.

Without ``HERO_HOME``: data in ``$XDG_DATA_HOME/hero``, config in ``$XDG_CONFIG_HOME/hero``,
state (logs, audit) in ``$XDG_STATE_HOME/hero``. With ``HERO_HOME`` set, all three live under
it (``HERO_HOME``, ``HERO_HOME/config``, ``HERO_HOME/state``), so one variable relocates
everything (tests always set it).
"""

from __future__ import annotations

import os
from pathlib import Path

from herotui.errors import HeroError

PACKAGE_DIR = Path(__file__).resolve().parent


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def hero_home() -> Path | None:
    value = os.environ.get("HERO_HOME")
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    home = hero_home()
    return home if home else _xdg("XDG_DATA_HOME", ".local/share") / "hero"


def config_dir() -> Path:
    home = hero_home()
    return home / "config" if home else _xdg("XDG_CONFIG_HOME", ".config") / "hero"


def state_dir() -> Path:
    home = hero_home()
    return home / "state" if home else _xdg("XDG_STATE_HOME", ".local/state") / "hero"


def contexts_dir() -> Path:
    return data_dir() / "contexts"


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only, or explain why not."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise HeroError(
            f"cannot create {path}: {exc.strerror or exc}",
            hint="check permissions, or point HERO_HOME at a writable folder",
        ) from None
    if not os.access(path, os.W_OK):
        raise HeroError(
            f"{path} is not writable",
            hint="check permissions, or point HERO_HOME at a writable folder",
        )
    return path


def resource(name: str) -> Path:
    """A shipped data folder (``commands``, ``contexts``, ``knowledge``).

    In an installed wheel they live in ``herotui/_data/<name>``; in a source checkout (and an
    editable install) at the top of the repository. This is the only place that knows.
    """
    packaged = PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / name
