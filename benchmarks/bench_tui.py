"""The terminal UI's first paint / time to interactive and memory, against ``import textual.app``.

Each run is a fresh process with a fresh HERO_HOME holding a few records. Inside it the app
runs headless (``run_test``) at 120x40; we record the wall time from process start to the
first idle after mount (first paint, ready for keys), then open every island and wait for
its load, and read the peak RSS. The baseline is ``python -c "import textual.app"``.

    python benchmarks/bench_tui.py [--runs 5] [--json out.json]

Targets: first paint <= 700 ms, RSS <= 200 MB. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import time, sys, os, resource
T0 = float(sys.argv[1])
import asyncio
from herotui.tui.shell import HeroApp
t_import = time.time()
async def main():
    app = HeroApp()
    first = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()          # mounted, first frame composed, message queue idle
        first['paint'] = time.time()
        for key in ('contacts', 'calendar', 'documents', 'slides', 'knowledge', 'search', 'assistant', 'home'):
            app.show_island(key)
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"import_ms": (t_import - T0) * 1000, "paint_ms": (first['paint'] - T0) * 1000, "rss_mb": rss}))
import json
asyncio.run(main())
"""

SEED = r"""
from herotui import registry, contexts
ctx = contexts.current()
for i in range(50):
    registry.call("contact.create", {"name": f"Person {i}", "emails": [f"p{i}@example.com"]}, ctx)
registry.call("calendar.add", {"title": "Quarterly review", "start": "today 23:00"}, ctx)
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json")
    a = ap.parse_args()
    home = tempfile.mkdtemp(prefix="hero-bench-tui-")
    env = dict(os.environ, HERO_HOME=home)
    subprocess.run([sys.executable, "-c", SEED], env=env, check=True)
    base = []
    for _ in range(a.runs + 1):
        t = time.time()
        subprocess.run([sys.executable, "-c", "import textual.app"], env=env, check=True)
        base.append((time.time() - t) * 1000)
    samples = []
    for i in range(a.runs + 1):  # the first run warms the .pyc files and the index
        out = subprocess.run([sys.executable, "-c", CHILD, repr(time.time())], env=env, capture_output=True, text=True, check=True)
        if i:
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    paint = statistics.median(s["paint_ms"] for s in samples)
    imp = statistics.median(s["import_ms"] for s in samples)
    rss = max(s["rss_mb"] for s in samples)
    baseline = statistics.median(base[1:])
    print(f"import textual.app (process wall)   {baseline:7.0f} ms")
    print(f"hero TUI import (from process start) {imp:7.0f} ms")
    print(f"first paint / interactive           {paint:7.0f} ms   target <= 700   {'ok' if paint <= 700 else 'MISSED'}")
    print(f"peak RSS, every island opened       {rss:7.0f} MB   target <= 200   {'ok' if rss <= 200 else 'MISSED'}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"baseline_ms": base, "samples": samples}, fh, indent=2)
    return 0 if paint <= 700 and rss <= 200 else 1


if __name__ == "__main__":
    sys.exit(main())
