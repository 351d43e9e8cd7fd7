"""The Terminals island in a real terminal (tmux): `hero tui --island terminals` starts a shell by
itself; colours, scrollback (shift+pageup, the wheel), less, vim and htop through the whole stack
(tmux -> Textual's input parser -> HeroTerminal -> PTY -> bittty -> Textual's output -> tmux)."""

from __future__ import annotations

import re
import os
import shutil
import subprocess
import time
import uuid

import pytest

from tests.e2e.conftest import child_env, hero_exe

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"), pytest.mark.slow]

PROMPT = re.compile(r"^\$\s*$", re.M)


# this process's own tmux server: a session started while another test's server was exiting
# (its last session closed) was lost with it, and the screen read blank
SOCKET = f"hero-tests-{os.getpid()}"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=10).stdout


class Pane:
    """`hero tui --island terminals` in a detached tmux session, 100x30."""

    def __init__(self, hero_home, width: int = 100, height: int = 30) -> None:
        self.session = "hero-term-" + uuid.uuid4().hex[:8]
        # SHELL=/bin/sh with PS1 from the environment: the same prompt on every machine. No
        # COLUMNS: Textual (shutil.get_terminal_size) would take it for the window's width.
        cmd = (f"env -u COLUMNS -u LINES HERO_HOME={hero_home} HERO_TZ=Europe/Brussels SHELL=/bin/sh PS1='$ ' "
               f"COLORTERM=truecolor {hero_exe()} tui --island terminals; echo HERO-EXITED; sleep 30")
        subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", self.session, cmd],
                       check=True, env=child_env(TERM="xterm-256color"))

    def screen(self, escapes: bool = False) -> str:
        return _tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.session)

    def wait(self, pattern: str | re.Pattern, timeout: float = 20, escapes: bool = False) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen(escapes)
            if (pattern.search(screen) if isinstance(pattern, re.Pattern) else pattern in screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not on screen:\n{self.screen()}")

    def gone(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text not in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} still on screen:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        _tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        _tmux("send-keys", "-t", self.session, "-l", text)

    def run(self, line: str) -> None:
        self.type(line)
        self.keys("Enter")

    def close(self) -> None:
        _tmux("kill-session", "-t", self.session)


@pytest.fixture
def pane(hero_home):
    p = Pane(hero_home)
    try:
        p.wait(PROMPT)  # no key pressed: the island started its first shell when shown
        yield p
    finally:
        p.close()


def _sgr_before(screen: str, word: str) -> str:
    """The last SGR sequence before ``word`` in an escaped capture."""
    at = screen.rindex(word)  # the output, not the command line that printed it
    found = re.findall(r"\x1b\[[0-9;:]*m", screen[max(0, at - 80):at])
    return found[-1] if found else ""


def test_colours_and_scrollback(pane):
    pane.run("printf '\\033[38;5;208mC256\\033[0m \\033[38;2;10;200;30mTRUEC\\033[0m \\033[1;4mBOLDUL\\033[0m\\n'")
    pane.wait("C256 TRUEC BOLDUL")  # the output itself (the echoed command line also holds the words)
    screen = pane.wait("BOLDUL", escapes=True)
    assert "38;2;255;135;0" in _sgr_before(screen, "C256")  # xterm colour 208 is #ff8700
    assert "38;2;10;200;30" in _sgr_before(screen, "TRUEC")
    assert re.search(r"\x1b\[(?:[0-9;]*;)?1;4m|\x1b\[1m\x1b\[4m", screen[:screen.rindex("BOLDUL")])

    pane.run("seq -f row%g 1 200")
    pane.wait(re.compile(r"^row200$", re.M))
    assert "row100" not in pane.screen()
    pane.keys("S-PPage")  # shift+pageup: a page back into the history
    screen = pane.wait("scrollback ")
    assert re.search(r"^row1\d\d$", screen, re.M) and "row200" not in screen
    pane.keys("S-NPage")
    pane.gone("scrollback ")
    # the mouse wheel, as the terminal sends it (SGR mouse reports: 64 up, 65 down)
    for _ in range(10):
        pane.type("\x1b[<64;20;10M")
    screen = pane.wait("scrollback 30/")
    pane.type("\x1b[<65;20;10M")
    pane.wait("scrollback 27/")
    # a key typed to the shell returns to the live view
    pane.run("echo back-$((40+2))")
    pane.wait(re.compile(r"^back-42$", re.M))
    assert "scrollback " not in pane.screen()


def test_less_vim_htop_are_usable(pane, tmp_path):
    assert shutil.which("less"), "less is not installed (Debian: apt-get install less)"
    long = tmp_path / "long.txt"
    long.write_text("".join(f"line {i:04d}\n" for i in range(1, 1001)))
    utf8 = tmp_path / "utf8.txt"
    utf8.write_text("café 漢字 ok\n", encoding="utf-8")
    pane.run(f"less {utf8}")  # UTF-8 text, not "may be a binary file" (the child's locale works)
    pane.wait(re.compile(r"^café 漢字 ok", re.M))
    pane.keys("q")
    pane.run("clear; echo before-less")
    pane.run(f"less {long}")
    pane.wait(re.compile(r"^line 0001", re.M))
    pane.keys("Space")
    pane.wait(re.compile(r"^line 0040", re.M))
    pane.keys("G")
    pane.wait("line 1000")
    pane.type("?line 0500")
    pane.keys("Enter")
    pane.wait(re.compile(r"^line 0500", re.M))
    pane.keys("q")
    screen = pane.wait("before-less")
    assert "line 0500" not in screen  # the alternate screen is gone, the shell's screen is back

    vim = shutil.which("vim") or shutil.which("vi") or shutil.which("vim.tiny")
    assert vim, "vim is not installed (Debian: apt-get install vim-tiny)"
    note = tmp_path / "note.txt"
    pane.run(f"clear; {vim} --clean -n {note}")
    pane.wait("note.txt")
    pane.keys("i")
    time.sleep(0.3)
    pane.type("hello from vim")
    pane.keys("Enter")
    pane.type("second")
    pane.keys("Up", "End")  # cursor keys in insert mode (application cursor mode)
    pane.type("!")
    pane.keys("Escape")
    time.sleep(0.5)  # an Esc and ':' together read as alt+':' (in Textual, as in any terminal)
    pane.type(":wq")
    pane.keys("Enter")
    pane.wait(PROMPT)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not note.exists():
        time.sleep(0.1)
    assert note.read_text() == "hello from vim!\nsecond\n"

    assert shutil.which("htop"), "htop is not installed (Debian: apt-get install htop)"
    pane.run("clear; echo before-htop")
    pane.run("htop")
    pane.wait("F10Quit")
    pane.wait("CPU%")
    assert len(set(re.findall(r"\x1b\[[0-9;:]*m", pane.screen(escapes=True)))) >= 4  # it draws in colour
    _tmux("resize-window", "-t", pane.session, "-x", "80", "-y", "24")
    # redrawn at the new size: its key bar sits right above Hero's footer again, within 80 columns
    screen = pane.wait(re.compile(r"F10Quit *\n.*\^t New terminal"))
    lines = screen.splitlines()
    assert len(lines) == 24 and max(len(line) for line in lines) <= 80
    # a click on htop's "Quit" (htop tracks the mouse): an SGR press and release at that cell
    row = next(i for i, line in enumerate(lines) if "F10Quit" in line) + 1
    col = lines[row - 1].index("Quit") + 1
    pane.type(f"\x1b[<0;{col};{row}M\x1b[<0;{col};{row}m")
    pane.wait("before-htop")
    pane.run("stty size")
    pane.wait(re.compile(r"^\d+ 80$", re.M))
    pane.keys("C-q")
    pane.wait("HERO-EXITED")
