"""Calendar: day, week and agenda views, event details, an add-event form, and editing or
deleting an event, one occurrence of a series, this and the following ones, or the series
(the question names what a change covers, in the verb's own words)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
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
        Binding("x,delete", "delete", "Delete event"),
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
                          ("n", "bold"), " new  ", ("e", "bold"), " edit  ", ("x", "bold"), " delete    showing: ",
                          (self.view, "bold cyan")))
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

    def _scope(self, o: Any, verb: str, then) -> None:
        """Ask which part of a series a change is for (a single event: no question); ``then``
        gets the arguments that say it."""
        if not o.recurring or o.instance is None:
            then({"id": o.id})
            return
        from herotui.tui.widgets.choice import Choice

        day = o.instance.strftime("%a %-d %b")
        occurrence = o.instance.strftime("%Y-%m-%d") if o.all_day else o.instance.strftime("%Y-%m-%d %H:%M")
        scopes = {"one": {"occurrence": occurrence}, "following": {"occurrence": occurrence, "following": True},
                  "series": {}}

        def picked(answer: str | None) -> None:
            if answer is not None:
                then({"id": o.id, **scopes[answer]})

        self.app.push_screen(Choice(f"{verb} \u201c{o.title}\u201d, which repeats:", [
            ("one", f"only this occurrence ({day})", "o"),
            ("following", f"this one ({day}) and the following ones", "f"),
            ("series", "the whole series", "s"),
        ], id="calendar-scope"), picked)

    def action_edit(self) -> None:
        """Edit the event under the cursor: for a recurring one, this occurrence, this and the
        following ones, or the whole series (untouched fields are kept)."""
        from herotui.tui.widgets.verb_form import VerbForm

        o = self.current()
        if o is None:
            self.app.notify("select an event first", severity="warning")
            return

        def edited(result: Any) -> None:
            if result is not None:
                self.reload()

        def form(fixed: dict) -> None:
            values = {"title": o.title, "location": o.location, "description": o.description, "tags": o.tags,
                      "attendees": [a.email or a.name for a in o.attendees if a.email or a.name]}
            part = ""
            if not o.recurring or fixed.get("occurrence"):  # a series' start is not this occurrence's
                values["start"] = o.start.strftime("%Y-%m-%d") if o.all_day else o.start.strftime("%Y-%m-%d %H:%M")
            if o.recurring:
                part = (" (the whole series)" if not fixed.get("occurrence") else
                        " (this and the following)" if fixed.get("following") else " (this occurrence)")
            self.app.push_screen(VerbForm("calendar.update", fixed=fixed, title=f"Edit {o.title}{part}",
                                          fields=["title", "start", "duration", "location", "attendees", "tags",
                                                  "description"],
                                          values=values, id="event-edit"), edited)

        self._scope(o, "Edit", form)

    def action_delete(self) -> None:
        """Delete the event under the cursor (for a recurring one: which part), after a yes to
        a question that says what goes ("'Standup': all 23 occurrences, from Mon 30 Nov")."""
        o = self.current()
        if o is None:
            self.app.notify("select an event first", severity="warning")
            return
        self._scope(o, "Delete", self._confirm_delete)

    @work(thread=True, group="verb")
    def _confirm_delete(self, args: dict) -> None:
        from herotui import registry

        try:
            scope = registry.scope("calendar.delete", args, self.ctx)
        except Exception as exc:
            from herotui.tui import calls

            self.post_message(self.Failed(calls.error_text(exc)))
            return
        self.app.call_from_thread(self._ask_delete, args, scope or args["id"])

    def _ask_delete(self, args: dict, scope: str) -> None:
        from herotui.tui.widgets.choice import Choice

        def answered(answer: str | None) -> None:
            if answer == "yes":
                self.run_verb("calendar.delete", args, then=lambda result: self._deleted(result), confirmed=True)

        self.app.push_screen(Choice(f"Delete {scope}?", [("yes", "Delete", "y"), ("no", "Keep it", "n")],
                                    id="calendar-confirm"), answered)

    def _deleted(self, result: Any) -> None:
        what = "the occurrence" if result.scope == "occurrence" else (
            "that occurrence and the following ones" if result.scope == "following" else "the event")
        self.app.notify(f"Deleted {what} of \u201c{result.title}\u201d" if result.scope != "event"
                        else f"Deleted \u201c{result.title}\u201d")
        self.reload()
