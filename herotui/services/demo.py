"""Demo data: realistic contacts, two weeks of events, documents and decks in ``personal``
and ``business``.

The files live in ``contexts/demo/`` (.vcf, .ics, documents/ and decks/ with their
manifests). The calendars are written for the weeks of Monday 2026-01-05 and 2026-01-12;
loading shifts them by whole weeks so that the first becomes the current week (wall-clock
times are kept across DST), so the data covers today and at least the next seven days. Every
day of the first week, weekends included, has in both contexts an event with a linked
document (the morning story: "what's on today?" offers to summarise it), and each context
has a deck about Alex. Loading again adds nothing twice (contacts are recognised by their
demo UIDs, events by their iCalendar UIDs, documents by their content) and moves the events
to the current week again.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel

from herotui import contexts, registry
from herotui.errors import HeroError, InvalidInput
from herotui.paths import resource
from herotui.registry import P, verb
from herotui.services import _ical, calendar
from herotui.timeparse import local_zone

SERVICE = "demo"
DEMO_WEEK = date(2026, 1, 5)  # the Monday the demo calendars were written for
CONTEXTS = ("personal", "business")


class DemoContext(BaseModel):
    """What the demo added to one context."""

    context: str
    contacts: int
    events: int
    documents: int = 0
    decks: int = 0


class DemoReport(BaseModel):
    """What ``hero demo`` loaded."""

    contexts: list[DemoContext]

    __columns__ = ("contexts",)


def _manifest(folder, key: str) -> list[dict]:
    """The ``[[key]]`` entries of ``folder/manifest.toml`` (none when there is no manifest)."""
    try:
        with (folder / "manifest.toml").open("rb") as fh:
            return tomllib.load(fh).get(key, [])
    except FileNotFoundError:
        return []


def shift_for(today: date) -> timedelta:
    """Whole weeks from the demo week to the week of ``today``."""
    monday = today - timedelta(days=today.weekday())
    return timedelta(days=(monday - DEMO_WEEK).days)


@verb(mutates=True, cli_name="demo", examples=["hero demo", "hero demo --only business"])
def load(
    ctx,
    only: Annotated[str | None, P("Load only this context's demo (personal or business)")] = None,
) -> DemoReport:
    """Load demo contacts, events, documents and decks into 'personal' and 'business'.

    The contexts are created if needed; loading again adds nothing twice.
    """
    names = CONTEXTS
    if only:
        if only not in CONTEXTS:
            raise InvalidInput(f"no demo for '{only}'", hint="use personal or business")
        names = (only,)
    folder = resource("contexts") / "demo"
    shift = shift_for(datetime.now(local_zone()).date())
    report = []
    for name in names:
        target = contexts.load(name) if contexts.exists(name) or name == contexts.DEFAULT else contexts.create(name)
        with target.read() as conn:
            have = conn.execute("SELECT count(*) FROM contacts WHERE vcard LIKE '%UID:demo-%'").fetchone()[0]
        added_contacts = 0
        if not have:
            r = registry.call("contact.import", {"path": str(folder / f"{name}.vcf")}, target, actor="demo")
            added_contacts = r.imported
        # calendar.import has no date shift, so the demo stores the parsed, shifted events
        # itself, through the same function the import verb uses
        events, problems = _ical.parse((folder / f"{name}.ics").read_text(), shift)
        if problems:
            raise HeroError(f"demo calendar {name}.ics is damaged: {problems[0]['message']}", hint="reinstall Hero")
        with target.write() as tx:
            added_events, _updated = calendar.store_events(tx, events)
        documents = decks = 0
        for entry in _manifest(folder / "documents", "document"):
            if entry.get("context") != name:
                continue
            args = {"paths": [str(folder / "documents" / entry["file"])], "tags": entry.get("tags", []),
                    "contacts": entry.get("contacts", []), "events": entry.get("events", [])}
            if entry.get("title"):
                args["title"] = entry["title"]
            documents += len(registry.call("document.add", args, target, actor="demo").added)
        for entry in _manifest(folder / "decks", "deck"):
            if entry.get("context") != name:
                continue
            deck = registry.call("slides.create", {"path": str(folder / "decks" / entry["file"]),
                                                   "tags": entry.get("tags", [])}, target, actor="demo")
            if not deck.duplicate:
                decks += 1
                if entry.get("contacts") or entry.get("events"):
                    registry.call("slides.link", {"id": deck.id, "contacts": entry.get("contacts", []),
                                                    "events": entry.get("events", [])}, target, actor="demo")
        report.append(DemoContext(context=name, contacts=added_contacts, events=added_events,
                                  documents=documents, decks=decks))
    return DemoReport(contexts=report)
