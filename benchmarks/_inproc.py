"""In-process breakdowns, run by ``bench_core.py`` in a child process (never imported by it).

    python benchmarks/_inproc.py phases                 # contact list, phase by phase
    python benchmarks/_inproc.py profile N WARM ARGV    # cProfile of cli._main(ARGV), top N
                                                        # (WARM, ARGV: JSON lists; WARM runs first)
    python benchmarks/_inproc.py vcard FILE N           # cProfile of parsing N cards serially

The child inherits the benchmark's environment (its temporary HERO_HOME and HERO_CONTEXT).
These helpers reach into herotui internals (``contact._row``, ``render.output``...): when a
refactor moves them, they say so and the benchmark carries on.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time


class _FakeTTY(io.StringIO):
    """A stdout that says it is a terminal, so the human (Rich) rendering path runs."""

    def isatty(self) -> bool:  # noqa: D401
        return True


def _swap_stdout(new):
    old = sys.stdout
    sys.stdout = new
    return old


def phases() -> None:
    """Where ``hero contact list`` spends its time, without profiler overhead (ms)."""
    out: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        out[name] = round((now - t) * 1000, 2)
        t = now

    from herotui.frontends import cli  # noqa: F401  (typer, herotui core)

    lap("import herotui.frontends.cli (typer, registry)")
    from herotui import contexts, registry

    registry.load("contact")
    lap("import contact service (pydantic, models)")
    import typer

    app = cli.build_app(["contact", "list"])
    typer.main.get_command(app)
    lap("build Typer app + click command")
    import duckdb  # noqa: F401

    lap("import duckdb")
    ctx = contexts.current()
    lap("resolve context (toml)")
    from herotui.services import contact

    sql = f"SELECT {contact.COLUMNS} FROM contacts ORDER BY lower(name), id"
    cm = ctx.read()
    conn = cm.__enter__()
    lap("open db read-only + state/index checks")
    rows = conn.execute(sql).fetchall()
    lap(f"query + fetchall ({len(rows)} rows)")
    cm.__exit__(None, None, None)
    lap("close db")
    models = [contact._row(r) for r in rows]
    lap("build pydantic models (_row)")
    v = registry.get("contact.list")
    v.validate({})
    lap("validate args (pydantic create_model)")
    from herotui.frontends import render

    old = _swap_stdout(io.StringIO())
    try:
        render.output(models, False)
        lap("render piped (TSV)")
        sys.stdout = io.StringIO()
        render.output(models, True)
        lap("render --json (model_dump + json.dumps)")
        os.environ.setdefault("COLUMNS", "160")
        sys.stdout = _FakeTTY()
        render.output(models, False)
        lap("render tty (Rich table)")
    finally:
        sys.stdout = old
    print(json.dumps(out))


_IMPORT_MACHINERY = ("<frozen importlib", "builtins.exec>", "builtins.__import__>", "(import_module)",
                     "(<module>)", "builtins.__build_class__>")


def profile(top: int, warm: list[str], argv: list[str]) -> None:
    """cProfile of ``cli._main(argv)``, top ``top`` functions by cumulative time.

    When ``warm`` is given, ``cli._main(warm)`` runs first (unprofiled), so the profile shows
    the steady-state work of the command rather than its imports (measured separately).
    Import-machinery frames are left out of the listing; their total is reported instead.
    """
    import cProfile
    import pstats

    from herotui.frontends import cli

    devnull = open(os.devnull, "w")
    old = _swap_stdout(devnull)
    prof = cProfile.Profile()
    cold = None
    try:
        if warm:
            t0 = time.perf_counter()
            cli._main(warm)
            cold = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        prof.enable()
        code = cli._main(argv)
        prof.disable()
        wall = (time.perf_counter() - t0) * 1000
        # a read-only call again without the profiler: its real in-process cost
        t0 = time.perf_counter()
        if warm and warm == argv:
            cli._main(argv)
            plain = (time.perf_counter() - t0) * 1000
        else:
            plain = None
    finally:
        sys.stdout = old
    stats = pstats.Stats(prof)
    rows, imports = [], 0.0
    for (file, line, func), (cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{_short(file)}:{line}({func})" if line else func
        if func == "_find_and_load":
            imports = max(imports, ct)
        if any(m in where for m in _IMPORT_MACHINERY):
            continue
        rows.append((ct, tt, nc, where))
    by_self = sorted(rows, key=lambda r: -r[1])[:10]
    rows.sort(key=lambda r: -r[0])
    print(json.dumps({"by_self": [{"cum_ms": round(ct * 1000, 1), "self_ms": round(tt * 1000, 1), "calls": nc,
                                   "where": where} for ct, tt, nc, where in by_self],
                      "exit": code, "wall_ms": round(wall, 1), "cold_ms": cold and round(cold, 1),
                      "plain_ms": plain and round(plain, 1), "imports_ms": round(imports * 1000, 1),
                      "rows": [{"cum_ms": round(ct * 1000, 1), "self_ms": round(tt * 1000, 1), "calls": nc,
                                "where": where} for ct, tt, nc, where in rows[:top]]}))


def vcard(path: str, sample: int) -> None:
    """cProfile of parsing ``sample`` cards of ``path`` serially (what each pool worker does)."""
    import cProfile
    import pstats

    from herotui.services import _vcard

    cards, _ = _vcard.split(open(path, encoding="utf-8-sig").read())
    cards = cards[:sample]
    _vcard._parse_batch(cards[:20])  # imports (vobject, email_validator) out of the way
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    _vcard._parse_batch(cards)
    prof.disable()
    wall = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    _vcard._parse_batch(cards)
    plain = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    _vcard.split(open(path, encoding="utf-8-sig").read())
    split_ms = (time.perf_counter() - t0) * 1000
    rows = []
    for (file, line, func), (cc, nc, tt, ct, _callers) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        rows.append({"cum_ms": round(ct * 1000, 1), "self_ms": round(tt * 1000, 1), "calls": nc,
                     "where": f"{_short(file)}:{line}({func})" if line else func})
    print(json.dumps({"cards": len(cards), "wall_ms": round(wall, 1), "plain_ms": round(plain, 1),
                      "split_all_ms": round(split_ms, 1),
                      "rows": sorted(rows, key=lambda r: -r["cum_ms"])[:15],
                      "by_self": sorted(rows, key=lambda r: -r["self_ms"])[:10]}))


def _short(path: str) -> str:
    for marker in ("site-packages/", "/herotui/", "lib/python3"):
        i = path.rfind(marker)
        if i >= 0:
            return ("herotui/" if marker == "/herotui/" else "") + path[i + len(marker):]
    return path


if __name__ == "__main__":
    if sys.argv[1] == "phases":
        phases()
    elif sys.argv[1] == "profile":
        profile(int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]))
    elif sys.argv[1] == "vcard":
        vcard(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit(__doc__)
