"""Foundry benchmark: document ingest (10k Markdown pages, a few hundred PDFs) and search.

Run by hand (not by CI; these are not timed tests):

    . .venv/bin/activate
    python benchmarks/bench_foundry.py                       # 10k pages, 300 PDFs, 15 runs
    python benchmarks/bench_foundry.py --docs 2000 --pdfs 50 --runs 5     # quick look

Everything happens in a temporary HERO_HOME (never the user's). Ingest is the whole
`hero document add FOLDER` command as a user runs it. Each measured search is a fresh process,
interleaved with its floor (import DuckDB, open the same context's database read-only); the
in-process search is `herotui.store.index.search` called warm in one process. See
benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PY = sys.executable
HERO = str(Path(sys.executable).parent / "hero")
MD_TARGET = 200.0  # Markdown documents/s, at least
SEARCH_TARGET = 1.5  # `hero search` wall / duckdb floor, at most
INPROC_P50_TARGET = 2.0  # ms, at most
CONTEXT = "foundry"
# `hero search` rows: a frequent topic word, two words, a name, a rare code name (filled in
# from the generator), a typo (fuzzy), a word that matches nothing
SEARCH_WORDS = ["forecast", "hypothesis sample", "alex", None, "forcast", "zzyzxq"]


# ---------------------------------------------------------------------------- in-process child


def _child_search(ctx_name: str, queries: list[str], rounds: int) -> None:
    """Warm, then ``rounds`` shuffled passes of ``index.search(ctx, q, limit=20)`` over the
    queries: per-call wall ms. Also the whole search verb (``search.query``), and the split
    of one call (opening the index, the search, the snippets), for the breakdown."""
    import cProfile
    import pstats

    from herotui import contexts
    from herotui.store import db, index

    ctx = contexts.load(ctx_name)
    with db.searchable(ctx):
        pass
    for q in queries:  # warm: imports, OS cache, tantivy's mmap
        index.search(ctx, q, limit=20)
    rnd = random.Random(5)
    samples, hits, empty = [], 0, 0
    for _ in range(rounds):
        order = queries[:]
        rnd.shuffle(order)
        for q in order:
            t0 = time.perf_counter()
            res = index.search(ctx, q, limit=20)
            samples.append((time.perf_counter() - t0) * 1000)
            hits += len(res)
            empty += not res
    # the whole verb, in-process (argument handling, searchable check, pydantic models)
    from herotui.services import search as search_service

    verb = []
    for q in queries:
        t0 = time.perf_counter()
        search_service.query(ctx, q, limit=20)
        verb.append((time.perf_counter() - t0) * 1000)
    # split of a call: what opening the index costs on its own, per call
    import tantivy

    opens = []
    for _ in range(200):
        t0 = time.perf_counter()
        idx = index.open_index(ctx)
        opens.append((time.perf_counter() - t0) * 1000)
    searcher = idx.searcher()
    qparsed = [idx.parse_query_lenient(q, list(index.FIELDS), field_boosts=index.BOOSTS)[0] for q in queries]
    bare = []
    for q in qparsed:
        t0 = time.perf_counter()
        res = searcher.search(q, limit=40)
        for _s, addr in res.hits:
            searcher.doc(addr)
        bare.append((time.perf_counter() - t0) * 1000)
    snip = []
    for q in qparsed:
        t0 = time.perf_counter()
        gen = tantivy.SnippetGenerator.create(searcher, q, idx.schema, "body")
        for _s, addr in searcher.search(q, limit=20).hits:
            gen.snippet_from_doc(searcher.doc(addr))
        snip.append((time.perf_counter() - t0) * 1000)
    prof = cProfile.Profile()
    prof.enable()
    for q in queries:
        index.search(ctx, q, limit=20)
    prof.disable()
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        where = f"{_short(file)}:{line}({func})" if line else func
        rows.append({"cum_ms": round(ct * 1000, 1), "self_ms": round(tt * 1000, 1), "calls": nc, "where": where})

    def q(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return round(xs[min(len(xs) - 1, int(p * len(xs)))], 3)

    print(json.dumps({
        "samples_ms": [round(s, 3) for s in samples], "queries": len(queries), "rounds": rounds,
        "hits_per_query": round(hits / len(samples), 1), "empty": empty,
        "verb_p50_ms": q(verb, 0.5), "verb_p95_ms": q(verb, 0.95),
        "split_p50_ms": {"open_index (tantivy.Index + schema + mkdir)": q(opens, 0.5),
                         "search + fetch 40 docs (parsed query, no fuzzy)": q(bare, 0.5),
                         "snippets for 20 hits": q(snip, 0.5)},
        "profile_calls": len(queries),
        "rows": sorted(rows, key=lambda r: -r["cum_ms"])[:15],
        "by_self": sorted(rows, key=lambda r: -r["self_ms"])[:10],
    }))


from _inproc import _short  # noqa: E402  (one shortener of profile paths for both children)


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "_inproc-search":
    _child_search(sys.argv[2], json.loads(Path(sys.argv[3]).read_text()), int(sys.argv[4]))
    sys.exit(0)


import bench_core  # noqa: E402  (after the child entry: the child needs none of it)
import foundry_data  # noqa: E402
from bench_core import (Measure, add_common_args, first_line, measure_all, note_if_busy, print_importtime,  # noqa: E402
                        print_profile, run, start, status)


# ---------------------------------------------------------------------------- steps


def step_generate(data: Path, n_docs: int, n_pdfs: int) -> tuple[Path, Path, dict]:
    t0 = time.perf_counter()
    md, pdf = data / "markdown", data / "pdf"
    md_bytes = foundry_data.write_markdown(md, n_docs)
    pdf_bytes = foundry_data.write_pdfs(pdf, n_pdfs)
    words = sum(len(p.read_text(encoding="utf-8").split()) for p in sorted(md.rglob("*.md"))[:200])
    info = {"markdown_bytes": md_bytes, "pdf_bytes": pdf_bytes, "words_per_page_sample": round(words / min(200, n_docs) if n_docs else 0)}
    print(f"generated {n_docs:,} Markdown pages ({md_bytes / 1e6:.1f} MB, ~{info['words_per_page_sample']} words each, "
          f"{(n_docs + 249) // 250} folders) and {n_pdfs:,} PDFs of 1-3 pages ({pdf_bytes / 1e6:.1f} MB) "
          f"in {time.perf_counter() - t0:.1f} s")
    return md, pdf, info


def step_ingest(label: str, folder: Path, n: int, env: dict) -> dict:
    wall, cp = run([HERO, "--context", CONTEXT, "--json", "document", "add", str(folder)], env, timeout=3600)
    if cp.returncode != 0:
        raise SystemExit(f"hero document add {folder} failed: {first_line(cp)}")
    try:
        report = json.loads(cp.stdout)
    except ValueError:
        report = {}
    added = len(report.get("added", [])) if isinstance(report, dict) else n
    problems = []
    if added != n:
        problems.append(f"added {added} of {n}; skipped: {report.get('skipped', [])[:3]}; "
                        f"duplicates: {len(report.get('duplicates', []))}")
    rate = added / wall
    print(f"  {label}: {added:,} documents in {wall:.2f} s ({rate:,.0f} documents/s)")
    for p in problems:
        print(f"  WARNING: {p}")
    return {"wall_s": round(wall, 3), "added": added, "docs_per_s": round(rate, 1), "problems": problems}


def step_inproc(env: dict, queries: list[str], rounds: int, tmp: Path) -> dict:
    qfile = tmp / "queries.json"
    qfile.write_text(json.dumps(queries))
    cp = subprocess.run([PY, str(Path(__file__).resolve()), "_inproc-search", CONTEXT, str(qfile), str(rounds)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if cp.returncode != 0:
        return {"error": first_line(cp)}
    data = json.loads(cp.stdout.decode().strip().splitlines()[-1])
    s = data["samples_ms"]
    data["p50_ms"] = statistics.median(s)
    data["p95_ms"] = bench_core.p95(s)
    data["status"] = "PASS" if data["p50_ms"] <= INPROC_P50_TARGET else "MISS"
    print(f"  {len(s):,} calls ({data['queries']} queries × {rounds}): p50 {data['p50_ms']:.2f} ms, "
          f"p95 {data['p95_ms']:.2f} ms; {data['hits_per_query']} hits per query, {data['empty']} calls found nothing")
    return data


# ---------------------------------------------------------------------------- report


def print_table(measures: list[Measure], md: dict, pdf: dict | None, inproc: dict, n_docs: int, n_pdfs: int) -> None:
    by_key = {m.key: m for m in measures}
    head = f"{'measurement':<38} {'median ms':>10} {'p95 ms':>9}  {'floor':<14} {'ratio':>7}  {'target':<9} {'result':<6}"
    print("\n" + head)
    print("-" * len(head))
    for m in measures:
        ratio, target, st = status(m, by_key)
        if m.error:
            print(f"{m.label:<38} {'—':>10} {'—':>9}  {m.floor or '':<14} {'':>7}  {'':<9} ERROR  {m.error[:80]}")
            continue
        print(f"{m.label:<38} {m.median_ms:10.1f} {m.p95_ms:9.1f}  {m.floor or '':<14} {ratio:>7}  {target:<9} {st:<6}")
    if inproc.get("error"):
        print(f"{'index.search in-process (warm)':<38} {'—':>10} {'—':>9}  {'':<14} {'':>7}  {'':<9} ERROR  {inproc['error'][:80]}")
    else:
        print(f"{'index.search in-process (warm)':<38} {inproc['p50_ms']:10.2f} {inproc['p95_ms']:9.2f}  {'':<14} "
              f"{'':>7}  {'p50 <= 2':<9} {inproc['status']:<6}")
        print(f"{'  (search.query verb in-process)':<38} {inproc['verb_p50_ms']:10.2f} {inproc['verb_p95_ms']:9.2f}  "
              f"{'':<14} {'':>7}  {'info':<9} {'-':<6}")
    print(f"{'document add (' + format(n_docs, ',') + ' Markdown)':<38} {md['wall_s'] * 1000:10.0f} {md['wall_s'] * 1000:9.0f}  "
          f"{'':<14} {md['docs_per_s']:>7,.0f}/s  {'>= 200/s':<9} {md['status']:<6}")
    if pdf:
        print(f"{'document add (' + format(n_pdfs, ',') + ' PDFs)':<38} {pdf['wall_s'] * 1000:10.0f} {pdf['wall_s'] * 1000:9.0f}  "
              f"{'':<14} {pdf['docs_per_s']:>7,.0f}/s  {'info':<9} {'-':<6}")
    print("(document add: one wall time, in ms, of the whole command; ratio column = documents per second; "
          "in-process: p50 and p95 of every call)")
    for m in measures:
        if m.note:
            print(f"note: {m.label.strip()}: {m.note}")


def print_inproc_breakdown(data: dict) -> None:
    print(f"\n  index.search in-process: the whole verb (search.query) p50 {data['verb_p50_ms']:.2f} ms; "
          "one call split (p50 of each part alone, ms):")
    for k, v in data["split_p50_ms"].items():
        print(f"    {v:8.2f}  {k}")
    print(f"  cProfile of {data['profile_calls']} warm index.search calls:")
    print(f"    {'cum ms':>8} {'self ms':>8} {'calls':>8}  function")
    for r in data["rows"]:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f} {r['calls']:8}  {r['where']}")
    print("    top by self time:")
    for r in data["by_self"]:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f} {r['calls']:8}  {r['where']}")


# ---------------------------------------------------------------------------- main


def _breakdown(a, misses: set[str], inproc: dict, md_dir: Path, env: dict) -> dict:
    """With --breakdown always, or for the misses: import times and profiles of what missed."""
    search_miss = any(k.startswith("search") for k in misses)
    breakdown: dict = {}
    want = (lambda k: True) if a.breakdown == "always" else (lambda k: k in misses) if a.breakdown == "misses" else (lambda k: False)
    if a.breakdown == "always" or (a.breakdown == "misses" and misses):
        print("\nBreakdown (to find what dominates each miss):")
    if a.breakdown == "always" or (a.breakdown == "misses" and search_miss):
        breakdown["importtime_search"] = print_importtime(
            "imports of a whole `hero search forecast` run",
            "from herotui.frontends.cli import _main; _main(['search', 'forecast'])", env)
        breakdown["profile_search"] = print_profile("search", ["search", "forecast"], env, warm=["search", "forecast"])
    if (want("inproc") or a.breakdown == "always") and not inproc.get("error"):
        print_inproc_breakdown(inproc)
    if want("ingest"):
        # 500 files = one batch (two generated folders); the warm-up add (other folders,
        # another context) takes the imports and the first-open costs out of the profile
        sub = sorted(p for p in md_dir.iterdir() if p.is_dir())
        if len(sub) >= 3:
            for name in ("foundry-warm", "foundry-prof"):
                run([HERO, "context", "create", name], env)
            breakdown["importtime_add"] = print_importtime(
                "imports of a whole `hero document add` run (one folder, 250 files)",
                f"from herotui.frontends.cli import _main; _main(['--context', 'foundry-warm', 'document', 'add', {str(sub[2])!r}])",
                env)
            breakdown["profile_add"] = print_profile(
                "document add of 500 Markdown files (one batch) into a fresh context",
                ["--context", "foundry-prof", "document", "add", str(sub[0]), str(sub[1])], env, top=25,
                warm=["--context", "foundry-warm", "document", "add", str(sub[3] if len(sub) > 3 else sub[2])])
    return breakdown


def _write_json(a, meta: dict, gen: dict, md: dict, pdf: dict | None, measures: list[Measure], inproc: dict,
                queries: list, breakdown: dict, misses: set[str]) -> None:
    """Every measurement, the in-process search and the breakdown, as JSON to --json."""
    by_key = {m.key: m for m in measures}

    def mrow(m: Measure) -> dict:
        return {"key": m.key, "label": m.label, "argv": [Path(x).name if i == 0 else x for i, x in enumerate(m.argv)],
                "median_ms": round(m.median_ms, 2) if m.samples else None,
                "p95_ms": round(m.p95_ms, 2) if m.samples else None,
                "samples_ms": [round(s * 1000, 2) for s in m.samples], "floor": m.floor,
                "ratio": status(m, by_key)[0], "target": m.target, "result": status(m, by_key)[2],
                "error": m.error, "note": m.note}

    result = {
        "meta": {**meta, "docs": a.docs, "pdfs": a.pdfs, "runs": a.runs, "warmup": a.warmup,
                 "queries": a.queries, "rounds": a.rounds, **gen},
        "ingest_markdown": {**md, "target_docs_per_s": MD_TARGET},
        "ingest_pdf": pdf,
        "measurements": [mrow(m) for m in measures],
        "inproc_search": {k: v for k, v in inproc.items() if k not in ("rows", "by_self")} | {
            "target_p50_ms": INPROC_P50_TARGET, "queries": queries},
        "breakdown": breakdown | ({"inproc_profile": {"rows": inproc.get("rows"), "by_self": inproc.get("by_self")}}
                                  if inproc.get("rows") else {}),
        "misses": sorted(misses),
    }
    a.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\nwrote {a.json}")


def main() -> int:
    ap = argparse.ArgumentParser(description="Hero foundry benchmark: document ingest and search (see benchmarks/README.md).")
    ap.add_argument("--docs", type=int, default=10_000, help="generated Markdown pages (default 10000)")
    ap.add_argument("--pdfs", type=int, default=300, help="generated PDFs, 1-3 pages each (default 300; 0 skips)")
    add_common_args(ap)
    ap.add_argument("--queries", type=int, default=200, help="varied queries for the in-process search (default 200)")
    ap.add_argument("--rounds", type=int, default=5, help="passes over those queries (default 5)")
    a = ap.parse_args()

    root, home, data, env, meta = start("hero-foundry-")
    try:

        md_dir, pdf_dir, gen = step_generate(data, a.docs, a.pdfs)
        _, cp = run([HERO, "context", "create", CONTEXT], env)
        if cp.returncode != 0:
            raise SystemExit(f"cannot create context {CONTEXT}: {first_line(cp)}")
        print(f"adding documents into the fresh context '{CONTEXT}':")
        md = step_ingest(f"hero document add {md_dir.name}/", md_dir, a.docs, env)
        md["status"] = "PASS" if md["docs_per_s"] >= MD_TARGET else "MISS"
        pdf = step_ingest(f"hero document add {pdf_dir.name}/", pdf_dir, a.pdfs, env) if a.pdfs else None
        env["HERO_CONTEXT"] = CONTEXT
        db = home / "contexts" / CONTEXT / "hero.duckdb"
        if not db.exists():
            raise SystemExit(f"expected the context database at {db}")
        print(f"  context size: database {db.stat().st_size / 1e6:.0f} MB, index "
              f"{sum(p.stat().st_size for p in (db.parent / 'index').rglob('*') if p.is_file()) / 1e6:.0f} MB, blobs "
              f"{sum(p.stat().st_size for p in (db.parent / 'blobs').rglob('*') if p.is_file()) / 1e6:.0f} MB")

        words = list(SEARCH_WORDS)
        words[words.index(None)] = foundry_data.Writer(7).rare[3]  # a code name of the Markdown corpus
        duck_floor = f"import duckdb; duckdb.connect({str(db)!r}, read_only=True).close()"
        measures = [
            Measure("pass", "python -c pass", [PY, "-c", "pass"]),
            Measure("duck", "duckdb import+open+close", [PY, "-c", duck_floor]),
            Measure("duckimp", "  (python -c 'import duckdb')", [PY, "-c", "import duckdb"], "duck", None),
        ]
        for i, w in enumerate(words):
            measures.append(Measure(f"search{i}", f"hero search {w}"[:38], [HERO, "search", w], "duck", SEARCH_TARGET))
        measures.append(Measure("searchdoc", "hero search forecast --kind document", [HERO, "search", "forecast", "--kind",
                                                                                      "document"], "duck", None))
        measures.append(Measure("searchjson", "hero search forecast --json", [HERO, "search", "forecast", "--json"],
                                "duck", None))
        print(f"measuring {len(measures)} commands: {a.warmup} warm-up + {a.runs} runs each, interleaved:")
        measure_all(measures, env, a.runs, a.warmup)

        queries = foundry_data.queries(a.queries)
        print(f"in-process index.search over {len(queries)} varied queries (warm, {a.rounds} passes):")
        inproc = step_inproc(env, queries, a.rounds, root)

        print_table(measures, md, pdf, inproc, a.docs, a.pdfs)
        note_if_busy(meta)
        for w in (md, pdf or {}):
            for p in w.get("problems", []):
                print(f"note: {p}")

        by_key = {m.key: m for m in measures}
        misses = {m.key for m in measures if status(m, by_key)[2] == "MISS"}
        if md["status"] == "MISS":
            misses.add("ingest")
        if inproc.get("status") == "MISS" or inproc.get("error"):
            misses.add("inproc")
        breakdown = _breakdown(a, misses, inproc, md_dir, env)
        if a.json:
            _write_json(a, meta, gen, md, pdf, measures, inproc, queries, breakdown, misses)
        return 1 if misses else 0
    finally:
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
