"""Answers to questions, in words that read well and sound right aloud.

A plan made for a question carries ``Plan.question`` ("free:thursday afternoon",
"count:this week", "field:email", "last:Alex Smith", "next:Alex Smith"); once its step ran,
:func:`answer` turns the step's result (JSON form) into the sentence the front-ends print or
speak: "Yes, nothing between 12:00 and 18:00 on Thursday." rather than a list of records.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from herotui import timeparse


def _dt(iso: str | None) -> datetime | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def _local(dt: datetime) -> datetime:
    return dt.astimezone(timeparse.local_zone()) if dt.tzinfo else dt


def _day(dt: datetime) -> str:
    return f"{dt:%A} {dt.day} {dt:%B}"


def _period(args: dict) -> str:
    """'between 12:00 and 18:00 on Thursday 10 December', 'on Friday 11 December', 'from ... to ...'."""
    start, end = _parse_arg(args.get("start")), _parse_arg(args.get("end"))
    if start is None:
        return "today"
    if end is None:
        return f"on {_day(start)}"
    same_day = start.date() == end.date()
    timed = (start.hour, start.minute) != (0, 0) or (end.hour, end.minute) != (0, 0)
    if same_day and timed:
        return f"between {start:%H:%M} and {end:%H:%M} on {_day(start)}"
    if same_day:
        return f"on {_day(start)}"
    return f"from {_day(start)} to {_day(end)}"


def _parse_arg(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return timeparse.parse_when(value).replace(tzinfo=None)
    except Exception:
        return None


def _events(items: list) -> str:
    parts = []
    for e in items[:5]:
        start = _dt(e.get("start"))
        when = "all day" if e.get("all_day") else (f"{_local(start):%H:%M}" if start else "")
        parts.append(f"{when} {e.get('title', '')}".strip())
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return "; ".join(parts) + more


def answer(question: str, args: dict, result: Any) -> str | None:
    """The sentence answering ``question`` from a step's ``args`` and JSON ``result``, or None."""
    kind, _, about = question.partition(":")
    if kind == "free" and isinstance(result, list):
        period = _period(args)
        if not result:
            return f"Yes, nothing {period}."
        n = len(result)
        return f"No, {n} event{'s' if n != 1 else ''} {period}: {_events(result)}."
    if kind == "count" and isinstance(result, list):
        n = len(result)
        period = _period(args)
        if n == 0:
            return f"Nothing {period}."
        return f"{n} event{'s' if n != 1 else ''} {period}: {_events(result)}."
    if kind == "field":
        contact = result[0] if isinstance(result, list) and result else result if isinstance(result, dict) else None
        if not contact:
            return "I found no such contact."
        return _field_answer(contact, about)
    if kind in ("last", "next") and isinstance(result, list):
        now = datetime.now(timezone.utc)
        dated = [(d, e) for e in result if (d := _dt(e.get("start"))) is not None]
        if kind == "last":
            past = sorted(((d, e) for d, e in dated if d <= now), key=lambda x: x[0])
            if not past:
                return f"Nothing with {about} in the calendar so far."
            d, e = past[-1]
            return f"Last: {e.get('title')}, {_day(_local(d))} at {_local(d):%H:%M}."
        future = sorted(((d, e) for d, e in dated if d > now), key=lambda x: x[0])
        if not future:
            return f"Nothing coming up with {about}."
        d, e = future[0]
        return f"Next: {e.get('title')}, {_day(_local(d))} at {_local(d):%H:%M}."
    return None


_FIELD_LABEL = {"email": "email", "phone": "phone number", "company": "company", "role": "role",
                "birthday": "birthday", "address": "address"}


def _field_answer(contact: dict, field: str) -> str:
    name = contact.get("name") or "This contact"
    label = _FIELD_LABEL.get(field, field)
    value: Any
    if field == "email":
        value = ", ".join(contact.get("emails") or [])
    elif field == "phone":
        value = ", ".join(contact.get("phones") or [])
    elif field == "birthday":
        raw = contact.get("birthday")
        d = _dt(raw) if raw else None
        value = (f"{d.day} {d:%B}" if d and d.year <= 1604 else f"{d.day} {d:%B} {d.year}" if d else raw) or ""
    elif field == "address":
        value = contact.get("address") or ""
    else:
        value = contact.get(field) or ""
    if not value:
        return f"{name} has no {label} on file."
    return f"{name}'s {label}: {value}."
