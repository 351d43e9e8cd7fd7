"""Helpers shared by the services: ids, prefixes, time stamps, tags."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from herotui.errors import Ambiguous, InvalidInput, NotFound


def new_id() -> str:
    """A new ULID (sortable by creation time, 26 characters)."""
    from ulid import ULID

    return str(ULID())


def utcnow() -> datetime:
    """Now, as the naive UTC value the database stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def aware(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as an aware UTC datetime."""
    return value.replace(tzinfo=timezone.utc) if value is not None else None


def resolve_id(conn: Any, table: str, kind: str, prefix: str, label: str = "name") -> str:
    """The full id for a unique, case-insensitive prefix; candidates listed when ambiguous."""
    key = (prefix or "").strip().upper()
    if not key or not key.isalnum():
        raise InvalidInput(f"invalid {kind} id '{prefix}'", hint=f"use an id or a prefix from 'hero {kind} list'")
    rows = conn.execute(
        f"SELECT id, {label} FROM {table} WHERE starts_with(id, ?) ORDER BY id LIMIT 6", [key]
    ).fetchall()
    if not rows:
        raise NotFound(f"no {kind} with id '{prefix}' in this context", hint=f"'hero {kind} list' shows the ids")
    if len(rows) > 1:
        shown = ", ".join(f"{rid} ({name})" for rid, name in rows[:5])
        more = " ..." if len(rows) > 5 else ""
        raise Ambiguous(f"'{prefix}' matches several {kind}s: {shown}{more}", hint="type more characters of the id")
    return rows[0][0]


def clean_tags(tags: list[str] | None) -> list[str]:
    """Tags are lowercase, trimmed, without duplicates, in the order given."""
    out: list[str] = []
    for raw in tags or []:
        for t in raw.split(","):
            t = t.strip().lower()
            if not t:
                continue
            if any(c.isspace() for c in t):
                raise InvalidInput(f"invalid tag '{t}': tags have no spaces", hint="use 'quarterly-report' rather than 'quarterly report'")
            if t not in out:
                out.append(t)
    return out
