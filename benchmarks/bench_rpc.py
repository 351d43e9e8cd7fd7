"""JSON-RPC round trips and server start-up: ``hero rpc serve --stdio``.

    python benchmarks/bench_rpc.py                    # 300 round trips each, 10 start-ups
    python benchmarks/bench_rpc.py --runs 1000 --starts 20 --seed 1000 --json out.json

Measures, against a fresh temporary HERO_HOME (never your data):

- start-up: spawning the server until the answer to its first request, for a request that
  touches no store (an unknown method: process + imports) and for a first real read
  (``contact.list``: + registry, pydantic models, database open);
- round trip p50/p95 of a read (``contact.show`` by id) and a write (``contact.create``) on a
  warm server, over one pipe, sequentially (what a client or ``ssh box hero rpc serve --stdio``
  sees, minus the network). Each call opens and closes the context's stores (the server holds
  no lock between calls), so this includes that cost.

Not a test: nothing fails on a number; compare before/after a change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERO = str(Path(sys.executable).parent / "hero")


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


class Server:
    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen([HERO, "rpc", "serve", "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env, bufsize=0)
        self.n = 0

    def call(self, method: str, params=None):
        self.n += 1
        line = json.dumps({"jsonrpc": "2.0", "id": self.n, "method": method, "params": params}).encode() + b"\n"
        self.proc.stdin.write(line)
        resp = json.loads(self.proc.stdout.readline())
        if "error" in resp and not method.startswith("bench."):
            raise SystemExit(f"{method}: {resp['error']}")
        return resp.get("result")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=300, help="round trips per method (default 300)")
    ap.add_argument("--starts", type=int, default=10, help="server start-ups measured (default 10)")
    ap.add_argument("--seed", type=int, default=200, help="contacts created before measuring (default 200)")
    ap.add_argument("--json", help="also write the samples and figures to this file")
    args = ap.parse_args()

    home = tempfile.mkdtemp(prefix="hero-bench-rpc-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERO_", "XDG_"))}
    env.update(HERO_HOME=home, XDG_DATA_HOME=home, XDG_STATE_HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
    report: dict = {"runs": args.runs, "starts": args.starts, "seed": args.seed}
    try:
        # seed (and create the context, so start-ups below measure a warm file cache, not creation)
        s = Server(env)
        ids = [s.call("contact.create", {"name": f"Person {i}", "emails": [f"p{i}@example.com"]})["id"]
               for i in range(args.seed)]
        s.close()

        bare, first_read = [], []
        for i in range(args.starts + 1):  # the first start-up is a warm-up
            t0 = time.perf_counter()
            s = Server(env)
            s.call("bench.ping")  # unknown method: -32601, no store touched
            t1 = time.perf_counter()
            s.call("contact.list", {"limit": 10})
            t2 = time.perf_counter()
            s.close()
            if i:
                bare.append((t1 - t0) * 1000)
                first_read.append((t2 - t0) * 1000)

        s = Server(env)
        for i in range(20):  # warm-up
            s.call("contact.show", {"id": ids[i % len(ids)]})
        reads, writes = [], []
        for i in range(args.runs):
            t0 = time.perf_counter()
            s.call("contact.show", {"id": ids[i % len(ids)]})
            reads.append((time.perf_counter() - t0) * 1000)
        for i in range(args.runs):
            t0 = time.perf_counter()
            s.call("contact.create", {"name": f"Bench {i}", "tags": ["bench"]})
            writes.append((time.perf_counter() - t0) * 1000)
        s.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)

    rows = [
        ("start-up to first answer (no store)", bare),
        ("start-up to first contact.list", first_read),
        ("round trip read  (contact.show)", reads),
        ("round trip write (contact.create)", writes),
    ]
    print(f"hero rpc serve --stdio  ({args.seed} contacts seeded, {args.runs} round trips, {args.starts} start-ups)")
    print(f"{'':40} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for label, samples in rows:
        print(f"{label:40} {pct(samples, .5):8.1f} {pct(samples, .95):8.1f} {statistics.fmean(samples):8.1f}")
        report[label] = {"p50": pct(samples, .5), "p95": pct(samples, .95), "samples": samples}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
