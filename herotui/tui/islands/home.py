"""Home: the day at a glance and a quick ask.

Today's events (or, on a day with none, the next day that has some, named as such), the next
meeting with how soon it starts and the documents linked to it (what to read before it), the
recent documents, and a field to ask Hero anything. The ask field is not focused on arrival:
space is push-to-talk here; ``/`` (or a click) goes to the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static

from herotui import timeparse
from herotui.errors import NotFound
from herotui.tui.format import local, presented_deck, when
from herotui.tui.format import ask_text
from herotui.tui.islands.base import Island

LOOK_AHEAD_DAYS = 14  # how far Home looks for the next day with events


def _soon(start: datetime, now: datetime) -> str:
    """"now", "in 25 min", "in 2 h 10", "tomorrow", "in 3 days"."""
    minutes = int((start - now).total_seconds() // 60)
    if minutes <= 0:
        return "now"
    if minutes < 60:
        return f"in {minutes} min"
    if minutes < 12 * 60:
        return f"in {minutes // 60} h {minutes % 60:02d}" if minutes % 60 else f"in {minutes // 60} h"
    days = (local(start).date() - now.date()).days
    return "tomorrow" if days == 1 else f"in {days} days" if days > 1 else "today"


def _kind(kind: str) -> str:
    return {"markdown": "md", "text": "txt"}.get(kind, kind)[:4]


class HomeIsland(Island):
    BINDINGS = [Binding("slash", "ask", "Ask")]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ to ask Hero: what's on today? · add lunch with Alex tomorrow at 12:30 …", id="home-ask")
        reply = Static("", id="home-reply")
        reply.display = False  # shown once something was asked
        yield reply
        with Horizontal(id="home-panes"):
            with VerticalScroll(id="home-today", classes="pane"):
                yield Static("loading…", id="home-agenda")
            with VerticalScroll(id="home-docs", classes="pane"):
                yield Static("", id="home-recent")

    def focus_first(self) -> None:
        self.query_one("#home-today").focus()  # not the field: space talks on Home

    def action_ask(self) -> None:
        self.query_one("#home-ask", Input).focus()

    def fetch(self) -> Any:
        now = datetime.now(timeparse.local_zone())
        day, events = now.date(), self.call("calendar.today")
        if not events:  # a quiet day: the next day with events
            ahead = [o for o in self.call("calendar.agenda", {"days": LOOK_AHEAD_DAYS})
                     if (o.start.date() if o.all_day else local(o.start).date()) > now.date()]
            if ahead:
                first = ahead[0]
                day = first.start.date() if first.all_day else local(first.start).date()
                events = [o for o in ahead if (o.start.date() if o.all_day else local(o.start).date()) == day]
        try:
            nxt = self.call("calendar.next")
        except NotFound:
            nxt = None
        linked = self.call("document.list", {"event": nxt.id}) if nxt is not None else []
        docs = self.call("document.list", {"limit": 8})
        return now, day, events, nxt, linked, docs

    def show(self, data: Any) -> None:
        now, day, events, nxt, linked, docs = data
        agenda = Text(no_wrap=True, overflow="ellipsis")  # one line an item, cut at the pane's edge
        if day == now.date():
            agenda.append(f"Today · {day.strftime('%A %-d %B')}\n", style="bold")
        elif events:
            label = "Tomorrow" if day == now.date() + timedelta(days=1) else day.strftime("%A")
            agenda.append(f"Nothing today · {label}, {day.strftime('%-d %B')}:\n", style="bold")
        else:
            agenda.append(f"Today · {day.strftime('%A %-d %B')}\n", style="bold")
        if not events:
            agenda.append(f"nothing on the calendar in the next {LOOK_AHEAD_DAYS} days\n", style="dim")
        for o in events:
            past = not o.all_day and o.end <= now
            agenda.append(f"{when(o.start, o.all_day, time_only=True):>7}  ", style="dim" if past else "cyan")
            agenda.append(o.title, style="dim" if past else "")
            if o.location:
                agenda.append(f" · {o.location}", style="dim")
            agenda.append("\n")
        agenda.append("\nNext\n", style="bold")
        if nxt is None:
            agenda.append("nothing coming up\n", style="dim")
        else:
            today_timed = local(nxt.start).date() == now.date() and not nxt.all_day
            agenda.append(f"{when(nxt.start, time_only=True) if today_timed else when(nxt.start, nxt.all_day)}  ", style="cyan")
            agenda.append(nxt.title, style="bold")
            if not nxt.all_day:
                agenda.append(f"  ({_soon(nxt.start, now)})", style="yellow")
            agenda.append("\n")
            if nxt.location:
                agenda.append(f"  {nxt.location}\n", style="dim")
            who = ", ".join(a.name or a.email or "" for a in nxt.attendees if a.name or a.email)
            if who:
                agenda.append(f"  with {who}\n", style="dim")
        self.query_one("#home-agenda", Static).update(agenda)
        right = Text(no_wrap=True, overflow="ellipsis")
        if nxt is not None:
            right.append(f"For “{nxt.title}”\n", style="bold")
            if not linked:
                right.append("no documents linked ('hero document link DOC --event ID')\n", style="dim")
            for d in linked:
                right.append(f"{_kind(d.kind):>4}  ", style="magenta")
                right.append(d.title + "\n")
            right.append("\n")
        right.append("Recent documents\n", style="bold")
        if not docs:
            right.append("no documents yet ('hero document add FILE')\n", style="dim")
        for d in sorted(docs, key=lambda d: d.updated, reverse=True):
            right.append(f"{_kind(d.kind):>4}  ", style="magenta")
            right.append(d.title + "\n")
        self.query_one("#home-recent", Static).update(right)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        event.input.value = ""
        reply = self.query_one("#home-reply", Static)
        reply.update(Text(f"… {text}", style="dim"))
        reply.display = True
        self.run_verb("ask.run", {"text": text, "session": getattr(self.app, "conversation", None)}, self._replied)

    def _replied(self, result: Any) -> None:
        self.query_one("#home-reply", Static).update(ask_text(result))
        deck = presented_deck(result)
        if deck is not None:
            self.app.open_deck(*deck)  # type: ignore[attr-defined]
