"""Stored rows as records, zones and times (stored UTC or floating dates, shown in the
user's zone), events and occurrences as results, series rows and their bounds."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from herotui import timeparse
from herotui.errors import InvalidInput, NotFound
from herotui.services import _ical
from herotui.services.calendar.models import Attendee, COLUMNS, Event, Occurrence, UPCOMING, UTC
from herotui.services.common import aware


def record(row) -> dict:
    keys = [c.strip().strip('"') for c in COLUMNS.split(",")]
    rec = dict(zip(keys, row))
    rec["attendees"] = json.loads(rec["attendees"] or "[]")
    rec["tags"] = rec["tags"] or []
    rec["exdates"] = rec["exdates"] or []
    rec["rdates"] = rec["rdates"] or []
    return rec


def zone_of(name: str | None) -> ZoneInfo:
    if name is None or not name.strip():
        return timeparse.local_zone()
    try:
        return ZoneInfo(name.strip())
    except Exception:
        raise InvalidInput(f"unknown time zone '{name}'", hint="use an IANA zone such as 'Europe/Brussels' or 'UTC'") from None


def event_zone(rec: dict):
    """The event's own zone: IANA, or the rules its file's VTIMEZONE gave."""
    return _ical.event_tz(rec["tz"], rec.get("vtimezone"))


def shown_time(stored: datetime, all_day: bool) -> datetime:
    """A stored time as the user sees it: aware, in the user's zone."""
    local = timeparse.local_zone()
    if all_day:
        return stored.replace(tzinfo=local, fold=0).astimezone(UTC).astimezone(local)
    return stored.replace(tzinfo=UTC).astimezone(local)


def occurrence_time(value: datetime, all_day: bool) -> datetime:
    """An occurrence start from ``_ical`` (aware UTC, or a naive date) in the user's zone."""
    return shown_time(value, True) if all_day else value.astimezone(timeparse.local_zone())


def fmt_time(dt: datetime) -> str:
    return dt.strftime("%a %Y-%m-%d %H:%M %Z").strip()


def naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def midnight(d: date) -> datetime:
    return datetime.combine(d, time(0))


def local_day_start(d: date) -> datetime:
    local = timeparse.local_zone()
    return datetime.combine(d, time(0)).replace(tzinfo=local).astimezone(UTC).astimezone(local)


def event_of(rec: dict, upcoming: list[datetime] | None = None) -> Event:
    all_day = rec["all_day"]
    return Event(
        id=rec["id"], title=rec["title"], start=shown_time(rec["start"], all_day), end=shown_time(rec["end"], all_day),
        all_day=all_day, tz=rec["tz"], location=rec["location"], description=rec["description"],
        attendees=[Attendee(**a) for a in rec["attendees"]], tags=rec["tags"], rrule=rec["rrule"],
        exdates=[shown_time(x, all_day) for x in rec["exdates"]], rdates=[shown_time(x, all_day) for x in rec["rdates"]],
        status=rec["status"], uid=rec["uid"],
        recurrence_id=shown_time(rec["recurrence_id"], all_day) if rec["recurrence_id"] else None,
        upcoming=upcoming or [], created=aware(rec["created"]), updated=aware(rec["updated"]),
    )


def occurrence_of(rec: dict, start: datetime, end: datetime, master: dict | None = None) -> Occurrence:
    """One occurrence; ``master`` is the series it belongs to (its id is the one shown, so
    ``--occurrence`` works from any listing)."""
    all_day = rec["all_day"]
    series = master or (rec if rec["rrule"] or rec["rdates"] else None)
    if rec["recurrence_id"] is not None:
        instance = shown_time(rec["recurrence_id"], all_day)
    else:
        instance = occurrence_time(start, all_day) if series else None
    return Occurrence(
        id=(series or rec)["id"], title=rec["title"], start=occurrence_time(start, all_day), end=occurrence_time(end, all_day),
        all_day=all_day, location=rec["location"], description=rec["description"],
        attendees=[Attendee(**a) for a in rec["attendees"]], tags=rec["tags"], recurring=series is not None,
        instance=instance,
    )


def get_record(conn, eid: str) -> dict:
    row = conn.execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", [eid]).fetchone()
    if row is None:
        raise NotFound(f"no event with id '{eid}'")
    return record(row)


SERIES_UIDS = ("SELECT uid FROM events WHERE recurrence_id IS NULL AND "
                "(rrule IS NOT NULL OR len(rdates) > 0 OR len(exdates) > 0)")


def series_rows(conn, where: str = "", params: list | None = None) -> list[list[dict]]:
    """Series (master first, then its edited instances) whose UIDs pass ``where``."""
    rows = [record(r) for r in conn.execute(
        f"SELECT {COLUMNS} FROM events WHERE uid IN ({SERIES_UIDS}) {where} "
        "ORDER BY uid, recurrence_id NULLS FIRST, id", params or []).fetchall()]
    groups: dict[str, list[dict]] = {}
    for rec in rows:
        groups.setdefault(rec["uid"], []).append(rec)
    return list(groups.values())


def bound_series(tx, uids: list[str]) -> None:
    """Record when each series of these UIDs ends (``series_end``), for listings to skip
    the series that cannot reach their window."""
    rows = [record(r) for r in tx.execute(
        f"SELECT {COLUMNS} FROM events WHERE list_contains(?, uid) AND recurrence_id IS NULL "
        "AND (rrule IS NOT NULL OR len(rdates) > 0)", [uids]).fetchall()]
    if rows:
        tx.execute("UPDATE events SET series_end = n.e FROM (SELECT unnest(?) AS id, unnest(?::TIMESTAMP[]) AS e) AS n "
                   "WHERE events.id = n.id", [[r["id"] for r in rows], [_ical.series_end(r) for r in rows]])


def listed(rec: dict, tag: str | None) -> bool:
    return rec["status"] != "CANCELLED" and (not tag or tag.strip().lower() in rec["tags"])


def upcoming_starts(conn, rec: dict, count: int = UPCOMING) -> list[datetime]:
    now = datetime.now(UTC)
    if _ical.is_series(rec):
        series = series_rows(conn, "AND uid = ?", [rec["uid"]])
        found = _ical.starts_after(series[0], now, count) if series else []
        return [occurrence_time(s, r["all_day"]) for r, s, _ in found if r["status"] != "CANCELLED"]
    start = rec["start"] if rec["all_day"] else rec["start"].replace(tzinfo=UTC)
    return [occurrence_time(start, rec["all_day"])] if start >= (naive_local(now) if rec["all_day"] else now) else []


def naive_local(dt: datetime) -> datetime:
    return dt.astimezone(timeparse.local_zone()).replace(tzinfo=None)


def get_event(conn, eid: str) -> Event:
    rec = get_record(conn, eid)
    return event_of(rec, upcoming_starts(conn, rec))


def master_of(conn, rec: dict) -> dict:
    if rec["recurrence_id"] is None:
        return rec
    row = conn.execute(f"SELECT {COLUMNS} FROM events WHERE uid = ? AND recurrence_id IS NULL", [rec["uid"]]).fetchone()
    return record(row) if row else rec


def stored_instant(value: datetime, all_day: bool) -> datetime:
    """An occurrence start from ``_ical`` in the stored form (naive UTC, or the date)."""
    return value if all_day else naive_utc(value)
