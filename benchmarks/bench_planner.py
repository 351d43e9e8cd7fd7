"""Offline planner: latency (p50/p95 per utterance) and accuracy over the public test set.

    python benchmarks/bench_planner.py [--rounds 5]

Builds a demo home in a temporary folder (the same data as tests/test_planner.py), then
plans every utterance of tests/data/utterances.yaml with the offline templates only (no
model, no network). Latency is wall time of ``execute.make_plan`` in a warm process (the
templates compiled and the context's live names cached, as in the TUI or the voice loop);
the one-off costs (compiling the templates, the first read of a context) are reported apart.
Accuracy: the share of utterances whose plan matches the expected one (test_planner's check).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    opts = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hero-bench-planner-"))
    os.environ.update(HERO_HOME=str(home), HERO_TZ="Europe/Brussels")
    os.environ.pop("HERO_CONTEXT", None)
    import test_planner as tp  # the demo builder and the plan check

    from herotui import contexts
    from herotui.planner import execute, intents

    tp.build_demo_home()
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
        for _ in range(opts.rounds):
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
    print(f"utterances: {len(tp.CASES)}  rounds each: {opts.rounds}")
    print(f"one-off: compile templates {compile_ms:.0f} ms, first read of {len(by_ctx)} contexts {live_ms:.0f} ms")
    print(f"plan latency (warm, median per utterance): p50 {p(0.50):.2f} ms  p95 {p(0.95):.2f} ms  max {times[-1]:.2f} ms")
    print(f"accuracy: {ok}/{len(tp.CASES)} = {100 * ok / len(tp.CASES):.1f}%")
    for f in failures:
        print(f"  wrong: {f}")


if __name__ == "__main__":
    main()
