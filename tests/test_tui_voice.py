"""Push-to-talk in the TUI, driven by Pilot against real stores (HERO_HOME is a temp folder).

Speech is a piper recording (deterministic synthesis, made once per module) fed in as the
microphone through ``HERO_VOICE_INPUT``; CI has no sound card, so the no-microphone path is
tested as such, and no reply is spoken (no output device).
"""

from __future__ import annotations

import pytest
from support import hero_app, until

pytest.importorskip("textual")
pytest.importorskip("faster_whisper", reason="voice extra not installed")
pytest.importorskip("piper", reason="voice extra not installed")

from herotui import registry  # noqa: E402

SIZE = (120, 40)
pytestmark = pytest.mark.anyio

TODAY = "what's on today"
DECK = "find the deck about Alex and open it"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    from herotui.voice import tts

    folder = tmp_path_factory.mktemp("tui-voice")
    return {text: tts.synthesize(text, "piper", deterministic=True).write(folder / f"u{i}.wav")
            for i, text in enumerate((TODAY, DECK))}


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
