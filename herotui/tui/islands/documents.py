"""Documents: the list, a viewer rendering the extracted text as Markdown, tags and links."""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Label, Markdown, Static

from herotui.tui.islands.base import Island
from herotui.tui.widgets.table import Table
from herotui.tui.widgets.verb_form import VerbForm

MAX_CHARS = 60_000
_ID_SUFFIX = re.compile(r" \([0-9A-Z]{26}\)$")  # the viewer shows this much of a long document


class DocumentsIsland(Island):
    BINDINGS = [
        Binding("t", "tag", "Tag"),
        Binding("u", "untag", "Untag"),
        Binding("l", "link", "Link"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.query_text = ""
        self.open_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search documents · Enter opens · t tag · u untag · l link to a contact/event", id="documents-search")
        with Horizontal():
            yield Table("Title", "Kind", "Tags", id="documents-table")
            with VerticalScroll(id="documents-viewer", classes="pane"):
                yield Label("", id="documents-title", markup=False)  # titles shown as written
                yield Static("", id="documents-meta")
                yield Markdown("", id="documents-text")

    def fetch(self) -> Any:
        if self.query_text:
            return self.call("document.search", {"query": self.query_text, "limit": 200})
        return self.call("document.list")

    def show(self, data: Any) -> None:
        self.query_one("#documents-table", Table).refill((d.id, (d.title, d.kind, ", ".join(d.tags))) for d in data)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key and event.row_key.value:
            self.open(event.row_key.value)

    def open(self, doc_id: str) -> None:
        """Render document ``doc_id`` in the viewer, with its tags and links."""
        self.open_id = doc_id
        self.query_one("#documents-title", Label).update("loading…")
        self.run_verb("document.text", {"id": doc_id}, self._opened)
        self._show_meta(doc_id)

    def _opened(self, doc: Any) -> None:
        text = doc.text or f"*{doc.note or 'no text could be extracted'}*"
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS] + "\n\n*… (truncated; 'hero document text " + doc.id + "' prints it all)*"
        self.query_one("#documents-title", Label).update(f"{doc.title} ({doc.kind})")
        self.query_one("#documents-text", Markdown).update(text)

    def _show_meta(self, doc_id: str) -> None:
        self.run_verb("document.show", {"id": doc_id}, self._meta)

    def _meta(self, doc: Any) -> None:
        if doc.id != self.open_id:
            return
        t = Text()
        for label, values in (("tags", doc.tags), ("contacts", doc.linked_contacts), ("events", doc.linked_events)):
            t.append(f"{label:>8}  ", style="dim")
            shown = [_ID_SUFFIX.sub("", v) for v in values]  # "Alex Smith <alex@…>", without the record id
            t.append(", ".join(shown) if shown else "—", style="" if shown else "dim")
            t.append("\n")
        self.query_one("#documents-meta", Static).update(t)

    def current_id(self) -> str | None:
        """The open document, else the one under the cursor."""
        return self.open_id or self.query_one("#documents-table", Table).current_key

    def _form(self, verb: str, fields: list[str], title: str) -> None:
        doc_id = self.current_id()
        if doc_id is None:
            self.app.notify("open a document first", severity="warning", markup=False)
            return

        def done(result: Any) -> None:
            if result is not None:
                self.reload()
                if self.open_id:
                    self._show_meta(self.open_id)

        self.app.push_screen(VerbForm(verb, fields=fields, fixed={"id": doc_id}, title=title, id="document-form"), done)

    def action_tag(self) -> None:
        self._form("document.tag", ["tags"], "Tag the document")

    def action_untag(self) -> None:
        self._form("document.untag", ["tags"], "Remove tags from the document")

    def action_link(self) -> None:
        self._form("document.link", ["contacts", "events"], "Link the document to contacts or events")
