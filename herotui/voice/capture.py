"""Microphone capture through PortAudio (sounddevice), with ALSA's noise kept off the screen.

With no sound card (SSH, CI, containers) PortAudio's ALSA and JACK back-ends print dozens of
lines straight to file descriptor 2 while they probe, which garbles a TUI. Every PortAudio
call that may probe runs inside :func:`quiet_stderr` (fd 2 pointed at /dev/null, restored
after). No input device is a normal situation: :class:`NoMicrophone` with a one-line message.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from herotui.errors import HeroError
from herotui.voice import SAMPLE_RATE, env_float

FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 480 samples, what webrtcvad takes


class NoMicrophone(HeroError):
    code = "no_microphone"


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Point fd 2 at /dev/null for the block (C libraries write there, not to sys.stderr)."""
    import sys

    try:
        sys.stderr.flush()
    except Exception:
        pass
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_sd: Any = None
_sd_error: str | None = None


def sounddevice():
    """The sounddevice module (imported quietly, once), or None with the reason in ``_sd_error``."""
    global _sd, _sd_error
    if _sd is None and _sd_error is None:
        try:
            with quiet_stderr():
                import sounddevice as sd  # loads libportaudio and probes ALSA/JACK
            _sd = sd
        except (ImportError, OSError) as exc:
            _sd_error = f"sounddevice unavailable: {exc}"
    return _sd


def devices() -> dict:
    """Input and output devices PortAudio sees: ``{"input": [...], "output": [...], "error": str|None}``."""
    sd = sounddevice()
    if sd is None:
        return {"input": [], "output": [], "error": _sd_error, "default_input": None, "default_output": None}
    try:
        with quiet_stderr():
            found = sd.query_devices()
            default_in, default_out = sd.default.device
    except Exception as exc:
        return {"input": [], "output": [], "error": f"PortAudio: {exc}", "default_input": None, "default_output": None}
    ins, outs = [], []
    for i, d in enumerate(found):
        item = {"index": i, "name": d["name"], "rate": d["default_samplerate"]}
        if d["max_input_channels"] > 0:
            ins.append(item | {"channels": d["max_input_channels"]})
        if d["max_output_channels"] > 0:
            outs.append(item | {"channels": d["max_output_channels"]})
    return {"input": ins, "output": outs, "error": None,
            "default_input": default_in if default_in is not None and default_in >= 0 else None,
            "default_output": default_out if default_out is not None and default_out >= 0 else None}


def has_microphone() -> bool:
    return bool(devices()["input"])


def _no_mic_message(info: dict) -> str:
    if info.get("error"):
        return f"no microphone ({info['error']})"
    return "no microphone found (no audio input device: SSH session, container or CI?)"


class Recorder:
    """An open 16 kHz mono input stream delivering 30 ms int16 frames to a queue."""

    def __init__(self, device: int | str | None = None) -> None:
        info = devices()
        if not info["input"]:
            raise NoMicrophone(_no_mic_message(info), hint="type your request instead, or use 'hero voice --file x.wav'")
        self.frames: queue.Queue = queue.Queue()
        sd = sounddevice()

        def callback(indata, _frames, _time, _status) -> None:
            self.frames.put(bytes(indata))

        try:
            with quiet_stderr():
                self.stream = sd.RawInputStream(samplerate=SAMPLE_RATE, blocksize=FRAME_SAMPLES, channels=1,
                                                dtype="int16", device=device, callback=callback)
                self.stream.start()
        except Exception as exc:
            raise NoMicrophone(f"cannot open the microphone: {exc}", hint="check 'hero voice devices'") from exc

    def close(self) -> None:
        with quiet_stderr():
            try:
                self.stream.stop()
                self.stream.close()
            except Exception:
                pass

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def record_utterance(
    *,
    cancel: threading.Event | None = None,
    stop: threading.Event | None = None,
    silence_ms: float | None = None,
    max_seconds: float | None = None,
    start_timeout: float | None = None,
    on_level: Callable[[float], None] | None = None,
    device: int | str | None = None,
    source: "Iterator[bytes] | None" = None,
) -> bytes | None:
    """Record one utterance: from now until ``silence_ms`` of silence after speech (VAD),
    ``stop`` set (keep what was said), ``max_seconds``, or ``start_timeout`` with no speech
    (returns b""). ``cancel`` set: returns None. Raises :class:`NoMicrophone`.

    ``source``: 30 ms int16 frames to use instead of the microphone (a recording played as
    if spoken: tests, and ``HERO_VOICE_INPUT=file.wav``).
    """
    from herotui.voice.vad import EndOfSpeech

    silence_ms = silence_ms if silence_ms is not None else env_float("HERO_VAD_SILENCE_MS", 700)
    max_seconds = max_seconds if max_seconds is not None else env_float("HERO_VOICE_MAX_SECONDS", 15)
    detector = EndOfSpeech(silence_ms=silence_ms)
    frames: list[bytes] = []
    waited = 0.0
    if source is None and os.environ.get("HERO_VOICE_INPUT"):
        source = file_frames(os.environ["HERO_VOICE_INPUT"])
    with (contextlib.nullcontext() if source is not None else Recorder(device)) as rec:
        while True:
            if cancel is not None and cancel.is_set():
                return None
            if stop is not None and stop.is_set():
                break
            if source is not None:
                frame = next(source, None)
                if frame is None:  # the recording ended: as if silence followed
                    frame = bytes(FRAME_SAMPLES * 2)
            else:
                try:
                    frame = rec.frames.get(timeout=0.1)
                except queue.Empty:
                    continue
            frames.append(frame)
            waited += FRAME_MS / 1000
            if on_level is not None:
                on_level(_level(frame))
            if detector.feed(frame):
                break
            if waited >= max_seconds:
                break
            if start_timeout is not None and not detector.started and waited >= start_timeout:
                return b""
    return b"".join(frames)


def _level(frame: bytes) -> float:
    import numpy as np

    a = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(a * a)) / 32768.0) if a.size else 0.0


def file_frames(path) -> Iterator[bytes]:
    """A recording as the 30 ms frames a microphone would deliver."""
    from herotui.voice import stt

    pcm = stt.float_to_pcm16(stt.read_audio(path))
    step = FRAME_SAMPLES * 2
    return iter([pcm[i:i + step] for i in range(0, len(pcm) - step + 1, step)])
