"""Slides: Markdown decks, shown slide by slide.

A deck is a Markdown file with lines of exactly ``---`` between slides (a ``---`` inside a
fenced code block is code, not a separator). It may start with YAML front matter::

    ---
    title: Quarterly review
    tags: [alex, finance]
    ---
    # First slide

Decisions (the file is the source of truth, so these rules are what a user can rely on):

- Separators are lines that are exactly ``---`` (trailing blanks allowed) outside fenced
  code blocks (````` ``` ````` or ``~~~``). A setext heading underlined with ``---`` therefore
  splits the slide: write ``## Heading`` instead. ``***`` and ``___`` stay horizontal rules.
- Slides that are empty (only blank lines) are dropped: ``---`` at the very end or twice in a
  row does not make blank slides.
- Front matter is the leading ``---`` block when it parses as a YAML mapping; a leading block
  that is not a mapping (a slide after a leading ``---``) is a slide. Front matter that looks
  like ``key: value`` but is not valid YAML is an error, never silently shown as a slide.
- Deck title: ``--title``, else front matter ``title``, else the first heading, else the file
  stem. Slide title: its first heading, else its first line of text.
- Tags: front matter ``tags`` (a list, or a comma-separated string) plus ``--tag``.
- A deck is stored as a blob (the original bytes) and a ``documents`` row with kind
  ``deck``: ``pages`` is the slide count, ``text`` the whole Markdown (front matter
  included), so the search index finds decks by title, tags and content.
- The same file twice (same SHA-256 as an existing deck) is reported, not added twice.
- ``show`` prints the Markdown source of one slide or of all (pipe it anywhere; ``--json``
  for structure); ``present`` returns a :class:`Presentation`, which a front-end shows
  interactively (``herotui.frontends.present``) and which prints as rendered slides when it
  cannot be interactive. This module does no terminal I/O.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel

from herotui.errors import InvalidInput, NotFound
from herotui.registry import P, verb
from herotui.services.common import aware, clean_tags, new_id, resolve_id, shown, utcnow
from herotui.services.common import read_regular_file
from herotui.services.document import resolve_links
from herotui.store import blobs, index

SERVICE = "slides"
KIND = "deck"
MIME = "text/markdown"
MAX_BYTES = 10_000_000  # a deck is text; anything larger is almost surely the wrong file
COLUMNS = "id, title, tags, filename, size, pages, sha256, source, contacts, created, updated"

Id = Annotated[str, P("Deck id, or a unique prefix of it", positional=True)]

# --- parsing ---------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_KEY_LINE = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def _is_separator(line: str) -> bool:
    return line.rstrip() == "---"


def _code_flags(lines: list[str]):
    """(line, in_code) for each line: in_code is True for fenced code blocks, fences included.

    A fence is ``` or ~~~ (three or more, up to three spaces of indent); it is closed by a
    fence of the same character at least as long with nothing after it. A ``` line whose
    info string contains a backtick is not a fence (CommonMark).
    """
    fence: str | None = None  # the opening fence while inside a block
    for line in lines:
        m = _FENCE.match(line)
        if fence is None:
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                fence = m.group(1)
                yield line, True
            else:
                yield line, False
        else:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                fence = None
            yield line, True


def _split(lines: list[str]) -> list[list[str]]:
    """Split lines into chunks at ``---`` lines that are not inside a fenced code block."""
    chunks: list[list[str]] = [[]]
    for line, in_code in _code_flags(lines):
        if not in_code and _is_separator(line):
            chunks.append([])
        else:
            chunks[-1].append(line)
    return chunks


def _outside_code(lines: list[str]):
    """The lines that are not part of a fenced code block."""
    return (line for line, in_code in _code_flags(lines) if not in_code)


def _headings(lines: list[str]):
    """ATX headings outside fenced code: (level, text)."""
    for line in _outside_code(lines):
        h = _HEADING.match(line)
        if h:
            yield len(h.group(1)), h.group(2).strip()


def _plain(text: str, limit: int = 80) -> str:
    """A line of Markdown as short plain text (for titles)."""
    t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    t = re.sub(r"^\s*(?:[-*+]|\d+[.)]|>)\s+", "", t)  # list markers, quotes
    t = re.sub(r"[*_`~]+", "", t).strip()
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


def slide_title(markdown: str) -> str:
    """The slide's first heading, else its first line of text ('' for none)."""
    lines = markdown.splitlines()
    for _level, text in _headings(lines):
        return _plain(text)
    for line in _outside_code(lines):
        if line.strip() and not set(line.strip()) <= set("|-: "):
            return _plain(line)
    return ""


class ParsedDeck(BaseModel):
    """A deck's text taken apart: front matter, slides (Markdown), the title it implies."""

    meta: dict[str, Any] = {}
    slides: list[str]
    title: str | None = None  # front matter title, else the first heading (None: neither)
    tags: list[str] = []


def _front_matter(block: list[str]) -> dict | None:
    """The mapping in a leading ``---`` block, or None when the block is a slide."""
    import yaml  # ~20 ms, only for decks with a leading '---' block

    text = "\n".join(block)
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        first = next((ln for ln in block if ln.strip() and not ln.lstrip().startswith("#")), "")
        if _KEY_LINE.match(first):
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            raise InvalidInput(
                f"the front matter is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}",
                hint="front matter is 'key: value' lines between two '---' lines; quote values that contain ':'",
            ) from None
        return None
    return data if isinstance(data, dict) else None


def _meta_tags(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return ["-".join(str(t).split()) for t in items if str(t).strip()]  # "quarterly report" -> "quarterly-report"


def parse(text: str) -> ParsedDeck:
    """Take a deck apart: front matter (YAML), slides split at ``---`` lines outside code."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    first_content = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first_content is not None and _is_separator(lines[first_content]):
        end = next((j for j in range(first_content + 1, len(lines)) if _is_separator(lines[j]) or lines[j].rstrip() == "..."), None)
        if end is not None:
            found = _front_matter(lines[first_content + 1 : end])
            if found is not None:
                meta = found
                lines = lines[end + 1 :]
    slides = ["\n".join(chunk).strip("\n") for chunk in _split(lines)]
    slides = [s.rstrip() for s in slides if s.strip()]
    title = meta.get("title")
    title = str(title).strip() if title is not None and str(title).strip() else None
    if title is None:
        title = next((_plain(t, 200) for s in slides for _lvl, t in _headings(s.splitlines())), None)
    return ParsedDeck(meta=meta, slides=slides, title=title, tags=_meta_tags(meta.get("tags")))


# --- models ----------------------------------------------------------------------------------


class Slide(BaseModel):
    """One slide: its position (from 1), title and Markdown."""

    index: int
    title: str
    markdown: str


class Deck(BaseModel):
    """A stored deck."""

    id: str
    title: str
    slides: int
    tags: list[str] = []
    filename: str
    size: int
    sha256: str
    source: str | None = None
    contacts: list[str] = []
    created: datetime
    updated: datetime

    __columns__: ClassVar = ("id", "title", "slides", "tags", "filename")


class CreatedDeck(Deck):
    """The outcome of ``create``: the deck, and whether it was already stored."""

    duplicate: bool = False


class DeckSlides(BaseModel):
    """Slides of a deck (one or all), with their Markdown source."""

    id: str
    title: str
    tags: list[str] = []
    total: int  # slides in the deck
    slides: list[Slide]
    markdown: str  # the shown slides' Markdown, separated by '---' lines

    __text__: ClassVar = "markdown"


class Presentation(BaseModel):
    """A deck ready to be presented: its slides and the slide to start at (from 1).

    Front-ends that can (a terminal, the TUI) present it interactively; anywhere else it
    prints every slide, rendered, with a rule between them.
    """

    deck_id: str
    title: str
    tags: list[str] = []
    slides: list[Slide]
    start: int = 1
    total: int

    __present__: ClassVar = True  # render.output hands it to herotui.frontends.present


class Deleted(BaseModel):
    """What a delete removed."""

    id: str
    title: str


# --- storage helpers -------------------------------------------------------------------------


def _row(row) -> Deck:
    (did, title, tags, filename, size, pages, sha, source, contacts, created, updated) = row
    return Deck(id=did, title=title, slides=pages or 0, tags=tags or [], filename=filename, size=size, sha256=sha,
                source=source, contacts=contacts or [], created=aware(created), updated=aware(updated))


def _get(conn, did: str) -> Deck:
    row = conn.execute(f"SELECT {COLUMNS} FROM documents WHERE id = ? AND kind = ?", [did, KIND]).fetchone()
    if row is None:
        raise NotFound(f"no deck with id '{did}'", hint="'hero slides list' shows the decks")
    return _row(row)


def _resolve_deck(conn, prefix: str) -> str:
    """A deck id from a unique prefix; a document that is not a deck is reported as such."""
    try:
        return resolve_id(conn, "(SELECT * FROM documents WHERE kind = 'deck')", "deck", prefix, label="title")
    except NotFound:
        key = (prefix or "").strip().upper()
        other = conn.execute("SELECT kind FROM documents WHERE starts_with(id, ?) LIMIT 1", [key]).fetchone()
        if other:
            raise NotFound(f"'{prefix}' is a document of kind {other[0]}, not a deck",
                           hint="'hero document show' shows it; 'hero slides list' shows the decks") from None
        raise NotFound(f"no deck with id '{prefix}' in this context", hint="'hero slides list' shows the decks") from None


def _load_slides(conn, did: str) -> tuple[Deck, list[Slide]]:
    deck = _get(conn, did)
    text = conn.execute("SELECT text FROM documents WHERE id = ?", [did]).fetchone()[0] or ""
    parsed = parse(text)
    slides = [Slide(index=i, title=slide_title(md), markdown=md) for i, md in enumerate(parsed.slides, 1)]
    return deck, slides


def _check_slide(n: int | None, total: int) -> None:
    if n is not None and not 1 <= n <= total:
        raise InvalidInput(f"no slide {n}: the deck has {total} slide{'s' if total != 1 else ''}",
                           hint=f"use a number from 1 to {total}")


def _read_deck_file(path: str) -> tuple[Path, bytes, str]:
    # regular files only (a FIFO would block, /dev/urandom never ends), at most MAX_BYTES
    file, data = read_regular_file(path, MAX_BYTES, hint="give the path of a .md file",
                                   limit_hint="a deck is a Markdown file of at most 10 MB; "
                                              "add other files with 'hero document add'")
    if b"\x00" in data[:65536]:
        raise InvalidInput(f"{shown(path)} is a binary file, not Markdown", hint="a deck is a Markdown text file with '---' between slides")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{shown(path)} is not UTF-8 text (byte {exc.start})",
                           hint="a deck is a Markdown text file; convert it to UTF-8 first") from None
    return file, data, text


# --- verbs -----------------------------------------------------------------------------------


@verb(mutates=True, examples=["hero slides create review.md", 'hero slides create talk.md --title "Q3 review" --tag alex --tag finance'])
def create(
    ctx,
    path: Annotated[str, P("A Markdown file with '---' lines between slides", positional=True)],
    title: Annotated[str | None, P("Title (default: front matter title, first heading, file name)")] = None,
    tags: Annotated[list[str], P("Tag (repeat, or comma-separated); added to the front matter's tags", flag="--tag", short="-t")] = [],
) -> CreatedDeck:
    """Add a deck from a Markdown file; the same file twice is reported, not added twice."""
    file, data, text = _read_deck_file(path)
    parsed = parse(text)
    if not parsed.slides:
        raise InvalidInput(f"{path} has no slides (it is empty, or only front matter)",
                           hint="write Markdown with '---' lines between slides")
    if title is not None and not title.strip():
        raise InvalidInput("--title must not be empty")
    deck_title = (title or "").strip() or parsed.title or file.stem
    deck_tags = clean_tags(parsed.tags + list(tags))
    sha = blobs.sha256_of(data)
    same = "SELECT id FROM documents WHERE kind = ? AND sha256 = ? ORDER BY id LIMIT 1"
    with ctx.read() as conn:  # the common duplicate: answered without a write (no revision bump)
        existing = conn.execute(same, [KIND, sha]).fetchone()
        if existing:
            return CreatedDeck(**_get(conn, existing[0]).model_dump(), duplicate=True)
    with ctx.write() as tx:
        existing = tx.execute(same, [KIND, sha]).fetchone()  # added by another process meanwhile
        if existing:
            return CreatedDeck(**_get(tx.conn, existing[0]).model_dump(), duplicate=True)
        blobs.put(ctx, data)  # content-addressed: written once, before the row that names it
        did, now = new_id(), utcnow()
        tx.execute(
            "INSERT INTO documents (id, sha256, title, kind, mime, tags, source, filename, size, pages, text, created, updated, revision)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [did, sha, deck_title, KIND, MIME, deck_tags, str(file.resolve()), file.name, len(data), len(parsed.slides),
             text, now, now, tx.revision],
        )
        return CreatedDeck(**_get(tx.conn, did).model_dump())


@verb(examples=["hero slides list", "hero slides list --tag alex"])
def list_(
    ctx,
    tag: Annotated[str | None, P("Only decks with this tag")] = None,
    limit: Annotated[int | None, P("At most this many", minimum=1)] = None,
) -> list[Deck]:
    """List decks, sorted by title."""
    sql, params = f"SELECT {COLUMNS} FROM documents WHERE kind = ?", [KIND]
    if tag:
        sql += " AND list_contains(tags, ?)"
        params.append(tag.strip().lower())
    sql += " ORDER BY lower(title), id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ctx.read() as conn:
        return [_row(r) for r in conn.execute(sql, params).fetchall()]


@verb(examples=["hero slides show 01JD3", "hero slides show 01JD3 --slide 2", "hero slides show 01JD3 --json"])
def show(
    ctx,
    id: Id,
    slide: Annotated[int | None, P("Only this slide (from 1)", short="-s")] = None,
) -> DeckSlides:
    """Show a deck's slides (or one slide) as Markdown; --json gives each slide's title."""
    with ctx.read() as conn:
        deck, slides = _load_slides(conn, _resolve_deck(conn, id))
    _check_slide(slide, len(slides))
    shown = [slides[slide - 1]] if slide is not None else slides
    markdown = "\n\n---\n\n".join(s.markdown for s in shown) + "\n"
    return DeckSlides(id=deck.id, title=deck.title, tags=deck.tags, total=len(slides), slides=shown, markdown=markdown)


def _best(ctx, conn, query: str) -> str:
    """The deck that best matches ``query``: ranked search over decks (title, tags, text),
    with decks linked to matching contacts raised (so "the deck about Alex" finds the deck
    linked to Alex Smith even when her name is not in it)."""
    q = query.strip().lower()  # tags are indexed lowercase with a raw tokenizer
    if not q:
        raise InvalidInput("--best needs words to look for", hint="e.g. hero slides present --best alex")
    scores: dict[str, float] = {}
    for h in index.search(ctx, q, kinds=[KIND], limit=20):
        scores[h.id] = max(scores.get(h.id, 0.0), h.score)
    contact_hits = index.search(ctx, q, kinds=["contact"], limit=5)
    if contact_hits:
        rows = conn.execute(
            "SELECT id, contacts FROM documents WHERE kind = ? AND len(list_intersect(contacts, ?)) > 0",
            [KIND, [h.id for h in contact_hits]],
        ).fetchall()
        by_contact = {h.id: h.score for h in contact_hits}
        for did, linked in rows:
            scores[did] = scores.get(did, 0.0) + max(by_contact.get(c, 0.0) for c in linked)
    if scores:
        present_ids = {r[0] for r in conn.execute("SELECT id FROM documents WHERE kind = ? AND list_contains(?, id)",
                                                  [KIND, list(scores)]).fetchall()}
        ranked = sorted((s, did) for did, s in scores.items() if did in present_ids)
        if ranked:
            best_score = ranked[-1][0]
            return min(did for s, did in ranked if s == best_score)  # ties: the oldest deck
    raise NotFound(f"no deck matches '{query}'", hint="'hero slides list' shows the decks; try other words")


@verb(examples=["hero slides present 01JD3", "hero slides present --best alex", "hero slides present 01JD3 --slide 3"])
def present(
    ctx,
    id: Annotated[str | None, P("Deck id, or a unique prefix of it", positional=True)] = None,
    best: Annotated[str | None, P("Open the deck that best matches these words (title, tags, text, linked contacts)")] = None,
    slide: Annotated[int, P("Start at this slide (from 1)", short="-s")] = 1,
) -> Presentation:
    """Present a deck slide by slide (in a terminal: arrows, space, q); --best opens the top match."""
    if (id is None) == (best is None):
        raise InvalidInput("give a deck id or --best WORDS (one of them)",
                           hint="e.g. 'hero slides present 01JD3' or 'hero slides present --best alex'")
    with ctx.read() as conn:
        did = _resolve_deck(conn, id) if id is not None else _best(ctx, conn, best or "")
        deck, slides = _load_slides(conn, did)
    _check_slide(slide, len(slides))
    return Presentation(deck_id=deck.id, title=deck.title, tags=deck.tags, slides=slides, start=slide, total=len(slides))


@verb(destructive=True, examples=["hero slides delete 01JD3 --yes"])
def delete(ctx, id: Id) -> Deleted:
    """Delete a deck (its file is removed when no other document shares it)."""
    with blobs.releasing(ctx) as release, ctx.write() as tx:
        did = _resolve_deck(tx.conn, id)
        title, sha = tx.execute("SELECT title, sha256 FROM documents WHERE id = ?", [did]).fetchone()
        tx.execute("DELETE FROM documents WHERE id = ?", [did])
        tx.tombstone(KIND, did)
        if not tx.execute("SELECT count(*) FROM documents WHERE sha256 = ?", [sha]).fetchone()[0]:
            release(sha)  # removed once the delete commits; put back if it does not
    return Deleted(id=did, title=title)


@verb(mutates=True, examples=["hero slides link 01JD3 --contact alex", "hero slides link 01JD3 --event 01JD9"])
def link(
    ctx,
    id: Id,
    contacts: Annotated[list[str], P("A contact: name, email or id (repeat for several)", flag="--contact")] = [],
    events: Annotated[list[str], P("An event: id, iCalendar UID or title (repeat for several)", flag="--event")] = [],
) -> Deck:
    """Link a deck to contacts or events ('the deck about Alex' then finds it)."""
    if not any(c.strip() for c in contacts) and not any(e.strip() for e in events):
        raise InvalidInput("nothing to link", hint="give --contact NAME and/or --event ID")
    with ctx.write() as tx:
        did = _resolve_deck(tx.conn, id)
        cids, eids = resolve_links(tx.conn, contacts, events)
        tx.execute(
            "UPDATE documents SET contacts = list_distinct(list_concat(contacts, ?)), "
            "events = list_distinct(list_concat(events, ?)), updated = ?, revision = ? WHERE id = ?",
            [cids, eids, utcnow(), tx.revision, did],
        )
        return _get(tx.conn, did)
