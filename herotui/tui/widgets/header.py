"""The header: app name, the active context in its colour, the island, and the status area."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label


class HeroHeader(Horizontal):
    """One line: ``Hero · <context> · <island>`` on the left, the status area on the right.

    The status label (``#status``) is reserved for the voice indicator; it is empty until
    something sets it with :meth:`set_status`.
    """

    DEFAULT_CSS = """
    HeroHeader { height: 1; background: $panel; }
    HeroHeader > Label { padding: 0 1; }
    HeroHeader #title { text-style: bold; }
    HeroHeader #context { text-style: bold; }
    HeroHeader #spacer { width: 1fr; }
    HeroHeader #status { width: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Label("Hero", id="title")
        yield Label("", id="context")
        yield Label("", id="island")
        yield Label("", id="spacer")
        yield Label("", id="status")

    def set_context(self, name: str, color: str = "") -> None:
        try:
            Style.parse(color)
        except Exception:  # an unknown colour name: no colour
            color = ""
        text = Text("● ", style=color) + Text(name, style=f"bold {color}".strip())
        self.query_one("#context", Label).update(text)

    def set_island(self, title: str) -> None:
        self.query_one("#island", Label).update(Text(title, style="dim"))

    def set_status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)
