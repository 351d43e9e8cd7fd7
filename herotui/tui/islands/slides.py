"""Slides: the decks, and a presenter (left/right arrows, "slide n of m", Markdown)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Markdown

from herotui.tui.islands.base import Island
from herotui.tui.widgets.table import Table


class SlideViewer(VerticalScroll, can_focus=True):
    """The presented slide; arrows (and page keys) move through the deck."""

    BINDINGS = [
        Binding("right,pagedown,l", "step(1)", "Next"),
        Binding("left,pageup,h", "step(-1)", "Previous"),
        Binding("home", "go(1)", "First", show=False),
        Binding("end", "go(-1)", "Last", show=False),
    ]

    def action_step(self, delta: int) -> None:
        self.parent_island().step(delta)

    def action_go(self, n: int) -> None:
        self.parent_island().goto(n)

    def parent_island(self) -> "SlidesIsland":
        return self.query_ancestor(SlidesIsland)


class SlidesIsland(Island):

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.presentation: Any = None
        self.index = 0

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Table("Deck", "Slides", id="slides-table")
            with SlideViewer(id="slides-viewer", classes="pane"):
                yield Label("Enter on a deck presents it · ←/→ move", id="slides-position", markup=False)  # deck titles as written
                yield Markdown("", id="slides-text")

    def fetch(self) -> Any:
        return self.call("slides.list")

    def show(self, data: Any) -> None:
        self.query_one("#slides-table", Table).refill((d.id, (d.title, d.slides)) for d in data)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key and event.row_key.value:
            self.present(event.row_key.value)

    def present(self, deck_id: str, slide: int = 1) -> None:
        """Open deck ``deck_id`` on ``slide`` (1-based) and focus the viewer."""
        self.run_verb("slides.present", {"id": deck_id, "slide": slide}, self._presented)

    def _presented(self, presentation: Any) -> None:
        self.presentation = presentation
        self.index = max(0, min(presentation.start - 1, len(presentation.slides) - 1))
        self._paint()
        self.query_one(SlideViewer).focus()

    def step(self, delta: int) -> None:
        if self.presentation is not None:
            self.index = max(0, min(self.index + delta, len(self.presentation.slides) - 1))
            self._paint()

    def goto(self, n: int) -> None:
        if self.presentation is not None:
            self.index = len(self.presentation.slides) - 1 if n < 0 else n - 1
            self.step(0)

    def _paint(self) -> None:
        p = self.presentation
        if not p.slides:
            self.query_one("#slides-position", Label).update(f"{p.title}: no slides")
            return
        self.query_one("#slides-position", Label).update(
            f"{p.title} — slide {self.index + 1} of {len(p.slides)}  (←/→)")
        self.query_one("#slides-text", Markdown).update(p.slides[self.index].markdown)
        self.query_one(SlideViewer).scroll_home(animate=False)
