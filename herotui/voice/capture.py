"""Microphone capture through PortAudio (pyaudio, else sounddevice), with ALSA's noise kept off the screen.

Two bindings of the same PortAudio library: ``pyaudio`` is tried first, ``sounddevice`` is
the fallback (``HERO_AUDIO_BACKEND=pyaudio|sounddevice`` forces one; :func:`backend` says
which is used and why). Both deliver 16 kHz mono int16 frames of 30 ms.

With no sound card (SSH, CI, containers) PortAudio's ALSA and JACK back-ends print dozens of
lines straight to file descriptor 2 while they probe, which garbles a TUI. Every PortAudio
call that may probe runs inside :func:`quiet_stderr` (fd 2 pointed at /dev/null, restored
after). No input device is a normal situation: :class:`NoMicrophone` with a one-line message.

PortAudio lists devices once per process (when the binding is first used): a sound server
started later is seen by the next process.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from herotui import settings
from herotui.errors import NoMicrophone, PlaybackFailed
from herotui.voice import SAMPLE_RATE
from herotui.voice.vad import EndOfSpeech
from herotui.voice import stt

FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 480 samples, what webrtcvad takes
BACKENDS = ("pyaudio", "sounddevice")


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: int | None = None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Point fd 2 at /dev/null for the block (C libraries write there, not to sys.stderr).

    Safe across threads (a capture and a playback at once): the first block in redirects, the
    last one out restores.
    """
    global _quiet_depth, _quiet_saved
    try:
        sys.stderr.flush()
    except Exception:
        pass
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                saved = os.dup(2)
            except OSError:
                saved = None
            if saved is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 2)
                os.close(devnull)
            _quiet_saved = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None


# ---------------------------------------------------------------------------------------
# The two bindings, each loaded quietly and once
# ---------------------------------------------------------------------------------------

_sd: Any = None
_sd_error: str | None = None
_pa: Any = None  # a pyaudio.PyAudio (PortAudio initialised: devices probed)
_pa_error: str | None = None
_lock = threading.Lock()


def sounddevice():
    """The sounddevice module (imported quietly, once), or None with the reason in ``_sd_error``."""
    global _sd, _sd_error
    with _lock:
        if _sd is None and _sd_error is None:
            try:
                with quiet_stderr():
                    import sounddevice as sd  # ~54 ms; loads libportaudio and probes ALSA/JACK
                _sd = sd
            except (ImportError, OSError) as exc:
                _sd_error = f"sounddevice unavailable: {exc}"
    return _sd


def pyaudio():
    """An initialised ``pyaudio.PyAudio`` (created quietly, once), or None with the reason in ``_pa_error``."""
    global _pa, _pa_error
    with _lock:
        if _pa is None and _pa_error is None:
            try:
                with quiet_stderr():
                    import pyaudio as pa_mod  # ~9 ms: only the voice commands pay for it

                    _pa = pa_mod.PyAudio()  # Pa_Initialize: probes ALSA/JACK
            except ImportError as exc:
                _pa_error = f"pyaudio not installed ({exc})"
            except Exception as exc:  # OSError from Pa_Initialize
                _pa_error = f"pyaudio unavailable: {exc}"
    return _pa


@dataclass
class Backend:
    name: str  # "pyaudio" | "sounddevice" | "none"
    reason: str  # why this one
    error: str | None = None  # when name == "none": why nothing can be used


def backend() -> Backend:
    """The PortAudio binding to use, and why: ``HERO_AUDIO_BACKEND`` if set, else pyaudio,
    else sounddevice."""
    forced = (settings.get().HERO_AUDIO_BACKEND or "").strip().lower()
    if forced and forced not in ("auto", *BACKENDS):
        return Backend("none", f"HERO_AUDIO_BACKEND={forced!r}",
                       f"HERO_AUDIO_BACKEND must be pyaudio or sounddevice, not {forced!r}")
    if forced == "pyaudio":
        return Backend("pyaudio", "forced by HERO_AUDIO_BACKEND") if pyaudio() is not None else \
            Backend("none", "forced by HERO_AUDIO_BACKEND", f"{_pa_error} (HERO_AUDIO_BACKEND=pyaudio)")
    if forced == "sounddevice":
        return Backend("sounddevice", "forced by HERO_AUDIO_BACKEND") if sounddevice() is not None else \
            Backend("none", "forced by HERO_AUDIO_BACKEND", f"{_sd_error} (HERO_AUDIO_BACKEND=sounddevice)")
    if pyaudio() is not None:
        return Backend("pyaudio", "first choice")
    if sounddevice() is not None:
        return Backend("sounddevice", f"fallback: {_pa_error}")
    return Backend("none", "neither binding loads", f"{_pa_error}; {_sd_error}")


# ---------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------


def _pyaudio_devices(pa) -> tuple[list[dict], int | None, int | None]:
    found = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
    devs = [{"index": d["index"], "name": d["name"], "rate": d["defaultSampleRate"],
             "in": d["maxInputChannels"], "out": d["maxOutputChannels"]} for d in found]

    def default(getter) -> int | None:
        try:
            return getter()["index"]
        except (OSError, IOError):  # "No Default Input Device Available"
            return None

    return devs, default(pa.get_default_input_device_info), default(pa.get_default_output_device_info)


def _sounddevice_devices(sd) -> tuple[list[dict], int | None, int | None]:
    found = sd.query_devices()
    default_in, default_out = sd.default.device
    devs = [{"index": i, "name": d["name"], "rate": d["default_samplerate"],
             "in": d["max_input_channels"], "out": d["max_output_channels"]} for i, d in enumerate(found)]
    return devs, default_in, default_out


def devices() -> dict:
    """Input and output devices PortAudio sees: ``{"input": [...], "output": [...], "error": str|None,
    "default_input", "default_output", "backend", "backend_reason"}``."""
    b = backend()
    info: dict = {"input": [], "output": [], "error": b.error, "default_input": None, "default_output": None,
                  "backend": b.name, "backend_reason": b.reason}
    if b.name == "none":
        return info
    try:
        with quiet_stderr():
            devs, default_in, default_out = (_pyaudio_devices(pyaudio()) if b.name == "pyaudio"
                                             else _sounddevice_devices(sounddevice()))
    except Exception as exc:
        info["error"] = f"PortAudio ({b.name}): {exc}"
        return info
    for d in devs:
        item = {"index": d["index"], "name": d["name"], "rate": d["rate"]}
        if d["in"] > 0:
            info["input"].append(item | {"channels": d["in"]})
        if d["out"] > 0:
            info["output"].append(item | {"channels": d["out"]})
    info["default_input"] = default_in if default_in is not None and default_in >= 0 else None
    info["default_output"] = default_out if default_out is not None and default_out >= 0 else None
    return info


def has_microphone() -> bool:
    return bool(devices()["input"])


def _no_mic_message(info: dict) -> str:
    if info.get("error"):
        return f"no microphone ({info['error']})"
    return "no microphone found (no audio input device: SSH session, container or CI?)"


def _input_index(info: dict, device: int | str | None) -> int | None:
    """``device`` (an index, or part of a name) as an input device index; None: the default."""
    if device is None or isinstance(device, int):
        return device
    if device.isdigit():
        return int(device)
    for d in info["input"]:
        if device.lower() in d["name"].lower():
            return d["index"]
    names = ", ".join(d["name"] for d in info["input"])
    raise NoMicrophone(f"no input device matching {device!r} (inputs: {names})", hint="see 'hero voice devices'")


class Recorder:
    """An open 16 kHz mono input stream delivering 30 ms int16 frames to a queue."""

    def __init__(self, device: int | str | None = None) -> None:
        info = devices()
        if not info["input"]:
            raise NoMicrophone(_no_mic_message(info), hint="type your request instead, or use 'hero voice --file x.wav'")
        self.frames: queue.Queue = queue.Queue()
        self.backend = info["backend"]
        self.stream: Any = None
        try:
            with quiet_stderr():
                if self.backend == "pyaudio":
                    self._open_pyaudio(_input_index(info, device))
                else:
                    self._open_sounddevice(device)
        except NoMicrophone:
            raise
        except Exception as exc:
            raise NoMicrophone(f"cannot open the microphone ({self.backend}): {exc}",
                               hint="check 'hero voice devices'") from exc

    def _open_pyaudio(self, index: int | None) -> None:
        import pyaudio as pa_mod  # ~9 ms: only the voice commands pay for it

        def callback(in_data, _count, _time, _status):
            self.frames.put(bytes(in_data))
            return None, pa_mod.paContinue

        self.stream = pyaudio().open(rate=SAMPLE_RATE, channels=1, format=pa_mod.paInt16, input=True,
                                     input_device_index=index, frames_per_buffer=FRAME_SAMPLES,
                                     stream_callback=callback, start=False)
        self.stream.start_stream()

    def _open_sounddevice(self, device: int | str | None) -> None:
        def callback(indata, _frames, _time, _status) -> None:
            self.frames.put(bytes(indata))

        self.stream = sounddevice().RawInputStream(samplerate=SAMPLE_RATE, blocksize=FRAME_SAMPLES, channels=1,
                                                   dtype="int16", device=device, callback=callback)
        self.stream.start()

    def close(self) -> None:
        if self.stream is None:
            return
        with quiet_stderr():
            try:
                if self.backend == "pyaudio":
                    self.stream.stop_stream()
                else:
                    self.stream.stop()
                self.stream.close()
            except Exception:
                pass
        self.stream = None

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def play_pcm(pcm: bytes, rate: int) -> str:
    """Play int16 mono ``pcm`` on the default output through the selected binding, blocking
    until it has played; returns the binding's name.

    Raises :class:`PlaybackFailed` when it did not play to the end: no output device, a device
    or sound server that refuses the stream, or one that goes away while playing (pyaudio
    raises; sounddevice's stream just ends early, hence the check of the time it took).
    """
    b = backend()
    if b.name == "none":
        raise PlaybackFailed(f"no audio output ({b.error})")
    duration = len(pcm) / 2 / rate
    t0 = time.monotonic()
    try:
        with quiet_stderr():
            if b.name == "pyaudio":
                import pyaudio as pa_mod  # ~9 ms: only the voice commands pay for it

                stream = pyaudio().open(rate=rate, channels=1, format=pa_mod.paInt16, output=True)
                try:
                    stream.write(pcm)
                    stream.stop_stream()
                finally:
                    stream.close()
            else:
                import numpy as np  # ~60 ms: only the voice commands pay for it

                sounddevice().play(np.frombuffer(pcm, dtype=np.int16), rate, blocking=True)
    except Exception as exc:
        raise PlaybackFailed(f"playback failed ({b.name}): {exc}", hint="check 'hero voice devices'") from exc
    took = time.monotonic() - t0
    if took < duration - max(0.5, 0.1 * duration):  # streams may return a buffer's worth early, no more
        raise PlaybackFailed(f"playback stopped after {took:.1f} of {duration:.1f} s "
                             f"(the audio device or sound server went away)", hint="check 'hero voice devices'")
    return b.name


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
    s = settings.get()
    silence_ms = silence_ms if silence_ms is not None else s.HERO_VAD_SILENCE_MS
    max_seconds = max_seconds if max_seconds is not None else s.HERO_VOICE_MAX_SECONDS
    detector = EndOfSpeech(silence_ms=silence_ms)
    frames: list[bytes] = []
    waited = 0.0
    if source is None and s.HERO_VOICE_INPUT:
        source = file_frames(str(s.HERO_VOICE_INPUT))
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
    import numpy as np  # ~60 ms: only the voice commands pay for it

    a = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
    return float(np.sqrt(np.mean(a * a)) / 32768.0) if a.size else 0.0


def file_frames(path) -> Iterator[bytes]:
    """A recording as the 30 ms frames a microphone would deliver."""
    pcm = stt.float_to_pcm16(stt.read_audio(path))
    step = FRAME_SAMPLES * 2
    return iter([pcm[i:i + step] for i in range(0, len(pcm) - step + 1, step)])
