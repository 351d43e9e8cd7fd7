"""Several Hero processes writing one context at once: no write lost, no error, search agrees.

DuckDB and Tantivy each allow one writer process; Hero holds them per verb call and retries
lock conflicts with backoff (HERO_LOCK_TIMEOUT, raised to 120 s here so that a slow CI
machine measures correctness, not patience).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from herotui import contexts, registry

WORKERS = 6
MARKER = "concurrencymarker"

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from herotui import contexts, registry

    worker, count, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ctx = contexts.load("business")
    registry.get("contact.create").model  # warm up before the start line
    while not os.path.exists(go):  # everyone starts at once
        time.sleep(0.005)
    for i in range(count):
        registry.call("contact.create", {"name": f"Worker{worker} Person{i:03d}", "notes": "%s",
                                         "tags": [f"w{worker}"]}, ctx, actor="test")
    print("done", worker)
    """
    % MARKER
)


def _check(ctx, stores, expected_names: set[str]) -> None:
    rows = stores.db_contacts(ctx)
    assert len(rows) == len(expected_names)
    assert {name for _id, name, _rev in rows} == expected_names
    assert len({rev for _id, _name, rev in rows}) == len(rows), "every write got its own revision"
    # the next read brings the index up to date (it may already be), then search agrees
    hits = registry.call("contact.search", {"query": MARKER, "limit": len(rows) + 50}, ctx)
    assert len(hits) == len(rows)
    assert sorted(stores.index_ids(ctx)) == sorted(r[0] for r in rows)
    from herotui.store import index

    assert index.revision(ctx) == stores.db_revision(ctx)


@pytest.mark.slow
def test_six_processes_create_100_contacts_each(tmp_path, stores):
    ctx = contexts.create("business")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(w), "100", str(go)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=stores.child_env())
        for w in range(WORKERS)
    ]
    time.sleep(1.0)  # let them import
    started = time.monotonic()
    go.write_text("go")
    results = [p.communicate(timeout=300) for p in procs]
    elapsed = time.monotonic() - started
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "busy" not in err, err
        assert out.startswith("done")
    expected = {f"Worker{w} Person{i:03d}" for w in range(WORKERS) for i in range(100)}
    _check(ctx, stores, expected)
    for w in range(WORKERS):
        assert len(registry.call("contact.list", {"tag": f"w{w}"}, ctx)) == 100
    print(f"600 contacts from 6 processes in {elapsed:.1f}s")


def test_six_cli_processes_at_once(hero, stores):
    """6 x 10 ``hero contact create`` processes, 6 at a time, in a context created by the first."""
    assert hero("context", "create", "business").code == 0
    env = {"HERO_LOCK_TIMEOUT": "120"}

    def worker(w: int):
        out = []
        for i in range(10):
            out.append(hero("--context", "business", "contact", "create", "--name", f"Cli{w} N{i}", "--notes", MARKER,
                            "--json", env=env, timeout=180))
        return out

    with ThreadPoolExecutor(WORKERS) as pool:
        results = [r for rs in pool.map(worker, range(WORKERS)) for r in rs]
    for r in results:
        assert r.code == 0, r
        assert "Traceback" not in r.err and r.err == "", r
    ids = {r.json()["id"] for r in results}
    assert len(ids) == 60
    ctx = contexts.load("business")
    _check(ctx, stores, {f"Cli{w} N{i}" for w in range(WORKERS) for i in range(10)})
    r = hero("--context", "business", "contact", "search", MARKER, "--limit", "100", "--json")
    assert {c["id"] for c in r.json()} == ids


def test_readers_and_a_writer_at_once(hero):
    """Searches running while another process imports: every search answers, none errors."""
    ctx = contexts.load("personal")
    registry.call("contact.create", {"name": "Already Here", "notes": MARKER}, ctx)
    path = ctx.path.parent.parent / "many.vcf"
    path.write_text("".join(f"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bulk {i}\r\nNOTE:{MARKER}\r\nEND:VCARD\r\n"
                            for i in range(3000)))
    env = {"HERO_LOCK_TIMEOUT": "120"}
    with ThreadPoolExecutor(4) as pool:
        writer = pool.submit(hero, "contact", "import", str(path), "--json", env=env, timeout=180)
        readers = [pool.submit(hero, "contact", "search", MARKER, "--limit", "5000", "--json", env=env, timeout=180)
                   for _ in range(6)]
        w = writer.result()
        rs = [f.result() for f in readers]
    assert w.code == 0 and w.json()["imported"] == 3000, w
    for r in rs:
        assert r.code == 0, r
        assert "Traceback" not in r.err
        assert len(r.json()) in (1, 3001), "a reader sees the import entirely or not at all"
    assert len(registry.call("contact.search", {"query": MARKER, "limit": 5000}, ctx)) == 3001


def _bulk_rows(ctx, n: int) -> None:
    """``n`` contacts written straight into the database (fast), then indexed once."""
    registry.call("contact.list", {}, ctx)  # the database exists and is migrated
    import duckdb

    conn = duckdb.connect(str(ctx.db_path))
    try:
        conn.execute("BEGIN")
        rev = conn.execute("UPDATE state SET revision = revision + 1 RETURNING revision").fetchone()[0]
        conn.execute(
            "INSERT INTO contacts (id, name, notes, created, updated, revision) "
            "SELECT '01H' || lpad(i::VARCHAR, 23, '0'), 'Bulk Person ' || i, ?, now(), now(), ? FROM range(?) t(i)",
            [MARKER, rev, n])
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_many_readers_rebuild_a_lost_index_at_once(hero, stores, tmp_path):
    """The index folder is gone (or of an older version): six commands open the context at
    once. Each must answer; the rebuilt index must hold every contact exactly once."""
    ctx = contexts.load("personal")
    _bulk_rows(ctx, 20_000)
    assert registry.call("contact.search", {"query": "Bulk Person 17"}, ctx)
    import shutil

    shutil.rmtree(ctx.index_path)
    go = tmp_path / "go"
    child = ("import os, sys, time, subprocess\n"
             "while not os.path.exists(sys.argv[1]): time.sleep(0.002)\n"
             "sys.exit(subprocess.call(sys.argv[2:]))\n")
    procs = [subprocess.Popen([sys.executable, "-c", child, str(go), stores.hero_exe(), "contact", "search",
                               "Bulk Person 42", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=stores.child_env()) for _ in range(WORKERS)]
    time.sleep(0.5)
    go.write_text("go")
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "internal error" not in err and "Traceback" not in err, err
        assert "Bulk Person 42" in out
    ids = stores.index_ids(ctx)
    assert len(ids) == len(set(ids)) == 20_000, f"{len(ids)} documents for 20000 contacts"
