"""The morning story (issue 14) by text, end to end: real ``hero`` processes on a fresh
``hero demo``, under a frozen clock on each of the seven days of a week, from both contexts.

"What's on today?" -> the day's meetings (each once) and an offer to summarise the document
linked to the first one that has a document -> "yes" -> the summary -> "Add Lena Fischer from
Lumen Labs as a contact in business" -> created once; asked again, Hero asks instead of
creating a second one -> "Find the deck about Alex and open it" -> in a pipe, a line naming
the deck and the command that presents it (that command prints its slides); in a terminal
(a pseudo-terminal here) the presenter runs full-screen and 'q' leaves it.

The clock: libfaketime (Debian package ``faketime``) preloaded into every child process, so
the CLI and any server it starts share the frozen day; ``hero demo`` runs under the same
clock, as a new user's install would on that day (once per day and test run: each test gets a
copy of that home, ``demo_at`` in conftest.py; test_voice_story.py shares the days).
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time

import pytest
from support import LIBFAKETIME, hero_exe


# Monday 7 to Sunday 13 December 2026, 07:30 in Brussels (before the first meeting of each day)
DAYS = [f"2026-12-{d:02d}" for d in range(7, 14)]


def frozen_env(day: str) -> dict:
    assert LIBFAKETIME, "libfaketime is missing: apt-get install faketime (see the README's test paragraph)"
    return dict(os.environ, COLUMNS="200", TZ="Europe/Brussels", HERO_TZ="Europe/Brussels",
                LD_PRELOAD=LIBFAKETIME, FAKETIME=f"@{day} 07:30:00", FAKETIME_DONT_RESET="1")


def run(env: dict, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([hero_exe(), *args], capture_output=True, text=True, env=env, timeout=timeout)


def ok(env: dict, *args: str) -> str:
    proc = run(env, *args)
    assert proc.returncode == 0, f"hero {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def story_day(env: dict, context: str, day: str) -> None:
    """Steps 1 and 2 in ``context``: today's meetings once, the offer, the summary."""
    today = json.loads(ok(env, "--context", context, "calendar", "today", "--json"))
    assert today and all(e["start"][:10] <= day for e in today), f"{context} has nothing on {day}"
    out = ok(env, "--context", context, "ask", "What's on today?")
    for e in today:  # every meeting of the day, each listed once
        assert out.count(e["title"]) >= 1, out
        assert len(re.findall(rf"^\s.*{re.escape(e['title'])}\s*$", out, re.M)) == 1, out
    offer = re.search(r"Shall I summarise \u201c(?P<doc>[^\u201d]+)\u201d \(for (?P<event>[^,]+),", out)
    assert offer, out
    event = next(e for e in today if e["title"] == offer["event"])
    # the first meeting of the day (not over yet) that has a document: no earlier one has any
    for earlier in today[: today.index(event)]:
        docs = json.loads(ok(env, "--context", context, "document", "list", "--event", earlier["id"], "--json"))
        assert not [d for d in docs if d["kind"] != "deck"], f"{earlier['title']} has a document, it comes first"
    linked = json.loads(ok(env, "--context", context, "document", "list", "--event", event["id"], "--json"))
    assert offer["doc"] in [d["title"] for d in linked]
    if event["title"] == "Quarterly report review":  # the report, not the statement of work
        assert "Quarterly Report" in offer["doc"], offer["doc"]
    summary = ok(env, "--context", context, "ask", "yes")
    assert f"Summary of \u201c{offer['doc']}\u201d" in summary and "document summarize" in summary, summary
    assert len(summary.strip().splitlines()) >= 3


def lenas(env: dict) -> list[dict]:
    return [c for c in json.loads(ok(env, "--context", "business", "contact", "list", "--json"))
            if c["name"] == "Lena Fischer"]


def deck_in_pipe(env: dict, context: str, expected: str) -> None:
    out = ok(env, "--context", context, "ask", "Find the deck about Alex and open it")
    m = re.search(r"Found the deck \u201c(?P<title>[^\u201d]+)\u201d \((?P<n>\d+) slides\); to present it in a terminal: "
                  r"(?P<cmd>hero .+)$", out, re.M)
    assert m and expected in m["title"], out
    cmd = m["cmd"].split()[1:]
    slides = ok(env, *cmd)  # the command it names works, and prints every slide in a pipe
    assert f"slide {m['n']} of {m['n']}" in slides and expected in slides


@pytest.mark.slow
@pytest.mark.parametrize("day", DAYS, ids=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
def test_the_morning_story_by_text_every_day(day, demo_at):
    env = frozen_env(day)
    demo_at(env)  # a copy of `hero demo` run under this clock (once per day and run)
    # from the default context (personal), as a new user starts
    story_day(env, "personal", day)
    out = ok(env, "ask", "Add Lena Fischer from Lumen Labs as a contact in business")
    assert "Created Lena Fischer" in out and "--context business contact create" in out
    assert len(lenas(env)) == 1 and lenas(env)[0]["company"] == "Lumen Labs"
    deck_in_pipe(env, "personal", "Alex at 40")
    # from business: the same story; Lena is not created twice (Hero asks), "no" keeps one
    story_day(env, "business", day)
    again = ok(env, "--context", "business", "ask", "Add Lena Fischer from Lumen Labs as a contact")
    assert "already a contact" in again and "Add a second one?" in again, again
    assert "OK, cancelled" in ok(env, "--context", "business", "ask", "no")
    assert len(lenas(env)) == 1
    deck_in_pipe(env, "business", "Northwind Q4 Quarterly Review")


def test_a_failed_step_makes_hero_ask_exit_non_zero(demo_at):
    env = frozen_env(DAYS[2])
    demo_at(env)  # a copy of `hero demo` run under this clock (once per day and run)
    proc = run(env, "--context", "business", "ask", "find the deck about zebras and open it")
    assert proc.returncode == 1, proc
    assert "no deck matches" in proc.stdout and "Step 1 (slides.present) failed." in proc.stdout


def test_open_it_in_a_terminal_runs_the_presenter(demo_at):
    """In a terminal, "find the deck about Alex and open it" presents the deck full-screen."""
    import pty

    env = frozen_env(DAYS[2])
    env.pop("COLUMNS")
    env.update(TERM="xterm-256color", LINES="30", COLUMNS="100")
    demo_at(env)  # a copy of `hero demo` run under this clock (once per day and run)
    pid, fd = pty.fork()
    if pid == 0:  # the child: hero on the pseudo-terminal, 100 x 30
        import fcntl
        import struct
        import termios

        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.execve(hero_exe(), [hero_exe(), "--context", "business", "ask", "Find the deck about Alex and open it"], env)
    seen = b""
    deadline = time.monotonic() + 90
    try:
        while b"slide 1 of 8" not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        assert b"\x1b[?1049h" in seen, seen[-2000:]  # the alternate screen: the presenter, full-screen
        assert b"slide 1 of 8" in seen and b"Northwind" in seen
        os.write(fd, b"q")
        status = None
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    pass
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert status is not None and os.waitstatus_to_exitcode(status) == 0
        assert b"\x1b[?1049l" in seen  # the terminal is restored
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
