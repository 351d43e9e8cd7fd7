"""``document add``: files, folders (walked, in batches) and standard input."""

from __future__ import annotations

import os
import stat as statmod
import sys
from pathlib import Path
from typing import Annotated

from herotui.errors import HeroError, InvalidInput, NotFound
from herotui.registry import P, verb
from herotui.registry import PROGRESS
from herotui.services import _extract
from herotui.services.common import aware, clean_tags, new_id, utcnow
from herotui.services.document.files import (
    BROKEN_LINK, MISSING, check_file_root, count_files, hash_file, megabytes, open_regular, os_reason, readable_name,
    TooLarge, max_bytes, safe_filename,
)
from herotui.services.document.lookup import resolve_links
from herotui.services.document.models import AddReport, Document, Duplicate, Skipped
from herotui.store import blobs

SERVICE = "document"


BATCH_FILES = 500
BATCH_TEXT_BYTES = 32 << 20


class Adder:
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
            check_file_root(path)  # a served client: nothing outside its folders is even listed
        except OSError as exc:
            self.skip(raw, os_reason(exc))
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
                check_file_root(folder)  # a link inside an allowed folder may point out of it
                key = (st.st_dev, st.st_ino)
                if key in visited:
                    self.skip(folder, "symlink loop (this folder was already walked)")
                    continue
                visited.add(key)
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                self.skip(folder, os_reason(exc))
                continue
            subfolders = []
            for e in entries:
                if e.name.startswith(".") and not self.hidden:
                    self.report.hidden += 1
                    continue
                try:
                    est = os.stat(e.path)  # follows links: a loop raises ELOOP
                except OSError as exc:
                    self.skip(e.path, os_reason(exc))
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
            self.skip(path, f"too large: {megabytes(size)} is over the {megabytes(self.limit)} limit "
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
                hashed.append((path, hash_file(path, self.limit)))
            except TooLarge:
                self.skip(path, f"too large: it grew over the {megabytes(self.limit)} limit while being read")
            except OSError as exc:
                self.skip(path, os_reason(exc))
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
                with open_regular(path) as fh:
                    data = fh.read(self.limit + 1)
            except OSError as exc:
                self.skip(path, os_reason(exc))
                continue
            row = self.prepare(path, data, source=readable_name(path), filename=readable_name(os.path.basename(path)))
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
        if len(data) > self.limit:
            self.skip(path, f"too large: over the {megabytes(self.limit)} limit (raise it with --max-mb or HERO_MAX_DOCUMENT_MB)")
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
        try:
            if r["data"] is not None:
                data = r["data"]
            else:
                with open_regular(r["path"]) as fh:
                    data = fh.read(self.limit + 1)
        except OSError as exc:
            self.report.skipped.append(Skipped(path=r["path"], reason=os_reason(exc)))
            return False
        if blobs.sha256_of(data) != r["sha256"]:
            self.report.skipped.append(Skipped(path=r["path"], reason="the file changed while it was being added: add it again"))
            return False
        blobs.put(self.ctx, data)
        return True


class NoProgress:
    def advance(self, n: int = 1) -> None:
        pass


class ProgressReport:
    """Counts the files an add has handled and tells the caller's reporter (``registry.PROGRESS``)."""

    WHAT = "adding documents"

    def __init__(self, report, total: int) -> None:
        self.report, self.total, self.done = report, total, 0
        report(self.WHAT, 0, total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.report(self.WHAT, self.done, self.total)


def progress_for(paths: list[str], hidden: bool) -> ProgressReport | NoProgress:
    """Progress reported to the front-end that asked for it (``registry.PROGRESS``; the CLI
    on a terminal), when folders are added: their files are counted first (a cheap walk)."""
    report = PROGRESS.get()
    if report is None or not any(p != "-" and os.path.isdir(os.path.expanduser(p)) for p in paths):
        return NoProgress()
    return ProgressReport(report, count_files(paths, hidden))


def stdin_bytes(limit: int) -> bytes:
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
            cids, eids = resolve_links(conn, contacts, events)
    adder = Adder(ctx, limit, tags, cids, eids, title, hidden, progress_for(paths, hidden))
    for raw in paths:
        if raw == "-":
            data = stdin_bytes(limit)
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
