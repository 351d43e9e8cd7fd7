"""iCalendar (RFC 5545) <-> event fields, with ``icalendar`` 7 and ``dateutil.rrule``.

``parse`` reads a file into events' fields (one malformed VEVENT does not stop the others:
each is reported with its position and line), ``serialize`` writes events back with a
VTIMEZONE for every zone used, and ``expand`` turns one stored event into its occurrences.

Storage conventions (shared with ``services/calendar/``):

* timed events: ``start``/``end``/``exdates``/``recurrence_id`` are naive UTC; ``tz`` is the
  IANA zone the event lives in (recurrences are expanded on its wall clock, so a weekly
  09:00 Europe/Brussels meeting stays at 09:00 across DST);
* all-day events: the floating dates at 00:00 (``end`` exclusive, as in iCalendar);
* floating times in a file (no TZID, no Z) are read in the user's zone;
* a custom VTIMEZONE (Outlook's "Customized Time Zone") is mapped to the IANA zone that has
  the same offsets, else kept as UTC instants;
* an RRULE is stored as text with its UNTIL normalised: UTC (``...Z``) for timed events, a
  date for all-day ones (what dateutil and RFC 5545 require).

The VEVENT's own text is kept (``ical``) so properties Hero does not model (ORGANIZER,
VALARM, X-...) survive an export. Importing this module is cheap: icalendar and
dateutil.rrule are imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from herotui import timeparse
from herotui.services.common import parse_pool, split_blocks, tag_of

UTC = timezone.utc
# Properties Hero models: rebuilt from the database on export (the others are copied).
KNOWN = {
    "UID", "SUMMARY", "DTSTART", "DTEND", "DURATION", "LOCATION", "DESCRIPTION", "ATTENDEE",
    "CATEGORIES", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "STATUS", "CREATED", "LAST-MODIFIED", "SEQUENCE",
}  # DTSTAMP: an imported one is copied as it was
# Properties whose brokenness makes an event unusable (others are kept as they are).
ESSENTIAL = {"DTSTART", "DTEND", "DURATION", "RRULE", "EXDATE", "RECURRENCE-ID"}
REPEAT = {
    "daily": "FREQ=DAILY",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
    "yearly": "FREQ=YEARLY",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
}
_BEGIN_TZ = re.compile(r"^BEGIN:VTIMEZONE\s*$", re.I)
_END_TZ = re.compile(r"^END:VTIMEZONE\s*$", re.I)
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$", re.I)
PARALLEL_FROM = 2000  # events; below this a process pool costs more than it saves
MAX_PER_DAY = 48  # occurrences a day a rule may make without COUNT or UNTIL (every 30 min)
MAX_SERIES = 100_000  # occurrences a bounded rule may make
MAX_EXPANSION = 500_000  # a stored series past this up to a window's end is not expanded
_PER_DAY = {"SECONDLY": 86400.0, "MINUTELY": 1440.0, "HOURLY": 24.0, "DAILY": 1.0, "WEEKLY": 1 / 7,
            "MONTHLY": 1 / 28, "YEARLY": 1 / 365}


class RuleError(ValueError):
    """An RRULE that cannot be used; the message says why."""


# ---------------------------------------------------------------------------------------
# Zones and times
# ---------------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ``ValueError`` with a readable reason otherwise."""
    try:
        return ZoneInfo(name)
    except (LookupError, ValueError, OSError, TypeError):
        raise ValueError(f"unknown time zone '{name}'") from None


def _same_offsets(tzinfo, candidate: ZoneInfo, years: range) -> bool:
    for year in years:
        for month, day in ((1, 15), (4, 15), (7, 15), (10, 15), (3, 31), (10, 31)):
            probe = datetime(year, month, day, 12)
            if probe.replace(tzinfo=tzinfo).utcoffset() != probe.replace(tzinfo=candidate).utcoffset():
                return False
    return True


def zone_name(tzinfo) -> str | None:
    """The IANA name for a parsed TZID's tzinfo (Windows names are mapped by icalendar, from
    CLDR's windowsZones), or None for a zone only its file's VTIMEZONE defines."""
    key = getattr(tzinfo, "key", None)
    if key:
        return "UTC" if key in ("UTC", "Etc/UTC", "Z") else key
    if tzinfo is UTC:
        return "UTC"
    from icalendar.timezone import tzids_from_tzinfo  # ~55 ms: only calendar files and recurrences pay for it

    for name in tzids_from_tzinfo(tzinfo):
        try:
            ZoneInfo(name)
            return name
        except Exception:
            continue
    return None


def to_naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall-clock time in ``tz`` (a time in a DST gap moves forward, a fold takes the first)."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0))


# ---------------------------------------------------------------------------------------
# Recurrence rules
# ---------------------------------------------------------------------------------------


def normalize_rrule(rule: str, all_day: bool, tz: ZoneInfo, shift: timedelta = timedelta(0)) -> str:
    """An RRULE as stored: no ``RRULE:`` prefix, upper-case, UNTIL in the form dateutil
    needs (UTC for timed events, a date for all-day ones), moved by ``shift``.
    Raises ``RuleError`` for text that is not a single rule."""
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "\r" in text or ":" in text:
        raise RuleError(f"'{rule}' is not a recurrence rule")
    parts = []
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip().upper(), value.strip().upper()
        if not sep or not key or not value:
            raise RuleError(f"'{part}' in the rule is not NAME=VALUE")
        if key == "UNTIL":
            value = _normalize_until(value, all_day, tz, shift)
        parts.append(f"{key}={value}")
    if not any(p.startswith("FREQ=") for p in parts):
        raise RuleError("the rule has no FREQ (e.g. FREQ=WEEKLY;BYDAY=MO)")
    return ";".join(parts)


def _normalize_until(value: str, all_day: bool, tz: ZoneInfo, shift: timedelta) -> str:
    m = _UNTIL.match(value)
    if not m:
        raise RuleError(f"UNTIL={value} is not a date (use YYYYMMDD or YYYYMMDDTHHMMSSZ)")
    try:
        day = datetime.strptime(m.group(1), "%Y%m%d").date()
        clock = datetime.strptime(m.group(2), "%H%M%S").time() if m.group(2) else None
    except ValueError:
        raise RuleError(f"UNTIL={value} is not a valid date") from None
    if all_day:
        if clock is not None and m.group(3):  # a UTC instant: the day it falls on in the zone
            day = datetime.combine(day, clock, tzinfo=UTC).astimezone(tz).date()
        return (day + timedelta(days=shift.days)).strftime("%Y%m%d")
    if clock is None:  # a date: the whole of that day, on the event's wall clock
        until = localize(datetime.combine(day, time(23, 59, 59)), tz)
    elif m.group(3):
        until = datetime.combine(day, clock, tzinfo=UTC)
    else:
        until = localize(datetime.combine(day, clock), tz)
    return (until.astimezone(UTC) + shift).strftime("%Y%m%dT%H%M%SZ")


def rules(text: str | None) -> list[str]:
    """The stored rules of an event (one per line: a file may give several RRULEs)."""
    return [r for r in (text or "").split("\n") if r.strip()]


def rule_parts(rule: str) -> dict[str, str]:
    return dict(p.split("=", 1) for p in rule.split(";") if "=" in p)


def per_day(rule: str) -> float:
    """An upper bound of the occurrences a rule makes in a day (BYxxx lists can multiply
    them within a period), to refuse rules no calendar view could list."""
    parts = rule_parts(rule)
    rate = _PER_DAY.get(parts.get("FREQ", ""), 1.0) / max(1, int(parts.get("INTERVAL", "1") or 1))
    if rate < 1 and any(k in parts for k in ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS")):
        rate = 1.0  # at most one a day before the time-of-day parts
    for key, unit, of in (("BYHOUR", 24, 24), ("BYMINUTE", 1440, 60), ("BYSECOND", 86400, 60)):
        if key in parts:  # a coarser rule repeats within the unit; a finer one keeps n of them
            n = len(parts[key].split(","))
            rate = rate * n if rate < unit else rate * n / of
    return rate


def _bounded(rule: str, all_day: bool, start: datetime, tz) -> None:
    """Refuse a rule that is not RFC 5545 (INTERVAL=0 repeats forever at one instant) or
    that repeats so often, without COUNT or UNTIL, that no view could list it."""
    parts = rule_parts(rule)
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or int(interval) < 1:
        raise RuleError(f"INTERVAL={interval} in '{rule}': the interval must be a whole number of at least 1")
    count = parts.get("COUNT")
    if count is not None:
        if not count.isdigit() or int(count) < 1:
            raise RuleError(f"COUNT={count} in '{rule}': the count must be a whole number of at least 1")
        if int(count) <= MAX_SERIES:
            return
    rate = per_day(rule)
    if rate <= MAX_PER_DAY:
        return
    until = parts.get("UNTIL")
    if until:
        first = start if all_day else start.replace(tzinfo=None)
        last = datetime.strptime(until[:8], "%Y%m%d")
        if rate * max(1, (last - first).days + 1) <= MAX_SERIES:
            return
    raise RuleError(f"'{rule}' repeats up to {rate:,.0f} times a day with no end: Hero keeps rules of at most "
                    f"{MAX_PER_DAY} a day, or {MAX_SERIES:,} occurrences with COUNT or UNTIL")


def parsed_rule(rule: str, dtstart: datetime):
    """A dateutil rule parsed against its DTSTART (``rule`` is one line): to validate it, or
    to count a COUNT rule's instances."""
    from dateutil.rrule import rrulestr  # ~12 ms: only calendar files and recurrences pay for it

    try:
        return rrulestr(rule, dtstart=dtstart, forceset=False, ignoretz=False)
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        raise RuleError(f"invalid recurrence rule '{rule}': {exc}") from None


def check_rrule(rule: str, all_day: bool, tz, start: datetime, shift: timedelta = timedelta(0)) -> str:
    """Normalise and validate ``rule`` for an event starting at ``start`` (stored form)."""
    normal = normalize_rrule(rule, all_day, tz, shift)
    parsed_rule(normal, series_start(start, all_day, tz))
    _bounded(normal, all_day, start, tz)
    return normal


def series_start(start: datetime, all_day: bool, tz) -> datetime:
    """The stored start as the DTSTART of the expansion: aware on the event's wall clock for
    timed events (instances keep the wall-clock time, the zone gives each its offset), the
    naive date at 00:00 for all-day ones."""
    return start if all_day else start.replace(tzinfo=UTC).astimezone(tz)


@lru_cache(maxsize=256)
def event_tz(key: str, vtimezone: str | None = None):
    """The tzinfo of a stored event: its IANA zone, else the rules of the VTIMEZONE its file
    defined (a TZID that is neither IANA nor Windows), never a guess by offsets."""
    if vtimezone:
        from icalendar import Calendar  # ~80 ms: only calendar files and recurrences pay for it

        try:
            found = Calendar.from_ical(_HEADER + vtimezone + "END:VCALENDAR\r\n").walk("VTIMEZONE")
            return found[0].to_tz(lookup_tzid=False)
        except Exception:  # checked on import; never let a zone break a listing
            pass
    try:
        return ZoneInfo(key)
    except Exception:
        return ZoneInfo("UTC")


def series_end(row: dict) -> datetime | None:
    """When the last occurrence of a stored master ends (stored form), None when its rules
    have no end. Only the rules' bounds are read (UNTIL), or the rule counted (COUNT, at most
    MAX_SERIES at import)."""
    length = row["end"] - row["start"]
    last = max([row["start"], *(row.get("rdates") or [])])
    for rule in rules(row.get("rrule")):
        parts = rule_parts(rule)
        if "UNTIL" in parts:
            until = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d")
            if "T" in parts["UNTIL"]:
                until = datetime.strptime(parts["UNTIL"][:15], "%Y%m%dT%H%M%S")
            last = max(last, until if not row["all_day"] else until + timedelta(days=1))
        elif "COUNT" in parts:
            tz = event_tz(row["tz"], row.get("vtimezone"))
            try:
                found = list(parsed_rule(rule, series_start(row["start"], row["all_day"], tz)))
            except (RuleError, ValueError, OverflowError):
                return None
            if found:
                final = found[-1]
                last = max(last, final if row["all_day"] else to_naive_utc(final))
        else:
            return None
    return last + length


def is_series(row: dict) -> bool:
    """A master expanded with its instances: a rule, extra dates, or exclusions (an EXDATE
    on a single event removes it, as calendar programs do)."""
    return not row.get("recurrence_id") and bool(row.get("rrule") or row.get("rdates") or row.get("exdates"))


def _stored(value: datetime, all_day: bool, tz):
    return value.date() if all_day else value.replace(tzinfo=UTC).astimezone(tz)


def _day_of(value) -> date:
    """The day a RECURRENCE-ID or EXDATE given as a time names for an all-day series:
    Google writes UTC midnight, Exchange midnight in its own zone."""
    if not isinstance(value, datetime):
        return value
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.date() if utc.time() == time(0) else value.date()


def _recurrence_id(row: dict, master: dict | None):
    """An edited instance's RECURRENCE-ID in its series' form (a file may give a date for a
    timed series, or a time for an all-day one): the instance it replaces must match."""
    tz = event_tz(row["tz"], row.get("vtimezone"))
    rid = _stored(row["recurrence_id"], row["all_day"], tz)
    if master is None or master["all_day"] == row["all_day"]:
        return rid
    if master["all_day"]:
        return _day_of(rid)
    mtz = event_tz(master["tz"], master.get("vtimezone"))
    clock = master["start"].replace(tzinfo=UTC).astimezone(mtz).time()
    return localize(datetime.combine(rid, clock), mtz)


def _component(row: dict, master: dict | None = None):
    """A stored event as the VEVENT the expander reads (X-HERO-ID names the row)."""
    from icalendar import Event, vRecur  # ~80 ms: only calendar files and recurrences pay for it

    tz = event_tz(row["tz"], row.get("vtimezone"))
    all_day = row["all_day"]
    out = Event()
    out.add("uid", row["uid"])
    out.add("x-hero-id", row["id"])
    out.add("dtstart", _stored(row["start"], all_day, tz))
    out.add("dtend", _stored(row["end"], all_day, tz))
    for rule in rules(row.get("rrule")):
        out.add("rrule", vRecur.from_ical(rule))
    if row.get("rdates"):
        out.add("rdate", [_stored(x, all_day, tz) for x in row["rdates"]])
    if row.get("exdates"):
        out.add("exdate", [_stored(x, all_day, tz) for x in row["exdates"]])
    if row.get("recurrence_id"):
        out.add("recurrence-id", _recurrence_id(row, master))
    return out


def _expandable(rows: list[dict], hi: datetime) -> bool:
    """False for a series whose expansion up to ``hi`` would not end (stored before rules
    were bounded): it is left out of listings rather than stalling them."""
    for row in rows:
        for rule in rules(row.get("rrule")):
            parts = rule_parts(rule)
            if parts.get("COUNT", "").isdigit() and int(parts["COUNT"]) <= MAX_SERIES:
                continue
            days = max(1, (hi.replace(tzinfo=None) - row["start"]).days + 1)
            if per_day(rule) * days > MAX_EXPANSION:
                return False
    return True


def occurrences(series: list[list[dict]], lo: datetime, hi: datetime,
                cap: int | None = None) -> list[tuple[dict, datetime, datetime]]:
    """Occurrences (row, start, end) of stored series overlapping [lo, hi) (aware).

    Each series is its rows of one UID (the master and its edited instances); the expansion
    (RRULE, several RRULEs, RDATE, EXDATE, RECURRENCE-ID overrides, DURATION) is
    ``recurring_ical_events``'s, the reference calendar programs are measured against.
    Timed results are aware UTC; all-day results are naive dates at 00:00. Raises
    ``TooMany`` past ``cap`` occurrences."""
    if not series:
        return []
    import recurring_ical_events  # ~80 ms: only calendar files and recurrences pay for it
    from icalendar import Calendar  # ~80 ms: only calendar files and recurrences pay for it

    local = timeparse.local_zone()
    cal = Calendar()
    by_id: dict[str, dict] = {}
    for rows in series:
        if not _expandable(rows, hi):
            continue
        master = rows[0] if rows[0]["recurrence_id"] is None else None
        for row in rows:
            by_id[row["id"]] = row
            cal.add_component(_component(row, master))
    query = recurring_ical_events.of(cal, skip_bad_series=True)
    out = []
    for comp in query.between(lo.astimezone(local), hi.astimezone(local)):
        row = by_id.get(str(comp.get("X-HERO-ID")))
        if row is None:
            continue
        s, e = comp.start, comp.end
        if row["all_day"]:
            s = _midnight(s if not isinstance(s, datetime) else s.date())
            e = _midnight(e if not isinstance(e, datetime) else e.date())
            if not overlaps(s, e, lo.astimezone(local).replace(tzinfo=None), hi.astimezone(local).replace(tzinfo=None)):
                continue
        else:
            s, e = s.astimezone(UTC), e.astimezone(UTC)
            if not overlaps(s, e, lo, hi):
                continue
        out.append((row, s, e))
        if cap is not None and len(out) > cap:
            raise TooMany(cap)
    return out


def starts_after(series: list[dict], after: datetime, count: int = 1) -> list[tuple[dict, datetime, datetime]]:
    """The first ``count`` occurrences of one series starting at or after ``after``."""
    import recurring_ical_events  # ~80 ms: only calendar files and recurrences pay for it
    from icalendar import Calendar  # ~80 ms: only calendar files and recurrences pay for it

    local = timeparse.local_zone()
    if not _expandable(series, after + timedelta(days=366)):
        return []
    cal = Calendar()
    by_id = {}
    master = series[0] if series and series[0]["recurrence_id"] is None else None
    for row in series:
        by_id[row["id"]] = row
        cal.add_component(_component(row, master))
    out = []
    after_local = after.astimezone(local)
    for comp in recurring_ical_events.of(cal, skip_bad_series=True).after(after_local):
        row = by_id.get(str(comp.get("X-HERO-ID")))
        if row is None:
            continue
        s, e = comp.start, comp.end
        if row["all_day"]:
            s, e = _midnight(s), _midnight(e)
            if s < after_local.replace(tzinfo=None):
                continue
        else:
            s, e = s.astimezone(UTC), e.astimezone(UTC)
            if s < after:
                continue
        out.append((row, s, e))
        if len(out) >= count:
            break
    return out


class TooMany(Exception):
    """More occurrences in a window than a listing returns."""

    def __init__(self, cap: int):
        super().__init__(cap)
        self.cap = cap


def overlaps(s: datetime, e: datetime, lo: datetime, hi: datetime) -> bool:
    if s == e:  # an instant: inside when lo <= s < hi
        return lo <= s < hi
    return s < hi and e > lo


# ---------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------


def split(text: str) -> tuple[list[tuple[int, int, str]], list[str], list[dict]]:
    """VEVENT blocks as (position, first line, text), VTIMEZONE blocks, and problems
    (a VEVENT without END:VEVENT)."""
    zones: list[str] = []

    def outside_zones():
        tz: list[str] | None = None
        for lineno, line in enumerate(text.splitlines(), 1):
            if tz is not None:
                tz.append(line)
                if _END_TZ.match(line):
                    zones.append("\r\n".join(tz) + "\r\n")
                    tz = None
            elif _BEGIN_TZ.match(line):
                tz = [line]
            else:
                yield lineno, line

    events, problems = split_blocks(outside_zones(), "VEVENT")
    return events, zones, problems


def other_components(text: str) -> list[tuple[str, str, str]]:
    """The VTODO and VJOURNAL components of a file as (kind, uid, text): Hero keeps them
    aside and writes them back on export."""
    out = []
    for kind in ("VTODO", "VJOURNAL"):
        if f"BEGIN:{kind}" not in text.upper():
            continue
        blocks, _ = split_blocks(enumerate(text.splitlines(), 1), kind)
        for _, _, block in blocks:
            m = re.search(r"^UID(?:;[^:\n]*)?:(.*)$", _UNFOLD.sub("", block), re.M | re.I)
            uid = m.group(1).strip() if m else "hero-" + hashlib.sha1(block.encode()).hexdigest()[:20]
            out.append((kind, uid, block))
    return out


_XWR = re.compile(r"^X-WR-TIMEZONE(?:;[^:\r\n]*)?:(.+)$", re.M | re.I)


def calendar_zone(text: str) -> str | None:
    """X-WR-TIMEZONE of a file (Google, Apple): read as those programs read it."""
    head = text.split("BEGIN:VEVENT", 1)[0]
    m = _XWR.search(head)
    if not m:
        return None
    try:
        return ZoneInfo(m.group(1).strip()).key
    except Exception:
        return None


_HEADER = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Hero//import//EN\r\n"


def _components(blocks: list[tuple[int, int, str]], zones: list[str], wr_zone: str | None = None):
    """(position, line, text, VEVENT component or None, error) for each block. The blocks
    are parsed as one calendar (with the file's VTIMEZONEs) when that works; otherwise each
    on its own, so one broken event costs only itself. With ``wr_zone`` (X-WR-TIMEZONE),
    floating and UTC times are read in that zone, as the programs that write it do."""
    from icalendar import Calendar  # ~80 ms: only calendar files and recurrences pay for it

    head = _HEADER + (f"X-WR-TIMEZONE:{wr_zone}\r\n" if wr_zone else "") + "".join(zones)

    def events(text: str):
        cal = Calendar.from_ical(text)
        if wr_zone:
            import x_wr_timezone  # ~63 ms: only calendar files and recurrences pay for it

            cal = x_wr_timezone.to_standard(cal)
        return cal.walk("VEVENT")

    try:
        found = events(head + "".join(b for _, _, b in blocks) + "END:VCALENDAR\r\n")
        if len(found) == len(blocks):
            return [(p, line, block, comp, None) for (p, line, block), comp in zip(blocks, found)]
    except Exception:  # fall back to one block at a time
        pass
    out = []
    for position, line, block in blocks:
        try:
            found = events(head + block + "END:VCALENDAR\r\n")
            if len(found) != 1:
                raise ValueError("not one VEVENT")
            out.append((position, line, block, found[0], None))
        except Exception as exc:
            out.append((position, line, block, None, f"malformed event: {str(exc).splitlines()[0][:120]}"))
    return out


def _zone_texts(zones: list[str]) -> dict[str, str]:
    """TZID -> the VTIMEZONE text that defines it."""
    out = {}
    for text in zones:
        m = re.search(r"^TZID(?:;[^:\n]*)?:(.*)$", _UNFOLD.sub("", text), re.M | re.I)
        if m:
            out[m.group(1).strip().strip('"')] = text
    return out


def _parse_batch(job) -> list[tuple[int, int, dict | None, str | None]]:
    blocks, zones, shift, wr_zone = job
    local = ZoneInfo(wr_zone) if wr_zone else timeparse.local_zone()
    defined = _zone_texts(zones)
    out = []
    for position, line, block, comp, error in _components(blocks, zones, wr_zone):
        fields = None
        if error is None:
            try:
                fields = event_fields(comp, local, shift, block, defined)
                fields.update(position=position, line=line)
            except ValueError as exc:
                error = str(exc)
        out.append((position, line, fields, error))
    return out


def parse(text: str, shift: timedelta = timedelta(0)) -> tuple[list[dict], list[dict]]:
    """All VEVENTs of a file -> (events' fields in file order, problems by position).

    ``shift`` moves every start, end, EXDATE, RECURRENCE-ID and UNTIL (the demo loader uses
    it to bring sample weeks to the current one); timed events move on their own wall clock,
    so a 09:00 meeting stays at 09:00 whatever DST does. Attendees come out unlinked
    (``contact_id`` is set by the service, which can see the contacts). Large files are
    parsed on all cores (icalendar is ~0.25 ms an event).
    """
    blocks, zones, problems = split(text)
    wr_zone = calendar_zone(text)
    workers = min(os.cpu_count() or 1, 4)
    # fork only from a single-threaded process (the TUI runs threads: forking it is unsafe)
    if len(blocks) >= PARALLEL_FROM and workers > 1 and threading.active_count() == 1:
        size = -(-len(blocks) // (workers * 2))
        jobs = [(blocks[i : i + size], zones, shift, wr_zone) for i in range(0, len(blocks), size)]
        with parse_pool(workers) as pool:
            results = [r for batch in pool.map(_parse_batch, jobs) for r in batch]
    else:
        results = _parse_batch((blocks, zones, shift, wr_zone))
    good: list[dict] = []
    for position, line, fields, error in results:
        if error is None:
            good.append(fields)
        else:
            problems.append({"position": position, "line": line, "message": error})
    problems.sort(key=lambda p: p["position"])
    return good, problems


def _prop_error(comp, warnings: list[str]) -> str | None:
    """Why the event cannot be used (a broken DTSTART, RRULE...), else None; a broken line
    of any other property is only reported (``warnings``) and the event kept."""
    for name, message in getattr(comp, "errors", []) or []:
        if name is None:
            warnings.append(f"a malformed line was left out ({str(message).split(':', 1)[0][:80]})")
        elif str(name).upper() in ESSENTIAL - {"DTEND", "DURATION"}:
            return f"{str(name).upper()}: {str(message)[:120]}"
        else:
            warnings.append(f"{str(name).upper()} could not be read and was left out")
    return None


def _span(comp, warnings: list[str]) -> tuple[datetime | date, datetime | date]:
    """DTSTART and the end as calendar programs read them: DTEND, else DTSTART + DURATION
    (a date plus hours becomes a floating time), else a day or an instant; a DTEND of the
    other type is converted, a broken or contradicting one reported and left out."""
    try:
        start = comp.decoded("DTSTART")
    except Exception as exc:
        raise ValueError(f"DTSTART: {str(exc).splitlines()[0][:120]}") from None
    if not isinstance(start, date):
        raise ValueError(f"DTSTART '{start}' is not a date or a time")
    end = _dtend(comp, warnings)
    if end is None and comp.get("DURATION") is not None:
        start, end = _by_duration(comp, start, warnings)
    if end is None:
        end = start if isinstance(start, datetime) else start + timedelta(days=1)
    return _same_kind(start, end, warnings)


def _dtend(comp, warnings: list[str]) -> datetime | date | None:
    """DTEND when it is there and readable (a DURATION beside it is reported), else None."""
    if comp.get("DTEND") is None:
        return None
    try:
        end = comp.decoded("DTEND")
    except Exception:
        end = None
    if not isinstance(end, date):
        end = None
        warnings.append("DTEND could not be read and was left out")
    if comp.get("DURATION") is not None:
        warnings.append("DTEND and DURATION were both given: DTEND was kept")
    return end


def _by_duration(comp, start: datetime | date, warnings: list[str]) -> tuple[datetime | date, datetime | date | None]:
    """(start, DTSTART + DURATION), a day start becoming midnight when the length is not whole
    days; (start, None) when the DURATION cannot be read."""
    try:
        length = comp.decoded("DURATION")
    except Exception:
        warnings.append("DURATION could not be read and was left out")
        return start, None
    if not isinstance(length, timedelta):
        return start, None
    if not isinstance(start, datetime) and length % timedelta(days=1):
        start = datetime.combine(start, time(0))
    return start, start + length


def _same_kind(start: datetime | date, end: datetime | date, warnings: list[str]) -> tuple[datetime | date, datetime | date]:
    """Start and end of one kind: a day beside a time becomes midnight, a floating start beside
    a zoned end takes its zone."""
    if isinstance(start, datetime) and not isinstance(end, datetime):
        end = datetime.combine(end, time(0), tzinfo=start.tzinfo)
    elif not isinstance(start, datetime) and isinstance(end, datetime):
        start = datetime.combine(start, time(0), tzinfo=end.tzinfo)  # as the reference reads it
        warnings.append("DTSTART is a date and DTEND a time: the event starts at midnight")
    elif isinstance(start, datetime) and start.tzinfo is None and end.tzinfo is not None:
        start = start.replace(tzinfo=end.tzinfo)  # a floating start beside a zoned end: that zone
    return start, end


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value).strip()
    return text or None


def _zone_of(prop, value: datetime, defined: dict[str, str], warnings: list[str]) -> tuple[str, str | None]:
    """(zone key, VTIMEZONE text or None) of an aware parsed time: an IANA key (Windows
    names mapped), else the TZID with the definition its file gave."""
    name = zone_name(value.tzinfo)
    if name is not None:
        return name, None
    tzid = str(getattr(prop, "params", {}).get("TZID", "")).strip().strip('"')
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON  # ~55 ms; CLDR's windowsZones

    if tzid in WINDOWS_TO_OLSON:
        return WINDOWS_TO_OLSON[tzid], None
    if tzid and tzid in defined:
        return tzid, defined[tzid]
    # a zone without rules (no IANA or Windows name, no VTIMEZONE): the instants icalendar
    # read are kept, in UTC, and the import says so
    warnings.append(f"time zone '{tzid}' is unknown and the file does not define it: its times were read as UTC")
    return "UTC", None


def event_fields(comp, local: ZoneInfo, shift: timedelta = timedelta(0), text: str | None = None,
                 defined: dict[str, str] | None = None) -> dict:
    """One VEVENT component (and its text in the file) -> event fields. Raises ValueError
    with a readable reason."""
    warnings: list[str] = []
    bad = _prop_error(comp, warnings)
    if bad:
        raise ValueError(bad)
    raw_start = comp.get("DTSTART")
    if raw_start is None:
        raise ValueError("event has no DTSTART")
    start_value, end_value = _span(comp, warnings)
    all_day = not isinstance(start_value, datetime)
    if all_day:
        start, end = _day_bounds(start_value, end_value, shift, warnings)
        tz_key, tz, vtimezone = local.key, local, None
    else:
        if start_value.tzinfo is None:  # floating: read on the user's (or the file's) clock
            tz_key, vtimezone = local.key, None
            tzid = str(getattr(raw_start, "params", {}).get("TZID", "")).strip()
            if tzid:
                warnings.append(f"time zone '{tzid}' is unknown and the file does not define it: "
                                f"its times were read in {tz_key}")
        else:
            tz_key, vtimezone = _zone_of(raw_start, start_value, defined or {}, warnings)
        tz = event_tz(tz_key, vtimezone)
        start, end = _time_bounds(start_value, end_value, tz, shift, warnings)
    rrules = _rrules(comp, all_day, tz, start, shift, warnings)
    exdates = [_instance(v, all_day, start, tz, local, shift) for v in _dates(comp, "EXDATE")]
    rdates = [_instance(v, all_day, start, tz, local, shift) for v in _dates(comp, "RDATE")]
    rid = comp.get("RECURRENCE-ID")
    recurrence_id = _instance(rid.dt, all_day, start, tz, local, shift) if rid is not None else None
    uid = _text(comp.get("UID"))
    ical = text if text is not None else comp.to_ical().decode()
    if not uid:  # stable, so that importing the same file again updates rather than adds
        uid = "hero-" + hashlib.sha1(ical.encode()).hexdigest()[:20]
    status = _text(comp.get("STATUS"))
    return dict(
        uid=uid, recurrence_id=recurrence_id, title=_text(comp.get("SUMMARY")) or "(no title)",
        start=start, end=end, all_day=all_day, tz=tz_key, vtimezone=vtimezone,
        location=_text(comp.get("LOCATION")), description=_text(comp.get("DESCRIPTION")),
        attendees=_attendees(comp), tags=_tags(comp), rrule="\n".join(rrules) or None, exdates=sorted(set(exdates)),
        rdates=sorted(set(rdates) - {start}), sequence=_sequence(comp), created=_stamp(comp, "CREATED"),
        updated=_stamp(comp, "LAST-MODIFIED") or _stamp(comp, "DTSTAMP"),
        status=status.upper() if status else None, ical=ical, warnings=warnings,
    )


def _day_bounds(start_value: date, end_value: date, shift: timedelta, warnings: list[str]) -> tuple[datetime, datetime]:
    """An all-day event's first day and the day after its last, at midnight (swapped when the
    end comes first, one day when they are the same), moved by ``shift``'s days."""
    if end_value < start_value:  # swapped, as calendar programs read them
        warnings.append(f"DTEND {end_value} is before DTSTART {start_value}: the two were swapped")
        start_value, end_value = end_value, start_value
    if end_value == start_value:
        end_value = start_value + timedelta(days=1)
    days = timedelta(days=shift.days)
    return _midnight(start_value + days), _midnight(end_value + days)


def _time_bounds(start_value: datetime, end_value: datetime | date, tz, shift: timedelta,
                 warnings: list[str]) -> tuple[datetime, datetime]:
    """A timed event's start and end as naive UTC (floating times read in ``tz``; swapped when
    the end comes first), moved by ``shift`` on the zone's wall clock."""
    if not isinstance(end_value, datetime):
        end_value = datetime.combine(end_value, time(0), tzinfo=start_value.tzinfo)
    start = to_naive_utc(localize(start_value, tz) if start_value.tzinfo is None else start_value)
    end = to_naive_utc(localize(end_value, tz) if end_value.tzinfo is None else end_value)
    if end < start:  # swapped, as calendar programs read them
        warnings.append(f"DTEND {end_value.isoformat()} is before DTSTART {start_value.isoformat()}: "
                        "the two were swapped")
        start, end = end, start
    if shift:
        start = _shift(start, tz, shift)
        end = _shift(end, tz, shift)
    return start, end


def _rrules(comp, all_day: bool, tz, start: datetime, shift: timedelta, warnings: list[str]) -> list[str]:
    """The event's RRULEs, checked and normalised, without repeats (an empty one is left out,
    a broken COUNT beside an UNTIL dropped); ValueError for a rule that cannot be used."""
    out: list[str] = []
    found = comp.get("RRULE")
    for prop in found if isinstance(found, list) else [found] if found is not None else []:
        said = prop.to_ical().decode().strip()
        if not said or said.upper() == "RRULE:":
            warnings.append("an empty RRULE was left out")
            continue
        if "UNTIL=" in said.upper() and re.search(r"COUNT=(?!\d)", said, re.I):
            said = re.sub(r";?COUNT=[^;]*", "", said, flags=re.I)  # a broken COUNT beside an UNTIL: the UNTIL holds
            warnings.append("an invalid COUNT beside UNTIL was left out of the RRULE")
        try:
            rule = check_rrule(said, all_day, tz, start, shift)
        except RuleError as exc:
            raise ValueError(str(exc)) from None
        until = rule_parts(rule).get("UNTIL")
        if until and until < (start.strftime("%Y%m%d") if all_day else start.strftime("%Y%m%dT%H%M%SZ")):
            warnings.append(f"the RRULE ends (UNTIL={until}) before the event starts: "
                            "it has no occurrence (as calendar programs read it)")
        if rule not in out:
            out.append(rule)
    return out


def _attendees(comp) -> list[dict]:
    """ATTENDEEs with an address or a name (CN)."""
    out = []
    raw = comp.get("ATTENDEE")
    for a in (raw if isinstance(raw, list) else [raw] if raw is not None else []):
        address = str(a).strip()
        email = address[7:].strip() if address.lower().startswith("mailto:") else None
        name = _text(a.params.get("CN")) if hasattr(a, "params") else None
        if email or name:
            out.append({"name": name, "email": email.lower() if email else None, "contact_id": None})
    return out


def _tags(comp) -> list[str]:
    """CATEGORIES as tags: lower case, spaces as dashes, each once."""
    tags = []
    for c in _categories(comp):
        t = re.sub(r"\s+", "-", c.strip().lower())
        if t and t not in tags:
            tags.append(t)
    return tags


def _sequence(comp) -> int:
    try:
        return int(str(comp.get("SEQUENCE", 0)).strip() or 0)
    except ValueError:
        return 0


def _stamp(comp, name: str) -> datetime | None:
    """CREATED, LAST-MODIFIED or DTSTAMP as naive UTC (None when absent or unreadable)."""
    try:
        value = comp.decoded(name)
    except Exception:
        return None
    if isinstance(value, datetime):
        return to_naive_utc(value) if value.tzinfo else value
    return None


def _shift(naive_utc: datetime, tz, shift: timedelta) -> datetime:
    """Move a stored time by ``shift`` on its own zone's wall clock."""
    wall = naive_utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None) + shift
    return to_naive_utc(localize(wall, tz))


def _categories(comp) -> list[str]:
    out = []
    try:
        for c in comp.categories:
            out.extend(str(c).split(","))
    except Exception:
        pass
    return out


def _dates(comp, name: str) -> list:
    raw = comp.get(name)
    if raw is None:
        return []
    values = []
    for prop in raw if isinstance(raw, list) else [raw]:
        for item in getattr(prop, "dts", []):
            values.append(item.dt[0] if isinstance(item.dt, tuple) else item.dt)  # a PERIOD: its start
    return values


def _instance(value, all_day: bool, start: datetime, tz: ZoneInfo, local: ZoneInfo, shift: timedelta) -> datetime:
    """An EXDATE or RECURRENCE-ID value in the stored form of the event's instances."""
    if all_day:
        return _midnight(_day_of(value) + timedelta(days=shift.days))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            stored = to_naive_utc(localize(value, tz))
        else:
            stored = to_naive_utc(value)
    else:  # a date for a timed event: the instance on that day, at the series' time
        wall = start.replace(tzinfo=UTC).astimezone(tz).time()
        stored = to_naive_utc(localize(datetime.combine(value, wall), tz))
        return _shift(stored, tz, shift) if shift else stored
    return _shift(stored, tz, shift) if shift else stored


# ---------------------------------------------------------------------------------------
# Writing files
# ---------------------------------------------------------------------------------------


def serialize(events: list[dict], others: list[str] = ()) -> str:
    """Events (stored fields + ``id``, ``created``, ``updated``, ``ical``) as one VCALENDAR,
    with a VTIMEZONE for every zone used (covering the events' years), then the components
    Hero keeps aside (``others``: VTODO, VJOURNAL texts). Unknown properties of imported
    events are kept."""
    from icalendar import Calendar  # ~80 ms: only calendar files and recurrences pay for it

    cal = Calendar()
    cal.add("prodid", "-//Hero//herotui//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    years: list[int] = []
    custom: dict[str, str] = {}
    for ev in events:
        cal.add_component(_vevent(ev, custom, years))
    if custom:
        zones = Calendar.from_ical(_HEADER + "".join(custom.values()) + "END:VCALENDAR\r\n").walk("VTIMEZONE")
        for z in zones:
            cal.add_component(z)
    if years:
        cal.add_missing_timezones(first_date=date(max(1970, min(years) - 1), 1, 1),
                                  last_date=date(min(9998, max(max(years) + 2, 2038)), 1, 1))
    text = cal.to_ical().decode()
    if others:
        text = text[: text.rindex("END:VCALENDAR")] + "".join(_readable(o) for o in others) + "END:VCALENDAR\r\n"
    return text


def _vevent(ev: dict, custom: dict[str, str], years: list[int]):
    """One stored event as a VEVENT, with the properties of its imported text that Hero does
    not model; notes its custom zone (``custom``) and the years its times span (``years``)."""
    from icalendar import Event  # ~80 ms: only calendar files and recurrences pay for it

    original = _original(ev.get("ical"))
    out = Event()
    out.add("uid", ev["uid"])
    if not _readable_stamp(original):
        out.add("dtstamp", (ev.get("updated") or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC))
    out.add("summary", ev["title"])
    if ev.get("vtimezone"):
        custom[ev["tz"]] = ev["vtimezone"]
    _add_schedule(out, ev, years)
    for key in ("location", "description", "status"):
        if ev.get(key):
            out.add(key, ev[key])
    if ev.get("tags"):
        out.add("categories", _categories_out(ev))
    _add_attendees(out, ev, original)
    for key, name in (("created", "created"), ("updated", "last-modified")):
        if ev.get(key):
            out.add(name, ev[key].replace(tzinfo=UTC))
    if original is not None:
        _add_unmodelled(out, original)
    return out


def _add_schedule(out, ev: dict, years: list[int]) -> None:
    """DTSTART, DTEND, RECURRENCE-ID, SEQUENCE, RRULE, RDATE and EXDATE: days for an all-day
    event, else times in the event's zone."""
    from icalendar import vRecur  # ~80 ms: only calendar files and recurrences pay for it

    tz = event_tz(ev["tz"], ev.get("vtimezone"))

    def when(x: datetime):
        return x.date() if ev["all_day"] else _out_time(x, tz, ev["tz"])

    out.add("dtstart", when(ev["start"]))
    out.add("dtend", when(ev["end"]))
    if not ev["all_day"]:
        years += [ev["start"].year, max([ev["end"].year, *(x.year for x in ev.get("rdates") or [])])]
        years.append(_last_year(ev))
    if ev.get("recurrence_id"):
        out.add("recurrence-id", when(ev["recurrence_id"]))
    if ev.get("sequence"):
        out.add("sequence", ev["sequence"])
    for rule in rules(ev.get("rrule")):
        out.add("rrule", vRecur.from_ical(rule))
    for key, name in (("rdates", "rdate"), ("exdates", "exdate")):
        if ev.get(key):
            out.add(name, [when(x) for x in ev[key]])


def _add_attendees(out, ev: dict, original) -> None:
    """ATTENDEEs, each with the parameters its imported line had (role, status...)."""
    from icalendar import vCalAddress  # ~80 ms: only calendar files and recurrences pay for it

    known = _original_attendees(original)
    for a in ev.get("attendees") or []:
        email = a.get("email")
        prop = known.get(email.lower()) if email else None
        if prop is None:
            prop = vCalAddress(f"mailto:{email}" if email else "urn:hero:attendee")
        if a.get("name"):
            prop.params["CN"] = a["name"]
        out.add("attendee", prop, encode=0)


def _add_unmodelled(out, original) -> None:
    """The imported event's properties Hero does not model (ORGANIZER, X-...) and its
    subcomponents (VALARM), less the ones that cannot be read back."""
    broken = {str(n).upper() for n, _ in getattr(original, "errors", []) or [] if n}
    for name in original.keys():  # a property that cannot be read back is not written out
        if name.upper() not in KNOWN | broken and (name.upper() != "DTSTAMP" or _readable_stamp(original)):
            out[name] = original[name]
    for sub in original.subcomponents:
        out.add_component(sub)


def _readable(block: str) -> str:
    """A kept-aside component as it came, less the properties that cannot be read back (a
    broken DTSTAMP in a to-do makes stricter readers refuse the whole file)."""
    from icalendar import Calendar  # ~80 ms: only calendar files and recurrences pay for it

    def parses(text: str):
        try:
            return Calendar.from_ical(_HEADER + text + "END:VCALENDAR\r\n").subcomponents
        except Exception:
            return None

    found = parses(block)
    if found is None:  # strict components (VTODO, VJOURNAL): leave out each line that does not parse
        lines = _UNFOLD.sub("", block).splitlines()
        head, body, tail = lines[0], lines[1:-1], lines[-1]
        if any(ln.upper().startswith("BEGIN:") for ln in body):
            return block  # nested components: kept as they came
        kept = [ln for ln in body if parses(f"{head}\r\n{ln}\r\n{tail}\r\n") is not None]
        block = "\r\n".join([head, *kept, tail]) + "\r\n"
        found = parses(block)
        if found is None:
            return ""
    [comp] = found
    broken = {str(n).upper() for n, _ in getattr(comp, "errors", []) or [] if n}
    if not broken:
        return block
    for name in broken:
        comp.pop(name, None)
    return comp.to_ical().decode()


def _categories_out(ev: dict) -> list[str]:
    """The file's own CATEGORIES (their case and spaces) while the tags are still the ones
    they gave; Hero's tags once they were changed."""
    found = []
    for m in re.finditer(r"^CATEGORIES(?:;[^:\r\n]*)?:(.*)$", _UNFOLD.sub("", ev.get("ical") or ""), re.M | re.I):
        found += [c.replace("\\,", ",").strip() for c in re.split(r"(?<!\\),", m.group(1).strip()) if c.strip()]
    tags = list(dict.fromkeys(tag_of(c) for c in found))
    return found if found and tags == list(ev["tags"]) else list(ev["tags"])


def _readable_stamp(original) -> bool:
    """Whether the imported DTSTAMP can be written back (else Hero writes its own)."""
    if original is None or "DTSTAMP" not in original:
        return False
    try:
        return isinstance(original.decoded("DTSTAMP"), datetime)
    except Exception:
        return False


def _last_year(ev: dict) -> int:
    """The last year a series reaches (its UNTIL, else a few years past its start), so the
    exported VTIMEZONE covers every instance."""
    last = ev["end"].year
    for rule in rules(ev.get("rrule")):
        until = rule_parts(rule).get("UNTIL")
        if until:
            last = max(last, int(until[:4]))
        elif "COUNT" not in rule_parts(rule):
            last = max(last, datetime.now().year + 10)
    return last


def _out_time(stored: datetime, tz, key: str) -> datetime:
    aware = stored.replace(tzinfo=UTC)
    if key == "UTC":
        return aware
    out = aware.astimezone(tz)
    if not isinstance(tz, ZoneInfo):  # a file's own zone: written with its TZID
        from icalendar import vDDDTypes  # ~80 ms: only calendar files and recurrences pay for it

        value = vDDDTypes(out)
        value.params["TZID"] = key
        return value
    return out


_UNFOLD = re.compile(r"\r?\n[ \t]")
_NAME = re.compile(r"[;:]")


def _original(text: str | None):
    """The parts of an imported VEVENT an export copies: properties Hero does not model,
    nested components (VALARM) and the ATTENDEE lines (for their parameters). Only those
    lines are parsed: a whole VEVENT costs ten times more."""
    if not text:
        return None
    kept, depth = [], 0
    lines = _UNFOLD.sub("", text).splitlines()
    for line in lines[1:]:
        name = _NAME.split(line, 1)[0].strip().upper()
        if depth:
            kept.append(line)
            depth += (name == "BEGIN") - (name == "END")
        elif name == "BEGIN":
            kept.append(line)
            depth = 1
        elif name == "END":
            break  # END:VEVENT
        elif name and (name not in KNOWN or name == "ATTENDEE"):
            kept.append(line)
    if not kept:
        return None
    from icalendar import Event  # ~80 ms: only calendar files and recurrences pay for it

    try:
        return Event.from_ical("BEGIN:VEVENT\r\n" + "\r\n".join(kept) + "\r\nEND:VEVENT\r\n")
    except Exception:  # the original was readable on import; never let it break an export
        return None


def _original_attendees(original) -> dict:
    if original is None:
        return {}
    raw = original.get("ATTENDEE")
    out = {}
    for a in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        address = str(a).strip()
        if address.lower().startswith("mailto:"):
            out[address[7:].strip().lower()] = a
    return out
