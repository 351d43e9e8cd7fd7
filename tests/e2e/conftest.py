"""End-to-end helpers: real processes, and counts read straight from the stores."""

from __future__ import annotations

import os

import pytest
from support import frozen_demo_home, hero_exe, run_folder  # noqa: F401  (e2e tests import hero_exe from here)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes tens of seconds (still run by default; deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def demo_at(tmp_path_factory):
    """``demo_at(env)``: the test's HERO_HOME (``env["HERO_HOME"]``) becomes a copy of a fresh
    ``hero demo`` run under ``env``'s libfaketime clock; the demo runs once per clock and test run
    (the morning and voice stories share their days), not once per test."""
    shared = run_folder(tmp_path_factory)
    return lambda env: frozen_demo_home(shared, env)


def child_env(**extra: str) -> dict:
    """The environment for a child process: the test's HERO_HOME and a generous lock bound."""
    env = dict(os.environ, COLUMNS="200", HERO_LOCK_TIMEOUT="120")
    env.update(extra)
    return env


def db_contacts(ctx) -> list[tuple]:
    """(id, name, revision) of every contact, read from the database file itself (no index sync)."""
    import duckdb

    conn = duckdb.connect(str(ctx.db_path), read_only=True)
    try:
        return conn.execute("SELECT id, name, revision FROM contacts ORDER BY id").fetchall()
    finally:
        conn.close()


def db_revision(ctx) -> int:
    import duckdb

    conn = duckdb.connect(str(ctx.db_path), read_only=True)
    try:
        return conn.execute("SELECT revision FROM state").fetchone()[0]
    finally:
        conn.close()


def index_ids(ctx, kind: str = "contact") -> list[str]:
    """The ids of every document of ``kind`` in the context's Tantivy index, as stored."""
    import tantivy

    from herotui.store import index

    idx = index.open_index(ctx)
    idx.reload()
    searcher = idx.searcher()
    query = tantivy.Query.term_query(idx.schema, "kind", kind)
    total = searcher.search(query, limit=1, count=True).count
    if not total:
        return []
    result = searcher.search(query, limit=total)
    return [searcher.doc(address).get_first("id") for _score, address in result.hits]


@pytest.fixture
def stores():
    """The helpers above, for tests (conftest modules are not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(hero_exe=hero_exe, child_env=child_env, db_contacts=db_contacts, db_revision=db_revision,
                           index_ids=index_ids)
