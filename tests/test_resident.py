"""The resident stores (hero serve): closing idle stores never races their opening, and an
entry whose closing fails never blocks the next call (a server hung on demo.load that way)."""

from __future__ import annotations

import threading

import pytest

from herotui import contexts
from herotui.store import resident


@pytest.fixture
def stores(hero_home, monkeypatch):
    monkeypatch.setenv("HERO_SERVE_HOLD", "0")  # close as soon as unused, as under tests
    r = resident.Resident()
    yield r
    r.close_all()


def test_the_reaper_never_closes_stores_being_opened(stores, monkeypatch):
    ctx = contexts.current()
    opening, go_on = threading.Event(), threading.Event()
    real_open = resident._Entry.open

    def slow_open(self):
        real_open(self)
        opening.set()
        assert go_on.wait(10)  # the store is open, its caller not yet served

    monkeypatch.setattr(resident._Entry, "open", slow_open)
    done = []
    t = threading.Thread(target=lambda: done.append(stores._acquire(ctx)))
    t.start()
    assert opening.wait(10)
    assert stores.release(idle_for=0) == 0  # in use by the thread opening it
    go_on.set()
    t.join(10)
    entry = done[0]
    assert entry.conn is not None and not entry.closed
    stores._done(entry)
    with stores.reading(ctx) as cur:  # and the next call is served
        assert cur.execute("SELECT 1").fetchone() == (1,)


def test_a_store_whose_closing_fails_is_dropped_all_the_same(stores, monkeypatch):
    ctx = contexts.current()
    with stores.reading(ctx) as cur:
        cur.execute("SELECT 1")
    stores.hold = 60.0  # keep it open after use
    with stores.reading(ctx) as cur:
        cur.execute("SELECT 1")
    assert stores.open_contexts() == ["personal"]

    real_close = resident._Entry.close

    def broken_close(self):
        real_close(self)
        raise RuntimeError("cannot join thread before it is started")

    monkeypatch.setattr(resident._Entry, "close", broken_close)
    assert stores.release(idle_for=0) == 1
    monkeypatch.undo()
    result = []
    t = threading.Thread(target=lambda: result.append(stores._acquire(ctx)), daemon=True)
    t.start()
    t.join(10)
    assert result and result[0].conn is not None, "a call waited forever on the dropped entry"
    stores._done(result[0])
