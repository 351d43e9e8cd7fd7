"""What ``hero`` with no arguments shows (until the TUI exists): where you are, what's next."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from herotui import contexts, registry
from herotui.errors import HeroError
from herotui.registry import verb

SERVICE = "status"


class Status(BaseModel):
    """The active context, its counts and the next event."""

    context: str
    description: str = ""
    contacts: int
    events: int
    next_event: str | None = None
    next_event_start: datetime | None = None
    contexts: list[str]


@verb(cli_name="status", examples=["hero", "hero status --json"])
def show(ctx) -> Status:
    """Show the active context, how many contacts and events it holds, and the next event."""
    with ctx.read() as conn:
        contacts, events = conn.execute("SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM events)").fetchone()
    nxt = None
    if events:
        try:
            nxt = registry.call("calendar.next", {}, ctx, actor="status")
        except HeroError:  # nothing upcoming: the status still shows
            nxt = None
    return Status(
        context=ctx.name,
        description=ctx.description,
        contacts=contacts,
        events=events,
        next_event=getattr(nxt, "title", None),
        next_event_start=getattr(nxt, "start", None),
        contexts=contexts.names(),
    )
