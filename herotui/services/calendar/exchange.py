"""iCalendar in and out: import (idempotent on UID), export; ``store_events`` for the demo too."""

from __future__ import annotations

import json
from typing import Annotated

from herotui.errors import InvalidInput
from herotui.registry import P, verb
from herotui.services import _ical
from herotui.services.calendar.attendees import contacts_of
from herotui.services.calendar.models import COLUMNS, CalendarImportReport
from herotui.services.calendar.records import bound_series, record
from herotui.services.common import (
    ExportResult, ImportProblem, clean_tags, export_text, new_id, read_import_text, store_rows, utcnow,
)

SERVICE = "calendar"


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
    for cid, name, emails in contacts_of(tx.conn):
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
    bound_series(tx, uids)
    return len(new_rows), len(changed_rows)


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
    events = [dict(record(r[:-1]), ical=r[-1]) for r in rows]
    return export_text(_ical.serialize(events, others), len(events), output, force=force)
