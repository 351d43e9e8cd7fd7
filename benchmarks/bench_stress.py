"""Stress runs: the suite's concurrency checks at the campaign's sizes, with their figures.

Run by hand (not by CI; the suite runs the same checks at smaller sizes):

    . .venv/bin/activate
    python benchmarks/bench_stress.py               # ~2-3 min on 2 quiet cores
    python benchmarks/bench_stress.py --json out.json

It runs ``tests/e2e/test_concurrency.py`` with ``HERO_STRESS=1`` (the writers at the sizes the
suite used before it was made faster; the suite runs 6 x 10 and 6 x 5), one test at a time, in a fresh pytest process each (a temporary
HERO_HOME per test, as in the suite):

- six Python processes create 100 contacts each at once (600 writes): none lost, each its own
  revision, the index equal to the database, search finds all 600;
- six threads run ``hero contact create`` 10 times each (60 CLI processes);
- six searches while a 3,000-card import runs: each sees it wholly or not at all;
- six readers open a context whose 20,000-contact index is gone: each answers, the rebuilt
  index holds every contact once;
- ``hero document add`` of 10,000 files (~80 MB of text): all stored in batches of 500, peak
  memory under 480 MB (the suite adds 1,200).

The checks are the tests' own assertions (the same code); the figures are the wall time of
each test and the lines the tests print (``FIGURE ...``: writes per second, rebuild time).
The exit status is 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "tests/e2e/test_concurrency.py::test_six_processes_create_contacts_at_once",
    "tests/e2e/test_concurrency.py::test_six_cli_processes_at_once",
    "tests/e2e/test_concurrency.py::test_readers_and_a_writer_at_once",
    "tests/e2e/test_concurrency.py::test_many_readers_rebuild_a_lost_index_at_once",
    "tests/test_documents.py::test_many_files_in_batches_bounded_memory",
]


def run_one(nodeid: str) -> dict:
    env = dict(os.environ, HERO_STRESS="1")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-s",
                           "--timeout", "1200", nodeid], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    figures = re.findall(r"^FIGURE (.+)$", proc.stdout, re.M)
    return {"test": nodeid.split("::")[1], "passed": proc.returncode == 0, "seconds": round(wall, 1),
            "figures": figures, "output": "" if proc.returncode == 0 else (proc.stdout[-4000:] + proc.stderr[-2000:])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("-k", dest="only", help="run only the tests whose name contains this")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results = []
    for nodeid in TESTS:
        if args.only and args.only not in nodeid:
            continue
        r = run_one(nodeid)
        results.append(r)
        print(f"{'ok  ' if r['passed'] else 'FAIL'} {r['seconds']:7.1f}s  {r['test']}")
        for f in r["figures"]:
            print(f"             {f}")
        if not r["passed"]:
            print(r["output"])
    if args.json:
        args.json.write_text(json.dumps({"loadavg": os.getloadavg(), "results": results}, indent=2))
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
