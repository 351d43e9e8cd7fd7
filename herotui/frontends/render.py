"""Printing results for people (Rich) and scripts (``--json``).

How a result type looks on a terminal is its view (:mod:`herotui.frontends.views`); lists
and records are laid out here as tables. A long verb's progress (``registry.PROGRESS``) is
drawn by :class:`ProgressBar` on standard error; the planner's steps (``hero agent run``) are
said there as they finish (:func:`planner_steps`).

JSON shape (stable): a verb returning a record prints one object with the record's fields;
a verb returning records prints an array of them; timestamps are ISO 8601 with their zone.
Errors go to stderr: ``error: ...`` and ``hint: ...`` lines, or with ``--json`` one object
``{"error": {"code", "message", "hint"}}``.
"""

from __future__ import annotations

import itertools
import json
import sys
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from herotui.errors import HeroError
from herotui.results import jsonable  # noqa: F401 (render.jsonable: the front-ends' name for it)


def err(message: str) -> None:
    print(message, file=sys.stderr)


def error(exc: HeroError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": exc.to_dict()}), file=sys.stderr)
        return
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


class ProgressBar:
    """A Rich progress bar on standard error for a verb's ``registry.PROGRESS`` reports: drawn
    from the first report (a verb that reports nothing draws nothing), gone when closed."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, what: str, done: int, total: int) -> None:
        if self.bar is None:
            from rich.console import Console  # ~54 ms cold: paid only by output that needs it
            # ~160 ms cold: paid only by output that needs it
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task(what, total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def progress_bar() -> ProgressBar | None:
    """A bar for a verb's progress when standard error is a terminal and ``HERO_PROGRESS`` is
    not off (``0``, ``false``, ``no``, ``off``), else None (nothing drawn, nothing counted)."""
    from herotui import settings

    stream = sys.stderr
    try:
        if stream is None or not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return ProgressBar() if settings.get().HERO_PROGRESS else None


def print_step(res: Any) -> None:
    """A planner step finished: its line on standard error, when that is a terminal (for people)."""
    if sys.stderr.isatty():
        from herotui.frontends.views import step_line

        print(step_line(res), file=sys.stderr, flush=True)


@contextmanager
def planner_steps(v: Any):
    """While verb ``v`` runs, the planner's finished steps are printed (:func:`print_step`):
    ``hero agent run`` tells :data:`herotui.planner.agent.STEP_DONE`; other verbs, nothing."""
    if v.service != "agent":
        yield
        return
    from herotui.planner import agent

    token = agent.STEP_DONE.set(print_step)
    try:
        yield
    finally:
        agent.STEP_DONE.reset(token)


PIPE_WIDTH = 10_000  # piped output: lines are never wrapped or cut (a path, a hash, a plan line)


def _piped() -> bool:
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return True


def _console():
    from rich.console import Console  # ~54 ms cold: paid only by output that needs it

    if _piped():
        # Not a terminal: no width to fit. Rich would wrap (or crop) at COLUMNS or 80, so
        # print with an unbounded width and soft wrapping: a line stays one line.
        return Console(width=PIPE_WIDTH, soft_wrap=True, highlight=False)
    return Console(soft_wrap=False, highlight=False)


def _print(renderable: Any, width: int | None = None) -> None:
    """Print a Rich renderable; piped, at ``width`` (default unbounded), trailing blanks removed."""
    if not _piped():
        _console().print(renderable)
        return
    from rich.console import Console  # ~54 ms cold: paid only by output that needs it

    console = Console(width=width or PIPE_WIDTH, soft_wrap=width is None, highlight=False)
    with console.capture() as capture:
        console.print(renderable)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in capture.get().splitlines()))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, datetime):
        from herotui.timeparse import local_zone

        return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("--%m-%d") if value.year == 1604 else value.isoformat()
    return str(value)


def _row_cell(row: Any, column: str) -> str:
    """A cell of a table row; all-day events show dates (the end as the last day)."""
    value = getattr(row, column)
    if isinstance(value, datetime) and getattr(row, "all_day", False):
        day = value.date()
        if column == "end" and (value.hour, value.minute) == (0, 0):
            from datetime import timedelta

            day -= timedelta(days=1)  # iCalendar ends all-day events on the next day
        return day.isoformat()
    return _cell(value)


def _styled(text: str) -> Any:
    """``text`` with its ``[[hit]]`` marks shown in bold yellow (any other bracket is text)."""
    import re

    from rich.text import Text  # ~20 ms cold: paid only by output that needs it

    out = Text()
    at = 0
    for m in re.finditer(r"\[\[(?!\[)(.+?)\]\]", text, flags=re.S):
        out.append(text[at:m.start()])
        out.append(m.group(1), style="bold yellow")
        at = m.end()
    out.append(text[at:])
    return out


def output(result: Any, as_json: bool, *, cross_context: bool = False) -> None:
    """Print ``result``: JSON, or for people (a terminal) or pipes (plain lines, never wrapped).

    ``cross_context``: the rows come from several contexts (``--all-contexts``), so a table
    says which context each row is from.
    """
    if getattr(result, "__pages__", False):
        _pages(iter(result), as_json, cross_context)
        return
    if as_json:
        print(_json(result))
        return
    if result is None:
        return
    if getattr(type(result), "__present__", False) and sys.stdin.isatty() and sys.stdout.isatty():
        from herotui.frontends import present  # the interactive presenter: only when presenting

        present.run(result)
        return
    text_field = getattr(type(result), "__text__", None)
    if text_field and getattr(result, text_field, None) is not None:
        sys.stdout.write(getattr(result, text_field))
        return
    from herotui.frontends import views

    func = views.find(result)
    if func is not None or hasattr(result, "__rich__"):  # a view, or a Rich renderable of its own
        piped = _piped()
        shown = func(result, piped) if func is not None else result
        if isinstance(shown, str):
            sys.stdout.write(shown)
        else:
            _print(shown, _document_width(result) if piped else None)
        return
    if isinstance(result, list):
        _table(result, cross_context=cross_context)
        return
    if hasattr(result, "model_dump"):
        _record(result)
        return
    print(result)


def _pages(pages: Any, as_json: bool, cross_context: bool) -> None:
    """A listing printed page by page (``registry.Pages``): memory holds one page.

    The same text as the whole list would give: JSON item by item; piped lines as they come;
    a terminal table laid out from its first page (a short listing is one page, and keeps
    Rich's table), the later pages in the same columns.
    """
    first = next(pages, [])
    second = next(pages, None)
    if second is None:
        output(first, as_json, cross_context=cross_context)
        return
    if as_json:
        from pydantic import TypeAdapter  # ~118 ms cold: paid only by output that needs it

        adapter = TypeAdapter(type(first[0]))
        sys.stdout.write("[\n")
        sep = ""
        for chunk in itertools.chain((first, second), pages):
            for item in chunk:
                body = adapter.dump_json(item, indent=2).decode().replace("\n", "\n  ")
                sys.stdout.write(f"{sep}  {body}")
                sep = ",\n"
        sys.stdout.write("\n]\n")
        return
    columns = _columns(first, cross_context)
    if _piped():
        for chunk in itertools.chain((first, second), pages):
            _table(chunk, cross_context=cross_context, columns=columns)
        return
    width = _console().width
    layout = _layout(columns, [[_items(r, c) for c in columns] for r in first], width)
    header = True
    for chunk in itertools.chain((first, second), pages):
        _plain_table(layout, [[_items(r, c) for c in columns] for r in chunk], header=header)
        header = False
    if layout.hidden:
        err(f"(not shown at {width} columns: {', '.join(layout.hidden)}; a wider terminal or --json shows them)")


def _document_width(result: Any) -> int | None:
    """Piped slides are laid out (rules, Markdown): as wide as their longest source line."""
    slides = getattr(result, "slides", None)
    if not isinstance(slides, list) or not slides or not hasattr(slides[0], "markdown"):
        return None
    from rich.cells import cell_len  # ~11 ms cold: paid only by output that needs it

    return max([80] + [cell_len(line) + 4 for s in slides for line in s.markdown.splitlines()])


def _json(result: Any) -> str:
    if isinstance(result, list) and result and hasattr(result[0], "model_dump"):
        from pydantic import TypeAdapter  # ~118 ms cold; one pass in pydantic-core: ~7x faster on 10k rows

        return TypeAdapter(list[type(result[0])]).dump_json(result, indent=2).decode()
    if hasattr(result, "model_dump_json"):
        return result.model_dump_json(indent=2)
    return json.dumps(jsonable(result), indent=2, ensure_ascii=False)


RICH_TABLE_MAX = 200  # above this many rows Rich's layout costs seconds: align columns ourselves

# Terminal tables shorten free text (names, titles, tags...) with an ellipsis and never break
# a value a person copies or reads as one: ids, emails, phones, dates, numbers. Values keep
# their width; a list of them (two emails) goes one per line when the column is narrow.
# When even the values do not fit, whole columns are left out (least important first, the
# id and the name/title last) and a note on stderr says which.
VALUE_COLUMNS = {"id", "emails", "email", "phones", "phone", "start", "end", "time", "updated", "created", "birthday",
                 "date", "sha256", "score", "pages", "slides", "passages", "size", "kind", "context", "active", "builtin",
                 "occurrence", "instance", "filename", "path", "citation", "color", "actor", "verb", "outcome", "book"}
PRIMARY_COLUMNS = ("name", "title")  # the free text a row is about: left out last
GAP = 2  # blanks between columns
PRIMARY_EASY = 30  # the name/title grows twice as fast as other free text up to this width
FREE_FLOOR = 8  # free text is shortened down to this many cells (or its header) before columns go


def _columns(rows: list, cross_context: bool) -> list[str]:
    first = rows[0]
    columns = list(getattr(type(first), "__columns__", None) or type(first).model_fields)
    if "context" not in type(first).model_fields:
        return columns
    cross_context = cross_context or len({getattr(r, "context", None) for r in rows}) > 1
    if cross_context and "context" not in columns:
        columns.insert(0, "context")
    return columns


def _table(rows: list, cross_context: bool = False, columns: list[str] | None = None) -> None:
    if not rows:
        err("nothing found")
        return
    first = rows[0]
    columns = columns or _columns(rows, cross_context)
    all_day = "all_day" in type(first).model_fields
    if _piped():
        # Piped: one record per line, tab-separated, no header and no wrapping (like gh, ls),
        # so grep/cut/awk work; --json is the structured format.
        if all_day:
            lines = ["\t".join([_row_cell(r, c) for c in columns]).replace("\n", " ") for r in rows]
        else:
            lines = _piped_lines(rows, columns)
        sys.stdout.write("\n".join(lines) + "\n")
        return
    width = _console().width  # COLUMNS, else the terminal's (as Rich will lay it out)
    cells = [[_items(r, c) for c in columns] for r in rows]
    layout = _layout(columns, cells, width)
    if len(rows) > RICH_TABLE_MAX:
        _plain_table(layout, cells)
    else:
        _rich_table(layout, cells)
    if layout.hidden:
        err(f"(not shown at {width} columns: {', '.join(layout.hidden)}; a wider terminal or --json shows them)")


def _piped_lines(rows: list, columns: list[str]) -> list[str]:
    """Piped table lines, as ``_cell`` gives them, with the common cells (text, none, a list
    of text) done inline: 10k contacts 0.2 -> 0.03 s."""
    lines = []
    append = lines.append
    for r in rows:
        d = getattr(r, "__dict__", None)
        cells = []
        for c in columns:
            v = d[c] if d is not None and c in d else getattr(r, c)
            t = type(v)
            if t is str:
                cells.append(v)
            elif v is None:
                cells.append("")
            elif t is list and (not v or (len(v) == 1 and type(v[0]) is str) or all(type(x) is str for x in v)):
                cells.append(v[0] if len(v) == 1 else ", ".join(v))
            else:
                cells.append(_cell(v))
        line = "\t".join(cells)
        append(line.replace("\n", " ") if "\n" in line else line)
    return lines


def _rich_table(layout: _Layout, cells: list[list[list[str]]]) -> None:
    from rich.table import Table  # ~49 ms cold: paid only by output that needs it

    table = Table(box=None, header_style="bold", pad_edge=False, collapse_padding=False)
    for i in layout.shown:
        c = layout.columns[i]
        free = c not in VALUE_COLUMNS
        w = layout.widths[i]
        table.add_column(c, width=w, min_width=w, no_wrap=True, overflow="ellipsis" if free else "fold")
    for row in cells:
        table.add_row(*[_styled(layout.cell(i, row[i])) for i in layout.shown])
    _console().print(table)


def _items(row: Any, column: str) -> list[str]:
    """A cell of a terminal table as its items (a list value keeps its items apart)."""
    value = getattr(row, column)
    if isinstance(value, list) and column in VALUE_COLUMNS:
        return [_cell(v).replace("\n", " ") for v in value]
    if isinstance(value, float):
        return [f"{value:.2f}"]
    if column == "end" and isinstance(value, datetime) and not getattr(row, "all_day", False):
        start = getattr(row, "start", None)
        if isinstance(start, datetime):
            from herotui.timeparse import local_zone

            zone = local_zone()
            if start.astimezone(zone).date() == value.astimezone(zone).date():
                return [value.astimezone(zone).strftime("%H:%M")]  # same day: the time says it
    return [_row_cell(row, column).replace("\n", " ")]


class _Layout:
    def __init__(self, columns: list[str], widths: list[int], shown: list[int], stacked: set[int]) -> None:
        self.columns, self.widths, self.shown, self.stacked = columns, widths, shown, stacked

    @property
    def hidden(self) -> list[str]:
        return [c for i, c in enumerate(self.columns) if i not in self.shown]

    def cell(self, i: int, items: list[str]) -> str:
        from rich.cells import cell_len  # ~11 ms cold: paid only by output that needs it

        joined = ", ".join(items)
        if i in self.stacked and cell_len(joined.replace("[[", "").replace("]]", "")) > self.widths[i]:
            return "\n".join(items)  # one value per line rather than one cut in two
        hit = joined.find("[[")
        w = self.widths[i]
        if self.columns[i] not in VALUE_COLUMNS and hit > w // 3 and cell_len(joined.replace("[[", "").replace("]]", "")) > w:
            # a snippet shortened to the column: show it from a little before its first hit
            start = joined.rfind(" ", 0, hit - w // 4) + 1 or hit - w // 4
            return "…" + joined[start:]
        return joined


def _layout(columns: list[str], cells: list[list[list[str]]], width: int) -> _Layout:
    """Column widths for a terminal ``width``: see VALUE_COLUMNS above."""
    from rich.cells import cell_len  # ~11 ms cold: paid only by output that needs it

    def shown_len(text: str) -> int:
        return cell_len(text.replace("[[", "").replace("]]", ""))  # [[...]] marks a hit: not shown

    n = len(columns)
    natural = [max([cell_len(c)] + [shown_len(", ".join(row[i])) for row in cells]) for i, c in enumerate(columns)]
    item = [max([cell_len(c)] + [shown_len(x) for row in cells for x in row[i]]) for i, c in enumerate(columns)]
    value = [c in VALUE_COLUMNS for c in columns]
    primary = next((i for i, c in enumerate(columns) if c in PRIMARY_COLUMNS), None)
    if primary is None:
        primary = next((i for i in range(n) if not value[i]), None)
    floor = [min(natural[i], max(cell_len(c), FREE_FLOOR)) for i, c in enumerate(columns)]
    comfortable = list(floor)  # the primary keeps a readable width while other columns can go
    if primary is not None:
        comfortable[primary] = min(natural[primary], max(floor[primary], width // 6))
    # Left out first: free text other than the primary (right to left), then values other
    # than the id (right to left), then the id; the primary column stays.
    order = [i for i in reversed(range(n)) if not value[i] and i != primary]
    order += [i for i in reversed(range(n)) if value[i] and columns[i] != "id" and i != primary]
    order += [i for i in range(n) if columns[i] == "id" and i != primary]

    def needs(shown: list[int], stacked: bool, free: list[int]) -> int:
        return sum((item[i] if stacked else natural[i]) if value[i] else free[i] for i in shown) + GAP * (len(shown) - 1)

    shown, stacked, free = _columns_that_fit(order, value, natural, width, needs, comfortable, floor)
    widths = [0] * n
    for i in shown:
        widths[i] = (item[i] if stacked else natural[i]) if value[i] else free[i]
    if len(shown) == 1:
        widths[shown[0]] = min(natural[shown[0]], width)  # one column left: it folds (values) or ends in ...
    _grow(widths, natural, shown, primary, width - sum(widths) - GAP * (len(shown) - 1))
    return _Layout(columns, widths, shown, {i for i in shown if value[i] and stacked})


def _columns_that_fit(order: list[int], value: list[bool], natural: list[int], width: int, needs,
                      comfortable: list[int], floor: list[int]) -> tuple[list[int], bool, list[int]]:
    """The columns shown, whether values are stacked (one item per line) and the free-text
    widths: columns are left out in ``order`` until ``needs(shown, stacked, free)`` fits."""
    n = len(natural)
    shown = list(range(n))
    stacked, free = False, comfortable
    if sum(natural) + GAP * (n - 1) <= width:
        return shown, stacked, free
    for k, drop in enumerate([None] + order):
        if drop is not None:
            shown.remove(drop)
        nxt = order[k] if k < len(order) else None
        tries = [(False, comfortable), (True, comfortable)]
        if nxt is None or value[nxt]:  # before a value goes, the primary gives up its comfort
            tries.append((True, floor))
        fit = next((t for t in tries if needs(shown, *t) <= width), None)
        if fit is not None:
            stacked, free = fit
            break
        if len(shown) == 1:
            break
    return shown, stacked, free


def _grow(widths: list[int], natural: list[int], shown: list[int], primary: int | None, spare: int) -> None:
    """Give ``spare`` cells to the shortened columns (water-filling: the narrowest grows first;
    the primary grows twice as fast up to PRIMARY_EASY cells)."""
    grow = [i for i in shown if widths[i] < natural[i]]

    def level(j: int) -> float:
        if j != primary:
            return widths[j]
        return widths[j] / 2 if widths[j] < PRIMARY_EASY else widths[j] - PRIMARY_EASY / 2

    while spare > 0 and grow:
        i = min(grow, key=lambda j: (level(j), j))
        widths[i] += 1
        spare -= 1
        if widths[i] >= natural[i]:
            grow.remove(i)


def _plain_table(layout: _Layout, cells: list[list[list[str]]], header: bool = True) -> None:
    """Aligned columns for long listings (Rich's layout is slow there): the same widths."""
    from rich.cells import cell_len, set_cell_size  # ~11 ms cold: paid only by output that needs it

    def fit(text: str, w: int, free: bool) -> str:
        if cell_len(text) <= w:
            return set_cell_size(text, w)
        return set_cell_size(text, w - 1) + "…" if free else text  # a value is never cut

    out = []
    if header:
        names = [layout.columns[i] for i in layout.shown]
        out.append("  ".join(fit(h, layout.widths[i], True) for h, i in zip(names, layout.shown)).rstrip())
    for row in cells:
        parts = [layout.cell(i, row[i]).replace("[[", "").replace("]]", "").split("\n") for i in layout.shown]
        for k in range(max(len(p) for p in parts)):
            line = [fit(p[k] if k < len(p) else "", layout.widths[i], layout.columns[i] not in VALUE_COLUMNS)
                    for p, i in zip(parts, layout.shown)]
            out.append("  ".join(line).rstrip())
    sys.stdout.write("\n".join(out) + "\n")


def _record(model: Any) -> None:
    from rich.table import Table  # ~49 ms cold: paid only by output that needs it

    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value in (None, [], ""):
            continue
        if isinstance(value, list) and value and hasattr(value[0], "model_dump"):
            value = "\n".join(", ".join(f"{k}={_cell(v)}" for k, v in item.model_dump().items() if v not in (None, "")) for item in value)
        table.add_row(name, _styled(_cell(value)))
    _print(table)
