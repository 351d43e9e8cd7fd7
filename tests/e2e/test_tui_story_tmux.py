"""The morning story in the TUI, in a real terminal (tmux), under a frozen clock (faketime).

``hero demo`` and ``hero tui`` run under libfaketime, ``FAKETIME='@2026-01-07 09:30:00'`` (a Wednesday;
the clock starts there and ticks, so Textual's timers run; FAKETIME_DONT_FAKE_MONOTONIC is
not set: with it, Python's time.sleep fails with EINVAL under libfaketime 0.9). The four
requests are typed into the Assistant; the test checks the structure of what comes back
(the plan's command lines, events listed with their times, a summary, the new contact in the
store, the deck in the Slides island), not the demo's wording, which changes.
Colour captures of each step are written to ``$HERO_SCREENS`` when it is set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from support import LIBFAKETIME

from tests.e2e.conftest import child_env, hero_exe

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
              pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is not installed (apt install faketime)"),
              pytest.mark.slow]

FROZEN = "2026-01-07 09:30:00"  # Wednesday, Europe/Brussels
TIMED_LINE = re.compile(r"\b\d{2}:\d{2}\b")


def _tmux(*args: str, socket: str) -> str:
    """tmux on this story's own server (``-L``): a session started while another test's server
    was exiting (its last session closed) was lost with it, and the screen read blank."""
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=10).stdout


def _frozen_env(hero_home) -> dict:
    return child_env(HERO_HOME=str(hero_home), HERO_TZ="Europe/Brussels", TZ="Europe/Brussels",
                     HERO_VOICE="silent", TERM="xterm-256color")


class Story:
    def __init__(self, hero_home, width: int, height: int) -> None:
        self.session = "hero-story-" + uuid.uuid4().hex[:8]
        self.env = _frozen_env(hero_home)
        for var in ("HERO_MODEL", "HERO_MODEL_API_BASE", "HERO_CONTEXT", "COLUMNS", "LINES"):
            self.env.pop(var, None)
        # the variables on the command line: a tmux server already running would not pass ours on
        cmd = (f"env -u COLUMNS -u LINES -u HERO_CONTEXT -u HERO_MODEL HERO_HOME={hero_home} HERO_TZ=Europe/Brussels "
               f"TZ=Europe/Brussels HERO_VOICE=silent TERM=xterm-256color "
               f"LD_PRELOAD={LIBFAKETIME} FAKETIME='@{FROZEN}' {hero_exe()} tui --context business --island assistant; "
               "echo HERO-EXITED $?; sleep 300")  # the screen (an error) stays until the test kills the server
        subprocess.run(["tmux", "-L", self.session, "new-session", "-d", "-x", str(width), "-y", str(height), "-s", self.session, cmd],
                       check=True, env=self.env)
        self.size = f"{width}x{height}"

    def screen(self, escapes: bool = False) -> str:
        return _tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", self.session, socket=self.session)

    def wait(self, test, what: str, timeout: float = 40) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            if "HERO-EXITED" in screen:  # the TUI ended: what it said is on screen
                break
            time.sleep(0.2)
        raise AssertionError(f"{what}: not on screen:\n{self.screen()}")

    def type(self, text: str) -> None:
        _tmux("send-keys", "-t", self.session, "-l", text, socket=self.session)
        _tmux("send-keys", "-t", self.session, "Enter", socket=self.session)

    def keys(self, *keys: str) -> None:
        _tmux("send-keys", "-t", self.session, *keys, socket=self.session)

    def keep(self, name: str) -> None:
        folder = os.environ.get("HERO_SCREENS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            (Path(folder) / f"story-{self.size}-{name}.ansi").write_text(self.screen(escapes=True))

    def close(self) -> None:
        _tmux("kill-server", socket=self.session)


def _after(screen: str, marker: str) -> str:
    return screen.rsplit(marker, 1)[1] if marker in screen else ""


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_the_morning_story_typed_in_the_assistant(hero_home, size):
    env = _frozen_env(hero_home)
    demo = subprocess.run([hero_exe(), "demo"], capture_output=True, text=True, timeout=180,
                          env=dict(env, LD_PRELOAD=LIBFAKETIME, FAKETIME=f"@{FROZEN}"))
    assert demo.returncode == 0, demo.stderr
    story = Story(hero_home, *size)
    try:
        story.wait(lambda s: "● business" in s and "Ask Hero" in s, "the Assistant")
        # the input has the focus on arrival, and alt+digit leaves it alone
        story.keys("-l", "abc")
        story.wait(lambda s: "abc" in s, "typed text in the input")
        story.keys("M-3")
        story.wait(lambda s: "d day" in s and "w week" in s, "the Calendar (alt+3)")
        story.keys("M-8")
        story.wait(lambda s: "abc" in s and "d day" not in s, "back in the Assistant, the text kept")
        story.keys("BSpace", "BSpace", "BSpace")
        story.wait(lambda s: "abc" not in s, "the text erased")

        story.type("What's on today?")
        screen = story.wait(lambda s: "calendar today" in s and "to confirm" in _after(s, "calendar today"),
                            "the plan, the meetings and the offer", timeout=60)
        story.keep("1-today")
        answer = _after(screen, "calendar today")
        assert len([line for line in answer.splitlines() if TIMED_LINE.search(line)]) >= 1, answer
        assert "{'" not in screen and "'id'" not in screen  # readable lines, never a raw dict
        assert "summar" in answer.lower(), answer

        story.type("Yes")
        screen = story.wait(lambda s: "document summarize" in s and "Summary" in _after(s, "document summarize"),
                            "the summary", timeout=90)
        story.keep("2-summary")

        story.type("Add Lena Fischer from Lumen Labs as a contact in business")
        screen = story.wait(lambda s: "contact create" in s and "Lena Fischer" in _after(s, "contact create"),
                            "the new contact", timeout=60)
        story.keep("3-contact")
        listed = subprocess.run([hero_exe(), "--context", "business", "contact", "list", "--json"],
                                capture_output=True, text=True, env=env, timeout=60)
        assert "Lena Fischer" in listed.stdout, listed.stderr

        story.type("Find the deck about Alex and open it")
        screen = story.wait(lambda s: re.search(r"slide 1 of \d+", s) is not None, "the deck in the Slides island",
                            timeout=60)
        story.keep("4-deck")
        assert "Slides" in screen.splitlines()[0]  # the header names the island on screen
        story.keys("Right")
        story.wait(lambda s: re.search(r"slide 2 of \d+", s) is not None, "the next slide")
        story.keys("C-q")
        story.wait(lambda s: "HERO-EXITED" in s, "the app closed")
    finally:
        story.close()
