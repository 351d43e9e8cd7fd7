"""Voice: capture, end of speech, speech to text, text to speech, and the loop tying them.

Everything here is offline. The speech libraries (faster-whisper, piper, sounddevice,
webrtcvad, numpy) are imported only inside the functions that need them, so ``hero --help``
and ``hero contact list`` never pay for them (faster-whisper + ctranslate2 cost ~0.5 s,
piper + onnxruntime ~0.3 s).

Settings (environment variables, declared in :mod:`herotui.settings`; the CLI options
override them):

* ``HERO_VOICE``: ``silent`` speaks nothing (replies are printed only).
* ``HERO_TTS``: ``piper`` | ``espeak`` | ``silent`` (default: piper if installed, else espeak-ng).
* ``HERO_PIPER_VOICE``: a piper ``.onnx`` voice (default: the packaged joe voice).
* ``HERO_STT_MODEL``: a faster-whisper (CTranslate2) model folder (default: the packaged tiny.en).
* ``HERO_WHISPER_MODEL``: a whisper.cpp ``ggml-*.bin`` model: uses pywhispercpp instead.
* ``HERO_VAD_SILENCE_MS`` (700): silence that ends an utterance.
* ``HERO_VOICE_MAX_SECONDS`` (15): longest utterance recorded; also the part of a file
  ``hero voice --file`` listens to (a command, not a dictation).
* ``HERO_VOICE_CONFIRM_TIMEOUT`` (8), ``HERO_VOICE_UNSURE`` (0.5), ``HERO_STT_THREADS``,
  ``HERO_AUDIO_BACKEND``, ``HERO_VOICE_INPUT``: see ``docs/settings.md``.
"""

from __future__ import annotations

from herotui import settings

SAMPLE_RATE = 16000  # what whisper and webrtcvad want: mono int16 / float32 at 16 kHz
INSTALL_HINT = "pip install 'herotui[voice]'"


def silent_by_env() -> bool:
    s = settings.get()
    return (s.HERO_VOICE or "").lower() in ("silent", "off", "0", "mute") or \
        (s.HERO_TTS or "").lower() in ("silent", "off", "none")
