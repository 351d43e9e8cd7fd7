"""Conformance of Hero's vCard / iCalendar import and export on real files, run by hand.

    python benchmarks/bench_interop.py                      # the whole corpus
    python benchmarks/bench_interop.py --only ics --json interop.json
    python benchmarks/bench_interop.py --corpus DIR --khal  # also check khal / khard read Hero's exports

Not a test: nothing fails a build on it. It reads every file under ``--corpus`` (default
``/work/shared/interop/corpus``, see its README.md and MANIFEST.tsv), recursively. iCalendar:
``.ics .ical .ifb .icalendar .vcs``; vCard: ``.vcf .vcard``; any other extension is decided by
content (``BEGIN:VCALENDAR`` / ``BEGIN:VCARD``).

For every file, in a forked worker with a fresh temporary ``HERO_HOME`` and ``HERO_TZ=UTC``
(floating times are read in UTC), verbs are called in-process through ``herotui.registry``:

1. **Import** (``calendar.import`` / ``contact.import``), classified as *imported* (no
   problem), *partly* (some records reported as skipped; the reasons are kept), *rejected* (a
   ``HeroError``: the reason), *crashed* (any other exception: a traceback, the goal is 0) or
   *timeout*.
2. **Occurrence agreement** (iCalendar only) with the reference expander
   ``recurring-ical-events`` (``recurring_ical_events.of(calendar).between(lo, hi)``, on the
   file parsed by ``icalendar``; every VCALENDAR of the file), compared with Hero's
   ``calendar.list`` over the same window. Each occurrence is the key (start, title): a timed
   start as a UTC instant (reference floating times are read in UTC, as ``HERO_TZ=UTC`` makes
   Hero do), an all-day start as its date; titles stripped, a missing one is Hero's
   ``(no title)``. Occurrences whose STATUS is CANCELLED are dropped from the reference's side
   (the reference repeats them with their status; Hero keeps them but never lists them); how
   many were dropped is reported. A file *agrees* when the two multisets are equal; a file the
   reference cannot read (parse error or an error while expanding) is *not comparable*.

   **The window** is per file, so that each file's own events are covered whatever decade it
   was written in: from 1 January of the earliest VEVENT DTSTART year to 1 January three years
   after the latest one (years clamped to 1900..2100; a file without any DTSTART gets
   2000..2003). Both sides keep only occurrences starting before the window's end (the
   reference's end bound is inclusive, Hero's exclusive). A file with dense unbounded rules
   (FREQ=SECONDLY/MINUTELY/HOURLY...) would make the comparison count millions of
   occurrences, so the window is guarded: the occurrences are estimated from the raw RRULE /
   RDATE lines (an over-estimate: span / (frequency x INTERVAL) x the BY... list lengths,
   bounded by COUNT and UNTIL) and, above ``--cap`` (20,000), the window shrinks to one year,
   then 31 days, then one day, starting at midnight of the densest rule's DTSTART; the
   window used is in every row. Beyond that, each worker has a time limit (``--timeout``):
   a hang is reported as *timeout* with the step it was in, and the run carries on.
3. **Round trip**: export (``calendar.export`` / ``contact.export``), import that export into
   another fresh store, export again. The two exports equal -- lines unfolded, the components
   compared as a multiset (their order follows Hero's new ids), DTSTAMP and PRODID ignored, and
   CREATED / LAST-MODIFIED / REV ignored only when both are stamps taken during this run --
   is *round trip stable*.
4. **--khal**: Hero's export is written as a vdir (one .ics per UID, with the VTIMEZONEs;
   one .vcf per card) and read by ``khal list`` over the window and ``khard list`` with
   temporary configurations. khal and khard come from a separate venv (``--khal-bin`` /
   ``--khard-bin``, or ``KHAL_BIN`` / ``KHARD_BIN``; default ``/work/.venv-khal/bin/``, made
   with ``python3 -m venv /work/.venv-khal && /work/.venv-khal/bin/pip install khal khard``).
   A file whose export makes them exit non-zero, print a traceback or skip an item fails.
5. A summary table, the disagreeing files (with missing / extra counts, examples and the
   features of the file that usually explain them: RDATE, RECURRENCE-ID, several RRULEs,
   non-IANA TZIDs, EXDATE without RRULE, DURATION, X-WR-TIMEZONE...), and with ``--json`` every
   per-file row.

Run with the venv's Python (``recurring-ical-events`` must be installed there). Workers are
forked (Linux): ``--jobs`` at a time, each in its own process group, killed on timeout.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import wait
from pathlib import Path

DEFAULT_CORPUS = Path("/work/shared/interop/corpus")
ICS_EXT = {".ics", ".ical", ".ifb", ".icalendar", ".vcs"}
VCF_EXT = {".vcf", ".vcard"}
BIG_LIMIT = 10**7
HERO_PIECE_YEARS = 10  # calendar.list refuses windows over 20 years
FREQ_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400, "WEEKLY": 7 * 86400,
                "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
RUN_START = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)


# ------------------------------------------------------------------------------ the files


def kind_of(path: Path) -> str | None:
    ext = path.suffix.lower()
    if ext in ICS_EXT:
        return "ics"
    if ext in VCF_EXT:
        return "vcf"
    try:
        head = path.read_bytes()[:4096].decode("utf-8", "replace").upper()
    except OSError:
        return None
    if "BEGIN:VCALENDAR" in head:
        return "ics"
    if "BEGIN:VCARD" in head:
        return "vcf"
    return None


def find_files(corpus: Path, only: str | None) -> list[tuple[Path, str]]:
    out = []
    for p in sorted(corpus.rglob("*")):
        if not p.is_file() or p.name.startswith(".") or p.name in ("MANIFEST.tsv", "README.md"):
            continue
        k = kind_of(p)
        if k and (only is None or k == only):
            out.append((p, k))
    return out


def unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    return lines


def _name(line: str) -> str:
    return re.split(r"[;:]", line, maxsplit=1)[0].strip().upper()


def _value(line: str) -> str:
    # the value follows the first ':' outside a quoted parameter
    inq = False
    for i, ch in enumerate(line):
        if ch == '"':
            inq = not inq
        elif ch == ":" and not inq:
            return line[i + 1:].strip()
    return ""


def _params(line: str) -> str:
    head = line[: len(line) - len(_value(line))]
    return head.upper()


def vevents(lines: list[str]) -> list[list[str]]:
    """The property lines of each VEVENT (nested components, e.g. VALARM, left out)."""
    out, cur, depth = [], None, 0
    for line in lines:
        u = line.strip().upper()
        if u == "BEGIN:VEVENT" and cur is None:
            cur, depth = [], 0
        elif cur is not None and u.startswith("BEGIN:"):
            depth += 1
        elif cur is not None and u.startswith("END:"):
            if depth == 0:
                out.append(cur)
                cur = None
            else:
                depth -= 1
        elif cur is not None and depth == 0:
            cur.append(line)
    return out


def _year(value: str) -> int | None:
    m = re.match(r"\s*(\d{4})", value)
    return int(m.group(1)) if m else None


def _when(value: str) -> datetime | None:
    m = re.match(r"\s*(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?", value)
    if not m:
        return None
    try:
        y, mo, d = (int(m.group(i)) for i in (1, 2, 3))
        hh, mm, ss = (int(m.group(i) or 0) for i in (4, 5, 6))
        return datetime(min(max(y, 1900), 2100), mo, d, min(hh, 23), min(mm, 59), min(ss, 59), tzinfo=UTC)
    except ValueError:
        return None


def _estimate(events: list[list[str]], lo: datetime, hi: datetime) -> tuple[float, datetime | None]:
    """Over-estimate of the occurrences in [lo, hi), and the DTSTART of the densest rule."""
    total, densest, dense_n = 0.0, None, -1.0
    for ev in events:
        start = next((_when(_value(x)) for x in ev if _name(x) == "DTSTART"), None)
        n = 1.0
        for line in ev:
            name = _name(line)
            if name == "RDATE":
                n += len(_value(line).split(","))
            elif name == "RRULE":
                parts = dict(p.split("=", 1) for p in _value(line).upper().split(";") if "=" in p)
                freq = FREQ_SECONDS.get(parts.get("FREQ", ""), 86400)
                try:
                    interval = max(int(parts.get("INTERVAL", "1")), 1)
                except ValueError:
                    interval = 1
                a = max(lo, start) if start else lo
                b = hi
                until = _when(parts.get("UNTIL", "")) if parts.get("UNTIL") else None
                if until:
                    b = min(b, until)
                seconds = max((b - a).total_seconds(), 0.0) if start is None or start < hi else 0.0
                mult = 1
                for key in ("BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO",
                            "BYMONTH", "BYSETPOS"):
                    if key in parts:
                        mult *= max(len(parts[key].split(",")), 1)
                est = seconds / (freq * interval) * mult + 1
                if "COUNT" in parts:
                    try:
                        est = min(est, float(int(parts["COUNT"])))
                    except ValueError:
                        pass
                n += est
        total += n
        if n > dense_n:
            dense_n, densest = n, start
    return total, densest


def choose_window(text: str, cap: int) -> dict:
    """The comparison window of one file (see the module docstring)."""
    events = vevents(unfold(text))
    years = []
    for ev in events:
        for line in ev:
            if _name(line) in ("DTSTART", "RECURRENCE-ID"):
                y = _year(_value(line))
                if y:
                    years.append(min(max(y, 1900), 2100))
    y0, y1 = (min(years), max(years)) if years else (2000, 2000)
    lo = datetime(y0, 1, 1, tzinfo=UTC)
    hi = datetime(min(y1 + 3, 2103), 1, 1, tzinfo=UTC)
    est, densest = _estimate(events, lo, hi)
    guard = "full"
    if est > cap:
        base = datetime(densest.year, densest.month, densest.day, tzinfo=UTC) if densest else lo
        for label, span in (("1 year", timedelta(days=366)), ("31 days", timedelta(days=31)),
                            ("1 day", timedelta(days=1)), ("1 hour", timedelta(hours=1))):
            lo, hi = base, base + span
            est, _ = _estimate(events, lo, hi)
            guard = label
            if est <= cap:
                break
    return {"lo": lo.isoformat(), "hi": hi.isoformat(), "guard": guard, "estimate": int(min(est, 1e12))}


def features(text: str) -> list[str]:
    """What a file uses that commonly explains a disagreement (a hint for the developer)."""
    lines = unfold(text)
    out = set()
    if any(_name(x) == "X-WR-TIMEZONE" for x in lines):
        out.add("X-WR-TIMEZONE")
    iana = _iana()
    uids = collections.Counter()
    for ev in vevents(lines):
        c = collections.Counter(_name(x) for x in ev)
        out |= _property_features(c, ev)
        for x in ev:
            if _name(x) == "RRULE":
                out |= _rrule_features(_value(x).upper())
            if _name(x) in ("DTSTART", "DTEND", "EXDATE", "RDATE", "RECURRENCE-ID"):
                out |= _time_features(x, iana)
        for x in ev:
            if _name(x) == "UID":
                uids[_value(x)] += 0 if "RECURRENCE-ID" in c else 1
    if any(n > 1 for n in uids.values()):
        out.add("duplicate UID")
    if sum(1 for x in lines if x.strip().upper() == "BEGIN:VCALENDAR") > 1:
        out.add("several VCALENDARs")
    return sorted(out)


def _property_features(c: collections.Counter, ev: list[str]) -> set[str]:
    """The features of a VEVENT by the properties it has (``c``: how many of each)."""
    out = set()
    for name in ("RDATE", "EXRULE", "RECURRENCE-ID", "DURATION"):
        if name in c:
            out.add(name)
    if c["RRULE"] > 1:
        out.add("several RRULEs")
    if "RECURRENCE-ID" in c and "RANGE=THISANDFUTURE" in "".join(_params(x) for x in ev if _name(x) == "RECURRENCE-ID"):
        out.add("THISANDFUTURE")
    if "EXDATE" in c and "RRULE" not in c and "RDATE" not in c:
        out.add("EXDATE without RRULE")
    if "DTSTART" not in c:
        out.add("no DTSTART")
    if "DTEND" in c and "DURATION" in c:
        out.add("DTEND+DURATION")
    return out


def _rrule_features(v: str) -> set[str]:
    """The features of an RRULE value (upper case)."""
    out = set()
    if "COUNT=" in v:
        out.add("COUNT")
    if "UNTIL=" in v:
        out.add("UNTIL")
    m = re.search(r"FREQ=(\w+)", v)
    if m and m.group(1) in ("SECONDLY", "MINUTELY", "HOURLY"):
        out.add(f"FREQ={m.group(1)}")
    if "BYSETPOS" in v or "BYWEEKNO" in v or "BYYEARDAY" in v:
        out.add("BYSETPOS/BYWEEKNO/BYYEARDAY")
    return out


def _time_features(x: str, iana: set) -> set[str]:
    """The features of a DTSTART, DTEND, EXDATE, RDATE or RECURRENCE-ID line: a TZID that is not
    an IANA name, a floating start, an all-day start."""
    out = set()
    p = _params(x)
    m = re.search(r'TZID="?([^";:]+)', x[: len(x) - len(_value(x))], re.IGNORECASE)
    if m:
        if m.group(1).strip() not in iana:
            out.add("non-IANA TZID")
    elif _name(x) == "DTSTART" and "VALUE=DATE" not in p and "T" in _value(x) and not _value(x).endswith("Z"):
        out.add("floating")
    if _name(x) == "DTSTART" and ("VALUE=DATE" in p and "DATE-TIME" not in p or re.fullmatch(r"\d{8}", _value(x))):
        out.add("all-day")
    return out


_IANA: set | None = None


def _iana() -> set:
    global _IANA
    if _IANA is None:
        from zoneinfo import available_timezones

        _IANA = set(available_timezones())
    return _IANA


# ------------------------------------------------------------------------------ keys


def _title(value) -> str:
    t = str(value).strip() if value is not None else ""
    return t or "(no title)"


def _key(start, title: str) -> tuple[str, str]:
    if isinstance(start, datetime):
        s = (start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(start, date):
        s = start.isoformat()
    else:
        s = str(start)
    return s, title


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _before(key_start: str, hi: datetime) -> bool:
    if "T" in key_start:
        return datetime.strptime(key_start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) < hi
    return datetime.fromisoformat(key_start).replace(tzinfo=UTC) < hi


# ------------------------------------------------------------------------------ workers


def _child_env(home: Path) -> None:
    for k in list(os.environ):
        if k.startswith(("HERO_", "XDG_")):
            del os.environ[k]
    os.environ.update(HERO_HOME=str(home), HERO_TZ="UTC", XDG_DATA_HOME=str(home / "xdg-data"),
                      XDG_CONFIG_HOME=str(home / "xdg-config"), XDG_STATE_HOME=str(home / "xdg-state"),
                      XDG_CACHE_HOME=str(home / "xdg-cache"))


def _is_hero_error(exc: BaseException) -> bool:
    from herotui.errors import HeroError

    return isinstance(exc, HeroError)


def _problem(exc: BaseException) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {msg}"[:300]


def hero_job(conn, path: str, kind: str, home: str, window: dict, want_export: bool) -> None:
    """Import, export, re-import, export again, then list (the step that may hang last)."""
    from herotui import contexts, registry

    _child_env(Path(home))
    service = "calendar" if kind == "ics" else "contact"
    tracebacks: list[dict] = []

    def guarded(stage: str, fn):
        conn.send({"stage": stage})
        try:
            return True, fn()
        except Exception as exc:  # noqa: BLE001  (classified: HeroError or crash)
            if _is_hero_error(exc):
                return False, _problem(exc)
            tracebacks.append({"stage": stage, "traceback": traceback.format_exc()[-4000:]})
            conn.send({"tracebacks": list(tracebacks)})
            return None, _problem(exc)

    ctx = contexts.load("personal")
    ok, rep = guarded("import", lambda: registry.call(f"{service}.import", {"path": path}, ctx, actor="bench"))
    if ok:
        skipped = [f"#{p.position} line {p.line}: {p.message}" for p in rep.skipped]
        imp = {"status": "partly" if skipped else "imported", "imported": rep.imported,
               "updated": getattr(rep, "updated", 0), "skipped": len(skipped), "reasons": skipped[:8]}
    else:
        imp = {"status": "rejected" if ok is False else "crashed", "reason": rep}
    conn.send({"import": imp})

    rt = _roundtrip(conn, guarded, service, ctx, home, kind, want_export) if ok else {"status": "n/a"}
    conn.send({"roundtrip": rt})

    if kind == "ics":
        if ok:
            okl, keys = guarded("list", lambda: _hero_occurrences(ctx, window))
            if okl:
                conn.send({"hero_occ": keys})
            else:
                conn.send({"list_error": keys})
        else:
            conn.send({"hero_occ": []})
    conn.send({"tracebacks": tracebacks, "_done": True})


def _roundtrip(conn, guarded, service: str, ctx, home: str, kind: str, want_export: bool) -> dict:
    """Export, import that export into a fresh context, export again: the row's round trip
    (stable when the two exports are equal, else the differences)."""
    from herotui import contexts, registry

    ok1, ex1 = guarded("export", lambda: registry.call(f"{service}.export", {}, ctx, actor="bench"))
    if not ok1:
        return {"status": "export failed" if ok1 is False else "export crashed", "reason": ex1}
    if not ex1.count:
        return {"status": "empty", "reason": "nothing to export"}
    text1 = ex1.text or ""
    if want_export:
        conn.send({"export_text": text1})
    f1 = Path(home) / f"export1.{kind}"
    f1.write_text(text1)

    def second():
        ctx2 = contexts.create("roundtrip")
        rep2 = registry.call(f"{service}.import", {"path": str(f1)}, ctx2, actor="bench")
        ex2 = registry.call(f"{service}.export", {}, ctx2, actor="bench")
        return rep2, ex2

    ok2, res = guarded("re-import", second)
    if not ok2:
        return {"status": "re-import failed" if ok2 is False else "re-import crashed", "reason": res}
    rep2, ex2 = res
    diff = compare_exports(text1, ex2.text or "")
    rt = {"status": "stable" if not diff else "unstable", "count1": ex1.count, "count2": ex2.count,
          "reimport_skipped": [p.message for p in rep2.skipped][:5]}
    if diff:
        rt["diff"] = diff
    return rt


def _hero_occurrences(ctx, window: dict) -> list[tuple[str, str]]:
    """Hero's occurrences in the window, as keys. Hero lists at most 20 years at a time: pieces
    of 10 years, an occurrence counted in the piece it starts in (the first piece keeps those
    that started before the window)."""
    from herotui import registry

    lo, hi = datetime.fromisoformat(window["lo"]), datetime.fromisoformat(window["hi"])
    keys = []
    while lo < hi:
        top = min(hi, lo.replace(year=lo.year + HERO_PIECE_YEARS))
        occ = registry.call("calendar.list", {"start": lo.isoformat(), "end": top.isoformat(),
                                              "limit": BIG_LIMIT}, ctx, actor="bench")
        first = lo == datetime.fromisoformat(window["lo"])
        keys += [_key(o.start.date() if o.all_day else o.start, _title(o.title)) for o in occ
                 if first or _aware(o.start) >= lo]
        lo = top
    return keys


def ref_job(conn, path: str, window: dict) -> None:
    """The reference's occurrences (recurring-ical-events on icalendar) in the window."""
    conn.send({"stage": "reference"})
    try:
        import icalendar
        import recurring_ical_events
    except ImportError as exc:
        conn.send({"ref_error": f"reference not installed: {exc}", "_done": True})
        return
    lo, hi = datetime.fromisoformat(window["lo"]), datetime.fromisoformat(window["hi"])
    try:
        raw = Path(path).read_bytes()
        cals = icalendar.Calendar.from_ical(raw, multiple=True)
    except Exception as exc:  # noqa: BLE001
        conn.send({"ref_error": f"parse: {_problem(exc)}", "_done": True})
        return
    keys, cancelled, no_start = [], 0, 0
    wrapped = []
    for top in cals:  # a file of bare VEVENTs (no VCALENDAR): wrap them
        if top.name != "VCALENDAR":
            cal = icalendar.Calendar()
            cal.add_component(top)
            top = cal
        # a VEVENT without DTSTART has no occurrence: left out (the reference stops on it)
        before = len(top.subcomponents)
        top.subcomponents = [c for c in top.subcomponents if not (c.name == "VEVENT" and "DTSTART" not in c)]
        no_start += before - len(top.subcomponents)
        wrapped.append(top)
    try:
        for cal in wrapped:
            for comp in recurring_ical_events.of(cal).between(lo, hi):
                dt = comp.get("DTSTART")
                start = dt.dt if dt is not None else None
                if str(comp.get("STATUS", "")).upper() == "CANCELLED":
                    cancelled += 1
                    continue
                keys.append(_key(start, _title(comp.get("SUMMARY"))))
    except Exception as exc:  # noqa: BLE001
        conn.send({"ref_error": f"expand: {_problem(exc)}", "_done": True})
        return
    conn.send({"ref_occ": keys, "ref_cancelled": cancelled, "ref_no_dtstart": no_start, "_done": True})


def compare_exports(a: str, b: str) -> list[str]:
    """Differences between two exports (empty when equal), see the module docstring."""
    na, nb = _normal(a), _normal(b)
    if na == nb:
        return []
    ca, cb = collections.Counter(na), collections.Counter(nb)
    out = []
    for blk in (ca - cb):
        out.append("only in 1st: " + " | ".join(blk)[:300])
        if len(out) >= 2:
            break
    for blk in (cb - ca):
        out.append("only in 2nd: " + " | ".join(blk)[:300])
        if len(out) >= 4:
            break
    # the shortest line-level difference of the first pair, easier to read
    la = [x for blk in (ca - cb) for x in blk]
    lb = [x for blk in (cb - ca) for x in blk]
    sa, sb = set(la), set(lb)
    lines = [f"- {x}"[:200] for x in la if x not in sb][:3] + [f"+ {x}"[:200] for x in lb if x not in sa][:3]
    return lines + out if lines else out


def _stamp_ok(value: str) -> bool:
    w = _when(value)
    return w is not None and w >= RUN_START


def _normal(text: str) -> list[tuple[str, ...]]:
    blocks: list[tuple[str, ...]] = []
    header: list[str] = []
    cur: list[str] | None = None
    depth = 0
    for line in unfold(text):
        name = _name(line)
        if name in ("DTSTAMP", "PRODID"):
            continue
        if name in ("CREATED", "LAST-MODIFIED", "REV") and _stamp_ok(_value(line)):
            continue
        u = line.strip().upper()
        if u.startswith("BEGIN:") and u not in ("BEGIN:VCALENDAR",):
            if depth == 0:
                cur = []
            depth += 1
        if cur is not None:
            cur.append(line.rstrip())
        elif u not in ("BEGIN:VCALENDAR", "END:VCALENDAR"):
            header.append(line.rstrip())
        if u.startswith("END:") and u != "END:VCALENDAR":
            depth -= 1
            if depth == 0 and cur is not None:
                blocks.append(tuple(cur))
                cur = None
    return [tuple(header)] + sorted(blocks)


# ------------------------------------------------------------------------------ khal / khard


def split_ics(text: str) -> dict[str, str]:
    """Hero's export as vdir items: one VCALENDAR per UID, with every VTIMEZONE."""
    lines = text.replace("\r\n", "\n").split("\n")
    zones, events, cur, depth, kind = [], collections.OrderedDict(), None, 0, None
    for line in lines:
        u = line.strip().upper()
        if u.startswith("BEGIN:") and u != "BEGIN:VCALENDAR":
            if depth == 0:
                cur, kind = [], u[6:]
            depth += 1
        if cur is not None:
            cur.append(line)
        if u.startswith("END:") and u != "END:VCALENDAR":
            depth -= 1
            if depth == 0 and cur is not None:
                if kind == "VTIMEZONE":
                    zones.append(cur)
                else:
                    uid = next((_value(x) for x in unfold("\n".join(cur)) if _name(x) == "UID"), f"no-uid-{len(events)}")
                    events.setdefault(uid, []).append(cur)
                cur = None
    out = {}
    for i, (uid, comps) in enumerate(events.items()):
        body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Hero//bench_interop//EN"]
        for z in zones:
            body += z
        for c in comps:
            body += c
        body.append("END:VCALENDAR")
        out[f"{i:05d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', uid)[:60]}.ics"] = "\r\n".join(body) + "\r\n"
    return out


def split_vcf(text: str) -> dict[str, str]:
    out, cur = {}, None
    for line in text.replace("\r\n", "\n").split("\n"):
        u = line.strip().upper()
        if u == "BEGIN:VCARD":
            cur = []
        if cur is not None:
            cur.append(line)
        if u == "END:VCARD" and cur is not None:
            out[f"{len(out):05d}.vcf"] = "\r\n".join(cur) + "\r\n"
            cur = None
    return out


KHAL_CONF = """[calendars]
[[hero]]
path = {vdir}
type = calendar

[sqlite]
path = {db}

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = UTC
local_timezone = UTC

[default]
default_calendar = hero
"""

KHARD_CONF = """[addressbooks]
[[hero]]
path = {vdir}

[general]
debug = no
default_action = list
editor = true
merge_editor = true

[vcard]
skip_unparsable = no
"""


def _run(argv: list[str], env: dict, timeout: float) -> tuple[int | None, str, str]:
    try:
        p = subprocess.run(argv, check=False, capture_output=True, text=True, env=env, timeout=timeout, errors="replace")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timeout"
    except OSError as exc:
        return -1, "", str(exc)


def _verdict(code, out: str, err: str, expect: int | None, got: int | None) -> dict:
    """ok, warn (a warning about an item that is still read), fail (non-zero exit, a traceback,
    an error, an item left out) or timeout."""
    lines = err.splitlines()
    # khal's "excluded instance ... not found, event might be invalid" is a warning: the event is read
    bad = [x for x in lines if re.search(r"traceback|error|critical|not be available|skipping|could not|cannot",
                                         x, re.IGNORECASE)]
    warn = [x for x in lines if re.search(r"warning", x, re.IGNORECASE)]
    if code is None:
        status = "timeout"
    elif code != 0 or "Traceback" in err or bad:
        status = "fail"
    elif warn:
        status = "warn"
    else:
        status = "ok"
    row = {"status": status, "exit": code}
    if expect is not None:
        row["items"] = expect
        row["read"] = got
    if status != "ok":
        row["reason"] = (bad[:3] or warn[:3] or lines[-3:] or out.strip().splitlines()[:3] or [f"exit {code}"])
    return row


def khal_job(conn, kind: str, export_text: str, work: str, window: dict, khal: str, khard: str) -> None:
    conn.send({"stage": "khal" if kind == "ics" else "khard"})
    base = Path(work)
    vdir = base / "vdir"
    vdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(XDG_CONFIG_HOME=str(base / "xdg-config"), XDG_DATA_HOME=str(base / "xdg-data"),
               XDG_CACHE_HOME=str(base / "xdg-cache"), TZ="UTC", LC_ALL="C.UTF-8", HOME=str(base))
    if kind == "ics":
        items = split_ics(export_text)
        for name, body in items.items():
            (vdir / name).write_text(body)
        conf = base / "khal.conf"
        conf.write_text(KHAL_CONF.format(vdir=vdir, db=base / "khal.db"))
        lo, hi = window["lo"][:10], window["hi"][:10]
        code, out, err = _run([khal, "-c", str(conf), "list", "--once", "--day-format", "",
                               "--format", "{start} {title}", lo, hi], env, 120)
        lines = [x for x in out.splitlines() if x.strip()]
        res = _verdict(code, out, err, None, None)
        res["items"] = len(items)
        res["listed"] = len(lines)
        conn.send({"khal": res, "_done": True})
    else:
        items = split_vcf(export_text)
        for name, body in items.items():
            (vdir / name).write_text(body)
        conf = base / "khard.conf"
        conf.write_text(KHARD_CONF.format(vdir=vdir))
        code, out, err = _run([khard, "-c", str(conf), "list", "--parsable"], env, 120)
        got = len([x for x in out.splitlines() if x.strip()])
        res = _verdict(code, out, err, len(items), got)
        if res["status"] == "ok" and got != len(items):
            res["status"] = "fail"
            res["reason"] = [f"listed {got} of {len(items)} cards"]
        conn.send({"khard": res, "_done": True})


# ------------------------------------------------------------------------------ scheduler


class Job:
    def __init__(self, row: dict, what: str, target, args: tuple, timeout: float):
        self.row, self.what, self.target, self.args, self.timeout = row, what, target, args, timeout
        self.proc = self.conn = None
        self.deadline = 0.0
        self.stage = None
        self.done = False


def _entry(target, conn, *args) -> None:
    os.setsid()
    warnings.simplefilter("ignore")  # icalendar's guesses (vendor TZIDs...) are not ours to print
    try:
        target(conn, *args)
    except BaseException:  # noqa: BLE001  (the harness itself must report, never hang)
        conn.send({"harness_error": traceback.format_exc()[-3000:], "_done": True})
    finally:
        conn.close()
        os._exit(0)


def run_jobs(queue: list[Job], jobs: int, on_done, progress) -> None:
    mp = multiprocessing.get_context("fork")
    running: list[Job] = []
    while queue or running:
        while queue and len(running) < jobs:
            job = queue.pop(0)
            parent, child = mp.Pipe(duplex=False)
            job.conn = parent
            job.proc = mp.Process(target=_entry, args=(job.target, child, *job.args), daemon=False)
            job.proc.start()
            child.close()
            job.deadline = time.monotonic() + job.timeout
            running.append(job)
        now = time.monotonic()
        ready = wait([j.conn for j in running], timeout=max(0.05, min(j.deadline for j in running) - now))
        for job in list(running):
            if job.conn in ready:
                try:
                    while job.conn.poll():
                        msg = job.conn.recv()
                        _merge(job, msg)
                except (EOFError, OSError):
                    job.done = True
            if not job.done and time.monotonic() > job.deadline:
                job.row.setdefault("timeouts", []).append(f"{job.what}: {job.stage or 'start'}")
                _kill(job)
                job.done = True
            if job.done:
                _reap(job)
                running.remove(job)
                progress()
                for more in on_done(job) or []:
                    queue.insert(0, more)


def _merge(job: Job, msg: dict) -> None:
    if msg.pop("_done", False):
        job.done = True
    if "stage" in msg:
        job.stage = msg.pop("stage")
    if "harness_error" in msg:
        job.row.setdefault("harness_errors", []).append(msg.pop("harness_error"))
    job.row.setdefault("_raw", {}).setdefault(job.what, {}).update(msg)


def _kill(job: Job) -> None:
    try:
        os.killpg(job.proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(job: Job) -> None:
    job.proc.join(5)
    if job.proc.is_alive():
        _kill(job)
        job.proc.join(5)
    try:
        job.conn.close()
    except OSError:
        pass


# ------------------------------------------------------------------------------ rows


def finish_row(row: dict) -> None:
    raw = row.pop("_raw", {})
    hero = raw.get("hero", {})
    ref = raw.get("ref", {})
    tb = hero.get("tracebacks", [])
    row["tracebacks"] = tb
    timeouts = row.get("timeouts", [])
    imp = hero.get("import")
    if imp is None:
        imp = {"status": "timeout" if any(t.startswith("hero") for t in timeouts) else "crashed",
               "reason": "; ".join(timeouts) or "worker died"}
    row["import"] = imp
    row["status"] = imp["status"]
    rt = hero.get("roundtrip")
    if rt is None:
        rt = {"status": "timeout" if timeouts else "n/a"}
    row["roundtrip"] = rt
    for tool in ("khal", "khard"):
        if tool in raw.get("khal", {}):
            row[tool] = raw["khal"][tool]
        elif any(t.startswith("khal") for t in timeouts):
            row[tool] = {"status": "timeout"}
    if row["kind"] != "ics":
        return
    agree: dict = {}
    if "ref_error" in ref:
        agree = {"status": "not comparable", "reason": ref["ref_error"]}
    elif "ref_occ" not in ref:
        agree = {"status": "not comparable", "reason": "reference timeout" if any(t.startswith("ref") for t in timeouts)
                 else "reference gave nothing"}
    elif "hero_occ" not in hero:
        reason = hero.get("list_error") or ("hero list timeout" if any(t.startswith("hero") for t in timeouts)
                                            else "hero list missing")
        agree = {"status": "timeout" if "timeout" in reason else "disagree", "reason": reason,
                 "reference": len(ref["ref_occ"])}
    else:
        hi = datetime.fromisoformat(row["window"]["hi"])
        h = collections.Counter(tuple(k) for k in hero["hero_occ"] if _before(k[0], hi))
        r = collections.Counter(tuple(k) for k in ref["ref_occ"] if _before(k[0], hi))
        missing, extra = r - h, h - r
        agree = {"status": "agree" if not missing and not extra else "disagree", "hero": sum(h.values()),
                 "reference": sum(r.values()), "ref_cancelled_dropped": ref.get("ref_cancelled", 0),
                 "ref_events_without_dtstart": ref.get("ref_no_dtstart", 0)}
        if missing or extra:
            agree["missing"] = sum(missing.values())
            agree["extra"] = sum(extra.values())
            agree["missing_examples"] = [f"{s} {t}" for s, t in sorted(missing)[:3]]
            agree["extra_examples"] = [f"{s} {t}" for s, t in sorted(extra)[:3]]
            shifts = _shifts(missing, extra)
            if shifts:
                agree["shifts_h"] = shifts
    if agree["status"] in ("disagree", "timeout"):
        agree["cause"] = guess_cause(row, agree)
    row["agreement"] = agree


def _instant(key_start: str) -> datetime:
    if "T" in key_start:
        return datetime.strptime(key_start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return datetime.fromisoformat(key_start).replace(tzinfo=UTC)


def _shifts(missing: collections.Counter, extra: collections.Counter) -> dict:
    """When Hero's extra occurrences are the missing ones moved in time: {hours: count}."""
    by_title_m, by_title_e = collections.defaultdict(list), collections.defaultdict(list)
    for (st, t), n in missing.items():
        by_title_m[t] += [_instant(st)] * n
    for (st, t), n in extra.items():
        by_title_e[t] += [_instant(st)] * n
    out: collections.Counter = collections.Counter()
    for t, ms in by_title_m.items():
        es = by_title_e.get(t, [])
        if len(es) != len(ms):
            return {}
        for m, e in zip(sorted(ms), sorted(es), strict=True):
            out[round((e - m).total_seconds() / 3600, 2)] += 1
    if not out or set(by_title_e) - set(by_title_m):
        return {}
    return {str(k): v for k, v in sorted(out.items())}


def guess_cause(row: dict, a: dict) -> str:
    """A first guess at why a file disagrees, from what it uses (check the file to confirm)."""
    f = set(row.get("features", []))
    imp = row["import"]
    if a["status"] == "timeout" or "hero" not in a:
        return f"hero: {a.get('reason', 'no listing')}"[:120]
    missing, extra = a.get("missing", 0), a.get("extra", 0)
    if row["status"] == "rejected":
        return "Hero rejected the file"
    if imp.get("skipped") and missing and not extra:
        return "Hero skipped a record: " + re.sub(r"^#\d+ line \d+: ", "", imp["reasons"][0])[:90]
    if imp.get("skipped"):
        return "Hero skipped a record (and more differs): " + re.sub(r"^#\d+ line \d+: ", "", imp["reasons"][0])[:60]
    shifts = a.get("shifts_h")
    if shifts:
        zone = ("non-IANA TZID" if "non-IANA TZID" in f else "X-WR-TIMEZONE" if "X-WR-TIMEZONE" in f
                else "floating" if "floating" in f else "zone")
        return f"times shifted ({', '.join(f'{k}h x{v}' for k, v in shifts.items())}) [{zone}]"
    if "THISANDFUTURE" in f:
        return "RECURRENCE-ID;RANGE=THISANDFUTURE"
    if missing and not extra and "RDATE" in f:
        return "RDATE not expanded"
    if "duplicate UID" in f:
        return "same UID twice (Hero keeps the last)"
    if "RECURRENCE-ID" in f:
        return "RECURRENCE-ID override handling"
    if "UNTIL" in f and extra and not missing:
        return "UNTIL edge (Hero has one more)"
    return "other: " + (", ".join(sorted(f)) or "-")


def summarize(rows: list[dict], khal: bool) -> dict:
    s: dict = {}
    for kind in ("ics", "vcf"):
        rs = [r for r in rows if r["kind"] == kind]
        if not rs:
            continue
        d = {"files": len(rs), "import": dict(collections.Counter(r["status"] for r in rs)),
             "roundtrip": dict(collections.Counter(r["roundtrip"]["status"] for r in rs)),
             "tracebacks": sum(len(r["tracebacks"]) for r in rs),
             "files_with_tracebacks": sum(1 for r in rs if r["tracebacks"]),
             "timeouts": sum(1 for r in rs if r.get("timeouts")),
             "zero_records": sum(1 for r in rs if r["status"] in ("imported", "partly")
                                 and not r["import"].get("imported") and not r["import"].get("updated"))}
        rt_tested = [r for r in rs if r["roundtrip"]["status"] in ("stable", "unstable") or "failed" in
                     r["roundtrip"]["status"] or "crashed" in r["roundtrip"]["status"]]
        d["roundtrip_stable_pct"] = round(100 * sum(r["roundtrip"]["status"] == "stable" for r in rt_tested)
                                          / len(rt_tested), 1) if rt_tested else None
        if kind == "ics":
            ag = collections.Counter(r["agreement"]["status"] for r in rs)
            comparable = ag["agree"] + ag["disagree"] + ag["timeout"]
            d["agreement"] = dict(ag)
            d["agreement_pct"] = round(100 * ag["agree"] / comparable, 1) if comparable else None
            d["agree_nonempty"] = sum(1 for r in rs if r["agreement"]["status"] == "agree"
                                      and r["agreement"].get("reference", 0) > 0)
        if khal:
            tool = "khal" if kind == "ics" else "khard"
            d[tool] = dict(collections.Counter(r.get(tool, {}).get("status", "not run") for r in rs))
        s[kind] = d
    return s


def _cause_group(cause: str) -> str:
    """The cause without its per-file details (shift counts), to group files."""
    return re.sub(r" x\d+", "", re.sub(r"^(Hero skipped a record[^:]*): .*", r"\1", cause))


def print_report(rows: list[dict], summary: dict, khal: bool, corpus: Path, verbose: int) -> None:
    print()
    ics = [r for r in rows if r["kind"] == "ics"]
    _print_disagreements([r for r in ics if r["agreement"]["status"] in ("disagree", "timeout")])
    nc = [r for r in ics if r["agreement"]["status"] == "not comparable"]
    if nc and verbose:
        print(f"\n== not comparable ({len(nc)}): the reference cannot read them")
        for r in nc:
            print(f"- {r['file']}: {r['agreement']['reason'][:160]}")
    _print_crashes([r for r in rows if r["status"] in ("crashed", "timeout") or r["tracebacks"] or r.get("timeouts")])
    rej = [r for r in rows if r["status"] == "rejected"]
    if rej and verbose:
        print(f"\n== rejected ({len(rej)})")
        for r in rej:
            print(f"- {r['file']}: {r['import'].get('reason', '')[:160]}")
    _print_unstable([r for r in rows if r["roundtrip"]["status"] not in ("stable", "empty", "n/a")], verbose)
    if khal:
        _print_khal_failures([r for r in rows if r.get("khal", r.get("khard", {})).get("status") not in (None, "ok")])
    print("\n== summary")
    print(f"corpus {corpus}")
    for kind, d in summary.items():
        _print_summary(kind, d, khal)


def _print_disagreements(dis: list[dict]) -> None:
    """The files that disagree with the reference, grouped by their first-guess cause (the
    commonest first), each with its counts, window, features and examples."""
    if not dis:
        return
    print(f"== iCalendar files that disagree with recurring-ical-events ({len(dis)}), by first-guess cause")
    causes = collections.Counter(_cause_group(r["agreement"]["cause"]) for r in dis)
    for c, n in causes.most_common():
        print(f"  {n:4}  {c}")
    dis.sort(key=lambda r: (-causes[_cause_group(r["agreement"]["cause"])], _cause_group(r["agreement"]["cause"]),
                            r["file"]))
    for r in dis:
        a = r["agreement"]
        head = (f"hero {a.get('hero', '?')} ref {a.get('reference', '?')}: missing {a.get('missing', '?')}, "
                f"extra {a.get('extra', '?')}") if "hero" in a else a.get("reason", "")
        print(f"- {r['file']}  [{r['status']}] {head}")
        print(f"    cause? {a['cause']}")
        print(f"    window {r['window']['lo'][:10]}..{r['window']['hi'][:10]} ({r['window']['guard']})"
              f"  features: {', '.join(r.get('features', [])) or '-'}")
        for x in a.get("missing_examples", []):
            print(f"    missing: {x}")
        for x in a.get("extra_examples", []):
            print(f"    extra:   {x}")
        if r["import"].get("reasons"):
            print(f"    skipped: {r['import']['reasons'][0][:150]}")


def _print_crashes(bad: list[dict]) -> None:
    if bad:
        print(f"\n== crashes and timeouts ({len(bad)})")
        for r in bad:
            print(f"- {r['file']}: {r['status']} {r.get('timeouts', '')}")
            for t in r["tracebacks"][:1]:
                last = [x for x in t["traceback"].strip().splitlines() if x.strip()][-1]
                print(f"    {t['stage']}: {last[:200]}")


def _print_unstable(uns: list[dict], verbose: int) -> None:
    if uns:
        print(f"\n== round trip not stable ({len(uns)})")
        for r in uns:
            rt = r["roundtrip"]
            print(f"- {r['file']}: {rt['status']} {rt.get('reason', '')[:150]}")
            for x in rt.get("diff", [])[: 4 if verbose else 2]:
                print(f"    {x[:180]}")


def _print_khal_failures(kf: list[dict]) -> None:
    if kf:
        print(f"\n== khal / khard: exports they fail on or warn about ({len(kf)})")
        for r in kf:
            t = r.get("khal") or r.get("khard")
            print(f"- {r['file']}: {'khal' if 'khal' in r else 'khard'} {t['status']}: "
                  f"{' / '.join(t.get('reason', []))[:200]}")


def _print_summary(kind: str, d: dict, khal: bool) -> None:
    """One kind's lines of the summary: imports, occurrence agreement, round trips, khal, tracebacks."""
    name = "iCalendar" if kind == "ics" else "vCard"
    imp = d["import"]
    print(f"{name:10} files {d['files']:4}   " + "  ".join(
        f"{k} {imp.get(k, 0)}" for k in ("imported", "partly", "rejected", "crashed", "timeout"))
        + f"   ({d['zero_records']} imported/partly with 0 records)")
    if kind == "ics":
        ag = d["agreement"]
        comparable = ag.get("agree", 0) + ag.get("disagree", 0) + ag.get("timeout", 0)
        print(f"{'':10} occurrences: agree {ag.get('agree', 0)} / {comparable} comparable = "
              f"{d['agreement_pct']}%  (of which {d['agree_nonempty']} with occurrences; "
              f"disagree {ag.get('disagree', 0)}, timeout {ag.get('timeout', 0)}, "
              f"not comparable {ag.get('not comparable', 0)})")
    rt = d["roundtrip"]
    print(f"{'':10} round trip: stable {rt.get('stable', 0)}, " + ", ".join(
        f"{k} {v}" for k, v in sorted(rt.items()) if k != "stable") + f"  -> {d['roundtrip_stable_pct']}% stable")
    if khal:
        tool = "khal" if kind == "ics" else "khard"
        print(f"{'':10} {tool}: " + ", ".join(f"{k} {v}" for k, v in sorted(d.get(tool, {}).items())))
    print(f"{'':10} tracebacks {d['tracebacks']} (in {d['files_with_tracebacks']} files), "
          f"files with a timeout {d['timeouts']}")


def _git_state() -> dict:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], check=False, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--short", "--untracked-files=no"],
                               check=False, capture_output=True, text=True).stdout.split("\n")
        return {"commit": head, "modified": [x[3:] for x in dirty if x.strip()]}
    except OSError:
        return {}


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Hero vCard/iCalendar conformance on real files (see the docstring).")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"folder of files (default {DEFAULT_CORPUS})")
    ap.add_argument("--only", choices=("ics", "vcf"), help="only iCalendar or only vCard files")
    ap.add_argument("--khal", action="store_true", help="also check khal / khard read Hero's exports")
    default_bin = Path("/work/.venv-khal/bin")
    ap.add_argument("--khal-bin", default=os.environ.get("KHAL_BIN", str(default_bin / "khal")))
    ap.add_argument("--khard-bin", default=os.environ.get("KHARD_BIN", str(default_bin / "khard")))
    ap.add_argument("--json", type=Path, help="write every per-file row and the summary here")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="workers at a time (default: CPUs)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per worker (Hero, reference, khal) per file")
    ap.add_argument("--cap", type=int, default=20000, help="estimated occurrences above which the window shrinks")
    ap.add_argument("--match", help="only files whose path contains this text")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="also list rejected / not comparable files")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    return ap.parse_args()


def _check_setup(args: argparse.Namespace) -> None:
    """SystemExit when the corpus or khal / khard are missing; the imports every forked worker
    shares done here, so each starts warm."""
    if not args.corpus.is_dir():
        raise SystemExit(f"{args.corpus}: no such folder")
    if args.khal:
        for b in (args.khal_bin, args.khard_bin):
            if not Path(b).exists():
                raise SystemExit(f"{b} not found: python3 -m venv /work/.venv-khal && "
                                 "/work/.venv-khal/bin/pip install khal khard (or --khal-bin / --khard-bin)")
    try:
        import recurring_ical_events  # noqa: F401
    except ImportError:
        print("warning: recurring-ical-events is not installed in this Python: no file is comparable",
              file=sys.stderr)
    # imported once here, so every forked worker starts warm
    import icalendar  # noqa: F401

    from herotui import contexts, registry  # noqa: F401
    from herotui.services import _ical, _vcard, calendar, contact  # noqa: F401


def _plan_jobs(files: list[tuple[Path, str]], args: argparse.Namespace, tmp: Path) -> tuple[list[dict], list[Job]]:
    """A row per file (its window and features for iCalendar) and the jobs that fill it: Hero's,
    and the reference's for iCalendar; the big files first."""
    rows, queue = [], []
    for i, (p, kind) in enumerate(files):
        text = p.read_bytes().decode("utf-8-sig", "replace")
        row = {"file": str(p.relative_to(args.corpus)), "kind": kind, "bytes": p.stat().st_size}
        if kind == "ics":
            row["window"] = choose_window(text, args.cap)
            row["features"] = features(text)
        rows.append(row)
        home = tmp / f"{i:04d}"
        row["_home"] = str(home)
        queue.append(Job(row, "hero", hero_job, (str(p), kind, str(home), row.get("window"), args.khal), args.timeout))
        if kind == "ics":
            queue.append(Job(row, "ref", ref_job, (str(p), row["window"]), args.timeout))
    queue.sort(key=lambda j: -j.row["bytes"])  # the big ones first: fewer idle workers at the end
    return rows, queue


def main() -> int:
    args = _args()
    _check_setup(args)
    files = find_files(args.corpus, args.only)
    if args.match:
        files = [(p, k) for p, k in files if args.match in str(p)]
    if not files:
        raise SystemExit("no iCalendar or vCard file found")
    tmp = Path(tempfile.mkdtemp(prefix="hero-interop-"))
    t0 = time.monotonic()
    rows, queue = _plan_jobs(files, args, tmp)

    done = [0]
    total = len(queue)

    def progress():
        done[0] += 1
        if sys.stderr.isatty() or done[0] % 100 == 0 or done[0] == total:
            print(f"\r{done[0]}/{total} workers done ({time.monotonic() - t0:.0f}s)", end="" if sys.stderr.isatty()
                  else "\n", file=sys.stderr, flush=True)

    def on_done(job: Job):
        if job.what == "hero" and args.khal:
            text = job.row.get("_raw", {}).get("hero", {}).pop("export_text", None)
            if text:
                nonlocal total
                total += 1
                work = Path(job.row["_home"]) / "khal"
                return [Job(job.row, "khal", khal_job, (job.row["kind"], text, str(work), job.row.get("window")
                                                         or {"lo": "2000-01-01", "hi": "2001-01-01"},
                                                         args.khal_bin, args.khard_bin), args.timeout)]
        if not args.keep and (job.what == "khal" or (job.what == "hero" and not args.khal)):
            shutil.rmtree(job.row["_home"], ignore_errors=True)
        return []

    run_jobs(queue, max(args.jobs, 1), on_done, progress)
    print(file=sys.stderr)
    for row in rows:
        home = row.pop("_home")
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        finish_row(row)
    summary = summarize(rows, args.khal)
    print_report(rows, summary, args.khal, args.corpus, args.verbose)
    elapsed = time.monotonic() - t0
    print(f"{len(files)} files in {elapsed:.0f}s ({args.jobs} workers, timeout {args.timeout:.0f}s per worker)")
    if args.json:
        args.json.write_text(json.dumps({"corpus": str(args.corpus), "git": _git_state(), "summary": summary,
                                         "elapsed_s": round(elapsed, 1), "files": rows}, indent=1, default=str))
        print(f"rows written to {args.json}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
