"""Calendar: events with time zones, all-day events, recurrence, attendees; iCalendar.

Decisions (the front-ends and the planner rely on them):

* Times are stored in UTC; every time a verb returns is aware, in the user's zone
  (``timeparse.local_zone()``: ``HERO_TZ``, ``TZ``, the system zone). Each event keeps the
  zone it was written in (``tz``); natural times given to ``add``/``update`` are read in
  that zone, and recurrences are expanded on its wall clock, so a weekly 09:00
  Europe/Brussels meeting stays at 09:00 across DST changes.
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
  series): importing a file again updates the events it created. Cancelled events
  (STATUS:CANCELLED) are kept but not listed. RDATE is kept for export but not expanded.
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
from herotui.services.common import (ExportResult, ImportProblem, aware, clean_tags, export_text, new_id,
                                     read_import_file, resolve_id, utcnow)

SERVICE = "calendar"
UTC = timezone.utc
COLUMNS = ('id, uid, recurrence_id, title, start, "end", all_day, tz, location, description, attendees, '
           "tags, rrule, exdates, status, created, updated")
LIST_DAYS = 30
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
    return rec


def _zone(name: str | None) -> ZoneInfo:
    if name is None or not name.strip():
        return timeparse.local_zone()
    try:
        return ZoneInfo(name.strip())
    except Exception:
        raise InvalidInput(f"unknown time zone '{name}'", hint="use an IANA zone such as 'Europe/Brussels' or 'UTC'") from None


def _event_zone(rec: dict) -> ZoneInfo:
    try:
        return ZoneInfo(rec["tz"])
    except Exception:
        return ZoneInfo("UTC")


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
        exdates=[_shown(x, all_day) for x in rec["exdates"]], status=rec["status"], uid=rec["uid"],
        recurrence_id=_shown(rec["recurrence_id"], all_day) if rec["recurrence_id"] else None,
        upcoming=upcoming or [], created=aware(rec["created"]), updated=aware(rec["updated"]),
    )


def _occurrence(rec: dict, start: datetime, end: datetime) -> Occurrence:
    all_day = rec["all_day"]
    return Occurrence(
        id=rec["id"], title=rec["title"], start=_when(start, all_day), end=_when(end, all_day), all_day=all_day,
        location=rec["location"], description=rec["description"], attendees=[Attendee(**a) for a in rec["attendees"]],
        tags=rec["tags"], recurring=bool(rec["rrule"]),
    )


def _get_rec(conn, eid: str) -> dict:
    row = conn.execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", [eid]).fetchone()
    if row is None:
        raise NotFound(f"no event with id '{eid}'")
    return _rec(row)


def _overridden(conn, uids: list[str] | None = None) -> dict[str, set[datetime]]:
    """uid -> the RECURRENCE-IDs of instances replaced by an edited copy."""
    sql = "SELECT uid, recurrence_id FROM events WHERE recurrence_id IS NOT NULL"
    params: list = []
    if uids is not None:
        sql += " AND list_contains(?, uid)"
        params.append(uids)
    out: dict[str, set[datetime]] = {}
    for uid, rid in conn.execute(sql, params).fetchall():
        out.setdefault(uid, set()).add(rid)
    return out


def _upcoming(conn, rec: dict, count: int = UPCOMING) -> list[datetime]:
    from herotui.services import _ical

    skip = _overridden(conn, [rec["uid"]]).get(rec["uid"], set()) if not rec["recurrence_id"] else set()
    now = datetime.now(UTC)
    starts = _ical.starts_after(rec["start"], rec["all_day"], _event_zone(rec), rec["rrule"], rec["exdates"],
                                now, count, skip)
    return [_when(s, rec["all_day"]) for s in starts]


def _get(conn, eid: str) -> Event:
    rec = _get_rec(conn, eid)
    return _event(rec, _upcoming(conn, rec))


def _occurrences(conn, lo: datetime, hi: datetime, tag: str | None = None) -> list[Occurrence]:
    """Every occurrence overlapping [lo, hi) (aware), sorted by start then title."""
    from herotui.services import _ical

    if hi <= lo:
        raise InvalidInput(f"the window ends ({_fmt(hi)}) before it starts ({_fmt(lo)})", hint="give --to after --from")
    margin = timedelta(days=1, hours=14)  # all-day events are floating dates: wide SQL, exact Python
    lo_n, hi_n = _naive_utc(lo) - margin, _naive_utc(hi) + margin
    sql = (f"SELECT {COLUMNS} FROM events WHERE coalesce(status, '') <> 'CANCELLED' AND "
           '((rrule IS NULL AND start < ? AND "end" >= ?) OR (rrule IS NOT NULL AND start < ?))')
    params: list = [hi_n, lo_n, hi_n]
    if tag:
        sql += " AND list_contains(tags, ?)"
        params.append(tag.strip().lower())
    recs = [_rec(r) for r in conn.execute(sql, params).fetchall()]
    overridden = _overridden(conn) if any(r["rrule"] for r in recs) else {}
    out = []
    for rec in recs:
        skip = overridden.get(rec["uid"], set()) if rec["rrule"] and not rec["recurrence_id"] else set()
        try:
            spans = _ical.expand(rec["start"], rec["end"], rec["all_day"], _event_zone(rec), rec["rrule"],
                                 rec["exdates"], lo, hi, skip)
        except _ical.RuleError:
            continue  # stored rules are validated on the way in; never let one break a listing
        out.extend(_occurrence(rec, s, e) for s, e in spans)
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
    from herotui.services import _ical

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
    start: Annotated[str, P("When it starts: 'tomorrow 10am', 'next friday 3pm', 'in 2 hours', '2026-03-02 09:00' (a day alone: all-day)", short="-s")],
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
    from herotui.services import _ical

    now = datetime.now(UTC).replace(microsecond=0)
    sql = (f"SELECT {COLUMNS} FROM events WHERE coalesce(status, '') <> 'CANCELLED' AND "
           "(rrule IS NOT NULL OR start >= ?)")
    params: list = [_naive_utc(now) - timedelta(days=1, hours=14)]
    if tag:
        sql += " AND list_contains(tags, ?)"
        params.append(tag.strip().lower())
    best = None
    with ctx.read() as conn:
        recs = [_rec(r) for r in conn.execute(sql, params).fetchall()]
        overridden = _overridden(conn) if any(r["rrule"] for r in recs) else {}
    for rec in recs:
        skip = overridden.get(rec["uid"], set()) if rec["rrule"] and not rec["recurrence_id"] else set()
        try:
            starts = _ical.starts_after(rec["start"], rec["all_day"], _event_zone(rec), rec["rrule"], rec["exdates"], now, 1, skip)
        except _ical.RuleError:
            continue
        if not starts:
            continue
        s = starts[0]
        length = rec["end"] - rec["start"]
        occ = _occurrence(rec, s, s + length)
        if best is None or (occ.start, occ.title.lower()) < (best.start, best.title.lower()):
            best = occ
    if best is None:
        raise NotFound("no upcoming events", hint="add one with 'hero calendar add \"Title\" --start \"tomorrow 10am\"'")
    return best


def _skip_instants(rec: dict, texts: list[str], zone: ZoneInfo) -> list[datetime]:
    """``--skip`` values -> stored instants of occurrences of ``rec`` to exclude."""
    from herotui.services import _ical

    if not rec["rrule"]:
        raise InvalidInput("only a recurring event has occurrences to skip", hint="delete the event instead")
    out = []
    for text in texts:
        if not text.strip():
            continue
        when = timeparse.parse_when(text, tz=zone)
        day_only = timeparse.is_date_only(text, tz=zone)
        if day_only:
            lo, hi = _local_day_start(when.date()), _local_day_start(when.date() + timedelta(days=1))
        else:
            lo, hi = when, when + timedelta(seconds=1)
        spans = _ical.expand(rec["start"], rec["start"], rec["all_day"], _event_zone(rec), rec["rrule"],
                             rec["exdates"], lo, hi)
        if not spans:
            shown = when.date().isoformat() if day_only else _fmt(when)
            raise InvalidInput(f"'{rec['title']}' has no occurrence {'on' if day_only else 'at'} {shown}",
                               hint=f"'hero calendar show {rec['id'][:8]}' lists the next ones")
        for s, _ in spans:
            out.append(s if rec["all_day"] else _naive_utc(s))
    return out


def _move_exdates(rec: dict, new_start: datetime, new_all_day: bool, zone: ZoneInfo) -> list[datetime]:
    """Exclusions follow the series when its start moves (same wall-clock shift)."""
    from herotui.services import _ical

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


@verb(mutates=True, examples=[
    'hero calendar update 01JD3 --start "friday 14:00"',
    'hero calendar update 01JD3 --location "Room Atlas" --attendee "Alex Smith" --attendee lena@lumen.example',
    'hero calendar update 01JD3 --skip "next monday"',
])
def update(
    ctx,
    id: Id,
    title: Annotated[str | None, P("New title")] = None,
    start: Annotated[str | None, P("New start (a day alone keeps the time of day; the length is kept)", short="-s")] = None,
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
    tz: Annotated[str | None, P("New time zone of the event (the times stay the same instants)")] = None,
) -> Event:
    """Change an event; fields not given stay as they are."""
    if end is not None and duration is not None:
        raise InvalidInput("give --end or --duration, not both", hint="e.g. --duration 1h30")
    given = [title, start, end, duration, all_day, location, description, attendees, tags, rrule, repeat, skip, tz]
    if all(v is None for v in given):
        raise InvalidInput("nothing to update", hint="give at least one field, e.g. --start 'friday 14:00'")
    if title is not None and not title.strip():
        raise InvalidInput("the title cannot be empty")
    with ctx.write() as tx:
        eid = resolve_id(tx.conn, "events", "event", id, label="title")
        rec = _get_rec(tx.conn, eid)
        zone = _zone(tz) if tz is not None else _event_zone(rec)
        changes: dict = {}
        if tz is not None:
            changes["tz"] = zone.key
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
            when = timeparse.parse_when(start, tz=zone) if start is not None else None
            day_only = timeparse.is_date_only(start, tz=zone) if start is not None else False
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
                s, e = _all_day_span(day, end, duration, zone, keep)
            else:
                if when is None:
                    if rec["all_day"]:
                        raise InvalidInput("an all-day event needs a start time to become a timed one",
                                           hint="e.g. --start 'friday 10:00'")
                    when = rec["start"].replace(tzinfo=UTC).astimezone(zone)
                elif day_only:
                    if rec["all_day"]:
                        raise InvalidInput("give a time of day with --start", hint="e.g. --start 'friday 10:00'")
                    clock = rec["start"].replace(tzinfo=UTC).astimezone(zone).time()
                    from herotui.services import _ical

                    when = _ical.localize(datetime.combine(when.date(), clock), zone)
                if end is not None:
                    finish = _parse_end(end, when, zone)
                elif duration is not None:
                    finish = when + timeparse.parse_duration(duration)
                elif rec["all_day"]:
                    finish = when + timedelta(hours=1)
                else:
                    finish = when + (rec["end"] - rec["start"])
                _check_order(when, finish)
                s, e = _naive_utc(when), _naive_utc(finish)
            changes.update(start=s, end=e, all_day=new_all_day)

        rule = rec["rrule"]
        if rrule is not None or repeat is not None:
            rule = _rule(rrule, repeat, new_all_day, zone, s)
            changes["rrule"] = rule
        elif rule and times_change:
            rule = _rule(rule, None, new_all_day, zone, s)
            changes["rrule"] = rule
        exdates = list(rec["exdates"])
        if exdates and times_change and (s != rec["start"] or new_all_day != rec["all_day"]):
            exdates = _move_exdates(rec, s, new_all_day, zone)
            changes["exdates"] = exdates
        if rule is None and exdates:
            changes["exdates"] = exdates = []
        if skip:
            moved = dict(rec, start=s, end=e, all_day=new_all_day, tz=zone.key, rrule=rule, exdates=exdates)
            changes["exdates"] = sorted(set(exdates) | set(_skip_instants(moved, skip, zone)))

        if changes:
            sets = ", ".join(f'"{k}" = ?' for k in changes)
            tx.execute(f"UPDATE events SET {sets}, updated = ?, revision = ? WHERE id = ?",
                       [*changes.values(), utcnow(), tx.revision, eid])
        return _get(tx.conn, eid)


class DeletedEvent(BaseModel):
    """What a delete removed."""

    id: str
    title: str
    removed: int = 1  # with the edited instances of a series

    __columns__ = ("id", "title", "removed")


@verb(destructive=True, examples=["hero calendar delete 01JD3 --yes"])
def delete(ctx, id: Id) -> DeletedEvent:
    """Delete an event (a whole series, with its edited instances)."""
    with ctx.write() as tx:
        eid = resolve_id(tx.conn, "events", "event", id, label="title")
        rec = _get_rec(tx.conn, eid)
        if rec["recurrence_id"] is None:
            ids = [r[0] for r in tx.execute("SELECT id FROM events WHERE uid = ? AND (id = ? OR recurrence_id IS NOT NULL)",
                                            [rec["uid"], eid]).fetchall()]
        else:  # one edited instance: the series must not bring it back
            ids = [eid]
            tx.execute("UPDATE events SET exdates = list_distinct(list_append(exdates, ?)), updated = ?, revision = ? "
                       "WHERE uid = ? AND recurrence_id IS NULL AND rrule IS NOT NULL",
                       [rec["recurrence_id"], utcnow(), tx.revision, rec["uid"]])
        tx.execute("DELETE FROM events WHERE list_contains(?, id)", [ids])
        for rid in ids:
            tx.tombstone("event", rid)
    return DeletedEvent(id=eid, title=rec["title"], removed=len(ids))


@verb(examples=['hero calendar search "quarterly report"', "hero calendar search alex"])
def search(
    ctx,
    query: Annotated[str, P("Words to look for in titles, places, descriptions, attendees, tags", positional=True)],
    limit: Annotated[int, P("At most this many", minimum=1)] = 20,
) -> list[Event]:
    """Search events, best first."""
    from herotui.store import index

    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["event"], limit=limit)
        if not hits:
            return []
        ids = [h.id for h in hits]
        rows = {r[0]: _event(_rec(r)) for r in conn.execute(f"SELECT {COLUMNS} FROM events WHERE list_contains(?, id)", [ids]).fetchall()}
    return [rows[i] for i in ids if i in rows]


class CalendarImportReport(BaseModel):
    """The outcome of an import: events added, events updated (same UID), problems."""

    path: str
    imported: int
    updated: int = 0
    skipped: list[ImportProblem] = []


_EVENT_FIELDS = ["uid", "recurrence_id", "title", "start", "end", "all_day", "tz", "location", "description",
                 "attendees", "tags", "rrule", "exdates", "status", "ical"]


def store_events(tx, events: list[dict]) -> tuple[int, int]:
    """Insert or update parsed events (``_ical.parse`` fields) in one write, keyed on UID and
    RECURRENCE-ID; attendees are linked to contacts by email. Returns (added, updated).
    The demo loader calls this too."""
    latest: dict = {}
    for ev in events:  # the same UID twice in a file: the last one wins
        latest[(ev["uid"], ev["recurrence_id"])] = ev
    if not latest:
        return 0, 0
    by_email = {}
    for cid, name, emails in _contacts(tx.conn):
        for em in emails:
            by_email.setdefault(em, (cid, name))
    uids = sorted({uid for uid, _ in latest})
    existing = {(uid, rid): eid for eid, uid, rid in
                tx.execute("SELECT id, uid, recurrence_id FROM events WHERE list_contains(?, uid)", [uids]).fetchall()}
    now = utcnow()
    new_rows, changed_rows = [], []
    for key, ev in latest.items():
        attendees = []
        for a in ev["attendees"]:
            hit = by_email.get(a["email"]) if a.get("email") else None
            attendees.append({"name": a.get("name") or (hit[1] if hit else None), "email": a.get("email"),
                              "contact_id": hit[0] if hit else None})
        values = dict(ev, attendees=json.dumps(attendees), tags=clean_tags(ev["tags"]))
        row = [values[f] for f in _EVENT_FIELDS]
        if key in existing:
            changed_rows.append([existing[key], *row, now, tx.revision])
        else:
            new_rows.append([new_id(), *row, now, now, tx.revision])
    quoted = ", ".join(f'"{f}"' for f in _EVENT_FIELDS)
    if new_rows:
        cols = [list(c) for c in zip(*new_rows)]
        tx.execute(f"INSERT INTO events (id, {quoted}, created, updated, revision) SELECT "
                   + ", ".join(["unnest(?)"] * len(cols)), cols)
    if changed_rows:
        cols = [list(c) for c in zip(*changed_rows)]
        names = ["id", *_EVENT_FIELDS, "updated", "revision"]
        sets = ", ".join(f'"{f}" = n."{f}"' for f in names[1:])
        source = ", ".join(f'unnest(?) AS "{f}"' for f in names)
        tx.execute(f"UPDATE events SET {sets} FROM (SELECT {source}) AS n WHERE events.id = n.id", cols)
    return len(new_rows), len(changed_rows)


@verb(mutates=True, name="calendar.import", examples=["hero calendar import ~/calendar.ics"])
def import_(ctx, path: Annotated[str, P("An iCalendar file (.ics), any number of events", positional=True)]) -> CalendarImportReport:
    """Import events from an iCalendar file; bad events are reported by position, the others added.

    Importing the same file again updates the events instead of duplicating them (UID).
    Time zones (VTIMEZONE, TZID, UTC, floating, all-day dates), RRULE and EXDATE are
    honoured; attendees are linked to contacts by email; CATEGORIES become tags. Properties
    Hero does not model (ORGANIZER, alarms, X-...) are kept and written back on export.
    The whole import is one transaction: it lands entirely or not at all.
    """
    from herotui.services import _ical

    file, text = read_import_file(path)
    events, problems = _ical.parse(text)
    if not events and not problems:
        raise InvalidInput(f"{path} contains no event", hint="an iCalendar event starts with BEGIN:VEVENT")
    with ctx.write() as tx:
        added, changed = store_events(tx, events)
    return CalendarImportReport(path=str(file), imported=added, updated=changed,
                                skipped=[ImportProblem(**p) for p in problems])


@verb(examples=["hero calendar export > calendar.ics", "hero calendar export --tag finance --output finance.ics"])
def export(
    ctx,
    output: Annotated[str | None, P("Write to this file (default: print)", short="-o")] = None,
    tag: Annotated[str | None, P("Only events with this tag")] = None,
) -> ExportResult:
    """Export events as iCalendar, with the time zones they use (unknown properties kept)."""
    from herotui.services import _ical

    sql = f"SELECT {COLUMNS}, ical FROM events"
    params: list = []
    if tag:
        sql += " WHERE list_contains(tags, ?)"
        params.append(tag.strip().lower())
    with ctx.read() as conn:
        rows = conn.execute(sql + " ORDER BY start, id", params).fetchall()
    events = [dict(_rec(r[:-1]), ical=r[-1]) for r in rows]
    return export_text(_ical.serialize(events), len(events), output)
