"""Home: today's agenda, the next event, recent documents, and a quick ask."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static

from herotui.tui.format import when
from herotui.tui.islands.base import Island


class HomeIsland(Island):

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Ask Hero: what's on today? · add lunch with Alex tomorrow at 12:30 …", id="home-ask")
        yield Static("", id="home-reply")
        with Horizontal(id="home-panes"):
            with VerticalScroll(id="home-today", classes="pane"):
                yield Static("loading…", id="home-agenda")
            with VerticalScroll(id="home-docs", classes="pane"):
                yield Static("", id="home-recent")

    def fetch(self) -> Any:
        from herotui.errors import NotFound

        today = self.call("calendar.today")
        try:
            nxt = self.call("calendar.next")
        except NotFound:
            nxt = None
        docs = self.call("document.list", {"limit": 8})
        return today, nxt, docs

    def show(self, data: Any) -> None:
        today, nxt, docs = data
        agenda = Text("Today\n", style="bold")
        if not today:
            agenda.append("nothing on the calendar today\n", style="dim")
        for o in today:
            agenda.append(f"{when(o.start, o.all_day, time_only=True):>8}  ", style="cyan")
            agenda.append(o.title + "\n")
        agenda.append("\nNext\n", style="bold")
        if nxt is None:
            agenda.append("nothing coming up\n", style="dim")
        else:
            agenda.append(f"{when(nxt.start, nxt.all_day)}  ", style="cyan")
            agenda.append(nxt.title + (f" · {nxt.location}" if nxt.location else "") + "\n")
        self.query_one("#home-agenda", Static).update(agenda)
        recent = Text("Recent documents\n", style="bold")
        if not docs:
            recent.append("no documents yet ('hero document add FILE')\n", style="dim")
        for d in sorted(docs, key=lambda d: d.updated, reverse=True):
            recent.append(f"{d.kind:>5}  ", style="magenta")
            recent.append(d.title + "\n")
        self.query_one("#home-recent", Static).update(recent)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        self.query_one("#home-reply", Static).update(Text(f"… {text}", style="dim"))
        self.run_verb("ask.run", {"text": text, "session": getattr(self.app, "conversation", None)}, self._replied)

    def _replied(self, result: Any) -> None:
        from herotui.tui.format import ask_text

        self.query_one("#home-reply", Static).update(ask_text(result))
