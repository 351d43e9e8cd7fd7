"""Changing the calendar: update (an event, one occurrence, this and following) and delete."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

from herotui import timeparse
from herotui.errors import InvalidInput
from herotui.registry import P, verb
from herotui.services import _ical
from herotui.services.calendar.attendees import resolve_attendees
from herotui.services.calendar.inputs import all_day_span, check_order, parse_end, rule_of
from herotui.services.calendar.models import DeletedEvent, Event, Following, Id, Occurrence_, UTC
from herotui.services.calendar.occurrences import change_scope, find_occurrence
from herotui.services.calendar.records import (
    bound_series, event_zone, get_event, get_record, master_of, naive_utc, occurrence_time, shown_time,
    zone_of,
)
from herotui.services.calendar.series import (
    edited_instance, move_exdates, skip_instants, split_series, truncate_series,
)
from herotui.services.common import clean_tags, resolve_id, utcnow

SERVICE = "calendar"


@verb(mutates=True, scope=change_scope, examples=[
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
        rec = get_record(tx.conn, resolve_id(tx.conn, "events", "event", id, label="title"))
        if occurrence is not None:
            master, row, instance, s, e = find_occurrence(tx.conn, rec, occurrence)
            if not following:
                rec = edited_instance(tx, master, row, instance, s, e)
            elif instance > min([master["start"], *master["rdates"]]):
                rec = get_record(tx.conn, split_series(tx, master, instance, s, e))
            else:
                rec = master  # from the first occurrence on: the whole series
        _change(tx, rec, **fields)
        bound_series(tx, sorted({rec["uid"], get_record(tx.conn, rec["id"])["uid"], *(
            [master["uid"]] if occurrence is not None else [])}))
        return get_event(tx.conn, rec["id"])


def _change(tx, rec: dict, *, title, start, end, duration, all_day, location, description, attendees, tags,
            rrule, repeat, skip, tz) -> None:
    """Apply ``update``'s fields to one stored event (a series, an edited instance, a single
    event). A typed time means the user's zone unless ``tz`` names one; the event keeps its
    own zone for its rule and its wall-clock time."""
    zone = zone_of(tz) if tz is not None else event_zone(rec)
    typed = zone_of(tz) if tz is not None else timeparse.local_zone()
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
        changes["attendees"] = json.dumps(resolve_attendees(tx.conn, attendees))

    times_change = any(v is not None for v in (start, end, duration, all_day, tz))
    new_all_day = rec["all_day"] if all_day is None else all_day
    s, e = rec["start"], rec["end"]
    if start is not None or end is not None or duration is not None or all_day is not None:
        s, e, new_all_day = _new_times(rec, start, end, duration, all_day, zone, typed)
        changes.update(start=s, end=e, all_day=new_all_day)

    rule = rec["rrule"]
    if rrule is not None or repeat is not None:
        rule = rule_of(rrule, repeat, new_all_day, zone, s)
        changes["rrule"] = rule
    elif rule and times_change:
        rule = "\n".join(rule_of(r, None, new_all_day, zone, s) for r in _ical.rules(rule)) or None
        changes["rrule"] = rule
    exdates = list(rec["exdates"])
    if exdates and times_change and (s != rec["start"] or new_all_day != rec["all_day"]):
        exdates = move_exdates(rec, s, new_all_day, zone)
        changes["exdates"] = exdates
    if rule is None and exdates and rec["recurrence_id"] is None and (rrule is not None or repeat is not None):
        changes["exdates"] = exdates = []
    if skip:
        moved = dict(rec, start=s, end=e, all_day=new_all_day, tz=zone.key if tz else rec["tz"], rrule=rule,
                     exdates=exdates)
        changes["exdates"] = sorted(set(exdates) | set(skip_instants(tx.conn, moved, skip)))
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
        s, e = all_day_span(day, end, duration, typed, keep)
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
        finish = parse_end(end, when, typed)
    elif duration is not None:
        finish = when + timeparse.parse_duration(duration)
    elif rec["all_day"]:
        finish = when + timedelta(hours=1)
    else:
        finish = when + (rec["end"] - rec["start"])
    check_order(when, finish)
    return naive_utc(when), naive_utc(finish), False


@verb(destructive=True, scope=change_scope, examples=[
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
        rec = get_record(tx.conn, eid)
        if occurrence is not None:
            master, row, instance, s, _ = find_occurrence(tx.conn, rec, occurrence)
            shown = occurrence_time(s, row["all_day"])
            if following and instance > min([master["start"], *master["rdates"]]):
                removed = truncate_series(tx, master, instance)
                bound_series(tx, [master["uid"]])
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
            master = master_of(tx.conn, rec)
            _exclude(tx, master, rec, rec["recurrence_id"])
            return DeletedEvent(id=eid, title=rec["title"], scope="occurrence", occurrence=shown_time(rec["start"], rec["all_day"]))
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
