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


def test_the_row_cache_serves_what_is_committed(hero_home, monkeypatch):
    """contact.list in the server reads rows from its cache only when their revision is the
    committed one: updates, tags, deletes, new contacts and the big first fill all show."""
    from herotui import registry
    from herotui.store import db

    monkeypatch.setenv("HERO_SERVE_HOLD", "60")  # kept open between calls, as in a real server
    stores = resident.Resident()
    monkeypatch.setattr(db, "_RESIDENT", stores)
    try:
        ctx = contexts.current()
        made = [registry.call("contact.create", {"name": f"Person {i:03d}"}, ctx) for i in range(40)]

        def names(**args) -> list[str]:
            return [c.name for c in registry.call("contact.list", args, ctx)]

        assert names() == [f"Person {i:03d}" for i in range(40)]  # the first fill (over 32 rows: one scan)
        cache = db.row_cache(ctx, "contacts")  # outside a call the stores are still open here
        assert cache is not None and len(cache) == 40
        registry.call("contact.update", {"id": made[0].id, "name": "Zoe Last", "company": "Acme"}, ctx)
        registry.call("contact.tag", {"id": made[1].id, "tags": ["vip"]}, ctx)
        registry.call("contact.delete", {"id": made[2].id}, ctx, confirmed=True)
        registry.call("contact.create", {"name": "Aaron First"}, ctx)
        listed = registry.call("contact.list", {"limit": 3}, ctx)
        assert [c.name for c in listed] == ["Aaron First", "Person 001", "Person 003"]
        assert listed[1].tags == ["vip"]
        everyone = registry.call("contact.list", {}, ctx)
        assert everyone[-1].name == "Zoe Last" and everyone[-1].company == "Acme" and len(everyone) == 40
        assert names(tag="vip") == ["Person 001"] and names(company="acme") == ["Zoe Last"]
        # the same rows as the database gives without the cache
        monkeypatch.setattr(db, "_RESIDENT", None)
        stores.close_all()
        assert [c.model_dump() for c in registry.call("contact.list", {}, ctx)] == [c.model_dump() for c in everyone]
    finally:
        stores.close_all()
