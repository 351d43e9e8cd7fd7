"""``calendar search``."""

from __future__ import annotations

from typing import Annotated

from herotui.registry import P, verb
from herotui.services.calendar.models import COLUMNS, Event
from herotui.services.calendar.records import event_of, record
from herotui.store import index

SERVICE = "calendar"


@verb(examples=['hero calendar search "quarterly report"', "hero calendar search alex"])
def search(
    ctx,
    query: Annotated[str, P("Words to look for in titles, places, descriptions, attendees, tags", positional=True)],
    limit: Annotated[int, P("At most this many", minimum=1)] = 20,
) -> list[Event]:
    """Search events, best first."""
    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["event"], limit=limit)
        if not hits:
            return []
        ids = [h.id for h in hits]
        rows = {r[0]: event_of(record(r)) for r in conn.execute(f"SELECT {COLUMNS} FROM events WHERE list_contains(?, id)", [ids]).fetchall()}
    return [rows[i] for i in ids if i in rows]
