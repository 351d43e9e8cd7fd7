"""Core CLI benchmark: startup, `contact list`, search and vCard import at 10k records.

Run by hand (not by CI; these are not timed tests):

    . .venv/bin/activate
    python benchmarks/bench_core.py                       # 10k contacts, 10k events, 15 runs
    python benchmarks/bench_core.py --runs 25 --json out.json

Everything happens in a temporary HERO_HOME (never the user's). Each measured command is a
fresh process; its floor is measured in the same run, interleaved with it, and the ratio
command/floor is compared with the target. See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datagen  # noqa: E402

PY = sys.executable
HERO = str(Path(sys.executable).parent / "hero")
IMPORT_TARGET = 5000.0  # contacts/s, at least


# ---------------------------------------------------------------------------- processes


def make_env(home: Path) -> dict[str, str]:
    """The user's environment minus anything Hero reads, pointed at the temporary home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERO_") and not k.startswith("XDG_")}
    env.update(
        HERO_HOME=str(home),
        XDG_DATA_HOME=str(home / "xdg-data"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_STATE_HOME=str(home / "xdg-state"),
        XDG_CACHE_HOME=str(home / "xdg-cache"),
        LC_ALL=env.get("LC_ALL", "C.UTF-8"),
        PYTHONIOENCODING="utf-8",
    )
    return env


def add_common_args(ap: argparse.ArgumentParser) -> None:
    """The options every CLI benchmark takes."""
    ap.add_argument("--runs", type=int, default=15, help="measured runs per command (default 15)")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up runs per command (default 2)")
    ap.add_argument("--breakdown", choices=("misses", "always", "never"), default="misses",
                    help="print import-time/profile breakdowns for misses (default), always or never")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary HERO_HOME and data (the path is printed)")


def start(prefix: str) -> tuple[Path, Path, Path, dict, dict]:
    """A temporary root with ``home/`` and ``data/``, the environment for it, and the run's
    meta data (Hero's version, the machine, the load average now), also printed."""
    if not Path(HERO).exists():
        raise SystemExit(f"{HERO} not found: run with the Python of the venv Hero is installed in")
    root = Path(tempfile.mkdtemp(prefix=prefix))
    home, data = root / "home", root / "data"
    home.mkdir()
    data.mkdir()
    env = make_env(home)
    ver = run([HERO, "--version"], env)[1].stdout.decode().strip()
    load0 = os.getloadavg()[0]
    print(f"{ver} · Python {platform.python_version()} · {platform.machine()} · {os.cpu_count()} CPUs · "
          f"load {load0:.1f} · HERO_HOME={home}")
    meta = {"hero": ver, "python": platform.python_version(), "machine": platform.machine(), "loadavg_start": load0,
            "cpus": os.cpu_count(), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return root, home, data, env, meta


def note_if_busy(meta: dict) -> None:
    """A note when the machine was busy at the start or is now; ``loadavg_end`` goes into ``meta``."""
    load0 = meta["loadavg_start"]
    load1 = meta["loadavg_end"] = os.getloadavg()[0]
    if max(load0, load1) > (os.cpu_count() or 1) * 0.75:
        print(f"note: the machine was busy (load average {load0:.1f} at the start, {load1:.1f} now, "
              f"{os.cpu_count()} CPUs): absolute times are inflated; ratios hold better; raise --runs")


def run(argv: list[str], env: dict, timeout: float = 600) -> tuple[float, subprocess.CompletedProcess]:
    """Run once with stdout/stderr to pipes (drained); wall seconds and the result."""
    t0 = time.perf_counter()
    cp = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        env=env, timeout=timeout)
    return time.perf_counter() - t0, cp


def run_tty(argv: list[str], env: dict, cols: int = 160, lines: int = 50) -> tuple[float, int, bytes]:
    """Run once on a pseudo-terminal (what a person at a terminal sees): wall, exit, output."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, cols, 0, 0))
    env = dict(env, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(lines))
    chunks = []
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    code = p.wait()
    wall = time.perf_counter() - t0
    os.close(master)
    return wall, code, b"".join(chunks)


def first_line(cp: subprocess.CompletedProcess) -> str:
    """The error a failed command printed: its ``error:`` line (and hint), or its last line."""
    text = (cp.stderr or b"").decode(errors="replace").strip() or (cp.stdout or b"").decode(errors="replace").strip()
    if not text:
        return f"exit {cp.returncode}"
    lines = text.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
    picked = lines[errors[-1]:errors[-1] + 2] if errors else lines[-1:]
    return " / ".join(picked)[:240]


# ---------------------------------------------------------------------------- statistics


def p95(xs: list[float]) -> float:
    if len(xs) < 2:
        return xs[0]
    return statistics.quantiles(xs, n=20, method="inclusive")[18]


@dataclass
class Measure:
    key: str
    label: str
    argv: list[str]
    floor: str | None = None  # key of the floor measurement
    target: float | None = None  # max ratio to the floor
    tty: bool = False
    note: str = ""
    max_runs: int | None = None  # fewer runs for very slow, informative rows
    samples: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        return p95(self.samples) * 1000

    def once(self, env: dict) -> float:
        if self.tty:
            wall, code, out = run_tty(self.argv, env)
            if code != 0:
                raise RuntimeError(out.decode(errors="replace").strip().splitlines()[-1:] or f"exit {code}")
            return wall
        wall, cp = run(self.argv, env)
        if cp.returncode != 0:
            raise RuntimeError(first_line(cp))
        return wall


def measure_all(measures: list[Measure], env: dict, runs: int, warmup: int) -> None:
    """Warm up each command, then ``runs`` rounds; each round runs every command once, in a
    shuffled order, so a floor and its command see the same machine conditions."""
    live = []
    for m in measures:
        try:
            for _ in range(min(warmup, 1) if m.max_runs else warmup):
                m.once(env)
            live.append(m)
        except Exception as exc:  # noqa: BLE001
            m.error = str(exc)
    rnd = random.Random(1)
    for r in range(runs):
        order = live[:]
        rnd.shuffle(order)
        for m in order:
            if m.error or (m.max_runs and len(m.samples) >= m.max_runs):
                continue
            try:
                m.samples.append(m.once(env))
            except Exception as exc:  # noqa: BLE001
                m.error = str(exc)
        print(f"\r  round {r + 1}/{runs}", end="", flush=True)
    print()


# ---------------------------------------------------------------------------- steps


def step_generate(data: Path, n_contacts: int, n_events: int) -> tuple[Path, Path]:
    t0 = time.perf_counter()
    vcf, ics = data / "contacts.vcf", data / "events.ics"
    contacts = datagen.write_vcf(vcf, n_contacts)
    datagen.write_ics(ics, n_events, contacts)
    print(f"generated {n_contacts:,} vCards ({vcf.stat().st_size / 1e6:.1f} MB, 3.0/4.0 mixed) and "
          f"{n_events:,} events ({ics.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    return vcf, ics


def step_import(vcf: Path, n: int, env: dict, repeats: int) -> tuple[dict, str]:
    """Import into ``repeats`` fresh contexts; the first one is used for the read benchmarks."""
    walls, problems = [], []
    for k in range(1, repeats + 1):
        name = f"bench-{k}"
        _, cp = run([HERO, "context", "create", name], env)
        if cp.returncode != 0:
            raise SystemExit(f"cannot create context {name}: {first_line(cp)}")
        wall, cp = run([HERO, "--context", name, "--json", "contact", "import", str(vcf)], env)
        if cp.returncode != 0:
            raise SystemExit(f"hero contact import failed: {first_line(cp)}")
        report = json.loads(cp.stdout)
        if report.get("imported") != n:
            problems.append(f"run {k}: imported {report.get('imported')} of {n}; "
                            f"first problems: {report.get('skipped', [])[:3]}")
        walls.append(wall)
        print(f"  import run {k}: {wall:.2f} s  ({n / wall:,.0f} contacts/s)")
    med = statistics.median(walls)
    result = {"walls_s": [round(w, 3) for w in walls], "median_s": round(med, 3),
              "contacts_per_s": round(n / med, 1), "target": IMPORT_TARGET,
              "status": "PASS" if n / med >= IMPORT_TARGET else "MISS", "problems": problems}
    for p in problems:
        print(f"  WARNING: {p}")
    return result, "bench-1"


def step_events(ics: Path, n: int, env: dict) -> dict:
    wall, cp = run([HERO, "--json", "calendar", "import", str(ics)], env)
    if cp.returncode != 0:
        note = (f"SKIPPED events: 'hero calendar import' does not work yet ({first_line(cp)}); "
                "the read benchmarks run on contacts only")
        print("  " + note)
        return {"status": "SKIPPED", "note": note}
    try:
        report = json.loads(cp.stdout)
    except ValueError:
        report = {}
    imported = report.get("imported", n) if isinstance(report, dict) else n
    print(f"  calendar import: {imported:,} events in {wall:.2f} s ({imported / wall:,.0f} events/s)")
    return {"status": "OK", "wall_s": round(wall, 3), "imported": imported,
            "events_per_s": round(imported / wall, 1), "report_head": str(report)[:300]}


def pick_search(env: dict) -> tuple[list[str], str]:
    _, cp = run([HERO, "search", "alex"], env)
    if cp.returncode == 0:
        return [HERO, "search", "alex"], ""
    note = f"`hero search` not available ({first_line(cp)}): measured `hero contact search alex` instead"
    return [HERO, "contact", "search", "alex"], note


# ---------------------------------------------------------------------------- breakdowns


def print_importtime(title: str, code: str, env: dict, top: int = 10) -> dict:
    cp = subprocess.run([PY, "-X", "importtime", "-c", code], stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    rows, total = [], 0.0
    for line in cp.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cum_us, name = line.split(":", 1)[1].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        cum = int(cum_us) / 1000
        if depth == 0:
            total += cum
        rows.append({"cum_ms": round(cum, 1), "self_ms": round(int(self_us) / 1000, 1), "module": name.strip(),
                     "depth": depth})
    top_rows = sorted(rows, key=lambda r: -r["cum_ms"])[:top]
    print(f"\n  {title}: all imports {total:.0f} ms (importtime adds its own overhead)")
    print(f"    {'cum ms':>8} {'self ms':>8}  module")
    for r in top_rows:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f}  {'  ' * min(r['depth'], 6)}{r['module']}")
    return {"title": title, "total_ms": round(total, 1), "top": top_rows}


def print_profile(title: str, argv: list[str], env: dict, top: int = 15, warm: list[str] | None = None) -> dict:
    cp = subprocess.run([PY, str(HERE / "_inproc.py"), "profile", str(top), json.dumps(warm or []), json.dumps(argv)],
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if cp.returncode != 0:
        print(f"\n  {title}: profile failed: {first_line(cp)}")
        return {"title": title, "error": first_line(cp)}
    data = json.loads(cp.stdout.decode().strip().splitlines()[-1])
    print(f"\n  {title}: cProfile of cli._main({argv}) in-process (exit {data['exit']})")
    if data.get("cold_ms") is not None:
        plain = f"{data['plain_ms']:.0f} ms without / " if data.get("plain_ms") is not None else ""
        print(f"    a first call in the process (lazy imports included): {data['cold_ms']:.0f} ms; "
              f"the profiled call: {plain}{data['wall_ms']:.0f} ms with the profiler")
    else:
        print(f"    {data['wall_ms']:.0f} ms under the profiler, of which lazy imports {data['imports_ms']:.0f} ms "
              "(import frames left out below)")
    print(f"    {'cum ms':>8} {'self ms':>8} {'calls':>8}  function")
    for r in data["rows"]:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f} {r['calls']:8}  {r['where']}")
    print("    top by self time:")
    for r in data["by_self"]:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f} {r['calls']:8}  {r['where']}")
    return {"title": title, **data}


def print_vcard_profile(vcf: Path, env: dict, sample: int = 1000) -> dict:
    cp = subprocess.run([PY, str(HERE / "_inproc.py"), "vcard", str(vcf), str(sample)], stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if cp.returncode != 0:
        print(f"\n  vCard parsing profile unavailable ({first_line(cp)})")
        return {"error": first_line(cp)}
    data = json.loads(cp.stdout.decode().strip().splitlines()[-1])
    print(f"\n  vCard parsing, serial, {data['cards']} cards: {data['plain_ms']:.0f} ms "
          f"({data['plain_ms'] / data['cards']:.2f} ms/card; {data['wall_ms']:.0f} ms under the profiler); "
          f"splitting the whole file: {data['split_all_ms']:.0f} ms")
    print(f"    {'cum ms':>8} {'self ms':>8} {'calls':>8}  function")
    for r in data["rows"]:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f} {r['calls']:8}  {r['where']}")
    print("    top by self time:")
    for r in data["by_self"]:
        print(f"    {r['cum_ms']:8.1f} {r['self_ms']:8.1f} {r['calls']:8}  {r['where']}")
    return data


def print_phases(env: dict) -> dict:
    cp = subprocess.run([PY, str(HERE / "_inproc.py"), "phases"], stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if cp.returncode != 0:
        print(f"\n  contact list phases: unavailable ({first_line(cp)})")
        return {"error": first_line(cp)}
    data = json.loads(cp.stdout.decode().strip().splitlines()[-1])
    print("\n  `contact list` phase split (in-process, wall ms, no profiler; the render rows are "
          "alternatives, the real command runs one of them):")
    for k, v in data.items():
        print(f"    {v:8.1f}  {k}")
    return data


# ---------------------------------------------------------------------------- report


def status(m: Measure, by_key: dict[str, Measure]) -> tuple[str, str, str]:
    """(ratio, target, PASS/MISS/info) for one measurement."""
    if m.error or not m.samples:
        return "", "", "ERROR"
    if not m.floor:
        return "", "", "floor"
    f = by_key[m.floor]
    if f.error or not f.samples:
        return "", "", "no floor"
    ratio = m.median_ms / f.median_ms
    if m.target is None:
        return f"{ratio:.2f}x", "info", "-"
    return f"{ratio:.2f}x", f"<= {m.target:g}x", "PASS" if ratio <= m.target else "MISS"


def print_table(measures: list[Measure], imp: dict, n_contacts: int) -> None:
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
    rate = imp["contacts_per_s"]
    print(f"{'contact import (' + format(n_contacts, ',') + ' vCards)':<38} {imp['median_s'] * 1000:10.0f} "
          f"{max(imp['walls_s']) * 1000:9.0f}  {'':<14} {rate:>7,.0f}/s  {'>= 5,000/s':<9} {imp['status']:<6}")
    print("(import: median and max wall of the runs, in ms; ratio column = contacts per second)")
    for m in measures:
        if m.note:
            print(f"note: {m.label.strip()}: {m.note}")


def main() -> int:
    ap = argparse.ArgumentParser(description="Hero core CLI benchmark (see benchmarks/README.md).")
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=10_000)
    add_common_args(ap)
    ap.add_argument("--import-runs", type=int, default=3, help="imports into fresh contexts (median)")
    ap.add_argument("--no-tty", action="store_true", help="skip the pseudo-terminal (Rich) measurement")
    ap.add_argument("--tty-runs", type=int, default=5, help="runs of the (slow) pseudo-terminal measurement")
    a = ap.parse_args()

    root, home, data, env, meta = start("hero-bench-")
    try:

        vcf, ics = step_generate(data, a.contacts, a.events)
        print(f"importing {a.contacts:,} contacts {a.import_runs}× into fresh contexts:")
        imp, ctx_name = step_import(vcf, a.contacts, env, a.import_runs)
        env["HERO_CONTEXT"] = ctx_name
        print(f"importing {a.events:,} events into '{ctx_name}':")
        events = step_events(ics, a.events, env)
        db = home / "contexts" / ctx_name / "hero.duckdb"
        if not db.exists():
            raise SystemExit(f"expected the context database at {db}")
        search_argv, search_note = pick_search(env)

        duck_floor = f"import duckdb; duckdb.connect({str(db)!r}, read_only=True).close()"
        measures = [
            Measure("pass", "python -c pass", [PY, "-c", "pass"]),
            Measure("help", "hero --help", [HERO, "--help"], "pass", 6.0),
            Measure("duck", "duckdb import+open+close", [PY, "-c", duck_floor]),
            Measure("duckimp", "  (python -c 'import duckdb')", [PY, "-c", "import duckdb"], "duck", None),
            Measure("list", f"hero contact list ({a.contacts:,} rows, pipe)", [HERO, "contact", "list"], "duck", 1.3),
            Measure("list20", "hero contact list --limit 20", [HERO, "contact", "list", "--limit", "20"], "duck", None),
            Measure("listjson", "hero contact list --json", [HERO, "contact", "list", "--json"], "duck", None),
            Measure("search", "hero " + " ".join(search_argv[1:]), search_argv, "duck", 1.5, note=search_note),
        ]
        if events["status"] == "OK":
            measures.append(Measure("agenda", "hero calendar agenda", [HERO, "calendar", "agenda"], "duck", None))
        if not a.no_tty:
            measures.append(Measure("listtty", "hero contact list (tty, Rich)", [HERO, "contact", "list"], "duck",
                                    None, tty=True, max_runs=a.tty_runs))
        print(f"measuring {len(measures)} commands: {a.warmup} warm-up + {a.runs} runs each, interleaved:")
        measure_all(measures, env, a.runs, a.warmup)
        print_table(measures, imp, a.contacts)
        note_if_busy(meta)
        if events["status"] != "OK":
            print("note: " + events["note"])

        by_key = {m.key: m for m in measures}
        misses = {m.key for m in measures if status(m, by_key)[2] == "MISS"}
        if imp["status"] == "MISS":
            misses.add("import")
        breakdown: dict = {}
        want = (lambda k: True) if a.breakdown == "always" else (lambda k: k in misses) if a.breakdown == "misses" else (lambda k: False)
        if any(want(k) for k in ("help", "list", "search", "import")):
            print("\nBreakdown (to find what dominates each miss):")
        if want("help") or want("list") or want("search"):
            breakdown["importtime_cli"] = print_importtime(
                "imports of `from herotui.frontends.cli import main` (hero --help pays these)",
                "from herotui.frontends.cli import main", env)
        if want("list"):
            breakdown["importtime_list"] = print_importtime(
                "imports of the whole `contact list` run",
                "from herotui.frontends.cli import _main; _main(['contact', 'list'])", env)
            breakdown["phases_list"] = print_phases(env)
            breakdown["profile_list"] = print_profile("contact list", ["contact", "list"], env,
                                                      warm=["contact", "list"])
        if want("search"):
            breakdown["profile_search"] = print_profile("search", search_argv[1:], env, warm=search_argv[1:])
        if want("import"):
            for name in ("bench-warm", "bench-prof"):
                run([HERO, "context", "create", name], env)
            breakdown["profile_import"] = print_profile(
                "contact import (parent process; the parsing pool's forked workers inherit the profiler, "
                "so the pool wait, shown as lock acquire, is inflated ~2x)",
                ["--context", "bench-prof", "contact", "import", str(vcf)], env,
                warm=["--context", "bench-warm", "contact", "import", str(vcf)])
            breakdown["profile_vcard"] = print_vcard_profile(vcf, env)

        if a.json:
            result = {
                "meta": {**meta, "contacts": a.contacts, "events": a.events, "runs": a.runs, "warmup": a.warmup},
                "import": imp,
                "events": events,
                "measurements": [
                    {"key": m.key, "label": m.label, "argv": [Path(x).name if i == 0 else x for i, x in enumerate(m.argv)],
                     "median_ms": round(m.median_ms, 2) if m.samples else None,
                     "p95_ms": round(m.p95_ms, 2) if m.samples else None,
                     "samples_ms": [round(s * 1000, 2) for s in m.samples], "floor": m.floor,
                     "ratio": status(m, by_key)[0], "target": m.target, "result": status(m, by_key)[2],
                     "error": m.error, "note": m.note}
                    for m in measures
                ],
                "breakdown": breakdown,
            }
            a.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
            print(f"\nwrote {a.json}")
        return 1 if misses else 0
    finally:
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
