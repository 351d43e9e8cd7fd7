"""Calendar: day, week and agenda views, event details, and an add-event form."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Static

from herotui.tui.format import when
from herotui.tui.islands.base import Island

VIEWS = {"day": ("calendar.today", {}), "week": ("calendar.week", {}), "agenda": ("calendar.agenda", {"days": 30})}


class CalendarIsland(Island):
    BINDINGS = [
        Binding("d", "view('day')", "Day"),
        Binding("w", "view('week')", "Week"),
        Binding("a", "view('agenda')", "Agenda"),
        Binding("n", "new", "New event"),
        Binding("e", "edit", "Edit event"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = "day"
        self.items: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Label("", id="calendar-view")
        with Horizontal():
            table = DataTable(id="calendar-table", cursor_type="row", zebra_stripes=True)
            table.add_columns("When", "Title", "Where")
            yield table
            with VerticalScroll(id="calendar-detail", classes="pane"):
                yield Static("", id="calendar-card")

    def fetch(self) -> Any:
        name, args = VIEWS[self.view]
        return self.call(name, args)

    def show(self, data: Any) -> None:
        self.query_one("#calendar-view", Label).update(
            Text.assemble(("d", "bold"), " day  ", ("w", "bold"), " week  ", ("a", "bold"), " agenda  ",
                          ("n", "bold"), " new  ", ("e", "bold"), " edit    showing: ", (self.view, "bold cyan")))
        table = self.query_one("#calendar-table", DataTable)
        table.clear()
        self.items = {}
        for i, o in enumerate(data):
            key = f"{o.id}@{i}"
            self.items[key] = o
            table.add_row(when(o.start, o.all_day, time_only=self.view == "day"), o.title, o.location or "", key=key)
        if not data:
            self.query_one("#calendar-card", Static).update(Text("no events in this view", style="dim"))

    def current(self) -> Any:
        """The occurrence under the cursor, or None."""
        return self.items.get(self.cursor_key("calendar-table") or "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        o = self.items.get(event.row_key.value if event.row_key else "")
        if o is None:
            return
        t = Text(o.title + "\n", style="bold")
        t.append(f"{when(o.start, o.all_day)} – {when(o.end, o.all_day, time_only=not o.all_day)}\n", style="cyan")
        for label, value in (("where", o.location), ("who", ", ".join(a.name or a.email or "" for a in o.attendees)),
                             ("tags", ", ".join(o.tags)), ("repeats", "yes" if o.recurring else ""),
                             ("notes", o.description), ("id", o.id)):
            if value:
                t.append(f"{label:>7}  ", style="dim")
                t.append(f"{value}\n")
        self.query_one("#calendar-card", Static).update(t)

    def action_view(self, view: str) -> None:
        self.view = view
        self.reload()

    def action_new(self) -> None:
        from herotui.tui.widgets.verb_form import VerbForm

        def added(result: Any) -> None:
            if result is not None:
                self.reload()

        self.app.push_screen(VerbForm("calendar.add", fields=["title", "start", "duration", "location", "attendees", "tags"],
                                      title="New event"), added)

    def action_edit(self) -> None:
        """Edit the event under the cursor (a recurring event: the whole series; untouched fields are kept)."""
        from herotui.tui.widgets.verb_form import VerbForm

        o = self.current()
        if o is None:
            self.app.notify("select an event first", severity="warning")
            return

        def edited(result: Any) -> None:
            if result is not None:
                self.reload()

        values = {"title": o.title, "location": o.location, "description": o.description, "tags": o.tags,
                  "attendees": [a.email or a.name for a in o.attendees if a.email or a.name]}
        if not o.recurring:  # a series' start is not this occurrence's: leave it empty (unchanged)
            values["start"] = o.start.strftime("%Y-%m-%d") if o.all_day else o.start.strftime("%Y-%m-%d %H:%M")
        series = " (the whole series)" if o.recurring else ""
        self.app.push_screen(VerbForm("calendar.update", fixed={"id": o.id}, title=f"Edit {o.title}{series}",
                                      fields=["title", "start", "duration", "location", "attendees", "tags", "description"],
                                      values=values, id="event-edit"), edited)
