"""The terminal UI, driven headless by Textual's Pilot against real stores (HERO_HOME is a temp folder)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
from support import hero_app, typed, until

pytest.importorskip("textual")

from herotui import registry  # noqa: E402

SIZE = (120, 40)

# data relative to today ("today 23:00", "in 5 days"): the same whatever the hour or weekday
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("weekday_morning")]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def _rows(app, table_id: str) -> list[list[str]]:
    from textual.widgets import DataTable

    table = app.query_one(f"#{table_id}", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _text(app, selector: str) -> str:
    widget = app.query_one(selector)
    return str(widget.render())


# --- shell ------------------------------------------------------------------------------------


async def test_header_shows_context_and_opens_on_island(ctx):
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "personal" in _text(app, "#context")
        assert app.query_one("#islands").active == "contacts"
        assert "Contacts" in _text(app, "#island")
        assert _text(app, "#status") == ""  # reserved for the voice indicator


async def test_small_terminal_80x24(ctx):
    registry.call("contact.create", {"name": "Alex Smith"}, ctx)
    app = hero_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("contacts", "calendar", "documents", "slides", "knowledge", "search", "assistant", "home"):
            app.show_island(key)
            await pilot.pause(0.05)
        assert await until(pilot, lambda: "Today" in _text(app, "#home-agenda"))


async def test_space_is_bound_only_as_the_talk_key(ctx):
    app = hero_app()
    async with app.run_test(size=SIZE):
        for node in [app, *app.query("*")]:
            for binding in getattr(node, "BINDINGS", []):
                key = binding.key if hasattr(binding, "key") else binding[0]
                action = binding.action if hasattr(binding, "action") else binding[1]
                if "space" in key.split(","):
                    assert node is app and action == "talk" and binding.priority, node


async def test_context_picker_switches_and_refreshes(ctx):
    from herotui import contexts

    contexts.create("business")
    registry.call("contact.create", {"name": "Lena Fischer"}, contexts.load("business"))
    registry.call("contact.create", {"name": "Alex Smith"}, ctx)
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: _rows(app, "contacts-table") == [["Alex Smith", "", "", ""]])
        await pilot.press("ctrl+o")
        await pilot.pause()
        from herotui.tui.widgets.context_picker import ContextPicker

        assert isinstance(app.screen, ContextPicker)
        await pilot.press("home", "enter")  # business sorts first
        assert await until(pilot, lambda: _rows(app, "contacts-table") == [["Lena Fischer", "", "", ""]])
        assert "business" in _text(app, "#context")
        assert contexts.saved_choice() == "business"


# --- islands ----------------------------------------------------------------------------------


async def test_contacts_list_detail_and_search(ctx):
    registry.call("contact.create", {"name": "Alex Smith", "emails": ["alex@example.com"], "company": "Acme", "tags": ["vip"]}, ctx)
    registry.call("contact.create", {"name": "Bo Chen", "company": "Northwind"}, ctx)
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "contacts-table")) == 2)
        assert ["Alex Smith", "alex@example.com", "Acme", "vip"] in _rows(app, "contacts-table")
        assert "Alex Smith" in _text(app, "#contacts-card") or "Bo Chen" in _text(app, "#contacts-card")
        await pilot.click("#contacts-search")
        await typed(pilot, "northwnd")
        assert await until(pilot, lambda: [r[0] for r in _rows(app, "contacts-table")] == ["Bo Chen"])


async def test_contact_create_form_and_tag(ctx):
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one("#contacts-table").focus()
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.id == "contact-form"
        await typed(pilot, "Lena Fischer")
        await pilot.press("tab", *"lena@lumen.example", "tab", *"Lumen Labs", "tab", *"new, lead")
        await pilot.press("enter")
        assert await until(pilot, lambda: any(r[0] == "Lena Fischer" for r in _rows(app, "contacts-table")))
        made = registry.call("contact.list", {}, ctx)
        assert [(c.name, c.emails, c.company, c.tags) for c in made] == [("Lena Fischer", ["lena@lumen.example"], "Lumen Labs", ["lead", "new"])] or \
            [(c.name, c.emails, c.company, sorted(c.tags)) for c in made] == [("Lena Fischer", ["lena@lumen.example"], "Lumen Labs", ["lead", "new"])]
        app.query_one("#contacts-table").focus()
        await pilot.press("t")
        await pilot.pause()
        await typed(pilot, "vip", "enter")
        assert await until(pilot, lambda: "vip" in registry.call("contact.list", {}, ctx)[0].tags)


async def test_contact_form_shows_validation_error(ctx):
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one("#contacts-table").focus()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("tab", *"not-an-email", "enter")  # no name, bad email
        assert await until(pilot, lambda: "invalid input" in _text(app.screen, "#error"))
        assert app.screen.id == "contact-form"
        await pilot.press("escape")
        assert registry.call("contact.list", {}, ctx) == []


async def test_calendar_views_and_add_form(ctx):
    registry.call("calendar.add", {"title": "Quarterly review", "start": "today 23:00", "duration": "30m"}, ctx)
    registry.call("calendar.add", {"title": "Dentist", "start": "in 5 days 09:00"}, ctx)
    app = hero_app(island="calendar")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: [r[1] for r in _rows(app, "calendar-table")] == ["Quarterly review"])
        app.query_one("#calendar-table").focus()
        await pilot.press("a")
        assert await until(pilot, lambda: [r[1] for r in _rows(app, "calendar-table")] == ["Quarterly review", "Dentist"])
        await pilot.press("n")
        await pilot.pause()
        await typed(pilot, "Lunch with Alex", "tab")
        await typed(pilot, "tomorrow 12:30", "enter")
        assert await until(pilot, lambda: "Lunch with Alex" in [r[1] for r in _rows(app, "calendar-table")])


async def test_documents_list_and_markdown_viewer(ctx, tmp_path):
    doc = tmp_path / "report.md"
    doc.write_text("# Quarterly report\n\nRevenue grew by **twelve** percent.\n")
    registry.call("document.add", {"paths": [str(doc)]}, ctx)
    app = hero_app(island="documents")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "documents-table")) == 1)
        app.query_one("#documents-table").focus()
        await pilot.press("enter")
        assert await until(pilot, lambda: "report" in _text(app, "#documents-title").lower()
                            and "twelve" in app.query_one("#documents-text").source)


async def test_contact_edit_form_is_prefilled_and_changes_only_what_was_edited(ctx):
    made = registry.call("contact.create", {"name": "Alex Smith", "emails": ["alex@example.com"], "company": "Acme",
                                            "role": "CTO", "tags": ["vip"]}, ctx)
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "contacts-table")) == 1)
        app.query_one("#contacts-table").focus()
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "contact-edit"
        assert app.screen.query_one("#p-name").value == "Alex Smith"
        assert app.screen.query_one("#p-emails").value == "alex@example.com"
        company = app.screen.query_one("#p-company")
        company.value = "Northwind"
        app.screen.query_one("#p-role").value = ""  # emptied: cleared
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: _rows(app, "contacts-table")[0][2] == "Northwind")
    got = registry.call("contact.show", {"id": made.id}, ctx)
    assert (got.name, got.emails, got.company, got.role, got.tags) == ("Alex Smith", ["alex@example.com"], "Northwind", None, ["vip"])


async def test_calendar_edit_moves_an_event(ctx):
    ev = registry.call("calendar.add", {"title": "Quarterly review", "start": "in 2 days 10:00", "location": "Room 4"}, ctx)
    app = hero_app(island="calendar")
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#calendar-table").focus()
        await pilot.press("a")
        assert await until(pilot, lambda: [r[1] for r in _rows(app, "calendar-table")] == ["Quarterly review"])
        await pilot.press("e")
        await pilot.pause()
        assert app.screen.id == "event-edit"
        assert app.screen.query_one("#p-location").value == "Room 4"
        app.screen.query_one("#p-title").value = "Quarterly review (moved)"
        app.screen.query_one("#p-start").value = "in 3 days 15:00"
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: [r[1] for r in _rows(app, "calendar-table")] == ["Quarterly review (moved)"])
    got = registry.call("calendar.show", {"id": ev.id}, ctx)
    assert got.title == "Quarterly review (moved)" and got.location == "Room 4"
    assert (got.start.hour, got.start.minute) == (15, 0)


async def test_documents_tags_and_links(ctx, tmp_path):
    doc = tmp_path / "report.md"
    doc.write_text("# Quarterly report\n\nRevenue grew.\n")
    registry.call("document.add", {"paths": [str(doc)]}, ctx)
    registry.call("contact.create", {"name": "Alex Smith", "emails": ["alex@example.com"]}, ctx)
    app = hero_app(island="documents")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "documents-table")) == 1)
        app.query_one("#documents-table").focus()
        await pilot.press("enter")
        assert await until(pilot, lambda: "tags" in _text(app, "#documents-meta"))
        await pilot.press("t")
        await pilot.pause()
        await typed(pilot, "finance, q4", "enter")
        assert await until(pilot, lambda: "finance, q4" in _text(app, "#documents-meta"))
        assert _rows(app, "documents-table")[0][2] == "finance, q4"
        await pilot.press("l")
        await pilot.pause()
        await typed(pilot, "alex", "enter")
        assert await until(pilot, lambda: "Alex Smith" in _text(app, "#documents-meta"))
        await pilot.press("u")
        await pilot.pause()
        await typed(pilot, "q4", "enter")
        assert await until(pilot, lambda: "finance" in _text(app, "#documents-meta") and "q4" not in _text(app, "#documents-meta"))
    got = registry.call("document.list", {}, ctx)[0]
    assert got.tags == ["finance"] and len(got.contacts) == 1


async def test_slides_present_with_arrows(ctx, tmp_path):
    deck = tmp_path / "deck.md"
    deck.write_text("# Alex deck\n\nfirst\n\n---\n\n# Second\n\nmiddle\n\n---\n\n# Third\n\nlast\n")
    registry.call("slides.create", {"path": str(deck)}, ctx)
    app = hero_app(island="slides")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "slides-table")) == 1)
        app.query_one("#slides-table").focus()
        await pilot.press("enter")
        assert await until(pilot, lambda: "slide 1 of 3" in _text(app, "#slides-position"))
        await pilot.press("right", "right", "right")
        assert "slide 3 of 3" in _text(app, "#slides-position")
        assert "last" in app.query_one("#slides-text").source
        await pilot.press("left")
        assert "slide 2 of 3" in _text(app, "#slides-position")


async def test_knowledge_books_pages_and_ask(ctx):
    app = hero_app(island="knowledge")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: any(r[0] == "hero" for r in _rows(app, "knowledge-table")), timeout=10)
        app.query_one("#knowledge-table").focus()
        await pilot.press("enter")
        assert await until(pilot, lambda: "backspace" in _text(app, "#knowledge-where"))
        await pilot.press("enter")
        assert await until(pilot, lambda: app.query_one("#knowledge-text").source.startswith("*[hero:"))
        await pilot.click("#knowledge-ask")
        await typed(pilot, "how do I switch context", "enter")
        assert await until(pilot, lambda: "**[hero:" in app.query_one("#knowledge-text").source, timeout=10)


async def test_search_opens_result_in_its_island(ctx):
    alex = registry.call("contact.create", {"name": "Alex Smith", "company": "Acme"}, ctx)
    for i in range(3):
        registry.call("contact.create", {"name": f"Other {i}"}, ctx)
    app = hero_app(island="search")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#search-input")
        await typed(pilot, "alex smith", "enter")
        assert await until(pilot, lambda: any(r[1] == "Alex Smith" for r in _rows(app, "search-table")))
        await pilot.press("enter")
        assert await until(pilot, lambda: app.query_one("#islands").active == "contacts")
        assert await until(pilot, lambda: app.island("contacts")._current_id() == alex.id)


async def test_home_agenda_and_quick_ask(ctx):
    registry.call("calendar.add", {"title": "Quarterly review", "start": "today 23:00"}, ctx)
    app = hero_app()
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: "Quarterly review" in _text(app, "#home-agenda"))
        await pilot.click("#home-ask")
        await typed(pilot, "what's on today", "enter")
        assert await until(pilot, lambda: "$ hero" in _text(app, "#home-reply"), timeout=10)


async def test_assistant_shows_cli_line_and_confirms_with_y(ctx):
    registry.call("contact.create", {"name": "Alex Smith"}, ctx)
    app = hero_app(island="assistant")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#assistant-input")
        await typed(pilot, "what's on today", "enter")

        def log_text() -> str:
            return "\n".join(line.text for line in app.query_one("#assistant-log").lines)

        assert await until(pilot, lambda: "$ hero" in log_text() and "calendar" in log_text(), timeout=10)
        await pilot.click("#assistant-input")
        await typed(pilot, "delete contact Alex Smith", "enter")
        assert await until(pilot, lambda: app.island("assistant").pending, timeout=10)
        assert len(registry.call("contact.list", {}, ctx)) == 1
        await pilot.press("y")
        assert await until(pilot, lambda: registry.call("contact.list", {}, ctx) == [], timeout=10)


# --- command palette --------------------------------------------------------------------------


async def test_palette_lists_every_verb_and_runs_a_form(ctx):
    from textual.command import CommandPalette

    from herotui.tui.widgets.verb_form import VerbForm

    app = hero_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await typed(pilot, "contact.create")
        assert await until(pilot, lambda: "contact.create" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt))
        await pilot.press("enter")
        assert await until(pilot, lambda: isinstance(app.screen, VerbForm))
        assert {p.name for p in app.screen.params} == {p.name for p in registry.get("contact.create").params}
        await typed(pilot, "Mia Wong", "enter")
        assert await until(pilot, lambda: [c.name for c in registry.call("contact.list", {}, ctx)] == ["Mia Wong"])
        assert not isinstance(app.screen, VerbForm)


async def test_palette_provider_discovers_all_verbs(ctx):
    from herotui.tui.commands import VerbCommands

    app = hero_app()
    async with app.run_test(size=SIZE):
        provider = VerbCommands(app.screen)
        await provider.startup()
        names = [hit.text async for hit in provider.discover()]
        assert sorted(names) == sorted(registry.verbs())


async def test_destructive_form_needs_confirm(ctx):
    from herotui.tui.widgets.verb_form import VerbForm

    alex = registry.call("contact.create", {"name": "Alex Smith"}, ctx)
    app = hero_app()
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(VerbForm("contact.delete"))
        await pilot.pause()
        await typed(pilot, alex.id, "enter")
        assert await until(pilot, lambda: "confirmation" in _text(app.screen, "#error"))
        app.screen.query_one("#confirm").value = True
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: registry.call("contact.list", {}, ctx) == [])


# --- live refresh -----------------------------------------------------------------------------


async def test_live_refresh_from_another_process(ctx, hero):
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert _rows(app, "contacts-table") == []
        proc = await asyncio.to_thread(hero, "contact", "create", "--name", "Remote Person")
        assert proc.code == 0, proc
        started = time.monotonic()
        assert await until(pilot, lambda: any(r[0] == "Remote Person" for r in _rows(app, "contacts-table")), timeout=3)
        assert time.monotonic() - started < 1.5


# --- tables and labels: text as written, the cursor kept, the columns measured ----------------


def _screen_lines(widget) -> list[str]:
    return ["".join(seg.text for seg in widget.render_line(y)) for y in range(widget.size.height)]


async def test_names_that_look_like_markup_are_shown_as_written(ctx, tmp_path):
    """Rich/Textual markup in a name made the table raise ("[/]": the TUI ended) or dropped a
    bracket ("[draft]"): tables, cards, titles and notifications show the text as typed."""
    for name in ("[/] Slash", "Budget [draft]", "[bold red]Loud"):
        registry.call("contact.create", {"name": name}, ctx)
    doc = tmp_path / "notes.md"
    doc.write_text("# Plan [v2] [/]\n\nplain text\n")
    registry.call("document.add", {"paths": [str(doc)]}, ctx)
    registry.call("calendar.add", {"title": "Review [v2] [/]", "start": "tomorrow 10:00"}, ctx)
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "contacts-table")) == 3)
        assert sorted(r[0] for r in _rows(app, "contacts-table")) == ["Budget [draft]", "[/] Slash", "[bold red]Loud"]
        screen = "\n".join(_screen_lines(app.query_one("#contacts-table")))
        for name in ("[/] Slash", "Budget [draft]", "[bold red]Loud"):
            assert name in screen
        table = app.query_one("#contacts-table")
        table.focus()
        table.move_cursor(row=[r[0] for r in _rows(app, "contacts-table")].index("[/] Slash"))
        await pilot.press("e")  # the edit form's heading quotes the name
        assert await until(pilot, lambda: bool(app.screen.query("#heading")))
        assert "[/] Slash" in _text(app.screen, "#heading")
        await pilot.press("escape")

        def toasts() -> list[str]:
            return [str(t.render()) for t in app.screen.query("Toast")]

        await pilot.press("ctrl+c")  # Textual's own notification keeps its markup
        assert await until(pilot, lambda: any("Press ctrl+q to quit" in t for t in toasts())), toasts()
        app.show_island("search")  # a notification quoting an event's title
        assert await until(pilot, lambda: app.focused is app.query_one("#search-input"))
        await typed(pilot, "Review", "enter")
        assert await until(pilot, lambda: len(_rows(app, "search-table")) >= 1)
        app.query_one("#search-table").focus()
        await pilot.press("enter")
        assert await until(pilot, lambda: any("Review [v2] [/]" in t for t in toasts())), toasts()
        app.show_island("documents")
        assert await until(pilot, lambda: [r[0] for r in _rows(app, "documents-table")] == ["Plan [v2] [/]"])
        assert await until(pilot, lambda: app.focused is app.query_one("#documents-search"))  # the switch's focus
        app.query_one("#documents-table").focus()
        await pilot.press("enter")
        assert await until(pilot, lambda: _text(app, "#documents-title").startswith("Plan [v2] [/] (")), _text(app, "#documents-title")
        assert app.return_code is None and app.is_running  # nothing raised


async def test_a_reload_keeps_the_cursor_on_its_row(ctx, hero):
    for name in ("Ada Lovelace", "Bo Chen", "Cy Twombly", "Di Fossey"):
        registry.call("contact.create", {"name": name}, ctx)
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, lambda: len(_rows(app, "contacts-table")) == 4)
        table = app.query_one("#contacts-table")
        table.focus()
        await pilot.press("down", "down")
        assert str(table.get_row_at(table.cursor_row)[0]) == "Cy Twombly"
        proc = await asyncio.to_thread(hero, "contact", "create", "--name", "Aaron Abbot")  # sorts first
        assert proc.code == 0, proc
        assert await until(pilot, lambda: len(_rows(app, "contacts-table")) == 5, timeout=4)
        assert str(table.get_row_at(table.cursor_row)[0]) == "Cy Twombly"
        assert "Cy Twombly" in _text(app, "#contacts-card")


async def test_columns_take_their_widest_cell_even_when_drawn_at_once(ctx):
    """Textual measures a refilled table at its next idle, and a frame drawn before that kept
    the columns at their labels' width (its drawn rows are cached): seen in snapshots."""
    app = hero_app(island="contacts")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.query_one("#contacts-table")
        table.refill((f"c{i}", (f"Someone With A Long Name {i}", f"person{i}@example.org", "Northwind", "vip"))
                     for i in range(3))
        drawn_now = _screen_lines(table)  # before the table's idle
        await pilot.pause()
        drawn_later = _screen_lines(table)
        for lines in (drawn_now, drawn_later):
            assert "Someone With A Long Name 1" in "\n".join(lines), lines[:3]
            assert "person1@example.org" in "\n".join(lines), lines[:3]


# --- import hygiene ---------------------------------------------------------------------------


def test_cli_does_not_import_textual(hero_home):
    code = ("import sys\nfrom herotui.frontends import cli\n"
            "for argv in (['--help'], ['contact', 'list']):\n"
            "    try:\n        cli.main(argv)\n    except SystemExit:\n        pass\n"
            "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules), 'textual imported'\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_the_root_context_option_reaches_the_tui(hero):
    """``hero --context X tui`` opens in X (Click passes the root's option; no shared state):
    an unknown X is refused before the screen changes, naming it."""
    for argv in (["--context", "nosuch", "tui"], ["tui", "--context", "nosuch"]):
        out = hero(*argv)
        assert out.code == 3 and "unknown context 'nosuch'" in out.err, (argv, out)


def test_tui_cli_group_has_island_and_context(hero):
    out = hero("tui", "--help")
    assert out.code == 0, out
    assert "--island" in out.out and "--context" in out.out
    bad = hero("tui", "--island", "nowhere")
    assert bad.code != 0 and "unknown island" in bad.err


async def test_calendar_asks_which_part_of_a_series_and_says_what_goes(ctx):
    ev = registry.call("calendar.add", {"title": "Standup", "start": "tomorrow 09:00", "rrule": "FREQ=DAILY;COUNT=5"}, ctx)
    app = hero_app(island="calendar")
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#calendar-table").focus()
        await pilot.press("a")
        assert await until(pilot, lambda: [r[1] for r in _rows(app, "calendar-table")] == ["Standup"] * 5)
        await pilot.press("down")  # the second occurrence
        await pilot.press("x")
        assert await until(pilot, lambda: app.screen.id == "calendar-scope")
        await pilot.press("o")  # only this occurrence
        assert await until(pilot, lambda: app.screen.id == "calendar-confirm")
        question = str(app.screen.query_one("#choice-question").render())
        assert "only the occurrence on" in question, question
        await pilot.press("y")
        assert await until(pilot, lambda: len(_rows(app, "calendar-table")) == 4, timeout=20)
        # the reloads after the delete are over (a reload resets the cursor): the revision poll
        # has seen the delete's revision and no load is pending or running
        assert await until(pilot, lambda: app._revision == app._read_revision() and not any(
            w.group == "load" and w.state.name in ("PENDING", "RUNNING") for w in app.workers), timeout=20)
        # edit this and the following: the form is for them, the earlier ones stay
        table = app.query_one("#calendar-table")
        table.move_cursor(row=2)  # the third occurrence: it and the fourth change
        assert await until(pilot, lambda: table.cursor_row == 2)
        await pilot.press("e")
        assert await until(pilot, lambda: app.screen.id == "calendar-scope")
        await pilot.press("f")
        assert await until(pilot, lambda: app.screen.id == "event-edit")
        app.screen.query_one("#p-location").value = "Room Atlas"
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: sum(r[2] == "Room Atlas" for r in _rows(app, "calendar-table")) == 2,
                           timeout=20), \
            ([n.message for n in app._notifications], _rows(app, "calendar-table"))
    series = registry.call("calendar.show", {"id": ev.id}, ctx)
    assert len(series.exdates) == 1 and "UNTIL=" in series.rrule and series.location is None
