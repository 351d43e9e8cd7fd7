"""SVG snapshots of every island at 80x24 and 120x40 (pytest-textual-snapshot).

Each snapshot is taken on a deterministic store and a frozen clock:

* the store is the ``business`` demo (``demo.load``: 25 contacts, 21 events, 6 documents,
  2 decks, the built-in knowledge book), seeded once per test process under the frozen
  clock with ULIDs drawn from a counter (ids appear in the detail cards), then copied into
  each test's HERO_HOME;
* the clock is frozen (time-machine, ``tick=False``: it holds in the load workers' threads
  too) on Wednesday 2026-01-07 09:30 in Europe/Brussels, the demo week, so Home and
  Calendar show the same day on every run;
* each ``run_before`` drives the island to a meaningful state, then waits until that state is
  on screen (the island's workers done and the widgets showing the data), never on a sleep.

Update after a deliberate UI change: ``pytest tests/test_tui_snapshots.py --snapshot-update``
and review the SVGs (``tests/__snapshots__/test_tui_snapshots/``).
"""

from __future__ import annotations

import itertools
import re
import shutil
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support import typed

pytest.importorskip("textual")
pytest.importorskip("pytest_textual_snapshot")
time_machine = pytest.importorskip("time_machine")

from herotui.tui.app import ISLANDS  # noqa: E402  (no Textual import: a plain table)

FROZEN = datetime(2026, 1, 7, 9, 30, tzinfo=ZoneInfo("Europe/Brussels"))  # Wednesday of the demo week
CONTEXT = "business"
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
MODEL_ENV = ("HERO_MODEL", "HERO_MODEL_API_BASE", "HERO_MODEL_API_KEY_ENV", "OLLAMA_API_BASE")


def _counter_ulids(monkeypatch: pytest.MonkeyPatch, start: int) -> None:
    """``ulid.ULID()`` (what ``new_id`` calls) gives the frozen time stamp and a counter."""
    import ulid

    real = ulid.ULID
    millis = int(FROZEN.timestamp() * 1000)
    counter = itertools.count(start)
    monkeypatch.setattr(ulid, "ULID", lambda: real.from_int((millis << 80) | next(counter)))


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory) -> Path:
    """The business demo, seeded once per process on the frozen clock with counter ids."""
    home = tmp_path_factory.mktemp("snapshot-store") / "hero-home"
    with pytest.MonkeyPatch.context() as mp, time_machine.travel(FROZEN, tick=False):
        mp.setenv("HERO_HOME", str(home))
        mp.setenv("HERO_TZ", "Europe/Brussels")
        mp.delenv("HERO_CONTEXT", raising=False)
        _counter_ulids(mp, 1)
        from herotui import contexts, registry

        registry.call("demo.load", {"only": CONTEXT}, contexts.current())
        business = contexts.load(CONTEXT)
        registry.call("knowledge.list", {}, business)  # the built-in book, loaded on first use
    return home


@pytest.fixture
def store(seeded_store, hero_home, monkeypatch) -> Path:
    """This test's HERO_HOME: a copy of the seeded store; no model configured (rule planner)."""
    shutil.copytree(seeded_store, hero_home, dirs_exist_ok=True)
    for var in MODEL_ENV:
        monkeypatch.delenv(var, raising=False)
    _counter_ulids(monkeypatch, 1 << 40)  # anything created while the app runs: still no random id
    return hero_home


# --- waiting until the state is on screen -----------------------------------------------------


def _data_workers(app) -> list:
    return [w for w in app.workers if w.group in ("load", "verb")]


def _busy(app) -> str | None:
    """What still changes the screen without a worker: a DataTable measures its columns when
    idle, a Markdown parses in a thread and mounts its blocks later."""
    from textual.widgets import DataTable, Markdown

    if any(w.is_running or w.state.name == "PENDING" for w in _data_workers(app)):
        return "a worker"
    for table in app.screen.query(DataTable):
        if table._require_update_dimensions or table._updated_cells or table._new_rows:
            return f"table #{table.id} not measured yet"
    for md in app.screen.query(Markdown):
        if md.lock.is_locked:
            return f"markdown #{md.id} still rendering"
    return None


def _steady_cursors(app) -> None:
    """A blinking cursor is a coin toss in a screenshot: show cursors steadily."""
    from textual.widgets import Input

    from herotui.tui.widgets.terminal import HeroTerminal

    for field in app.screen.query(Input):
        field.cursor_blink = False
    for term in app.screen.query(HeroTerminal):
        if term.board.modes.cursor_blinking or not term._cursor_phase:
            term.board.modes.cursor_blinking = False
            term._cursor_phase = True
            term.refresh()


def _screenshot(app) -> str:
    return re.sub(r"terminal-\d+-", "terminal-", app.export_screenshot())


async def _settle(pilot, ready, what: str, still: bool = True, timeout: float = 30.0) -> None:
    """Wait until ``ready(app)`` and nothing is pending (workers, table measuring, markdown);
    with ``still``, also until the screen is the same on three looks 0.1 s apart."""
    app = pilot.app
    deadline = time.monotonic() + timeout  # time.monotonic is not frozen by time-machine
    last, same = None, 0
    while True:
        await app.workers.wait_for_complete(_data_workers(app))
        await pilot.pause()
        _steady_cursors(app)
        if ready(app) and _busy(app) is None:
            if not still:
                return
            shot = _screenshot(app)
            same = same + 1 if shot == last else 0
            last = shot
            if same >= 2:
                return
        else:
            last, same = None, 0
        if time.monotonic() > deadline:
            raise AssertionError(f"not on screen after {timeout:.0f} s: {what} ({_busy(app) or 'not ready'})")
        await pilot.pause(0.1)


def _text(app, selector: str) -> str:
    return str(app.query_one(selector).render())


def _rows(app, selector: str) -> int:
    return app.query_one(selector).row_count


async def _type(pilot, selector: str, text: str) -> None:
    pilot.app.query_one(selector).focus()
    await pilot.pause()
    await typed(pilot, text, "enter")


# --- each island in a meaningful state --------------------------------------------------------


async def _home(pilot) -> None:
    await _settle(pilot, lambda app: "Quarterly report review" in _text(app, "#home-agenda")
                  and "Northwind" in _text(app, "#home-recent"), "today's agenda and recent documents")


async def _contacts(pilot) -> None:
    await _settle(pilot, lambda app: _rows(app, "#contacts-table") == 25, "25 contacts", still=False)
    pilot.app.query_one("#contacts-table").focus()
    await pilot.press("down")  # Alex Smith
    await _settle(pilot, lambda app: "alex.smith@northwind.example" in _text(app, "#contacts-card"),
                  "Alex Smith's card")


async def _calendar(pilot) -> None:
    await _settle(pilot, lambda app: _rows(app, "#calendar-table") == 4, "today's 4 events", still=False)
    pilot.app.query_one("#calendar-table").focus()
    await pilot.press("down")  # the quarterly report review
    await _settle(pilot, lambda app: "Meeting room 3" in _text(app, "#calendar-card"), "the review's details")


async def _documents(pilot) -> None:
    await _settle(pilot, lambda app: _rows(app, "#documents-table") >= 6, "the documents")  # the demo's count may grow
    pilot.app.query_one("#documents-table").focus()
    await pilot.press("enter")
    await _settle(pilot, lambda app: app.query_one("#documents-text").source.strip() != ""
                  and "loading" not in _text(app, "#documents-title"), "the first document's text")


async def _slides(pilot) -> None:
    await _settle(pilot, lambda app: _rows(app, "#slides-table") == 2, "2 decks", still=False)
    pilot.app.query_one("#slides-table").focus()
    await pilot.press("enter")
    await _settle(pilot, lambda app: "slide 1 of" in _text(app, "#slides-position")
                  and app.query_one("#slides-text").source.strip() != "", "the first deck at slide 1")


async def _knowledge(pilot) -> None:
    await _settle(pilot, lambda app: _rows(app, "#knowledge-table") >= 1
                  and "Books" in _text(app, "#knowledge-where"), "the books", still=False)
    pilot.app.query_one("#knowledge-table").focus()
    await pilot.press("enter")  # the built-in 'hero' book
    await _settle(pilot, lambda app: "backspace" in _text(app, "#knowledge-where"), "the book's pages", still=False)
    await pilot.press("enter")  # its first page
    await _settle(pilot, lambda app: app.query_one("#knowledge-text").source.startswith("*[hero:"), "a page")


async def _search(pilot) -> None:
    await _settle(pilot, lambda app: True, "the search field", still=False)
    await _type(pilot, "#search-input", "alex")
    await _settle(pilot, lambda app: _rows(app, "#search-table") >= 3, "results for 'alex'")


async def _assistant(pilot) -> None:
    await _settle(pilot, lambda app: True, "the assistant", still=False)
    await _type(pilot, "#assistant-input", "what's on today")

    def planned(app) -> bool:
        log = "\n".join(line.text for line in app.query_one("#assistant-log").lines)
        return "$ hero --context business calendar today" in log and "Vendor call" in log

    await _settle(pilot, planned, "the plan as CLI lines and its result")


def _shell_lines(app) -> list[str]:
    from herotui.tui.widgets.terminal import HeroTerminal

    terms = app.query(HeroTerminal)
    if not terms or not terms.first().alive:
        return []
    return terms.first().screen_text().rstrip().splitlines()


async def _terminals(pilot) -> None:
    await _settle(pilot, lambda app: _shell_lines(app) == ["$"], "the shell's first prompt", still=False)
    await typed(pilot, "echo hello", "enter")
    await _settle(pilot, lambda app: _shell_lines(app) == ["$ echo hello", "hello", "$"], "the command and its output")


RUN_BEFORE = {"home": _home, "contacts": _contacts, "calendar": _calendar, "documents": _documents,
              "slides": _slides, "knowledge": _knowledge, "search": _search, "assistant": _assistant,
              "terminals": _terminals}


def test_every_island_has_a_snapshot():
    assert list(RUN_BEFORE) == list(ISLANDS), "a new island needs its run_before here (and its snapshots)"


@pytest.fixture
def plain_shell(tmp_path, monkeypatch) -> None:
    """/bin/sh with a fixed prompt, no start-up file and an empty home: the same screen every run."""
    home = tmp_path / "shell-home"
    home.mkdir()
    (home / "profile").write_text("")
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.setenv("PS1", "$ ")
    monkeypatch.setenv("ENV", str(home / "profile"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("island", list(ISLANDS))
def test_island_snapshot(island, size, store, plain_shell, snap_compare):
    from herotui.tui.shell import HeroApp

    with time_machine.travel(FROZEN, tick=False):
        app = HeroApp(island=island, context=CONTEXT)
        assert snap_compare(app, terminal_size=SIZES[size], run_before=RUN_BEFORE[island])


# --- the Calendar's week grid and month view, on events of their own -------------------------

CALENDAR_EVENTS = (  # the week of Wednesday 7 January 2026 and a few around it (not the demo's)
    ("Standup", "2026-01-05 09:00", {"duration": "15m", "rrule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=15",
                                     "location": "Team corner"}),
    ("Quarterly review", "2026-01-07 10:00", {"duration": "1h30", "location": "Room 3"}),
    ("Lunch with Alex", "2026-01-07 12:30", {"duration": "1h"}),
    ("Vendor call", "2026-01-07 16:00", {"duration": "30m", "location": "Phone"}),
    ("Budget call", "2026-01-05 14:00", {}),
    ("Design review", "2026-01-06 11:00", {"duration": "2h"}),
    ("Offsite", "2026-01-09", {"all_day": True}),
    ("Ghent fair", "2026-01-10 10:00", {"duration": "5h", "location": "ICC Ghent"}),
    ("Demo day", "2026-01-14 11:00", {}),
    ("Board meeting", "2026-01-28 16:00", {}),
)


@pytest.fixture
def calendar_store(hero_home, monkeypatch) -> Path:
    """A context of our own with the events above, made on the frozen clock with counter ids."""
    for var in MODEL_ENV:
        monkeypatch.delenv(var, raising=False)
    _counter_ulids(monkeypatch, 1 << 20)
    with time_machine.travel(FROZEN, tick=False):
        from herotui import contexts, registry

        ctx = contexts.create(CONTEXT) if CONTEXT not in contexts.names() else contexts.load(CONTEXT)
        for title, start, extra in CALENDAR_EVENTS:
            registry.call("calendar.add", {"title": title, "start": start, **extra}, ctx)
    return hero_home


def _calendar_view(key: str, moves: tuple[str, ...] = ()):
    async def run_before(pilot) -> None:
        await _settle(pilot, lambda app: app.query_one("#calendar-table").has_focus, "the day's list", still=False)
        await pilot.press(key, *moves)
        grid = "#calendar-week" if key == "w" else "#calendar-month"
        await _settle(pilot, lambda app: app.query_one(grid).display and len(app.query_one(grid).occurrences) > 5,
                      f"the {grid[10:]} grid")

    return run_before


CALENDAR_VIEWS = {"week": _calendar_view("w", ("down",)), "month": _calendar_view("m", ("right",))}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("view", list(CALENDAR_VIEWS))
def test_calendar_view_snapshot(view, size, calendar_store, snap_compare):
    """The week grid (days as columns, hours as rows, the current time marked in today's column)
    and the month view, with the selected event highlighted."""
    from herotui.tui.shell import HeroApp

    with time_machine.travel(FROZEN, tick=False):
        app = HeroApp(island="calendar", context=CONTEXT)
        assert snap_compare(app, terminal_size=SIZES[size], run_before=CALENDAR_VIEWS[view])
