"""Push-to-talk in the TUI, driven by Pilot against real stores (HERO_HOME is a temp folder).

Speech is a piper recording (deterministic synthesis, made once per module) fed in as the
microphone through ``HERO_VOICE_INPUT``; CI has no sound card, so the no-microphone path is
tested as such, and no reply is spoken (no output device). The morning story is spoken with
space, request after request, under a frozen clock (time-machine), on a Wednesday and a Sunday.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from support import hero_app, typed, until

pytest.importorskip("textual")
pytest.importorskip("faster_whisper", reason="voice extra not installed")
pytest.importorskip("piper", reason="voice extra not installed")

from herotui import registry  # noqa: E402

SIZE = (120, 40)
pytestmark = pytest.mark.anyio

TODAY = "what's on today"
DECK = "find the deck about Alex and open it"
# the morning story, as said (issue 14)
STORY = {"today": "What's on today?", "yes": "Yes", "no": "No",
         "lena": "Add Lena Fischer from Lumen Labs as a contact in business",
         "deck": "Find the deck about Alex and open it"}
ZONE = ZoneInfo("Europe/Brussels")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    from herotui.voice import tts

    folder = tmp_path_factory.mktemp("tui-voice")
    return {text: tts.synthesize(text, "piper", deterministic=True).write(folder / f"u{i}.wav")
            for i, text in enumerate((TODAY, DECK))} | {
        key: tts.synthesize(text, "piper", deterministic=True).write(folder / f"story-{key}.wav")
        for key, text in STORY.items()}


@pytest.fixture(autouse=True)
def quiet(monkeypatch):
    monkeypatch.setenv("HERO_VOICE", "silent")  # never play anything, even on a machine with speakers
    monkeypatch.delenv("HERO_VOICE_INPUT", raising=False)


def _log(app) -> str:
    return "\n".join(line.text for line in app.query_one("#assistant-log").lines)


def _status(app) -> str:
    return str(app.query_one("#status").render())


def _notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_space_listens_and_shows_the_turn(ctx, wavs, monkeypatch):
    monkeypatch.setenv("HERO_VOICE_INPUT", str(wavs[TODAY]))
    app = hero_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert _status(app) == ""
        await pilot.press("space")
        assert await until(pilot, lambda: "listening" in app.voice_history and app.voice_state == "", timeout=30)
        assert app.voice_history[0] == "listening"
        assert "transcribing" in app.voice_history
        assert _status(app) == ""  # back to idle
        # the island the plan touches comes to the front (the turn's last UI step)
        assert await until(pilot, lambda: app.query_one("#islands").active == "calendar", timeout=10)
        app.show_island("assistant")
        assert await until(pilot, lambda: "hero" in _log(app) and "calendar today" in _log(app))
        log = _log(app).lower()
        assert "🎤" in log and "today" in log.split("🎤", 1)[1].splitlines()[0]
        assert any(line.lstrip().startswith("$ hero") and "calendar today" in line for line in _log(app).splitlines())


async def test_spoken_deck_request_opens_the_deck(ctx, wavs, monkeypatch):
    registry.call("demo.load", {}, ctx)  # the Northwind deck is in 'business'
    monkeypatch.setenv("HERO_VOICE_INPUT", str(wavs[DECK]))
    app = hero_app(context="business")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")

        def deck_shown() -> bool:  # the Slides island is mounted when first shown: wait for it too
            from textual.css.query import NoMatches

            try:
                return "Northwind" in str(app.query_one("#slides-position").render())
            except NoMatches:
                return False

        assert await until(pilot, deck_shown, timeout=30)
        assert app.query_one("#islands").active == "slides"
        assert "slide 1 of" in str(app.query_one("#slides-position").render())
        assert await until(pilot, lambda: app.voice_state == "")


async def test_space_in_an_input_or_a_modal_does_not_talk(ctx, wavs, monkeypatch):
    monkeypatch.setenv("HERO_VOICE_INPUT", str(wavs[TODAY]))
    app = hero_app(island="assistant")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#assistant-input")
        await pilot.press("a", "space", "b")
        await pilot.pause(0.2)
        assert app.query_one("#assistant-input").value == "a b"
        assert app.voice_history == [] and app.voice_state == ""
        # Esc with nothing listening is not taken by the app (the input keeps its text)
        await pilot.press("escape")
        assert app.query_one("#assistant-input").value == "a b"
        # a modal screen (the context picker) keeps space too
        await pilot.press("ctrl+o")
        assert await until(pilot, lambda: len(app.screen_stack) == 2)
        await pilot.press("space")
        await pilot.pause(0.2)
        assert app.voice_history == [] and len(app.screen_stack) == 2


async def test_no_microphone_is_one_notification(ctx):
    from herotui.voice import capture

    if capture.has_microphone():
        pytest.skip("this machine has a microphone")
    app = hero_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("space")
        assert await until(pilot, lambda: any("no microphone here" in n for n in _notes(app)), timeout=10)
        assert _notes(app) == ["no microphone here: type in the Assistant"]
        assert app.voice_state == "" and _status(app) == ""
        # nothing broke: typing in the Assistant still works
        app.show_island("assistant")
        await pilot.pause(0.1)
        await pilot.click("#assistant-input")
        await pilot.press("h", "i")
        assert app.query_one("#assistant-input").value == "hi"


def _flat(app) -> str:
    """The Assistant's log as one line (the log wraps long replies); "" before it is mounted."""
    from textual.css.query import NoMatches

    try:
        lines = app.query_one("#assistant-log").lines
    except NoMatches:
        return ""
    return re.sub(r"\s+", " ", " ".join(line.text for line in lines))


def _deck_shown(app) -> str:
    from textual.css.query import NoMatches

    try:
        return str(app.query_one("#slides-position").render())
    except NoMatches:  # the Slides island is mounted when first shown
        return ""


@pytest.mark.parametrize("when", [datetime(2026, 12, 9, 7, 30, tzinfo=ZONE), datetime(2026, 12, 13, 7, 30, tzinfo=ZONE)],
                         ids=["wed", "sun"])
async def test_the_morning_story_spoken_with_space(ctx, wavs, monkeypatch, when):
    """Space, "What's on today?" -> the meetings and the offer; space, "Yes" -> the summary;
    space, "Add Lena Fischer ..." -> created, or the name as heard read back: a right name
    confirmed by a spoken yes, a misheard one refused by a spoken no (nothing created) and then
    typed; Home, space, "Find the deck about Alex and open it" -> the deck in the Slides island."""
    time_machine = pytest.importorskip("time_machine")
    from herotui import contexts
    from herotui.tui.islands.assistant import AssistantIsland

    with time_machine.travel(when, tick=False):
        registry.call("demo.load", {}, ctx)
        today = registry.call("calendar.today", {}, ctx)
        business = contexts.load("business")
        before = {c.id for c in registry.call("contact.list", {}, business)}
        assert today, "the demo has meetings every day"
        app = hero_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()

            async def speak(key: str) -> str:
                """Space with ``key``'s recording as the microphone; the log after the turn."""
                monkeypatch.setenv("HERO_VOICE_INPUT", str(wavs[key]))
                turns = _flat(app).count("\U0001f3a4")
                app.voice_history.clear()
                await pilot.press("space")
                assert await until(pilot, lambda: app.voice_history[:1] == ["listening"] and app.voice_state == ""
                                   and _flat(app).count("\U0001f3a4") > turns, timeout=60), (key, app.voice_history, app.focused,
                                                                                   app.query_one("#islands").active, app.screen_stack)
                return _flat(app).split("\U0001f3a4")[-1]

            # 1. today: every meeting once, and the offer of the first meeting's document
            said = await speak("today")
            assert said.lower().startswith(" what's on today"), said
            assert "$ hero --context personal calendar today" in said, said
            for e in today:
                assert said.count(e.title) >= 1, (e.title, said)
            offer = re.search(r"Shall I summarise \u201c(?P<doc>[^\u201d]+)\u201d \(for (?P<event>[^,]+),", said)
            assert offer and offer["event"] in [e.title for e in today], said
            assistant = app.query_one(AssistantIsland)
            assert assistant.pending and app.query_one("#islands").active == "assistant"
            assert not app.query_one("#assistant-input").has_focus  # space talks (the log has the focus)
            # 2. yes: the summary of that document
            said = await speak("yes")
            assert said.lower().startswith(" yes"), said
            assert "document summarize" in said and f"Summary of \u201c{offer['doc']}\u201d" in said, said
            assert not assistant.pending
            # 3. Lena Fischer, in business (space again, on the island the summary brought up)
            said = await speak("lena")
            assert "--context business contact create" in said, said
            read_back = re.search(r"I heard the name \u201c(?P<name>[^\u201d]+)\u201d(?: at \u201c(?P<company>[^\u201d]+)\u201d)?",
                                  said)
            if read_back is None:  # heard with confidence: created at once, and rightly
                assert "Lena Fischer" in said and "Lumen Labs" in said, said
            else:
                assert assistant.pending
                assert {c.id for c in registry.call("contact.list", {}, business)} == before  # nothing yet
                if (read_back["name"], read_back["company"]) == ("Lena Fischer", "Lumen Labs"):
                    said = await speak("yes")
                    assert "Lena Fischer" in said, said
                else:  # misheard ("Lena Fisher" at "Lumen Lives"): no, then typed, as the reply says
                    said = await speak("no")
                    assert "OK, cancelled: nothing changed." in said, said
                    assert {c.id for c in registry.call("contact.list", {}, business)} == before
                    field = app.query_one("#assistant-input")
                    assert await until(pilot, lambda: field.has_focus)
                    await typed(pilot, STORY["lena"], "enter")
                    assert await until(pilot, lambda: "Lena Fischer \u00b7 Lumen Labs" in _flat(app), timeout=30), _flat(app)
            new = [c for c in registry.call("contact.list", {}, business) if c.id not in before]
            assert [(c.name, c.company) for c in new] == [("Lena Fischer", "Lumen Labs")], new
            assert not [c for c in registry.call("contact.list", {}, ctx) if "lena" in c.name.lower()]
            # 4. from Home (no text field has the focus there): the deck, on screen
            await pilot.press("alt+1")
            assert await until(pilot, lambda: app.query_one("#islands").active == "home")
            monkeypatch.setenv("HERO_VOICE_INPUT", str(wavs["deck"]))
            await pilot.press("space")
            assert await until(pilot, lambda: "Alex at 40" in _deck_shown(app), timeout=60), _flat(app)
            assert app.query_one("#islands").active == "slides" and "slide 1 of" in _deck_shown(app)
            assert await until(pilot, lambda: app.voice_state == "")
