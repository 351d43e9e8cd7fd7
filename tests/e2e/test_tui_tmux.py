"""`hero tui` in a real terminal (tmux): header, create a contact by keys, switch context, quit."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest

from tests.e2e.conftest import child_env, hero_exe

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


# this process's own tmux server: a session started while another test's server was exiting
# (its last session closed) was lost with it, and the screen read blank
SOCKET = f"hero-tests-{os.getpid()}"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=10).stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait(session: str, text: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = _screen(session)
        if text in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not on screen:\n{_screen(session)}")


def test_tui_in_tmux(hero_home, hero):
    """The issue's walk-through: create a contact in a form, list it with `hero` in the embedded
    terminal, switch islands with alt+digit as a real terminal sends it, switch context, quit."""
    assert hero("context", "create", "business").code == 0
    session = "hero-" + uuid.uuid4().hex[:8]
    env = child_env()
    bindir = os.path.dirname(hero_exe())
    cmd = (f"env HERO_HOME={hero_home} HERO_TZ=Europe/Brussels PATH={bindir}:{os.environ.get('PATH', '')} "
           f"SHELL=/bin/sh PS1='tty$ ' TERM=xterm-256color {hero_exe()} tui --island contacts; echo HERO-EXITED; sleep 30")
    subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-x", "120", "-y", "40", "-s", session, cmd], check=True, env=env)
    try:
        _wait(session, "personal")
        _wait(session, "Search contacts")
        # the command palette: every verb; contact.create opens its form
        _tmux("send-keys", "-t", session, "C-p")
        time.sleep(0.5)
        _tmux("send-keys", "-t", session, "-l", "contact.create")
        _wait(session, "Create a contact")
        _tmux("send-keys", "-t", session, "Enter")
        _wait(session, "name *")
        # one burst, as fast typing sends it (name, emails, phones left empty, company): each field
        # gets its own part (tab moves on at once)
        _tmux("send-keys", "-t", session, "-l", "Tmux Person\ttmux@example.com\t\tTmux Co")
        _tmux("send-keys", "-t", session, "Enter")
        deadline = time.monotonic() + 15
        while "name *" in _screen(session) and time.monotonic() < deadline:  # the form closes once created
            time.sleep(0.1)
        _wait(session, "Tmux Person")
        out = hero("contact", "list", "--json")
        assert out.code == 0, (out.err, _screen(session))
        assert [(c["name"], c["emails"], c["company"]) for c in out.json()] == [("Tmux Person", ["tmux@example.com"], "Tmux Co")]
        # alt+3 as tmux sends it (ESC 3), with the contacts' search field focused: Calendar
        _tmux("send-keys", "-t", session, "M-3")
        _wait(session, "d day")
        # alt+9: the Terminals island starts a shell; `hero contact list` inside it sees the contact
        _tmux("send-keys", "-t", session, "M-9")
        _wait(session, "tty$")
        _tmux("send-keys", "-t", session, "-l", "echo found=$(hero contact list | grep -c 'Tmux Person')")
        _tmux("send-keys", "-t", session, "Enter")
        _wait(session, "found=1")
        # ctrl+o (kept by the app while the terminal has focus): switch context
        _tmux("send-keys", "-t", session, "C-o")
        _wait(session, "Switch context")
        _tmux("send-keys", "-t", session, "Home")
        _tmux("send-keys", "-t", session, "Enter")
        _wait(session, "● business")  # the header shows the new context (the notification may have gone)
        assert hero("context", "show", "--json").json()["name"] == "business"
        _tmux("send-keys", "-t", session, "C-q")
        screen = _wait(session, "HERO-EXITED")
        assert "● business" not in screen and "Terminals" not in screen  # the alternate screen is gone
    finally:
        _tmux("kill-session", "-t", session)
