"""``calendar add``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

from herotui import timeparse
from herotui.errors import InvalidInput
from herotui.registry import P, verb
from herotui.services.calendar.attendees import resolve_attendees
from herotui.services.calendar.inputs import all_day_span, check_order, parse_end, rule_of
from herotui.services.calendar.models import Event
from herotui.services.calendar.records import bound_series, get_event, naive_utc, zone_of
from herotui.services.common import clean_tags, new_id, utcnow

SERVICE = "calendar"


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
    zone = zone_of(tz)
    title = title.strip()
    if not title:
        raise InvalidInput("the title is empty", hint='e.g. hero calendar add "Lunch with Alex" --start "tomorrow 12:30"')
    if end is not None and duration is not None:
        raise InvalidInput("give --end or --duration, not both", hint="e.g. --duration 1h30")
    when = timeparse.parse_when(start, tz=zone)
    if all_day or timeparse.is_date_only(start, tz=zone):
        all_day = True
        s, e = all_day_span(when.date(), end, duration, zone)
    else:
        if end is not None:
            finish = parse_end(end, when, zone)
        else:
            finish = when + (timeparse.parse_duration(duration) if duration is not None else timedelta(hours=1))
        check_order(when, finish)
        s, e = naive_utc(when), naive_utc(finish)
    rule = rule_of(rrule, repeat, all_day, zone, s)
    fields = dict(title=title, start=s, end=e, all_day=all_day, tz=zone.key, location=(location or "").strip() or None,
                  description=(description or "").strip() or None, tags=clean_tags(tags), rrule=rule)
    with ctx.write() as tx:
        fields["attendees"] = resolve_attendees(tx.conn, attendees)
        eid, now = new_id(), utcnow()
        tx.execute(
            'INSERT INTO events (id, uid, title, start, "end", all_day, tz, location, description, attendees, tags, '
            "rrule, exdates, created, updated, revision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [eid, f"{eid.lower()}@hero", fields["title"], s, e, all_day, fields["tz"], fields["location"],
             fields["description"], json.dumps(fields["attendees"]), fields["tags"], rule, [], now, now, tx.revision],
        )
        bound_series(tx, [f"{eid.lower()}@hero"])
        return get_event(tx.conn, eid)
