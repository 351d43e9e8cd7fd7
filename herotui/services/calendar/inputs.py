"""Typed input: ends, all-day spans, the order of start and end, recurrence rules."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from herotui import timeparse
from herotui.errors import InvalidInput
from herotui.services import _ical
from herotui.services.calendar.models import REPEAT_HINT
from herotui.services.calendar.records import fmt_time, midnight


def parse_end(text: str, start: datetime, zone: ZoneInfo) -> datetime:
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


def whole_days(text: str) -> int:
    length = timeparse.parse_duration(text)
    if length % timedelta(days=1):
        raise InvalidInput(f"an all-day event lasts whole days, not '{text}'", hint="e.g. --duration 2d, or --end friday")
    return length // timedelta(days=1)


def all_day_span(day: date, end: str | None, duration: str | None, zone: ZoneInfo, default_days: int = 1) -> tuple[datetime, datetime]:
    if end is not None:  # the last day, inclusive: the earliest reading (from now, from the start) that fits
        readings = [timeparse.parse_when(end, tz=zone).date(),
                    timeparse.parse_when(end, now=datetime.combine(day, time(12), tzinfo=zone), tz=zone).date()]
        fitting = [d for d in readings if d >= day]
        last = min(fitting) if fitting else readings[0]
        if last < day:
            raise InvalidInput(f"the end ({last}) is before the start ({day})", hint="the end must be on or after the start")
        stop = last + timedelta(days=1)
    elif duration is not None:
        stop = day + timedelta(days=whole_days(duration))
    else:
        stop = day + timedelta(days=default_days)
    return midnight(day), midnight(stop)


def check_order(start: datetime, end: datetime) -> None:
    if end < start:
        raise InvalidInput(f"the end ({fmt_time(end)}) is before the start ({fmt_time(start)})",
                           hint="give an end after the start, or a --duration such as 1h30")


def rule_of(rrule: str | None, repeat: str | None, all_day: bool, zone: ZoneInfo, start: datetime) -> str | None:
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
