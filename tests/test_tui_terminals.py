"""The Terminals island: real shells on PTYs, driven by Pilot (SHELL=/bin/sh)."""

from __future__ import annotations

import os
import time

import pytest
from support import typed, until
from textual import events

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
    await typed(pilot, text, "enter")


async def test_shell_runs_typed_command(tmp_path):
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: len(island.terminals()) == 1 and island.terminals()[0].alive)
        term = island.terminals()[0]
        assert await until(pilot, lambda: term.has_focus)
        await _type(pilot, "echo hero-$((6*7))")
        assert await until(pilot, lambda: "hero-42" in term.screen_text().splitlines())
        assert app.talks == 0  # the space went to the shell, not to the talk key


async def test_the_shell_gets_the_environment_as_it_is_now(monkeypatch):
    """Not bittty's copy from its import time, without a forced LC_ALL or Hero's COLUMNS."""
    from bittty.pty import unix  # noqa: F401  (its copy of the environment is taken at import, before the changes)

    monkeypatch.setenv("HERO_TERM_CHECK", "fresh")
    monkeypatch.setenv("COLUMNS", "321")
    monkeypatch.delenv("LC_ALL", raising=False)
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        term = island.active_terminal()
        await _type(pilot, 'echo "[$HERO_TERM_CHECK|${LC_ALL-unset}|${COLUMNS-unset}|$COLORTERM|$TERM]"')
        assert await until(pilot, lambda: "[fresh|unset|unset|truecolor|xterm-256color]" in term.screen_text())


async def test_second_tab_opens_and_closes_killing_its_child():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: len(island.terminals()) == 1 and island.terminals()[0].alive)
        first = island.terminals()[0]
        await pilot.press("ctrl+t")
        assert await until(pilot, lambda: len(island.terminals()) == 2)
        second = island.active_terminal()
        assert second is not first
        assert await until(pilot, lambda: second.alive and second.has_focus)
        pid = second.pid
        assert pid and _alive(pid)
        await pilot.press("ctrl+w")
        assert await until(pilot, lambda: len(island.terminals()) == 1)
        assert await until(pilot, lambda: not _alive(pid))
        assert island.active_terminal() is first and first.alive


async def test_rename_tab():
    from textual.widgets import TabbedContent

    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        await pilot.press("f2")
        await pilot.pause()
        field = app.query_one("#term-rename")
        assert field.has_focus
        field.value = ""
        await typed(pilot, "logs", "enter")
        tabs = app.query_one("#term-tabs", TabbedContent)
        assert await until(pilot, lambda: str(tabs.get_tab(tabs.active).label) == "logs")
        assert island.active_terminal().has_focus


async def test_exit_in_shell_closes_the_tab():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        await _type(pilot, "exit")
        assert await until(pilot, lambda: len(island.terminals()) == 0)


async def test_resizing_the_app_resizes_the_pty():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().alive)
        term = island.active_terminal()
        assert await until(pilot, lambda: term.pty_size() == (term.size.height, term.size.width))
        before = term.pty_size()
        await pilot.resize_terminal(90, 26)
        assert await until(pilot, lambda: term.pty_size() not in (None, before))
        rows, cols = term.pty_size()
        assert (rows, cols) == (term.size.height, term.size.width)
        assert cols < before[1] and rows < before[0]
        await _type(pilot, "stty size")
        assert await until(pilot, lambda: f"{rows} {cols}" in term.screen_text())


async def test_children_die_when_the_app_exits():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().alive)
        await pilot.press("ctrl+t")
        assert await until(pilot, lambda: len(island.terminals()) == 2 and all(t.alive for t in island.terminals()))
        from herotui.tui.widgets.terminal import session_members

        pids = [t.pid for t in island.terminals()]
        # a job that ignores SIGHUP, in its own process group, still goes
        await _type(pilot, "trap '' HUP; sleep 300")
        assert await until(pilot, lambda: len(session_members(pids[-1])) >= 2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(session_members(p) for p in pids):
        time.sleep(0.05)
    assert not any(session_members(p) for p in pids)


async def test_hero_app_opened_on_terminals_starts_a_shell_without_a_key(ctx):
    """`hero tui --island terminals`: the first shell starts when the island is first shown."""
    from herotui.tui import shell
    from herotui.tui.islands.terminals import TerminalsIsland

    app = shell.HeroApp(island="terminals")
    async with app.run_test(size=(120, 40)) as pilot:
        def term():
            found = app.query(TerminalsIsland)
            return found.first().active_terminal() if found else None

        assert await until(pilot, lambda: term() is not None and term().alive and term().has_focus)
        await _type(pilot, "echo hero-$((6*7))")
        assert await until(pilot, lambda: "hero-42" in term().screen_text().splitlines())
        assert app.voice_state == ""  # the space went to the shell, not to the talk key
        assert len(app.query_one(TerminalsIsland).terminals()) == 1


async def test_hero_app_switching_to_terminals_starts_a_shell(ctx):
    from herotui.tui import shell
    from herotui.tui.islands.terminals import TerminalsIsland

    app = shell.HeroApp(island="home")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert not [t for t in app.query(TerminalsIsland) for _ in t.terminals()]  # nothing started yet
        app.show_island("terminals")
        island = None

        def ready():
            nonlocal island
            found = app.query(TerminalsIsland)
            island = found.first() if found else None
            term = island.active_terminal() if island else None
            return term is not None and term.alive and term.has_focus

        assert await until(pilot, ready)
        assert len(island.terminals()) == 1  # on_show and focus_first did not start two


# --- scrollback ---------------------------------------------------------------------------


async def _shell(pilot, app):
    island = _island(app)
    assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
    return island.active_terminal()


async def test_scrollback_keys_wheel_marker_and_typing_returns(tmp_path):
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        term = await _shell(pilot, app)
        assert term.scrollback_limit == 5000
        await _type(pilot, "seq -f row%g 1 300")
        assert await until(pilot, lambda: "row300" in term.screen_text())
        rows = [line for line in term.screen_text().splitlines() if line.startswith("row")]
        first_visible = int(rows[0][3:])
        history = term.history_text().splitlines()
        assert history[-1] == f"row{first_visible - 1}"  # what left the screen, in order, nothing lost
        assert "row1" in history and history.index("row1") + 1 == history.index("row2")

        await pilot.press("shift+pageup")
        assert await until(pilot, lambda: term.scrolled_back == term.size.height - 1)
        text = term.screen_text()
        assert f"scrollback {term.scrolled_back}/{term.history_size}" in text.splitlines()[-1]
        assert f"row{first_visible - term.scrolled_back}" == text.splitlines()[0]
        assert "row300" not in text

        await pilot.press("shift+pagedown")
        assert await until(pilot, lambda: term.scrolled_back == 0)
        assert "scrollback" not in term.screen_text() and "row300" in term.screen_text()

        # the wheel: three rows a notch (the child tracks no mouse)
        await pilot._post_mouse_events([events.MouseScrollUp], term, (10, 10))
        await pilot._post_mouse_events([events.MouseScrollUp], term, (10, 10))
        assert await until(pilot, lambda: term.scrolled_back == 6)
        assert term.screen_text().splitlines()[0] == f"row{first_visible - 6}"
        await pilot._post_mouse_events([events.MouseScrollDown], term, (10, 10))
        assert await until(pilot, lambda: term.scrolled_back == 3)

        # output while scrolled back keeps the view on the same rows
        await pilot.press("shift+pageup")
        offset = term.scrolled_back
        top = term.screen_text().splitlines()[0]
        await _send(term, "seq -f more%g 1 5\n")
        assert await until(pilot, lambda: "more5" in term.history_text() + term.board.capture_text())
        await pilot.pause(0.2)
        assert term.screen_text().splitlines()[0] == top and term.scrolled_back > offset

        # a key typed to the child returns to the live view, and reaches the child
        await _type(pilot, "echo back-$((40+2))")
        assert await until(pilot, lambda: term.scrolled_back == 0 and "back-42" in term.screen_text())


async def _send(term, text: str) -> None:
    """Bytes to the child as if typed, without the key path (which would return to live)."""
    term.board.display.input(text)


async def test_shrinking_keeps_the_cursor_line_and_moves_the_top_rows_to_the_history():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        term = await _shell(pilot, app)
        await _type(pilot, "seq -f row%g 1 100")
        assert await until(pilot, lambda: "row100" in term.screen_text())
        await pilot.pause(0.2)
        before = term.screen_text().splitlines()
        kept = term.history_size
        await pilot.resize_terminal(100, 24)
        assert await until(pilot, lambda: term.pty_size() == (term.size.height, 100))
        after = term.screen_text().splitlines()
        assert after[-2:] == ["row100", "$"]  # the prompt and the rows above it stayed in view
        moved = term.history_size - kept
        assert moved == len(before) - len(after)
        assert term.history_text().splitlines()[-moved:] == before[:moved]  # the top rows went up, in order


async def test_a_paste_reaches_the_shell_once_and_returns_to_the_live_view():
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        term = await _shell(pilot, app)
        await _type(pilot, "seq 1 100")
        assert await until(pilot, lambda: "100" in term.screen_text().splitlines())
        await pilot.press("shift+pageup")
        assert await until(pilot, lambda: term.scrolled_back > 0)
        term.post_message(events.Paste("echo pasted-$((1+1))"))
        assert await until(pilot, lambda: term.scrolled_back == 0)
        await pilot.press("enter")
        assert await until(pilot, lambda: "pasted-2" in term.screen_text().splitlines())
        assert "pasted-2echo" not in term.screen_text()  # once, not twice


MOUSE_CHILD = r"""
import os, sys, termios, tty
tty.setraw(0)
os.write(1, b"\x1b[?1000h\x1b[?1006hREADY\r\n")
seen = b""
while b"q" not in seen:
    seen += os.read(0, 100)
os.write(1, b"\x1b[?1000l\x1b[?1006l" + repr(seen).encode() + b"\r\n")
os.read(0, 1)
"""


async def test_wheel_goes_once_to_a_child_that_tracks_the_mouse():
    import sys

    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        island = _island(app)
        await _shell(pilot, app)
        term = island.new_terminal([sys.executable, "-c", MOUSE_CHILD], name="mouse")
        assert await until(pilot, lambda: "READY" in term.screen_text() and term.has_focus)
        assert await until(pilot, lambda: term.mouse_mode != "off")
        await pilot._post_mouse_events([events.MouseScrollUp], term, (4, 2))
        await pilot.pause(0.2)
        await pilot.press("q")
        assert await until(pilot, lambda: "q'" in term.screen_text())
        reports = term.screen_text().split("READY", 1)[1]
        assert reports.count("[<64;") == 1  # one wheel-up report, at the cell under the pointer
        assert "[<64;5;3M" in reports
        assert term.scrolled_back == 0


async def test_scrollback_bounded_by_env_and_cleared_by_clear(monkeypatch):
    monkeypatch.setenv("HERO_TERMINAL_SCROLLBACK", "50")
    app = _app()
    async with app.run_test(size=(80, 20)) as pilot:
        term = await _shell(pilot, app)
        assert term.scrollback_limit == 50
        await _type(pilot, "seq -f n%g 1 400")
        assert await until(pilot, lambda: "n400" in term.screen_text())
        history = term.history_text().splitlines()
        assert len(history) == 50 and history[-1].startswith("n")
        first_visible = next(line for line in term.screen_text().splitlines() if line.startswith("n"))
        assert history[-1] == f"n{int(first_visible[1:]) - 1}"
        await _type(pilot, "printf '\\033[3J'; echo cleared")  # what `clear` sends to drop the scrollback
        assert await until(pilot, lambda: "cleared" in term.screen_text().splitlines())
        assert await until(pilot, lambda: term.history_size <= 2)


async def test_bad_scrollback_setting_warns_and_uses_the_default(monkeypatch):
    monkeypatch.setenv("HERO_TERMINAL_SCROLLBACK", "lots")
    app = _app()
    async with app.run_test(size=(80, 20)) as pilot:
        term = await _shell(pilot, app)
        assert term.scrollback_limit == 5000
        assert await until(pilot, lambda: any("HERO_TERMINAL_SCROLLBACK='lots'" in str(n.message)
                                               for n in app._notifications))


# --- full-screen programs -----------------------------------------------------------------

def _has(program: str) -> bool:
    import shutil

    return shutil.which(program) is not None


async def test_less_pages_searches_and_quits_leaving_no_scrollback(tmp_path):
    assert _has("less"), "less is not installed (Debian: apt-get install less)"
    long = tmp_path / "long.txt"
    long.write_text("".join(f"line {i:04d}\n" for i in range(1, 1001)))
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        term = await _shell(pilot, app)
        await _type(pilot, "echo before-less")
        assert await until(pilot, lambda: "before-less" in term.screen_text().splitlines())
        kept = term.history_size
        await _type(pilot, f"less {long}")
        assert await until(pilot, lambda: term.alternate_screen and term.screen_text().startswith("line 0001"))
        await pilot.press("space")
        assert await until(pilot, lambda: term.screen_text().startswith(f"line {term.size.height:04d}"))
        await pilot.press("down")
        assert await until(pilot, lambda: term.screen_text().startswith(f"line {term.size.height + 1:04d}"))
        await pilot.press("shift+pageup")  # on the alternate screen: to less, not into our history
        await pilot.pause(0.3)
        assert term.scrolled_back == 0 and "scrollback" not in term.screen_text()
        await pilot.press("pageup")
        assert await until(pilot, lambda: term.screen_text().startswith("line 0002"))
        await pilot.press("G")
        assert await until(pilot, lambda: "line 1000" in term.screen_text())
        await pilot.press("question_mark", *"line 0500", "enter")
        assert await until(pilot, lambda: term.screen_text().startswith("line 0500"))
        await pilot.press("q")
        assert await until(pilot, lambda: not term.alternate_screen and "before-less" in term.screen_text())
        assert "line 0500" not in term.screen_text()
        assert term.history_size == kept  # less's pages did not go into the history


async def test_vim_inserts_text_and_writes_the_file(tmp_path):
    target = tmp_path / "note.txt"
    vim = next((name for name in ("vim", "vi", "vim.tiny") if _has(name)), None)
    assert vim, "vim is not installed (Debian: apt-get install vim-tiny)"
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        term = await _shell(pilot, app)
        await _type(pilot, f"{vim} --clean -n {target}")
        assert await until(pilot, lambda: term.alternate_screen and "note.txt" in term.screen_text())
        await pilot.press("i")
        await pilot.pause(0.2)
        await typed(pilot, "hello vim", "enter")
        await typed(pilot, "second")
        await pilot.press("up", "end", "exclamation_mark")  # cursor keys in insert mode (application mode)
        await pilot.press("escape")
        await pilot.pause(0.3)
        await pilot.press("colon", "w", "q", "enter")
        assert await until(pilot, lambda: not term.alternate_screen)
        assert await until(pilot, lambda: target.exists() and target.read_text() == "hello vim!\nsecond\n")


async def test_htop_draws_in_colour_follows_a_resize_and_quits():
    assert _has("htop"), "htop is not installed (Debian: apt-get install htop)"
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        term = await _shell(pilot, app)
        await _type(pilot, "htop")
        assert await until(pilot, lambda: term.alternate_screen and "F10Quit" in term.screen_text())
        assert await until(pilot, lambda: "Load average" in term.screen_text())
        colours = {seg.style.bgcolor for y in range(term.size.height) for seg in term.render_line(y)
                   if seg.style is not None and seg.style.bgcolor is not None}
        assert len(colours) >= 2  # its header bar and function-key bar are coloured
        await pilot.resize_terminal(80, 24)
        assert await until(pilot, lambda: term.pty_size() == (term.size.height, term.size.width))
        last = lambda: term.screen_text().splitlines()[term.size.height - 1]  # noqa: E731
        assert await until(pilot, lambda: "F10Quit" in last())  # redrawn for the new height
        await pilot.press("q")
        assert await until(pilot, lambda: not term.alternate_screen)
        await _type(pilot, "echo after-htop")
        assert await until(pilot, lambda: "after-htop" in term.screen_text().splitlines())


async def test_tab_stops_cover_a_wide_terminal():
    """Tab stops every 8 columns across the whole width, not only up to column 80 (where
    bittty's initial 80-column board put its last one): `ls` columns stay apart."""
    app = _app()
    async with app.run_test(size=(160, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        term = island.active_terminal()
        assert await until(pilot, lambda: (term.pty_size() or (0, 0))[1] > 120)
        # 84 x's, a tab, then "T": the tab stop after column 84 is column 88
        await _type(pilot, "printf 'x%.0s' $(seq 84); printf '\\tT\\tU\\n'")
        line = lambda: next((row for row in term.screen_text().splitlines() if row.startswith("x" * 84)), "")  # noqa: E731
        assert await until(pilot, lambda: "U" in line())
        assert line().index("T") == 88 and line().index("U") == 96


async def test_hero_of_this_environment_is_on_the_shells_path(monkeypatch):
    """`hero` typed in the embedded shell is the running Hero's, even when its venv's bin is
    not on the PATH Hero was started with."""
    from herotui.tui.widgets.terminal import hero_bin

    folder = hero_bin()
    if folder is None:
        pytest.skip("no 'hero' command beside this Python (not an installed environment)")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    app = _app()
    async with app.run_test(size=(120, 30)) as pilot:
        island = _island(app)
        assert await until(pilot, lambda: island.active_terminal() is not None and island.active_terminal().has_focus)
        term = island.active_terminal()
        await _type(pilot, 'echo "found=$(command -v hero)"')
        assert await until(pilot, lambda: f"found={folder}/hero" in term.screen_text())
