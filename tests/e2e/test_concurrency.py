"""Several Hero processes writing one context at once: no write lost, no error, search agrees.

DuckDB and Tantivy each allow one writer process; Hero holds them per verb call and retries
lock conflicts with backoff (HERO_LOCK_TIMEOUT, raised to 120 s here so that a slow CI
machine measures correctness, not patience).

The suite runs the writers at sizes that still make the processes collide (every write waits
for the others' locks): 6 x 10 writes in-process, 6 x 5 CLI writes. ``HERO_STRESS=1`` runs
them at the campaign's sizes (6 x 100, 6 x 10): ``python benchmarks/bench_stress.py`` does
that and reports the figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from herotui import contexts, registry

WORKERS = 6
MARKER = "concurrencymarker"
STRESS = os.environ.get("HERO_STRESS") == "1"
EACH = 100 if STRESS else 10  # contacts per in-process writer
CLI_EACH = 10 if STRESS else 5  # `hero contact create` runs per CLI writer
REBUILT = 20_000  # contacts in the index six readers rebuild at once (~1.5 s: they all arrive during it)

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from herotui import contexts, registry

    worker, count, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ctx = contexts.load("business")
    registry.get("contact.create").model  # warm up before the start line
    open(go + f".ready{worker}", "w").close()
    while not os.path.exists(go):  # everyone starts at once
        time.sleep(0.005)
    for i in range(count):
        registry.call("contact.create", {"name": f"Worker{worker} Person{i:03d}", "notes": "%s",
                                         "tags": [f"w{worker}"]}, ctx, actor="test")
    print("done", worker)
    """
    % MARKER
)


def _start_together(go, ready: list, procs: list, timeout: float = 120) -> None:
    """Write the start line ``go`` once every child has made its ``ready`` file (imports done):
    they start at the same moment, however slow the machine is to start them."""
    deadline = time.monotonic() + timeout
    while not all(os.path.exists(r) for r in ready):
        dead = [p for p in procs if p.poll() is not None]
        assert not dead, [p.communicate() for p in dead]
        assert time.monotonic() < deadline, "the children did not get ready"
        time.sleep(0.01)
    go.write_text("go")


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
def test_six_processes_create_contacts_at_once(tmp_path, stores):
    ctx = contexts.create("business")
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(w), str(EACH), str(go)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=stores.child_env())
        for w in range(WORKERS)
    ]
    _start_together(go, [f"{go}.ready{w}" for w in range(WORKERS)], procs)
    started = time.monotonic()
    results = [p.communicate(timeout=300) for p in procs]
    elapsed = time.monotonic() - started
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert "Traceback" not in err and "busy" not in err, err
        assert out.startswith("done")
    expected = {f"Worker{w} Person{i:03d}" for w in range(WORKERS) for i in range(EACH)}
    _check(ctx, stores, expected)
    for w in range(WORKERS):
        assert len(registry.call("contact.list", {"tag": f"w{w}"}, ctx)) == EACH
    print(f"FIGURE concurrent-writers: {WORKERS * EACH} contacts from {WORKERS} processes in {elapsed:.1f}s "
          f"({WORKERS * EACH / elapsed:.0f} writes/s)")


def test_six_cli_processes_at_once(hero, stores):
    """6 x CLI_EACH ``hero contact create`` processes, 6 at a time, in a context created by the first."""
    assert hero("context", "create", "business").code == 0
    env = {"HERO_LOCK_TIMEOUT": "120"}

    def worker(w: int):
        out = []
        for i in range(CLI_EACH):
            out.append(hero("--context", "business", "contact", "create", "--name", f"Cli{w} N{i}", "--notes", MARKER,
                            "--json", env=env, timeout=180))
        return out

    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        results = [r for rs in pool.map(worker, range(WORKERS)) for r in rs]
    elapsed = time.monotonic() - started
    for r in results:
        assert r.code == 0, r
        assert "Traceback" not in r.err and r.err == "", r
    ids = {r.json()["id"] for r in results}
    assert len(ids) == WORKERS * CLI_EACH
    ctx = contexts.load("business")
    _check(ctx, stores, {f"Cli{w} N{i}" for w in range(WORKERS) for i in range(CLI_EACH)})
    r = hero("--context", "business", "contact", "search", MARKER, "--limit", "100", "--json")
    assert {c["id"] for c in r.json()} == ids
    print(f"FIGURE cli-writers: {len(ids)} hero contact create from {WORKERS} threads in {elapsed:.1f}s")


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
    _bulk_rows(ctx, REBUILT)
    assert registry.call("contact.search", {"query": "Bulk Person 17"}, ctx)
    import shutil

    shutil.rmtree(ctx.index_path)
    go = tmp_path / "go"
    child = ("import os, sys, time, subprocess\n"
             "open(sys.argv[1] + '.ready' + sys.argv[2], 'w').close()\n"
             "while not os.path.exists(sys.argv[1]): time.sleep(0.002)\n"
             "sys.exit(subprocess.call(sys.argv[3:]))\n")
    procs = [subprocess.Popen([sys.executable, "-c", child, str(go), str(w), stores.hero_exe(), "contact", "search",
                               "Bulk Person 42", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=stores.child_env()) for w in range(WORKERS)]
    _start_together(go, [f"{go}.ready{w}" for w in range(WORKERS)], procs)
    started = time.monotonic()
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "internal error" not in err and "Traceback" not in err, err
        assert "Bulk Person 42" in out
    elapsed = time.monotonic() - started
    ids = stores.index_ids(ctx)
    assert len(ids) == len(set(ids)) == REBUILT, f"{len(ids)} documents for {REBUILT} contacts"
    print(f"FIGURE index-rebuild: {REBUILT} contacts re-indexed while {WORKERS} readers waited, {elapsed:.1f}s")
