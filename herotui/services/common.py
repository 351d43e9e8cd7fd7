"""Helpers shared by the services: ids, prefixes, time stamps, tags."""

from __future__ import annotations

from datetime import UTC, datetime
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
    return datetime.now(UTC).replace(tzinfo=None)


def aware(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as an aware UTC datetime."""
    return value.replace(tzinfo=UTC) if value is not None else None


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


def clean_tags(tags: list[str] | None, *, lenient: bool = False) -> list[str]:
    """Tags are lowercase, trimmed, without duplicates, in the order given.

    A tag typed by a person is refused when it has a space (``InvalidInput``). ``lenient``
    is for tags read from a file (vCard/iCalendar CATEGORIES, already split by the parser):
    nothing is refused, a run of spaces or commas becomes one ``-`` ("My Contacts" ->
    "my-contacts"), so that one odd category never rejects a record. See ``tag_of``.
    """
    out: list[str] = []
    for raw in tags or []:
        for t in ([raw] if lenient else raw.split(",")):
            t = tag_of(t) if lenient else t.strip().lower()
            if not t:
                continue
            if not lenient and len(t.split()) > 1:
                raise InvalidInput(f"invalid tag '{t}': tags have no spaces", hint="use 'quarterly-report' rather than 'quarterly report'")
            if t not in out:
                out.append(t)
    return out


_TAG_GAPS = None


def tag_of(category: str) -> str:
    """The tag a category from a file stands for: lowercase, spaces and commas as one '-'."""
    global _TAG_GAPS
    if _TAG_GAPS is None:
        import re

        _TAG_GAPS = re.compile(r"[\s,]+")
    return _TAG_GAPS.sub("-", category.strip().strip(",").strip()).lower()


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
    """The file to import and its text, decoded as ``decode_import`` does."""
    file, text, _note = read_import_text(path)
    return file, text


def read_import_text(path: str) -> tuple[Path, str, str | None]:
    """The file to import, its text, and a note when it was not plain UTF-8 (else None)."""
    file = Path(path).expanduser()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    text, note = decode_import(data)
    return file, text, note


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_WESTERN = ("cp1252", "latin_1", "iso8859_15")


def decode_import(data: bytes) -> tuple[str, str | None]:
    """Text of a vCard/iCalendar file in whatever encoding it came, and a note if converted.

    In order: a byte-order mark (UTF-8/16/32); UTF-16/32 without one (NUL bytes); UTF-8,
    also when a line was folded inside a multi-byte character (the fold is moved after the
    character, which unfolding undoes the same way); otherwise the encoding that
    ``charset_normalizer`` finds, Windows-1252 when it is one of the equally good guesses
    (the usual Western address-book export), and last Windows-1252 with undecodable bytes
    replaced. The note says what was done, for the import report.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            text = data[len(bom):].decode(enc, errors="replace")
            return text, None if enc == "utf-8" else f"the file is {enc.upper()} (with a byte-order mark): converted from it"
    if data[:200].count(b"\x00") > 20:  # UTF-16/32 without a BOM: ASCII letters next to NUL bytes
        zeros = data[:4]
        enc = ("utf-32-be" if zeros[:3] == b"\0\0\0" else "utf-32-le" if zeros[1:4] == b"\0\0\0"
               else "utf-16-be" if zeros[:1] == b"\0" else "utf-16-le")
        return data.decode(enc, errors="replace"), f"the file is {enc.upper()} (no byte-order mark): converted from it"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    import re

    moved = re.sub(rb"([\xc2-\xf4][\x80-\xbf]{0,2})(\r?\n[ \t])(?=[\x80-\xbf])", rb"\2\1", data)
    try:
        return moved.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    lenient = moved.decode("utf-8", errors="replace")
    valid = len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", moved))
    bad = lenient.count("\ufffd")
    if valid > bad:  # UTF-8 with damaged bytes (cut characters): not another encoding
        return lenient, f"the file is UTF-8 with {bad} damaged byte{'s' if bad != 1 else ''}: replaced by \ufffd"
    import charset_normalizer

    results = list(charset_normalizer.from_bytes(data))
    enc = "cp1252"
    if results:
        best = min(results, key=lambda r: r.chaos)
        enc = best.encoding
        if any(r.encoding in _WESTERN and r.chaos <= best.chaos + 0.01 for r in results):
            enc = "cp1252"
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        enc = "cp1252"
        text = data.decode(enc, errors="replace")
    label = {"cp1252": "Windows-1252 (Western)", "cp1250": "Windows-1250 (Central European)",
             "cp1251": "Windows-1251 (Cyrillic)", "latin_1": "ISO-8859-1 (Latin-1)"}.get(enc, enc)
    return text, f"the file is not UTF-8: read as {label} and converted"


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


def parse_pool(workers: int):
    """A process pool for parsing big import files: forked (the parent is single-threaded
    when it is used), workers ignore Ctrl+C so only the parent stops, quietly, and the pool
    goes with it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_ignore_interrupt)


def _ignore_interrupt() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def split_blocks(lines, name: str, stray: str | None = None) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """The ``BEGIN:<name>`` … ``END:<name>`` blocks of vCard/iCalendar text, before parsing.

    ``lines``: (line number, line) pairs. Returns the blocks as (position from 1, first line,
    text with CRLF endings) and the problems, one per position: a block without its END, and,
    when ``stray`` names the message, non-blank text outside every block.
    """
    import re

    begin = re.compile(rf"^BEGIN:{name}\s*$", re.IGNORECASE)
    end = re.compile(rf"^END:{name}\s*$", re.IGNORECASE)
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

