"""Reading documents: list, show, text, search."""

from __future__ import annotations

from typing import Annotated

from herotui.errors import InvalidInput
from herotui.registry import P, verb
from herotui.services.document.lookup import document_detail, document_of_row, get_document, resolve_document, resolve_contact, resolve_event
from herotui.services.document.models import COLUMNS, KINDS, Document, DocumentDetail, DocumentText, Id
from herotui.store import index

SERVICE = "document"


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
        return [document_of_row(r) for r in conn.execute(sql, params).fetchall()]


@verb(examples=["hero document show 01JD3"])
def show(ctx, id: Id) -> DocumentDetail:
    """Show a document's metadata, with the contacts and events it is linked to."""
    with ctx.read() as conn:
        return document_detail(conn, get_document(conn, resolve_document(conn, id)))


@verb(examples=["hero document text 01JD3", "hero document text 01JD3 | grep -i revenue"])
def text(ctx, id: Id) -> DocumentText:
    """Print the text extracted from a document."""
    with ctx.read() as conn:
        did = resolve_document(conn, id)
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
    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["document"], tags=[tag] if tag else None, limit=limit)
        ids = [h.id for h in hits]
        if not ids:
            return []
        rows = {r[0]: document_of_row(r) for r in conn.execute(f"SELECT {COLUMNS} FROM documents WHERE list_contains(?, id)", [ids]).fetchall()}
    return [rows[i] for i in ids if i in rows]
