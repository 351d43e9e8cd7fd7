"""Changing documents: title and tags, links to contacts and events, delete."""

from __future__ import annotations

from typing import Annotated

from herotui.errors import InvalidInput
from herotui.registry import P, verb
from herotui.services.common import clean_tags, retag, utcnow
from herotui.services.document.lookup import document_detail, get_document, resolve_document, resolve_links
from herotui.services.document.models import Deleted, Document, DocumentDetail, Id, Tags
from herotui.store import blobs

SERVICE = "document"


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
        did = resolve_document(tx.conn, id)
        sets = ", ".join(f"{k} = ?" for k in changes)
        tx.execute(f"UPDATE documents SET {sets}, updated = ?, revision = ? WHERE id = ?", [*changes.values(), utcnow(), tx.revision, did])
        return get_document(tx.conn, did)


def retag_document(ctx, id: str, tags: list[str], add: bool) -> Document:
    wanted = clean_tags(tags)
    if not wanted:
        raise InvalidInput("no tag given", hint="e.g. 'hero document tag 01JD3 finance'")
    with ctx.write() as tx:
        did = resolve_document(tx.conn, id)
        retag(tx, "documents", did, wanted, add)
        return get_document(tx.conn, did)


@verb(mutates=True, examples=["hero document tag 01JD3 finance q4"])
def tag(ctx, id: Id, tags: Tags) -> Document:
    """Add tags to a document."""
    return retag_document(ctx, id, tags, add=True)


@verb(mutates=True, examples=["hero document untag 01JD3 draft"])
def untag(ctx, id: Id, tags: Tags) -> Document:
    """Remove tags from a document."""
    return retag_document(ctx, id, tags, add=False)


def relink(ctx, id: str, contacts: list[str], events: list[str], add: bool) -> DocumentDetail:
    if not [c for c in contacts if c.strip()] and not [e for e in events if e.strip()]:
        raise InvalidInput("nothing to link", hint="give --contact NAME and/or --event ID")
    with ctx.write() as tx:
        did = resolve_document(tx.conn, id)
        cids, eids = resolve_links(tx.conn, contacts, events)
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
        return document_detail(tx.conn, get_document(tx.conn, did))


@verb(mutates=True, examples=["hero document link 01JD3 --contact alex", 'hero document link 01JD3 --event "Quarterly report review"'])
def link(
    ctx,
    id: Id,
    contacts: Annotated[list[str], P("A contact: name, email or id (repeat for several)", flag="--contact")] = [],
    events: Annotated[list[str], P("An event: id, iCalendar UID or title (repeat for several)", flag="--event")] = [],
) -> DocumentDetail:
    """Link a document to contacts or events of the same context."""
    return relink(ctx, id, contacts, events, add=True)


@verb(mutates=True, examples=["hero document unlink 01JD3 --contact alex"])
def unlink(
    ctx,
    id: Id,
    contacts: Annotated[list[str], P("A contact: name, email or id (repeat for several)", flag="--contact")] = [],
    events: Annotated[list[str], P("An event: id, iCalendar UID or title (repeat for several)", flag="--event")] = [],
) -> DocumentDetail:
    """Remove links from a document to contacts or events."""
    return relink(ctx, id, contacts, events, add=False)


@verb(destructive=True, examples=["hero document delete 01JD3 --yes"])
def delete(ctx, id: Id) -> Deleted:
    """Delete a document (its file too, unless another document has the same content)."""
    with blobs.releasing(ctx) as release, ctx.write() as tx:
        did = resolve_document(tx.conn, id)
        title, sha = tx.execute("SELECT title, sha256 FROM documents WHERE id = ?", [did]).fetchone()
        tx.execute("DELETE FROM documents WHERE id = ?", [did])
        tx.tombstone("document", did)
        others = tx.execute("SELECT count(*) FROM documents WHERE sha256 = ?", [sha]).fetchone()[0]
        if not others:
            release(sha)
    return Deleted(id=did, title=title, blob_removed=not others)
