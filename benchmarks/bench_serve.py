"""hero serve (issue 15): the thin CLI and the resident server, each beside its baseline.

Run by hand (not by CI):

    .venv/bin/python benchmarks/bench_serve.py                  # 15 runs, 10k contacts, 120 s writers
    .venv/bin/python benchmarks/bench_serve.py --runs 9 --writers-seconds 30
    .venv/bin/python benchmarks/bench_serve.py --only voice --voice-runs 12   # hero voice --file

Everything happens in a temporary HERO_HOME. Each CLI measure is a fresh process, interleaved
with its baseline in the same run; ratios are medians over medians. Targets (issue 15):

- warm server: ``hero calendar today`` <= 5x ``python -c pass``; ``hero contact list`` of 10k
  contacts piped <= 1.3x a bare DuckDB open (``import duckdb; connect(copy of the file)``);
  ``hero ask --dry-run`` <= 6x ``python -c pass``;
- first call with no server running (it starts one in the background) <= 1.5x the in-process
  CLI (``HERO_NO_SERVER=1``, what every call cost before);
- RPC per call in the server: read p50 <= 5 ms, write p50 <= 15 ms (p95 reported);
- nine mixed writers (3 CLI processes, 3 RPC connections, 3 'python' connections) for
  ``--writers-seconds``: 0 busy failures, 0 lost, index = database, every writer within 2x
  of the others, aggregate >= 50 writes/s;
- ``hero voice --file`` on a 2-3 s command with a warm server: end of audio -> action done
  p50 <= 0.8 s (``--voice-runs N``; beside the in-process command).
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
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import datagen  # noqa: E402

PY = sys.executable
HERO = str(Path(sys.executable).parent / "hero")


def env_for(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERO_", "XDG_"))}
    env.update(HERO_HOME=str(home), HERO_TZ="Europe/Brussels", LC_ALL="C.UTF-8", COLUMNS="160", **extra)
    return env


def timed(argv: list[str], env: dict) -> float:
    t = time.perf_counter()
    cp = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    dt = time.perf_counter() - t
    if cp.returncode != 0:
        raise SystemExit(f"{argv} failed: {cp.stderr.decode()[-500:]}")
    return dt


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def stop_server(env: dict) -> None:
    subprocess.run([HERO, "serve", "stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_server(env: dict) -> None:
    subprocess.run([HERO, "serve"], env=env, stdout=subprocess.DEVNULL, check=True)


def pair(name: str, cmd: list[str], base: list[str], env: dict, runs: int, target: float, base_env: dict | None = None,
         before=None) -> dict:
    a, b = [], []
    for _ in range(runs):
        if before:
            before()
        a.append(timed(cmd, env))
        b.append(timed(base, base_env or env))
    ratio = med(a) / med(b)
    row = {"measure": name, "cmd_ms": round(med(a) * 1000, 1), "cmd_p95_ms": round(p95(a) * 1000, 1),
           "base_ms": round(med(b) * 1000, 1), "ratio": round(ratio, 2), "target": target, "ok": ratio <= target}
    print(f"{name:44} {row['cmd_ms']:8.1f} ms  base {row['base_ms']:7.1f} ms  ratio {ratio:5.2f} "
          f"(target <= {target})  {'ok' if row['ok'] else 'MISSED'}", flush=True)
    return row


def rpc_latency(env: dict, n: int) -> dict:
    os.environ.update({k: v for k, v in env.items() if k.startswith("HERO_")})
    from herotui import server as wire

    conn = wire.connect()
    conn.call("hero.hello", {"version": wire.server_version(), "actor": "rpc"}, timeout=30)
    reads, writes = [], []
    for i in range(n):
        t = time.perf_counter()
        r = conn.call("contact.list", {"limit": 20})
        reads.append(time.perf_counter() - t)
        assert "result" in r, r
        t = time.perf_counter()
        r = conn.call("contact.create", {"name": f"Latency Probe {i}", "duplicate": True})
        writes.append(time.perf_counter() - t)
        assert "result" in r, r
    conn.close()
    out = {"read_p50_ms": round(med(reads) * 1000, 2), "read_p95_ms": round(p95(reads) * 1000, 2),
           "write_p50_ms": round(med(writes) * 1000, 2), "write_p95_ms": round(p95(writes) * 1000, 2)}
    out["ok"] = out["read_p50_ms"] <= 5 and out["write_p50_ms"] <= 15
    print(f"RPC in the server ({n} calls each): read p50 {out['read_p50_ms']} ms p95 {out['read_p95_ms']} ms; "
          f"write p50 {out['write_p50_ms']} ms p95 {out['write_p95_ms']} ms  {'ok' if out['ok'] else 'MISSED'}",
          flush=True)
    return out


def voice_latency(env: dict, local: dict, runs: int) -> dict:
    """``hero voice --file`` on piper WAVs of 2-3 s commands that do something (a read and a
    write): end of audio (the file is whole when the command starts) -> action done, i.e.
    the command's wall time up to its turn (measured without speaking: --silent), with a warm
    server (model loaded) and in-process (HERO_NO_SERVER=1: what every call cost before).
    Also the server's own share (the turn's timings: read + transcribe + plan + run)."""
    from herotui.voice import tts

    folder = Path(env["HERO_HOME"]) / "wavs"
    folder.mkdir(exist_ok=True)
    texts = ["what is on my calendar today", "create a contact Ada Lovelace at Northwind"]
    wavs = []
    for i, text in enumerate(texts):
        clip = tts.synthesize(text, "piper", deterministic=True)
        wavs.append(clip.write(folder / f"v{i}.wav"))
    import wave

    seconds = [round(wave.open(str(w)).getnframes() / wave.open(str(w)).getframerate(), 2) for w in wavs]

    def once(wav: Path, e: dict) -> tuple[float, float]:
        t = time.perf_counter()
        cp = subprocess.run([HERO, "voice", "--file", str(wav), "--json", "--silent"], capture_output=True, text=True,
                            env=e)
        dt = time.perf_counter() - t
        if cp.returncode != 0:
            raise SystemExit(f"voice failed: {cp.stderr[-500:]}")
        turn = json.loads(cp.stdout)
        return dt, turn["timings"].get("total", 0.0)

    once(wavs[0], env)  # loads the model in the server
    warm, warm_inner, cold = [], [], []
    for i in range(runs):
        dt, inner = once(wavs[i % len(wavs)], env)
        warm.append(dt)
        warm_inner.append(inner)
    # the in-process runs after the warm ones: each opens the stores, so it asks the server to
    # let go of them (SIGUSR1), and the server's next call would reopen them and rebuild the
    # vocabulary's name lists (~0.5 s): not a warm server any more
    for i in range(max(3, runs // 3)):
        cold.append(once(wavs[i % len(wavs)], local)[0])
    out = {"audio_seconds": seconds, "warm_p50_s": round(med(warm), 3), "warm_p95_s": round(p95(warm), 3),
           "server_share_p50_s": round(med(warm_inner), 3), "in_process_p50_s": round(med(cold), 3),
           "load": os.getloadavg()}
    out["ok"] = out["warm_p50_s"] <= 0.8
    print(f"voice --file ({', '.join(map(str, seconds))} s of audio): end of audio -> action done p50 "
          f"{out['warm_p50_s']} s (p95 {out['warm_p95_s']}; in the server {out['server_share_p50_s']} s) vs "
          f"in-process {out['in_process_p50_s']} s  {'ok' if out['ok'] else 'MISSED'}", flush=True)
    return out


def index_titles() -> set[str]:
    """The titles of every contact in the personal context's Tantivy index (HERO_HOME from os.environ)."""
    import tantivy

    from herotui import contexts
    from herotui.store import index

    idx = index.open_index(contexts.load("personal"))
    idx.reload()
    searcher = idx.searcher()
    query = tantivy.Query.term_query(idx.schema, "kind", "contact")
    total = searcher.search(query, limit=1, count=True).count
    hits = searcher.search(query, limit=max(total, 1)).hits
    return {searcher.doc(addr).get_first("title") for _score, addr in hits}


def writers(env: dict, seconds: float) -> dict:
    # the socket writers and the index check reach the bench's home (not the default one)
    os.environ.update({k: v for k, v in env.items() if k.startswith("HERO_")})
    from herotui import server as wire

    stop = time.monotonic() + seconds
    acked: dict[str, list[str]] = {}
    busy: dict[str, int] = {}
    other: dict[str, list[str]] = {}

    def cli_writer(name: str) -> None:
        i = 0
        while time.monotonic() < stop:
            item = f"{name} Item{i}"
            cp = subprocess.run([HERO, "contact", "create", "--name", item], capture_output=True, text=True, env=env)
            if cp.returncode == 0:
                acked[name].append(item)
            elif "busy" in cp.stderr:
                busy[name] += 1
            else:
                other[name].append(cp.stderr[-200:])
            i += 1

    def socket_writer(name: str, actor: str) -> None:
        conn = wire.connect()
        conn.call("hero.hello", {"version": wire.server_version(), "actor": actor}, timeout=30)
        i = 0
        while time.monotonic() < stop:
            item = f"{name} Item{i}"
            r = conn.call("contact.create", {"name": item})
            if "result" in r:
                acked[name].append(item)
            elif r["error"]["code"] == -32005:
                busy[name] += 1
            else:
                other[name].append(r["error"]["message"])
            i += 1
        conn.close()

    threads = []
    for k in range(3):
        for kind in ("cli", "rpc", "python"):
            name = f"W{kind}{k}"
            acked[name], busy[name], other[name] = [], 0, []
            target = cli_writer if kind == "cli" else socket_writer
            args = (name,) if kind == "cli" else (name, kind)
            threads.append(threading.Thread(target=target, args=args))
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    listed = subprocess.run([HERO, "contact", "list", "--json", "--limit", "10000000"], capture_output=True, text=True, env=env)
    names = {c["name"] for c in json.loads(listed.stdout)}
    lost = sum(1 for items in acked.values() for it in items if it not in names)
    stop_server(env)  # the index as the server left it, read from the files
    indexed = index_titles()
    written = {it for items in acked.values() for it in items}
    rates = {n: len(v) / elapsed for n, v in acked.items()}
    total = sum(len(v) for v in acked.values())
    spread = max(rates.values()) / max(min(rates.values()), 1e-9)
    out = {"seconds": round(elapsed, 1), "writes": total, "aggregate_per_s": round(total / elapsed, 1),
           "busy": sum(busy.values()), "other_errors": sum(len(v) for v in other.values()), "lost": lost,
           "index_equals_db": written <= indexed, "per_writer_per_s": {n: round(r, 2) for n, r in rates.items()},
           "spread": round(spread, 2)}
    out["ok"] = (out["busy"] == 0 and lost == 0 and out["index_equals_db"] and out["aggregate_per_s"] >= 50
                 and spread <= 2)
    print(f"nine writers, {elapsed:.0f}s: {total} writes = {out['aggregate_per_s']}/s, busy {out['busy']}, lost {lost}, "
          f"other errors {out['other_errors']}, index = database: {out['index_equals_db']}, spread {spread:.2f}x  "
          f"{'ok' if out['ok'] else 'MISSED'}", flush=True)
    print("  per writer (writes/s): " + ", ".join(f"{n} {r}" for n, r in out["per_writer_per_s"].items()), flush=True)
    if out["other_errors"]:
        print("  first errors: " + "; ".join(e for v in other.values() for e in v[:1]), flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--rpc-calls", type=int, default=300)
    ap.add_argument("--writers-seconds", type=float, default=120)
    ap.add_argument("--voice-runs", type=int, default=0, help="also measure hero voice --file (needs the voice extra)")
    ap.add_argument("--only", choices=["cli", "list", "rpc", "writers", "voice"], action="append",
                    help="run only these parts (repeat; default: all but voice unless --voice-runs; list: only the contact list of cli)")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hs-", dir="/tmp"))
    env = env_for(home)
    local = env_for(home, HERO_NO_SERVER="1")
    results: dict = {"runs": args.runs, "cpus": os.cpu_count(), "load": os.getloadavg()}
    try:
        vcf = home / "contacts.vcf"
        datagen.write_vcf(vcf, args.contacts)
        subprocess.run([HERO, "contact", "import", str(vcf)], env=local, check=True, stdout=subprocess.DEVNULL)
        subprocess.run([HERO, "calendar", "add", "Standup", "--start", "today 10:00"], env=local, check=True,
                       stdout=subprocess.DEVNULL)
        db = home / "contexts" / "personal" / "hero.duckdb"
        copy = home / "copy.duckdb"
        shutil.copy(db, copy)
        bare = [PY, "-c", f"import duckdb; duckdb.connect({str(copy)!r}, read_only=True).close()"]
        parts = set(args.only or ["cli", "rpc", "writers"] + (["voice"] if args.voice_runs else []))
        rows = []
        if "cli" in parts:
            # first call with no server (it starts one in the background) vs the in-process CLI
            rows.append(pair("first call, no server (calendar today)", [HERO, "calendar", "today"],
                             [HERO, "calendar", "today"], env, max(5, args.runs // 2), 1.5, base_env=local,
                             before=lambda: stop_server(env)))
        stop_server(env)
        start_server(env)
        for _ in range(3):
            timed([HERO, "contact", "list"], env)
            timed([HERO, "ask", "--dry-run", "what's on today"], env)
        if "cli" in parts:
            rows.append(pair("calendar today (warm server)", [HERO, "calendar", "today"], [PY, "-c", "pass"], env,
                             args.runs, 5.0))
        if "cli" in parts or "list" in parts:
            rows.append(pair(f"contact list of {args.contacts} piped", [HERO, "contact", "list", "--limit", "100000"],
                             bare, env, args.runs, 1.3))
        if "cli" in parts:
            rows.append(pair("ask --dry-run", [HERO, "ask", "--dry-run", "what's on today"], [PY, "-c", "pass"], env,
                             args.runs, 6.0))
            rows.append(pair("in-process calendar today (before)", [HERO, "calendar", "today"], [PY, "-c", "pass"],
                             local, max(5, args.runs // 2), 1e9))
        if rows:
            results["cli"] = rows
        if "rpc" in parts:
            results["rpc"] = rpc_latency(env, args.rpc_calls)
        if "voice" in parts:
            results["voice"] = voice_latency(env, local, max(3, args.voice_runs or args.runs))
        if "writers" in parts and args.writers_seconds > 0:
            results["writers"] = writers(env, args.writers_seconds)
    finally:
        stop_server(env)
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
