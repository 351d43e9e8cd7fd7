"""Calendar listing speed against khal on the same events, run by hand.

    python benchmarks/bench_calendar.py                   # 10k events, 15 runs each
    python benchmarks/bench_calendar.py --events 10000 --runs 25 --khal-bin /work/.venv-khal/bin/khal

The events are datagen's (about 13% recurring, 12% all-day, five zones), imported into a
temporary HERO_HOME; the same file is split into a vdir (one .ics per UID, with the
VTIMEZONEs) for khal, whose cache is built by one untimed run. Then, interleaved so both see
the same machine load: ``hero calendar list --from monday --to sunday`` (one week, piped)
and ``khal list <monday> 7d``. Target (issue 12): Hero's median at most 0.4x khal's.

khal is not a dependency of Hero: install it apart (``python3 -m venv /work/.venv-khal &&
/work/.venv-khal/bin/pip install khal``) and give ``--khal-bin``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import datagen  # noqa: E402
from bench_core import HERO, make_env, run  # noqa: E402

TARGET = 0.4


def vdir(ics: Path, folder: Path) -> int:
    """Split a VCALENDAR into one file per UID (khal's vdir), each with every VTIMEZONE."""
    text = ics.read_bytes().decode()  # CRLF kept
    zones = "".join(re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE\r\n", text, re.S))
    by_uid: dict[str, list[str]] = {}
    for block in re.findall(r"BEGIN:VEVENT.*?END:VEVENT\r\n", text, re.S):
        uid = re.search(r"^UID:(.*)$", block, re.M).group(1).strip()
        by_uid.setdefault(uid, []).append(block)
    folder.mkdir(parents=True)
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
    for i, blocks in enumerate(by_uid.values()):
        (folder / f"{i}.ics").write_text(head + zones + "".join(blocks) + "END:VCALENDAR\r\n", newline="")
    return len(by_uid)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--khal-bin", default="/work/.venv-khal/bin/khal")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hero-bench-cal-") as tmp:
        root = Path(tmp)
        env = make_env(root / "home")
        env["HERO_TZ"] = "Europe/Brussels"
        env["TZ"] = "Europe/Brussels"
        ics = root / "events.ics"
        contacts = datagen.contact_records(200)
        datagen.write_ics(ics, a.events, contacts)
        wall, cp = run([HERO, "calendar", "import", str(ics)], env)
        if cp.returncode != 0:
            sys.exit(f"hero calendar import failed: {cp.stderr.decode()[:300]}")
        print(f"hero calendar import: {a.events:,} events in {wall:.2f} s")
        n = vdir(ics, root / "vdir" / "bench")
        conf = root / "khal.conf"
        conf.write_text(f"[calendars]\n[[bench]]\npath = {root / 'vdir' / 'bench'}\n\n"
                        f"[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
                        f"datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
                        f"default_timezone = Europe/Brussels\nlocal_timezone = Europe/Brussels\n"
                        f"[sqlite]\npath = {root / 'khal.db'}\n")
        monday = date.today() - timedelta(days=date.today().weekday())
        khal = [a.khal_bin, "-c", str(conf), "list", monday.isoformat(), "7d"]
        hero = [HERO, "calendar", "list", "--from", monday.isoformat(), "--to", (monday + timedelta(days=6)).isoformat()]
        wall, cp = run(khal, env)  # builds khal's cache: not timed
        if cp.returncode != 0:
            sys.exit(f"khal failed: {cp.stderr.decode()[:300]}")
        print(f"khal cache of {n:,} files built in {wall:.2f} s")
        counts = {}
        for name, argv in (("hero", hero), ("khal", khal)):
            _, cp = run(argv, env)
            counts[name] = len([line for line in cp.stdout.decode().splitlines() if line.strip()])
        times: dict[str, list[float]] = {"hero": [], "khal": []}
        for _ in range(a.runs):
            for name, argv in (("hero", hero), ("khal", khal)):
                wall, _ = run(argv, env)
                times[name].append(wall)
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = med["hero"] / med["khal"]
        print(f"one week from {monday}: hero {counts['hero']} lines, khal {counts['khal']} lines (khal adds day headings)")
        print(f"  hero calendar list  median {med['hero'] * 1000:7.1f} ms")
        print(f"  khal list           median {med['khal'] * 1000:7.1f} ms")
        print(f"  ratio hero/khal     {ratio:.2f}  (target <= {TARGET}: {'PASS' if ratio <= TARGET else 'MISS'})")


if __name__ == "__main__":
    main()
