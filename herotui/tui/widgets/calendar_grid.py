"""The Calendar island's grids: a week (days as columns, hours as rows, the current time
marked) and a month (weeks as rows, each day with its first events).

Both are one focusable widget drawing Rich text, in the manner of khal's interactive mode and
of calendar apps: arrows move a selected day (and, in the week, the selected event of that
day), enter opens the day. The island gives them the occurrences of the period
(``calendar.list``) and reads :attr:`CalendarGrid.selected` for its edit and delete keys.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, timedelta
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from herotui.tui.format import clip, local

GUTTER = 6  # "09:00 "
DAY_HOURS = (8, 18)  # always shown in the week (more when events are earlier or later)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_grid(day: date) -> tuple[date, date]:
    """First and last day shown for ``day``'s month: whole weeks, Monday to Sunday."""
    first = day.replace(day=1)
    last = day.replace(day=_calendar.monthrange(day.year, day.month)[1])
    return monday(first), monday(last) + timedelta(days=6)


def days_of(o: Any) -> list[date]:
    """The days (user's zone) occurrence ``o`` is on; an all-day end is exclusive."""
    if o.all_day:
        first, end = o.start.date(), o.end.date()
        last = end - timedelta(days=1) if end > first else first
    else:
        s, e = local(o.start), local(o.end)
        first = s.date()
        last = (e - timedelta(microseconds=1)).date() if e > s else first
    out, d = [], first
    while d <= last and len(out) < 62:
        out.append(d)
        d += timedelta(days=1)
    return out


def _span_on(o: Any, day: date) -> tuple[float, float]:
    """(start hour, end hour) of a timed occurrence on ``day``, as fractions of hours."""
    s, e = local(o.start), local(o.end)
    start = 0.0 if s.date() < day else s.hour + s.minute / 60
    end = 24.0 if e.date() > day else e.hour + e.minute / 60
    return start, max(end, start + 0.25)


class CalendarGrid(Widget, can_focus=True):
    """Base of the week and month grids: occurrences, a selected day and event."""

    BINDINGS = [
        Binding("left", "move(-1)", "Day before", show=False),
        Binding("right", "move(1)", "Day after", show=False),
        Binding("enter", "open_day", "Open day", show=False),
    ]
    DEFAULT_CSS = """
    CalendarGrid { width: 1fr; height: 1fr; }
    """

    class Selected(Message):
        """The selected day or event changed (``occurrence`` None: a day with no event)."""

        def __init__(self, grid: "CalendarGrid", day: date, occurrence: Any) -> None:
            super().__init__()
            self.grid = grid
            self.day = day
            self.occurrence = occurrence

    class OpenDay(Message):
        """Enter on a day: the island shows that day."""

        def __init__(self, day: date) -> None:
            super().__init__()
            self.day = day

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.occurrences: list[Any] = []
        self.day = date.today()
        self.pick = 0  # index among the selected day's events
        self.now: datetime | None = None

    # --- data -----------------------------------------------------------------------------

    def set_data(self, occurrences: list[Any], day: date, now: datetime) -> None:
        self.occurrences = list(occurrences)
        self.now = now
        if day != self.day:
            self.pick = 0
        self.day = day
        self.pick = min(self.pick, max(0, len(self.events_on(day)) - 1))
        self.refresh()
        self._announce()

    def events_on(self, day: date) -> list[Any]:
        """The occurrences on ``day``: all-day ones first, then by start."""
        found = [o for o in self.occurrences if day in days_of(o)]
        return sorted(found, key=lambda o: (not o.all_day, o.start.replace(tzinfo=None) if o.all_day
                                            else local(o.start).replace(tzinfo=None), o.title.lower()))

    @property
    def selected(self) -> Any:
        """The selected occurrence, or None."""
        day = self.events_on(self.day)
        return day[self.pick] if 0 <= self.pick < len(day) else None

    def _announce(self) -> None:
        self.post_message(self.Selected(self, self.day, self.selected))

    # --- keys -----------------------------------------------------------------------------

    def action_move(self, days: int) -> None:
        self.day += timedelta(days=days)
        self.pick = 0
        self.refresh()
        self._announce()

    def action_pick(self, delta: int) -> None:
        count = len(self.events_on(self.day))
        if count:
            self.pick = (self.pick + delta) % count
            self.refresh()
            self._announce()

    def action_open_day(self) -> None:
        self.post_message(self.OpenDay(self.day))

    # --- drawing helpers ------------------------------------------------------------------

    def _today(self) -> date:
        return (self.now or datetime.now()).date()

    def _event_style(self, o: Any, selected: bool, index: int = 0) -> Style:
        """Selected: yellow; all-day: magenta; timed: two blues taking turns, so two events
        one after the other stay apart."""
        if selected and self.has_focus:
            return Style(color="black", bgcolor="bright_yellow", bold=True)
        if selected:
            return Style(color="black", bgcolor="yellow")
        if o.all_day:
            return Style(color="bright_white", bgcolor="dark_magenta")
        return Style(color="bright_white", bgcolor="dark_cyan" if index % 2 == 0 else "dodger_blue3")


class WeekGrid(CalendarGrid):
    """Seven days as columns, hours as rows; the current time is a red line in today's column."""

    BINDINGS = [
        Binding("up", "pick(-1)", "Previous event", show=False),
        Binding("down", "pick(1)", "Next event", show=False),
    ]

    def first_day(self) -> date:
        return monday(self.day)

    def layout(self, rows: int) -> tuple[int, int, int]:
        """(first hour, last hour + 1, rows per hour) for ``rows`` rows: the working day widened
        to the week's events; half or quarter hours when there is room, then more hours to
        fill the height; when even one row an hour is too many, a window that keeps the
        selected event (or now) in view."""
        lo, hi = DAY_HOURS
        days = [self.first_day() + timedelta(days=i) for i in range(7)]
        for d in days:
            for o in self.events_on(d):
                if not o.all_day:
                    s, e = _span_on(o, d)
                    lo, hi = min(lo, int(s)), max(hi, min(24, int(-(-e // 1))))
        if hi - lo <= rows:
            per = max(1, min(4, rows // (hi - lo)))
            per = 4 if per == 3 else per
            while (hi - lo + 1) * per <= rows and (lo > 0 or hi < 24):
                # fill the height: the evening to 22:00, then from 7:00, then both ways
                if hi < 22 or (lo <= 7 and hi < 24 and (hi - 22 <= 7 - lo or lo == 0)):
                    hi += 1
                else:
                    lo -= 1
            return lo, hi, per
        focus = None
        sel = self.selected
        if sel is not None and not sel.all_day:
            focus = int(_span_on(sel, self.day)[0])
        elif self.now is not None and self.first_day() <= self.now.date() < self.first_day() + timedelta(days=7):
            focus = self.now.hour
        start = lo if focus is None else max(lo, min(focus - 1, hi - rows))
        return start, start + rows, 1

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        col = max(6, (width - GUTTER) // 7)
        days = [self.first_day() + timedelta(days=i) for i in range(7)]
        today, sel = self._today(), self.selected
        lines: list[Text] = []
        # the day names
        head = Text(" " * GUTTER)
        for d in days:
            label = f"{d.strftime('%a')} {d.day}" if col < 11 else d.strftime("%a %d %b")
            style = Style(bold=True)
            if d == today:
                style = Style(bold=True, color="black", bgcolor="red")
            elif d == self.day:
                style = Style(bold=True, underline=True, color="bright_yellow")
            head.append(clip(label, col - 1).ljust(col - 1)[: col - 1], style)
            head.append("│", "dim")
        lines.append(head)
        # all-day events
        allday = Text()
        allday.append("all-d".ljust(GUTTER), "dim")
        for d in days:
            whole = [o for o in self.events_on(d) if o.all_day]
            cell = Text()
            if whole:
                o = whole[0]
                more = f"+{len(whole) - 1}" if len(whole) > 1 else ""
                cell.append(clip(o.title, col - 1 - len(more)).ljust(col - 1 - len(more)),
                            self._event_style(o, o is sel and d == self.day))
                cell.append(more, "dim")
            cell.append(" " * max(0, col - 1 - cell.cell_len))
            allday.append_text(cell[: col - 1])
            allday.append("│", "dim")
        lines.append(allday)
        # the hours, ``per`` rows each
        rows = max(1, height - len(lines))
        lo, hi, per = self.layout(rows)
        now = self.now
        now_row = None
        if now is not None and now.date() in days and lo <= now.hour < hi:
            now_row = (now.hour - lo) * per + (now.minute * per) // 60
        for r in range((hi - lo) * per):
            hour = lo + r // per
            start, end = hour + (r % per) / per, hour + (r % per + 1) / per
            gutter = f"{hour:02d}:00" if r % per == 0 else ("  :30" if per == 2 else f"  :{(r % per) * 15:02d}")
            row = Text()  # (a style given to Text() itself would colour the whole row)
            if r == now_row:
                row.append(f"{now.hour:02d}:{now.minute:02d}".ljust(GUTTER), Style(color="red", bold=True))
            else:
                row.append(gutter.ljust(GUTTER), Style(dim=True) if r % per else Style())
            for d in days:
                row.append_text(self._cell(d, start, end, col - 1, sel, r == now_row and d == now.date()))
                row.append("│", "dim")
            lines.append(row)
        return Text("\n").join(lines[:height])

    def _cell(self, day: date, start: float, end: float, width: int, sel: Any, now_line: bool) -> Text:
        """One row of one day: the event running then (its start time and title on its first
        row, its colour below), "+n" when others overlap, the red now-line in today's column."""
        timed = [o for o in self.events_on(day) if not o.all_day]
        here = [(i, o, *_span_on(o, day)) for i, o in enumerate(timed)]
        here = [(i, o, s, e) for i, o, s, e in here if s < end and e > start]
        cell = Text()
        if not here:
            cell.append("─" * width if now_line else " " * width, Style(color="red", bold=True) if now_line else "")
            return cell
        chosen = next((t for t in here if t[1] is sel and day == self.day), None)
        i, o, s, e = chosen or here[0]
        style = self._event_style(o, o is sel and day == self.day, i)
        extra = len(here) - 1
        more = f"+{extra}" if extra else ""
        first_row = start <= s < end
        body = ""
        if first_row:
            local_start = local(o.start)
            # the start time when the column has room for it and the title (the row says the hour)
            stamp = f"{local_start:%H:%M} " if local_start.date() == day and width >= 16 else ""
            body = clip(stamp + o.title, width - len(more))
        elif start - s < 1 / 60 + (end - start):  # the second row: where it is
            body = clip(o.location or "", width - len(more)) if o.location else ""
            style = style + Style(bold=False, italic=True)
        text = (("▶" if now_line else "") + body)[: width - len(more)]
        cell.append(text.ljust(width - len(more)), style)
        if now_line:
            cell.stylize(Style(color="red", bold=True), 0, 1)
        if more:
            cell.append(more, Style(color="bright_white", bgcolor="grey37"))
        return cell


class MonthGrid(CalendarGrid):
    """Whole weeks as rows, each day with its first events; up/down move a week."""

    BINDINGS = [
        Binding("up", "move(-7)", "Week before", show=False),
        Binding("down", "move(7)", "Week after", show=False),
        Binding("tab", "pick(1)", "Next event of the day", show=False),
        Binding("shift+tab", "pick(-1)", "Previous event of the day", show=False),
    ]

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        col = max(6, width // 7)
        first, last = month_grid(self.day)
        weeks = ((last - first).days + 1) // 7
        block = max(2, (height - 1) // weeks)
        today, sel = self._today(), self.selected
        lines: list[Text] = []
        head = Text()
        for i in range(7):
            name = _calendar.day_abbr[i]
            head.append(name.center(col - 1)[: col - 1], Style(bold=True))
            head.append("│" if i < 6 else "", "dim")
        lines.append(head)
        for w in range(weeks):
            days = [first + timedelta(days=7 * w + i) for i in range(7)]
            block_lines = [Text() for _ in range(block)]
            for i, d in enumerate(days):
                events = self.events_on(d)
                in_month = d.month == self.day.month
                num_style = Style(bold=True, dim=not in_month)
                if d == today:
                    num_style = Style(bold=True, color="black", bgcolor="red")
                if d == self.day:
                    num_style = num_style + Style(underline=True, color="bright_yellow" if d != today else "black")
                label = f"{d.day:>2}" + (f" {d.strftime('%b')}" if d.day == 1 and col >= 9 else "")
                top = Text(label, num_style)
                top.pad_right(col - 1 - top.cell_len)
                block_lines[0].append_text(top[: col - 1])
                room = block - 1
                shown = events[:room] if len(events) <= room else events[: max(0, room - 1)]
                for j, o in enumerate(shown, 1):
                    stamp = "" if o.all_day else f"{local(o.start):%H:%M} "
                    if col < 12:
                        stamp = "" if o.all_day else f"{local(o.start):%H}h "
                    text = clip(stamp + o.title, col - 1).ljust(col - 1)
                    style = self._event_style(o, o is sel and d == self.day) if in_month or o is sel else Style(dim=True)
                    block_lines[j].append(text, style)
                hidden = len(events) - len(shown)
                for j in range(len(shown) + 1, block):
                    if hidden and j == len(shown) + 1:
                        block_lines[j].append(f"+{hidden} more".ljust(col - 1)[: col - 1], "dim italic")
                    else:
                        block_lines[j].append(" " * (col - 1))
                sep = "│" if i < 6 else ""
                for line in block_lines:
                    line.append(sep, "dim")
            lines.extend(block_lines)
            if len(lines) >= height:
                break
        return Text("\n").join(lines[:height])
