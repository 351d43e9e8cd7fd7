"""The Tantivy full-text index of a context: derived from the database, rebuildable.

The index remembers the database revision it reflects (``index/hero-revision``). ``sync``
brings it up to date from that revision: rows written since are re-added, tombstones since
are deleted. Writes call it right after their commit, and every open of a context calls it
when the index is behind, so a crash between the two commits heals on the next command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from herotui.errors import InvalidInput
from herotui.store.db import retry_locked
from herotui.store.schema import INDEX_SOURCES

if TYPE_CHECKING:
    from herotui.contexts import Context

INDEX_VERSION = 1  # bump when the index schema changes: indexes of another version are rebuilt
REVISION_FILE = "hero-revision"
WRITER_HEAP = 32_000_000
FIELDS = ("title", "body", "tags")
BOOSTS = {"title": 3.0, "tags": 2.0, "body": 1.0}


def _schema():
    import tantivy  # ~3 ms: only commands that search or index pay for it

    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    b.add_text_field("kind", stored=True, tokenizer_name="raw")
    b.add_text_field("title", stored=True)
    b.add_text_field("body", stored=True)
    b.add_text_field("tags", stored=True, tokenizer_name="raw")
    b.add_integer_field("time", stored=True, fast=True)
    return b.build()


PENDING_FILE = "hero-pending"


def mark_pending(ctx: Context) -> None:
    """Say "the database is about to move ahead of the index" (a write is committing)."""
    ctx.index_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    (ctx.index_path / PENDING_FILE).touch()


def clear_pending(ctx: Context) -> None:
    (ctx.index_path / PENDING_FILE).unlink(missing_ok=True)


def is_current(ctx: Context) -> bool:
    """True when the index can be read without opening the database.

    Writers mark the index pending before they commit and clear the mark once the index has
    caught up, both while holding the database lock; so no mark means no write is between its
    commit and its index update, and a mark left by a crash sends the next reader through
    the database, which catches up.
    """
    return not (ctx.index_path / PENDING_FILE).exists() and revision(ctx) >= 0


def revision(ctx: Context) -> int:
    """The database revision the index reflects; -1 when it must be rebuilt."""
    try:
        version, rev = (ctx.index_path / REVISION_FILE).read_text().split()
        return int(rev) if int(version) == INDEX_VERSION else -1
    except (OSError, ValueError):
        return -1


def _set_revision(ctx: Context, rev: int) -> None:
    tmp = ctx.index_path / (REVISION_FILE + ".tmp")
    tmp.write_text(f"{INDEX_VERSION} {rev}\n")
    os.replace(tmp, ctx.index_path / REVISION_FILE)


_OPEN: dict[str, object] = {}  # index folder -> tantivy.Index, kept for the process's life


def forget(ctx: Context) -> None:
    """Drop this process's open handle of the context's index (its files are about to be
    replaced: a restore); the next :func:`open_index` opens them again."""
    _OPEN.pop(str(ctx.index_path), None)


def open_index(ctx: Context, fresh: bool = False):
    """The context's index (opened once per process; ``fresh`` starts a new, empty one)."""
    import tantivy  # ~3 ms: only commands that search or index pay for it

    key = str(ctx.index_path)
    if fresh:
        _OPEN.pop(key, None)
        if ctx.index_path.exists():
            shutil.rmtree(ctx.index_path)
    idx = _OPEN.get(key)
    if idx is None or not (ctx.index_path / "meta.json").exists():
        ctx.index_path.mkdir(parents=True, exist_ok=True, mode=0o700)
        idx = _OPEN[key] = tantivy.Index(_schema(), path=key, reuse=True)
    return idx


def _writer(ctx: Context, idx):
    def is_lock(exc: Exception) -> bool:
        return isinstance(exc, ValueError) and "lock" in str(exc).lower()

    return retry_locked("index", ctx.name, lambda: idx.writer(heap_size=WRITER_HEAP, num_threads=1), is_lock)


def _epoch(value) -> int:
    if isinstance(value, datetime):
        return int(value.replace(tzinfo=timezone.utc).timestamp())
    return 0


def sync(ctx: Context, conn, full: bool = False) -> int:
    """Bring the index up to the database's revision; ``full`` rebuilds it from scratch.

    The caller holds ``conn`` (read-only or in a write), so the database cannot move while
    this runs. Returns the number of records (re)indexed.
    """
    import tantivy  # ~3 ms: only commands that search or index pay for it

    db_rev = conn.execute("SELECT revision FROM state").fetchone()[0]
    since = revision(ctx)
    if since >= db_rev and not full:
        return 0
    fresh = since < 0  # no index yet, or one of another version: start a new folder
    full = full or fresh
    idx = open_index(ctx, fresh=fresh)
    schema = idx.schema
    writer = _writer(ctx, idx)
    count = 0
    try:
        if full and not fresh:
            writer.delete_all_documents()  # same folder: lock-free readers never see it vanish
        for kind, sql in INDEX_SOURCES.items():
            cur = conn.execute(f"SELECT * FROM ({sql}) WHERE revision > ?", [-1 if full else since])
            while rows := cur.fetchmany(2000):
                for rid, title, body, tags, time, _rev in rows:
                    if not full:
                        writer.delete_documents_by_term("id", rid)
                    doc = {
                        "id": rid,
                        "kind": kind,
                        "title": title or "",
                        "body": body or "",
                        "tags": [t.lower() for t in tags or []],
                        "time": _epoch(time),
                    }
                    writer.add_document(tantivy.Document.from_dict(doc, schema))
                    count += 1
        if not full:
            for (rid,) in conn.execute("SELECT id FROM tombstones WHERE revision > ?", [since]).fetchall():
                writer.delete_documents_by_term("id", rid)
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:
        writer.rollback()
        raise
    _set_revision(ctx, db_rev)
    collect_garbage(ctx, idx)
    return count


#: Stale segment files tolerated before a collection (a segment is 6 files).
GC_SLACK = 60
#: Files younger than this are never collected (a reader that has just read meta.json
#: opens its segments within milliseconds).
GC_MIN_AGE = 10.0
_SEGMENT_FILE = re.compile(r"^([0-9a-f]{32})(?:\.(\d+))?\.[a-z]+$")


def _stale(folder) -> list[str]:
    """Segment files that ``meta.json`` no longer names (old segments, old deletes)."""
    try:
        segments = json.loads((folder / "meta.json").read_text())["segments"]
        names = os.listdir(folder)
    except (OSError, ValueError, KeyError):
        return []
    live = {}
    for seg in segments:
        deletes = seg.get("deletes") or {}
        live[seg["segment_id"].replace("-", "")] = deletes.get("opstamp")
    stale = []
    for name in names:
        m = _SEGMENT_FILE.match(name)
        if not m:
            continue
        seg, opstamp = m.group(1), m.group(2)
        if seg not in live or (opstamp is not None and int(opstamp) != live[seg]):
            stale.append(name)
    return stale


def collect_garbage(ctx: Context, idx, min_age: float = GC_MIN_AGE, slack: int = GC_SLACK) -> int:
    """Delete segment files the index no longer uses; returns how many.

    Tantivy collects its own files, but it knows them from ``.managed.json``, which writers
    in different processes overwrite with their own view: files of another process's
    segments are then never collected (872 files for 3 live segments after a contention
    run). This runs when more than ``slack`` stale files are seen, while holding Tantivy's
    writer lock (so no writer is building a segment that ``meta.json`` does not name yet),
    and leaves files younger than ``min_age`` seconds. Readers in other processes keep the
    files they have open (unlinked files live on until closed).
    """
    folder = ctx.index_path
    if len(_stale(folder)) <= slack:
        return 0
    try:
        writer = idx.writer(heap_size=15_000_000, num_threads=1)
    except ValueError:  # another writer holds the lock: it (or a later one) collects
        return 0
    removed = 0
    try:
        now = time.time()
        for name in _stale(folder):  # again, under the lock
            path = folder / name
            try:
                if now - path.stat().st_mtime >= min_age:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
    finally:
        writer.wait_merging_threads()  # releases the lock
    return removed


@dataclass
class Hit:
    id: str
    kind: str
    title: str
    snippet: str
    tags: list[str]
    time: int
    score: float


_WORD = re.compile(r"\w+", re.UNICODE)
_NEGATED = re.compile(r"(?:^|(?<=\s))-(\w+)", re.UNICODE)

# Bounds on what one search may cost (issue 13: a fuzzy query's automaton costs ~33 KB of
# memory per character of the word and per field, so one 10,000-character word took 400 MB
# and a 1 MiB one the OOM killer; 400 distinct ten-letter words took 335 MB).
#
# - MAX_QUERY_CHARS: longer search text is refused with InvalidInput (never truncated: a
#   silently shortened query would return answers to a question nobody asked). 2,000 leaves
#   room for the queries Hero builds itself (knowledge.retrieve turns a 300-character
#   question into ~950 characters of word forms) and for a pasted paragraph.
# - MAX_FUZZY_WORD: longer words are searched exactly (typo tolerance for a 25-letter token
#   is noise, and its automaton is what costs).
# - MAX_FUZZY_TERMS: only the first N distinct words get fuzzy variants; the rest are exact.
MAX_QUERY_CHARS = 2_000
MIN_FUZZY_WORD = 4
MAX_FUZZY_WORD = 24
MAX_FUZZY_TERMS = 8


def check_query(text: str | None) -> None:
    """Refuse search text over :data:`MAX_QUERY_CHARS` (the message never echoes the text)."""
    if text and len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"search text too long: {len(text):,} characters (at most {MAX_QUERY_CHARS:,})",
            hint="search for a few words the record contains",
        )


def fuzzy_words(words: list[str]) -> list[str]:
    """The words that get fuzzy variants: distinct, 4 to 24 characters, the first 8."""
    out: list[str] = []
    for w in words:
        if MIN_FUZZY_WORD <= len(w) <= MAX_FUZZY_WORD and w not in out:
            out.append(w)
            if len(out) == MAX_FUZZY_TERMS:
                break
    return out


def search(
    ctx: Context,
    text: str,
    kinds: list[str] | None = None,
    tags: list[str] | None = None,
    limit: int = 20,
    fuzzy: bool = True,
    since: int | None = None,
    until: int | None = None,
    hide: list[tuple[str, str]] = (),
) -> list[Hit]:
    """Ranked search: BM25 with title and tag boosts, fuzzy matching for typos, snippets.

    ``-word`` excludes records containing it; ``hide`` excludes (kind, tag) pairs, e.g. the
    built-in manual from everyday searches. Text over :data:`MAX_QUERY_CHARS` characters is
    refused (InvalidInput); fuzzy matching is bounded (see :func:`fuzzy_words`).
    """
    import tantivy  # ~3 ms: only commands that search or index pay for it

    idx = open_index(ctx)
    check_query(text)
    words = [w.lower() for w in _WORD.findall(_NEGATED.sub(" ", text or ""))]
    if (text or "").strip() and not words:
        return []  # only punctuation or exclusions: nothing to look for
    must = _text_clauses(idx, text, words, fuzzy) + _filter_clauses(idx.schema, kinds, tags, since, until, hide)
    if not any(occur == tantivy.Occur.Must for occur, _ in must):
        return []
    query = tantivy.Query.boolean_query(must)
    idx.reload()
    searcher = idx.searcher()
    # Tantivy reserves room for ``limit`` hits up front (a limit of 4e9 asked for 128 GB and
    # aborted the process): never ask for more hits than the index holds.
    wanted = min(limit * 2 if words else limit, searcher.num_docs)
    if wanted < 1:
        return []
    result = searcher.search(query, limit=wanted)
    found = [(score, searcher.doc(address)) for score, address in result.hits]
    found.sort(key=lambda sd: (-sd[0], -(sd[1].get_first("time") or 0)))  # recency breaks ties
    found = found[:limit]
    snippets = tantivy.SnippetGenerator.create(searcher, query, idx.schema, "body") if words and found else None
    if snippets:
        snippets.set_max_num_chars(160)
    return [_hit(score, doc, snippets) for score, doc in found]  # snippets only for the hits kept (~50 us each)


def _text_clauses(idx, text: str, words: list[str], fuzzy: bool) -> list:
    """The words (parsed leniently over every field, with near spellings when ``fuzzy``) as
    one Must clause, and each ``-word`` as MustNot clauses."""
    import tantivy  # ~3 ms: only commands that search or index pay for it

    Occur, Q = tantivy.Occur, tantivy.Query
    must = []
    if words:
        parsed, _errors = idx.parse_query_lenient(text, list(FIELDS), field_boosts=BOOSTS)
        should = [(Occur.Should, parsed)]
        if fuzzy:
            for w in fuzzy_words(words):  # short words: typos are rarely the problem, noise is
                dist = 1 if len(w) < 8 else 2
                for f in FIELDS:
                    fq = Q.fuzzy_term_query(idx.schema, f, w, distance=dist, transposition_cost_one=True)
                    should.append((Occur.Should, Q.boost_query(fq, 0.5 * BOOSTS[f])))
        must.append((Occur.Must, Q.boolean_query(should)))
    for w in {w.lower() for w in _NEGATED.findall(text or "")}:
        for f in FIELDS:
            must.append((Occur.MustNot, Q.term_query(idx.schema, f, w)))
    return must


def _filter_clauses(schema, kinds: list[str] | None, tags: list[str] | None, since: int | None, until: int | None,
                    hide: list[tuple[str, str]]) -> list:
    """The clauses for the hidden (kind, tag) pairs, the kinds, the tags and the time range."""
    import tantivy  # ~3 ms: only commands that search or index pay for it

    Occur, Q = tantivy.Occur, tantivy.Query
    must = []
    for kind, tag in hide:
        both = Q.boolean_query([(Occur.Must, Q.term_query(schema, "kind", kind)), (Occur.Must, Q.term_query(schema, "tags", tag))])
        must.append((Occur.MustNot, both))
    if kinds:
        must.append((Occur.Must, Q.boolean_query([(Occur.Should, Q.term_query(schema, "kind", k)) for k in kinds])))
    for t in tags or []:
        must.append((Occur.Must, Q.term_query(schema, "tags", t.lower())))
    if since is not None or until is not None:  # epoch seconds, inclusive
        must.append((Occur.Must, Q.range_query(schema, "time", tantivy.FieldType.Integer, since, until)))
    return must


def _hit(score: float, doc, snippets) -> Hit:
    """A found document as a Hit, its snippet with the matched words marked (else the start
    of its body)."""
    snippet = ""
    if snippets:
        s = snippets.snippet_from_doc(doc)
        snippet = _mark(s.fragment(), s.highlighted())
    if not snippet:
        snippet = (doc.get_first("body") or "")[:160]
    return Hit(
        id=doc.get_first("id"),
        kind=doc.get_first("kind"),
        title=doc.get_first("title") or "",
        snippet=snippet,
        tags=doc.get_all("tags"),
        time=doc.get_first("time") or 0,
        score=round(score, 4),
    )


def _mark(fragment: str, ranges) -> str:
    """Wrap highlighted ranges in ``[[``/``]]`` markers (front-ends style them)."""
    out, pos = [], 0
    data = fragment.encode()
    for r in ranges:
        out.append(data[pos : r.start].decode(errors="ignore"))
        out.append("[[" + data[r.start : r.end].decode(errors="ignore") + "]]")
        pos = r.end
    out.append(data[pos:].decode(errors="ignore"))
    return "".join(out).replace("\n", " ").strip()
