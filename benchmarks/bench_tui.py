"""The terminal UI's first paint / time to interactive and memory, against ``import textual.app``.

Two measurements, each a fresh process on a HERO_HOME holding a few records:

* As a user sees it: ``hero`` (the installed console script) on a real PTY of 120x40 with
  TERM=xterm-256color. First paint = from spawning the process to the first frame on the
  terminal holding the header and the island tabs; interactive = the Home island's data is
  on screen (the agenda's "Quarterly review"). Then ctrl+q, and the exit status must be 0.
* Headless (``run_test``) in one process: open every island, wait for their loads, and read
  the peak RSS.

The baseline is ``python -c "import textual.app"`` (process wall time) in the same run.

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
        for key in ('contacts', 'calendar', 'documents', 'slides', 'knowledge', 'search', 'assistant', 'terminals', 'home'):
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


def on_pty(env: dict, timeout: float = 20.0) -> dict:
    """Spawn ``hero`` on a 120x40 PTY; times (ms) to the first frame and to Home's data."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios

    hero = os.path.join(os.path.dirname(sys.executable), "hero")
    t0 = time.time()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(hero, [hero], dict(env, TERM="xterm-256color"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    out, marks = b"", {}
    want = {"paint": (b"Contacts", b"Terminals"), "interactive": (b"Quarterly review",)}
    while len(marks) < len(want) and time.time() - t0 < timeout:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
        for name, needles in want.items():
            if name not in marks and all(n in out for n in needles):
                marks[name] = (time.time() - t0) * 1000
    os.write(fd, b"\x11")  # ctrl+q
    deadline = time.time() + 10
    status = None
    while time.time() < deadline:
        try:
            if select.select([fd], [], [], 0.05)[0]:
                os.read(fd, 65536)
        except OSError:
            pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    if len(marks) < len(want) or status != 0:
        raise SystemExit(f"hero on a PTY: marks {marks}, exit status {status}")
    return marks


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
    ptys = [on_pty(env) for _ in range(a.runs + 1)][1:]  # the first run warms .pyc files and the index
    samples = []
    for i in range(a.runs + 1):
        out = subprocess.run([sys.executable, "-c", CHILD, repr(time.time())], env=env, capture_output=True, text=True, check=True)
        if i:
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    paint = statistics.median(p["paint"] for p in ptys)
    ready = statistics.median(p["interactive"] for p in ptys)
    headless = statistics.median(s["paint_ms"] for s in samples)
    imp = statistics.median(s["import_ms"] for s in samples)
    rss = max(s["rss_mb"] for s in samples)
    baseline = statistics.median(base[1:])
    print(f"import textual.app (process wall)       {baseline:7.0f} ms")
    verdict = "ok" if paint <= 700 else "MISSED"
    print(f"hero on a PTY: first paint               {paint:7.0f} ms   ({paint / baseline:.2f}x)  target <= 700   {verdict}")
    print(f"hero on a PTY: interactive (Home's data) {ready:7.0f} ms   ({ready / baseline:.2f}x)")
    print(f"headless: import HeroApp                 {imp:7.0f} ms")
    print(f"headless: mounted and idle               {headless:7.0f} ms")
    print(f"peak RSS, every island opened           {rss:7.0f} MB   target <= 200   {'ok' if rss <= 200 else 'MISSED'}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"baseline_ms": base, "pty": ptys, "samples": samples}, fh, indent=2)
    return 0 if paint <= 700 and rss <= 200 else 1


if __name__ == "__main__":
    sys.exit(main())
