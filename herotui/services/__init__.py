"""The services (islands). Each module declares ``SERVICE`` and its verbs with ``@verb``.

``SERVICES`` is the manifest the front-ends read without importing the modules, so that
``hero --help`` lists every service and ``hero contact list`` imports only ``contact``.
"""

from __future__ import annotations

from typing import NamedTuple


class Service(NamedTuple):
    module: str
    help: str
    command: str | None = None  # a verb shown as a top-level command ("hero search ...")


# "ask" and "agent" are the planner's own verbs: their modules live in herotui/planner (services never
# import the planner; the planner calls services through the registry).
SERVICES: dict[str, Service] = {
    "context": Service("herotui.services.context", "Named, isolated workspaces (personal, business, ...)."),
    "contact": Service("herotui.services.contact", "People: names, emails, phones, companies, tags; vCard."),
    "calendar": Service("herotui.services.calendar", "Events, recurrence, agenda; natural times; iCalendar."),
    "document": Service("herotui.services.document", "Documents: files with their text, tags and links; summaries."),
    "slides": Service("herotui.services.slides", "Markdown decks, shown slide by slide."),
    "knowledge": Service("herotui.services.knowledge", "Books of Markdown pages; answers with citations."),
    "search": Service("herotui.services.search", "One ranked search over everything in a context.", "search.query"),
    "ask": Service("herotui.planner.ask", "Plain words to commands: shows them, runs them, answers.", "ask.run"),
    "agent": Service("herotui.planner.agent", "Multi-step requests, run step by step with a bound."),
    "history": Service("herotui.services.history", "The audit log: who ran what, where, when, and how it went.", "history.list"),
    "index": Service("herotui.services.index", "The full-text index derived from the database."),
    "demo": Service("herotui.services.demo", "Load realistic sample data to try Hero.", "demo.load"),
    "status": Service("herotui.services.status", "A short status: context, counts, next event.", "status.show"),
    "config": Service("herotui.services.config_show", "Settings (HERO_* variables, the model) and their sources."),
}
