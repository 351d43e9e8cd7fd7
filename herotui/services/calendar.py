"""Calendar: events with time zones, all-day events, recurrence, attendees; iCalendar.

Decisions (the front-ends and the planner rely on them):

* Times are stored in UTC; every time a verb returns is aware, in the user's zone
  (``timeparse.local_zone()``: ``HERO_TZ``, ``TZ``, the system zone). Each event keeps the
  zone it was written in (``tz``), and recurrences are expanded on its wall clock, so a
  weekly 09:00 Europe/Brussels meeting stays at 09:00 across DST changes.
* All-day events are stored as floating dates (00:00, end exclusive, as in iCalendar) and
  shown as 00:00 of that day in the user's zone, with ``all_day`` true. ``add`` makes an
  event all-day with ``--all-day`` or when the start names a day without a time
  (``friday``); for all-day events ``--end`` names the last day (inclusive).
* Windows (an occurrence is listed when it overlaps the window, so a meeting that is
  still running is listed):
  ``list``: from the start of today for 30 days (``--to`` alone: from the start of today;
  ``--from`` alone: 30 days from it; a day-only ``--to`` includes that day);
  ``today``: today 00:00 to tomorrow 00:00;
  ``week``: this calendar week, Monday 00:00 to the next Monday (``--offset 1``: next week);
  ``agenda``: from now to the end of the ``--days``-th day (default 14; 1 = rest of today);
  ``next``: the first occurrence starting at or after now, else NotFound (exit 3).
* Default length: 1 hour (1 day for all-day events). End before start is refused.
* Attendees (``--attendee``/``-a``) are linked to contacts of the same context: an email
  (or ``Name <email>``) matching a contact's email, else a unique contact id prefix, else a
  case-insensitive name (the full name, or every word of it, e.g. ``alex``); a name that
  fits several contacts is refused with the candidates; an unknown name or email is kept
  as a free attendee (``contact_id`` null).
* iCalendar import is idempotent on UID (plus RECURRENCE-ID for an edited instance of a
  series; the highest SEQUENCE wins): importing a file again adds nothing. Cancelled events
  (STATUS:CANCELLED) are kept but not listed. One unreadable field costs that field, not the
  event (reported as a warning); to-dos and journal entries are kept aside for export.
* Occurrences are ``recurring_ical_events``'s (the reference other programs are measured
  against): RRULE (several), RDATE, EXDATE (also on a single event), edited instances.
  ``--occurrence`` picks one (its day or start, in the user's zone) for ``update`` and
  ``delete``; ``--this-and-following`` splits the series as RFC 5545 does (the old one gets
  an UNTIL, a new UID carries the rest, a COUNT keeps what is left); one occurrence changed
  is an edited instance (RECURRENCE-ID), one cancelled an EXDATE, so exports carry them.
* A time typed to ``add``/``update`` means the user's zone unless ``--tz`` names one; the
  event keeps its own zone (IANA, a Windows name mapped by CLDR, or the rules of its file's
  VTIMEZONE: never a guess by offsets) for its rule and its wall-clock time.
* Bounds: a rule that repeats more than 48 times a day without COUNT/UNTIL (or INTERVAL=0)
  is refused; a listing covers at most 20 years and 50,000 occurrences.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from herotui import timeparse
from herotui.errors import Ambiguous, InvalidInput, NotFound
from herotui.registry import P, verb
from herotui.services import _ical
from herotui.services.common import (ExportResult, ImportProblem, aware, clean_tags, export_text, new_id,
                                     read_import_text, resolve_id, store_rows, utcnow)
from herotui.store import index

SERVICE = "calendar"
UTC = timezone.utc
COLUMNS = ('id, uid, recurrence_id, title, start, "end", all_day, tz, location, description, attendees, '
           "tags, rrule, exdates, status, created, updated, rdates, vtimezone, sequence")
LIST_DAYS = 30
MAX_DAYS = 7320  # a listing covers at most 20 years
MAX_LISTED = 50_000  # occurrences one listing returns
UPCOMING = 5  # occurrences shown by ``show``
REPEAT_HINT = "use --repeat daily|weekly|monthly|yearly|weekdays, or --rrule 'FREQ=WEEKLY;BYDAY=MO'"

Id = Annotated[str, P("Event id, or a unique prefix of it", positional=True)]


class Attendee(BaseModel):
    """Someone invited: a contact of this context (``contact_id``) or a free name/email."""

    name: str | None = None
    email: str | None = None
    contact_id: str | None = None


class Event(BaseModel):
    """An event (for a recurring one: the series, with its first start and end)."""

    id: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    tz: str
    location: str | None = None
    description: str | None = None
    attendees: list[Attendee] = []
    tags: list[str] = []
    rrule: str | None = None
    rdates: list[datetime] = []
    exdates: list[datetime] = []
    status: str | None = None
    uid: str
    recurrence_id: datetime | None = None
    upcoming: list[datetime] = []
    created: datetime
    updated: datetime

    __columns__ = ("id", "start", "end", "title", "location", "rrule", "tags")


class Occurrence(BaseModel):
    """One occurrence of an event in time (``id`` is the event's)."""

    id: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    location: str | None = None
    description: str | None = None
    attendees: list[Attendee] = []
    tags: list[str] = []
    recurring: bool = False
    instance: datetime | None = None  # which occurrence of a series: --occurrence takes it

    __columns__ = ("id", "start", "end", "title", "location", "tags")


# ---------------------------------------------------------------------------------------
# Rows, zones, times
# ---------------------------------------------------------------------------------------


def _rec(row) -> dict:
    keys = [c.strip().strip('"') for c in COLUMNS.split(",")]
    rec = dict(zip(keys, row))
    rec["attendees"] = json.loads(rec["attendees"] or "[]")
    rec["tags"] = rec["tags"] or []
    rec["exdates"] = rec["exdates"] or []
    rec["rdates"] = rec["rdates"] or []
    return rec


def _zone(name: str | None) -> ZoneInfo:
    if name is None or not name.strip():
        return timeparse.local_zone()
    try:
        return ZoneInfo(name.strip())
    except Exception:
        raise InvalidInput(f"unknown time zone '{name}'", hint="use an IANA zone such as 'Europe/Brussels' or 'UTC'") from None


def _event_zone(rec: dict):
    """The event's own zone: IANA, or the rules its file's VTIMEZONE gave."""
    return _ical.event_tz(rec["tz"], rec.get("vtimezone"))


def _shown(stored: datetime, all_day: bool) -> datetime:
    """A stored time as the user sees it: aware, in the user's zone."""
    local = timeparse.local_zone()
    if all_day:
        return stored.replace(tzinfo=local, fold=0).astimezone(UTC).astimezone(local)
    return stored.replace(tzinfo=UTC).astimezone(local)


def _when(value: datetime, all_day: bool) -> datetime:
    """An occurrence start from ``_ical`` (aware UTC, or a naive date) in the user's zone."""
    return _shown(value, True) if all_day else value.astimezone(timeparse.local_zone())


def _fmt(dt: datetime) -> str:
    return dt.strftime("%a %Y-%m-%d %H:%M %Z").strip()


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0))


def _local_day_start(d: date) -> datetime:
    local = timeparse.local_zone()
    return datetime.combine(d, time(0)).replace(tzinfo=local).astimezone(UTC).astimezone(local)


def _event(rec: dict, upcoming: list[datetime] | None = None) -> Event:
    all_day = rec["all_day"]
    return Event(
        id=rec["id"], title=rec["title"], start=_shown(rec["start"], all_day), end=_shown(rec["end"], all_day),
        all_day=all_day, tz=rec["tz"], location=rec["location"], description=rec["description"],
        attendees=[Attendee(**a) for a in rec["attendees"]], tags=rec["tags"], rrule=rec["rrule"],
        exdates=[_shown(x, all_day) for x in rec["exdates"]], rdates=[_shown(x, all_day) for x in rec["rdates"]],
        status=rec["status"], uid=rec["uid"],
        recurrence_id=_shown(rec["recurrence_id"], all_day) if rec["recurrence_id"] else None,
        upcoming=upcoming or [], created=aware(rec["created"]), updated=aware(rec["updated"]),
    )


def _occurrence(rec: dict, start: datetime, end: datetime, master: dict | None = None) -> Occurrence:
    """One occurrence; ``master`` is the series it belongs to (its id is the one shown, so
    ``--occurrence`` works from any listing)."""
    all_day = rec["all_day"]
    series = master or (rec if rec["rrule"] or rec["rdates"] else None)
    if rec["recurrence_id"] is not None:
        instance = _shown(rec["recurrence_id"], all_day)
    else:
        instance = _when(start, all_day) if series else None
    return Occurrence(
        id=(series or rec)["id"], title=rec["title"], start=_when(start, all_day), end=_when(end, all_day),
        all_day=all_day, location=rec["location"], description=rec["description"],
        attendees=[Attendee(**a) for a in rec["attendees"]], tags=rec["tags"], recurring=series is not None,
        instance=instance,
    )


def _get_rec(conn, eid: str) -> dict:
    row = conn.execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", [eid]).fetchone()
    if row is None:
        raise NotFound(f"no event with id '{eid}'")
    return _rec(row)


_SERIES_UIDS = ("SELECT uid FROM events WHERE recurrence_id IS NULL AND "
                "(rrule IS NOT NULL OR len(rdates) > 0 OR len(exdates) > 0)")


def _series_rows(conn, where: str = "", params: list | None = None) -> list[list[dict]]:
    """Series (master first, then its edited instances) whose UIDs pass ``where``."""
    rows = [_rec(r) for r in conn.execute(
        f"SELECT {COLUMNS} FROM events WHERE uid IN ({_SERIES_UIDS}) {where} "
        "ORDER BY uid, recurrence_id NULLS FIRST, id", params or []).fetchall()]
    groups: dict[str, list[dict]] = {}
    for rec in rows:
        groups.setdefault(rec["uid"], []).append(rec)
    return list(groups.values())


def _bound(tx, uids: list[str]) -> None:
    """Record when each series of these UIDs ends (``series_end``), for listings to skip
    the series that cannot reach their window."""
    rows = [_rec(r) for r in tx.execute(
        f"SELECT {COLUMNS} FROM events WHERE list_contains(?, uid) AND recurrence_id IS NULL "
        "AND (rrule IS NOT NULL OR len(rdates) > 0)", [uids]).fetchall()]
    if rows:
        tx.execute("UPDATE events SET series_end = n.e FROM (SELECT unnest(?) AS id, unnest(?::TIMESTAMP[]) AS e) AS n "
                   "WHERE events.id = n.id", [[r["id"] for r in rows], [_ical.series_end(r) for r in rows]])


def _listed(rec: dict, tag: str | None) -> bool:
    return rec["status"] != "CANCELLED" and (not tag or tag.strip().lower() in rec["tags"])


def _upcoming(conn, rec: dict, count: int = UPCOMING) -> list[datetime]:
    now = datetime.now(UTC)
    if _ical.is_series(rec):
        series = _series_rows(conn, "AND uid = ?", [rec["uid"]])
        found = _ical.starts_after(series[0], now, count) if series else []
        return [_when(s, r["all_day"]) for r, s, _ in found if r["status"] != "CANCELLED"]
    start = rec["start"] if rec["all_day"] else rec["start"].replace(tzinfo=UTC)
    return [_when(start, rec["all_day"])] if start >= (_naive_local(now) if rec["all_day"] else now) else []


def _naive_local(dt: datetime) -> datetime:
    return dt.astimezone(timeparse.local_zone()).replace(tzinfo=None)


def _get(conn, eid: str) -> Event:
    rec = _get_rec(conn, eid)
    return _event(rec, _upcoming(conn, rec))


def _check_window(lo: datetime, hi: datetime) -> None:
    if hi <= lo:
        raise InvalidInput(f"the window ends ({_fmt(hi)}) before it starts ({_fmt(lo)})", hint="give --to after --from")
    if hi - lo > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"a window of {(hi - lo).days:,} days is too long to list (at most {MAX_DAYS:,}, 20 years)",
                           hint="give a shorter --from/--to, or use 'hero calendar search'")


def _occurrences(conn, lo: datetime, hi: datetime, tag: str | None = None) -> list[Occurrence]:
    """Every occurrence overlapping [lo, hi) (aware), sorted by start then title."""
    _check_window(lo, hi)
    margin = timedelta(days=1, hours=14)  # all-day events are floating dates: wide SQL, exact Python
    lo_n, hi_n = _naive_utc(lo) - margin, _naive_utc(hi) + margin
    sql = (f"SELECT {COLUMNS} FROM events WHERE coalesce(status, '') <> 'CANCELLED' AND "
           f'start < ? AND "end" >= ? AND uid NOT IN ({_SERIES_UIDS})')
    params: list = [hi_n, lo_n]
    if tag:
        sql += " AND list_contains(tags, ?)"
        params.append(tag.strip().lower())
    out = []
    for rec in (_rec(r) for r in conn.execute(sql, params).fetchall()):
        s, e = (rec["start"], rec["end"]) if rec["all_day"] else (rec["start"].replace(tzinfo=UTC), rec["end"].replace(tzinfo=UTC))
        if not (_ical.overlaps(s, e, _naive_local(lo), _naive_local(hi)) if rec["all_day"]
                else _ical.overlaps(s, e, lo, hi)):
            continue
        out.append(_occurrence(rec, s, e))
    # a series has no occurrence in the window when none of its rows starts before the window
    # ends, or when it ended before the window (series_end; NULL with a rule: no end)
    series = _series_rows(conn, "AND uid IN (SELECT uid FROM events GROUP BY uid HAVING min(start) < ? AND "
                                "max(CASE WHEN series_end IS NULL AND rrule IS NOT NULL THEN TIMESTAMP '9999-12-31' "
                                'ELSE coalesce(series_end, "end") END) >= ?)', [hi_n, lo_n])
    masters = {rows[0]["uid"]: rows[0] for rows in series if rows[0]["recurrence_id"] is None}
    try:
        spans = _ical.occurrences(series, lo, hi, cap=MAX_LISTED)
    except _ical.TooMany:
        raise InvalidInput(f"more than {MAX_LISTED:,} occurrences between {_fmt(lo)} and {_fmt(hi)}",
                           hint="give a shorter window (--from/--to) or a --tag") from None
    for rec, s, e in spans:
        if _listed(rec, tag) and _listed(masters.get(rec["uid"], rec), None):
            out.append(_occurrence(rec, s, e, masters.get(rec["uid"])))
    out.sort(key=lambda o: (o.start, not o.all_day, o.title.lower(), o.id))
    return out


# ---------------------------------------------------------------------------------------
# Input: times, rules, attendees
# ---------------------------------------------------------------------------------------


def _parse_end(text: str, start: datetime, zone: ZoneInfo) -> datetime:
    """``--end`` of a timed event, read so that it fits the start.

    The phrase is read from now and from the start. A reading on the start's own day wins
    (``11am``, or ``friday 4pm`` for a Friday start: a clock time is on the start's day, not
    today); otherwise the earliest reading that is not before the start (``tomorrow 11am``
    for a start tomorrow, ``saturday 2am`` for a start next Friday)."""
    from_start = timeparse.parse_when(text, now=start, tz=zone)
    if from_start.date() == start.astimezone(zone).date():
        return from_start
    from_now = timeparse.parse_when(text, tz=zone)
    fitting = [t for t in (from_now, from_start) if t >= start]
    return min(fitting) if fitting else from_now


def _whole_days(text: str) -> int:
    length = timeparse.parse_duration(text)
    if length % timedelta(days=1):
        raise InvalidInput(f"an all-day event lasts whole days, not '{text}'", hint="e.g. --duration 2d, or --end friday")
    return length // timedelta(days=1)


def _all_day_span(day: date, end: str | None, duration: str | None, zone: ZoneInfo, default_days: int = 1) -> tuple[datetime, datetime]:
    if end is not None:  # the last day, inclusive: the earliest reading (from now, from the start) that fits
        readings = [timeparse.parse_when(end, tz=zone).date(),
                    timeparse.parse_when(end, now=datetime.combine(day, time(12), tzinfo=zone), tz=zone).date()]
        fitting = [d for d in readings if d >= day]
        last = min(fitting) if fitting else readings[0]
        if last < day:
            raise InvalidInput(f"the end ({last}) is before the start ({day})", hint="the end must be on or after the start")
        stop = last + timedelta(days=1)
    elif duration is not None:
        stop = day + timedelta(days=_whole_days(duration))
    else:
        stop = day + timedelta(days=default_days)
    return _midnight(day), _midnight(stop)


def _check_order(start: datetime, end: datetime) -> None:
    if end < start:
        raise InvalidInput(f"the end ({_fmt(end)}) is before the start ({_fmt(start)})",
                           hint="give an end after the start, or a --duration such as 1h30")


def _rule(rrule: str | None, repeat: str | None, all_day: bool, zone: ZoneInfo, start: datetime) -> str | None:
    """The stored rule from ``--rrule`` or ``--repeat`` (None: no recurrence)."""
    if rrule is not None and repeat is not None:
        raise InvalidInput("give --rrule or --repeat, not both", hint=REPEAT_HINT)
    if repeat is not None:
        key = repeat.strip().lower()
        if key in ("", "none", "never", "no"):
            return None
        if key not in _ical.REPEAT:
            raise InvalidInput(f"unknown --repeat '{repeat}'", hint=REPEAT_HINT)
        rrule = _ical.REPEAT[key]
    if rrule is None or not rrule.strip():
        return None
    try:
        return _ical.check_rrule(rrule, all_day, zone, start)
    except _ical.RuleError as exc:
        raise InvalidInput(str(exc), hint=REPEAT_HINT) from None


_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>$")
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _contacts(conn) -> list[tuple[str, str, list[str]]]:
    return [(cid, name, [e.lower() for e in emails or []])
            for cid, name, emails in conn.execute("SELECT id, name, emails FROM contacts ORDER BY lower(name), id").fetchall()]


def _resolve_attendees(conn, items: list[str]) -> list[dict]:
    """``--attendee`` values -> attendees, linked to contacts where they match one."""
    contacts = None
    out: list[dict] = []
    for raw in items:
        text = (raw or "").strip()
        if not text:
            continue
        if contacts is None:
            contacts = _contacts(conn)
        name, email = None, None
        m = _NAME_EMAIL.match(text)
        if m:
            name, email = m["name"].strip().strip('"') or None, m["email"]
        elif "@" in text:
            email = text
        if email is not None:
            if email.lower().startswith("mailto:"):
                email = email[7:]
            if not _EMAIL.match(email):
                raise InvalidInput(f"'{email}' is not an email address", hint="e.g. --attendee alex@example.com or --attendee 'Alex Smith'")
            email = email.lower()
            hit = next((c for c in contacts if email in c[2]), None)
            found = {"name": name or (hit[1] if hit else None), "email": email, "contact_id": hit[0] if hit else None}
        else:
            found = _by_id_or_name(contacts, text)
        key = found["contact_id"] or found["email"] or (found["name"] or "").lower()
        if all((a["contact_id"] or a["email"] or (a["name"] or "").lower()) != key for a in out):
            out.append(found)
    return out


def _by_id_or_name(contacts, text: str) -> dict:
    def link(c) -> dict:
        return {"name": c[1], "email": c[2][0] if c[2] else None, "contact_id": c[0]}

    if re.fullmatch(r"[0-9A-Za-z]{4,26}", text):
        by_id = [c for c in contacts if c[0].startswith(text.upper())]
        if len(by_id) == 1:
            return link(by_id[0])
    wanted = text.lower()
    exact = [c for c in contacts if c[1].lower() == wanted]
    words = wanted.split()
    candidates = exact or [c for c in contacts if all(w in c[1].lower().split() for w in words)]
    if len(candidates) == 1:
        return link(candidates[0])
    if len(candidates) > 1:
        shown = ", ".join(f"{c[1]} ({c[0]})" for c in candidates[:5]) + (" ..." if len(candidates) > 5 else "")
        raise Ambiguous(f"attendee '{text}' matches several contacts: {shown}",
                        hint="give the full name, an email or a contact id prefix")
    return {"name": text, "email": None, "contact_id": None}


# ---------------------------------------------------------------------------------------
# Verbs
# ---------------------------------------------------------------------------------------


@verb(mutates=True, examples=[
    'hero calendar add "Lunch with Alex" --start "tomorrow 12:30" --duration 1h30 --attendee alex@northwind.example',
    'hero calendar add "Standup" --start "monday 9:15" --duration 15m --repeat weekdays --tag team',
    'hero calendar add "Offsite" --start "next friday" --all-day --location "Hof ter Linden"',
])
def add(
    ctx,
    title: Annotated[str, P("What the event is", positional=True)],
    start: Annotated[str, P("When it starts: 'tomorrow 10am', 'next friday 3pm', 'in 2 hours', '2026-03-02 09:00'"
                            " (a day alone: all-day)", short="-s")],
    end: Annotated[str | None, P("When it ends (for an all-day event: the last day)", short="-e")] = None,
    duration: Annotated[str | None, P("How long instead of --end: '30m', '1h30', '2d' (default 1h)", short="-d")] = None,
    all_day: Annotated[bool, P("An all-day event (also when --start names only a day)")] = False,
    location: Annotated[str | None, P("Where", short="-l")] = None,
    description: Annotated[str | None, P("Notes, agenda")] = None,
    attendees: Annotated[list[str], P("Attendee: a contact's name, email or id (repeat for several)", flag="--attendee", short="-a")] = [],
    tags: Annotated[list[str], P("Tag (repeat, or comma-separated)", flag="--tag", short="-t")] = [],
    rrule: Annotated[str | None, P("Recurrence rule (RFC 5545), e.g. 'FREQ=WEEKLY;BYDAY=MO;COUNT=10'")] = None,
    repeat: Annotated[str | None, P("Repeat: daily, weekly, monthly, yearly or weekdays", short="-r")] = None,
    tz: Annotated[str | None, P("Time zone of the event (default: yours), e.g. 'America/New_York'")] = None,
) -> Event:
    """Add an event to the calendar of the active context."""
    zone = _zone(tz)
    title = title.strip()
    if not title:
        raise InvalidInput("the title is empty", hint='e.g. hero calendar add "Lunch with Alex" --start "tomorrow 12:30"')
    if end is not None and duration is not None:
        raise InvalidInput("give --end or --duration, not both", hint="e.g. --duration 1h30")
    when = timeparse.parse_when(start, tz=zone)
    if all_day or timeparse.is_date_only(start, tz=zone):
        all_day = True
        s, e = _all_day_span(when.date(), end, duration, zone)
    else:
        if end is not None:
            finish = _parse_end(end, when, zone)
        else:
            finish = when + (timeparse.parse_duration(duration) if duration is not None else timedelta(hours=1))
        _check_order(when, finish)
        s, e = _naive_utc(when), _naive_utc(finish)
    rule = _rule(rrule, repeat, all_day, zone, s)
    fields = dict(title=title, start=s, end=e, all_day=all_day, tz=zone.key, location=(location or "").strip() or None,
                  description=(description or "").strip() or None, tags=clean_tags(tags), rrule=rule)
    with ctx.write() as tx:
        fields["attendees"] = _resolve_attendees(tx.conn, attendees)
        eid, now = new_id(), utcnow()
        tx.execute(
            'INSERT INTO events (id, uid, title, start, "end", all_day, tz, location, description, attendees, tags, '
            "rrule, exdates, created, updated, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [eid, f"{eid.lower()}@hero", fields["title"], s, e, all_day, fields["tz"], fields["location"],
             fields["description"], json.dumps(fields["attendees"]), fields["tags"], rule, [], now, now, tx.revision],
        )
        _bound(tx, [f"{eid.lower()}@hero"])
        return _get(tx.conn, eid)


@verb(examples=["hero calendar show 01JD3"])
def show(ctx, id: Id) -> Event:
    """Show one event, with its next occurrences."""
    with ctx.read() as conn:
        return _get(conn, resolve_id(conn, "events", "event", id, label="title"))


def _window_text(text: str, zone: ZoneInfo, inclusive_day: bool) -> datetime:
    when = timeparse.parse_when(text, tz=zone)
    if inclusive_day and timeparse.is_date_only(text, tz=zone):
        return _local_day_start(when.date() + timedelta(days=1))
    return when


@verb(examples=["hero calendar list", "hero calendar list --from monday --to friday", "hero calendar list --tag finance"])
def list_(
    ctx,
    start: Annotated[str | None, P("From: natural or ISO time (default: the start of today)", flag="--from")] = None,
    end: Annotated[str | None, P("To: natural or ISO time; a day alone is included (default: 30 days after --from)", flag="--to")] = None,
    tag: Annotated[str | None, P("Only events with this tag")] = None,
    limit: Annotated[int | None, P("At most this many", minimum=1)] = None,
) -> list[Occurrence]:
    """List the occurrences of events in a window of time, in order (recurrences expanded)."""
    zone = timeparse.local_zone()
    lo = _window_text(start, zone, False) if start else _local_day_start(datetime.now(zone).date())
    hi = _window_text(end, zone, True) if end else _local_day_start(lo.date() + timedelta(days=LIST_DAYS))
    with ctx.read() as conn:
        found = _occurrences(conn, lo, hi, tag)
    return found[:limit] if limit else found


@verb(examples=["hero calendar today"])
def today(ctx, tag: Annotated[str | None, P("Only events with this tag")] = None) -> list[Occurrence]:
    """Today's events, in order (all-day events first on the day)."""
    day = datetime.now(timeparse.local_zone()).date()
    with ctx.read() as conn:
        return _occurrences(conn, _local_day_start(day), _local_day_start(day + timedelta(days=1)), tag)


@verb(examples=["hero calendar week", "hero calendar week --offset 1"])
def week(
    ctx,
    offset: Annotated[int, P("0 this week, 1 next week, -1 last week")] = 0,
    tag: Annotated[str | None, P("Only events with this tag")] = None,
) -> list[Occurrence]:
    """The events of this calendar week, Monday to Sunday."""
    day = datetime.now(timeparse.local_zone()).date()
    monday = day - timedelta(days=day.weekday()) + timedelta(weeks=offset)
    with ctx.read() as conn:
        return _occurrences(conn, _local_day_start(monday), _local_day_start(monday + timedelta(days=7)), tag)


@verb(examples=["hero calendar agenda", "hero calendar agenda --days 3"])
def agenda(
    ctx,
    days: Annotated[int, P("How many days, today included", minimum=1)] = 14,
    tag: Annotated[str | None, P("Only events with this tag")] = None,
) -> list[Occurrence]:
    """What is coming: from now (events still running included) to the end of the N-th day."""
    now = datetime.now(timeparse.local_zone()).replace(microsecond=0)
    with ctx.read() as conn:
        return _occurrences(conn, now, _local_day_start(now.date() + timedelta(days=days)), tag)


@verb(examples=["hero calendar next"])
def next_(ctx, tag: Annotated[str | None, P("Only events with this tag")] = None) -> Occurrence:
    """The next event to start."""
    now = datetime.now(UTC).replace(microsecond=0)
    sql = (f"SELECT {COLUMNS} FROM events WHERE coalesce(status, '') <> 'CANCELLED' AND start >= ? "
           f"AND uid NOT IN ({_SERIES_UIDS})")
    found: list[Occurrence] = []
    with ctx.read() as conn:
        for rec in (_rec(r) for r in conn.execute(sql, [_naive_utc(now) - timedelta(days=1, hours=14)]).fetchall()):
            if not _listed(rec, tag):
                continue
            s = rec["start"] if rec["all_day"] else rec["start"].replace(tzinfo=UTC)
            if s >= (_naive_local(now) if rec["all_day"] else now):
                found.append(_occurrence(rec, s, s + (rec["end"] - rec["start"])))
        series = _series_rows(conn)
    for rows in series:
        if not _listed(rows[0], None):
            continue
        for rec, s, e in _ical.starts_after(rows, now, 3):
            if _listed(rec, tag):
                found.append(_occurrence(rec, s, e, rows[0]))
                break
    if not found:
        raise NotFound("no upcoming events", hint="add one with 'hero calendar add \"Title\" --start \"tomorrow 10am\"'")
    return min(found, key=lambda o: (o.start, o.title.lower()))


# ---------------------------------------------------------------------------------------
# Occurrences of a series: one, this and following, or all
# ---------------------------------------------------------------------------------------

Occurrence_ = Annotated[str | None, P(
    "Only this occurrence of a series: its day or its start ('2026-12-08', 'tuesday', 'dec 8 9:00'), "
    "as listed in your zone")]
Following = Annotated[bool, P("With --occurrence: that occurrence and every later one", flag="--this-and-following")]


def _master(conn, rec: dict) -> dict:
    if rec["recurrence_id"] is None:
        return rec
    row = conn.execute(f"SELECT {COLUMNS} FROM events WHERE uid = ? AND recurrence_id IS NULL", [rec["uid"]]).fetchone()
    return _rec(row) if row else rec


def _stored_instant(value: datetime, all_day: bool) -> datetime:
    """An occurrence start from ``_ical`` in the stored form (naive UTC, or the date)."""
    return value if all_day else _naive_utc(value)


def _find(conn, rec: dict, text: str) -> tuple[dict, dict, datetime, datetime, datetime]:
    """``--occurrence TEXT`` -> (master, the row that makes it, its RECURRENCE-ID value in
    stored form, its start and end as ``_ical`` gives them). A day names the occurrence that
    starts on it; a time the one starting then; both in the user's zone."""
    master = _master(conn, rec)
    if not _ical.is_series(master) or not (master["rrule"] or master["rdates"]):
        raise InvalidInput(f"'{master['title']}' is not a recurring event, it has no occurrences to choose",
                           hint="leave out --occurrence to change the event itself")
    zone = timeparse.local_zone()
    when = timeparse.parse_when(text, tz=zone)
    day_only = timeparse.is_date_only(text, tz=zone)
    lo = _local_day_start(when.date()) if day_only else when
    hi = _local_day_start(when.date() + timedelta(days=1)) if day_only else when + timedelta(minutes=1)
    series = _series_rows(conn, "AND uid = ?", [master["uid"]])
    spans = []
    for row, s, e in _ical.occurrences(series, lo, hi):
        shown = _when(s, row["all_day"])
        if (shown.date() == when.date()) if day_only else (shown == when.replace(second=0, microsecond=0)):
            spans.append((row, s, e))
    title = master["title"]
    if not spans:
        what = when.strftime("%a %Y-%m-%d") if day_only else _fmt(when)
        raise InvalidInput(f"'{title}' has no occurrence {'on' if day_only else 'at'} {what}",
                           hint=f"'hero calendar show {master['id'][:8]}' lists the next ones")
    if len(spans) > 1:
        times = ", ".join(_when(s, r["all_day"]).strftime("%H:%M") for r, s, _ in spans)
        raise Ambiguous(f"'{title}' happens {len(spans)} times on {when.date()} ({times})",
                        hint=f"give the time too, e.g. --occurrence '{when.date()} {times.split(', ')[0]}'")
    row, s, e = spans[0]
    instance = row["recurrence_id"] or _stored_instant(s, row["all_day"])
    return master, row, instance, s, e


def _day(value: datetime, all_day: bool) -> str:
    return _shown(value, all_day).strftime("%a %-d %b %Y")


def _series_count(conn, master: dict, since: datetime | None = None) -> tuple[int | None, datetime]:
    """(how many occurrences the series has from ``since`` (stored form; default its start),
    None when it has no end; the first of them, stored form)."""
    series = _series_rows(conn, "AND uid = ?", [master["uid"]])
    first = since or min([master["start"], *master["rdates"]])
    if not series:
        return 1, first
    after = first.replace(tzinfo=timeparse.local_zone()) if master["all_day"] else first.replace(tzinfo=UTC)
    endless = any("UNTIL=" not in r and "COUNT=" not in r for r in _ical.rules(master["rrule"]))
    found = [(r, s) for r, s, _ in _ical.starts_after(series[0], after, 1 if endless else _ical.MAX_SERIES)
             if r["status"] != "CANCELLED"]
    start = _stored_instant(found[0][1], master["all_day"]) if found else first
    return (None if endless else len(found)), start


def _scope_text(conn, rec: dict, occurrence: str | None, following: bool) -> str:
    """What a change covers, for the question that asks for a yes."""
    master = _master(conn, rec)
    title = master["title"]
    if occurrence is not None:
        master, row, instance, s, _ = _find(conn, rec, occurrence)
        day = _when(s, row["all_day"]).strftime("%a %-d %b %Y")
        if not following:
            return f"'{title}': only the occurrence on {day}"
        if instance > min([master["start"], *master["rdates"]]):
            n, _ = _series_count(conn, master, instance)
            later = "every one after it (the series has no end)" if n is None else f"the {n - 1} after it"
            return f"'{title}': the occurrence on {day} and {later}"
        rec = master  # from the first occurrence on: the whole series
    if rec["recurrence_id"] is not None:
        return f"'{title}': only the occurrence on {_day(rec['start'], rec['all_day'])}"
    if not (master["rrule"] or master["rdates"]):
        return f"'{title}' on {_day(master['start'], master['all_day'])}"
    n, first = _series_count(conn, master)
    if n is None:
        return f"'{title}': every occurrence, from {_day(first, master['all_day'])} (the series has no end)"
    return f"'{title}': all {n} occurrence{'s' if n != 1 else ''}, from {_day(first, master['all_day'])}"


def _scope(ctx, args: dict) -> str | None:
    with ctx.read() as conn:
        rec = _get_rec(conn, resolve_id(conn, "events", "event", args["id"], label="title"))
        skips = [t for t in args.get("skip") or [] if t.strip()]
        if skips and args.get("occurrence") is None:  # update --skip: those occurrences only
            return "; ".join(_scope_text(conn, rec, t, False) for t in skips)
        return _scope_text(conn, rec, args.get("occurrence"), bool(args.get("following")))


def _truncate(tx, master: dict, instance: datetime) -> int:
    """End a series just before ``instance`` (RRULE UNTIL, as RFC 5545 splits a series):
    later extra dates, exclusions and edited instances go. Returns the rows deleted."""
    if master["all_day"]:
        until = (instance - timedelta(days=1)).strftime("%Y%m%d")
    else:
        until = (instance - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    kept = []
    for rule in _ical.rules(master["rrule"]):
        parts = [p for p in rule.split(";") if not p.startswith(("UNTIL=", "COUNT="))]
        old = _ical.rule_parts(rule).get("UNTIL")
        kept.append(";".join([*parts, f"UNTIL={min(old, until) if old else until}"]))
    later = [r[0] for r in tx.execute("SELECT id FROM events WHERE uid = ? AND recurrence_id >= ?",
                                      [master["uid"], instance]).fetchall()]
    tx.execute("UPDATE events SET rrule = ?, rdates = ?, exdates = ?, updated = ?, revision = ? WHERE id = ?",
               ["\n".join(kept) or None, [x for x in master["rdates"] if x < instance],
                [x for x in master["exdates"] if x < instance], utcnow(), tx.revision, master["id"]])
    if later:
        tx.execute("DELETE FROM events WHERE list_contains(?, id)", [later])
        for rid in later:
            tx.tombstone("event", rid)
    return len(later)


def _insert(tx, rec: dict) -> str:
    """A new row from a stored record (a split series' second half, an edited instance)."""
    eid, now = new_id(), utcnow()
    fields = ["uid", "recurrence_id", "title", "start", "end", "all_day", "tz", "vtimezone", "location",
              "description", "attendees", "tags", "rrule", "rdates", "exdates", "status", "sequence"]
    values = [json.dumps(rec["attendees"]) if f == "attendees" else rec[f] for f in fields]
    quoted = ", ".join(f'"{f}"' for f in fields)
    tx.execute(f"INSERT INTO events (id, {quoted}, created, updated, revision) VALUES "
               f"({', '.join(['?'] * (len(fields) + 4))})", [eid, *values, now, now, tx.revision])
    return eid


def _split(tx, master: dict, instance: datetime, start: datetime, end: datetime) -> str:
    """This and following: a new series (new UID) from ``instance`` carries the rest of the
    rule (a COUNT keeps what is left), the later extra dates, exclusions and edited
    instances; the old one ends before it. Returns the new series' id."""
    left, _ = _series_count(tx.conn, master, instance)
    rules = []
    for rule in _ical.rules(master["rrule"]):
        parts = _ical.rule_parts(rule)
        if "COUNT" in parts and left is not None:
            rule = ";".join(p if not p.startswith("COUNT=") else f"COUNT={max(1, left)}" for p in rule.split(";"))
        rules.append(rule)
    new_uid = f"{new_id().lower()}@hero"
    moved = [r[0] for r in tx.execute("SELECT id FROM events WHERE uid = ? AND recurrence_id >= ?",
                                      [master["uid"], instance]).fetchall()]
    length = master["end"] - master["start"]
    rec = dict(master, uid=new_uid, recurrence_id=None, start=_stored_instant(start, master["all_day"]),
               rrule="\n".join(rules) or None, rdates=[x for x in master["rdates"] if x > instance],
               exdates=[x for x in master["exdates"] if x > instance], sequence=0)
    rec["end"] = rec["start"] + length
    new = _insert(tx, rec)
    if moved:
        tx.execute("UPDATE events SET uid = ?, updated = ?, revision = ? WHERE list_contains(?, id)",
                   [new_uid, utcnow(), tx.revision, moved])
    master = _get_rec(tx.conn, master["id"])
    _truncate(tx, master, instance)
    return new


def _edited_instance(tx, master: dict, row: dict, instance: datetime, start: datetime, end: datetime) -> dict:
    """The row that holds one changed occurrence: the edited instance if there is one, else a
    new one (RECURRENCE-ID) copied from the series."""
    if row["recurrence_id"] is not None:
        return row
    rec = dict(master, recurrence_id=instance, start=_stored_instant(start, master["all_day"]),
               end=_stored_instant(end, master["all_day"]), rrule=None, rdates=[], exdates=[],
               sequence=master["sequence"] + 1)
    return _get_rec(tx.conn, _insert(tx, rec))


def _skip_instants(conn, rec: dict, texts: list[str]) -> list[datetime]:
    """``--skip`` values -> stored instants of occurrences of ``rec`` to exclude."""
    if not rec["rrule"] and not rec["rdates"]:
        raise InvalidInput("only a recurring event has occurrences to skip", hint="delete the event instead")
    return [_find(conn, rec, text)[2] for text in texts if text.strip()]


def _move_exdates(rec: dict, new_start: datetime, new_all_day: bool, zone) -> list[datetime]:
    """Exclusions follow the series when its start moves (same wall-clock shift)."""
    old_zone = _event_zone(rec)
    if rec["all_day"]:
        old_wall = rec["start"]
        walls = list(rec["exdates"])
    else:
        old_wall = _ical.series_start(rec["start"], False, old_zone).replace(tzinfo=None)
        walls = [_ical.series_start(x, False, old_zone).replace(tzinfo=None) for x in rec["exdates"]]
    new_wall = new_start if new_all_day else new_start.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    if new_all_day:
        delta = timedelta(days=(new_wall.date() - old_wall.date()).days)
        return sorted({_midnight((w + delta).date()) for w in walls})
    if rec["all_day"]:  # dates become instances at the new time of day
        return sorted({_naive_utc(_ical.localize(datetime.combine(w.date(), new_wall.time()), zone)) for w in walls})
    delta = new_wall - old_wall
    return sorted({_naive_utc(_ical.localize(w + delta, zone)) for w in walls})


@verb(mutates=True, scope=_scope, examples=[
    'hero calendar update 01JD3 --start "friday 14:00"',
    'hero calendar update 01JD3 --occurrence 2026-12-08 --start "2026-12-08 15:00"',
    'hero calendar update 01JD3 --occurrence "next monday" --this-and-following --location "Room Atlas"',
    'hero calendar update 01JD3 --skip "next monday"',
])
def update(
    ctx,
    id: Id,
    title: Annotated[str | None, P("New title")] = None,
    start: Annotated[str | None, P("New start, in your zone unless --tz names one"
                                   " (a day alone keeps the time of day; the length is kept)", short="-s")] = None,
    end: Annotated[str | None, P("New end", short="-e")] = None,
    duration: Annotated[str | None, P("New length instead of --end: '45m', '2h'", short="-d")] = None,
    all_day: Annotated[bool | None, P("Make it an all-day event")] = None,
    location: Annotated[str | None, P("New location ('' clears it)", short="-l")] = None,
    description: Annotated[str | None, P("New description ('' clears it)")] = None,
    attendees: Annotated[list[str] | None, P("Replace the attendees (repeat; '' clears them)", flag="--attendee", short="-a")] = None,
    tags: Annotated[list[str] | None, P("Replace the tags (repeat; '' clears them)", flag="--tag", short="-t")] = None,
    rrule: Annotated[str | None, P("New recurrence rule ('' stops the recurrence)")] = None,
    repeat: Annotated[str | None, P("Repeat: daily, weekly, monthly, yearly, weekdays or none", short="-r")] = None,
    skip: Annotated[list[str] | None, P("Skip the occurrence on this day or at this time (repeat)")] = None,
    tz: Annotated[str | None, P("New time zone of the event (the times stay the same instants); --start is read in it")] = None,
    occurrence: Occurrence_ = None,
    following: Following = False,
) -> Event:
    """Change an event, one occurrence of a series, or an occurrence and the ones after it;
    fields not given stay as they are."""
    if end is not None and duration is not None:
        raise InvalidInput("give --end or --duration, not both", hint="e.g. --duration 1h30")
    given = [title, start, end, duration, all_day, location, description, attendees, tags, rrule, repeat, skip, tz]
    if all(v is None for v in given):
        raise InvalidInput("nothing to update", hint="give at least one field, e.g. --start 'friday 14:00'")
    if title is not None and not title.strip():
        raise InvalidInput("the title cannot be empty")
    if following and occurrence is None:
        raise InvalidInput("--this-and-following needs --occurrence", hint="e.g. --occurrence 2026-12-08 --this-and-following")
    if occurrence is not None and not following and (rrule is not None or repeat is not None or skip):
        raise InvalidInput("one occurrence has no rule of its own",
                           hint="change the rule of the series (leave out --occurrence), or add --this-and-following")
    fields = {"title": title, "start": start, "end": end, "duration": duration, "all_day": all_day,
              "location": location, "description": description, "attendees": attendees, "tags": tags,
              "rrule": rrule, "repeat": repeat, "skip": skip, "tz": tz}
    with ctx.write() as tx:
        rec = _get_rec(tx.conn, resolve_id(tx.conn, "events", "event", id, label="title"))
        if occurrence is not None:
            master, row, instance, s, e = _find(tx.conn, rec, occurrence)
            if not following:
                rec = _edited_instance(tx, master, row, instance, s, e)
            elif instance > min([master["start"], *master["rdates"]]):
                rec = _get_rec(tx.conn, _split(tx, master, instance, s, e))
            else:
                rec = master  # from the first occurrence on: the whole series
        _change(tx, rec, **fields)
        _bound(tx, sorted({rec["uid"], _get_rec(tx.conn, rec["id"])["uid"], *(
            [master["uid"]] if occurrence is not None else [])}))
        return _get(tx.conn, rec["id"])


def _change(tx, rec: dict, *, title, start, end, duration, all_day, location, description, attendees, tags,
            rrule, repeat, skip, tz) -> None:
    """Apply ``update``'s fields to one stored event (a series, an edited instance, a single
    event). A typed time means the user's zone unless ``tz`` names one; the event keeps its
    own zone for its rule and its wall-clock time."""
    zone = _zone(tz) if tz is not None else _event_zone(rec)
    typed = _zone(tz) if tz is not None else timeparse.local_zone()
    changes: dict = {}
    if tz is not None:
        changes.update(tz=zone.key, vtimezone=None)
    if title is not None:
        changes["title"] = title.strip()
    for key, value in (("location", location), ("description", description)):
        if value is not None:
            changes[key] = value.strip() or None
    if tags is not None:
        changes["tags"] = clean_tags(tags)
    if attendees is not None:
        changes["attendees"] = json.dumps(_resolve_attendees(tx.conn, attendees))

    times_change = any(v is not None for v in (start, end, duration, all_day, tz))
    new_all_day = rec["all_day"] if all_day is None else all_day
    s, e = rec["start"], rec["end"]
    if start is not None or end is not None or duration is not None or all_day is not None:
        s, e, new_all_day = _new_times(rec, start, end, duration, all_day, zone, typed)
        changes.update(start=s, end=e, all_day=new_all_day)

    rule = rec["rrule"]
    if rrule is not None or repeat is not None:
        rule = _rule(rrule, repeat, new_all_day, zone, s)
        changes["rrule"] = rule
    elif rule and times_change:
        rule = "\n".join(_rule(r, None, new_all_day, zone, s) for r in _ical.rules(rule)) or None
        changes["rrule"] = rule
    exdates = list(rec["exdates"])
    if exdates and times_change and (s != rec["start"] or new_all_day != rec["all_day"]):
        exdates = _move_exdates(rec, s, new_all_day, zone)
        changes["exdates"] = exdates
    if rule is None and exdates and rec["recurrence_id"] is None and (rrule is not None or repeat is not None):
        changes["exdates"] = exdates = []
    if skip:
        moved = dict(rec, start=s, end=e, all_day=new_all_day, tz=zone.key if tz else rec["tz"], rrule=rule,
                     exdates=exdates)
        changes["exdates"] = sorted(set(exdates) | set(_skip_instants(tx.conn, moved, skip)))
    if changes:
        if rec["recurrence_id"] is not None or times_change:
            changes["sequence"] = rec["sequence"] + 1
        sets = ", ".join(f'"{k}" = ?' for k in changes)
        tx.execute(f"UPDATE events SET {sets}, updated = ?, revision = ? WHERE id = ?",
                   [*changes.values(), utcnow(), tx.revision, rec["id"]])


def _new_times(rec: dict, start, end, duration, all_day, zone, typed) -> tuple[datetime, datetime, bool]:
    """The stored (start, end, all_day) after ``update``'s time fields."""
    new_all_day = rec["all_day"] if all_day is None else all_day
    when = timeparse.parse_when(start, tz=typed) if start is not None else None
    day_only = timeparse.is_date_only(start, tz=typed) if start is not None else False
    if all_day is None and rec["all_day"] and when is not None and not day_only:
        new_all_day = False  # an all-day event given a time of day becomes a timed one
    if new_all_day:
        if when is not None:
            day = when.date()
        elif rec["all_day"]:
            day = rec["start"].date()
        else:
            day = rec["start"].replace(tzinfo=UTC).astimezone(zone).date()
        keep = max(1, (rec["end"] - rec["start"]).days) if rec["all_day"] else 1
        s, e = _all_day_span(day, end, duration, typed, keep)
        return s, e, True
    if when is None:
        if rec["all_day"]:
            raise InvalidInput("an all-day event needs a start time to become a timed one",
                               hint="e.g. --start 'friday 10:00'")
        when = rec["start"].replace(tzinfo=UTC).astimezone(zone)
    elif day_only:
        if rec["all_day"]:
            raise InvalidInput("give a time of day with --start", hint="e.g. --start 'friday 10:00'")
        clock = rec["start"].replace(tzinfo=UTC).astimezone(zone).time()  # the event's own wall clock
        when = _ical.localize(datetime.combine(when.date(), clock), zone)
    if end is not None:
        finish = _parse_end(end, when, typed)
    elif duration is not None:
        finish = when + timeparse.parse_duration(duration)
    elif rec["all_day"]:
        finish = when + timedelta(hours=1)
    else:
        finish = when + (rec["end"] - rec["start"])
    _check_order(when, finish)
    return _naive_utc(when), _naive_utc(finish), False


class DeletedEvent(BaseModel):
    """What a delete removed: the whole event or series, one occurrence, or an occurrence
    and the ones after it."""

    id: str
    title: str
    removed: int = 1  # rows: the event, with the edited instances of a series
    scope: str = "event"  # event | occurrence | following
    occurrence: datetime | None = None

    __columns__ = ("id", "title", "scope", "occurrence")


@verb(destructive=True, scope=_scope, examples=[
    "hero calendar delete 01JD3 --yes",
    "hero calendar delete 01JD3 --occurrence 2026-12-08 --yes",
    "hero calendar delete 01JD3 --occurrence 2026-12-08 --this-and-following --yes",
])
def delete(ctx, id: Id, occurrence: Occurrence_ = None, following: Following = False) -> DeletedEvent:
    """Delete an event: a whole series with its edited instances, one occurrence of it, or an
    occurrence and the ones after it."""
    if following and occurrence is None:
        raise InvalidInput("--this-and-following needs --occurrence", hint="e.g. --occurrence 2026-12-08 --this-and-following")
    with ctx.write() as tx:
        eid = resolve_id(tx.conn, "events", "event", id, label="title")
        rec = _get_rec(tx.conn, eid)
        if occurrence is not None:
            master, row, instance, s, _ = _find(tx.conn, rec, occurrence)
            shown = _when(s, row["all_day"])
            if following and instance > min([master["start"], *master["rdates"]]):
                removed = _truncate(tx, master, instance)
                _bound(tx, [master["uid"]])
                return DeletedEvent(id=master["id"], title=master["title"], removed=removed, scope="following",
                                    occurrence=shown)
            if not following:
                _exclude(tx, master, row, instance)
                return DeletedEvent(id=master["id"], title=row["title"], removed=int(row["recurrence_id"] is not None),
                                    scope="occurrence", occurrence=shown)
            rec, eid = master, master["id"]  # from the first occurrence on: the whole series
        if rec["recurrence_id"] is None:
            ids = [r[0] for r in tx.execute("SELECT id FROM events WHERE uid = ? AND (id = ? OR recurrence_id IS NOT NULL)",
                                            [rec["uid"], eid]).fetchall()]
        else:  # one edited instance: the series must not bring it back
            master = _master(tx.conn, rec)
            _exclude(tx, master, rec, rec["recurrence_id"])
            return DeletedEvent(id=eid, title=rec["title"], scope="occurrence", occurrence=_shown(rec["start"], rec["all_day"]))
        tx.execute("DELETE FROM events WHERE list_contains(?, id)", [ids])
        for rid in ids:
            tx.tombstone("event", rid)
    return DeletedEvent(id=eid, title=rec["title"], removed=len(ids))


def _exclude(tx, master: dict, row: dict, instance: datetime) -> None:
    """One occurrence goes: an EXDATE on the series (exports carry it), and its edited
    instance, if it had one."""
    if master["id"] != row["id"] or master["recurrence_id"] is None:
        tx.execute("UPDATE events SET exdates = list_sort(list_distinct(list_append(exdates, ?))), updated = ?, "
                   "revision = ?, sequence = sequence + 1 WHERE id = ?", [instance, utcnow(), tx.revision, master["id"]])
    if row["recurrence_id"] is not None:
        tx.execute("DELETE FROM events WHERE id = ?", [row["id"]])
        tx.tombstone("event", row["id"])


@verb(examples=['hero calendar search "quarterly report"', "hero calendar search alex"])
def search(
    ctx,
    query: Annotated[str, P("Words to look for in titles, places, descriptions, attendees, tags", positional=True)],
    limit: Annotated[int, P("At most this many", minimum=1)] = 20,
) -> list[Event]:
    """Search events, best first."""
    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["event"], limit=limit)
        if not hits:
            return []
        ids = [h.id for h in hits]
        rows = {r[0]: _event(_rec(r)) for r in conn.execute(f"SELECT {COLUMNS} FROM events WHERE list_contains(?, id)", [ids]).fetchall()}
    return [rows[i] for i in ids if i in rows]


_EVENT_FIELDS = ["uid", "recurrence_id", "title", "start", "end", "all_day", "tz", "vtimezone", "location",
                 "description", "attendees", "tags", "rrule", "rdates", "exdates", "status", "sequence", "ical"]


def store_events(tx, events: list[dict], others: list[tuple[str, str, str]] = ()) -> tuple[int, int]:
    """Insert or update parsed events (``_ical.parse`` fields) in one write, keyed on UID and
    RECURRENCE-ID (the highest SEQUENCE wins, in the file and against what is stored);
    attendees are linked to contacts by email; ``others`` (VTODO, VJOURNAL) are kept aside.
    Returns (added, updated). The demo loader calls this too."""
    latest: dict = {}
    for ev in events:  # the same UID twice: the highest SEQUENCE, then the last one, wins
        key = (ev["uid"], ev["recurrence_id"])
        if key not in latest or ev.get("sequence", 0) >= latest[key].get("sequence", 0):
            latest[key] = ev
    now = utcnow()
    for kind, uid, text in others:
        tx.execute("INSERT OR REPLACE INTO calendar_items (uid, kind, ical, created, revision) VALUES (?, ?, ?, ?, ?)",
                   [uid, kind, text, now, tx.revision])
    if not latest:
        return 0, 0
    by_email = {}
    for cid, name, emails in _contacts(tx.conn):
        for em in emails:
            by_email.setdefault(em, (cid, name))
    uids = sorted({uid for uid, _ in latest})
    existing = {(uid, rid): (eid, seq) for eid, uid, rid, seq in
                tx.execute("SELECT id, uid, recurrence_id, sequence FROM events WHERE list_contains(?, uid)",
                           [uids]).fetchall()}
    new_rows, changed_rows = [], []
    for key, ev in latest.items():
        if key in existing and existing[key][1] > ev.get("sequence", 0):
            continue  # what is stored is newer than the file
        attendees = []
        for a in ev["attendees"]:
            hit = by_email.get(a["email"]) if a.get("email") else None
            attendees.append({"name": a.get("name") or (hit[1] if hit else None), "email": a.get("email"),
                              "contact_id": hit[0] if hit else None})
        values = {"vtimezone": None, "rdates": [], "sequence": 0, **ev, "attendees": json.dumps(attendees),
                  "tags": clean_tags(ev["tags"])}
        row = [values[f] for f in _EVENT_FIELDS]
        if key in existing:
            changed_rows.append([existing[key][0], *row, ev.get("updated") or now, tx.revision])
        else:
            new_rows.append([new_id(), *row, ev.get("created") or now, ev.get("updated") or now, tx.revision])
    store_rows(tx, "events", _EVENT_FIELDS, new_rows, changed_rows)
    _bound(tx, uids)
    return len(new_rows), len(changed_rows)


class CalendarImportReport(BaseModel):
    """The outcome of an import: events added, events updated (same UID), problems, and the
    to-dos and journal entries kept aside (written back on export)."""

    path: str
    imported: int
    updated: int = 0
    kept_aside: int = 0
    skipped: list[ImportProblem] = []
    warnings: list[ImportProblem] = []  # events kept without a field that could not be read
    note: str | None = None


@verb(mutates=True, name="calendar.import", examples=["hero calendar import ~/calendar.ics"])
def import_(ctx, path: Annotated[str, P("An iCalendar file (.ics), any number of events", positional=True)]) -> CalendarImportReport:
    """Import events from an iCalendar file; bad events are reported by position, the others added.

    Importing the same file again adds nothing twice (UID; the highest SEQUENCE wins).
    Time zones (VTIMEZONE, TZID, Windows names, X-WR-TIMEZONE, UTC, floating, all-day
    dates), RRULE, RDATE, EXDATE and edited instances are honoured; attendees are linked to
    contacts by email; CATEGORIES become tags. Properties Hero does not model (ORGANIZER,
    alarms, X-...) and to-dos or journal entries are kept and written back on export. The
    whole import is one transaction: it lands entirely or not at all.
    """
    file, text, note = read_import_text(path)
    events, problems = _ical.parse(text)
    others = _ical.other_components(text)
    if not events and not problems and not others:
        raise InvalidInput(f"{path} contains no event", hint="an iCalendar event starts with BEGIN:VEVENT")
    with ctx.write() as tx:
        added, changed = store_events(tx, events, others)
    warnings = [ImportProblem(position=ev["position"], line=ev["line"], message=m)
                for ev in events for m in ev.get("warnings", [])]
    return CalendarImportReport(path=str(file), imported=added, updated=changed, kept_aside=len(others),
                                skipped=[ImportProblem(**p) for p in problems], warnings=warnings, note=note)


@verb(examples=["hero calendar export > calendar.ics", "hero calendar export --tag finance --output finance.ics"])
def export(
    ctx,
    output: Annotated[str | None, P("Write to this file (default: print)", short="-o")] = None,
    tag: Annotated[str | None, P("Only events with this tag")] = None,
    force: Annotated[bool, P("Overwrite an existing file")] = False,
) -> ExportResult:
    """Export events as iCalendar, with the time zones they use (unknown properties kept)."""
    sql = f"SELECT {COLUMNS}, ical FROM events"
    params: list = []
    if tag:
        sql += " WHERE list_contains(tags, ?)"
        params.append(tag.strip().lower())
    with ctx.read() as conn:
        rows = conn.execute(sql + " ORDER BY start, id", params).fetchall()
        others = [] if tag else [r[0] for r in conn.execute("SELECT ical FROM calendar_items ORDER BY kind, uid").fetchall()]
    events = [dict(_rec(r[:-1]), ical=r[-1]) for r in rows]
    return export_text(_ical.serialize(events, others), len(events), output, force=force)
