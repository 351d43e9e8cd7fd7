"""The full-text index as verbs."""

from __future__ import annotations

from pydantic import BaseModel

from herotui.registry import verb
from herotui.store import db, index

SERVICE = "index"


class IndexReport(BaseModel):
    """What a rebuild did."""

    context: str
    records: int
    revision: int


@verb(mutates=True, examples=["hero index rebuild", "hero --context business index rebuild"])
def rebuild(ctx) -> IndexReport:
    """Rebuild the context's search index from its database, from scratch."""
    count = db.catch_up(ctx, full=True)  # under the write lock: nobody writes meanwhile
    return IndexReport(context=ctx.name, records=count, revision=index.revision(ctx))
