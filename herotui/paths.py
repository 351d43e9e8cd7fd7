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
    """Create ``path`` (and parents) readable by the owner only, or explain why not.

    Every folder this creates, the missing parents too (``HERO_HOME`` itself, or
    ``~/.local/share`` as the XDG base directory spec asks), is 0700 whatever the umask;
    ``path`` itself is made 0700 if it exists with more. Existing parents are left alone.
    """
    try:
        missing = []
        folder = path
        while not folder.exists():
            missing.append(folder)
            if folder.parent == folder:
                break
            folder = folder.parent
        for folder in reversed(missing):
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                continue  # another process made it meanwhile
            folder.chmod(0o700)  # the umask only removes bits, but may remove the owner's too
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


PRIVATE_FILE = 0o600


def make_private(path: Path | str) -> None:
    """Make a file Hero keeps (database, profile, log) owner-only (0600) if it is not.

    For files created by code that cannot be given a mode (DuckDB, a library's writer); where
    Hero opens the file itself it passes 0o600 to ``os.open`` (see :func:`write_private`).
    Quietly does nothing if the file is missing or not ours to change.
    """
    try:
        st = os.stat(path, follow_symlinks=False)
        if st.st_mode & 0o077 and not os.path.islink(path):
            os.chmod(path, st.st_mode & 0o700 | 0o600)
    except OSError:
        pass


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` atomically with ``data`` in an owner-only (0600) file, whatever the umask."""
    import tempfile

    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def resource(name: str) -> Path:
    """A shipped data folder (``commands``, ``contexts``, ``knowledge``).

    In an installed wheel they live in ``herotui/_data/<name>``; in a source checkout (and an
    editable install) at the top of the repository. This is the only place that knows.
    """
    packaged = PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / name
