"""Attendees: ``--attendee`` values linked to the context's contacts (email, id prefix, name)."""

from __future__ import annotations

import re

from herotui.errors import Ambiguous, InvalidInput


_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>$")


_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def contacts_of(conn) -> list[tuple[str, str, list[str]]]:
    return [(cid, name, [e.lower() for e in emails or []])
            for cid, name, emails in conn.execute("SELECT id, name, emails FROM contacts ORDER BY lower(name), id").fetchall()]


def resolve_attendees(conn, items: list[str]) -> list[dict]:
    """``--attendee`` values -> attendees, linked to contacts where they match one."""
    contacts = None
    out: list[dict] = []
    for raw in items:
        text = (raw or "").strip()
        if not text:
            continue
        if contacts is None:
            contacts = contacts_of(conn)
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
