"""Changing part of a series: split it (this and following), end it, edit one occurrence
(RECURRENCE-ID), skip occurrences, move its exclusions with its start."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from herotui.errors import InvalidInput
from herotui.services import _ical
from herotui.services.calendar.models import UTC
from herotui.services.calendar.occurrences import find_occurrence, series_count
from herotui.services.calendar.records import event_zone, get_record, midnight, naive_utc, stored_instant
from herotui.services.common import new_id, utcnow


def truncate_series(tx, master: dict, instance: datetime) -> int:
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


def insert_row(tx, rec: dict) -> str:
    """A new row from a stored record (a split series' second half, an edited instance)."""
    eid, now = new_id(), utcnow()
    fields = ["uid", "recurrence_id", "title", "start", "end", "all_day", "tz", "vtimezone", "location",
              "description", "attendees", "tags", "rrule", "rdates", "exdates", "status", "sequence"]
    values = [json.dumps(rec["attendees"]) if f == "attendees" else rec[f] for f in fields]
    quoted = ", ".join(f'"{f}"' for f in fields)
    tx.execute(f"INSERT INTO events (id, {quoted}, created, updated, revision) VALUES "
               f"({', '.join(['?'] * (len(fields) + 4))})", [eid, *values, now, now, tx.revision])
    return eid


def split_series(tx, master: dict, instance: datetime, start: datetime, end: datetime) -> str:
    """This and following: a new series (new UID) from ``instance`` carries the rest of the
    rule (a COUNT keeps what is left), the later extra dates, exclusions and edited
    instances; the old one ends before it. Returns the new series' id."""
    left, _ = series_count(tx.conn, master, instance)
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
    rec = dict(master, uid=new_uid, recurrence_id=None, start=stored_instant(start, master["all_day"]),
               rrule="\n".join(rules) or None, rdates=[x for x in master["rdates"] if x > instance],
               exdates=[x for x in master["exdates"] if x > instance], sequence=0)
    rec["end"] = rec["start"] + length
    new = insert_row(tx, rec)
    if moved:
        tx.execute("UPDATE events SET uid = ?, updated = ?, revision = ? WHERE list_contains(?, id)",
                   [new_uid, utcnow(), tx.revision, moved])
    master = get_record(tx.conn, master["id"])
    truncate_series(tx, master, instance)
    return new


def edited_instance(tx, master: dict, row: dict, instance: datetime, start: datetime, end: datetime) -> dict:
    """The row that holds one changed occurrence: the edited instance if there is one, else a
    new one (RECURRENCE-ID) copied from the series."""
    if row["recurrence_id"] is not None:
        return row
    rec = dict(master, recurrence_id=instance, start=stored_instant(start, master["all_day"]),
               end=stored_instant(end, master["all_day"]), rrule=None, rdates=[], exdates=[],
               sequence=master["sequence"] + 1)
    return get_record(tx.conn, insert_row(tx, rec))


def skip_instants(conn, rec: dict, texts: list[str]) -> list[datetime]:
    """``--skip`` values -> stored instants of occurrences of ``rec`` to exclude."""
    if not rec["rrule"] and not rec["rdates"]:
        raise InvalidInput("only a recurring event has occurrences to skip", hint="delete the event instead")
    return [find_occurrence(conn, rec, text)[2] for text in texts if text.strip()]


def move_exdates(rec: dict, new_start: datetime, new_all_day: bool, zone) -> list[datetime]:
    """Exclusions follow the series when its start moves (same wall-clock shift)."""
    old_zone = event_zone(rec)
    if rec["all_day"]:
        old_wall = rec["start"]
        walls = list(rec["exdates"])
    else:
        old_wall = _ical.series_start(rec["start"], False, old_zone).replace(tzinfo=None)
        walls = [_ical.series_start(x, False, old_zone).replace(tzinfo=None) for x in rec["exdates"]]
    new_wall = new_start if new_all_day else new_start.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
    if new_all_day:
        delta = timedelta(days=(new_wall.date() - old_wall.date()).days)
        return sorted({midnight((w + delta).date()) for w in walls})
    if rec["all_day"]:  # dates become instances at the new time of day
        return sorted({naive_utc(_ical.localize(datetime.combine(w.date(), new_wall.time()), zone)) for w in walls})
    delta = new_wall - old_wall
    return sorted({naive_utc(_ical.localize(w + delta, zone)) for w in walls})
