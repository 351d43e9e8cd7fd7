"""Reading the calendar: show, list, today, week, agenda, next."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from herotui import timeparse
from herotui.errors import NotFound
from herotui.registry import P, verb
from herotui.services import _ical
from herotui.services.calendar.models import COLUMNS, Event, Id, LIST_DAYS, Occurrence, UTC
from herotui.services.calendar.occurrences import occurrences_between
from herotui.services.calendar.records import (
    SERIES_UIDS, get_event, listed, local_day_start, naive_local, naive_utc, occurrence_of, record,
    series_rows,
)
from herotui.services.common import resolve_id

SERVICE = "calendar"


@verb(examples=["hero calendar show 01JD3"])
def show(ctx, id: Id) -> Event:
    """Show one event, with its next occurrences."""
    with ctx.read() as conn:
        return get_event(conn, resolve_id(conn, "events", "event", id, label="title"))


def _window_text(text: str, zone: ZoneInfo, inclusive_day: bool) -> datetime:
    when = timeparse.parse_when(text, tz=zone)
    if inclusive_day and timeparse.is_date_only(text, tz=zone):
        return local_day_start(when.date() + timedelta(days=1))
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
    lo = _window_text(start, zone, False) if start else local_day_start(datetime.now(zone).date())
    hi = _window_text(end, zone, True) if end else local_day_start(lo.date() + timedelta(days=LIST_DAYS))
    with ctx.read() as conn:
        found = occurrences_between(conn, lo, hi, tag)
    return found[:limit] if limit else found


@verb(examples=["hero calendar today"])
def today(ctx, tag: Annotated[str | None, P("Only events with this tag")] = None) -> list[Occurrence]:
    """Today's events, in order (all-day events first on the day)."""
    day = datetime.now(timeparse.local_zone()).date()
    with ctx.read() as conn:
        return occurrences_between(conn, local_day_start(day), local_day_start(day + timedelta(days=1)), tag)


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
        return occurrences_between(conn, local_day_start(monday), local_day_start(monday + timedelta(days=7)), tag)


@verb(examples=["hero calendar agenda", "hero calendar agenda --days 3"])
def agenda(
    ctx,
    days: Annotated[int, P("How many days, today included", minimum=1)] = 14,
    tag: Annotated[str | None, P("Only events with this tag")] = None,
) -> list[Occurrence]:
    """What is coming: from now (events still running included) to the end of the N-th day."""
    now = datetime.now(timeparse.local_zone()).replace(microsecond=0)
    with ctx.read() as conn:
        return occurrences_between(conn, now, local_day_start(now.date() + timedelta(days=days)), tag)


@verb(examples=["hero calendar next"])
def next_(ctx, tag: Annotated[str | None, P("Only events with this tag")] = None) -> Occurrence:
    """The next event to start."""
    now = datetime.now(UTC).replace(microsecond=0)
    sql = (f"SELECT {COLUMNS} FROM events WHERE coalesce(status, '') <> 'CANCELLED' AND start >= ? "
           f"AND uid NOT IN ({SERIES_UIDS})")
    found: list[Occurrence] = []
    with ctx.read() as conn:
        for rec in (record(r) for r in conn.execute(sql, [naive_utc(now) - timedelta(days=1, hours=14)]).fetchall()):
            if not listed(rec, tag):
                continue
            s = rec["start"] if rec["all_day"] else rec["start"].replace(tzinfo=UTC)
            if s >= (naive_local(now) if rec["all_day"] else now):
                found.append(occurrence_of(rec, s, s + (rec["end"] - rec["start"])))
        series = series_rows(conn)
    for rows in series:
        if not listed(rows[0], None):
            continue
        for rec, s, e in _ical.starts_after(rows, now, 3):
            if listed(rec, tag):
                found.append(occurrence_of(rec, s, e, rows[0]))
                break
    if not found:
        raise NotFound("no upcoming events", hint="add one with 'hero calendar add \"Title\" --start \"tomorrow 10am\"'")
    return min(found, key=lambda o: (o.start, o.title.lower()))
