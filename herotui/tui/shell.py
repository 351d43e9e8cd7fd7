"""The Hero application: header, islands as tabs, footer, command palette, live refresh.

Decisions:

* Islands are tabs of one ``TabbedContent``; each is a thin view whose data comes from
  registry verbs run in ``@work(thread=True, exclusive=True)`` workers (never on the UI thread).
* Live refresh polls the active context's ``index/hero-revision`` file every 0.5 s (a stat
  and a small read, no database or index lock). When it changes, the visible island reloads
  and the others are marked stale and reload when shown.
* ``ctrl+o`` picks the context (``context.use``: saved as the active context); every island
  reloads. ``ctrl+p`` is the command palette: every verb, each opening a form.
* Space is never bound here: it is reserved for push-to-talk.
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, TabbedContent, TabPane

from herotui import contexts
from herotui.tui.commands import VerbCommands
from herotui.tui.islands.base import Island
from herotui.tui.widgets.header import HeroHeader

POLL_SECONDS = 0.5


def _island_classes() -> dict[str, type[Island]]:
    from herotui.tui.islands.assistant import AssistantIsland
    from herotui.tui.islands.calendar import CalendarIsland
    from herotui.tui.islands.contacts import ContactsIsland
    from herotui.tui.islands.documents import DocumentsIsland
    from herotui.tui.islands.home import HomeIsland
    from herotui.tui.islands.knowledge import KnowledgeIsland
    from herotui.tui.islands.search import SearchIsland
    from herotui.tui.islands.slides import SlidesIsland

    return {"home": HomeIsland, "contacts": ContactsIsland, "calendar": CalendarIsland,
            "documents": DocumentsIsland, "slides": SlidesIsland, "knowledge": KnowledgeIsland,
            "search": SearchIsland, "assistant": AssistantIsland}


class HeroApp(App):
    """Hero's terminal UI."""

    TITLE = "Hero"
    CSS_PATH = "hero.tcss"
    COMMANDS = App.COMMANDS | {VerbCommands}
    BINDINGS = [
        Binding("ctrl+o", "pick_context", "Context"),
        Binding("ctrl+p", "command_palette", "Commands"),
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        *[Binding(f"alt+{i}", f"island({i})", show=False) for i in range(1, 10)],
    ]

    def __init__(self, island: str | None = None, context: str | None = None) -> None:
        super().__init__()
        self.ctx = contexts.current(context)
        self.initial_island = island or "home"
        self._revision: str | None = None

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeroHeader(id="header")
        with TabbedContent(initial=self.initial_island, id="islands"):
            for key, cls in _island_classes().items():
                with TabPane(cls.title, id=key):
                    yield cls(id=f"island-{key}")
        yield Footer()

    def on_mount(self) -> None:
        self._show_context()
        self._revision = self._read_revision()
        self.set_interval(POLL_SECONDS, self._poll_revision)

    def _show_context(self) -> None:
        header = self.query_one(HeroHeader)
        header.set_context(self.ctx.name, self.ctx.color)
        header.set_island(self.active_island().title)
        self.sub_title = self.ctx.name

    # --- islands --------------------------------------------------------------------------

    def islands(self) -> list[Island]:
        return list(self.query(Island))

    def island(self, key: str) -> Island:
        return self.query_one(f"#island-{key}", Island)

    def active_island(self) -> Island:
        tabs = self.query_one("#islands", TabbedContent)
        return self.island(tabs.active or self.initial_island)

    def show_island(self, key: str) -> Island:
        # drop the focus first: a focused widget in the old pane would pull its tab back
        self.set_focus(None)
        self.query_one("#islands", TabbedContent).active = key
        island = self.island(key)
        self.call_after_refresh(island.focus_first)
        return island

    def action_island(self, number: int) -> None:
        keys = list(_island_classes())
        if 1 <= number <= len(keys):
            self.show_island(keys[number - 1])

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        island = self.active_island()
        self.query_one(HeroHeader).set_island(island.title)
        if island.stale:
            island.reload()

    def on_island_failed(self, message: Island.Failed) -> None:
        self.notify(message.text, title="error", severity="error", timeout=8)

    def action_reload(self) -> None:
        for island in self.islands():
            island.reload()

    # --- contexts -------------------------------------------------------------------------

    def action_pick_context(self) -> None:
        from herotui.tui.widgets.context_picker import ContextPicker

        def chosen(name: str | None) -> None:
            if name and name != self.ctx.name:
                self.switch_context(name)

        self.push_screen(ContextPicker(self.ctx.name), chosen)

    def switch_context(self, name: str) -> None:
        from herotui.tui import calls

        try:
            calls.call("context.use", {"name": name}, self.ctx)
            self.ctx = contexts.load(name)
        except Exception as exc:
            self.notify(calls.error_text(exc), title="context", severity="error")
            return
        self._show_context()
        self._revision = self._read_revision()
        self.notify(f"context: {name}", timeout=3)
        self.action_reload()

    # --- live refresh ---------------------------------------------------------------------

    def _revision_file(self) -> Path:
        from herotui.store.index import REVISION_FILE

        return self.ctx.index_path / REVISION_FILE

    def _read_revision(self) -> str | None:
        """The index revision, read without any lock (a tiny file replaced atomically)."""
        path = self._revision_file()
        try:
            st = os.stat(path)
            return f"{st.st_mtime_ns}:{path.read_text().strip()}"
        except OSError:
            return None

    def _poll_revision(self) -> None:
        rev = self._read_revision()
        if rev == self._revision:
            return
        self._revision = rev
        active = self.active_island()
        for island in self.islands():
            if island is active:
                island.reload()
            elif island.live:
                island.stale = True
