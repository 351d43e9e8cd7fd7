"""Finding things: a document by id prefix (its row, its links' names), a contact or an event
by id, email, name, UID or title."""

from __future__ import annotations

import re

from herotui.errors import Ambiguous, InvalidInput, NotFound
from herotui.services.common import aware, resolve_id
from herotui.services.document.models import COLUMNS, Document, DocumentDetail
from herotui.timeparse import local_zone


def document_of_row(row) -> Document:
    (did, sha, title, kind, mime, tags, source, filename, size, pages, note, contacts, events, created, updated) = row
    return Document(id=did, sha256=sha, title=title, kind=kind, mime=mime, tags=tags or [], source=source,
                    filename=filename, size=size, pages=pages, note=note, contacts=contacts or [],
                    events=events or [], created=aware(created), updated=aware(updated))


def get_document(conn, did: str) -> Document:
    row = conn.execute(f"SELECT {COLUMNS} FROM documents WHERE id = ? AND kind <> 'deck'", [did]).fetchone()
    if row is None:
        raise NotFound(f"no document with id '{did}'")
    return document_of_row(row)


def resolve_document(conn, prefix: str) -> str:
    try:
        return resolve_id(conn, "(SELECT * FROM documents WHERE kind <> 'deck')", "document", prefix, label="title")
    except NotFound:
        key = (prefix or "").strip().upper()
        if conn.execute("SELECT 1 FROM documents WHERE kind = 'deck' AND starts_with(id, ?)", [key]).fetchone():
            raise NotFound(f"'{prefix}' is a deck, not a document", hint=f"'hero slides show {prefix}' shows it") from None
        raise


def document_detail(conn, doc: Document) -> DocumentDetail:
    contacts = {cid: f"{name}" + (f" <{emails[0]}>" if emails else "")
                for cid, name, emails in conn.execute(
                    "SELECT id, name, emails FROM contacts WHERE list_contains(?, id)", [doc.contacts]).fetchall()}
    events = {}
    for eid, title, start in conn.execute('SELECT id, title, start FROM events WHERE list_contains(?, id)', [doc.events]).fetchall():
        when = aware(start).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
        events[eid] = f"{when} {title}"
    chars = conn.execute("SELECT coalesce(length(text), 0) FROM documents WHERE id = ?", [doc.id]).fetchone()[0]
    return DocumentDetail(
        **doc.model_dump(),
        linked_contacts=[f"{contacts[c]} ({c})" if c in contacts else f"(deleted contact {c})" for c in doc.contacts],
        linked_events=[f"{events[e]} ({e})" if e in events else f"(deleted event {e})" for e in doc.events],
        chars=chars,
    )


def resolve_contact(conn, text: str) -> str:
    """A contact id from an id prefix, an email or a name ("alex" finds "Alex Smith")."""
    wanted = (text or "").strip()
    if not wanted:
        raise InvalidInput("empty contact", hint="give a contact's name, email or id")
    rows = conn.execute("SELECT id, name, emails FROM contacts ORDER BY lower(name), id").fetchall()
    if re.fullmatch(r"[0-9A-Za-z]{4,26}", wanted):
        by_id = [r for r in rows if r[0].startswith(wanted.upper())]
        if len(by_id) == 1:
            return by_id[0][0]
    low = wanted.lower()
    if "@" in low:
        hits = [r for r in rows if low.removeprefix("mailto:") in [e.lower() for e in r[2] or []]]
    else:
        hits = [r for r in rows if r[1].lower() == low]
        if not hits:
            words = low.split()
            hits = [r for r in rows if all(w in r[1].lower().split() for w in words)]
    if len(hits) == 1:
        return hits[0][0]
    if len(hits) > 1:
        shown = ", ".join(f"{r[1]} ({r[0]})" for r in hits[:5]) + (" ..." if len(hits) > 5 else "")
        raise Ambiguous(f"'{text}' matches several contacts: {shown}", hint="give the full name, an email or an id prefix")
    raise NotFound(f"no contact matches '{text}' in this context", hint="'hero contact list' shows them")


def resolve_event(conn, text: str) -> str:
    """An event id from an id prefix, an iCalendar UID or a title (case-insensitive)."""
    wanted = (text or "").strip()
    if not wanted:
        raise InvalidInput("empty event", hint="give an event's id, UID or title")
    if re.fullmatch(r"[0-9A-Za-z]{4,26}", wanted):
        rows = conn.execute("SELECT id FROM events WHERE starts_with(id, ?) LIMIT 2", [wanted.upper()]).fetchall()
        if len(rows) == 1:
            return rows[0][0]
    rows = conn.execute("SELECT id FROM events WHERE uid = ? ORDER BY recurrence_id NULLS FIRST LIMIT 1", [wanted]).fetchall()
    if rows:
        return rows[0][0]
    rows = conn.execute("SELECT id, title, start FROM events WHERE lower(title) = lower(?) AND recurrence_id IS NULL "
                        "ORDER BY start", [wanted]).fetchall()
    if not rows:
        words = wanted.lower().split()
        rows = [r for r in conn.execute("SELECT id, title, start FROM events WHERE recurrence_id IS NULL ORDER BY start").fetchall()
                if all(w in r[1].lower() for w in words)]
    if len(rows) == 1:
        return rows[0][0]
    if len(rows) > 1:
        shown = ", ".join(f"{r[1]} ({r[0]})" for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        raise Ambiguous(f"'{text}' matches several events: {shown}", hint="give an event id prefix")
    raise NotFound(f"no event matches '{text}' in this context", hint="'hero calendar list' shows them")


def resolve_links(conn, contacts: list[str], events: list[str]) -> tuple[list[str], list[str]]:
    cids = list(dict.fromkeys(resolve_contact(conn, c) for c in contacts if c.strip()))
    eids = list(dict.fromkeys(resolve_event(conn, e) for e in events if e.strip()))
    return cids, eids
