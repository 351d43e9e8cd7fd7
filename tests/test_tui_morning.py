"""The TUI a demanding user enjoys (issue 14, item 2), driven by Pilot against real stores.

Every test makes its own data and freezes the clock (time-machine) where the day matters:
nothing here depends on the demo's content or on today's date.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support import hero_app, typed, until

pytest.importorskip("textual")
time_machine = pytest.importorskip("time_machine")

from herotui import registry  # noqa: E402

SIZE = (120, 40)
ZONE = ZoneInfo("Europe/Brussels")
WEDNESDAY = datetime(2026, 1, 7, 9, 30, tzinfo=ZONE)
SATURDAY = datetime(2026, 1, 10, 9, 30, tzinfo=ZONE)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    for var in ("HERO_MODEL", "HERO_MODEL_API_BASE", "HERO_MODEL_API_KEY_ENV", "OLLAMA_API_BASE"):
        monkeypatch.delenv(var, raising=False)


def _log(app) -> str:
    return "\n".join(line.text for line in app.query_one("#assistant-log").lines)


def _text(app, selector: str) -> str:
    return str(app.query_one(selector).render())


def _week(ctx) -> dict:
    """A week of our own around Wednesday 7 January 2026; ids by title."""
    made = {}
    for title, start, extra in (
        ("Standup", "2026-01-07 09:00", {"duration": "15m", "location": "Team corner"}),
        ("Quarterly review", "2026-01-07 10:00", {"location": "Room 3"}),
        ("Offsite", "2026-01-09", {"all_day": True}),
        ("Budget call", "2026-01-05 14:00", {}),
        ("Demo day", "2026-01-12 11:00", {}),
        ("Board meeting", "2026-01-28 16:00", {}),
    ):
        made[title] = registry.call("calendar.add", {"title": title, "start": start, **extra}, ctx).id
    return made


# --- keys and focus ---------------------------------------------------------------------------


async def test_alt_digit_switches_islands_from_a_text_field(ctx):
    app = hero_app(island="assistant")
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#assistant-input")
        assert await until(pilot, lambda: field.has_focus)
        await typed(pilot, "what")
        await pilot.press("alt+3")
        assert await until(pilot, lambda: app.query_one("#islands").active == "calendar")
        assert field.value == "what"  # the digit was not typed into the field
        await pilot.press("alt+8")
        assert await until(pilot, lambda: app.query_one("#islands").active == "assistant" and field.has_focus)
        assert field.value == "what"


async def test_the_assistants_input_has_the_focus_on_arrival(ctx):
    """Typing after switching to the Assistant goes into its input: a space is a space, not
    push-to-talk; elsewhere (Home) no text field takes the focus, so space talks."""
    app = hero_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: app.focused is not None and app.focused.id == "home-today")
        assert app.check_action("talk", ()) is True
        await pilot.press("alt+8")
        field = app.query_one("#assistant-input")
        assert await until(pilot, lambda: field.has_focus)
        await pilot.press("h", "i", "space", "y", "o", "u")
        assert field.value == "hi you"
        assert app.voice_history == []


# --- the Assistant: readable results, decks opened ---------------------------------------------


async def test_typed_requests_show_readable_lines_and_open_the_deck(ctx, tmp_path):
    deck = tmp_path / "review.md"
    deck.write_text("# Q4 review\n\nprepared by Alex\n\n---\n\n# Numbers\n\nup\n\n---\n\n# Next\n\nmore\n")
    made = registry.call("slides.create", {"path": str(deck), "title": "Q4 review", "tags": ["alex"]}, ctx)
    with time_machine.travel(WEDNESDAY, tick=False):
        _week(ctx)
        app = hero_app(island="assistant")
        async with app.run_test(size=SIZE) as pilot:
            field = app.query_one("#assistant-input")
            assert await until(pilot, lambda: field.has_focus)
            await typed(pilot, "add Lena Fischer from Lumen Labs as a contact", "enter")
            assert await until(pilot, lambda: "contact create" in _log(app), timeout=20)
            assert await until(pilot, lambda: "Lena Fischer · Lumen Labs" in _log(app), timeout=20)
            assert "{" not in _log(app) and "'id'" not in _log(app)  # never a raw dict
            assert field.has_focus
            await typed(pilot, "find the deck about Alex and open it", "enter")
            assert await until(pilot, lambda: app.query_one("#islands").active == "slides", timeout=20)
            assert await until(pilot, lambda: "Q4 review" in _text(app, "#slides-position")
                               and "slide 1 of 3" in _text(app, "#slides-position"), timeout=20)
    assert made.id


def test_result_lines_are_readable_and_an_all_day_event_has_no_time():
    from herotui.tui.format import result_lines

    events = [
        {"id": "01A", "title": "Offsite", "start": "2026-01-09T00:00:00", "end": "2026-01-10T00:00:00", "all_day": True},
        {"id": "01B", "title": "Review", "start": "2026-01-07T09:00:00+00:00", "end": "2026-01-07T10:00:00+00:00",
         "all_day": False, "location": "Room 3", "description": "x" * 500},
    ]
    lines = result_lines(events)
    assert lines[0] == "Fri 09 Jan, all day · Offsite"
    assert lines[1] == "Wed 07 Jan 10:00–11:00 · Review · Room 3"  # in the user's zone (Brussels)
    assert not any("00:00" in line for line in lines[:1])
    # a two-day all-day event shows its last day, not the exclusive end
    assert result_lines([{**events[0], "end": "2026-01-11T00:00:00"}]) == ["Fri 09 Jan – Sat 10 Jan, all day · Offsite"]
    contact = {"id": "01C", "name": "Lena Fischer", "company": "Lumen Labs", "emails": ["lena@lumen.example"],
               "notes": "n" * 900}
    assert result_lines(contact) == ["Lena Fischer · Lumen Labs · lena@lumen.example"]
    # a long list is counted, a reply that already names every item is not repeated
    many = [{"title": f"Event {i}", "start": "2026-01-07T09:00:00+00:00", "end": "2026-01-07T09:30:00+00:00"} for i in range(12)]
    assert result_lines(many)[-1] == "… and 4 more" and len(result_lines(many)) == 9
    assert result_lines(events, reply="2 events: Offsite; Review") == []
    # an unknown record: a few key: value pairs, each cut at a word, never a dict
    odd = result_lines({"alpha": "word " * 40, "beta": 2})
    assert len(odd) == 1 and "{" not in odd[0] and odd[0].startswith("alpha: word") and "beta: 2" in odd[0]


# --- Calendar: week grid, month view, occurrence scopes still work ----------------------------


async def test_week_grid_shows_days_hours_and_now_and_deletes_the_selected_event(ctx):
    with time_machine.travel(WEDNESDAY, tick=False):
        ids = _week(ctx)
        app = hero_app(island="calendar")
        async with app.run_test(size=SIZE) as pilot:
            assert await until(pilot, lambda: app.query_one("#calendar-table").row_count == 2)
            await pilot.press("w")
            grid = app.query_one("#calendar-week")
            assert await until(pilot, lambda: grid.display and grid.has_focus and len(grid.occurrences) == 4)
            screen = _text(app, "#calendar-week")
            lines = screen.splitlines()
            assert "Mon 05 Jan" in lines[0] and "Sun 11 Jan" in lines[0]  # days as columns
            assert lines[0].index("Mon 05 Jan") < lines[0].index("Wed 07 Jan") < lines[0].index("Sun 11 Jan")
            assert any(line.startswith("09:30") for line in lines)  # the current time, in the hours' gutter
            assert any(line.startswith("14:00") and "Budget call" in line for line in lines)
            assert "Offsite" in lines[1]  # the all-day row
            assert "Demo day" not in screen  # next week
            # the selection starts on today, first event; down moves to the next one that day
            assert grid.selected.title == "Standup"
            await pilot.press("down")
            assert grid.selected.title == "Quarterly review"
            assert "Quarterly review" in _text(app, "#calendar-selected")
            # x deletes the selected event (a single event: one question)
            await pilot.press("x")
            assert await until(pilot, lambda: app.screen.id == "calendar-confirm")
            await pilot.press("y")
            assert await until(pilot, lambda: len(grid.occurrences) == 3, timeout=20)
            # ] is next week; left from Monday goes back into this one
            await pilot.press("right_square_bracket")
            assert await until(pilot, lambda: "Demo day" in _text(app, "#calendar-week"))
            assert "Week 3" in _text(app, "#calendar-view")
    titles = [e.title for e in registry.call("calendar.list", {"start": "2026-01-01", "end": "2026-01-31"}, ctx)]
    assert "Quarterly review" not in titles and "Standup" in titles and ids


async def test_month_view_and_enter_opens_the_day(ctx):
    with time_machine.travel(WEDNESDAY, tick=False):
        _week(ctx)
        app = hero_app(island="calendar")
        async with app.run_test(size=SIZE) as pilot:
            assert await until(pilot, lambda: app.query_one("#calendar-table").row_count == 2)
            await pilot.press("m")
            grid = app.query_one("#calendar-month")
            assert await until(pilot, lambda: grid.display and len(grid.occurrences) == 6)
            screen = _text(app, "#calendar-month")
            assert "January 2026" in _text(app, "#calendar-view")
            assert screen.splitlines()[0].replace("│", " ").split() == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            assert "16:00 Board" in screen and "Offsite" in screen  # titles cut to the cell, with "…"
            await pilot.press("down", "down", "down")  # three weeks later: Wednesday 28
            assert grid.day.isoformat() == "2026-01-28" and grid.selected.title == "Board meeting"
            await pilot.press("enter")
            assert await until(pilot, lambda: app.query_one("#calendar-table").display
                               and [str(c) for c in app.query_one("#calendar-table").get_row_at(0)][1:2] == ["Board meeting"])
            assert "Wednesday 28 January 2026" in _text(app, "#calendar-view")


async def test_edit_in_the_week_grid_asks_which_occurrence(ctx):
    registry.call("calendar.add", {"title": "Standup", "start": "2026-01-05 09:00", "rrule": "FREQ=DAILY;COUNT=5"}, ctx)
    with time_machine.travel(WEDNESDAY, tick=False):
        app = hero_app(island="calendar")
        async with app.run_test(size=SIZE) as pilot:
            assert await until(pilot, lambda: app.query_one("#calendar-table").has_focus)  # the island's, on arrival
            await pilot.press("w")
            grid = app.query_one("#calendar-week")
            assert await until(pilot, lambda: len(grid.occurrences) == 5)
            assert grid.selected.title == "Standup" and grid.selected.instance is not None
            await pilot.press("e")
            assert await until(pilot, lambda: app.screen.id == "calendar-scope")
            await pilot.press("o")
            assert await until(pilot, lambda: app.screen.id == "event-edit")
            assert "(this occurrence)" in str(app.screen.query_one("#heading").render())


# --- Home -------------------------------------------------------------------------------------


async def test_home_shows_the_next_day_with_events_the_next_meeting_and_its_documents(ctx, tmp_path):
    doc = tmp_path / "brief.md"
    doc.write_text("# Demo day brief\n\nWhat to show.\n")
    with time_machine.travel(SATURDAY, tick=False):  # nothing on Saturday 10 or Sunday 11
        ids = _week(ctx)
        added = registry.call("document.add", {"paths": [str(doc)]}, ctx).added[0]
        registry.call("document.link", {"id": added.id, "events": [ids["Demo day"]]}, ctx)
        app = hero_app()
        async with app.run_test(size=SIZE) as pilot:
            assert await until(pilot, lambda: "Demo day" in _text(app, "#home-agenda"))
            agenda = _text(app, "#home-agenda")
            assert "Nothing today" in agenda and "Monday, 12 January" in agenda
            assert "Next" in agenda and "Demo day" in agenda.split("Next", 1)[1]
            right = _text(app, "#home-recent")
            assert "For “Demo day”" in right and "Demo day brief" in right.split("Recent", 1)[0]
