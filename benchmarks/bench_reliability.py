"""Reliability campaign: concurrent writers, SIGKILLs mid-write, RSS of a pathological search.

Run by hand (not by CI; this is not a test):

    . .venv/bin/activate
    python benchmarks/bench_reliability.py                          # 60 s of writers, 50 kills
    python benchmarks/bench_reliability.py --seconds 20 --kills 10  # quick look
    python benchmarks/bench_reliability.py --json out.json

Everything happens in a temporary HERO_HOME (never the user's; ``make_env`` of bench_core.py),
with TMPDIR pointed at a folder of its own, deleted at the end (``--keep`` keeps it).

1. Mixed writers: 9 writers on ONE context for ``--seconds``: 3 CLI loops (``hero contact
   create``), 2 Python in-process clients (``herotui.client.Hero``), 2 MCP stdio clients (the
   ``mcp`` SDK against ``hero mcp serve``, tool ``contact_create``), 2 JSON-RPC clients
   (``hero rpc serve --stdio``), each in its own process, each name unique. Then: every
   acknowledged write is in the database (0 lost), the index holds exactly the database's
   records, and a search for each acknowledged name finds it (no ``hero index rebuild``).
2. Kills: ``--kills`` SIGKILLs at random moments of ``hero contact import`` (a fresh context
   each time, ``--cards`` cards) and of ``hero index rebuild``, alternately. After each: a read
   (``hero contact list --json``) must work and show the import wholly or not at all (the
   rebuild: the same count), index = database; orphans: processes still carrying this run's
   HERO_HOME after ``--grace`` seconds, temporary files left in HERO_HOME/TMPDIR/``/tmp``.
3. RSS: max RSS of ``hero search <one 10,000-character word>`` against ``hero search alex``.

The exit status is 1 when anything was lost, inconsistent or orphaned, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_core import HERO, PY, make_env  # noqa: E402
from bench_servers import pct  # noqa: E402

SELF = str(Path(__file__).resolve())
FRONTENDS = {"cli": 3, "python": 2, "mcp": 2, "rpc": 2}


def classify(text: str) -> str:
    return "busy" if "busy" in (text or "").lower() else "fail"


# ------------------------------------------------------------------------------ writers (children)


def writer_main(kind: str, wid: int, start_at: float, deadline: float, out: str) -> None:
    """One writer: write unique contacts from ``start_at`` to ``deadline``; records to ``out``.

    A record: [start offset s, latency ms, "ok"|"busy"|"fail", name, id or None, error or None].
    """
    recs: list[list] = []
    names = (f"Reliability {kind}{wid}n{i:06d}" for i in range(10**6))
    writer = _WRITERS.get(kind)
    if writer is not None:
        writer(names, start_at, deadline, recs)
    Path(out).write_text(json.dumps(recs))


def _wait_until(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def _write_cli(names, start_at: float, deadline: float, recs: list[list]) -> None:
    """A `hero contact create` process per contact."""
    _wait_until(start_at)
    while time.time() < deadline:
        name = next(names)
        t0 = time.perf_counter()
        t_rel = time.time() - start_at
        try:
            cp = subprocess.run([HERO, "contact", "create", "--name", name, "--json"], stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=120)
            ms = (time.perf_counter() - t0) * 1000
            rid = None
            if cp.returncode == 0:
                try:
                    rid = json.loads(cp.stdout)["id"]
                except (ValueError, KeyError, TypeError):
                    pass
            if rid:
                recs.append([t_rel, ms, "ok", name, rid, None])
            else:
                err = (cp.stderr.decode(errors="replace").strip() or f"exit {cp.returncode}")[-300:]
                recs.append([t_rel, ms, classify(err), name, None, err])
        except subprocess.TimeoutExpired:
            recs.append([t_rel, (time.perf_counter() - t0) * 1000, "fail", name, None, "timeout 120 s"])


def _write_python(names, start_at: float, deadline: float, recs: list[list]) -> None:
    """The Python client (``herotui.client.Hero``), one call per contact."""
    from herotui.client import Hero
    from herotui.errors import ContextBusy

    hero = Hero()
    hero.contact.list(limit=1)  # imports and first open out of the way
    _wait_until(start_at)
    while time.time() < deadline:
        name = next(names)
        t0 = time.perf_counter()
        t_rel = time.time() - start_at
        try:
            c = hero.contact.create(name=name)
            recs.append([t_rel, (time.perf_counter() - t0) * 1000, "ok", name, c.id, None])
        except ContextBusy as exc:
            recs.append([t_rel, (time.perf_counter() - t0) * 1000, "busy", name, None, str(exc)[:300]])
        except Exception as exc:  # noqa: BLE001 - recorded, the loop goes on
            recs.append([t_rel, (time.perf_counter() - t0) * 1000, classify(str(exc)), name, None,
                         f"{type(exc).__name__}: {exc}"[:300]])


def _write_mcp(names, start_at: float, deadline: float, recs: list[list]) -> None:
    """One `hero mcp serve` over stdio, a contact_create tool call per contact."""
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=HERO, args=["mcp", "serve"], env=dict(os.environ))

    async def run() -> None:
        async with stdio_client(params, errlog=sys.stderr) as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                await s.call_tool("contact_list", {"limit": 1})
                await anyio.sleep(max(0.0, start_at - time.time()))
                while time.time() < deadline:
                    name = next(names)
                    t0 = time.perf_counter()
                    t_rel = time.time() - start_at
                    try:
                        res = await s.call_tool("contact_create", {"name": name})
                    except Exception as exc:  # noqa: BLE001
                        recs.append([t_rel, (time.perf_counter() - t0) * 1000, classify(str(exc)), name, None,
                                     f"{type(exc).__name__}: {exc}"[:300]])
                        continue
                    ms = (time.perf_counter() - t0) * 1000
                    text = " ".join(getattr(c, "text", "") for c in res.content or [])
                    sc = res.structured_content or {}
                    rid = sc.get("id") if isinstance(sc, dict) else None
                    if not rid and not res.is_error:
                        try:
                            rid = json.loads(text)["id"]
                        except (ValueError, KeyError, TypeError):
                            pass
                    if res.is_error or not rid:
                        recs.append([t_rel, ms, classify(text), name, None, text[:300] or "no id"])
                    else:
                        recs.append([t_rel, ms, "ok", name, rid, None])

    anyio.run(run)


def _write_rpc(names, start_at: float, deadline: float, recs: list[list]) -> None:
    """One `hero rpc serve --stdio`, a contact.create request per contact (stops at a broken connection)."""
    proc = subprocess.Popen([HERO, "rpc", "serve", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=sys.stderr, bufsize=0)
    n = 0

    def call(method: str, params: dict) -> dict:
        nonlocal n
        n += 1
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": n, "method": method, "params": params}).encode() + b"\n")
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server closed the connection (exit {proc.poll()})")
        return json.loads(line)

    call("contact.list", {"limit": 1})
    _wait_until(start_at)
    while time.time() < deadline:
        name = next(names)
        t0 = time.perf_counter()
        t_rel = time.time() - start_at
        try:
            resp = call("contact.create", {"name": name})
        except Exception as exc:  # noqa: BLE001
            recs.append([t_rel, (time.perf_counter() - t0) * 1000, "fail", name, None, f"{type(exc).__name__}: {exc}"])
            break
        ms = (time.perf_counter() - t0) * 1000
        if "error" in resp:
            err = resp["error"]
            data = err.get("data") if isinstance(err.get("data"), dict) else {}
            kind_ = "busy" if data.get("kind") == "busy" else classify(str(err.get("message")))
            recs.append([t_rel, ms, kind_, name, None, json.dumps(err)[:300]])
        else:
            recs.append([t_rel, ms, "ok", name, (resp.get("result") or {}).get("id"), None])
    proc.stdin.close()
    proc.wait(timeout=60)


# How each front-end writes (a kind not listed writes nothing).
_WRITERS = {"cli": _write_cli, "python": _write_python, "mcp": _write_mcp, "rpc": _write_rpc}


# ------------------------------------------------------------------------------ checks (child)


def check_main(context: str, names_file: str | None) -> None:
    """Index against database for ``context``, through Hero's own read path; JSON on stdout."""
    import tantivy

    from herotui import contexts
    from herotui.store import db, index
    from herotui.store.schema import INDEX_SOURCES

    ctx = contexts.current(context)
    out: dict = {"pending_before": (ctx.index_path / index.PENDING_FILE).exists(),
                 "index_revision_before": index.revision(ctx)}
    with db.read(ctx) as conn:
        out["db_revision"] = conn.execute("SELECT revision FROM state").fetchone()[0]
        out["index_revision"] = index.revision(ctx)
        db_ids = {r[0] for r in conn.execute("SELECT id FROM contacts").fetchall()}
        db_counts = {k: conn.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0] for k, sql in INDEX_SOURCES.items()}
        idx = index.open_index(ctx)
        idx.reload()
        searcher = idx.searcher()
        schema = idx.schema
        ix_counts = {}
        for k in INDEX_SOURCES:
            ix_counts[k] = searcher.search(tantivy.Query.term_query(schema, "kind", k), limit=1, count=True).count
        res = searcher.search(tantivy.Query.term_query(schema, "kind", "contact"), limit=max(1, ix_counts["contact"]))
        ix_list = [searcher.doc(addr).get_first("id") for _s, addr in res.hits]
        ix_ids = set(ix_list)
        out.update(db_contacts=len(db_ids), index_contacts=len(ix_list), index_duplicates=len(ix_list) - len(ix_ids),
                   missing_in_index=sorted(db_ids - ix_ids)[:20], n_missing_in_index=len(db_ids - ix_ids),
                   extra_in_index=sorted(ix_ids - db_ids)[:20], n_extra_in_index=len(ix_ids - db_ids),
                   kinds_differing={k: [db_counts[k], ix_counts[k]] for k in db_counts if db_counts[k] != ix_counts[k]},
                   searcher_docs=searcher.num_docs, db_rows=sum(db_counts.values()))
        if names_file:
            want = json.loads(Path(names_file).read_text())  # {name: id}
            missed = []
            for name, rid in want.items():
                token = name.split()[-1]
                hits = index.search(ctx, token, kinds=["contact"], limit=5, fuzzy=False)
                if rid not in [h.id for h in hits]:
                    missed.append(name)
            out.update(search_checked=len(want), search_missed=len(missed), search_missed_sample=missed[:20])
    out["consistent"] = (not out["n_missing_in_index"] and not out["n_extra_in_index"] and not out["index_duplicates"]
                         and not out["kinds_differing"] and not out.get("search_missed"))
    print(json.dumps(out))


# ------------------------------------------------------------------------------ driver helpers


class Run:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.tmp = root / "tmp"
        self.data = root / "data"
        for p in (self.home, self.tmp, self.data):
            p.mkdir(parents=True, exist_ok=True)
        self.env = make_env(self.home)
        self.env["TMPDIR"] = str(self.tmp)
        self.tmp_before = set(os.listdir("/tmp"))

    def hero(self, *argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([HERO, *argv], env=self.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)

    def check(self, context: str, names: dict | None = None) -> dict:
        argv = [PY, SELF, "--_check", context]
        if names is not None:
            nf = self.data / "names.json"
            nf.write_text(json.dumps(names))
            argv += ["--_names", str(nf)]
        cp = subprocess.run(argv, env=self.env, capture_output=True, timeout=600)
        if cp.returncode:
            return {"consistent": False, "error": cp.stderr.decode(errors="replace")[-800:]}
        return json.loads(cp.stdout)

    def hero_processes(self, server: bool = False) -> list[tuple[int, str]]:
        """Live processes whose environment carries this run's HERO_HOME (ours, so readable).

        The resident server (``hero serve``, started by the first command and meant to stay
        until idle) is not one of them unless ``server``: it is no orphan of a killed import."""
        mark = f"HERO_HOME={self.home}".encode()
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if mark not in f.read().split(b"\0"):
                        continue
                with open(f"/proc/{d}/stat", "rb") as f:
                    if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                        continue  # a zombie: already dead, waiting for its parent
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
                if "-m herotui.server" in cmd and not server:
                    continue
                found.append((int(d), cmd))
            except OSError:
                continue
        return found

    def temp_files(self) -> list[str]:
        """Temporary files Hero may leave: ``*.tmp``/``.hero-*``/``.incoming*`` in HERO_HOME, anything
        in this run's TMPDIR, and new ``/tmp`` entries naming hero (not this run's root)."""
        found = []
        for dirpath, _dirs, files in os.walk(self.home):
            for f in files:
                if f.endswith(".tmp") or f.startswith((".hero-", ".incoming")):
                    found.append(os.path.join(dirpath, f))
        found += [str(self.tmp / f) for f in os.listdir(self.tmp)]
        return sorted(found)

    def other_tmp(self) -> list[str]:
        """New ``/tmp`` entries naming hero, outside this run (informative: Hero's processes here
        have TMPDIR pointed at the run's own folder, so these are most likely other processes')."""
        return sorted(f"/tmp/{f}" for f in set(os.listdir("/tmp")) - self.tmp_before
                      if "hero" in f.lower() and not str(self.root).startswith(f"/tmp/{f}"))


def stats(recs: list[list], seconds: float) -> dict:
    ok = [r[1] for r in recs if r[2] == "ok"]
    return {"attempts": len(recs), "acked": len(ok), "writes_per_s": round(len(ok) / seconds, 1),
            "p50_ms": round(pct(ok, 50), 1) if ok else None, "p95_ms": round(pct(ok, 95), 1) if ok else None,
            "max_ms": round(max(ok), 1) if ok else None,
            "busy": sum(r[2] == "busy" for r in recs), "other_failures": sum(r[2] == "fail" for r in recs),
            "failure_samples": sorted({r[5] for r in recs if r[2] != "ok"})[:5]}


# ------------------------------------------------------------------------------ 1. mixed writers


def mixed_writers(run: Run, seconds: float) -> dict:
    print(f"\n== 1. mixed writers: {sum(FRONTENDS.values())} writers on one context for {seconds:g} s")
    start_at = time.time() + 8.0  # time for the MCP/RPC servers and Python clients to warm up
    deadline = start_at + seconds
    procs = []
    for kind, n in FRONTENDS.items():
        for w in range(n):
            out = run.data / f"writer-{kind}{w}.json"
            log = open(run.data / f"writer-{kind}{w}.log", "wb")
            p = subprocess.Popen([PY, SELF, "--_writer", kind, str(w), repr(start_at), repr(deadline), str(out)],
                                 env=run.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            procs.append((kind, w, p, out, log))
    crashed = []
    for kind, w, p, _out, log in procs:
        try:
            p.wait(timeout=seconds + 300)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        if p.returncode:
            crashed.append(f"{kind}{w}: exit {p.returncode}: "
                           + (run.data / f"writer-{kind}{w}.log").read_text(errors="replace")[-400:])
    by_kind: dict[str, list] = {k: [] for k in FRONTENDS}
    for kind, _w, _p, out, _log in procs:
        if out.exists():
            by_kind[kind] += json.loads(out.read_text())
    # writes that started after the deadline still count (they ran); wall = seconds
    result: dict = {"seconds": seconds, "writers": FRONTENDS, "crashed_writers": crashed,
                    "per_frontend": {k: stats(v, seconds) for k, v in by_kind.items()}}
    everything = [r for v in by_kind.values() for r in v]
    result["total"] = stats(everything, seconds)

    acked = {r[3]: r[4] for r in everything if r[2] == "ok"}
    not_acked = {r[3] for r in everything if r[2] != "ok"}
    pending_after_writers = (run.home / "contexts" / "personal" / "index" / "hero-pending").exists()
    cp = run.hero("contact", "list", "--json")
    if cp.returncode:
        result["verify_error"] = cp.stderr.decode(errors="replace")[-400:]
        rows = []
    else:
        rows = json.loads(cp.stdout)
    in_db = {c["name"]: c["id"] for c in rows}
    lost = sorted(n for n in acked if n not in in_db)
    wrong_id = sorted(n for n, i in acked.items() if n in in_db and i and in_db[n] != i)
    phantom = sorted(n for n in not_acked if n in in_db)
    names = [n for n in in_db if n.startswith("Reliability ")]
    dup = len(names) - len(set(names))
    chk = run.check("personal", {n: in_db[n] for n in acked if n in in_db})
    result["verify"] = {"acked": len(acked), "in_db": sum(n in in_db for n in acked), "lost": len(lost),
                        "lost_sample": lost[:10], "wrong_id": len(wrong_id), "failed_but_stored": len(phantom),
                        "failed_but_stored_sample": phantom[:10], "duplicate_names": dup, "pending_mark_after_writers": pending_after_writers,
                        "index": chk}
    return result


# ------------------------------------------------------------------------------ 2. kills


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace").strip()
    except OSError:
        return "?"


def _proc_field(pid: int, field: str) -> str:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def _orphans(run: Run, k: int, op: str, grace: float, linger: float) -> tuple[list, list[dict], list]:
    """The run's processes still alive ``grace`` s after kill ``k``: (those, a row each with how
    long it outlived the kill, those still alive after ``linger`` more seconds: killed here, so
    they do not pile up)."""
    t_end = time.monotonic() + grace
    procs = run.hero_processes()
    while procs and time.monotonic() < t_end:
        time.sleep(0.1)
        procs = run.hero_processes()
    if not procs:
        return procs, [], procs
    seen = procs
    info = {pid: {"kill": k, "op": op, "pid": pid, "cmd": cmd, "ppid": _proc_field(pid, "PPid"),
                  "state": _proc_field(pid, "State"), "wchan": _read(f"/proc/{pid}/wchan")}
            for pid, cmd in procs}
    t0 = time.monotonic()  # how long do they live on? (a slow exit on a busy machine, or stuck)
    while procs and time.monotonic() - t0 < linger:
        time.sleep(0.25)
        alive = {pid for pid, _c in run.hero_processes()}
        for pid in info:
            if pid not in alive and "outlived_s" not in info[pid]:
                info[pid]["outlived_s"] = round(grace + time.monotonic() - t0, 1)
        procs = [(pid, c) for pid, c in procs if pid in alive]
    for pid, _c in procs:
        info[pid]["outlived_s"] = f">{grace + linger:g} (killed by the benchmark)"
    for pid, _cmd in procs:  # clean up, so they do not pile up
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return seen, list(info.values()), procs


def _check_after_kill(run: Run, name: str, expect: tuple, ev: dict) -> list[str]:
    """What is wrong with the context after a kill: its contacts unreadable or not as many as
    before or after the operation, the index not the database's (``ev`` gets the count and
    whether the index is consistent)."""
    cp = run.hero("contact", "list", "--json", "-c", name, timeout=300)
    problems = []
    if cp.returncode:
        problems.append(f"read failed: {cp.stderr.decode(errors='replace')[-300:]}")
    else:
        count = len(json.loads(cp.stdout))
        ev["count"] = count
        if count not in expect:
            problems.append(f"count {count}, expected one of {expect}")
    chk = run.check(name)
    ev["index_consistent"] = chk.get("consistent")
    if not chk.get("consistent"):
        problems.append("index != database: " + json.dumps({k2: chk.get(k2) for k2 in (
            "error", "db_contacts", "index_contacts", "index_duplicates", "n_missing_in_index",
            "n_extra_in_index", "kinds_differing")}))
    return problems


def kills(run: Run, n_kills: int, cards: int, grace: float, seed: int, linger: float = 30.0) -> dict:
    import datagen

    rnd = random.Random(seed)
    print(f"\n== 2. kills: {n_kills} SIGKILLs during 'contact import' ({cards} cards) and 'index rebuild'")
    vcf = run.data / "cards.vcf"
    datagen.write_vcf(vcf, cards)
    # reference: an uninterrupted import and rebuild, for the count and the durations
    assert run.hero("context", "create", "ref").returncode == 0
    t0 = time.perf_counter()
    cp = run.hero("contact", "import", str(vcf), "-c", "ref")
    t_import = time.perf_counter() - t0
    if cp.returncode:
        raise SystemExit(f"reference import failed: {cp.stderr.decode(errors='replace')[-400:]}")
    n_full = len(json.loads(run.hero("contact", "list", "--json", "-c", "ref").stdout))
    t0 = time.perf_counter()
    cp = run.hero("index", "rebuild", "-c", "ref")
    t_rebuild = time.perf_counter() - t0
    if cp.returncode:
        raise SystemExit(f"reference rebuild failed: {cp.stderr.decode(errors='replace')[-400:]}")
    print(f"   reference: import {t_import:.2f} s -> {n_full} contacts; rebuild {t_rebuild:.2f} s")
    leftovers_before = set(run.temp_files())

    events, inconsistencies, orphan_procs, seen_tmp = [], [], [], set()
    for k in range(n_kills):
        op = "import" if k % 2 == 0 else "rebuild"
        if op == "import":
            name = f"kill{k}"
            assert run.hero("context", "create", name).returncode == 0
            argv, expect, span = [HERO, "contact", "import", str(vcf), "-c", name], (0, n_full), t_import
        else:
            name = "ref"
            argv, expect, span = [HERO, "index", "rebuild", "-c", name], (n_full,), t_rebuild
        delay = rnd.uniform(0.02, span * 1.05)
        p = subprocess.Popen(argv, env=run.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        finished = p.poll() is not None
        if not finished:
            os.kill(p.pid, signal.SIGKILL)
        p.wait()
        ev = {"n": k, "op": op, "context": name, "delay_s": round(delay, 3), "finished_before_kill": finished,
              "exit": p.returncode}
        # orphans: processes of this run still alive after the grace period
        seen, rows, procs = _orphans(run, k, op, grace, linger)
        if seen:
            ev["orphans"] = seen
            orphan_procs += rows
        pend = (run.home / "contexts" / name / "index" / "hero-pending").exists()
        ev["pending_mark_left"] = pend
        problems = _check_after_kill(run, name, expect, ev)
        tmp_now = set(run.temp_files()) - leftovers_before
        new_tmp = tmp_now - seen_tmp
        seen_tmp |= tmp_now
        if new_tmp:
            ev["new_temp_files"] = sorted(new_tmp)
        if problems:
            ev["problems"] = problems
            inconsistencies.append(ev)
        events.append(ev)
        flag = "OK" if not problems and not procs else "!!"
        print(f"   {flag} kill {k + 1:>3}/{n_kills} {op:<7} after {delay:5.2f} s"
              f"{' (had finished)' if finished else ''}: count {ev.get('count')}"
              f"{', pending mark' if pend else ''}{f', {len(procs)} orphan(s)' if procs else ''}"
              f"{f', {len(new_tmp)} temp file(s)' if new_tmp else ''}{'; ' + '; '.join(problems) if problems else ''}")
    final_tmp = sorted(set(run.temp_files()) - leftovers_before)
    landed = sum(1 for e in events if e["op"] == "import" and e.get("count") == n_full)
    return {"cards": cards, "contacts_per_import": n_full, "reference_import_s": round(t_import, 3),
            "reference_rebuild_s": round(t_rebuild, 3), "kills": n_kills,
            "killed_while_running": sum(not e["finished_before_kill"] for e in events),
            "imports_landed": landed, "imports_absent": sum(1 for e in events if e["op"] == "import" and e.get("count") == 0),
            "pending_marks_left": sum(e["pending_mark_left"] for e in events),
            "inconsistencies": len(inconsistencies), "inconsistency_details": inconsistencies,
            "orphan_processes": len(orphan_procs), "orphan_process_details": orphan_procs[:50],
            "temp_files_left": len(final_tmp), "temp_files": final_tmp[:50],
            "temp_files_seen": len(seen_tmp), "other_new_tmp_entries": run.other_tmp(), "events": events}


# ------------------------------------------------------------------------------ 3. RSS


def max_rss(run: Run, argv: list[str]) -> tuple[float, float, int, str]:
    """(max RSS MiB, wall s, exit, stderr tail) of one process, from wait4's rusage."""
    err = run.data / "rss.err"
    with open(err, "wb") as ef:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=run.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef)
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_maxrss / 1024, wall, p.returncode, err.read_text(errors="replace")[-300:]


def rss(run: Run, length: int, reps: int) -> dict:
    print(f"\n== 3. max RSS: hero search <one {length:,}-character word> vs hero search alex")
    word = "".join(random.Random(1).choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))
    out: dict = {"word_length": length, "reps": reps}
    for label, argv in (("hero search alex", [HERO, "search", "alex"]),
                        (f"hero search <{length}-char word>", [HERO, "search", word])):
        samples = [max_rss(run, argv) for _ in range(reps)]
        out[label] = {"max_rss_mib": round(max(s[0] for s in samples), 1),
                      "median_wall_s": round(sorted(s[1] for s in samples)[len(samples) // 2], 3),
                      "exits": [s[2] for s in samples],
                      "stderr": samples[-1][3] if any(s[2] for s in samples) else ""}
    base, long_ = out["hero search alex"], out[f"hero search <{length}-char word>"]
    out["ratio"] = round(long_["max_rss_mib"] / base["max_rss_mib"], 2)
    limit = re.search(r"at most ([\d,]+)", long_["stderr"])
    if limit:  # refused: measure the longest word Hero accepts as well
        n = int(limit.group(1).replace(",", ""))
        samples = [max_rss(run, [HERO, "search", word[:n]]) for _ in range(reps)]
        out[f"hero search <{n}-char word> (limit)"] = {
            "max_rss_mib": round(max(s[0] for s in samples), 1),
            "median_wall_s": round(sorted(s[1] for s in samples)[len(samples) // 2], 3),
            "exits": [s[2] for s in samples], "stderr": samples[-1][3] if any(s[2] for s in samples) else ""}
        out["ratio_at_limit"] = round(out[f"hero search <{n}-char word> (limit)"]["max_rss_mib"] / base["max_rss_mib"], 2)
    return out


# ------------------------------------------------------------------------------ main


def report(res: dict) -> bool:
    bad = False
    print("\n" + "=" * 96)
    if "mixed" in res:
        m = res["mixed"]
        print(f"1. mixed writers ({m['seconds']:g} s, one context)")
        print(f"   {'front-end':<10} {'writers':>7} {'acked':>7} {'writes/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'max ms':>8} {'busy':>5} {'other':>6}")
        for k, s in [*m["per_frontend"].items(), ("total", m["total"])]:
            nw = FRONTENDS.get(k, sum(FRONTENDS.values()))
            print(f"   {k:<10} {nw:>7} {s['acked']:>7} {s['writes_per_s']:>9} {s['p50_ms'] or '-':>8} "
                  f"{s['p95_ms'] or '-':>8} {s['max_ms'] or '-':>8} {s['busy']:>5} {s['other_failures']:>6}")
        v = m["verify"]
        ix = v["index"]
        print(f"   verify: {v['in_db']}/{v['acked']} acknowledged writes in the database, lost {v['lost']}, "
              f"failed-but-stored {v['failed_but_stored']}, wrong id {v['wrong_id']}")
        print(f"           index: {ix.get('index_contacts')} contact docs vs {ix.get('db_contacts')} rows, "
              f"missing {ix.get('n_missing_in_index')}, extra {ix.get('n_extra_in_index')}, "
              f"duplicates {ix.get('index_duplicates')}, search missed {ix.get('search_missed')}/"
              f"{ix.get('search_checked')}, pending mark after writers {v['pending_mark_after_writers']}")
        for s in m["total"]["failure_samples"]:
            print(f"           failure: {s[:160]}")
        for c in m["crashed_writers"]:
            print(f"           writer crashed: {c[:300]}")
        bad |= bool(v["lost"] or v["wrong_id"] or not ix.get("consistent") or m["crashed_writers"] or "verify_error" in m)
    if "kills" in res:
        k = res["kills"]
        print(f"\n2. kills ({k['kills']}, {k['killed_while_running']} while running; import of {k['contacts_per_import']} "
              f"cards {k['reference_import_s']} s, rebuild {k['reference_rebuild_s']} s)")
        print(f"   imports landed wholly {k['imports_landed']}, not at all {k['imports_absent']}; "
              f"pending marks left by kills {k['pending_marks_left']} (healed by the next read)")
        print(f"   inconsistencies {k['inconsistencies']} (goal 0) · orphan processes {k['orphan_processes']} (goal 0) · "
              f"temp files left {k['temp_files_left']} (goal 0; seen {k['temp_files_seen']})")
        for e in k["inconsistency_details"][:10]:
            print(f"   ! kill {e['n'] + 1} {e['op']} after {e['delay_s']} s: {'; '.join(e['problems'])[:300]}")
        for o in k["orphan_process_details"][:10]:
            print(f"   ! orphan after kill {o['kill'] + 1} ({o['op']}): pid {o['pid']} (ppid {o['ppid']}, "
                  f"{o['state']}, wchan {o['wchan']}) lived {o.get('outlived_s')} s after the kill: {o['cmd'][:90]}")
        for f in k["temp_files"][:10]:
            print(f"   ! temp file left: {f}")
        if k["other_new_tmp_entries"]:
            print(f"   (new /tmp entries naming hero, most likely from other processes, not counted: "
                  f"{', '.join(k['other_new_tmp_entries'][:5])})")
        bad |= bool(k["inconsistencies"] or k["orphan_processes"] or k["temp_files_left"])
    if "rss" in res:
        r = res["rss"]
        print("\n3. max RSS")
        for label, s in r.items():
            if isinstance(s, dict):
                print(f"   {label:<32} {s['max_rss_mib']:>8.1f} MiB  {s['median_wall_s']:>7.3f} s  exits {s['exits']}"
                      f"{'  ' + s['stderr'][:160] if s['stderr'] else ''}")
        print(f"   ratio {r['ratio']}×" + (f" · at the length limit {r['ratio_at_limit']}×" if "ratio_at_limit" in r else ""))
    print("=" * 96)
    return bad


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--_writer":
        kind, wid, start_at, deadline, out = sys.argv[2:7]
        writer_main(kind, int(wid), float(start_at), float(deadline), out)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--_check":
        names = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--_names" else None
        check_main(sys.argv[2], names)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="duration of the mixed writers (default 60)")
    ap.add_argument("--kills", type=int, default=50, help="SIGKILLs, alternately import and rebuild (default 50)")
    ap.add_argument("--cards", type=int, default=3000, help="vCards per killed import (default 3000)")
    ap.add_argument("--seed-contacts", type=int, default=2000, help="contacts imported before the writers (default 2000)")
    ap.add_argument("--grace", type=float, default=3.0, help="seconds a process may outlive a kill (default 3)")
    ap.add_argument("--linger", type=float, default=30.0,
                    help="how much longer an orphan is watched before the benchmark kills it (default 30)")
    ap.add_argument("--word", type=int, default=10_000, help="length of the long search word (default 10000)")
    ap.add_argument("--rss-reps", type=int, default=3, help="runs per RSS measurement (default 3)")
    ap.add_argument("--skip", action="append", default=[], choices=("mixed", "kills", "rss"), help="skip a part")
    ap.add_argument("--random-seed", type=int, default=1, help="seed of the kill moments (default 1)")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary root (its path is printed)")
    args = ap.parse_args()
    if not Path(HERO).exists():
        raise SystemExit(f"{HERO} not found: run with the Python of the venv Hero is installed in")

    import tempfile

    import datagen

    run = Run(Path(tempfile.mkdtemp(prefix="hero-bench-rel-")))
    ver = run.hero("--version").stdout.decode().strip()
    print(f"{ver} · {os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f} · root {run.root}")
    res: dict = {"hero": ver, "args": {k: str(v) for k, v in vars(args).items()}, "cpus": os.cpu_count(),
                 "loadavg_start": os.getloadavg()[0], "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        seed_vcf = run.data / "seed.vcf"
        datagen.write_vcf(seed_vcf, args.seed_contacts, seed=7)
        cp = run.hero("contact", "import", str(seed_vcf))
        if cp.returncode:
            raise SystemExit(f"seed import failed: {cp.stderr.decode(errors='replace')[-400:]}")
        if "mixed" not in args.skip:
            res["mixed"] = mixed_writers(run, args.seconds)
        if "kills" not in args.skip:
            res["kills"] = kills(run, args.kills, args.cards, args.grace, args.random_seed, args.linger)
        if "rss" not in args.skip:
            res["rss"] = rss(run, args.word, args.rss_reps)
        left = run.hero_processes()
        res["processes_left_at_end"] = left
        res["loadavg_end"] = os.getloadavg()[0]
        bad = report(res) or bool(left)
        if left:
            print(f"processes of this run still alive at the end: {left}")
        if args.json:
            args.json.write_text(json.dumps(res, indent=2, default=str))
            print(f"JSON written to {args.json}")
    finally:
        run.hero("serve", "stop")  # the resident server of this run's HERO_HOME
        for pid, _cmd in run.hero_processes(server=True):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if args.keep:
            print(f"kept {run.root}")
        else:
            shutil.rmtree(run.root, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
