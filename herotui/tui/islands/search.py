"""Search: everything in the context at once; Enter opens a result in its island."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Input

from herotui.tui.islands.base import Island
from herotui.tui.widgets.table import Table


class SearchIsland(Island):

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.query_text = ""
        self.hits: dict[str, Any] = {}
        self.new_query = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search contacts, events, documents, decks, knowledge · Enter on a result opens it",
                    id="search-input")
        yield Table("Kind", "Title", "Snippet", id="search-table")

    def fetch(self) -> Any:
        if not self.query_text:
            return []
        return self.call("search.query", {"query": self.query_text, "limit": 50})

    def show(self, data: Any) -> None:
        self.hits = {str(i): h for i, h in enumerate(data)}
        self.query_one("#search-table", Table).refill(
            ((key, (h.kind, h.title, h.snippet.replace("[[", "").replace("]]", "").replace("\n", " ")[:120]))
             for key, h in self.hits.items()), stay=not self.new_query)  # a new query starts at its best hit
        self.new_query = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        self.new_query = True
        self.reload()
        self.query_one("#search-table", Table).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        hit = self.hits.get(event.row_key.value if event.row_key else "")
        if hit is not None:
            open_hit(self.app, hit.kind, hit.id, hit.title)


def open_hit(app: Any, kind: str, item_id: str, title: str = "") -> None:
    """Show a record in its island: contact, event, document, deck or knowledge passage."""
    if kind == "contact":
        app.show_island("contacts", then=lambda island: island.select(item_id))
    elif kind == "document":
        app.show_island("documents", then=lambda island: island.open(item_id))
    elif kind == "deck":
        app.show_island("slides", then=lambda island: island.present(item_id))
    elif kind == "event":
        def agenda(island: Any) -> None:
            island.view = "agenda"
            island.reload()
            island.run_verb("calendar.show", {"id": item_id},
                            lambda e: app.notify(f"{e.title}\n{e.start:%a %d %b %H:%M}" + (f" · {e.location}" if e.location else ""),
                                                 title="event", timeout=8, markup=False))

        app.show_island("calendar", then=agenda)
    elif kind == "knowledge":
        app.show_island("knowledge", then=lambda island: island.ask(title))
    else:
        app.notify(f"{kind} {item_id}", title="no island shows this kind", markup=False)
