"""One ranked search over everything in a context (or, explicitly, in all of them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel

from herotui import contexts
from herotui.services import knowledge
from herotui.errors import InvalidInput
from herotui.registry import P, verb
from herotui.store import db, index
from herotui.store.schema import INDEX_SOURCES
from herotui.timeparse import is_date_only, parse_when

SERVICE = "search"


class SearchHit(BaseModel):
    """One search result: what it is, where, and the matching passage (``[[...]]`` marks hits)."""

    kind: str
    id: str
    title: str
    snippet: str
    tags: list[str] = []
    score: float
    context: str

    __columns__ = ("kind", "id", "title", "snippet", "score")


@verb(
    cli_name="search",
    examples=['hero search "quarterly report"', "hero search alxe --kind contact", "hero search --tag finance", "hero search budget --all-contexts"],
)
def query(
    ctx,
    query: Annotated[str, P("Words to look for; typos are forgiven", positional=True)] = "",
    kinds: Annotated[list[str], P("Only this kind (contact, event, document, deck, knowledge); repeatable", flag="--kind", short="-k")] = [],
    tags: Annotated[list[str], P("Only records with this tag; repeatable", flag="--tag", short="-t")] = [],
    start: Annotated[str | None, P("Only records dated from this time ('2026-01-01', 'last monday')", flag="--from")] = None,
    end: Annotated[str | None, P("Only records dated up to this time (a day includes all of it)", flag="--to")] = None,
    all_contexts: Annotated[bool, P("Search every context, not just the active one")] = False,
    limit: Annotated[int, P("At most this many results", minimum=1)] = 20,
    fuzzy: Annotated[bool, P("Also match near spellings")] = True,
) -> list[SearchHit]:
    """Search contacts, events and everything else in the context, best match first.

    Ranking is BM25 with title and tag boosts; near spellings match when --fuzzy (default);
    recency breaks ties. Query syntax: plain words, "exact phrase", title:word, -exclude.
    A record's date is its last change, or an event's (first) start; --from/--to filter on it.
    The built-in Hero manual is included only with --kind knowledge.
    """

    bad = [k for k in kinds if k not in INDEX_SOURCES]
    if bad:
        raise InvalidInput(f"unknown kind '{bad[0]}'", hint="kinds: " + ", ".join(INDEX_SOURCES))
    if not query.strip() and not tags and not kinds and not start and not end:
        raise InvalidInput("nothing to search for", hint="give words, --tag or --kind, e.g. hero search alex")
    since = until = None
    if start:
        since = int(parse_when(start).timestamp())
    if end:
        moment = parse_when(end)
        if is_date_only(end):
            moment += timedelta(days=1)
            until = int(moment.timestamp()) - 1
        else:
            until = int(moment.timestamp())
    if since is not None and until is not None and until < since:
        raise InvalidInput("--to is before --from", hint="swap them")
    targets = [contexts.load(n) for n in contexts.names()] if all_contexts else [ctx]
    # The built-in manual (knowledge book 'hero') is searched when knowledge is asked for,
    # not in everyday searches, where its examples ("Alex Smith") would be noise.
    manual = "knowledge" in kinds
    hide = [] if manual else [("knowledge", "hero")]
    hits: list[SearchHit] = []
    for c in targets:
        if manual:
            knowledge.ensure_builtin(c)
        with db.searchable(c):  # the index is current (the database is opened only if in doubt)
            for h in index.search(c, query, kinds=kinds, tags=tags, limit=limit, fuzzy=fuzzy, since=since,
                                  until=until, hide=hide):
                hits.append(SearchHit(kind=h.kind, id=h.id, title=h.title, snippet=h.snippet, tags=h.tags,
                                      score=h.score, context=c.name))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]
