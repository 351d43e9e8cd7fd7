"""Documents: the list, and a viewer rendering the extracted text as Markdown."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Label, Markdown

from herotui.tui.islands.base import Island

MAX_CHARS = 60_000  # the viewer shows this much of a long document


class DocumentsIsland(Island):

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.query_text = ""
        self.open_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search documents · Enter on a row opens it", id="documents-search")
        with Horizontal():
            table = DataTable(id="documents-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("Title", "Kind", "Tags")
            yield table
            with VerticalScroll(id="documents-viewer", classes="pane"):
                yield Label("", id="documents-title")
                yield Markdown("", id="documents-text")

    def fetch(self) -> Any:
        if self.query_text:
            return self.call("document.search", {"query": self.query_text, "limit": 200})
        return self.call("document.list")

    def show(self, data: Any) -> None:
        table = self.query_one("#documents-table", DataTable)
        table.clear()
        for d in data:
            table.add_row(d.title, d.kind, ", ".join(d.tags), key=d.id)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key and event.row_key.value:
            self.open(event.row_key.value)

    def open(self, doc_id: str) -> None:
        """Render document ``doc_id`` in the viewer."""
        self.open_id = doc_id
        self.query_one("#documents-title", Label).update("loading…")
        self.run_verb("document.text", {"id": doc_id}, self._opened)

    def _opened(self, doc: Any) -> None:
        text = doc.text or f"*{doc.note or 'no text could be extracted'}*"
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS] + "\n\n*… (truncated; 'hero document text " + doc.id + "' prints it all)*"
        self.query_one("#documents-title", Label).update(f"{doc.title} ({doc.kind})")
        self.query_one("#documents-text", Markdown).update(text)
