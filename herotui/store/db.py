"""DuckDB access for one verb call: open, retry lock conflicts, migrate, close.

DuckDB allows one read-write process per file (a writer excludes every other process,
readers share) and fails at once on a conflict. Hero therefore holds a connection only for
the duration of one verb call and retries a conflict with jittered backoff until
``HERO_LOCK_TIMEOUT`` seconds (default 20) have passed, then reports "context busy (held by
PID n)". While a writer holds the database it also updates the index, so the database
lock doubles as the mutex that keeps the index in step.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from herotui import settings
from herotui.errors import ContextBusy, HeroError
from herotui.store.schema import MIGRATIONS

if TYPE_CHECKING:
    from herotui.contexts import Context

log = logging.getLogger("hero.store")
_PID_RE = re.compile(r"PID (\d+)")


def lock_timeout() -> float:
    """``HERO_LOCK_TIMEOUT`` (a value that is not a number: the default, 20 s)."""
    return settings.get().HERO_LOCK_TIMEOUT


def retry_locked(what: str, ctx_name: str, attempt, is_lock_error, holder=lambda exc: None):
    """Call ``attempt()`` until it stops failing with a lock error, or the bound passes."""
    deadline = time.monotonic() + lock_timeout()
    delay = 0.004
    while True:
        try:
            return attempt()
        except Exception as exc:
            if not is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                pid = holder(exc)
                held = f" (held by PID {pid})" if pid else ""
                raise ContextBusy(
                    f"context '{ctx_name}' is busy{held}: its {what} stayed locked for {lock_timeout():g}s",
                    hint="wait for the other Hero process to finish, or raise HERO_LOCK_TIMEOUT",
                ) from None
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.5, 0.08)


class _Locked:
    """A DuckDB connection that also holds Hero's own lock on the context until closed."""

    def __init__(self, conn, fd: int) -> None:
        self._conn, self._fd = conn, fd

    def __getattr__(self, name: str):
        return getattr(self._conn, name)

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            if self._fd is not None:
                os.close(self._fd)  # releases the flock, only after DuckDB has closed the file
                self._fd = None


def _flock(ctx: Context, exclusive: bool) -> int:
    """Hero's own lock (``hero.lock``; exclusive to write, shared to read).

    DuckDB's lock alone is not enough: with processes opening and closing one file in quick
    succession it was seen to lose a committed write or fail with "Could not read enough
    bytes" (its WAL is removed after its lock is released). Holding our lock until DuckDB has
    closed the file serialises that window away. The holder's PID is written in the file for
    the "busy (held by PID n)" message.
    """
    import fcntl  # lazy: 'import herotui.store.db' (a start-up path) stays as light

    from herotui import paths  # lazy: 'import herotui.store.db' (a start-up path) stays as light

    if not ctx.path.is_dir():
        paths.ensure_private_dir(ctx.path)  # 0700, parents too, whatever the umask
    fd = os.open(ctx.path / "hero.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB

    def holder(exc: Exception) -> str | None:
        text = os.pread(fd, 32, 0).decode(errors="ignore").split()
        return text[0] if text and text[0].isdigit() else None

    nudged = [0.0]

    def attempt():
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            if _RESIDENT is None and time.monotonic() - nudged[0] > 0.5:
                nudged[0] = time.monotonic()
                nudge_server(fd)  # the resident server holds it: ask it to let go
            raise

    try:
        retry_locked("database", ctx.name, attempt, lambda e: isinstance(e, BlockingIOError), holder)
        if exclusive:
            os.ftruncate(fd, 0)
            tag = " serve" if _RESIDENT is not None else ""
            os.pwrite(fd, f"{os.getpid()}{tag}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def nudge_server(fd: int) -> None:
    """The lock is held by ``hero serve`` (its line says "PID serve"): send it SIGUSR1, which
    makes it close the stores it is not using right now, so this process gets its turn.

    The PID is checked to be a Hero server of this user before anything is sent (a stale
    line naming a reused PID is left alone).
    """
    import signal  # lazy: 'import herotui.store.db' (a start-up path) stays as light

    try:
        words = os.pread(fd, 32, 0).decode(errors="ignore").split()
        if len(words) < 2 or words[1] != "serve" or not words[0].isdigit():
            return
        pid = int(words[0])
        if pid == os.getpid():
            return
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            if b"herotui.server" not in fh.read():
                return
        os.kill(pid, signal.SIGUSR1)
    except (OSError, ValueError):
        pass


def connect(ctx: Context, read_only: bool):
    import duckdb  # ~130 ms: only commands that touch data pay for it

    def attempt():
        return duckdb.connect(str(ctx.db_path), read_only=read_only)

    def is_lock(exc: Exception) -> bool:
        return isinstance(exc, duckdb.Error) and "lock" in str(exc).lower()

    def holder(exc: Exception) -> str | None:
        m = _PID_RE.search(str(exc))
        return m.group(1) if m else None

    fd = _flock(ctx, exclusive=not read_only)
    try:
        conn = _Locked(retry_locked("database", ctx.name, attempt, is_lock, holder), fd)
        if not read_only:
            from herotui import paths  # lazy: 'import herotui.store.db' (a start-up path) stays as light

            paths.make_private(ctx.db_path)  # DuckDB creates it with the umask's mode
        return conn
    except BaseException as exc:
        os.close(fd)
        if not isinstance(exc, duckdb.Error):
            raise
        raise HeroError(
            f"cannot open the database of context '{ctx.name}': {str(exc).splitlines()[0]}",
            hint=f"the file is {ctx.db_path}; 'hero index rebuild' cannot help if the database itself is damaged",
        ) from None


def state(conn) -> tuple[int, int]:
    """(schema version, revision); (0, 0) for an empty database."""
    import duckdb  # ~95 ms: only commands that touch data pay for it

    try:
        return conn.execute("SELECT (SELECT count(*) FROM _migrations), (SELECT revision FROM state)").fetchone()
    except duckdb.CatalogException:
        return 0, 0


def migrate(conn) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied TIMESTAMP DEFAULT now())")
    applied = {row[0] for row in conn.execute("SELECT name FROM _migrations").fetchall()}
    for fn in MIGRATIONS:
        if fn.__name__ in applied:
            continue
        conn.execute("BEGIN")
        try:
            fn(conn)
            conn.execute("INSERT INTO _migrations (name) VALUES (?)", [fn.__name__])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("applied migration %s", fn.__name__)


def initialise(ctx: Context) -> None:
    """Create (or migrate) the database and an empty index.

    Also makes the context's own files owner-only (the profile, written before, and the
    database), whatever the umask they were created under.
    """
    from herotui import paths  # lazy: 'import herotui.store.db' (a start-up path) stays as light

    paths.make_private(ctx.path / "context.toml")
    conn = connect(ctx, read_only=False)
    try:
        migrate(conn)
        from herotui.store import index  # lazy: the index imports this module (cycle)

        try:
            index.sync(ctx, conn)
        except Exception as exc:  # noqa: BLE001 - the database is ready; the index catches up on a later open
            log.warning("index of %s not created yet: %s", ctx.name, getattr(exc, "strerror", None) or exc)
    finally:
        conn.close()


@dataclass
class Tx:
    """A write transaction: the connection and the revision this write creates."""

    conn: Any
    revision: int
    ctx: Context

    def execute(self, sql: str, params: Any = None):
        return self.conn.execute(sql, params) if params is not None else self.conn.execute(sql)

    def tombstone(self, kind: str, record_id: str) -> None:
        self.conn.execute("INSERT INTO tombstones VALUES (?, ?, ?)", [kind, record_id, self.revision])


@contextmanager
def read(ctx: Context) -> Iterator:
    if _RESIDENT is not None:
        with _RESIDENT.reading(ctx) as cur:
            yield cur
        return
    if not ctx.db_path.exists():
        initialise(ctx)
    conn = connect(ctx, read_only=True)
    try:
        version, revision = state(conn)
        if version < len(MIGRATIONS):
            conn.close()
            initialise(ctx)
            conn = connect(ctx, read_only=True)
            version, revision = state(conn)
        from herotui.store import index  # lazy: the index imports this module (cycle)

        try:
            if index.revision(ctx) < revision:
                # a crash left it behind: catch up before anyone reads it, alone (other
                # readers could be searching it), and only if nobody did so meanwhile
                conn.close()
                try:
                    catch_up(ctx)
                finally:
                    conn = connect(ctx, read_only=True)
            index.clear_pending(ctx)  # we hold the lock: no writer is mid-way, the index is current
        except Exception as exc:  # noqa: BLE001 - a full disk or a broken index never stops a read
            log.warning("index of %s not brought up to date: %s", ctx.name, getattr(exc, "strerror", None) or exc)
        yield conn
    finally:
        conn.close()


def catch_up(ctx: Context, full: bool = False) -> int:
    """Bring the index up to date (``full``: rebuild it) holding the write lock."""
    from herotui.store import index  # lazy: the index imports this module (cycle)

    if _RESIDENT is not None:
        return _RESIDENT.catch_up(ctx, full)
    conn = connect(ctx, read_only=False)
    try:
        count = 0
        if full or index.revision(ctx) < state(conn)[1]:
            count = index.sync(ctx, conn, full=full)
        index.clear_pending(ctx)
        return count
    finally:
        conn.close()


@contextmanager
def searchable(ctx: Context) -> Iterator[None]:
    """Make sure the index is current; open the database only when it might not be."""
    from herotui.store import index  # lazy: the index imports this module (cycle)

    if _RESIDENT is not None:
        _RESIDENT.index_current(ctx)
        yield
        return
    if ctx.db_path.exists() and index.is_current(ctx):
        yield
        return
    with read(ctx):
        yield


@contextmanager
def write(ctx: Context) -> Iterator[Tx]:
    """Run a write: the transaction commits with a new revision, then the index follows.

    If updating the index fails after the commit, the write stands and the next open of the
    context catches the index up (it compares revisions), so no write is ever lost.
    """
    if _RESIDENT is not None:
        with _RESIDENT.writing(ctx) as tx:
            yield tx
        return
    conn = connect(ctx, read_only=False)
    try:
        if state(conn)[0] < len(MIGRATIONS):
            migrate(conn)
        from herotui.store import index  # lazy: the index imports this module (cycle)

        conn.execute("BEGIN")
        try:
            revision = conn.execute("UPDATE state SET revision = revision + 1 RETURNING revision").fetchone()[0]
            yield Tx(conn, revision, ctx)
            index.mark_pending(ctx)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            index.sync(ctx, conn)
            index.clear_pending(ctx)
        except Exception as exc:  # noqa: BLE001 - the write stands whatever the index does
            # busy, full disk, read-only or unwritable index: the commit is done and stays;
            # the next open catches the index up. Saying "failed" here made callers retry
            # and duplicate the write.
            why = exc.message if isinstance(exc, HeroError) else (getattr(exc, "strerror", None) or str(exc))
            log.warning("index update deferred for %s: %s", ctx.name, why)
            _notices().append(f"saved, but the search index could not be updated ({why}); "
                           "it catches up on a later command")
    finally:
        conn.close()


_LOCAL = threading.local()


def _notices() -> list[str]:
    """This thread's notices (a resident server runs calls in many threads at once)."""
    out = getattr(_LOCAL, "notices", None)
    if out is None:
        out = _LOCAL.notices = []
    return out


class _Notices:
    """``NOTICES`` as before: a list-like view of the calling thread's notices."""

    def append(self, text: str) -> None:
        _notices().append(text)

    def clear(self) -> None:
        _notices().clear()

    def __iter__(self):
        return iter(_notices())

    def __len__(self) -> int:
        return len(_notices())


NOTICES = _Notices()
"""What a front-end should tell the person after a call that succeeded (``take_notices``)."""


def take_notices() -> list[str]:
    """The notices of this thread's calls since the last take (and forget them)."""
    out = list(dict.fromkeys(_notices()))
    _notices().clear()
    return out


@contextmanager
def exclusive(ctx: Context) -> Iterator[None]:
    """Hold the database read-write (nobody else can open it) for a folder-level change."""
    if _RESIDENT is not None:
        with _RESIDENT.evicted(ctx):
            conn = connect(ctx, read_only=False)
            try:
                yield
            finally:
                conn.close()
        return
    conn = connect(ctx, read_only=False)
    try:
        yield
    finally:
        conn.close()


# -- resident mode (hero serve) -----------------------------------------------------------

_RESIDENT = None
"""Set by ``hero serve`` (:func:`set_resident`): the open stores of every context in use.

Without it (the CLI in-process, tests) every verb call opens and closes the stores as above.
With it, :func:`read`, :func:`write`, :func:`searchable`, :func:`catch_up` and
:func:`exclusive` go through :class:`herotui.store.resident.Resident`, which keeps each
context's database connection (and its Tantivy index) open, serialises writes per context
and groups index commits.
"""


def set_resident(resident) -> None:
    global _RESIDENT
    _RESIDENT = resident


def row_cache(ctx: Context, table: str) -> dict | None:
    """The resident server's cache of ``table``'s rows for ``ctx`` (id -> (revision, row)),
    or None in-process (a short-lived process gains nothing from one).

    Valid while the server holds the context's stores open (nobody else can write then); it
    goes when they close. A row is used only when its ``revision`` in the database is the
    cached one: every write of a row sets a new revision, so a hit is that row as committed.
    Call it inside :func:`read`.
    """
    return None if _RESIDENT is None else _RESIDENT.row_cache(ctx, table)
