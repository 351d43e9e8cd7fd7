"""The voice loop: audio -> transcript -> plan (``ask.run``) -> reply, spoken.

The API front-ends call (all blocking: run them off the UI thread, e.g. in a Textual
``@work(thread=True)`` worker):

* :func:`handle_audio` (samples) / :func:`handle_file` (a recording) / :func:`handle_text`
  -> :class:`VoiceTurn` (transcript, the planner's ``AskResult``, the reply, timings). A
  transcript that plans as nothing but would with its first word swapped for a command word
  that sounds alike ("Joe Alex Smith" -> "Show Alex Smith") is corrected first
  (:func:`herotui.voice.vocabulary.correct_command`); ``heard_as`` keeps whisper's words.
* :func:`listen_once` records one utterance (VAD ends it; ``stop``/``cancel`` events for a
  second key press or Esc) and handles it. Raises ``NoMicrophone``.
* :func:`speak_reply` speaks a turn's reply (separate, so a UI can show the text first),
  sentence by sentence as it is synthesised (see :func:`herotui.voice.tts.say`).
* :func:`confirm_by_voice` after a turn waiting for a yes: listens for a yes or no; no
  answer within the timeout counts as no (the pending plan is dropped).
* :func:`warm_up` loads the speech model ahead of the first press (1.3 s), and the voice in
  the background (:func:`listen_once` starts that too, so the first reply does not wait).

Every plan runs through the registry as ``ask.run`` with actor ``voice`` (audited).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict

from herotui import contexts, registry, settings
from herotui.results import jsonable
from herotui.voice import SAMPLE_RATE, capture, stt, tts, vocabulary


class VoiceTurn(BaseModel):
    """One exchange: what was heard, what the planner made of it, and the answer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    transcript: str
    result: Any = None  # herotui.planner.ask.AskResult, None when nothing was heard
    reply: str
    speakable: str = ""
    heard: bool = True
    audio_seconds: float = 0.0
    timings: dict[str, float] = {}
    spoken: dict | None = None  # tts.Spoken as a dict, once spoken
    stt_backend: str = ""
    heard_as: str = ""  # whisper's words when a misheard command word was corrected

    @property
    def plan_lines(self) -> list[str]:
        if self.result is None:
            return []
        return [s.cli for s in self.result.plan.steps]

    @property
    def waiting_for_yes(self) -> bool:
        return bool(self.result is not None and self.result.pending)

    def to_json(self) -> dict:
        return {"transcript": self.transcript, "heard": self.heard, "plan": self.plan_lines,
                "heard_as": self.heard_as or None,
                "reply": self.reply, "speakable": self.speakable, "pending": self.waiting_for_yes,
                "audio_seconds": round(self.audio_seconds, 3), "stt_backend": self.stt_backend,
                "timings": {k: round(v, 4) for k, v in self.timings.items()}, "spoken": self.spoken,
                "result": jsonable(self.result) if self.result is not None else None}


NOTHING_HEARD = "I didn't catch anything. Try again, a little closer to the microphone."


def _ctx(ctx):
    if ctx is not None:
        return ctx
    return contexts.current()


def warm_up() -> None:
    """Load the speech model (1.3 s, here) and, in the background, the voice (0.9 s)."""
    tts.preload()
    stt.backend()
    vocabulary.prepare()


def handle_text(text: str, ctx=None, *, dry_run: bool = False, confirm: bool = False,
                timings: dict | None = None, session: str | None = None, unsure: list[str] | None = None) -> VoiceTurn:
    """Run ``text`` through the planner (``ask.run``, actor ``voice``; ``session``: the
    conversation, shared with the front-end's typed requests, e.g. the TUI's; ``unsure``: words
    the recogniser was unsure of: a contact or event named with one is read back and asked
    about before it is created)."""
    ctx = _ctx(ctx)
    timings = dict(timings or {})
    t0 = time.perf_counter()
    registry.load("ask")
    args = {"text": text, "dry_run": dry_run, "confirm": confirm} | ({"session": session} if session else {}) | (
        {"unsure": list(unsure)} if unsure else {})
    result = registry.call("ask.run", args, ctx, actor="voice")
    timings["plan_and_run"] = time.perf_counter() - t0
    if result.plan.steps and any(s.verb.split(".")[0] == "contact" for s in result.plan.steps):
        vocabulary.invalidate()  # a new name is now worth hinting
    return VoiceTurn(transcript=text, result=result, reply=result.reply, speakable=tts.speakable(result.reply),
                     timings=timings)


def handle_audio(audio, ctx=None, *, dry_run: bool = False, confirm: bool = False,
                 on_state: Callable[[str], None] | None = None, session: str | None = None) -> VoiceTurn:
    """Transcribe float32 16 kHz samples (or int16 bytes) and handle the words.

    ``on_state`` is told "transcribing", then "thinking" (planning and running).
    """
    notify = on_state or (lambda _s: None)
    if isinstance(audio, (bytes, bytearray)):
        audio = stt.pcm16_to_float(bytes(audio))
    ctx = _ctx(ctx)
    notify("transcribing")
    t0 = time.perf_counter()
    prompt = vocabulary.hint(ctx)
    t1 = time.perf_counter()
    tr = stt.transcribe(audio, prompt)
    t2 = time.perf_counter()
    timings = {"vocabulary": t1 - t0, "stt": t2 - t1}
    text = clean_transcript(tr.text)
    if not text:
        return VoiceTurn(transcript="", reply=NOTHING_HEARD, speakable=NOTHING_HEARD, heard=False,
                         audio_seconds=tr.audio_seconds, timings=timings, stt_backend=tr.backend)
    notify("thinking")
    corrected = vocabulary.correct_command(ctx, text)  # "Joe Alex Smith" -> "show Alex Smith"
    timings["correction"] = time.perf_counter() - t2
    turn = handle_text(corrected or text, ctx, dry_run=dry_run, confirm=confirm, timings=timings, session=session,
                       unsure=tr.unsure_words())
    turn.heard_as = text if corrected else ""
    turn.audio_seconds = tr.audio_seconds
    turn.stt_backend = tr.backend
    turn.timings["total"] = time.perf_counter() - t0
    return turn


def clean_transcript(text: str) -> str:
    """Whisper's spelling of times ("12.30", "3 p.m.") as the planner reads them."""
    text = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", text.strip())
    # "at 1230" / "at 930": a clock time said without a separator
    text = re.sub(r"\b(at|from|until|to) ([01]?\d|2[0-3])([0-5]\d)\b", r"\1 \2:\3", text, flags=re.I)
    text = re.sub(r"\b([ap])\.m\.", r"\1m", text, flags=re.I)
    return text


def handle_file(path, ctx=None, *, dry_run: bool = False, confirm: bool = False,
                max_seconds: float | None = None, session: str | None = None) -> VoiceTurn:
    """One utterance from a recording (its first ``HERO_VOICE_MAX_SECONDS``, 15 s by default).

    ``session``: the conversation it belongs to (as for :func:`handle_text`); without one, every
    voice turn in a context shares one conversation, so a recording saying "yes" answers the
    offer or question of the previous recording, in another process too."""
    max_seconds = max_seconds if max_seconds is not None else settings.get().HERO_VOICE_MAX_SECONDS
    return handle_audio(stt.read_audio(path, max_seconds), ctx, dry_run=dry_run, confirm=confirm, session=session)


def speak_reply(turn: VoiceTurn, *, silent: bool = False, out=None) -> dict:
    spoken = asdict(tts.say(turn.reply, silent=silent, out=out))
    turn.spoken = spoken
    return spoken


def listen_once(ctx=None, *, cancel: threading.Event | None = None, stop: threading.Event | None = None,
                on_state: Callable[[str], None] | None = None, on_level: Callable[[float], None] | None = None,
                start_timeout: float | None = None, dry_run: bool = False, source=None,
                session: str | None = None) -> VoiceTurn | None:
    """Record one utterance and handle it. None: cancelled. Raises ``NoMicrophone``.

    ``on_state`` is told "listening", "transcribing", "thinking", "done" (a voice indicator).
    """
    notify = on_state or (lambda _s: None)
    tts.preload()  # the voice loads while the user speaks (no-op once loaded, or when piper is not used)
    notify("listening")
    pcm = capture.record_utterance(cancel=cancel, stop=stop, on_level=on_level, start_timeout=start_timeout,
                                   source=source)
    if pcm is None:
        notify("cancelled")
        return None
    turn = handle_audio(pcm, ctx, dry_run=dry_run, on_state=notify, session=session)
    turn.timings["audio_seconds"] = len(pcm) / 2 / SAMPLE_RATE
    notify("done")
    return turn


def confirm_by_voice(ctx=None, *, timeout: float | None = None, cancel: threading.Event | None = None,
                     on_state: Callable[[str], None] | None = None, source=None,
                     session: str | None = None) -> VoiceTurn:
    """After a turn waiting for a yes: listen for the answer. Silence for ``timeout``
    seconds (``HERO_VOICE_CONFIRM_TIMEOUT``, 8) is a no: the pending plan is dropped."""
    timeout = timeout if timeout is not None else settings.get().HERO_VOICE_CONFIRM_TIMEOUT
    turn = listen_once(ctx, cancel=cancel, on_state=on_state, start_timeout=timeout, source=source, session=session)
    if turn is None or not turn.heard:
        t = handle_text("no", ctx, session=session)
        t.reply = "No answer, so I cancelled it: nothing changed."
        t.heard = False
        return t
    return turn
