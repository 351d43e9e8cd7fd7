"""Knowledge: books of Markdown pages, split into passages by heading; answers with citations.

Decisions (the front-ends, the planner and the tests rely on them):

* A *book* is a folder of Markdown pages (``*.md``, ``*.markdown``, recursive; hidden files
  and folders are skipped). Its pages are stored in ``knowledge_pages`` and split into
  passages (``knowledge_passages``), which the search index holds as kind ``knowledge``
  (title = heading path, body = passage text, tag = book name).
* The built-in book ``hero`` is the shipped top-level ``knowledge/`` folder. Every knowledge
  verb first calls :func:`ensure_builtin`, which loads it into the context on first use and
  refreshes the pages whose SHA-256 changed (a new Hero version). When nothing changed it
  costs one read of the page hashes (and nothing at all on later calls in the same process).
  ``hero`` is reserved: users cannot add, replace or delete it.
* Adding a book again replaces it: changed pages are re-split, pages no longer in the folder
  are removed, unchanged pages are left alone; removed passages leave tombstones, so the
  index drops them. A page that is not UTF-8, empty or too large is reported and skipped.
* Splitting (markdown-it, so ``#`` inside fenced code is not a heading): ATX and setext
  headings of levels 1-4 start a passage; the heading path is "Page title › Section ›
  Subsection" (the page title is the first level-1 heading, else the file name). A section
  longer than ~1,500 characters is split between Markdown blocks (paragraphs, lists, code
  blocks, tables), never inside one, so code blocks stay whole.
* ``ask`` retrieves passages: the question's content words (stop words dropped, simple
  suffix variants added, since the index does not stem) are searched with BM25 (headings
  boosted), then the candidates are re-ranked by how many of the question's words they
  contain (heading matches count double). It returns the best passages with their
  citations ``[book: page › section]``; :data:`answerer` is the seam where a configured
  model will write a synthesised answer from those passages (the planner fills it).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Callable

from pydantic import BaseModel

from herotui import config, model, paths
from herotui.errors import Ambiguous, InvalidInput, NotFound
from herotui.paths import check_root
from herotui.registry import P, verb
from herotui.services.common import aware, new_id, read_regular_file, utcnow
from herotui.store import index

SERVICE = "knowledge"
BUILTIN = "hero"
SEP = " › "
MAX_PASSAGE = 1500  # characters: longer sections are split between blocks
MAX_PAGE_BYTES = 2_000_000
MAX_HEADING_LEVEL = 4
SUFFIXES = (".md", ".markdown")
BOOK_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

Book = Annotated[str, P("Book name (lowercase letters, digits, '-' or '_')")]
BookFilter = Annotated[str | None, P("Only this book")]


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------


class PageProblem(BaseModel):
    """A page that was skipped, and why."""

    page: str
    message: str


class AddReport(BaseModel):
    """What adding (or re-adding) a book did."""

    book: str
    path: str
    pages: int  # pages in the book now
    passages: int  # passages in the book now
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[PageProblem] = []


class BookInfo(BaseModel):
    """A book: how many pages and passages it holds."""

    book: str
    pages: int
    passages: int
    builtin: bool = False
    updated: datetime

    __columns__ = ("book", "pages", "passages", "builtin", "updated")


class PageInfo(BaseModel):
    """A page of a book."""

    book: str
    path: str
    title: str
    passages: int
    updated: datetime

    __columns__ = ("book", "path", "title", "passages")


class Page(BaseModel):
    """A whole page: its Markdown text (printed as is by the CLI)."""

    book: str
    path: str
    title: str
    text: str
    passages: int
    sha256: str
    updated: datetime

    __text__ = "text"


class PassageHit(BaseModel):
    """A passage that matches a search, with its citation (``[[...]]`` marks the hits)."""

    book: str
    page: str
    heading: str
    citation: str
    snippet: str
    score: float

    __columns__ = ("citation", "snippet", "score")


class Passage(BaseModel):
    """A passage cited by an answer: where it is (book, page, heading) and its text."""

    book: str
    page: str
    heading: str
    text: str
    score: float
    citation: str


class Answer(BaseModel):
    """The answer to a question: the best passages with citations, and (with a model
    configured) a synthesised answer; ``method`` says which."""

    question: str
    passages: list[Passage] = []
    answer: str | None = None
    method: str = "passages"


class DeletedBook(BaseModel):
    """What deleting a book removed."""

    book: str
    pages: int
    passages: int


# ---------------------------------------------------------------------------------------
# Splitting pages into passages
# ---------------------------------------------------------------------------------------


@dataclass
class Section:
    heading: str  # "Page title › Section › Subsection"
    text: str


@dataclass
class Parsed:
    title: str
    passages: list[Section] = field(default_factory=list)


def _markdown():
    from markdown_it import MarkdownIt  # ~50 ms; comes with rich. Only parsing pays for it.

    return MarkdownIt("commonmark").enable("table")


def _plain(inline) -> str:
    """The plain text of an inline token (a heading): code spans and emphasis flattened."""
    out = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    text = "".join(out) if inline.children else inline.content
    return " ".join(text.split())


def title_from_path(path: str) -> str:
    """``services/getting-started.md`` -> ``Getting started`` (pages without a level-1 heading)."""
    stem = Path(path).stem
    words = re.sub(r"[-_]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else path


_COMMENT = re.compile(r"<!--.*?-->", re.S)


def split_page(text: str, path: str = "page.md", max_chars: int = MAX_PASSAGE) -> Parsed:
    """Split a Markdown page into passages by heading (levels 1-4), long sections by block.

    ``#`` lines inside fenced code are not headings (markdown-it knows); blocks (paragraph,
    list, code, table, quote) are never cut, so a passage may exceed ``max_chars`` when one
    block does.
    """
    tokens = _markdown().parse(text)
    lines = text.splitlines()
    blocks: list[tuple[str, int, int, int, str]] = []  # (kind, start, end, level, heading)
    for i, tok in enumerate(tokens):
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            continue
        start, end = tok.map
        if tok.type == "heading_open" and int(tok.tag[1]) <= MAX_HEADING_LEVEL:
            blocks.append(("heading", start, end, int(tok.tag[1]), _plain(tokens[i + 1])))
        else:
            blocks.append(("block", start, end, 0, ""))

    title = next((b[4] for b in blocks if b[0] == "heading" and b[3] == 1 and b[4]), None) or title_from_path(path)
    parsed = Parsed(title)
    stack: list[tuple[int, str]] = []
    body: list[tuple[int, int]] = []
    title_seen = False

    def flush() -> None:
        if not body:
            return
        heading = SEP.join([title] + [t for _, t in stack])
        chunk: list[tuple[int, int]] = []
        size = 0
        for start, end in body:
            n = sum(len(line) + 1 for line in lines[start:end])
            if chunk and size + n > max_chars:
                _emit(parsed, heading, lines, chunk)
                chunk, size = [], 0
            chunk.append((start, end))
            size += n
        _emit(parsed, heading, lines, chunk)
        body.clear()

    for kind, start, end, level, heading in blocks:
        if kind == "heading":
            flush()
            if level == 1 and heading == title and not title_seen:
                title_seen = True
                stack = []
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading or "…"))
        else:
            body.append((start, end))
    flush()
    return parsed


def _emit(parsed: Parsed, heading: str, lines: list[str], chunk: list[tuple[int, int]]) -> None:
    if not chunk:
        return
    text = "\n".join(lines[chunk[0][0] : chunk[-1][1]]).strip()
    if not _COMMENT.sub("", text).strip():
        return  # nothing but comments (e.g. a "generated, do not edit" marker)
    parsed.passages.append(Section(heading, text))


# ---------------------------------------------------------------------------------------
# Reading a folder, storing a book
# ---------------------------------------------------------------------------------------


@dataclass
class SourcePage:
    path: str  # relative, with '/' separators
    data: bytes
    sha256: str


def _check_book(book: str) -> str:
    name = (book or "").strip()
    if not BOOK_RE.match(name):
        raise InvalidInput(
            f"invalid book name '{book}'",
            hint="use 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    return name


def _scan(folder: Path) -> list[SourcePage]:
    """Every Markdown page under ``folder`` (hidden files and folders skipped), sorted."""
    found: list[SourcePage] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            full = Path(root) / name
            rel = full.relative_to(folder).as_posix()
            try:  # a regular file only (a FIFO named x.md would block), read up to the limit
                _, data = read_regular_file(str(full), MAX_PAGE_BYTES)
            except InvalidInput as exc:
                found.append(SourcePage(rel, b"", "unreadable:" + exc.message.split(": ", 1)[-1]))
                continue
            found.append(SourcePage(rel, data, hashlib.sha256(data).hexdigest()))
    return found


def _decode(page: SourcePage) -> str:
    """The page's text, or ``ValueError`` with the reason it is skipped."""
    if page.sha256.startswith("unreadable:"):
        raise ValueError("cannot read it: " + page.sha256.split(":", 1)[1])
    if len(page.data) > MAX_PAGE_BYTES:
        raise ValueError(f"too large ({len(page.data) // 1000} kB; the limit is {MAX_PAGE_BYTES // 1000} kB)")
    try:
        text = page.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); convert it with 'iconv -t UTF-8'") from None
    if not text.strip():
        raise ValueError("empty")
    return text


@dataclass
class StoreCounts:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[PageProblem] = field(default_factory=list)


def _store_book(tx, book: str, pages: list[SourcePage]) -> StoreCounts:
    """Make ``book`` hold exactly ``pages``: re-split changed pages, drop missing ones.

    Pages that cannot be decoded are skipped (reported) and, if an older version of them
    was stored, that version stays: a broken save does not erase a good page.
    """
    counts = StoreCounts()
    existing = {path: (pid, sha) for pid, path, sha in
                tx.execute("SELECT id, path, sha256 FROM knowledge_pages WHERE book = ?", [book]).fetchall()}
    now = utcnow()
    keep: set[str] = set()
    passage_rows: list[list] = []
    for page in pages:
        keep.add(page.path)
        old = existing.get(page.path)
        if old and old[1] == page.sha256:
            counts.unchanged += 1
            continue
        try:
            text = _decode(page)
        except ValueError as exc:
            counts.skipped.append(PageProblem(page=page.path, message=str(exc)))
            continue
        parsed = split_page(text, page.path)
        if old:
            pid = old[0]
            _drop_passages(tx, "page_id = ?", [pid])
            tx.execute("UPDATE knowledge_pages SET title = ?, text = ?, sha256 = ?, updated = ?, revision = ? WHERE id = ?",
                       [parsed.title, text, page.sha256, now, tx.revision, pid])
            counts.updated += 1
        else:
            pid = new_id()
            tx.execute("INSERT INTO knowledge_pages (id, book, path, title, text, sha256, created, updated, revision) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [pid, book, page.path, parsed.title, text, page.sha256, now, now, tx.revision])
            counts.added += 1
        for seq, section in enumerate(parsed.passages):
            passage_rows.append([new_id(), pid, book, seq, section.heading, section.text, now, tx.revision])
    gone = [pid for path, (pid, _sha) in existing.items() if path not in keep]
    if gone:
        _drop_passages(tx, "list_contains(?, page_id)", [gone])
        tx.execute("DELETE FROM knowledge_pages WHERE list_contains(?, id)", [gone])
        counts.removed = len(gone)
    if passage_rows:
        cols = [list(c) for c in zip(*passage_rows)]
        tx.execute("INSERT INTO knowledge_passages (id, page_id, book, seq, heading, text, updated, revision) "
                   "SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)", cols)
    return counts


def _drop_passages(tx, where: str, params: list) -> int:
    """Delete passages, leaving tombstones so the index drops them too."""
    n = tx.execute(f"INSERT INTO tombstones SELECT 'knowledge', id, ? FROM knowledge_passages WHERE {where}",
                   [tx.revision, *params]).fetchone()[0]
    tx.execute(f"DELETE FROM knowledge_passages WHERE {where}", params)
    return n


def _book_counts(conn, book: str) -> tuple[int, int]:
    return conn.execute("SELECT (SELECT count(*) FROM knowledge_pages WHERE book = ?), "
                        "(SELECT count(*) FROM knowledge_passages WHERE book = ?)", [book, book]).fetchone()


# ---------------------------------------------------------------------------------------
# The built-in book
# ---------------------------------------------------------------------------------------

_UP_TO_DATE: set[tuple] = set()  # (database file identity, digest of the shipped pages) seen current


def builtin_source() -> Path:
    """The shipped ``knowledge/`` folder (in a checkout, or inside the wheel)."""
    return paths.resource("knowledge")


def ensure_builtin(ctx, source: Path | None = None) -> bool:
    """Load or refresh the built-in book ``hero`` in ``ctx``; True when something changed.

    Cheap when up to date: the shipped pages are hashed (a few kB) and compared with the
    hashes stored per page (one read-only query); later calls in the same process skip even
    that. Safe against concurrent callers: the comparison is repeated inside the write.
    """
    folder = Path(source) if source is not None else builtin_source()
    pages = _scan(folder) if folder.is_dir() else []
    wanted = {p.path: p.sha256 for p in pages}
    digest = hashlib.sha256(repr(sorted(wanted.items())).encode()).hexdigest()
    try:
        st = ctx.db_path.stat()
        key: tuple | None = (str(ctx.db_path), st.st_dev, st.st_ino, digest)
    except OSError:
        key = None
    if key in _UP_TO_DATE:
        return False
    with ctx.read() as conn:
        stored = dict(conn.execute("SELECT path, sha256 FROM knowledge_pages WHERE book = ?", [BUILTIN]).fetchall())
    changed = stored != wanted
    if changed:
        with ctx.write() as tx:
            _store_book(tx, BUILTIN, pages)
    try:
        st = ctx.db_path.stat()
        _UP_TO_DATE.add((str(ctx.db_path), st.st_dev, st.st_ino, digest))
    except OSError:
        pass
    return changed


# ---------------------------------------------------------------------------------------
# Verbs
# ---------------------------------------------------------------------------------------


@verb(mutates=True, examples=["hero knowledge add ~/notes/handbook --book handbook"])
def add(
    ctx,
    path: Annotated[str, P("A folder of Markdown pages (*.md, searched recursively)", positional=True)],
    book: Annotated[str, P("Name of the book to create or replace")],
) -> AddReport:
    """Add a folder of Markdown pages as a book (adding it again replaces the book).

    Pages are split into passages by heading for search and 'knowledge ask'. Pages that are
    not UTF-8, empty or larger than 2 MB are reported and skipped. The built-in book 'hero'
    cannot be replaced.
    """
    name = _check_book(book)
    if name == BUILTIN:
        raise InvalidInput(f"'{BUILTIN}' is the built-in book (Hero's own documentation) and cannot be replaced",
                           hint="choose another name, e.g. --book notes")
    folder = Path(path).expanduser()
    check_root(folder)  # a served client: only the folders it may use (pages are checked again)
    if not folder.exists():
        raise NotFound(f"no such folder: {path}", hint="give the folder that holds your .md pages")
    if not folder.is_dir():
        raise InvalidInput(f"{path} is not a folder", hint="give the folder that holds your .md pages")
    pages = _scan(folder)
    if not pages:
        raise InvalidInput(f"no Markdown pages (*.md) in {path}", hint="a book is a folder of .md files (subfolders included)")
    ensure_builtin(ctx)
    with ctx.write() as tx:
        counts = _store_book(tx, name, pages)
        n_pages, n_passages = _book_counts(tx.conn, name)
        if n_pages == 0:
            first = counts.skipped[0] if counts.skipped else None
            reason = f": {first.page}: {first.message}" if first else ""
            raise InvalidInput(f"no page of {path} could be read{reason}", hint="pages must be UTF-8 Markdown text")
    return AddReport(book=name, path=str(folder.resolve()), pages=n_pages, passages=n_passages,
                     added=counts.added, updated=counts.updated, removed=counts.removed,
                     unchanged=counts.unchanged, skipped=counts.skipped)


@verb(name="knowledge.list", examples=["hero knowledge list", "hero knowledge list --book hero"])
def list_(ctx, book: Annotated[str | None, P("List this book's pages instead of the books")] = None) -> list[BookInfo] | list[PageInfo]:
    """List the books (with page counts), or with --book the pages of one book."""
    ensure_builtin(ctx)
    with ctx.read() as conn:
        if book is None:
            rows = conn.execute(
                "SELECT p.book, count(*), (SELECT count(*) FROM knowledge_passages s WHERE s.book = p.book), max(p.updated) "
                "FROM knowledge_pages p GROUP BY p.book ORDER BY p.book <> ?, p.book", [BUILTIN]).fetchall()
            return [BookInfo(book=b, pages=n, passages=s, builtin=b == BUILTIN, updated=aware(u)) for b, n, s, u in rows]
        name = _check_book(book)
        rows = conn.execute(
            "SELECT p.book, p.path, p.title, (SELECT count(*) FROM knowledge_passages s WHERE s.page_id = p.id), p.updated "
            "FROM knowledge_pages p WHERE p.book = ? ORDER BY p.path", [name]).fetchall()
        if not rows:
            raise NotFound(f"no book '{name}' in this context", hint="'hero knowledge list' shows the books")
    return [PageInfo(book=b, path=p, title=t, passages=n, updated=aware(u)) for b, p, t, n, u in rows]


def _strip_md(value: str) -> str:
    low = value.lower()
    for suffix in SUFFIXES:
        if low.endswith(suffix):
            return value[: -len(suffix)]
    return value


def _find_page(conn, ref: str, book: str | None) -> tuple[str, str]:
    """(book, path) for ``book/path``, a path, a title or a unique part of one."""
    ref = ref.strip()
    if not ref:
        raise InvalidInput("no page given", hint="e.g. 'hero knowledge show hero/contexts.md' or 'hero knowledge show contexts'")
    sql = "SELECT book, path, title FROM knowledge_pages"
    params: list = []
    if book:
        sql += " WHERE book = ?"
        params.append(_check_book(book))
    rows = conn.execute(sql + " ORDER BY book <> 'hero', book, path", params).fetchall()
    key = _strip_md(ref).lower().strip("/")

    def full(r) -> str:
        return f"{r[0]}/{_strip_md(r[1])}".lower()

    tiers = [
        lambda r: full(r) == key,
        lambda r: _strip_md(r[1]).lower() == key or r[2].lower() == ref.lower(),
        lambda r: Path(_strip_md(r[1])).name.lower() == key,
        lambda r: key in full(r) or ref.lower() in r[2].lower(),
    ]
    for test in tiers:
        found = [r for r in rows if test(r)]
        if len(found) == 1:
            return found[0][0], found[0][1]
        if len(found) > 1:
            shown = ", ".join(f"{b}/{p}" for b, p, _t in found[:6]) + (" ..." if len(found) > 6 else "")
            raise Ambiguous(f"'{ref}' matches several pages: {shown}", hint="give book/path, e.g. hero/" + found[0][1])
    where = f" in book '{book}'" if book else ""
    raise NotFound(f"no page '{ref}'{where}", hint="'hero knowledge list --book hero' lists the pages")


@verb(examples=["hero knowledge show hero/contexts.md", "hero knowledge show search", "hero knowledge show 'Getting started'"])
def show(
    ctx,
    page: Annotated[str, P("book/path, a page path or title, or a unique part of one", positional=True)],
    book: BookFilter = None,
) -> Page:
    """Show a page (its Markdown text)."""
    ensure_builtin(ctx)
    with ctx.read() as conn:
        b, p = _find_page(conn, page, book)
        row = conn.execute(
            "SELECT book, path, title, text, sha256, updated, (SELECT count(*) FROM knowledge_passages s WHERE s.page_id = k.id) "
            "FROM knowledge_pages k WHERE book = ? AND path = ?", [b, p]).fetchone()
    b, p, title, text, sha, updated, n = row
    return Page(book=b, path=p, title=title, text=text if text.endswith("\n") else text + "\n",
                passages=n, sha256=sha, updated=aware(updated))


def citation(book: str, page: str, heading: str) -> str:
    """``[hero: contexts.md › Switching]``: the page's path, then the heading below its title."""
    parts = heading.split(SEP)[1:]
    return f"[{book}: {SEP.join([page, *parts])}]"


def _passages(conn, ids: list[str]) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT s.id, s.book, p.path, s.heading, s.text FROM knowledge_passages s JOIN knowledge_pages p ON p.id = s.page_id "
        "WHERE list_contains(?, s.id)", [ids]).fetchall()
    return {r[0]: r[1:] for r in rows}


@verb(examples=['hero knowledge search "recurring events"', "hero knowledge search vcard --book hero"])
def search(
    ctx,
    query: Annotated[str, P("Words to look for (search syntax: \"phrase\", -word, title:word)", positional=True)],
    book: BookFilter = None,
    limit: Annotated[int, P("At most this many passages", minimum=1)] = 10,
) -> list[PassageHit]:
    """Search the passages of every book (or one), best first, with citations."""
    if not query.strip():
        raise InvalidInput("nothing to search for", hint='e.g. hero knowledge search "switch context"')
    tags = [_check_book(book)] if book else None
    ensure_builtin(ctx)
    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["knowledge"], tags=tags, limit=limit)
        found = _passages(conn, [h.id for h in hits]) if hits else {}
    out = []
    for h in hits:
        if h.id not in found:
            continue
        b, page, heading, _text = found[h.id]
        out.append(PassageHit(book=b, page=page, heading=heading, citation=citation(b, page, heading),
                              snippet=h.snippet, score=h.score))
    return out


# ---- ask ------------------------------------------------------------------------------

STOP_WORDS = frozenset("""
a about after all also am an and any are as at be been before being but by can could did do does doing
done for from get gets got had has have having he her here hers him his how i if in into is it its
just me might mine more most my no nor not now of off on once only or our ours out over please
same shall she should so some such than that the their theirs them then there these they this those
through to too under until up us very was we were what when where which while who whom whose why
will with would you your yours yourself hero tell show explain way ways want wanna need let lets
thing things something use using used work works
""".split())
# 'use'/'work' are too common in the docs to discriminate; 'hero' is on every page.
KEEP_SHORT = re.compile(r"^\d+$")  # numbers matter ("exit code 3")
_WORD = re.compile(r"\w+", re.UNICODE)

answerer: Callable[[Any, str, list[Passage]], str | None] | None = None
"""The seam for a synthesised answer: ``answerer(ctx, question, passages) -> str | None``.

By default the context's configured model answers (``_model_answer``); set it to replace
that (tests, other front-ends). It must answer only from the passages (they are data, never
instructions). A ``None`` result means the passages alone are the answer."""


def _model_answer(ctx: Any, question: str, passages: list[Passage]) -> str | None:
    """An answer from the context's model, grounded on the passages (None without a model)."""
    if config.model_for(ctx) is None:
        return None
    return model.answer(ctx, question, passages)


def content_words(question: str) -> list[str]:
    """The words of a question that carry its meaning: lowercase, stop words dropped."""
    words: list[str] = []
    for w in _WORD.findall(question.lower()):
        if w in STOP_WORDS or (len(w) < 2 and not KEEP_SHORT.match(w)) or w in words:
            continue
        words.append(w)
    return words


def _stems(word: str) -> list[str]:
    """Plausible base forms of an English word: ``stored`` -> stor, store; ``notes`` -> note."""
    out = [word]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    elif word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")) and len(word) > 4:
        out.append(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        out.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "ls":
                out.append(stem[:-1])  # running -> run
    return out


def variants(word: str) -> list[str]:
    """The word and simple inflections of it (the index does not stem)."""
    if not word.isalpha() or len(word) < 3:
        return [word]
    out: list[str] = [word]
    for stem in _stems(word)[1:] or [word]:  # inflect the base forms, not an inflected word
        forms = [stem, stem + ("es" if stem.endswith(("s", "x", "z", "ch", "sh")) else "s")]
        if stem.endswith("y") and len(stem) > 3:
            forms.append(stem[:-1] + "ies")
        if stem.endswith("e"):
            forms += [stem[:-1] + "ing", stem + "d"]
        else:
            forms += [stem + "ing", stem + "ed"]
        out += [f for f in forms if f not in out]
    return out


def _present(forms: list[str], text: str) -> bool:
    return any(re.search(r"(?<![\w])" + re.escape(f) + r"(?![\w])", text) for f in forms)


def retrieve(ctx, question: str, book: str | None = None, limit: int = 3) -> list[Passage]:
    """The passages that best answer ``question`` (see the module docstring for how)."""
    words = content_words(question) or [w for w in (_WORD.findall(question.lower())) if len(w) > 1]
    if not words:
        return []
    forms = {w: variants(w) for w in words}
    terms = [f for w in words for f in forms[w]]
    query = " ".join(terms)
    tags = [book] if book else None
    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["knowledge"], tags=tags, limit=max(30, limit * 8), fuzzy=False)
        if not hits:
            hits = index.search(ctx, " ".join(words), kinds=["knowledge"], tags=tags, limit=max(30, limit * 8), fuzzy=True)
        found = _passages(conn, [h.id for h in hits]) if hits else {}
    if not hits:
        return []
    top = max(h.score for h in hits) or 1.0
    ranked = []
    for h in hits:
        if h.id not in found:
            continue
        b, page, heading, text = found[h.id]
        head = heading.lower()
        section = SEP.join(heading.split(SEP)[1:]).lower()
        body = text.lower()
        in_body = sum(1 for w in words if _present(forms[w], body))
        in_head = sum(1 for w in words if _present(forms[w], head))
        in_section = sum(1 for w in words if _present(forms[w], section))
        anywhere = sum(1 for w in words if _present(forms[w], head + "\n" + body))
        coverage = anywhere / len(words)
        score = (h.score / top) + 1.5 * coverage + 0.35 * in_section / len(words) + 0.15 * in_head / len(words) \
            + 0.1 * in_body / len(words)
        ranked.append((score, b, page, heading, text))
    ranked.sort(key=lambda r: -r[0])
    return [Passage(book=b, page=page, heading=heading, text=text, score=round(score, 4),
                    citation=citation(b, page, heading)) for score, b, page, heading, text in ranked[:limit]]


@verb(examples=['hero knowledge ask "how do I switch context"', 'hero knowledge ask "how do I import a vcard" --limit 1'])
def ask(
    ctx,
    question: Annotated[str, P("A question in plain words", positional=True)],
    book: BookFilter = None,
    limit: Annotated[int, P("How many passages to cite", minimum=1)] = 3,
) -> Answer:
    """Answer a question from the knowledge base: the best passages, each with its citation.

    Citations read [book: page › section]. With a model configured for the context, a
    synthesised answer grounded in those passages comes first.
    """
    if not question.strip():
        raise InvalidInput("no question given", hint='e.g. hero knowledge ask "how do I switch context"')
    name = _check_book(book) if book else None
    ensure_builtin(ctx)
    passages = retrieve(ctx, question, name, limit)
    text = None
    method = "passages"
    synthesise = answerer or _model_answer
    if passages:
        text = synthesise(ctx, question, passages)
        if text:
            method = "model"
    return Answer(question=question, passages=passages, answer=text, method=method)


@verb(destructive=True, examples=["hero knowledge delete --book handbook --yes"])
def delete(ctx, book: Annotated[str, P("The book to delete")]) -> DeletedBook:
    """Delete a book you added, with all its pages (the built-in book 'hero' stays)."""
    name = _check_book(book)
    if name == BUILTIN:
        raise InvalidInput(f"'{BUILTIN}' is the built-in book and cannot be deleted",
                           hint="it is Hero's own documentation; it is refreshed automatically")
    ensure_builtin(ctx)
    with ctx.write() as tx:
        pages, passages = _book_counts(tx.conn, name)
        if not pages:
            raise NotFound(f"no book '{name}' in this context", hint="'hero knowledge list' shows the books")
        _drop_passages(tx, "book = ?", [name])
        tx.execute("DELETE FROM knowledge_pages WHERE book = ?", [name])
    return DeletedBook(book=name, pages=pages, passages=passages)
