"""Where Hero keeps things: every path in one small module.

Without ``HERO_HOME``: data in ``$XDG_DATA_HOME/hero``, config in ``$XDG_CONFIG_HOME/hero``,
state (logs, audit) in ``$XDG_STATE_HOME/hero``. With ``HERO_HOME`` set, all three live under
it (``HERO_HOME``, ``HERO_HOME/config``, ``HERO_HOME/state``), so one variable relocates
everything (tests always set it).
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path

from herotui.errors import HeroError, InvalidInput

PACKAGE_DIR = Path(__file__).resolve().parent


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def hero_home() -> Path | None:
    from herotui import settings  # light: the standard library only (``import herotui.paths`` stays as cheap)

    value = settings.get().HERO_HOME
    return value.expanduser() if value else None


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
    import tempfile  # lazy: ~10 modules (random, shutil) that 'import herotui.paths' does not pay for

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


# --------------------------------------------------------------------------- file roots


class FileRoots:
    """The folders a remote client (MCP, RPC) may have Hero read files from and write to.

    A front-end serving clients that are not the user at a terminal sets :data:`FILE_ROOTS`
    for each call; every place a verb opens a user's file (``services.common`` and the
    document walk) asks :func:`check_root` first, with the real path of what it opened, so a
    symbolic link inside an allowed folder cannot lead out of it. The CLI, the TUI and the
    planner at a terminal set nothing: the user may name any file there.

    Defaults (see :func:`served_roots`): reads and writes only under ``<data>/exports``;
    ``--root DIR`` on the server, or ``HERO_FILE_ROOTS`` (``os.pathsep``-separated), adds
    folders for both. A relative path given by a client is taken under the first root.
    """

    def __init__(self, folders: list[Path], readable: list[Path] = ()) -> None:
        self.folders = tuple(dict.fromkeys(os.path.realpath(f) for f in folders))
        self.readable = tuple(dict.fromkeys(os.path.realpath(f) for f in readable))

    def allows(self, real: str, write: bool = False) -> bool:
        folders = self.folders if write else self.folders + self.readable
        return any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in folders)

    def place(self, path: str) -> str:
        """A client's relative path, taken under the first root (where exports land by default)."""
        if not isinstance(path, str) or not path or path == "-" or os.path.isabs(path) or path.startswith("~") \
                or not self.folders:
            return path  # absolute (or ~): checked as given
        return os.path.join(self.folders[0], path)

    def describe(self) -> str:
        return ", ".join(self.folders) or "none"


FILE_ROOTS: ContextVar[FileRoots | None] = ContextVar("hero_file_roots", default=None)


def served_roots(extra: list[str] | None = None) -> FileRoots:
    """The roots of a server: ``<data>/exports`` (made on demand), ``HERO_FILE_ROOTS`` and
    ``extra``; Hero's own shipped data (the demo, the manual) may be read too."""
    exports = data_dir() / "exports"
    folders = [exports]
    from herotui import settings  # lazy, as in hero_home

    env = settings.get().HERO_FILE_ROOTS or ""
    folders += [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    folders += [Path(p).expanduser() for p in extra or [] if p.strip()]
    try:
        ensure_private_dir(exports)
    except HeroError:
        pass  # a read-only data folder: the export fails later with its own clear error
    return FileRoots(folders, [resource("contexts"), resource("knowledge")])


def check_root(path: str | Path, *, write: bool = False, fd: int | None = None) -> None:
    """Refuse ``path`` when a served client may not use it (see :class:`FileRoots`).

    With ``fd`` (the file just opened), the real path of that open file is checked
    (``/proc/self/fd``), so no link swapped in between a check and the open can lead out.
    """
    roots = FILE_ROOTS.get()
    if roots is None:
        return
    real = None
    if fd is not None:
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            real = None
    if real is None:
        real = os.path.realpath(path)
    if not roots.allows(real, write):
        what = "write" if write else "read"
        raise InvalidInput(f"cannot {what} {os.fsdecode(path)}: outside the folders this server may use ({roots.describe()})",
                           hint="the user can allow a folder: start the server with --root DIR (or set HERO_FILE_ROOTS)")
