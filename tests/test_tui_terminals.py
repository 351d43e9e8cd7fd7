"""The Terminals island: real shells on PTYs, driven by Pilot (SHELL=/bin/sh)."""

from __future__ import annotations

import os
import time

import pytest

pytest.importorskip("textual")
pytest.importorskip("textual_tty")

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _sh(monkeypatch):
    monkeypatch.setenv("SHELL", "/bin/sh")
    monkeypatch.setenv("PS1", "$ ")


def _app():
    """A minimal app with the island, plus HeroApp's priority space binding and its check_action."""
    from textual.app import App
    from textual.binding import Binding
    from textual.widgets import Input, TextArea

    from herotui.tui.islands.terminals import TerminalsIsland
    from herotui.tui.widgets.terminal import HeroTerminal

    class TermApp(App):
        BINDINGS = [Binding("space", "talk", "Talk", priority=True)]
        talks = 0

        def compose(self):
            yield TerminalsIsland(id="island-terminals")

        def on_mount(self):
            self.query_one(TerminalsIsland).focus_first()

        def check_action(self, action, parameters):
            if action == "talk":
                return not isinstance(self.focused, (Input, TextArea, HeroTerminal))
            return True

        def action_talk(self):
            self.talks += 1

    return TermApp()


async def _until(pilot, predicate, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if predicate():
            return True
    return predicate()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead, just not reaped
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _island(app):
    from herotui.tui.islands.terminals import TerminalsIsland

    return app.query_one(TerminalsIsland)


async def _type(pilot, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text], "enter")


async def test_shell_runs_typed_command(tmp_path):
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await _until(pilot, lambda: len(island.terminals()) == 1 and island.terminals()[0].alive)
        term = island.terminals()[0]
        assert await _until(pilot, lambda: term.has_focus)
        await _type(pilot, "echo hero-$((6*7))")
        assert await _until(pilot, lambda: "hero-42" in term.screen_text().splitlines())
        assert app.talks == 0  # the space went to the shell, not to the talk key


async def test_second_tab_opens_and_closes_killing_its_child():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await _until(pilot, lambda: len(island.terminals()) == 1 and island.terminals()[0].alive)
        first = island.terminals()[0]
        await pilot.press("ctrl+t")
        assert await _until(pilot, lambda: len(island.terminals()) == 2)
        second = island.active_terminal()
        assert second is not first
        assert await _until(pilot, lambda: second.alive and second.has_focus)
        pid = second.pid
        assert pid and _alive(pid)
        await pilot.press("ctrl+w")
        assert await _until(pilot, lambda: len(island.terminals()) == 1)
        assert await _until(pilot, lambda: not _alive(pid))
        assert island.active_terminal() is first and first.alive


async def test_rename_tab():
    from textual.widgets import TabbedContent

    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await _until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        await pilot.press("f2")
        await pilot.pause()
        field = app.query_one("#term-rename")
        assert field.has_focus
        field.value = ""
        await pilot.press(*"logs", "enter")
        tabs = app.query_one("#term-tabs", TabbedContent)
        assert await _until(pilot, lambda: str(tabs.get_tab(tabs.active).label) == "logs")
        assert island.active_terminal().has_focus


async def test_exit_in_shell_closes_the_tab():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await _until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        await _type(pilot, "exit")
        assert await _until(pilot, lambda: len(island.terminals()) == 0)


async def test_resizing_the_app_resizes_the_pty():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await _until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().alive)
        term = island.active_terminal()
        assert await _until(pilot, lambda: term.pty_size() == (term.size.height, term.size.width))
        before = term.pty_size()
        await pilot.resize_terminal(90, 26)
        assert await _until(pilot, lambda: term.pty_size() not in (None, before))
        rows, cols = term.pty_size()
        assert (rows, cols) == (term.size.height, term.size.width)
        assert cols < before[1] and rows < before[0]
        await _type(pilot, "stty size")
        assert await _until(pilot, lambda: f"{rows} {cols}" in term.screen_text())


async def test_children_die_when_the_app_exits():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await _until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().alive)
        await pilot.press("ctrl+t")
        assert await _until(pilot, lambda: len(island.terminals()) == 2 and all(t.alive for t in island.terminals()))
        from herotui.tui.widgets.terminal import session_members

        pids = [t.pid for t in island.terminals()]
        # a job that ignores SIGHUP, in its own process group, still goes
        await _type(pilot, "trap '' HUP; sleep 300")
        assert await _until(pilot, lambda: len(session_members(pids[-1])) >= 2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(session_members(p) for p in pids):
        time.sleep(0.05)
    assert not any(session_members(p) for p in pids)


async def test_in_hero_app_space_reaches_the_shell(ctx, monkeypatch):
    from herotui.tui import shell

    app = shell.HeroApp(island="terminals")
    async with app.run_test(size=(120, 40)) as pilot:
        island = app.show_island("terminals")
        assert await _until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        await _type(pilot, "echo hero-$((6*7))")
        term = island.active_terminal()
        assert await _until(pilot, lambda: "hero-42" in term.screen_text().splitlines())
        assert app.voice_state == ""
