"""The morning story (issue 14) by voice, end to end: spoken WAV files through the real
``hero voice --file`` command, one process per utterance, on a fresh ``hero demo`` under a
frozen clock (a weekday and a Sunday).

"What's on today?" -> the day's meetings and the offer to summarise the document linked to the
first one -> "Yes" (another process: the conversation carries) -> the summary -> "Add Lena
Fischer from Lumen Labs as a contact in business" -> created, or, when the recogniser was
unsure of the name, the name as heard read back with a question: a right name is confirmed
by a spoken "yes", a wrong one refused by a spoken "no" (nothing is created; the reply says
to type it, and the typed request creates her) -> "Find the deck about Alex and open it" ->
in a pipe, the line naming the deck and the command that presents it (which works).

From ``business`` the same with a named conversation (``hero voice --session``): a "yes"
outside it answers nothing. Effects are checked in the stores (``hero ... --json``), not
only in the words.

The audio is piper's packaged voice (deterministic synthesis), made once per test session;
speech to text is the packaged tiny.en, as on a fresh install. The clock is libfaketime, as in
test_morning_story.py (which runs the story by text on all seven days).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from support import LIBFAKETIME, hero_exe

pytest.importorskip("faster_whisper", reason="voice extra not installed")
pytest.importorskip("piper", reason="voice extra not installed")


SAID = {
    "today": "What's on today?",
    "yes": "Yes",
    "no": "No",
    "lena": "Add Lena Fischer from Lumen Labs as a contact in business",
    "deck": "Find the deck about Alex and open it",
    "sarah": "Add Sarah Miller as a contact",
}


@pytest.fixture(scope="session")
def spoken(tmp_path_factory) -> dict[str, Path]:
    """Every request of the story as a piper WAV (made once per session)."""
    from herotui.voice import tts

    folder = tmp_path_factory.mktemp("voice-story")
    return {key: tts.synthesize(text, "piper", deterministic=True).write(folder / f"{key}.wav")
            for key, text in SAID.items()}


def frozen_env(day: str) -> dict:
    assert LIBFAKETIME, "libfaketime is missing: apt-get install faketime (see the README's test paragraph)"
    return dict(os.environ, COLUMNS="200", TZ="Europe/Brussels", HERO_TZ="Europe/Brussels", HERO_VOICE="silent",
                LD_PRELOAD=LIBFAKETIME, FAKETIME=f"@{day} 07:30:00", FAKETIME_DONT_RESET="1")


def ok(env: dict, *args: str, timeout: float = 120) -> str:
    proc = subprocess.run([hero_exe(), *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, f"hero {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def say(env: dict, wav: Path, *, context: str | None = None, session: str | None = None,
        elsewhere: bool = False) -> str:
    """``hero [--context C] voice --file WAV [--session S]`` in its own process: what it prints.
    The conversation is this test's (its calls share a parent process, as a script's do);
    ``elsewhere``: from another one (a shell in between, as from another terminal)."""
    args = (["--context", context] if context else []) + ["voice", "--file", str(wav)] + (
        ["--session", session] if session else [])
    argv = ["sh", "-c", '"$0" "$@"; exit $?', hero_exe(), *args] if elsewhere else [hero_exe(), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, f"hero {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr.strip() == "", proc.stderr  # no ALSA chatter, no warnings
    assert proc.stdout.startswith("heard: "), proc.stdout
    return proc.stdout


def heard(out: str) -> str:
    return out.splitlines()[0].removeprefix("heard: ")


def contacts(env: dict, context: str) -> list[dict]:
    return json.loads(ok(env, "--context", context, "contact", "list", "--json"))


def today_and_summary(env: dict, spoken: dict, context: str, day: str, session: str | None = None) -> None:
    """"What's on today?" by voice: the meetings once each and the offer; "yes" (a second
    process) summarises the offered document."""
    today = json.loads(ok(env, "--context", context, "calendar", "today", "--json"))
    assert today and all(e["start"][:10] <= day for e in today), f"{context} has nothing on {day}"
    out = say(env, spoken["today"], context=context, session=session)
    assert heard(out).rstrip("?.").lower() == "what's on today", out
    assert f"$ hero --context {context} calendar today" in out, out
    for e in today:  # every meeting of the day, each listed once
        assert len(re.findall(rf"^\s.*{re.escape(e['title'])}\s*$", out, re.M)) == 1, out
    offer = re.search(r"Shall I summarise \u201c(?P<doc>[^\u201d]+)\u201d \(for (?P<event>[^,]+),", out)
    assert offer, out
    event = next(e for e in today if e["title"] == offer["event"])
    linked = json.loads(ok(env, "--context", context, "document", "list", "--event", event["id"], "--json"))
    assert offer["doc"] in [d["title"] for d in linked]
    if session:  # the offer belongs to that conversation: a yes outside it answers nothing
        other = say(env, spoken["yes"], context=context)
        assert "There is nothing waiting for a yes." in other and "Summary of" not in other, other
    summary = say(env, spoken["yes"], context=context, session=session)
    assert heard(summary).rstrip(".!").lower() == "yes", summary
    assert f"Summary of \u201c{offer['doc']}\u201d" in summary and "document summarize" in summary, summary
    assert len([line for line in summary.splitlines() if line.startswith("- ")]) >= 2, summary


def deck_in_a_pipe(env: dict, spoken: dict, context: str, expected: str, session: str | None = None) -> None:
    out = say(env, spoken["deck"], context=context, session=session)
    m = re.search(r"Found the deck \u201c(?P<title>[^\u201d]+)\u201d \((?P<n>\d+) slides\); to present it in a terminal: "
                  r"(?P<cmd>hero .+)$", out, re.M)
    assert m and expected in m["title"], out
    slides = ok(env, *m["cmd"].split()[1:])  # the command it names presents it (every slide, in a pipe)
    assert f"slide {m['n']} of {m['n']}" in slides and expected in slides


def add_lena(env: dict, spoken: dict) -> None:
    """The spoken request creates Lena Fischer at Lumen Labs in business, once, and never a
    contact under a name that was misheard."""
    before = contacts(env, "business")
    out = say(env, spoken["lena"])
    assert "contact create" in out and "--context business" in out, out
    read_back = re.search(r"I heard the name \u201c(?P<name>[^\u201d]+)\u201d(?: at \u201c(?P<company>[^\u201d]+)\u201d)?\. "
                          r"Shall I create that contact in business\?", out)
    if read_back is None:  # heard with confidence: created at once, and it must be right
        assert "Created Lena Fischer" in out, out
    else:  # unsure: nothing is created until the answer
        assert contacts(env, "business") == before, "a contact was created before the yes"
        right = (read_back["name"], read_back["company"]) == ("Lena Fischer", "Lumen Labs")
        answer = say(env, spoken["yes" if right else "no"])  # another process answers the question
        if right:
            assert "Created Lena Fischer" in answer, answer
        else:  # "Lena Fisher" at "Lumen Lives": refused, nothing made; then typed, as the reply says
            assert "or type it" in out and "OK, cancelled: nothing changed." in answer, answer
            assert contacts(env, "business") == before
            typed = ok(env, "ask", SAID["lena"])
            assert "Created Lena Fischer" in typed, typed
    after = contacts(env, "business")
    new = [c for c in after if c["id"] not in {b["id"] for b in before}]
    assert [(c["name"], c["company"]) for c in new] == [("Lena Fischer", "Lumen Labs")], new
    assert not [c for c in contacts(env, "personal") if "lena" in c["name"].lower() or "lumen l" in (c["company"] or "").lower()]


@pytest.mark.slow
@pytest.mark.parametrize("day", ["2026-12-09", "2026-12-13"], ids=["wed", "sun"])
def test_the_morning_story_by_voice(day, spoken, demo_at):
    env = frozen_env(day)
    demo_at(env)  # a copy of `hero demo` run under this clock (once per day and run)
    # from the default context (personal), as a new user starts; one conversation for every
    # voice turn of a context, across processes
    today_and_summary(env, spoken, "personal", day)
    add_lena(env, spoken)
    deck_in_a_pipe(env, spoken, "personal", "Alex at 40")
    # from business, in a named conversation
    today_and_summary(env, spoken, "business", day, session="morning")
    # Lena asked for again: Hero asks (a second one? or the name as heard), "no" keeps one
    again = say(env, spoken["lena"], context="business", session="morning")
    assert "already a contact in business. Add a second one?" in again or "I heard the name" in again, again
    assert "OK, cancelled: nothing changed." in say(env, spoken["no"], context="business", session="morning")
    deck_in_a_pipe(env, spoken, "business", "Northwind Q4 Quarterly Review", session="morning")
    assert [c["company"] for c in contacts(env, "business") if c["name"] == "Lena Fischer"] == ["Lumen Labs"]


def test_a_name_read_back_is_created_by_a_spoken_yes(spoken, demo_at):
    """A name heard with doubt ("Sarah" at p=0.32 here; HERO_VOICE_UNSURE=0.9 makes sure of
    the doubt) is read back, nothing is created until the "yes" spoken in the next process of
    the same conversation (not another terminal's), which creates it once, as heard."""
    env = frozen_env("2026-12-11") | {"HERO_VOICE_UNSURE": "0.9"}
    demo_at(env)  # a copy of `hero demo` run under this clock (once per day and run)
    before = contacts(env, "business")
    out = say(env, spoken["sarah"], context="business")
    assert heard(out).rstrip(".") == SAID["sarah"], out
    assert "$ hero --context business contact create --name 'Sarah Miller'" in out, out
    assert "I heard the name \u201cSarah Miller\u201d. Shall I create that contact in business?" in out, out
    assert contacts(env, "business") == before
    # a yes from another terminal answers nothing: the question is this conversation's
    assert "There is nothing waiting for a yes." in say(env, spoken["yes"], context="business", elsewhere=True)
    assert contacts(env, "business") == before
    created = say(env, spoken["yes"], context="business")
    assert "Created Sarah Miller" in created, created
    new = [c for c in contacts(env, "business") if c["id"] not in {b["id"] for b in before}]
    assert [c["name"] for c in new] == ["Sarah Miller"], new
    assert "There is nothing waiting for a yes." in say(env, spoken["yes"], context="business")
    assert len(contacts(env, "business")) == len(before) + 1


def test_a_spoken_yes_answers_a_typed_question_of_the_same_conversation(spoken, demo_at):
    """``--session`` is one conversation for typed and spoken turns (as in the TUI): the offer
    made to ``hero ask --session S`` is answered by ``hero voice --session S``."""
    env = frozen_env("2026-12-10")
    demo_at(env)  # a copy of `hero demo` run under this clock (once per day and run)
    typed = ok(env, "--context", "business", "ask", "--session", "desk", "What's on today?")
    offer = re.search(r"Shall I summarise \u201c(?P<doc>[^\u201d]+)\u201d", typed)
    assert offer, typed
    answer = say(env, spoken["yes"], context="business", session="desk")
    assert f"Summary of \u201c{offer['doc']}\u201d" in answer, answer
    again = say(env, spoken["yes"], context="business", session="desk")  # answered once only
    assert "There is nothing waiting for a yes." in again, again
