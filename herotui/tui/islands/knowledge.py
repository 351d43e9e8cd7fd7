"""Knowledge: books and their pages, page viewer, and questions answered with citations."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Label, Markdown

from herotui.tui.islands.base import Island
from herotui.tui.widgets.table import Table


class KnowledgeIsland(Island):
    BINDINGS = [Binding("backspace", "books", "Books")]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.book: str | None = None
        self.left_book: str | None = None  # the book's row to come back to (backspace)

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Ask or search the knowledge base (answers cite their pages)", id="knowledge-ask")
        with Horizontal():
            with VerticalScroll(id="knowledge-left"):
                yield Label("Books", id="knowledge-where", markup=False)  # book names shown as written
                yield Table("Name", "Pages", id="knowledge-table")
            with VerticalScroll(id="knowledge-viewer", classes="pane"):
                yield Markdown("", id="knowledge-text")

    def fetch(self) -> Any:
        return self.book, self.call("knowledge.list", {"book": self.book} if self.book else {})

    def show(self, data: Any) -> None:
        book, items = data
        table = self.query_one("#knowledge-table", Table)
        if book is None:
            self.query_one("#knowledge-where", Label).update("Books (Enter opens)")
            table.refill((("book:" + b.book, (b.book, b.pages)) for b in items), keep=self.left_book)
        else:
            self.query_one("#knowledge-where", Label).update(f"{book} · backspace: books")
            table.refill((f"page:{p.book}/{p.path}", (p.title, p.path)) for p in items)
        self.left_book = None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value if event.row_key else ""
        if key.startswith("book:"):
            self.book = key[5:]
            self.reload()
        elif key.startswith("page:"):
            book, _, path = key[5:].partition("/")
            self.run_verb("knowledge.show", {"page": path, "book": book}, self._page)

    def action_books(self) -> None:
        if self.book is not None:
            self.left_book, self.book = "book:" + self.book, None
            self.reload()

    def _page(self, page: Any) -> None:
        self.query_one("#knowledge-text", Markdown).update(f"*[{page.book}: {page.path}]*\n\n" + page.text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if question:
            self.ask(question)

    def ask(self, question: str) -> None:
        """Answer ``question`` from the knowledge base, showing the passages and their citations."""
        self.query_one("#knowledge-text", Markdown).update(f"*… {question}*")
        self.run_verb("knowledge.ask", {"question": question, "limit": 5}, self._answered)

    def _answered(self, answer: Any) -> None:
        parts = [f"## {answer.question}"]
        if answer.answer:
            parts.append(answer.answer.strip())
        if not answer.passages:
            parts.append("*No passage in the knowledge base answers this; try other words.*")
        for p in answer.passages:
            parts.append(f"**{p.citation}**\n\n{p.text.strip()}")
        self.query_one("#knowledge-text", Markdown).update("\n\n".join(parts))
