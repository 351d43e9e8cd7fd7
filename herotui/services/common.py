"""Helpers shared by the services: ids, prefixes, time stamps, tags."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

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


class ImportProblem(BaseModel):
    """A record that could not be imported: its position in the file (1st = 1), line, why."""

    position: int
    line: int
    message: str


class ExportResult(BaseModel):
    """An export: how many records, where to (or the text itself when no file was given)."""

    count: int
    path: str | None = None
    text: str | None = None

    __text__ = "text"


def read_import_file(path: str) -> tuple[Path, str]:
    """The file to import and its text (UTF-8, BOM tolerated; undecodable bytes replaced)."""
    file = Path(path).expanduser()
    try:
        return file, file.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", hint="check the path") from None


def export_text(text: str, count: int, output: str | None) -> ExportResult:
    """Return ``text`` (no ``output``) or write it atomically to ``output``."""
    if output is None:
        return ExportResult(count=count, text=text)
    target = Path(output).expanduser()
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(text)
        tmp.replace(target)
    except OSError as exc:
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {output}: {exc.strerror}", hint="check the folder exists and is writable") from None
    return ExportResult(count=count, path=str(target))


def retag(tx: Any, table: str, record_id: str, tags: list[str], add: bool) -> None:
    """Add (or remove) cleaned ``tags`` on one row's ``tags`` list, in write ``tx``."""
    current = tx.execute(f"SELECT tags FROM {table} WHERE id = ?", [record_id]).fetchone()[0] or []
    new = current + [t for t in tags if t not in current] if add else [t for t in current if t not in tags]
    tx.execute(f"UPDATE {table} SET tags = ?, updated = ?, revision = ? WHERE id = ?",
               [new, utcnow(), tx.revision, record_id])


def split_blocks(lines, name: str, stray: str | None = None) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """The ``BEGIN:<name>`` … ``END:<name>`` blocks of vCard/iCalendar text, before parsing.

    ``lines``: (line number, line) pairs. Returns the blocks as (position from 1, first line,
    text with CRLF endings) and the problems, one per position: a block without its END, and,
    when ``stray`` names the message, non-blank text outside every block.
    """
    import re

    begin = re.compile(rf"^BEGIN:{name}\s*$", re.I)
    end = re.compile(rf"^END:{name}\s*$", re.I)
    unterminated = f"{name.lower().removeprefix('v')} has no END:{name}"
    blocks, problems = [], []
    current: list[str] | None = None
    start = position = 0
    for lineno, line in lines:
        if begin.match(line):
            position += 1
            if current is not None:
                problems.append({"position": position - 1, "line": start, "message": unterminated})
            current, start = [line], lineno
        elif current is not None:
            current.append(line)
            if end.match(line):
                blocks.append((position, start, "\r\n".join(current) + "\r\n"))
                current = None
        elif stray and line.strip():
            problems.append({"position": position + 1, "line": lineno, "message": stray})
    if current is not None:
        problems.append({"position": position, "line": start, "message": unterminated})
    unique = {(p["position"], p["message"]): p for p in reversed(problems)}  # one report per position: the first
    return blocks, sorted(unique.values(), key=problems.index)

