"""Voice on a real audio device path: a PulseAudio daemon with a null sink, run by these tests.

PortAudio (through pyaudio or sounddevice) reaches the daemon through ALSA's pulse plug-in
(the 'pulse' and 'default' devices). Speech synthesised with piper is played into the null
sink (``paplay``) while Hero captures the sink's monitor as its microphone; Hero's spoken
replies go to the sink and are recorded from the monitor (``parecord``) and transcribed.

The daemon lives in a temporary folder and is reached only through the environment given to
the processes under test (``PULSE_SERVER``, ``HOME`` with an ``.asoundrc``): the other tests
still see a machine with no sound at all. Needs the Debian packages pulseaudio,
pulseaudio-utils and libasound2-plugins (``.ci/run`` installs them).
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SINK = "hero_null"
MONITOR = f"{SINK}.monitor"
PACKAGES = "apt-get install pulseaudio pulseaudio-utils libasound2-plugins (.ci/run does)"

PA_SCRIPT = """\
load-module module-null-sink sink_name={sink}
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
set-default-sink {sink}
set-default-source {sink}.monitor
"""
ASOUNDRC = """\
pcm.!default { type pulse }
ctl.!default { type pulse }
"""


def _check_tools() -> None:
    missing = [t for t in ("pulseaudio", "pactl", "pacat", "paplay", "parecord") if not shutil.which(t)]
    if not glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so") + glob.glob("/usr/lib/alsa-lib/libasound_module_pcm_pulse.so"):
        missing.append("ALSA pulse plug-in")
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: {PACKAGES}")


class Pulse:
    """A PulseAudio daemon with one null sink (its monitor is the default source)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        home, run = root / "home", root / "run"
        for d in (home, run, root / "state"):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        (home / ".asoundrc").write_text(ASOUNDRC)
        self.socket = root / "native"
        self.env = {"HOME": str(home), "PULSE_SERVER": f"unix:{self.socket}", "PULSE_RUNTIME_PATH": str(run),
                    "PULSE_STATE_PATH": str(root / "state"), "XDG_RUNTIME_DIR": str(run),
                    "XDG_CONFIG_HOME": str(home / ".config")}
        self.proc: subprocess.Popen | None = None
        self.keep: subprocess.Popen | None = None

    def full_env(self, **extra: str) -> dict:
        return dict(os.environ, **self.env, **extra)

    def start(self) -> "Pulse":
        script = self.root / "hero.pa"
        script.write_text(PA_SCRIPT.format(sink=SINK, socket=self.socket))
        log = open(self.root / "daemon.log", "wb")
        self.proc = subprocess.Popen(
            ["pulseaudio", "-n", "-F", str(script), "--exit-idle-time=-1", "--daemonize=no",
             "--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.full_env())
        deadline = time.monotonic() + 15
        while subprocess.run(["pactl", "info"], env=self.full_env(), capture_output=True).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("PulseAudio did not start: " + (self.root / "daemon.log").read_text()[-2000:])
            time.sleep(0.05)
        # A null sink with no low-latency client renders in blocks of up to 2 s, so a stream
        # opened then may wait that long for its first frame (a real card does not). One
        # client asking for 10 ms, kept for the daemon's life, keeps every stream prompt;
        # its first bytes say the slow first block is over.
        sink_log = self.root / "keep.raw"
        self.keep = subprocess.Popen(["pacat", "--record", "-d", MONITOR, "--latency-msec=10", "--rate=8000",
                                      "--channels=1", "--format=u8"], stdout=open(sink_log, "wb"),
                                     stderr=subprocess.DEVNULL, env=self.full_env())
        while not sink_log.stat().st_size:
            if self.keep.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("no audio from the null sink's monitor")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """The sound server dies (as when it crashes or the session ends)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        for p in (self.keep, self.proc):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(10)

    def record(self, path: Path) -> subprocess.Popen:
        """Record the sink's monitor (what Hero plays) as raw 16 kHz mono int16 into ``path``."""
        return subprocess.Popen(["parecord", "--raw", "-d", MONITOR, "--rate=16000", "--channels=1",
                                 "--format=s16le", "--latency-msec=20"],
                                stdout=open(path, "wb"), stderr=subprocess.DEVNULL, env=self.full_env())

    def play(self, wav: Path) -> None:
        """Say ``wav`` into the room: play it on the sink (returns when it has played)."""
        subprocess.run(["paplay", "-d", SINK, str(wav)], env=self.full_env(), check=True, timeout=60)


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    _check_tools()
    daemon = Pulse(tmp_path_factory.mktemp("pulse")).start()
    yield daemon
    daemon.stop()


@pytest.fixture
def own_pulse(tmp_path):
    """A daemon for one test, which may kill it."""
    _check_tools()
    daemon = Pulse(tmp_path / "pulse").start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> dict[str, tuple[Path, float]]:
    """Commands spoken by piper: text -> (WAV, seconds)."""
    from herotui.voice import tts

    folder = tmp_path_factory.mktemp("speech")
    out = {}
    for i, text in enumerate(["Find documents about budget.", "What's on today?"]):
        audio = tts.synthesize(text, "piper", deterministic=True)
        out[text] = (audio.write(folder / f"s{i}.wav"), audio.duration)
    return out


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("\u2019", "'")).split()


def voiced_seconds(pcm: bytes, rate: int = 16000) -> float:
    """How much of a recording is louder than near-silence (30 ms frames)."""
    import numpy as np

    a = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float32) / 32768
    step = rate * 30 // 1000
    n = len(a) // step
    if not n:
        return 0.0
    rms = np.sqrt(np.mean(a[: n * step].reshape(n, step) ** 2, axis=1))
    return float(np.count_nonzero(rms > 0.01) * 0.03)


def transcribe_raw(path: Path) -> str:
    from herotui.voice import stt

    return stt.transcribe(stt.pcm16_to_float(path.read_bytes())).text


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    """The rest of a process's output once it exits (``communicate`` would lose what an
    earlier ``readline`` already buffered); killed after ``timeout``."""
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        if proc.stdin:
            proc.stdin.close()
        err: list[str] = []
        reader = threading.Thread(target=lambda: err.append(proc.stderr.read()))
        reader.start()
        out = proc.stdout.read()
        reader.join()
        proc.wait()
    finally:
        timer.cancel()
    return out, err[0]


def no_audio_noise(text: str) -> bool:
    return not re.search(r"ALSA lib|jack|pcm_|PortAudio|pulse\.c|Cannot connect", text, re.I)


# ---------------------------------------------------------------------------------------
# Devices and the choice of binding
# ---------------------------------------------------------------------------------------


def test_devices_seen_through_each_binding(pulse, hero):
    r = hero("voice", "devices", "--json", env=pulse.env)
    assert r.code == 0 and r.err == "", r
    info = r.json()
    assert (info["backend"], info["backend_reason"]) == ("pyaudio", "first choice")
    names = {d["name"] for d in info["input"]}
    assert {"pulse", "default"} <= names and info["error"] is None
    assert info["default_input"] is not None and info["default_output"] is not None
    assert {"pulse", "default"} <= {d["name"] for d in info["output"]}

    r = hero("voice", "devices", "--json", env={**pulse.env, "HERO_AUDIO_BACKEND": "sounddevice"})
    sd_info = r.json()
    assert (sd_info["backend"], sd_info["backend_reason"]) == ("sounddevice", "forced by HERO_AUDIO_BACKEND")
    assert {d["name"] for d in sd_info["input"]} == names

    r = hero("voice", "devices", env=pulse.env)
    assert r.code == 0 and r.err == "" and re.search(r"^input: \*\d+: default \(", r.out, re.M), r

    r = hero("voice", "devices", "--json", env={**pulse.env, "HERO_AUDIO_BACKEND": "portaudio"})
    assert r.code == 2 and r.out == "" and "Traceback" not in r.err
    err = json.loads(r.err)["error"]  # with --json the error is JSON too
    assert err["message"] == "HERO_AUDIO_BACKEND must be pyaudio or sounddevice, not 'portaudio'" and err["hint"]


def test_sounddevice_is_the_fallback_without_pyaudio(pulse):
    code = ("import json, sys\nsys.modules['pyaudio'] = None  # as if not installed\n"
            "from herotui.voice import capture\nprint(json.dumps(capture.devices()))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=pulse.full_env(), timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    info = json.loads(proc.stdout)
    assert info["backend"] == "sounddevice" and info["backend_reason"].startswith("fallback: pyaudio not installed")
    assert {"pulse", "default"} <= {d["name"] for d in info["input"]}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=pulse.full_env(HERO_AUDIO_BACKEND="pyaudio"))
    info = json.loads(proc.stdout)
    assert info["backend"] == "none" and info["input"] == [] and "HERO_AUDIO_BACKEND=pyaudio" in info["error"]


# ---------------------------------------------------------------------------------------
# Capture: speech played into the sink, heard through its monitor
# ---------------------------------------------------------------------------------------

CAPTURE = r"""
import json, sys, time
from herotui.voice import capture, stt
info = capture.devices()
started = []
def level(_):
    if not started:
        started.append(1)
        print("listening", flush=True)
pcm = capture.record_utterance(on_level=level, max_seconds=12, start_timeout=8)
tr = stt.transcribe(stt.pcm16_to_float(pcm))
print(json.dumps({"backend": info["backend"], "seconds": len(pcm) / 32000, "text": tr.text}), flush=True)
"""


@pytest.mark.parametrize("backend,silence_ms", [("pyaudio", 700), ("sounddevice", 1500)])
def test_capture_hears_speech_and_stops_after_the_silence(pulse, speech, backend, silence_ms):
    wav, duration = speech["Find documents about budget."]
    proc = subprocess.Popen([sys.executable, "-c", CAPTURE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=pulse.full_env(HERO_AUDIO_BACKEND=backend, HERO_VAD_SILENCE_MS=str(silence_ms)))
    try:
        assert proc.stdout.readline().strip() == "listening", proc.stderr.read()
        pulse.play(wav)
        out, err = finish(proc)
    finally:
        proc.kill()
    assert proc.returncode == 0 and err == "", err  # nothing from ALSA, JACK or PulseAudio
    got = json.loads(out.strip().splitlines()[-1])
    assert got["backend"] == backend
    assert words(got["text"]) == ["find", "documents", "about", "budget"], got
    # ended by voice activity detection: the speech, then the configured silence (not the 12 s limit)
    silence = silence_ms / 1000
    assert duration + silence - 0.45 <= got["seconds"] <= duration + silence + 1.0, got


# ---------------------------------------------------------------------------------------
# Push-to-talk in a terminal, end to end: hear, plan, run, answer aloud
# ---------------------------------------------------------------------------------------


class Terminal:
    """A program on a real pseudo-terminal; everything it shows is collected."""

    def __init__(self, argv: list[str], env: dict) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.screen = b""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.screen += chunk

    def text(self) -> str:
        with self._lock:
            return self.screen.decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> int:
        """Wait until ``pattern`` (a regex) shows after offset ``after``; its end offset."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.compile(pattern).search(self.text(), after)
            if m:
                return m.end()
            if self.proc.poll() is not None:
                time.sleep(0.2)
                m = re.compile(pattern).search(self.text(), after)
                if m:
                    return m.end()
                break
        raise AssertionError(f"{pattern!r} not shown; screen:\n{self.text()}")

    def wait_keys(self, timeout: float = 10) -> None:
        """Wait until the program reads keys one by one (canonical mode off): keys typed
        before that are flushed when it switches."""
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self.master)[3] & termios.ICANON:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.text()
            time.sleep(0.02)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        os.close(self.master)


def _turn(term: Terminal, after: int, timeout: float = 60) -> tuple[dict, int]:
    end = term.wait_for(r"\{\"transcript\".*\}\r?\n", timeout, after)
    line = term.text()[after:end]
    return json.loads(line[line.index('{"transcript"'):].strip()), end


def test_push_to_talk_on_a_real_device(pulse, speech, tmp_path):
    """``hero voice`` in a terminal: Space, speech into the microphone, the end of speech after
    the configured silence, the plan run, the reply spoken on the speaker; Esc cancels; a
    second Space stops the recording at once, keeping what was said."""
    wav, duration = speech["What's on today?"]
    wav2, duration2 = speech["Find documents about budget."]
    heard = tmp_path / "speaker.raw"
    rec = pulse.record(heard)
    term = Terminal([str(Path(sys.executable).parent / "hero"), "voice", "--json", "--silence-ms", "3000"],
                    pulse.full_env(HERO_TTS="piper", TERM="xterm"))
    try:
        at = term.wait_for(r"Space or Enter: talk", 90)
        term.wait_keys()
        # 1. ended by 3 s of silence after the speech
        term.press(b" ")
        at = term.wait_for(r"listening\.\.\.", 10, at)
        pulse.play(wav)
        turn, at = _turn(term, at)
        assert words(turn["transcript"]) == ["what's", "on", "today"], turn
        assert turn["plan"] == ["hero --context personal calendar today"]
        assert turn["reply"] == "Nothing found."
        assert duration + 3.0 - 0.45 <= turn["timings"]["audio_seconds"] <= duration + 3.0 + 1.5, turn["timings"]
        # 2. Esc cancels (keys wait while the reply is being said)
        term.press(b" ")
        at = term.wait_for(r"listening\.\.\.", 20, at)
        term.press(b"\x1b")
        at = term.wait_for(r"cancelled", 10, at)
        # 3. a second press stops at once, well before the 3 s of silence
        term.press(b"\r")
        at = term.wait_for(r"listening\.\.\.", 10, at)
        t_listen = time.monotonic()
        pulse.play(wav2)
        time.sleep(0.15)
        term.press(b" ")
        t_press = time.monotonic()
        turn2, at = _turn(term, at)
        assert words(turn2["transcript"]) == ["find", "documents", "about", "budget"], turn2
        recorded = turn2["timings"]["audio_seconds"]
        assert duration2 - 0.2 < recorded <= t_press - t_listen + 0.3, (recorded, t_press - t_listen)
        term.press(b"q")  # read once the reply has been said
        assert term.proc.wait(60) == 0
    finally:
        term.close()
        rec.terminate()
        rec.wait(10)
    screen = term.text()
    assert no_audio_noise(screen), screen
    assert "reply not spoken" not in screen, screen
    # what came out of the speaker: the first command as played, then Hero's answer, then the second
    said = words(transcribe_raw(heard))
    assert "nothing" in said and "found" in said, said
    assert said.index("today") < said.index("nothing") < said.index("budget"), said


# ---------------------------------------------------------------------------------------
# Playback: replies reach the speaker; failures are detected and reported
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend,engine", [("pyaudio", "piper"), ("sounddevice", "piper"), ("pyaudio", "espeak")])
def test_say_plays_on_the_speaker(pulse, hero, tmp_path, backend, engine):
    text = "Your first meeting today is with Alex, about the budget."
    heard = tmp_path / "speaker.raw"
    rec = pulse.record(heard)
    try:
        time.sleep(0.2)
        r = hero("voice", "say", text, "--engine", engine, "--json", env={**pulse.env, "HERO_AUDIO_BACKEND": backend})
        time.sleep(0.3)
    finally:
        rec.terminate()
        rec.wait(10)
    assert r.code == 0 and r.err == "", r
    spoken = r.json()
    assert spoken["played"] is True and spoken["method"] == backend and spoken["engine"] == engine, spoken
    voiced = voiced_seconds(heard.read_bytes())
    assert voiced > 1.2, voiced  # ~2.5 s of speech, less the pauses
    if engine == "piper":  # espeak's voice is too robotic for tiny.en
        assert words(transcribe_raw(heard)) == words(text)


def test_no_sound_server_is_reported(tmp_path, hero):
    env = {"HOME": str(tmp_path), "PULSE_SERVER": f"unix:{tmp_path}/no-server-here"}
    (tmp_path / ".asoundrc").write_text(ASOUNDRC)
    r = hero("voice", "say", "hello", env=env)
    assert r.code == 1 and r.err.startswith("error: nothing was played"), r
    assert len(r.err.strip().splitlines()) == 2 and no_audio_noise(r.err), r.err
    r = hero("voice", "devices", env=env)
    assert r.code == 0 and r.err == "" and "input: none" in r.out and "output: none" in r.out, r
    r = hero("voice", "--silent", input="what's on today\n", env=env)
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert r.code == 0 and len(lines) == 1 and lines[0].startswith("No microphone here"), r
    assert "calendar today" in r.out


PLAY = r"""
import json, sys
from dataclasses import asdict
from herotui.voice import tts
print(json.dumps(tts.output_available()), flush=True)
audio = tts.synthesize("A single long sentence with many words, which goes on for a while about the quarterly budget review.", "piper")
sys.stdin.readline()
print("playing %.2f" % audio.duration, flush=True)
pb = tts.play(audio)
print(json.dumps(asdict(pb)), flush=True)
"""


@pytest.mark.parametrize("backend", ["pyaudio", "sounddevice"])
@pytest.mark.parametrize("when", ["before", "while playing"])
def test_sound_server_going_away_is_detected(own_pulse, backend, when):
    proc = subprocess.Popen([sys.executable, "-c", PLAY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=own_pulse.full_env(HERO_AUDIO_BACKEND=backend))
    try:
        assert json.loads(proc.stdout.readline()) == [True, "sounddevice"]  # PortAudio sees an output
        if when == "before":
            own_pulse.kill()
        proc.stdin.write("\n")
        proc.stdin.flush()
        duration = float(proc.stdout.readline().split()[1])
        t0 = time.monotonic()
        if when == "while playing":
            time.sleep(1.0)
            own_pulse.kill()
        out, err = finish(proc, 30)
        took = time.monotonic() - t0
    finally:
        proc.kill()
    assert proc.returncode == 0 and err == "", err
    pb = json.loads(out.strip().splitlines()[-1])
    assert pb["ok"] is False and pb["method"] == backend, pb
    assert pb["error"].startswith(("playback failed", "playback stopped after")), pb
    assert took < duration, (took, duration)  # noticed at once, not after the audio's length
