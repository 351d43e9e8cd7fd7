"""Resident stores: each context's database and index opened once and kept open (``hero serve``).

The in-process path (:mod:`herotui.store.db`) opens and closes the stores for every verb
call and lets processes take turns through file locks. The resident server instead keeps,
per context in use:

- one read-write DuckDB connection (holding Hero's ``hero.lock`` exclusively, tagged
  ``PID serve``); every read gets its own cursor of it, so reads run concurrently;
- a writer lock: writes are serialised, and a write is acknowledged (the verb returns) only
  after its transaction committed;
- an index worker: after a commit the index is marked pending (as before) and the worker
  brings it up to date a few milliseconds later, so a burst of small writes pays one index
  commit, not one each (the worker waits ``HERO_INDEX_DELAY`` seconds, default 0.2: measured
  write p50 7.7 ms against 13 ms at 0.02). A search first waits for the index to be current
  (:meth:`Resident.index_current`), so it always sees every acknowledged write.

A crash between a commit and the index update leaves the pending mark; the next open of the
context (resident or not) catches the index up from the revisions, exactly as before.

Other Hero processes (an in-process CLI where the server cannot answer, the test suite, a
TUI of an older kind) still get their turn: when one finds the lock held by the server it
sends it SIGUSR1 (see ``db.nudge_server``), and the server closes the stores it is not
using at that moment and waits a moment before opening them again. Stores nobody used for
``HERO_SERVE_HOLD`` seconds (default 30) are closed too; with ``HERO_SERVE_HOLD=0`` they are
closed after every call (the test suite does this: its helpers read the database files
directly, as another program would).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from herotui import settings
from herotui.store import db

if TYPE_CHECKING:
    from herotui.contexts import Context

log = logging.getLogger("hero.store")



class _FairLock:
    """A lock handed to its waiters in the order they asked (a FIFO queue): a client that
    writes in a tight loop over its socket cannot take the lock again ahead of a CLI process
    whose write has been waiting (threading.Lock lets the releasing thread barge back in)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: collections.deque[threading.Lock] = collections.deque()
        self._held = False

    def acquire(self) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by release(): the lock is ours, handed over directly
        return True

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # still held: now by the first waiter
            else:
                self._held = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


class _Entry:
    """One context's open stores."""

    def __init__(self, ctx: Context, owner: Resident) -> None:
        self.ctx = ctx
        self.owner = owner
        self.conn = None
        self.users = 0
        self.last_used = time.monotonic()
        self.wlock = _FairLock()  # one writer at a time, in the order they came
        self.ilock = threading.Lock()  # one index sync at a time
        self.dirty = threading.Event()
        self.closed = False
        self.worker: threading.Thread | None = None
        self.rows: dict[str, dict] = {}  # table -> id -> (revision, row): db.row_cache

    def open(self) -> None:
        from herotui.store import index

        conn = db.connect(self.ctx, read_only=False)
        try:
            db.migrate(conn)
            try:
                if index.revision(self.ctx) < db.state(conn)[1]:
                    index.sync(self.ctx, conn)
                index.clear_pending(self.ctx)
            except Exception as exc:  # noqa: BLE001 - a broken index never stops the database
                log.warning("index of %s not brought up to date: %s", self.ctx.name, exc)
        except BaseException:
            conn.close()
            raise
        self.conn = conn
        self.worker = threading.Thread(target=self._index_loop, name=f"index-{self.ctx.name}", daemon=True)
        self.worker.start()

    def close(self) -> None:
        self.closed = True
        self.dirty.set()
        if self.worker is not None and self.worker is not threading.current_thread():
            self.worker.join(timeout=30)
        try:
            self._sync_index()  # leave the index current when possible
        except Exception:  # noqa: BLE001 - the pending mark stays, the next open catches up
            pass
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- the index -------------------------------------------------------------------------

    def _index_loop(self) -> None:
        delay = settings.get().HERO_INDEX_DELAY
        while not self.closed:
            self.dirty.wait(timeout=1.0)
            if self.closed:
                return
            if not self.dirty.is_set():
                continue
            time.sleep(delay)  # let the writes of a burst commit: one index commit for all
            self.dirty.clear()
            try:
                self._sync_index()
            except Exception as exc:  # noqa: BLE001 - retried on the next write or search
                log.warning("index update deferred for %s: %s", self.ctx.name, exc)

    def _sync_index(self) -> None:
        from herotui.store import index

        if self.conn is None:
            return
        with self.ilock:
            cur = self.conn.cursor()
            try:
                index.sync(self.ctx, cur)
                with self.wlock:  # no writer between its commit and here: the mark may go
                    if index.revision(self.ctx) >= db.state(cur)[1]:
                        index.clear_pending(self.ctx)
            finally:
                cur.close()


class Resident:
    """The open stores of every context in use by the server."""

    def __init__(self, on_commit: Callable[[str, int], None] | None = None) -> None:
        self.entries: dict[str, _Entry] = {}
        self.cond = threading.Condition()
        self.on_commit = on_commit
        self.hold = settings.get().HERO_SERVE_HOLD
        self.release_asked = 0.0  # monotonic time of the last SIGUSR1
        self.opened = 0  # how many times stores were opened (doctor, tests)
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name="store-reaper", daemon=True)
        self._reaper.start()

    # -- entries ---------------------------------------------------------------------------

    def _acquire(self, ctx: Context) -> _Entry:
        key = str(ctx.path)
        with self.cond:
            while True:
                e = self.entries.get(key)
                if e is not None and e.conn is not None and not e.closed:
                    e.users += 1
                    e.last_used = time.monotonic()
                    return e
                if e is None:
                    break
                self.cond.wait(0.05)  # another thread is opening or closing it
            e = _Entry(ctx, self)
            e.users = 1  # ours while it opens: the reaper never closes an entry being opened
            self.entries[key] = e
        try:
            wait = 0.2 - (time.monotonic() - self.release_asked)
            if wait > 0:
                time.sleep(wait)  # another process asked for its turn: let it have it
            e.open()
            self.opened += 1
        except BaseException:
            with self.cond:
                self.entries.pop(key, None)
                self.cond.notify_all()
            raise
        with self.cond:
            e.last_used = time.monotonic()
            self.cond.notify_all()
        return e

    def _done(self, e: _Entry) -> None:
        with self.cond:
            e.users -= 1
            e.last_used = time.monotonic()
            close = e.users == 0 and not e.closed and (self.hold <= 0 or time.monotonic() - self.release_asked < 1.0)
            if close:
                self._drop(e)
            self.cond.notify_all()
        if close:
            try:
                e.close()
            finally:  # whatever closing raised, the entry goes (else every caller waits on it)
                self._dropped(e)

    def _drop(self, e: _Entry) -> None:
        e.closed = True  # under self.cond: nobody acquires it any more

    def _dropped(self, e: _Entry) -> None:
        with self.cond:
            if self.entries.get(str(e.ctx.path)) is e:
                del self.entries[str(e.ctx.path)]
            self.cond.notify_all()

    def release(self, idle_for: float = 0.0) -> int:
        """Close the stores not in use (and unused for ``idle_for`` seconds); their count."""
        now = time.monotonic()
        with self.cond:
            victims = [e for e in self.entries.values()
                       if e.users == 0 and not e.closed and e.conn is not None and now - e.last_used >= idle_for]
            for e in victims:
                self._drop(e)
        for e in victims:
            try:
                e.close()
            except Exception as exc:  # noqa: BLE001 - logged; the entry goes all the same
                log.warning("closing the stores of %s failed: %s", e.ctx.name, exc)
            finally:
                self._dropped(e)
        return len(victims)

    def ask_release(self) -> None:
        """Another process wants the stores (SIGUSR1): close what is idle now, and what is in
        use as soon as its call ends."""
        self.release_asked = time.monotonic()
        threading.Thread(target=self.release, name="store-release", daemon=True).start()

    def _reap(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.release(idle_for=self.hold)
            except Exception as exc:  # noqa: BLE001
                log.warning("closing idle stores failed: %s", exc)

    def close_all(self) -> None:
        self._stop.set()
        with self.cond:
            deadline = time.monotonic() + 30
            while any(e.users for e in self.entries.values()) and time.monotonic() < deadline:
                self.cond.wait(0.1)
        self.release()

    def row_cache(self, ctx: Context, table: str) -> dict | None:
        """The row cache of ``table`` for the open stores of ``ctx`` (see ``db.row_cache``)."""
        e = self.entries.get(str(ctx.path))
        if e is None or e.conn is None or e.closed:
            return None
        cache = e.rows.setdefault(table, {})
        if len(cache) > 500_000:  # rows deleted since they were cached pile up: start again
            cache.clear()
        return cache

    def open_contexts(self) -> list[str]:
        with self.cond:
            return sorted(e.ctx.name for e in self.entries.values() if e.conn is not None and not e.closed)

    # -- the calls db.py routes here -------------------------------------------------------

    @contextmanager
    def reading(self, ctx: Context) -> Iterator:
        e = self._acquire(ctx)
        try:
            cur = e.conn.cursor()
            try:
                yield cur
            finally:
                cur.close()
        finally:
            self._done(e)

    @contextmanager
    def writing(self, ctx: Context) -> Iterator[db.Tx]:
        from herotui.store import index

        e = self._acquire(ctx)
        try:
            with e.wlock:
                cur = e.conn.cursor()
                try:
                    cur.execute("BEGIN")
                    try:
                        revision = cur.execute("UPDATE state SET revision = revision + 1 RETURNING revision").fetchone()[0]
                        yield db.Tx(cur, revision, ctx)
                        index.mark_pending(ctx)
                        cur.execute("COMMIT")
                    except BaseException:
                        try:
                            cur.execute("ROLLBACK")
                        except Exception:  # noqa: BLE001 - a failed COMMIT already rolled back
                            pass
                        raise
                finally:
                    cur.close()
            e.dirty.set()  # the index worker follows, grouped with the writes around it
            if self.on_commit is not None:
                try:
                    self.on_commit(ctx.name, revision)
                except Exception as exc:  # noqa: BLE001 - a notification never fails a write
                    log.warning("change notification failed: %s", exc)
        finally:
            self._done(e)

    def index_current(self, ctx: Context) -> None:
        """Bring the index up to the database's revision now (a search is about to read it)."""
        e = self._acquire(ctx)
        try:
            try:
                e._sync_index()
            except Exception as exc:  # noqa: BLE001 - a broken index never stops a read
                log.warning("index of %s not brought up to date: %s", ctx.name, exc)
        finally:
            self._done(e)

    def catch_up(self, ctx: Context, full: bool = False) -> int:
        from herotui.store import index

        e = self._acquire(ctx)
        try:
            with e.ilock, e.wlock:
                cur = e.conn.cursor()
                try:
                    count = 0
                    if full or index.revision(ctx) < db.state(cur)[1]:
                        count = index.sync(ctx, cur, full=full)
                    index.clear_pending(ctx)
                    return count
                finally:
                    cur.close()
        finally:
            self._done(e)

    @contextmanager
    def evicted(self, ctx: Context) -> Iterator[None]:
        """Close the context's stores (waiting for its calls to end) for a folder-level change."""
        key = str(ctx.path)
        with self.cond:
            e = self.entries.get(key)
            while e is not None and e.users > 0:
                self.cond.wait(0.1)
                e = self.entries.get(key)
            if e is not None:
                self._drop(e)
        if e is not None:
            e.close()
            self._dropped(e)
        from herotui.store import index

        index.forget(ctx)
        yield
