"""Terminals: shells on PTYs, in tabs (ctrl+t new, ctrl+w close, f2 rename, ctrl+pageup/down switch;
shift+pageup/pagedown or the wheel scroll back). The first shell starts when the island is first shown."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, TabbedContent, TabPane

from herotui.tui.islands.base import Island
from herotui.tui.widgets.terminal import HeroTerminal


class TerminalsIsland(Island):
    live = False  # nothing to reload from the context's data

    DEFAULT_CSS = """
    TerminalsIsland { height: 1fr; }
    TerminalsIsland #term-tabs { height: 1fr; }
    TerminalsIsland #term-tabs TabPane { padding: 0; height: 1fr; }
    TerminalsIsland #term-rename { display: none; dock: bottom; }
    TerminalsIsland #term-rename.-open { display: block; }
    """

    BINDINGS = [
        Binding("ctrl+t", "new_terminal", "New terminal"),
        Binding("ctrl+w", "close_terminal", "Close terminal"),
        Binding("f2", "rename_terminal", "Rename"),
        Binding("ctrl+pagedown", "next_terminal", "Next", show=False),
        Binding("ctrl+pageup", "previous_terminal", "Previous", show=False),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count = 0
        self._started = False  # the first shell starts when the island is first on screen

    def compose(self) -> ComposeResult:
        yield TabbedContent(id="term-tabs")
        yield Input(placeholder="Tab name · Enter to rename, Esc to cancel", id="term-rename")

    def on_mount(self) -> None:
        pass  # no data to load; the first terminal starts when the island is first shown

    def on_show(self) -> None:
        """First time on screen (``hero tui --island terminals``, a click on the tab, alt+N):
        start a shell. Later showings leave the tabs as the user left them."""
        if not self._started:
            self.focus_first()

    def reload(self) -> None:
        pass

    def focus_first(self) -> None:
        self._started = True
        if not self.terminals():
            self.new_terminal()
        else:
            term = self.active_terminal()
            if term is not None:
                term.focus()

    # --- tabs -----------------------------------------------------------------------------

    def terminals(self) -> list[HeroTerminal]:
        return list(self.query(HeroTerminal))

    def active_terminal(self) -> HeroTerminal | None:
        tabs = self.query_one("#term-tabs", TabbedContent)
        if not tabs.active:
            return None
        found = tabs.get_pane(tabs.active).query(HeroTerminal)
        return found.first() if found else None

    def new_terminal(self, command: list[str] | None = None, name: str | None = None) -> HeroTerminal:
        self._count += 1
        pane_id = f"term-{self._count}"
        term = HeroTerminal(command, id=f"{pane_id}-tty")
        term.focus_when_mounted = True
        tabs = self.query_one("#term-tabs", TabbedContent)
        tabs.add_pane(TabPane(name or f"shell {self._count}", term, id=pane_id))

        def show() -> None:
            tabs.active = pane_id
            term.focus()

        self.call_after_refresh(show)
        return term

    def close_terminal(self, term: HeroTerminal) -> None:
        """Remove the terminal's tab; its unmount kills the child."""
        pane = term.parent
        while pane is not None and not isinstance(pane, TabPane):
            pane = pane.parent
        if pane is not None and pane.id:
            self.query_one("#term-tabs", TabbedContent).remove_pane(pane.id)
        self.call_after_refresh(self._focus_active)

    def _focus_active(self) -> None:
        term = self.active_terminal()
        if term is not None:
            term.focus()

    def action_new_terminal(self) -> None:
        self.new_terminal()

    def action_close_terminal(self) -> None:
        term = self.active_terminal()
        if term is not None:
            self.close_terminal(term)

    def _step(self, delta: int) -> None:
        tabs = self.query_one("#term-tabs", TabbedContent)
        ids = [p.id for p in tabs.query(TabPane)]
        if tabs.active in ids and ids:
            tabs.active = ids[(ids.index(tabs.active) + delta) % len(ids)]
            self.call_after_refresh(self._focus_active)

    def action_next_terminal(self) -> None:
        self._step(1)

    def action_previous_terminal(self) -> None:
        self._step(-1)

    def action_rename_terminal(self) -> None:
        tabs = self.query_one("#term-tabs", TabbedContent)
        if not tabs.active:
            return
        field = self.query_one("#term-rename", Input)
        field.value = str(tabs.get_tab(tabs.active).label)
        field.add_class("-open")
        field.focus()

    def rename(self, pane_id: str, name: str) -> None:
        tabs = self.query_one("#term-tabs", TabbedContent)
        tabs.get_tab(pane_id).label = name

    @on(Input.Submitted, "#term-rename")
    def _renamed(self, event: Input.Submitted) -> None:
        event.stop()
        tabs = self.query_one("#term-tabs", TabbedContent)
        if tabs.active and event.value.strip():
            self.rename(tabs.active, event.value.strip())
        self._end_rename()

    def on_key(self, event) -> None:
        field = self.query_one("#term-rename", Input)
        if event.key == "escape" and field.has_focus:
            event.stop()
            self._end_rename()

    def _end_rename(self) -> None:
        self.query_one("#term-rename", Input).remove_class("-open")
        self._focus_active()

    @on(HeroTerminal.Exited)
    def _exited(self, event: HeroTerminal.Exited) -> None:
        self.close_terminal(event.terminal)  # `exit` in the shell closes its tab

    def on_unmount(self) -> None:
        for term in self.terminals():
            term.close()  # also done by each terminal's own unmount; this is belt and braces
