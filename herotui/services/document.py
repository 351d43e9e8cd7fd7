"""Documents: files with their text, tags and links to contacts and events; summaries.

Decisions (the issue left them open):

* **Storage.** The file's bytes go to ``blobs/<aa>/<sha256>`` *before* its row is written, so
  a crash leaves complete documents only; a blob without a row (a crash between the two) is
  harmless and is reused by the next add of the same content. The same content added twice
  is reported as a duplicate (with the existing id) and not stored again.
* **Adding folders.** Folders are walked recursively, in name order; hidden files and folders
  (``.git``...) are left out unless ``--hidden``; symbolic links are followed, and a link back
  into a folder already walked is reported as a loop. Files are handled in batches of
  ``BATCH_FILES`` (or ``BATCH_TEXT_BYTES`` of text): the text is extracted *outside* any
  lock, then one short write transaction per batch stores the rows, so 10,000 files neither
  hold the context's lock for minutes nor sit in memory at once. Progress is reported to
  the caller's ``registry.PROGRESS`` (the CLI draws a bar on standard error when it is a
  terminal); nothing is counted when nobody watches.
* **Bad input never stops an add**: each bad file is skipped with its reason (missing, too
  large, a symlink loop, a damaged PDF, unreadable, empty), valid files are still added, and
  the verb succeeds. Only when *nothing* could be added (no new document, no duplicate) and
  something was skipped does it fail (exit 1) with the reasons. Binaries and other types
  are stored with the note "no text extracted (<type>)"; a password-protected PDF is stored
  with the note "encrypted PDF: no text extracted"; text that is not UTF-8 is decoded by
  guessing its encoding, and the note says which.
* **Size limit**: ``--max-mb``, else ``HERO_MAX_DOCUMENT_MB``, else 50 MB.
* **Deleting** removes the row and its index entry (a tombstone), and the blob only when no
  other document has the same content. The blob is moved aside inside the write and removed
  after the commit, and ``add`` re-stores a blob that vanished under it, so two processes
  adding and deleting the same content cannot leave a document without its file.
* **Export** writes the original bytes into a folder under the original file name, made
  safe (no path separators, no ``..``, no control or reserved characters); an existing file
  is never overwritten (``name-1.ext``...), and the result is checked to be inside the folder.
* **Open** returns what to show (``Opened``): the text of Markdown and text documents, the
  stored file of other kinds. The front-end shows it: the CLI pages the text (``$PAGER``,
  default ``less``) or copies the file to a private temporary folder and hands it to
  ``$HERO_OPENER``, else ``xdg-open`` (``open`` on macOS); with none available (or no
  graphical session) a clear error and a hint. The verb is marked ``terminal``: MCP and RPC
  do not serve it.
* ``--contact`` accepts a contact id prefix, an email, or a name (every word of it must be a
  word of the contact's name: "alex" finds "Alex Smith"); ``--event`` an event id prefix, its
  iCalendar UID or its title.
"""

from __future__ import annotations

import os
import re
import stat as statmod
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel

from herotui.errors import Ambiguous, HeroError, InvalidInput, NotFound
from herotui.registry import P, verb
from herotui.services.common import aware, clean_tags, new_id, resolve_id, retag, utcnow

SERVICE = "document"
COLUMNS = ("id, sha256, title, kind, mime, tags, source, filename, size, pages, note, contacts, events, "
           "created, updated")
KINDS = ("markdown", "text", "pdf", "html", "other")
TEXT_KINDS = ("markdown", "text")  # opened in the pager
DEFAULT_MAX_MB = 50.0
BATCH_FILES = 500
BATCH_TEXT_BYTES = 32 << 20
MISSING = "no such file or folder"  # reasons a path was skipped: missing (exit 3 when nothing else happened)
BROKEN_LINK = "broken symlink (its target does not exist)"

Id = Annotated[str, P("Document id, or a unique prefix of it", positional=True)]
Tags = Annotated[list[str], P("Tag (repeat, or comma-separated)", positional=True)]


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------


class Document(BaseModel):
    """A stored file: its metadata (the text is shown by ``document text``)."""

    id: str
    title: str
    kind: str
    tags: list[str] = []
    size: int
    pages: int | None = None
    filename: str
    source: str | None = None
    mime: str | None = None
    sha256: str
    note: str | None = None
    contacts: list[str] = []
    events: list[str] = []
    created: datetime
    updated: datetime

    __columns__ = ("id", "title", "kind", "pages", "tags", "updated")


class DocumentDetail(Document):
    """A document with the names of what it is linked to."""

    linked_contacts: list[str] = []  # "Alex Smith <alex@...> (01JD...)"
    linked_events: list[str] = []  # "2026-01-07 10:00 Quarterly report review (01JD...)"
    chars: int = 0  # length of the extracted text


class Duplicate(BaseModel):
    """A file whose content is already stored."""

    path: str
    id: str
    title: str


class Skipped(BaseModel):
    """A path that was not added, and why."""

    path: str
    reason: str


class AddReport(BaseModel):
    """What ``document add`` did: documents added, duplicates found, paths skipped and why."""

    added: list[Document] = []
    duplicates: list[Duplicate] = []
    skipped: list[Skipped] = []
    hidden: int = 0  # hidden files and folders left out of folders (see --hidden)

    __columns__ = ("added", "duplicates", "skipped")


class DocumentText(BaseModel):
    """The extracted text of a document."""

    id: str
    title: str
    kind: str
    text: str | None = None
    note: str | None = None

    __text__ = "text"


class Deleted(BaseModel):
    """What a delete removed: the document, and its file when no other document shares it."""

    id: str
    title: str
    blob_removed: bool


class Exported(BaseModel):
    """Where a document's file was written."""

    id: str
    title: str
    path: str
    size: int


class Opened(BaseModel):
    """A document to show on the caller's own screen: Markdown and text as their text (for a
    pager), other kinds as their stored file (for the system's viewer, under ``filename``).

    The verb shows nothing: the front-end that asked does (the CLI: ``$PAGER``, else
    ``less``; ``$HERO_OPENER``, else ``xdg-open`` or ``open``), and fills in ``command``,
    ``path`` and ``message`` with how it did.
    """

    id: str
    title: str
    kind: str
    how: Literal["pager", "opener"]
    text: str | None = None  # how = pager: the text to page
    file: str | None = None  # how = opener: the stored file (read it, never change it)
    filename: str | None = None  # how = opener: a safe name to open it under (with the kind's extension)
    chars: int = 0  # length of the extracted text ('hero document text' prints it)
    command: str = ""  # the program that showed it (set by the front-end)
    path: str | None = None  # the temporary copy handed to the viewer (set by the front-end)
    message: str = ""  # printed by the CLI (nothing after the pager)

    __text__ = "message"


class SummaryPart(BaseModel):
    """The picked sentences of one part (section or chunk) of a long document."""

    title: str
    sentences: list[str]


class Summary(BaseModel):
    """A summary of a document: ``method`` says how it was made (extractive: no model)."""

    id: str
    title: str
    method: Literal["extractive", "model"]
    sentences: list[str] = []
    parts: list[SummaryPart] = []
    note: str | None = None
    text: str

    __text__ = "text"


# ---------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------


def _doc(row) -> Document:
    (did, sha, title, kind, mime, tags, source, filename, size, pages, note, contacts, events, created, updated) = row
    return Document(id=did, sha256=sha, title=title, kind=kind, mime=mime, tags=tags or [], source=source,
                    filename=filename, size=size, pages=pages, note=note, contacts=contacts or [],
                    events=events or [], created=aware(created), updated=aware(updated))


def _get(conn, did: str) -> Document:
    row = conn.execute(f"SELECT {COLUMNS} FROM documents WHERE id = ? AND kind <> 'deck'", [did]).fetchone()
    if row is None:
        raise NotFound(f"no document with id '{did}'")
    return _doc(row)


def _resolve(conn, prefix: str) -> str:
    try:
        return resolve_id(conn, "(SELECT * FROM documents WHERE kind <> 'deck')", "document", prefix, label="title")
    except NotFound:
        key = (prefix or "").strip().upper()
        if conn.execute("SELECT 1 FROM documents WHERE kind = 'deck' AND starts_with(id, ?)", [key]).fetchone():
            raise NotFound(f"'{prefix}' is a deck, not a document", hint=f"'hero slides show {prefix}' shows it") from None
        raise


def _detail(conn, doc: Document) -> DocumentDetail:
    contacts = {cid: f"{name}" + (f" <{emails[0]}>" if emails else "")
                for cid, name, emails in conn.execute(
                    "SELECT id, name, emails FROM contacts WHERE list_contains(?, id)", [doc.contacts]).fetchall()}
    events = {}
    for eid, title, start in conn.execute('SELECT id, title, start FROM events WHERE list_contains(?, id)', [doc.events]).fetchall():
        from herotui.timeparse import local_zone

        when = aware(start).astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
        events[eid] = f"{when} {title}"
    chars = conn.execute("SELECT coalesce(length(text), 0) FROM documents WHERE id = ?", [doc.id]).fetchone()[0]
    return DocumentDetail(
        **doc.model_dump(),
        linked_contacts=[f"{contacts[c]} ({c})" if c in contacts else f"(deleted contact {c})" for c in doc.contacts],
        linked_events=[f"{events[e]} ({e})" if e in events else f"(deleted event {e})" for e in doc.events],
        chars=chars,
    )


# ---------------------------------------------------------------------------------------
# Resolving contacts and events (by id prefix, email, name / uid, title)
# ---------------------------------------------------------------------------------------


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


def _resolve_links(conn, contacts: list[str], events: list[str]) -> tuple[list[str], list[str]]:
    cids = list(dict.fromkeys(resolve_contact(conn, c) for c in contacts if c.strip()))
    eids = list(dict.fromkeys(resolve_event(conn, e) for e in events if e.strip()))
    return cids, eids


# ---------------------------------------------------------------------------------------
# Adding
# ---------------------------------------------------------------------------------------


def max_bytes(max_mb: float | None) -> int:
    """The size limit in bytes: ``--max-mb``, else ``HERO_MAX_DOCUMENT_MB``, else 50 MB."""
    if max_mb is None:
        raw = os.environ.get("HERO_MAX_DOCUMENT_MB", "").strip()
        if raw:
            try:
                max_mb = float(raw)
            except ValueError:
                raise InvalidInput(f"HERO_MAX_DOCUMENT_MB='{raw}' is not a number", hint="e.g. HERO_MAX_DOCUMENT_MB=100") from None
        else:
            max_mb = DEFAULT_MAX_MB
    if not max_mb > 0:
        raise InvalidInput(f"the size limit must be above 0 MB (got {max_mb:g})")
    return int(max_mb * 1024 * 1024)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _os_reason(exc: OSError) -> str:
    import errno

    if isinstance(exc, _NotRegular):
        return exc.strerror

    if exc.errno == errno.ELOOP:
        return "symlink loop (a link that points back to itself)"
    if exc.errno == errno.ENOENT:
        return MISSING if not os.path.islink(exc.filename or "") else BROKEN_LINK
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


class _Adder:
    """Adds files in batches: hash, check duplicates, extract (no lock), then one write."""

    def __init__(self, ctx, limit: int, tags: list[str], contacts: list[str], events: list[str],
                 title: str | None, hidden: bool, progress) -> None:
        self.ctx = ctx
        self.limit = limit
        self.tags = tags
        self.contacts = contacts
        self.events = events
        self.title = title
        self.hidden = hidden
        self.progress = progress
        self.report = AddReport()
        self.files: list[tuple[str, int]] = []  # (path, size) waiting for the next batch
        self.seen: dict[str, str] = {}  # sha256 -> path, within this add (same file twice)

    # -- walking ------------------------------------------------------------------------

    def skip(self, path: str, reason: str) -> None:
        self.report.skipped.append(Skipped(path=path, reason=reason))
        self.progress.advance()

    def add_path(self, raw: str) -> None:
        path = os.path.abspath(os.path.expanduser(raw))
        try:
            st = os.stat(path)
            _check_root(path)  # a served client: nothing outside its folders is even listed
        except OSError as exc:
            self.skip(raw, _os_reason(exc))
            return
        if statmod.S_ISDIR(st.st_mode):
            self.walk(path)
        elif statmod.S_ISREG(st.st_mode):
            self.file(path, st.st_size)
        else:
            self.skip(raw, "not a regular file (a device, socket or pipe)")

    def walk(self, root: str) -> None:
        """Depth-first, in name order; only one folder's entries are in memory at a time."""
        visited: set[tuple[int, int]] = set()
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                _check_root(folder)  # a link inside an allowed folder may point out of it
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    self.skip(folder, "symlink loop (this folder was already walked)")
                    continue
                visited.add(key)
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.skip(folder, _os_reason(exc))
                continue
            subfolders = []
            for e in entries:
                if e.name.startswith(".") and not self.hidden:
                    self.report.hidden += 1
                    continue
                try:
                    est = os.stat(e.path)  # follows links: a loop raises ELOOP
                except OSError as exc:
                    self.skip(e.path, _os_reason(exc))
                    continue
                if statmod.S_ISDIR(est.st_mode):
                    subfolders.append(e.path)
                elif statmod.S_ISREG(est.st_mode):
                    self.file(e.path, est.st_size)
                else:
                    self.skip(e.path, "not a regular file (a device, socket or pipe)")
            stack.extend(reversed(subfolders))

    def file(self, path: str, size: int) -> None:
        if size > self.limit:
            self.skip(path, f"too large: {_mb(size)} is over the {_mb(self.limit)} limit "
                            "(raise it with --max-mb or HERO_MAX_DOCUMENT_MB)")
            return
        self.files.append((path, size))
        if len(self.files) >= BATCH_FILES:
            self.flush_files()

    # -- one batch ----------------------------------------------------------------------

    def flush_files(self) -> None:
        batch, self.files = self.files, []
        hashed: list[tuple[str, str]] = []
        for path, _size in batch:
            try:
                hashed.append((path, _hash_file(path, self.limit)))
            except _TooLarge:
                self.skip(path, f"too large: it grew over the {_mb(self.limit)} limit while being read")
            except OSError as exc:
                self.skip(path, _os_reason(exc))
        if not hashed:
            return
        with self.ctx.read() as conn:
            known = self._known(conn, [sha for _p, sha in hashed])
        pending: list[dict] = []
        text_bytes = 0
        for path, sha in hashed:
            if self._duplicate(path, sha, known):
                continue
            try:
                with _open_regular(path) as fh:
                    data = fh.read(self.limit + 1)
            except OSError as exc:
                self.skip(path, _os_reason(exc))
                continue
            row = self.prepare(path, data, source=_readable_name(path), filename=_readable_name(os.path.basename(path)))
            del data
            if row is None:
                continue
            pending.append(row)
            text_bytes += len(row["text"] or "")
            if text_bytes >= BATCH_TEXT_BYTES:
                self.store(pending)
                pending, text_bytes = [], 0
        self.store(pending)

    def _known(self, conn, shas: list[str]) -> dict[str, tuple[str, str]]:
        rows = conn.execute("SELECT sha256, id, title FROM documents WHERE list_contains(?, sha256) AND kind <> 'deck'",
                            [shas]).fetchall()
        return {sha: (did, title) for sha, did, title in rows}

    def _duplicate(self, path: str, sha: str, known: dict) -> bool:
        if sha in known:
            did, title = known[sha]
            self.report.duplicates.append(Duplicate(path=path, id=did, title=title))
            self.progress.advance()
            return True
        if sha in self.seen and self.seen[sha] != path:
            # the same content twice in this add: the first one is being added
            self.report.duplicates.append(Duplicate(path=path, id="(this add)", title=self.seen[sha]))
            self.progress.advance()
            return True
        return False

    def prepare(self, path: str, data: bytes, source: str, filename: str, stdin: bool = False) -> dict | None:
        """Extract the text and store the blob; the row is written by :meth:`store`."""
        from herotui.services import _extract
        from herotui.store import blobs

        if len(data) > self.limit:
            self.skip(path, f"too large: over the {_mb(self.limit)} limit (raise it with --max-mb or HERO_MAX_DOCUMENT_MB)")
            return None
        if not data:
            self.skip(path, "empty file: nothing to store")
            return None
        sha = blobs.sha256_of(data)
        if sha in self.seen:
            self.report.duplicates.append(Duplicate(path=path, id="(this add)", title=self.seen[sha]))
            self.progress.advance()
            return None
        try:
            ex = _extract.extract(data, filename, sniff_markdown=stdin)
        except _extract.Unreadable as exc:
            self.skip(path, str(exc))
            return None
        except Exception as exc:  # a bug in a parser must not stop the other files
            self.skip(path, f"could not be read ({type(exc).__name__}: {str(exc)[:100]})")
            return None
        title = self.title or ex.title
        if not title and stdin:
            first = next((line.strip() for line in (ex.text or "").splitlines() if line.strip()), "")
            title = first[:80] or "Standard input " + utcnow().strftime("%Y-%m-%d %H:%M")
        if not title:
            title = Path(filename).stem or filename
        title = " ".join(title.split())[:300]
        if stdin:
            filename = safe_filename(title, "document")
            if not filename.lower().endswith(_extract.KIND_EXT[ex.kind]):
                filename += _extract.KIND_EXT[ex.kind]
        try:
            blobs.put(self.ctx, data, sync=False)  # the blob first; synced to disk before its row commits
        except OSError as exc:
            raise HeroError(f"cannot store {path}: {exc.strerror or exc}", hint=f"check the space and permissions of {self.ctx.blobs_path}") from None
        self.seen[sha] = path
        return {"path": path, "data": data if stdin else None, "sha256": sha, "title": title, "kind": ex.kind,
                "mime": ex.mime, "source": source, "filename": filename, "size": len(data), "pages": ex.pages,
                "text": ex.text, "note": ex.note}

    def store(self, pending: list[dict]) -> None:
        """One write transaction for the rows of a batch (duplicates checked again inside it)."""
        from herotui.store import blobs

        if not pending:
            return
        blobs.sync_all()  # the batch's blobs are on disk before the rows that name them commit
        with self.ctx.write() as tx:
            known = self._known(tx.conn, [r["sha256"] for r in pending])
            now = utcnow()
            rows, docs = [], []
            for r in pending:
                if r["sha256"] in known:  # another process added it meanwhile
                    did, title = known[r["sha256"]]
                    self.report.duplicates.append(Duplicate(path=r["path"], id=did, title=title))
                    continue
                if not blobs.path_for(self.ctx, r["sha256"]).exists() and not self._restore_blob(r):
                    continue  # a concurrent delete took the blob, and the file changed since
                did = new_id()
                rows.append([did, r["sha256"], r["title"], r["kind"], r["mime"], self.tags, r["source"], r["filename"],
                             r["size"], r["pages"], r["text"], r["note"], self.contacts, self.events, now, now, tx.revision])
                docs.append(Document(id=did, sha256=r["sha256"], title=r["title"], kind=r["kind"], mime=r["mime"],
                                     tags=self.tags, source=r["source"], filename=r["filename"], size=r["size"],
                                     pages=r["pages"], note=r["note"], contacts=self.contacts, events=self.events,
                                     created=aware(now), updated=aware(now)))
            if rows:
                cols = [list(c) for c in zip(*rows)]
                tx.execute(
                    "INSERT INTO documents (id, sha256, title, kind, mime, tags, source, filename, size, pages, text, note, "
                    "contacts, events, created, updated, revision) SELECT " + ", ".join(["unnest(?)"] * len(cols)),
                    cols,
                )
        self.report.added.extend(docs)
        self.progress.advance(len(docs))

    def _restore_blob(self, r: dict) -> bool:
        from herotui.store import blobs

        try:
            if r["data"] is not None:
                data = r["data"]
            else:
                with _open_regular(r["path"]) as fh:
                    data = fh.read(self.limit + 1)
        except OSError as exc:
            self.report.skipped.append(Skipped(path=r["path"], reason=_os_reason(exc)))
            return False
        if blobs.sha256_of(data) != r["sha256"]:
            self.report.skipped.append(Skipped(path=r["path"], reason="the file changed while it was being added: add it again"))
            return False
        blobs.put(self.ctx, data)
        return True


class _TooLarge(Exception):
    pass


class _NotRegular(OSError):
    """A path that is not read: it stopped being a regular file between its stat and its
    open, or (``reason``) a served client may not read there."""

    def __init__(self, path: str, reason: str = "not a regular file (a device, socket or pipe)") -> None:
        super().__init__(0, reason, path)


def _open_regular(path: str):
    """``path`` opened for reading only if it is a regular file: opened with O_NONBLOCK (a
    FIFO swapped in after the walk's stat cannot block), checked with fstat, then read
    normally. Anything else raises ``_NotRegular`` (an OSError whose strerror is the reason)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        _check_root(path, fd)
        if not statmod.S_ISREG(os.fstat(fd).st_mode):
            raise _NotRegular(path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _check_root(path: str, fd: int | None = None) -> None:
    """``paths.check_root`` as the OSError the walk reports as a skipped path's reason."""
    from herotui.paths import check_root

    try:
        check_root(path, fd=fd)
    except InvalidInput:
        raise _NotRegular(path, "outside the folders this server may use") from None


def _hash_file(path: str, limit: int) -> str:
    import hashlib

    h = hashlib.sha256()
    size = 0
    with _open_regular(path) as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise _TooLarge()
            h.update(chunk)
    return h.hexdigest()


class _NoProgress:
    def advance(self, n: int = 1) -> None:
        pass


class _Progress:
    """Counts the files an add has handled and tells the caller's reporter (``registry.PROGRESS``)."""

    WHAT = "adding documents"

    def __init__(self, report, total: int) -> None:
        self.report, self.total, self.done = report, total, 0
        report(self.WHAT, 0, total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.report(self.WHAT, self.done, self.total)


def _count_files(paths: list[str], hidden: bool, cap: int = 1_000_000) -> int:
    """How many files the paths hold (for the progress bar): a cheap walk, names only."""
    count = 0
    for raw in paths:
        p = os.path.expanduser(raw)
        if raw == "-" or not os.path.isdir(p):
            count += 1
            continue
        seen: set[tuple[int, int]] = set()
        stack = [p]
        while stack and count < cap:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                with os.scandir(folder) as it:
                    for e in it:
                        if e.name.startswith(".") and not hidden:
                            continue
                        try:
                            if e.is_dir():
                                stack.append(e.path)
                            else:
                                count += 1
                        except OSError:
                            count += 1
            except OSError:
                continue
    return count


def _progress_for(paths: list[str], hidden: bool) -> _Progress | _NoProgress:
    """Progress reported to the front-end that asked for it (``registry.PROGRESS``; the CLI
    on a terminal), when folders are added: their files are counted first (a cheap walk)."""
    from herotui.registry import PROGRESS

    report = PROGRESS.get()
    if report is None or not any(p != "-" and os.path.isdir(os.path.expanduser(p)) for p in paths):
        return _NoProgress()
    return _Progress(report, _count_files(paths, hidden))


def _stdin_bytes(limit: int) -> bytes:
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise InvalidInput("'-' reads standard input, but nothing is piped in",
                           hint='e.g. echo "# Notes" | hero document add - --title "Notes"')
    return stream.buffer.read(limit + 1)


@verb(mutates=True, examples=[
    "hero document add report.pdf --tag finance",
    "hero document add ~/notes --tag notes",
    'echo "# Ideas" | hero document add - --title "Ideas"',
    'hero document add q4.md --contact alex --event "Quarterly report review"',
])
def add(
    ctx,
    paths: Annotated[list[str], P("Files or folders (walked recursively); '-' reads standard input", positional=True)],
    title: Annotated[str | None, P("Title (one file only; default: its first heading, <title>, PDF title or file name)")] = None,
    tags: Annotated[list[str], P("Tag (repeat, or comma-separated)", flag="--tag", short="-t")] = [],
    contacts: Annotated[list[str], P("Link to this contact: name, email or id (repeat for several)", flag="--contact")] = [],
    events: Annotated[list[str], P("Link to this event: id, iCalendar UID or title (repeat for several)", flag="--event")] = [],
    max_mb: Annotated[float | None, P("Skip files larger than this (MB; default HERO_MAX_DOCUMENT_MB or 50)")] = None,
    hidden: Annotated[bool, P("Also add hidden files and folders (names starting with '.') inside folders")] = False,
) -> AddReport:
    """Add files, folders (recursively) or standard input ('-') as documents.

    Markdown, text, PDF and HTML have their text extracted; other files are stored with a
    "no text extracted" note. Content already stored is reported as a duplicate. Bad files
    are skipped with the reason, and the others are still added; the command fails only when
    nothing at all could be added.
    """
    if not paths:
        raise InvalidInput("no file given", hint="e.g. hero document add report.pdf")
    if paths.count("-") > 1:
        raise InvalidInput("'-' (standard input) can be given only once")
    limit = max_bytes(max_mb)
    tags = clean_tags(tags)
    if title is not None:
        title = " ".join(title.split())
        if not title:
            raise InvalidInput("--title must not be empty")
        if len(paths) != 1 or (paths[0] != "-" and os.path.isdir(os.path.expanduser(paths[0]))):
            raise InvalidInput("--title names one document: give a single file (or '-')",
                               hint="set titles afterwards with 'hero document update ID --title ...'")
    cids: list[str] = []
    eids: list[str] = []
    if contacts or events:
        with ctx.read() as conn:
            cids, eids = _resolve_links(conn, contacts, events)
    adder = _Adder(ctx, limit, tags, cids, eids, title, hidden, _progress_for(paths, hidden))
    for raw in paths:
        if raw == "-":
            data = _stdin_bytes(limit)
            row = adder.prepare("-", data, source="-", filename="stdin", stdin=True)
            if row is not None:
                with ctx.read() as conn:
                    known = adder._known(conn, [row["sha256"]])
                if row["sha256"] in known:
                    did, t = known[row["sha256"]]
                    adder.report.duplicates.append(Duplicate(path="-", id=did, title=t))
                else:
                    adder.store([row])
            continue
        adder.add_path(raw)
    adder.flush_files()
    report = adder.report
    if not report.added and not report.duplicates and report.skipped:
        shown = "; ".join(f"{s.path}: {s.reason}" for s in report.skipped[:5])
        more = f" (and {len(report.skipped) - 5} more)" if len(report.skipped) > 5 else ""
        missing = all(s.reason in (MISSING, BROKEN_LINK) for s in report.skipped)  # only missing paths: exit 3, as everywhere
        raise (NotFound if missing else InvalidInput)(
            f"nothing added: {shown}{more}", hint="check the paths; 'hero document add --help' lists the options")
    return report


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


@verb(examples=["hero document list", "hero document list --contact alex", "hero document list --kind pdf --tag finance"])
def list_(
    ctx,
    tag: Annotated[str | None, P("Only documents with this tag")] = None,
    kind: Annotated[str | None, P("Only this kind: markdown, text, pdf, html or other")] = None,
    contact: Annotated[str | None, P("Only documents linked to this contact (name, email or id)")] = None,
    event: Annotated[str | None, P("Only documents linked to this event (id, UID or title)")] = None,
    limit: Annotated[int | None, P("At most this many", minimum=1)] = None,
) -> list[Document]:
    """List documents, newest first."""
    where, params = ["kind <> 'deck'"], []
    if tag:
        where.append("list_contains(tags, ?)")
        params.append(tag.strip().lower())
    if kind:
        k = kind.strip().lower()
        if k not in KINDS:
            raise InvalidInput(f"unknown kind '{kind}'", hint="kinds: " + ", ".join(KINDS))
        where.append("kind = ?")
        params.append(k)
    with ctx.read() as conn:
        if contact:
            where.append("list_contains(contacts, ?)")
            params.append(resolve_contact(conn, contact))
        if event:
            where.append("list_contains(events, ?)")
            params.append(resolve_event(conn, event))
        sql = f"SELECT {COLUMNS} FROM documents WHERE " + " AND ".join(where) + " ORDER BY created DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_doc(r) for r in conn.execute(sql, params).fetchall()]


@verb(examples=["hero document show 01JD3"])
def show(ctx, id: Id) -> DocumentDetail:
    """Show a document's metadata, with the contacts and events it is linked to."""
    with ctx.read() as conn:
        return _detail(conn, _get(conn, _resolve(conn, id)))


@verb(examples=["hero document text 01JD3", "hero document text 01JD3 | grep -i revenue"])
def text(ctx, id: Id) -> DocumentText:
    """Print the text extracted from a document."""
    with ctx.read() as conn:
        did = _resolve(conn, id)
        title, kind, body, note = conn.execute("SELECT title, kind, text, note FROM documents WHERE id = ?", [did]).fetchone()
    if body is not None and not body.endswith("\n"):
        body += "\n"
    return DocumentText(id=did, title=title, kind=kind, text=body, note=note or (None if body else "no text extracted"))


@verb(examples=['hero document search "revenue forecast"', "hero document search budget --tag finance"])
def search(
    ctx,
    query: Annotated[str, P("Words to look for in titles, text and tags (typos are forgiven)", positional=True)],
    tag: Annotated[str | None, P("Only documents with this tag")] = None,
    limit: Annotated[int, P("At most this many", minimum=1)] = 20,
) -> list[Document]:
    """Search documents by title, text and tags, best match first."""
    from herotui.store import index

    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["document"], tags=[tag] if tag else None, limit=limit)
        ids = [h.id for h in hits]
        if not ids:
            return []
        rows = {r[0]: _doc(r) for r in conn.execute(f"SELECT {COLUMNS} FROM documents WHERE list_contains(?, id)", [ids]).fetchall()}
    return [rows[i] for i in ids if i in rows]


# ---------------------------------------------------------------------------------------
# Changing
# ---------------------------------------------------------------------------------------


@verb(mutates=True, examples=['hero document update 01JD3 --title "Q4 report (final)"', "hero document update 01JD3 --tag finance --tag q4"])
def update(
    ctx,
    id: Id,
    title: Annotated[str | None, P("New title")] = None,
    tags: Annotated[list[str] | None, P("Replace the tags (repeat, or comma-separated; '' clears them)", flag="--tag", short="-t")] = None,
) -> Document:
    """Change a document's title or tags; what is not given stays as it is."""
    changes: dict = {}
    if title is not None:
        t = " ".join(title.split())
        if not t:
            raise InvalidInput("--title must not be empty")
        changes["title"] = t[:300]
    if tags is not None:
        changes["tags"] = clean_tags(tags)
    if not changes:
        raise InvalidInput("nothing to update", hint="give --title or --tag")
    with ctx.write() as tx:
        did = _resolve(tx.conn, id)
        sets = ", ".join(f"{k} = ?" for k in changes)
        tx.execute(f"UPDATE documents SET {sets}, updated = ?, revision = ? WHERE id = ?", [*changes.values(), utcnow(), tx.revision, did])
        return _get(tx.conn, did)


def _retag(ctx, id: str, tags: list[str], add: bool) -> Document:
    wanted = clean_tags(tags)
    if not wanted:
        raise InvalidInput("no tag given", hint="e.g. 'hero document tag 01JD3 finance'")
    with ctx.write() as tx:
        did = _resolve(tx.conn, id)
        retag(tx, "documents", did, wanted, add)
        return _get(tx.conn, did)


@verb(mutates=True, examples=["hero document tag 01JD3 finance q4"])
def tag(ctx, id: Id, tags: Tags) -> Document:
    """Add tags to a document."""
    return _retag(ctx, id, tags, add=True)


@verb(mutates=True, examples=["hero document untag 01JD3 draft"])
def untag(ctx, id: Id, tags: Tags) -> Document:
    """Remove tags from a document."""
    return _retag(ctx, id, tags, add=False)


def _relink(ctx, id: str, contacts: list[str], events: list[str], add: bool) -> DocumentDetail:
    if not [c for c in contacts if c.strip()] and not [e for e in events if e.strip()]:
        raise InvalidInput("nothing to link", hint="give --contact NAME and/or --event ID")
    with ctx.write() as tx:
        did = _resolve(tx.conn, id)
        cids, eids = _resolve_links(tx.conn, contacts, events)
        cur_c, cur_e = tx.execute("SELECT contacts, events FROM documents WHERE id = ?", [did]).fetchone()
        cur_c, cur_e = cur_c or [], cur_e or []
        if add:
            new_c = cur_c + [c for c in cids if c not in cur_c]
            new_e = cur_e + [e for e in eids if e not in cur_e]
        else:
            new_c = [c for c in cur_c if c not in cids]
            new_e = [e for e in cur_e if e not in eids]
        tx.execute("UPDATE documents SET contacts = ?, events = ?, updated = ?, revision = ? WHERE id = ?",
                   [new_c, new_e, utcnow(), tx.revision, did])
        return _detail(tx.conn, _get(tx.conn, did))


@verb(mutates=True, examples=["hero document link 01JD3 --contact alex", 'hero document link 01JD3 --event "Quarterly report review"'])
def link(
    ctx,
    id: Id,
    contacts: Annotated[list[str], P("A contact: name, email or id (repeat for several)", flag="--contact")] = [],
    events: Annotated[list[str], P("An event: id, iCalendar UID or title (repeat for several)", flag="--event")] = [],
) -> DocumentDetail:
    """Link a document to contacts or events of the same context."""
    return _relink(ctx, id, contacts, events, add=True)


@verb(mutates=True, examples=["hero document unlink 01JD3 --contact alex"])
def unlink(
    ctx,
    id: Id,
    contacts: Annotated[list[str], P("A contact: name, email or id (repeat for several)", flag="--contact")] = [],
    events: Annotated[list[str], P("An event: id, iCalendar UID or title (repeat for several)", flag="--event")] = [],
) -> DocumentDetail:
    """Remove links from a document to contacts or events."""
    return _relink(ctx, id, contacts, events, add=False)


@verb(destructive=True, examples=["hero document delete 01JD3 --yes"])
def delete(ctx, id: Id) -> Deleted:
    """Delete a document (its file too, unless another document has the same content)."""
    from herotui.store import blobs

    with blobs.releasing(ctx) as release, ctx.write() as tx:
        did = _resolve(tx.conn, id)
        title, sha = tx.execute("SELECT title, sha256 FROM documents WHERE id = ?", [did]).fetchone()
        tx.execute("DELETE FROM documents WHERE id = ?", [did])
        tx.tombstone("document", did)
        others = tx.execute("SELECT count(*) FROM documents WHERE sha256 = ?", [sha]).fetchone()[0]
        if not others:
            release(sha)
    return Deleted(id=did, title=title, blob_removed=not others)


# ---------------------------------------------------------------------------------------
# Export and open
# ---------------------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)


def _readable_name(name: str) -> str:
    """A file name as text the database can hold: a name that is not UTF-8 (a Latin-1
    'résumé.txt' from an old disk) is read as Windows-1252 rather than refused."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")


def safe_filename(name: str, fallback: str) -> str:
    """A file name that stays where it is written: no folders, no '..', nothing reserved."""
    name = unicodedata.normalize("NFC", name or "")
    name = _UNSAFE.sub("_", name)  # separators become '_': "../../etc/passwd" -> "etc_passwd"
    name = re.sub(r"_+", "_", name).strip(" ._")
    if _RESERVED.match(name):
        name = "_" + name
    if len(name.encode()) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 10 else ""
        base = (stem if ext else name).encode()[: 200 - len(ext.encode())].decode(errors="ignore")
        name = base + ext
    return name or fallback


def _write_new(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as a new file in ``folder`` (``name``, else ``name-1``...), atomically."""
    import tempfile

    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    else:
        ext = "." + ext
    from herotui.services.common import EXPORT_TEMP, sweep_export_temps

    sweep_export_temps(folder)  # leftovers of a killed export
    fd, tmp = tempfile.mkstemp(prefix=EXPORT_TEMP, suffix=".tmp", dir=folder)
    try:
        from herotui.paths import check_root

        with os.fdopen(fd, "wb") as fh:
            check_root(folder, write=True, fd=fh.fileno())  # the real folder the file was made in
            fh.write(data)
        for n in range(0, 10_000):
            candidate = folder / (f"{stem}-{n}{ext}" if n else name)
            # belt and braces: one plain name inside the folder (a link already there is
            # never followed: os.link and O_EXCL fail on it, and the next name is tried)
            if candidate.name in ("", ".", "..") or os.sep in candidate.name or candidate.parent != folder:
                raise HeroError(f"refusing to write {candidate}: it is outside {folder}")
            try:
                os.link(tmp, candidate)  # fails if it exists: never overwrites
                return candidate
            except FileExistsError:
                continue
            except OSError:  # no hard links here (some file systems): claim the name exclusively
                try:  # (never through a planted link), then move the finished file onto it
                    os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
                except FileExistsError:
                    continue
                os.replace(tmp, candidate)
                return candidate
        raise HeroError(f"too many files named like {name} in {folder}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _blob_bytes(ctx, sha: str, did: str) -> bytes:
    from herotui.store import blobs

    try:
        return blobs.read(ctx, sha)
    except FileNotFoundError:
        raise HeroError(f"the file of document {did} is missing from {ctx.blobs_path}",
                        hint="add the file again ('hero document add PATH') to restore it") from None


@verb(examples=["hero document export 01JD3", "hero document export 01JD3 --output ~/Desktop"])
def export(
    ctx,
    id: Id,
    output: Annotated[str | None, P("Folder to write into (created if missing; default: the current folder, or over MCP/RPC the first folder the server may use)", short="-o")] = None,
) -> Exported:
    """Write a document's original file into a folder (never overwriting a file there)."""
    from herotui.services import _extract

    with ctx.read() as conn:
        did = _resolve(conn, id)
        title, kind, sha, filename = conn.execute("SELECT title, kind, sha256, filename FROM documents WHERE id = ?", [did]).fetchone()
    data = _blob_bytes(ctx, sha, did)
    from herotui.paths import FILE_ROOTS, check_root

    roots = FILE_ROOTS.get()  # a served client's default is the first folder it may use
    folder = Path(output).expanduser() if output else Path(roots.folders[0]) if roots else Path.cwd()
    check_root(folder, write=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder", hint="--output names a folder to write into")
        name = safe_filename(filename, "")
        if not name:
            name = safe_filename(title, did) + _extract.KIND_EXT.get(kind, "")
        path = _write_new(folder, name, data)
    except FileExistsError:
        raise InvalidInput(f"{folder} is a file, not a folder", hint="--output names a folder to write into") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write into {folder}: {exc.strerror or exc}", hint="check the folder is writable") from None
    except ValueError:  # a NUL byte, a name the OS cannot take
        raise InvalidInput("cannot write into that folder: not a valid folder name", hint="--output names a folder to write into") from None
    return Exported(id=did, title=title, path=str(path), size=len(data))


@verb(name="document.open", terminal=True, examples=["hero document open 01JD3", "PAGER=bat hero document open 01JD3"])
def open_(ctx, id: Id) -> Opened:
    """Open a document: Markdown and text in $PAGER (default less), other kinds in the system's viewer."""
    from herotui.services import _extract
    from herotui.store import blobs

    with ctx.read() as conn:
        did = _resolve(conn, id)
        title, kind, sha, filename, body = conn.execute(
            "SELECT title, kind, sha256, filename, text FROM documents WHERE id = ?", [did]).fetchone()
    if kind in TEXT_KINDS and body is not None:
        return Opened(id=did, title=title, kind=kind, how="pager", text=body, chars=len(body))
    stored = blobs.path_for(ctx, sha)
    if not stored.is_file():
        _blob_bytes(ctx, sha, did)  # the error that says the file is missing, and how to restore it
    name = safe_filename(filename, "") or safe_filename(title, did) + _extract.KIND_EXT.get(kind, "")
    return Opened(id=did, title=title, kind=kind, how="opener", file=str(stored), filename=name, chars=len(body or ""))


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------


def _summary_text(title: str, method: str, sentences: list[str], parts: list[SummaryPart], note: str | None) -> str:
    label = "extractive: the most representative sentences of the document, no model" if method == "extractive" else "model"
    lines = [f"Summary of \u201c{title}\u201d ({label})", ""]
    lines += [f"- {s}" for s in sentences] or ["(no sentences to summarise)"]
    if parts:
        lines += ["", "By part:"]
        for p in parts:
            lines.append(f"  {p.title}:")
            lines += [f"    - {s}" for s in p.sentences]
    if note:
        lines += ["", f"note: {note}"]
    return "\n".join(lines) + "\n"


@verb(examples=["hero document summarize 01JD3", "hero document summarize 01JD3 --sentences 8"])
def summarize(
    ctx,
    id: Id,
    sentences: Annotated[int, P("How many sentences", short="-n")] = 5,
    method: Annotated[Literal["auto", "extractive", "model"], P("auto: a model when the context allows one, else extractive")] = "auto",
) -> Summary:
    """Summarise a document: with no model configured, its most representative sentences (extractive).

    Long documents are summarised by parts (sections, or chunks when there are none), then
    the best sentences of the parts are combined.
    """
    from herotui.services import _summary

    if not 1 <= sentences <= 50:
        raise InvalidInput("--sentences must be between 1 and 50")
    with ctx.read() as conn:
        did = _resolve(conn, id)
        title, body, note = conn.execute("SELECT title, text, note FROM documents WHERE id = ?", [did]).fetchone()
    if not body or not body.strip():
        raise InvalidInput(f"document {did} has no text to summarise" + (f" ({note})" if note else ""),
                           hint="only documents with extracted text can be summarised")
    fallback_note = None
    if method in ("auto", "model"):
        from herotui.config import ModelError

        try:
            model = _summary.model_summarizer(ctx)
            out = model(title, body, sentences) if model is not None else None
        except ModelError as exc:
            if method == "model":
                raise
            model, out = None, None  # auto: say why, and summarise without the model
            fallback_note = f"the model failed ({exc.message}); extractive instead"
        if out:
            return Summary(id=did, title=title, method="model", text=out if out.endswith("\n") else out + "\n")
        if method == "model":
            raise HeroError(f"no model is configured for context '{ctx.name}'",
                            hint="use --method extractive (the default without a model), or configure a model for the context")
    result = _summary.extractive(body, sentences)
    parts = [SummaryPart(title=p.title, sentences=p.sentences) for p in result.parts]
    note_out = "; ".join(filter(None, [fallback_note, result.note]))
    if not result.sentences:
        note_out = "; ".join(filter(None, [note_out, "the text has no complete sentences to pick"]))
    return Summary(id=did, title=title, method="extractive", sentences=result.sentences, parts=parts,
                   note=note_out or None, text=_summary_text(title, "extractive", result.sentences, parts, note_out))
