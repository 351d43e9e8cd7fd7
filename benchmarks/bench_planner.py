"""Offline planner: latency and accuracy over the public test set and the development set.

    python benchmarks/bench_planner.py [--rounds 5] [--dev-only]

1. The intent model, when there is one (``herotui.planner.classify`` with ``load()``): the
   time of the first ``load()`` and the growth of the process's resident memory (VmRSS),
   measured before anything is planned. Otherwise "intent model: not present".
2. The public set (skipped with ``--dev-only``): builds a demo home in a temporary folder
   (the same data as tests/test_planner.py), then plans every utterance of
   tests/data/utterances.yaml with the offline templates only (no model, no network).
   Latency is wall time of ``execute.make_plan`` in a warm process (the templates compiled
   and the context's live names cached, as in the TUI or the voice loop); the one-off costs
   (compiling the templates, the first read of a context) are reported apart. Accuracy: the
   share of utterances whose plan matches the expected one (test_planner's check).
3. The development set (tests/data/understanding-dev.tsv, scored by tests/devset.py as
   tests/test_understanding.py does): a demo home built under the reference clock (Sunday
   2026-12-06 12:00 Europe/Brussels), every request planned once cold (reported apart),
   then ``--rounds`` times warm (the median per request gives p50/p95), every plan checked
   and run in a fresh copy. Prints the score overall, per tag (a row counts for each of its
   tags) and per service, and every wrong row with why.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def rss_kb() -> int | None:
    """Resident memory of this process in kB (Linux /proc), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def intent_model() -> None:
    """Load time and memory of the intent model, if the planner has one."""
    name = "herotui.planner.classify"
    try:
        present = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        present = False
    if not present:
        print("intent model: not present")
        return
    before = rss_kb()
    t0 = time.perf_counter()
    try:
        mod = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001  (a benchmark reports, it does not stop)
        print(f"intent model: {name} does not import: {type(exc).__name__}: {exc}")
        return
    import_ms = (time.perf_counter() - t0) * 1000
    load = getattr(mod, "load", None)
    if not callable(load):
        print(f"intent model: {name} has no load() (import {import_ms:.0f} ms)")
        return
    t0 = time.perf_counter()
    try:
        model = load()
    except Exception as exc:  # noqa: BLE001
        print(f"intent model: load() failed: {type(exc).__name__}: {exc}")
        return
    load_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    load()
    again_ms = (time.perf_counter() - t0) * 1000
    after = rss_kb()
    mem = f"RSS +{(after - before) / 1024:.1f} MiB ({after / 1024:.0f} MiB now)" if before and after else "RSS unknown"
    got = "no model (load() returned None)" if model is None else type(model).__name__
    print(f"intent model: {got}; import {import_ms:.0f} ms, first load() {load_ms:.1f} ms, second {again_ms:.1f} ms; {mem}")


def public_set(rounds: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="hero-bench-planner-"))
    os.environ.update(HERO_HOME=str(home), HERO_TZ="Europe/Brussels")
    os.environ.pop("HERO_CONTEXT", None)
    try:
        _public_set(rounds)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _public_set(rounds: int) -> None:
    import test_planner as tp  # the utterances and the plan check
    from support import build_demo_home

    from herotui import contexts
    from herotui.planner import execute, intents

    build_demo_home()
    t0 = time.perf_counter()
    intents.compiled()
    compile_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    for name in contexts.names():
        intents.live_data(contexts.load(name))
    live_ms = (time.perf_counter() - t0) * 1000

    ok, failures, times = 0, [], []
    by_ctx = {n: contexts.load(n) for n in contexts.names()}
    for case in tp.CASES:
        active = case.get("active", tp.DEFAULT_ACTIVE)
        contexts.save_choice(active)
        ctx = by_ctx[active]
        samples = []
        for _ in range(rounds):
            t = time.perf_counter()
            plan = execute.make_plan(ctx, case["text"], use_model=False)
            samples.append((time.perf_counter() - t) * 1000)
        times.append(statistics.median(samples))
        try:
            tp.check_plan(plan, case, active)
            ok += 1
        except AssertionError:
            failures.append(case["text"])
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
    print("== public set ==")
    print(f"utterances: {len(tp.CASES)}  rounds each: {rounds}")
    print(f"one-off: compile templates {compile_ms:.0f} ms, first read of {len(by_ctx)} contexts {live_ms:.0f} ms")
    print(f"plan latency (warm, median per utterance): p50 {p(0.50):.2f} ms  p95 {p(0.95):.2f} ms  max {times[-1]:.2f} ms")
    print(f"accuracy: {ok}/{len(tp.CASES)} = {100 * ok / len(tp.CASES):.1f}%")
    for f in failures:
        print(f"  wrong: {f}")


def dev_set(rounds: int, path: Path | None = None) -> None:
    import devset
    from support import make_demo_home

    work = Path(tempfile.mkdtemp(prefix="hero-bench-devset-"))
    try:
        rows = devset.load_rows(path or devset.DEV_SET)
        with devset.frozen_clock():
            t0 = time.perf_counter()
            template = make_demo_home(work / "template")
            build_s = time.perf_counter() - t0
            cold = work / "cold"
            shutil.copytree(template, cold)
            with devset.hero_home(cold):
                problems = devset.data_problems(rows)
                cold_ms = [devset.make_plan(row)[1] for row in rows]
            t0 = time.perf_counter()
            outcomes = devset.score(rows, template, work / "score", rounds=rounds, warm=True)
            score_s = time.perf_counter() - t0
        ms = [o.ms for o in outcomes]
        print("== development set ==")
        print(f"requests: {len(rows)}  rounds each: {rounds}  (demo home built in {build_s:.1f} s, "
              f"planned, checked and run in {score_s:.1f} s)")
        print(f"one-off: first planning pass {sum(cold_ms):.0f} ms in all, the first request {cold_ms[0]:.0f} ms")
        print(f"plan latency (warm, median per request): p50 {devset.percentile(ms, 0.50):.2f} ms  "
              f"p95 {devset.percentile(ms, 0.95):.2f} ms  max {max(ms):.2f} ms")
        print(devset.report(outcomes, problems))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dev-only", action="store_true", help="skip the public utterance set")
    ap.add_argument("--set", type=Path, help="score this request set (same format) instead of the development set")
    opts = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hero-bench-planner-model-"))
    os.environ.update(HERO_HOME=str(scratch), HERO_TZ="Europe/Brussels")  # in case load() looks at the home
    os.environ.pop("HERO_CONTEXT", None)
    try:
        intent_model()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if not opts.dev_only:
        public_set(opts.rounds)
        print()
    dev_set(opts.rounds, opts.set)


if __name__ == "__main__":
    main()
