"""MCP server benchmark: start-up time and tool-call round trips (stdio and HTTP).

Run by hand (not by CI; these are not timed tests):

    . .venv/bin/activate
    python benchmarks/bench_servers.py                     # 2,000 contacts, 100 calls, 5 start-ups
    python benchmarks/bench_servers.py --calls 300 --json out.json

Everything happens in a temporary HERO_HOME (never the user's). The server is the real
``hero mcp serve`` process; the client is the official MCP SDK in this process.

- start-up: spawn -> ``initialize`` answered (stdio), and spawn -> first HTTP answer (HTTP);
  then the first ``tools/list``;
- round trip: one ``tools/call`` seen from the client, for a read (``contact_search``) and a
  write (``contact_create``), p50 and p95 over ``--calls`` calls after 5 warm-up calls.

The JSON-RPC server has its own benchmark (``bench_rpc.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datagen  # noqa: E402

HERO = str(Path(sys.executable).parent / "hero")


def make_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERO_") and not k.startswith("XDG_")}
    env.update(HERO_HOME=str(home), LC_ALL=env.get("LC_ALL", "C.UTF-8"), PYTHONIOENCODING="utf-8")
    return env


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2),
            "min_ms": round(min(ms), 2), "max_ms": round(max(ms), 2)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def round_trips(session, calls: int) -> dict:
    """p50/p95 of a read and a write through an initialized session."""
    words = ["smith", "müller", "anna", "acme", "lumen", "garcia", "tan", "peter"]
    read, write = [], []
    for i in range(calls + 5):
        t0 = time.perf_counter()
        r = await session.call_tool("contact_search", {"query": words[i % len(words)], "limit": 10})
        dt = (time.perf_counter() - t0) * 1000
        assert not r.is_error, r.content
        if i >= 5:
            read.append(dt)
        t0 = time.perf_counter()
        r = await session.call_tool("contact_create", {"name": f"Bench Person{i:04d}", "tags": ["bench"]})
        dt = (time.perf_counter() - t0) * 1000
        assert not r.is_error, r.content
        if i >= 5:
            write.append(dt)
    return {"read contact_search": summary(read), "write contact_create": summary(write)}


def bench_stdio(env: dict, calls: int, startups: int) -> dict:
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=HERO, args=["mcp", "serve"], env=env)
    out: dict = {}

    async def one_start() -> tuple[float, float]:
        t0 = time.perf_counter()
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                t1 = time.perf_counter()
                await s.list_tools()
                t2 = time.perf_counter()
        return (t1 - t0) * 1000, (t2 - t0) * 1000

    async def main() -> None:
        inits, lists = [], []
        for _ in range(startups):
            a, b = await one_start()
            inits.append(a)
            lists.append(b)
        out["start-up: spawn -> initialized"] = summary(inits)
        out["start-up: spawn -> tools listed"] = summary(lists)
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as s:
                await s.initialize()
                out.update(await round_trips(s, calls))

    anyio.run(main)
    return out


def bench_http(env: dict, calls: int, startups: int) -> dict:
    import anyio
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    token = subprocess.run([HERO, "mcp", "token"], env=env, capture_output=True, text=True, check=True).stdout.strip()
    out: dict = {}

    def start() -> tuple[subprocess.Popen, str, float]:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        t0 = time.perf_counter()
        proc = subprocess.Popen([HERO, "mcp", "serve", "--http", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(url, timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 60:
                    raise SystemExit("the HTTP server did not start")
                time.sleep(0.01)
        return proc, url, (time.perf_counter() - t0) * 1000

    ups = []
    for _ in range(startups):
        proc, _url, ms = start()
        ups.append(ms)
        proc.terminate()
        proc.wait(timeout=10)
    out["start-up: spawn -> first HTTP answer"] = summary(ups)

    proc, url, _ms = start()
    try:
        async def main() -> None:
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                async with streamable_http_client(url, http_client=client) as (r, w):
                    async with ClientSession(r, w) as s:
                        await s.initialize()
                        out.update(await round_trips(s, calls))

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contacts", type=int, default=2000, help="contacts imported first (default 2000)")
    ap.add_argument("--calls", type=int, default=100, help="measured calls per kind (default 100)")
    ap.add_argument("--startups", type=int, default=5, help="server start-ups measured (default 5)")
    ap.add_argument("--json", dest="json_out", help="also write the figures to this file")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="hero-bench-mcp-"))
    try:
        env = make_env(home)
        vcf = home / "contacts.vcf"
        datagen.write_vcf(vcf, args.contacts)
        subprocess.run([HERO, "contact", "import", str(vcf)], env=env, check=True, capture_output=True)
        results = {"stdio": bench_stdio(env, args.calls, args.startups),
                   "http": bench_http(env, args.calls, args.startups)}
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(f"MCP server ({args.contacts} contacts; {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs)")
    for transport, rows in results.items():
        print(f"\n{transport}")
        for name, s in rows.items():
            print(f"  {name:<40} p50 {s['p50_ms']:8.1f} ms   p95 {s['p95_ms']:8.1f} ms   (n={s['n']})")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
