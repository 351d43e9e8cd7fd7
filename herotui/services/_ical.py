"""iCalendar (RFC 5545) <-> event fields, with ``icalendar`` 7 and ``dateutil.rrule``.

``parse`` reads a file into events' fields (one malformed VEVENT does not stop the others:
each is reported with its position and line), ``serialize`` writes events back with a
VTIMEZONE for every zone used, and ``expand`` turns one stored event into its occurrences.

Storage conventions (shared with ``services/calendar.py``):

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

UTC = timezone.utc
# Properties Hero models: rebuilt from the database on export (the others are copied).
KNOWN = {
    "UID", "SUMMARY", "DTSTART", "DTEND", "DURATION", "LOCATION", "DESCRIPTION", "ATTENDEE",
    "CATEGORIES", "RRULE", "EXDATE", "RECURRENCE-ID", "STATUS", "DTSTAMP", "CREATED", "LAST-MODIFIED",
}
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


@lru_cache(maxsize=64)
def _match_custom(tzinfo) -> str:
    """An IANA zone with the same offsets as a custom VTIMEZONE (the user's first), else UTC."""
    import zoneinfo

    years = range(datetime.now().year - 1, datetime.now().year + 2)
    local = timeparse.local_zone()
    names = [local.key] + sorted(zoneinfo.available_timezones())
    for name in names:
        try:
            if _same_offsets(tzinfo, ZoneInfo(name), years):
                return name
        except Exception:  # an odd zone file: not our match
            continue
    return "UTC"


def zone_name(tzinfo) -> str:
    """The IANA name for a parsed TZID's tzinfo (custom zones matched by their offsets)."""
    key = getattr(tzinfo, "key", None)
    if key:
        return "UTC" if key in ("UTC", "Etc/UTC", "Z") else key
    if tzinfo is UTC:
        return "UTC"
    from icalendar.timezone import tzids_from_tzinfo

    for name in tzids_from_tzinfo(tzinfo):
        try:
            ZoneInfo(name)
            return name
        except Exception:
            continue
    return _match_custom(tzinfo)


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


def ruleset(rule: str, dtstart: datetime, exdates: list[datetime]):
    """A dateutil rruleset: the rule, DTSTART itself (always the first instance, as calendar
    applications do) and the exclusions. ``dtstart`` is aware (timed) or naive (all-day)."""
    from dateutil.rrule import rruleset as RuleSet, rrulestr

    try:
        parsed = rrulestr(rule, dtstart=dtstart, forceset=False, ignoretz=False)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise RuleError(f"invalid recurrence rule '{rule}': {exc}") from None
    rs = RuleSet()
    rs.rrule(parsed)
    rs.rdate(dtstart)
    for ex in exdates:
        rs.exdate(ex)
    return rs


def check_rrule(rule: str, all_day: bool, tz: ZoneInfo, start: datetime, shift: timedelta = timedelta(0)) -> str:
    """Normalise and validate ``rule`` for an event starting at ``start`` (stored form)."""
    normal = normalize_rrule(rule, all_day, tz, shift)
    ruleset(normal, series_start(start, all_day, tz), [])
    return normal


def series_start(start: datetime, all_day: bool, tz: ZoneInfo) -> datetime:
    """The stored start as the DTSTART of the expansion: aware on the event's wall clock for
    timed events (dateutil keeps the wall-clock time, zoneinfo gives each instance its
    offset), the naive date at 00:00 for all-day ones."""
    return start if all_day else start.replace(tzinfo=UTC).astimezone(tz)


def expand(start: datetime, end: datetime, all_day: bool, tz: ZoneInfo, rule: str | None,
           exdates: list[datetime], window_start: datetime, window_end: datetime,
           skip: set[datetime] = frozenset()) -> list[tuple[datetime, datetime]]:
    """Occurrences (start, end) of one stored event that overlap [window_start, window_end).

    ``start``/``end``/``exdates`` are stored values (naive UTC, or floating dates for all-day
    events); the window is aware. Timed results are aware UTC; all-day results are naive
    dates at 00:00 (the caller gives them the user's zone). ``skip`` holds stored
    RECURRENCE-ID values whose instance was replaced by another event.
    """
    length = end - start
    if all_day:
        # floating dates: compare on the user's wall clock, with a day's margin
        local = timeparse.local_zone()
        lo = window_start.astimezone(local).replace(tzinfo=None)
        hi = window_end.astimezone(local).replace(tzinfo=None)
    else:
        lo, hi = window_start, window_end
    if not rule:
        s, e = (start, end) if all_day else (start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))
        return [(s, e)] if _overlaps(s, e, lo, hi) else []
    first = series_start(start, all_day, tz)
    exclusions = [x if all_day else x.replace(tzinfo=UTC) for x in exdates]
    exclusions += [x if all_day else x.replace(tzinfo=UTC) for x in skip]
    rs = ruleset(rule, first, exclusions)
    out = []
    # an occurrence that began before the window may still be running inside it
    for occ in rs.between(lo - length - timedelta(seconds=1), hi, inc=True):
        s = occ if all_day else occ.astimezone(UTC)
        e = s + length
        if _overlaps(s, e, lo, hi):
            out.append((s, e))
    return out


def starts_after(start: datetime, all_day: bool, tz: ZoneInfo, rule: str | None, exdates: list[datetime],
                 after: datetime, count: int = 1, skip: set[datetime] = frozenset()) -> list[datetime]:
    """The first ``count`` occurrence starts at or after ``after`` (aware): aware UTC for
    timed events, naive dates at 00:00 for all-day ones."""
    if all_day:
        after_cmp = after.astimezone(timeparse.local_zone()).replace(tzinfo=None)
    else:
        after_cmp = after
    if not rule:
        s = start if all_day else start.replace(tzinfo=UTC)
        return [s] if s >= after_cmp else []
    exclusions = [x if all_day else x.replace(tzinfo=UTC) for x in list(exdates) + list(skip)]
    rs = ruleset(rule, series_start(start, all_day, tz), exclusions)
    out = []
    for occ in rs.xafter(after_cmp, count=count, inc=True):
        out.append(occ if all_day else occ.astimezone(UTC))
    return out


def _overlaps(s: datetime, e: datetime, lo: datetime, hi: datetime) -> bool:
    if s == e:  # an instant: inside when lo <= s < hi
        return lo <= s < hi
    return s < hi and e > lo


# ---------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------


def split(text: str) -> tuple[list[tuple[int, int, str]], list[str], list[dict]]:
    """VEVENT blocks as (position, first line, text), VTIMEZONE blocks, and problems
    (a VEVENT without END:VEVENT)."""
    from herotui.services.common import split_blocks

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


_HEADER = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Hero//import//EN\r\n"


def _components(blocks: list[tuple[int, int, str]], zones: list[str]):
    """(position, line, text, VEVENT component or None, error) for each block. The blocks
    are parsed as one calendar (with the file's VTIMEZONEs) when that works; otherwise each
    on its own, so one broken event costs only itself."""
    from icalendar import Calendar

    head = _HEADER + "".join(zones)
    try:
        found = Calendar.from_ical(head + "".join(b for _, _, b in blocks) + "END:VCALENDAR\r\n").walk("VEVENT")
        if len(found) == len(blocks):
            return [(p, line, block, comp, None) for (p, line, block), comp in zip(blocks, found)]
    except Exception:  # fall back to one block at a time
        pass
    out = []
    for position, line, block in blocks:
        try:
            found = Calendar.from_ical(head + block + "END:VCALENDAR\r\n").walk("VEVENT")
            if len(found) != 1:
                raise ValueError("not one VEVENT")
            out.append((position, line, block, found[0], None))
        except Exception as exc:
            out.append((position, line, block, None, f"malformed event: {str(exc).splitlines()[0][:120]}"))
    return out


def _parse_batch(job: tuple[list[tuple[int, int, str]], list[str], timedelta]) -> list[tuple[int, int, dict | None, str | None]]:
    blocks, zones, shift = job
    local = timeparse.local_zone()
    out = []
    for position, line, block, comp, error in _components(blocks, zones):
        fields = None
        if error is None:
            try:
                fields = event_fields(comp, local, shift, block)
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
    workers = min(os.cpu_count() or 1, 4)
    # fork only from a single-threaded process (the TUI runs threads: forking it is unsafe)
    if len(blocks) >= PARALLEL_FROM and workers > 1 and threading.active_count() == 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(blocks) // (workers * 2))
        jobs = [(blocks[i : i + size], zones, shift) for i in range(0, len(blocks), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = [r for batch in pool.map(_parse_batch, jobs) for r in batch]
    else:
        results = _parse_batch((blocks, zones, shift))
    good: list[dict] = []
    for position, line, fields, error in results:
        if error is None:
            good.append(fields)
        else:
            problems.append({"position": position, "line": line, "message": error})
    problems.sort(key=lambda p: p["position"])
    return good, problems


def _prop_error(comp) -> str | None:
    for name, message in getattr(comp, "errors", []) or []:
        if name is None:
            return f"malformed line ({str(message).split(':', 1)[0][:80]})"
        if str(name).upper() in ESSENTIAL:
            return f"{str(name).upper()}: {str(message)[:120]}"
    return None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    text = str(value).strip()
    return text or None


def _when(value, tz_hint: ZoneInfo | None, local: ZoneInfo) -> tuple[datetime | date, str | None]:
    """A parsed DTSTART-like value -> (naive UTC datetime, or a date; its zone name)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # floating: read on the user's clock
            zone_key = tz_hint.key if tz_hint else local.key
            return to_naive_utc(localize(value, ZoneInfo(zone_key))), zone_key
        return to_naive_utc(value), zone_name(value.tzinfo)
    if isinstance(value, date):
        return value, None
    raise ValueError(f"'{value}' is not a date or a time")


def event_fields(comp, local: ZoneInfo, shift: timedelta = timedelta(0), text: str | None = None) -> dict:
    """One VEVENT component (and its text in the file) -> event fields. Raises ValueError
    with a readable reason."""
    bad = _prop_error(comp)
    if bad:
        raise ValueError(bad)
    raw_start = comp.get("DTSTART")
    if raw_start is None:
        raise ValueError("event has no DTSTART")
    try:
        start_value = comp.start
        end_value = comp.end
    except Exception as exc:
        raise ValueError(str(exc).splitlines()[0][:120]) from None
    all_day = not isinstance(start_value, datetime)
    if all_day:
        if isinstance(end_value, datetime):
            end_value = end_value.date()
        if end_value <= start_value:
            if end_value < start_value:
                raise ValueError(f"DTEND {end_value} is before DTSTART {start_value}")
            end_value = start_value + timedelta(days=1)
        days = timedelta(days=shift.days)
        start, end = _midnight(start_value + days), _midnight(end_value + days)
        tz_key = local.key
    else:
        if not isinstance(end_value, datetime):
            end_value = datetime.combine(end_value, time(0), tzinfo=start_value.tzinfo)
        start, tz_key = _when(start_value, None, local)
        end, _ = _when(end_value, ZoneInfo(tz_key), local)
        if end < start:
            raise ValueError(f"DTEND {end_value.isoformat()} is before DTSTART {start_value.isoformat()}")
        if shift:
            start = _shift(start, tz_key, shift)
            end = _shift(end, tz_key, shift)
    tz = ZoneInfo(tz_key)

    rrule = None
    rules = comp.get("RRULE")
    if rules is not None:
        first = rules[0] if isinstance(rules, list) else rules
        try:
            rrule = check_rrule(first.to_ical().decode(), all_day, tz, start, shift)
        except RuleError as exc:
            raise ValueError(str(exc)) from None

    exdates = []
    for value in _dates(comp, "EXDATE"):
        exdates.append(_instance(value, all_day, start, tz, local, shift))
    recurrence_id = None
    rid = comp.get("RECURRENCE-ID")
    if rid is not None:
        recurrence_id = _instance(rid.dt, all_day, start, tz, local, shift)

    attendees = []
    raw = comp.get("ATTENDEE")
    for a in (raw if isinstance(raw, list) else [raw] if raw is not None else []):
        address = str(a).strip()
        email = address[7:].strip() if address.lower().startswith("mailto:") else None
        name = _text(a.params.get("CN")) if hasattr(a, "params") else None
        if email or name:
            attendees.append({"name": name, "email": email.lower() if email else None, "contact_id": None})

    tags = []
    for c in _categories(comp):
        t = re.sub(r"\s+", "-", c.strip().lower())
        if t and t not in tags:
            tags.append(t)

    uid = _text(comp.get("UID"))
    ical = text if text is not None else comp.to_ical().decode()
    if not uid:  # stable, so that importing the same file again updates rather than adds
        uid = "hero-" + hashlib.sha1(ical.encode()).hexdigest()[:20]
    status = _text(comp.get("STATUS"))
    return dict(
        uid=uid, recurrence_id=recurrence_id, title=_text(comp.get("SUMMARY")) or "(no title)",
        start=start, end=end, all_day=all_day, tz=tz_key,
        location=_text(comp.get("LOCATION")), description=_text(comp.get("DESCRIPTION")),
        attendees=attendees, tags=tags, rrule=rrule, exdates=sorted(set(exdates)),
        status=status.upper() if status else None, ical=ical,
    )


def _shift(naive_utc: datetime, tz_key: str, shift: timedelta) -> datetime:
    """Move a stored time by ``shift`` on its own zone's wall clock."""
    tz = ZoneInfo(tz_key)
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
            values.append(item.dt)
    return values


def _instance(value, all_day: bool, start: datetime, tz: ZoneInfo, local: ZoneInfo, shift: timedelta) -> datetime:
    """An EXDATE or RECURRENCE-ID value in the stored form of the event's instances."""
    if all_day:
        d = value.astimezone(tz).date() if isinstance(value, datetime) and value.tzinfo else (
            value.date() if isinstance(value, datetime) else value)
        return _midnight(d + timedelta(days=shift.days))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            stored = to_naive_utc(localize(value, tz))
        else:
            stored = to_naive_utc(value)
    else:  # a date for a timed event: the instance on that day, at the series' time
        wall = start.replace(tzinfo=UTC).astimezone(tz).time()
        stored = to_naive_utc(localize(datetime.combine(value, wall), tz))
        return _shift(stored, tz.key, shift) if shift else stored
    return _shift(stored, tz.key, shift) if shift else stored


# ---------------------------------------------------------------------------------------
# Writing files
# ---------------------------------------------------------------------------------------


def serialize(events: list[dict]) -> str:
    """Events (stored fields + ``id``, ``created``, ``updated``, ``ical``) as one VCALENDAR,
    with a VTIMEZONE for every zone used. Unknown properties of imported events are kept."""
    from icalendar import Calendar, Event, vCalAddress, vRecur

    cal = Calendar()
    cal.add("prodid", "-//Hero//herotui//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    earliest = None
    for ev in events:
        original = _original(ev.get("ical"))
        out = Event()
        out.add("uid", ev["uid"])
        out.add("dtstamp", (ev.get("updated") or datetime.now(UTC).replace(tzinfo=None)).replace(tzinfo=UTC))
        out.add("summary", ev["title"])
        tz = ZoneInfo(ev["tz"])
        if ev["all_day"]:
            out.add("dtstart", ev["start"].date())
            out.add("dtend", ev["end"].date())
        else:
            out.add("dtstart", _out_time(ev["start"], tz))
            out.add("dtend", _out_time(ev["end"], tz))
            first = ev["start"].date()
            earliest = first if earliest is None or first < earliest else earliest
        if ev.get("recurrence_id"):
            rid = ev["recurrence_id"]
            out.add("recurrence-id", rid.date() if ev["all_day"] else _out_time(rid, tz))
        if ev.get("rrule"):
            out.add("rrule", vRecur.from_ical(ev["rrule"]))
        if ev.get("exdates"):
            out.add("exdate", [x.date() if ev["all_day"] else _out_time(x, tz) for x in ev["exdates"]])
        if ev.get("location"):
            out.add("location", ev["location"])
        if ev.get("description"):
            out.add("description", ev["description"])
        if ev.get("status"):
            out.add("status", ev["status"])
        if ev.get("tags"):
            out.add("categories", list(ev["tags"]))
        known = _original_attendees(original)
        for a in ev.get("attendees") or []:
            email = a.get("email")
            prop = known.get(email.lower()) if email else None
            if prop is None:
                prop = vCalAddress(f"mailto:{email}" if email else "urn:hero:attendee")
            if a.get("name"):
                prop.params["CN"] = a["name"]
            out.add("attendee", prop, encode=0)
        for key in ("created", "updated"):
            if ev.get(key):
                out.add("created" if key == "created" else "last-modified", ev[key].replace(tzinfo=UTC))
        if original is not None:
            for name in original.keys():
                if name.upper() not in KNOWN:
                    out[name] = original[name]
            for sub in original.subcomponents:
                out.add_component(sub)
        cal.add_component(out)
    if earliest is not None:
        cal.add_missing_timezones(first_date=max(date(1970, 1, 1), earliest - timedelta(days=366)))
    return cal.to_ical().decode()


def _out_time(stored: datetime, tz: ZoneInfo) -> datetime:
    aware = stored.replace(tzinfo=UTC)
    return aware if tz.key == "UTC" else aware.astimezone(tz)


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
    from icalendar import Event

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
