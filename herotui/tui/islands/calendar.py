"""Calendar: day, week, month and agenda views, event details, an add-event form, and editing
or deleting an event, one occurrence of a series, this and the following ones, or the series
(the question names what a change covers, in the verb's own words).

Views (keys as in khal's interactive mode and calendar apps): ``d`` a day as a list, ``w`` the
week as a grid (days as columns, hours as rows, the current time marked), ``m`` the month as
a grid, ``a`` the agenda (the next 30 days). ``[`` and ``]`` go to the previous and next day,
week or month, ``t`` back to today; in a grid the arrows move the selected day (and in the
week, up and down the selected event), enter opens the day. ``n`` adds, ``e`` edits and ``x``
deletes the selected event in every view.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Label, Static

from herotui import registry, timeparse
from herotui.tui import calls
from herotui.tui.format import span, when
from herotui.tui.islands.base import Island
from herotui.tui.widgets.calendar_grid import CalendarGrid, MonthGrid, WeekGrid, month_grid
from herotui.tui.widgets.choice import Choice
from herotui.tui.widgets.table import Table
from herotui.tui.widgets.verb_form import VerbForm

VIEWS = ("day", "week", "month", "agenda")
AGENDA_DAYS = 30


def _now() -> datetime:
    return datetime.now(timeparse.local_zone())


class CalendarIsland(Island):
    BINDINGS = [
        Binding("d", "view('day')", "Day"),
        Binding("w", "view('week')", "Week"),
        Binding("m", "view('month')", "Month"),
        Binding("a", "view('agenda')", "Agenda"),
        Binding("left_square_bracket", "shift(-1)", "Previous", show=False),
        Binding("right_square_bracket", "shift(1)", "Next", show=False),
        Binding("t", "today", "Today", show=False),
        Binding("n", "new", "New event"),
        Binding("e", "edit", "Edit event"),
        Binding("x,delete", "delete", "Delete event"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = "day"
        self.day: date = _now().date()
        self.items: dict[str, Any] = {}
        self._shown: tuple[str, str] | None = None  # the period on screen

    def compose(self) -> ComposeResult:
        yield Label("", id="calendar-view")
        with Horizontal(id="calendar-list"):
            yield Table("When", "Title", "Where", id="calendar-table")
            with VerticalScroll(id="calendar-detail", classes="pane"):
                yield Static("", id="calendar-card")
        yield WeekGrid(id="calendar-week")
        yield MonthGrid(id="calendar-month")
        yield Static("", id="calendar-selected")

    def on_mount(self) -> None:
        self._arrange()
        super().on_mount()

    def focus_first(self) -> None:
        self._main_widget().focus()

    def _main_widget(self):
        if self.view == "week":
            return self.query_one(WeekGrid)
        if self.view == "month":
            return self.query_one(MonthGrid)
        return self.query_one("#calendar-table", Table)

    def _arrange(self) -> None:
        grid = self.view in ("week", "month")
        self.query_one("#calendar-list").display = not grid
        self.query_one(WeekGrid).display = self.view == "week"
        self.query_one(MonthGrid).display = self.view == "month"
        self.query_one("#calendar-selected").display = grid

    # --- the period shown -----------------------------------------------------------------

    def period(self) -> tuple[str, str] | None:
        """``calendar.list``'s --from and --to for the view (days, inclusive); None: the agenda."""
        if self.view == "day":
            return self.day.isoformat(), self.day.isoformat()
        if self.view == "week":
            first = self.day - timedelta(days=self.day.weekday())
            return first.isoformat(), (first + timedelta(days=6)).isoformat()
        if self.view == "month":
            first, last = month_grid(self.day)
            return first.isoformat(), last.isoformat()
        return None

    def title(self) -> str:
        d = self.day
        if self.view == "day":
            return d.strftime("%A %-d %B %Y")
        if self.view == "week":
            first = d - timedelta(days=d.weekday())
            last = first + timedelta(days=6)
            left = first.strftime("%a %-d") + (first.strftime(" %b") if first.month != last.month else "")
            return f"Week {d.isocalendar().week} · {left} – {last.strftime('%a %-d %b %Y')}"
        if self.view == "month":
            return d.strftime("%B %Y")
        return f"Agenda · the next {AGENDA_DAYS} days"

    def fetch(self) -> Any:
        window = self.period()
        if window is None:
            return self.call("calendar.agenda", {"days": AGENDA_DAYS}), _now(), window
        return self.call("calendar.list", {"start": window[0], "end": window[1]}), _now(), window

    def show(self, data: Any) -> None:
        found, now, self._shown = data
        keys = Text.assemble((self.title(), "bold"), "   ")
        for key, label in (("d", "day"), ("w", "week"), ("m", "month"), ("a", "agenda")):
            keys.append(key, "bold")
            keys.append(f" {label} ", "bold cyan" if label == self.view else "")
        keys.append(" [ ] ", "bold")
        keys.append("move  ")
        keys.append("t", "bold")
        keys.append(" today")
        self.query_one("#calendar-view", Label).update(keys)
        self._arrange()
        if self.view in ("week", "month"):
            grid: CalendarGrid = self._main_widget()
            grid.set_data(found, self.day, now.replace(tzinfo=None))
            return
        self.items = {}
        for i, o in enumerate(found):  # an occurrence's key: its event and start (the cursor stays on it)
            key = f"{o.id}@{o.start.isoformat()}"
            self.items[key if key not in self.items else f"{key}#{i}"] = o
        self.query_one("#calendar-table", Table).refill(
            (key, (when(o.start, o.all_day, time_only=self.view == "day"), o.title, o.location or ""))
            for key, o in self.items.items())
        if not found:
            empty = "no events on this day" if self.view == "day" else "no events in this view"
            self.query_one("#calendar-card", Static).update(Text(empty, style="dim"))

    def current(self) -> Any:
        """The occurrence under the cursor (a list) or selected (a grid), or None."""
        if self.view in ("week", "month"):
            return self._main_widget().selected
        return self.items.get(self.query_one("#calendar-table", Table).current_key or "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        o = self.items.get(event.row_key.value if event.row_key else "")
        if o is None:
            return
        self.query_one("#calendar-card", Static).update(self._card(o))

    def _card(self, o: Any) -> Text:
        t = Text(o.title + "\n", style="bold")
        t.append(span(o.start, o.end, o.all_day) + "\n", style="cyan")
        for label, value in (("where", o.location), ("who", ", ".join(a.name or a.email or "" for a in o.attendees)),
                             ("tags", ", ".join(o.tags)), ("repeats", "yes" if o.recurring else ""),
                             ("notes", o.description), ("id", o.id)):
            if value:
                t.append(f"{label:>7}  ", style="dim")
                t.append(f"{value}\n")
        return t

    def on_calendar_grid_selected(self, event: CalendarGrid.Selected) -> None:
        moved = event.day != self.day
        self.day = event.day
        line = Text()
        o = event.occurrence
        if o is None:
            line.append(event.day.strftime("%a %-d %b") + ": no events", style="dim")
        else:
            line.append(span(o.start, o.end, o.all_day), style="cyan")
            line.append("  " + o.title, style="bold")
            if o.location:
                line.append("  · " + o.location)
            count = len(event.grid.events_on(event.day))
            if count > 1:
                key = "↑/↓" if self.view == "week" else "tab"
                line.append(f"   ({event.grid.pick + 1} of {count} that day, {key})", style="dim")
        self.query_one("#calendar-selected", Static).update(line)
        if moved and self.period() != self._shown:
            self.reload()  # the selection left the week or month shown: show the one it is in

    def on_calendar_grid_open_day(self, event: CalendarGrid.OpenDay) -> None:
        self.day = event.day
        self.action_view("day")

    def action_view(self, view: str) -> None:
        if view not in VIEWS:
            return
        self.view = view
        self._arrange()
        self._main_widget().focus()
        self.reload()

    def action_shift(self, delta: int) -> None:
        """The previous or next day, week or month (the agenda always starts today)."""
        if self.view == "day":
            self.day += timedelta(days=delta)
        elif self.view == "week":
            self.day += timedelta(weeks=delta)
        elif self.view == "month":
            month = self.day.month - 1 + delta
            year = self.day.year + month // 12
            self.day = date(year, month % 12 + 1, 1)
        else:
            return
        self.reload()

    def action_today(self) -> None:
        self.day = _now().date()
        self.reload()

    def action_new(self) -> None:
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
        o = self.current()
        if o is None:
            self.app.notify("select an event first", severity="warning", markup=False)
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
            self.app.notify("select an event first", severity="warning", markup=False)
            return
        self._scope(o, "Delete", self._confirm_delete)

    @work(thread=True, group="verb")
    def _confirm_delete(self, args: dict) -> None:
        try:
            scope = registry.scope("calendar.delete", args, self.ctx)
        except Exception as exc:
            self.post_message(self.Failed(calls.error_text(exc)))
            return
        self.app.call_from_thread(self._ask_delete, args, scope or args["id"])

    def _ask_delete(self, args: dict, scope: str) -> None:
        def answered(answer: str | None) -> None:
            if answer == "yes":
                self.run_verb("calendar.delete", args, then=lambda result: self._deleted(result), confirmed=True)

        self.app.push_screen(Choice(f"Delete {scope}?", [("yes", "Delete", "y"), ("no", "Keep it", "n")],
                                    id="calendar-confirm"), answered)

    def _deleted(self, result: Any) -> None:
        what = "the occurrence" if result.scope == "occurrence" else (
            "that occurrence and the following ones" if result.scope == "following" else "the event")
        self.app.notify(f"Deleted {what} of \u201c{result.title}\u201d" if result.scope != "event"
                        else f"Deleted \u201c{result.title}\u201d", markup=False)
        self.reload()
