"""Helpers shared by the services: ids, prefixes, time stamps, tags."""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from herotui import settings
from herotui.errors import Ambiguous, InvalidInput, NotFound
from herotui.paths import check_root


def new_id() -> str:
    """A new ULID (sortable by creation time, 26 characters)."""
    from ulid import ULID  # ~49 ms: only a command that creates a record pays for it

    return str(ULID())


def utcnow() -> datetime:
    """Now, as the naive UTC value the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def aware(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) timestamp as an aware UTC datetime."""
    return value.replace(tzinfo=UTC) if value is not None else None


LIST_COMMANDS = {"event": "hero calendar list", "deck": "hero slides list"}  # kinds whose group has another name


def list_command(kind: str) -> str:
    """The command that lists records of ``kind`` ('hero calendar list' for events)."""
    return LIST_COMMANDS.get(kind, f"hero {kind} list")


def resolve_id(conn: Any, table: str, kind: str, prefix: str, label: str = "name") -> str:
    """The full id for a unique, case-insensitive prefix; candidates listed when ambiguous."""
    key = (prefix or "").strip().upper()
    if not key or not key.isalnum():
        raise InvalidInput(f"invalid {kind} id '{prefix}'", hint=f"use an id or a prefix from '{list_command(kind)}'")
    rows = conn.execute(
        f"SELECT id, {label} FROM {table} WHERE starts_with(id, ?) ORDER BY id LIMIT 6", [key]
    ).fetchall()
    if not rows:
        raise NotFound(f"no {kind} with id '{prefix}' in this context", hint=f"'{list_command(kind)}' shows the ids")
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


# Size limits of files read from a path a person (or a client) gave. A vCard/iCalendar file
# of 50 MB is ~100,000 contacts or events with photos; anything bigger is almost surely the
# wrong file (and parsing costs many times its size in memory).
DEFAULT_IMPORT_MB = 50.0
IMPORT_MB_ENV = "HERO_MAX_IMPORT_MB"


def import_limit() -> int:
    """The size limit of a vCard/iCalendar import in bytes: ``HERO_MAX_IMPORT_MB``, else 50 MB."""
    s = settings.get()
    raw = (s.raw(IMPORT_MB_ENV) or "").strip()
    if s.problem(IMPORT_MB_ENV):
        raise InvalidInput(f"{IMPORT_MB_ENV}='{shown(raw)}' is not a number", hint=f"e.g. {IMPORT_MB_ENV}=100")
    mb = s.HERO_MAX_IMPORT_MB
    if raw and not 0 < mb < 1e7:
        raise InvalidInput(f"{IMPORT_MB_ENV} must be above 0 (got {shown(raw)})", hint=f"e.g. {IMPORT_MB_ENV}=100")
    return int(mb * 1_000_000)


def shown(text: str, limit: int = 120) -> str:
    """``text`` for an error message: at most ``limit`` characters, control characters escaped."""
    text = str(text)
    cut = text[:limit]
    out = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in cut)
    return out + ("..." if len(text) > limit else "")


def _user_path(path: str, what: str = "path") -> Path:
    """``path`` as a Path, ``~`` expanded; an empty name or a NUL byte is refused."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput(f"the {what} is empty", hint="give the path of a file")
    if "\x00" in path:
        raise InvalidInput(f"the {what} '{shown(path)}' contains a NUL byte", hint="give the path of a file")
    try:
        return Path(path).expanduser()
    except RuntimeError:  # '~nosuchuser/x'
        return Path(path)


def _mb(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB"


def _not_regular(st: os.stat_result) -> str:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a pipe (FIFO), not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    return "is not a regular file"


def read_regular_file(path: str, limit: int, *, hint: str = "check the path",
                      limit_hint: str | None = None) -> tuple[Path, bytes]:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Anything else is refused with a one-line ``InvalidInput``: a folder, a device
    (``/dev/urandom`` would grow the process without bound), a pipe or socket (a FIFO would
    block forever), a file over ``limit`` (also one that grows past it while read). The
    file is opened with ``O_NONBLOCK`` and checked again with ``fstat`` on the open
    descriptor, so a FIFO swapped in after the first check cannot block either.
    """
    file = _user_path(path)
    name = shown(path)
    too_big = limit_hint or "a smaller file"
    try:
        st = os.stat(file)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInput(f"cannot read {name}: it {_not_regular(st)}", hint=hint if stat.S_ISDIR(st.st_mode) else "give a regular file")
        if st.st_size > limit:
            raise InvalidInput(f"cannot read {name}: it is too large ({_mb(st.st_size)}, the limit is {_mb(limit)})", hint=too_big)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(file, flags)
        try:
            check_root(file, fd=fd)  # a served client: only under the folders it may use
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise InvalidInput(f"cannot read {name}: it {_not_regular(st)}", hint="give a regular file")
            os.set_blocking(fd, True)
            chunks, size = [], 0
            while chunk := os.read(fd, min(1 << 20, limit + 1 - size) or 1):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(f"cannot read {name}: it grew over the {_mb(limit)} limit while read", hint=too_big)
        finally:
            os.close(fd)
    except OSError as exc:
        kind = NotFound if isinstance(exc, (FileNotFoundError, NotADirectoryError)) else InvalidInput  # missing: exit 3
        raise kind(f"cannot read {name}: {exc.strerror or exc}", hint=hint) from None
    except ValueError:  # a path the OS cannot take (lone surrogates...)
        raise InvalidInput(f"cannot read {name}: not a valid file name", hint=hint) from None
    return file, b"".join(chunks)


def read_import_text(path: str) -> tuple[Path, str, str | None]:
    """The file to import, its text, and a note when it was not plain UTF-8 (else None).

    Regular files only, at most ``HERO_MAX_IMPORT_MB`` (default 50 MB): see ``read_regular_file``.
    """
    limit = import_limit()
    file, data = read_regular_file(path, limit, limit_hint=f"files up to {_mb(limit)} are imported; "
                                                          f"split the file, or raise {IMPORT_MB_ENV}")
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
    import charset_normalizer  # ~26 ms: only text that is not UTF-8 pays for it

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


def export_text(text: str, count: int, output: str | None, force: bool = False) -> ExportResult:
    """Return ``text`` (no ``output``) or write it to the new file ``output`` (see ``write_file``)."""
    if output is None:
        return ExportResult(count=count, text=text)
    target = write_file(output, text.encode("utf-8"), force=force)
    return ExportResult(count=count, path=str(target))


_EXCL = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def write_file(output: str, data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to the file ``output``, atomically, never through a link or onto a device.

    The data goes to a temporary file created exclusively (``O_CREAT|O_EXCL|O_NOFOLLOW``,
    a random name in the same folder, so a planted ``<output>.tmp`` link is never followed),
    then takes the name ``output``: with a hard link when nothing has that name (it fails if
    something appeared meanwhile: never overwrites), or, with ``force`` and only when
    ``output`` is a regular file, with ``os.replace`` (which replaces the name, not what a
    link points to). A folder, a symbolic link, a device or a pipe at ``output`` is refused,
    ``force`` or not. Every refusal is a one-line ``InvalidInput``.
    """
    target = _user_path(output, "output file name")
    name = shown(output)
    if output.endswith(("/", os.sep)) or target.name in ("", ".", ".."):
        raise InvalidInput(f"the output '{name}' names a folder, not a file", hint="give a file name, e.g. --output export.vcf")
    folder = target.parent
    tmp: Path | None = None
    try:
        existing = _lstat(target)
        if existing is not None:
            _check_overwrite(existing, name, force)
        check_root(folder, write=True)
        tmp, fd = _exclusive_temp(folder)
        try:
            check_root(target, write=True, fd=fd)  # the real folder of the file made
            if existing is not None:
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))  # replacing a file keeps its permissions
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if existing is None:
            _link_new(tmp, target, name)
        else:
            again = _lstat(target)  # still a regular file (or gone)?
            if again is not None:
                _check_overwrite(again, name, force)
            os.replace(tmp, target)
            tmp = None
    except OSError as exc:
        kind = NotFound if isinstance(exc, (FileNotFoundError, NotADirectoryError)) else InvalidInput  # no such folder: exit 3
        raise kind(f"cannot write {name}: {exc.strerror or exc}", hint="check the folder exists and is writable") from None
    except ValueError:
        raise InvalidInput(f"cannot write {name}: not a valid file name", hint="give another file name") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return target


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _check_overwrite(st: os.stat_result, name: str, force: bool) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise InvalidInput(f"{name} is a symbolic link: not written through",
                           hint="give the path of the file itself, or a new file name")
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(f"{name} {_not_regular(st)}: not overwritten", hint="give a new file name")
    if not force:
        raise InvalidInput(f"{name} already exists: not overwritten",
                           hint="give a new file name, or pass --force (force=true) to replace it")


EXPORT_TEMP = ".hero-export-"
#: An export's temporary file older than this is a leftover of a killed export.
STALE_TEMP_SECONDS = 600


def sweep_export_temps(folder: Path) -> int:
    """Remove leftovers of killed exports in ``folder``: our own ``.hero-export-*.tmp``
    regular files, older than :data:`STALE_TEMP_SECONDS` (a live export is far younger)."""
    removed = 0
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if not (e.name.startswith(EXPORT_TEMP) and e.name.endswith(".tmp")):
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() \
                            and time.time() - st.st_mtime > STALE_TEMP_SECONDS:
                        os.unlink(e.path)
                        removed += 1
                except OSError:
                    continue
    except OSError:
        pass
    return removed


def _exclusive_temp(folder: Path) -> tuple[Path, int]:
    sweep_export_temps(folder)
    for _ in range(100):
        tmp = folder / f"{EXPORT_TEMP}{secrets.token_hex(6)}.tmp"
        try:
            return tmp, os.open(tmp, _EXCL, 0o666)
        except FileExistsError:
            continue
    raise InvalidInput(f"cannot create a temporary file in {shown(str(folder))}", hint="check the folder")


def _link_new(tmp: Path, target: Path, name: str) -> None:
    """Give ``tmp``'s file the name ``target``, only if nothing has that name."""
    try:
        os.link(tmp, target, follow_symlinks=False)
        return
    except FileExistsError:
        st = _lstat(target)
        if st is not None:
            _check_overwrite(st, name, False)
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EXDEV):
            raise
    # no hard links on this file system (FAT, some network ones): create the name
    # exclusively, then move the finished file onto what we just created
    try:
        fd = os.open(target, _EXCL, 0o666)
    except FileExistsError:
        st = _lstat(target)
        if st is not None:
            _check_overwrite(st, name, False)
        raise
    os.close(fd)
    os.replace(tmp, target)


def retag(tx: Any, table: str, record_id: str, tags: list[str], add: bool) -> None:
    """Add (or remove) cleaned ``tags`` on one row's ``tags`` list, in write ``tx``."""
    current = tx.execute(f"SELECT tags FROM {table} WHERE id = ?", [record_id]).fetchone()[0] or []
    new = current + [t for t in tags if t not in current] if add else [t for t in current if t not in tags]
    tx.execute(f"UPDATE {table} SET tags = ?, updated = ?, revision = ? WHERE id = ?",
               [new, utcnow(), tx.revision, record_id])


def parse_pool(workers: int):
    """A process pool for parsing big import files: forked (the parent is single-threaded
    when it is used); workers ignore Ctrl+C, so only the parent stops, quietly, and die with
    the parent, so a killed import leaves none behind."""
    # lazy: multiprocessing + concurrent.futures are ~30 ms and ~30 modules (pickle, queues):
    # only an import big enough to parse in parallel pays for them
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init,
                               initargs=(os.getpid(),))


def _worker_init(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Linux: the kernel kills this worker when its parent dies (SIGKILL included)
        import ctypes  # lazy: only a pool worker needs it

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def store_rows(tx: Any, table: str, fields: list[str], new_rows: list[list], changed_rows: list[list]) -> None:
    """Write an import's rows in two statements: ``new_rows`` are ``[id, *fields, created,
    updated, revision]``, ``changed_rows`` ``[id, *fields, updated, revision]``."""
    quoted = [f'"{f}"' for f in fields]
    if new_rows:
        cols = [list(c) for c in zip(*new_rows)]
        tx.execute(f"INSERT INTO {table} (id, {', '.join(quoted)}, created, updated, revision) SELECT "
                   + ", ".join(["unnest(?)"] * len(cols)), cols)
    if changed_rows:
        cols = [list(c) for c in zip(*changed_rows)]
        names = ['"id"', *quoted, '"updated"', '"revision"']
        sets = ", ".join(f"{f} = n.{f}" for f in names[1:])
        source = ", ".join(f"unnest(?) AS {f}" for f in names)
        tx.execute(f"UPDATE {table} SET {sets} FROM (SELECT {source}) AS n WHERE {table}.id = n.id", cols)


def split_blocks(lines, name: str, stray: str | None = None) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """The ``BEGIN:<name>`` … ``END:<name>`` blocks of vCard/iCalendar text, before parsing.

    ``lines``: (line number, line) pairs. Returns the blocks as (position from 1, first line,
    text with CRLF endings) and the problems, one per position: a block without its END, and,
    when ``stray`` names the message, non-blank text outside every block.
    """
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

