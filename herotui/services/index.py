"""The full-text index as verbs."""

from __future__ import annotations

from pydantic import BaseModel

from herotui.registry import verb

SERVICE = "index"


class IndexReport(BaseModel):
    """What a rebuild did."""

    context: str
    records: int
    revision: int


@verb(mutates=True, examples=["hero index rebuild", "hero --context business index rebuild"])
def rebuild(ctx) -> IndexReport:
    """Rebuild the context's search index from its database, from scratch."""
    from herotui.store import db, index

    with db.exclusive(ctx):
        pass  # make sure the database exists and nobody writes while we rebuild (below)
    conn = db.connect(ctx, read_only=True)
    try:
        count = index.sync(ctx, conn, full=True)
        rev = conn.execute("SELECT revision FROM state").fetchone()[0]
    finally:
        conn.close()
    return IndexReport(context=ctx.name, records=count, revision=rev)
