"""End of speech: webrtcvad over 30 ms frames (energy threshold when webrtcvad is missing).

Terminals send no key-release events, so push-to-talk is press-to-start and this detector
ends the utterance: speech has started (``start_frames`` voiced frames among the last 10)
and then ``silence_ms`` passed with no voiced frame.
"""

from __future__ import annotations

from collections import deque

from herotui.voice import SAMPLE_RATE

FRAME_MS = 30
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000 * 2


class EndOfSpeech:
    """Feed 30 ms int16 frames; ``feed`` returns True once the utterance has ended."""

    def __init__(self, silence_ms: float = 700, aggressiveness: int = 2, start_frames: int = 4) -> None:
        self.silence_frames = max(1, int(silence_ms // FRAME_MS))
        self.start_frames = start_frames
        self.recent: deque[bool] = deque(maxlen=10)
        self.started = False
        self.trailing = 0
        self._vad = None
        try:
            import webrtcvad  # ~37 ms: only the voice commands pay for it

            self._vad = webrtcvad.Vad(aggressiveness)
        except ImportError:
            pass

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != FRAME_BYTES:
            return False
        if self._vad is not None:
            return self._vad.is_speech(frame, SAMPLE_RATE)
        import numpy as np  # ~60 ms: only the voice commands pay for it

        a = np.frombuffer(frame, dtype=np.int16).astype(np.float32)
        return float(np.sqrt(np.mean(a * a))) > 500.0

    def feed(self, frame: bytes) -> bool:
        voiced = self.is_speech(frame)
        self.recent.append(voiced)
        if not self.started:
            if sum(self.recent) >= self.start_frames:
                self.started = True
                self.trailing = 0
            return False
        self.trailing = 0 if voiced else self.trailing + 1
        return self.trailing >= self.silence_frames


def frames(pcm: bytes) -> list[bytes]:
    return [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)]


def speech_ratio(pcm: bytes, aggressiveness: int = 3) -> float:
    """Share of 30 ms frames webrtcvad calls speech (0.0 for empty audio)."""
    det = EndOfSpeech(aggressiveness=aggressiveness)
    fs = frames(pcm)
    if not fs:
        return 0.0
    return sum(det.is_speech(f) for f in fs) / len(fs)


def end_of_speech_at(pcm: bytes, silence_ms: float = 700) -> float | None:
    """Seconds into ``pcm`` at which :class:`EndOfSpeech` stops the recording (None: never)."""
    det = EndOfSpeech(silence_ms=silence_ms)
    for i, f in enumerate(frames(pcm)):
        if det.feed(f):
            return (i + 1) * FRAME_MS / 1000
    return None
