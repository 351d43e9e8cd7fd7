"""Voice: speech to text, text to speech, end of speech, ``hero voice`` end to end.

Test audio is synthesised at test time with piper's packaged voice (once per session, into
a temporary folder): commands of the planner's public set (``tests/data/utterances.yaml``)
are spoken, transcribed by the packaged tiny.en and run through the planner on a copy of the
demo home; the transcript, the plan's verb and the effect on the stores are checked.
Most runs are in-process through the CLI's ``_main`` (one model load per process); a few
are real ``hero`` subprocesses. CI has no sound card: the no-device paths are tested as such.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
import yaml

pytest.importorskip("faster_whisper", reason="voice extra not installed")
pytest.importorskip("piper", reason="voice extra not installed")

from support import hero_exe, make_demo_home, use_home  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES = {c["text"]: c for c in yaml.safe_load((ROOT / "tests" / "data" / "utterances.yaml").read_text())}

# (text said, expected first verb); texts are from utterances.yaml (their plans are checked
# there); the ones marked * change data.
SPOKEN = [
    "What's on today?",
    "What's on tomorrow?",
    "what's on this week",
    "What's next?",
    "show me my agenda",
    "find meetings with Alex",
    "find contact northwind",
    "show Alex Smith",
    "list my decks",
    "Find the deck about Alex and open it",
    "open the roadmap deck",
    "find documents about budget",
    "summarise the statement of work",
    "search northwind",
    "how do I import a vcard?",
    "switch to personal",
    "Add Lena Fischer from Lumen Labs as a contact",  # *
    "Tag Alex Smith as vip",  # *
    "add lunch with Alex tomorrow at 12:30",  # *
    "Tag the quarterly report as board",  # *
    "delete Alex Smith",  # * destructive: waits for a yes
    "yes",
    "no",
]


def norm(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("summarize", "summarise")
    return re.sub(r"[^a-z0-9:' ]+", " ", text).split()


def wer(ref: str, hyp: str) -> float:
    r, h = norm(ref), norm(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = d[j]
            d[j] = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev = cur
    return d[len(h)] / max(1, len(r))


def write_wav(path: Path, samples, rate: int = 16000) -> Path:
    import numpy as np

    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


@pytest.fixture(scope="session")
def wavs(tmp_path_factory) -> dict[str, Path]:
    """Every SPOKEN text as a piper WAV (22.05 kHz, as piper makes it: read_audio resamples)."""
    from herotui.voice import tts

    folder = tmp_path_factory.mktemp("voice-wavs")
    out = {}
    for i, text in enumerate(SPOKEN):
        out[text] = tts.synthesize(text, "piper", deterministic=True).write(folder / f"u{i:02d}.wav")
    return out


@pytest.fixture(scope="session")
def voice_demo_template(tmp_path_factory) -> Path:
    return make_demo_home(tmp_path_factory.mktemp("voice-demo") / "hero-home")


@pytest.fixture
def demo(voice_demo_template, tmp_path, monkeypatch):
    from herotui.voice import vocabulary

    vocabulary.invalidate()
    monkeypatch.setenv("HERO_VOICE", "silent")
    return use_home(voice_demo_template, tmp_path / "home", monkeypatch)


def run_voice(capsys, *args: str) -> tuple[int, str, str]:
    from herotui.frontends import cli

    code = cli._main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def voice_file(capsys, wav: Path, *extra: str) -> dict:
    code, out, err = run_voice(capsys, "--context", "business", "voice", "--file", str(wav), "--json", "--silent", *extra)
    assert code == 0, err
    return json.loads(out)


# ---------------------------------------------------------------------------------------
# End to end: spoken commands -> transcript, plan, effect
# ---------------------------------------------------------------------------------------


# "show Alex Smith", "Tag Alex Smith as vip" and "Tag the quarterly report as board" were
# heard as "Joe Alex Smith", "... is bit" and "Ted the ..." with a comma list of command words
# as the hint; example commands written as sentences in the hint fixed all three (see
# herotui/voice/vocabulary.py), and test_misheard_first_word_is_corrected covers the rest.
@pytest.mark.parametrize("text", [t for t in SPOKEN if t not in ("yes", "no", "delete Alex Smith")])
def test_spoken_command(text, wavs, demo, capsys):
    data = voice_file(capsys, wavs[text])
    # tiny.en cannot know a name that is not in the data yet (the hint lists known names):
    # "Lena Fischer from Lumen Labs" comes out as "Lane of Fisher from Looman Labs".
    assert wer(text, data["transcript"]) <= (0.5 if "Lena" in text else 0.2), data["transcript"]
    case = CASES.get(text)
    if case is not None:
        expected = case.get("verb") or case["steps"][0]["verb"]
        verbs = [s["verb"] for s in data["result"]["plan"]["steps"]]
        assert verbs and verbs[0] == expected, (data["transcript"], data["plan"])
        assert all(line.startswith("hero ") for line in data["plan"])
    assert data["reply"]
    assert data["stt_backend"] == "faster-whisper"


def test_misheard_first_word_is_corrected(wavs, demo, capsys, monkeypatch):
    """With no vocabulary hint tiny.en hears piper's "show Alex Smith" as "Joe Alex Smith."
    (a real mishearing); the correction step makes it "Show Alex Smith." and says so."""
    from herotui.voice import vocabulary

    monkeypatch.setattr(vocabulary, "hint", lambda ctx: "")
    data = voice_file(capsys, wavs["show Alex Smith"])
    assert data["heard_as"] == "Joe Alex Smith.", data["transcript"]
    assert data["transcript"] == "Show Alex Smith."
    assert [s["verb"] for s in data["result"]["plan"]["steps"]] == ["contact.show"]
    code, out, err = run_voice(capsys, "--context", "business", "voice", "--file", str(wavs["show Alex Smith"]), "--silent")
    assert code == 0 and "heard: Joe Alex Smith. (taken as: Show Alex Smith.)" in out, out + err
    # a hint-less "Tag the quarterly report as board" ("Ted the ... is board") is not
    # rescued by the first word alone: nothing is invented, it stays as heard
    data = voice_file(capsys, wavs["Tag the quarterly report as board"])
    if data["transcript"].lower().startswith("ted"):
        assert data["heard_as"] is None


def test_command_word_correction_rules(demo):
    from herotui import contexts
    from herotui.voice import vocabulary

    biz = contexts.load("business")
    words = vocabulary.command_words()
    assert {"show", "tag", "find", "list", "switch", "what's", "delete", "yes"} <= words
    assert vocabulary.correct_command(biz, "Joe Alex Smith.") == "Show Alex Smith."
    assert vocabulary.correct_command(biz, "TAD the quarterly report as board.") == "Tag the quarterly report as board."
    assert vocabulary.correct_command(biz, "Lift my decks") == "List my decks"
    # the corrected sentence must parse as a known intent
    assert vocabulary.correct_command(biz, "Joe called about the budget.") is None
    # a first word that is a command word stays ("Untag" would parse, and be wrong)
    assert vocabulary.correct_command(biz, "Tag Alex Smith is bit.") is None
    # a sentence that already plans, or names someone unknown, is left alone
    assert vocabulary.correct_command(biz, "Show Alex Smith") is None
    assert vocabulary.correct_command(biz, "show Nobody Known") is None
    # never into something destructive or a confirmation
    assert vocabulary.correct_command(biz, "Elite Alex Smith") is None
    assert vocabulary.correct_command(biz, "Jess.") is None
    assert vocabulary.similarity("Joe", "show") > vocabulary.similarity("Joe", "delete")


def test_effects_on_the_stores(wavs, demo, capsys):
    from herotui import contexts, registry

    biz = contexts.load("business")
    before = registry.call("contact.list", {}, biz)
    data = voice_file(capsys, wavs["Add Lena Fischer from Lumen Labs as a contact"])
    assert data["plan"], f"misheard: {data['transcript']!r}"  # the tests' synthesis is noise-free: same audio every run
    # a new name is something whisper cannot know: heard with little confidence, it is read
    # back and waits for a yes (nothing is created before)
    assert data["pending"] and "I heard the name \u201c" in data["reply"] and "Say yes" in data["reply"], data
    assert len(registry.call("contact.list", {}, biz)) == len(before)
    yes = voice_file(capsys, wavs["yes"])
    after = registry.call("contact.list", {}, biz)
    assert len(after) == len(before) + 1, yes
    new = {c.id for c in after} - {c.id for c in before}
    added = next(c for c in after if c.id in new)
    assert added.company and added.company.lower().endswith("labs"), added  # the name as heard
    def lunches() -> int:
        with biz.read() as conn:
            return conn.execute("SELECT count(*) FROM events WHERE title ILIKE '%lunch%'").fetchone()[0]

    before = lunches()
    data = voice_file(capsys, wavs["add lunch with Alex tomorrow at 12:30"])
    assert lunches() == before + 1, data["plan"]


def test_destructive_needs_a_spoken_yes(wavs, demo, capsys):
    from herotui import contexts, registry

    biz = contexts.load("business")
    count = lambda: sum(c.name == "Alex Smith" for c in registry.call("contact.list", {}, biz))  # noqa: E731
    assert count() == 1
    data = voice_file(capsys, wavs["delete Alex Smith"])
    assert data["pending"] and count() == 1, data
    data = voice_file(capsys, wavs["no"])
    assert count() == 1 and "cancel" in data["reply"].lower()
    voice_file(capsys, wavs["delete Alex Smith"])
    data = voice_file(capsys, wavs["yes"])
    assert count() == 0, data


def test_confirmation_timeout_is_a_no(wavs, demo):
    """A virtual microphone (a recording's frames): silence until the timeout = no."""
    import numpy as np

    from herotui import contexts, registry
    from herotui.planner import ask as assistant
    from herotui.voice import capture, loop

    biz = contexts.load("business")
    turn = loop.listen_once(biz, source=capture.file_frames(wavs["delete Alex Smith"]))
    assert turn.waiting_for_yes and turn.result.plan.needs_confirmation
    silence = iter([bytes(960)] * 1000)
    answer = loop.confirm_by_voice(biz, timeout=1.0, source=silence)
    assert not answer.heard and "cancelled" in answer.reply
    assert assistant.load_pending("business", actor="voice") is None
    assert sum(c.name == "Alex Smith" for c in registry.call("contact.list", {}, biz)) == 1
    # and a spoken yes through the same path runs it
    loop.listen_once(biz, source=capture.file_frames(wavs["delete Alex Smith"]))
    yes = loop.confirm_by_voice(biz, timeout=3.0, source=capture.file_frames(wavs["yes"]))
    assert yes.heard and not any(c.name == "Alex Smith" for c in registry.call("contact.list", {}, biz))
    del np


@pytest.mark.parametrize("text", ["What's on today?", "Add Lena Fischer from Lumen Labs as a contact"])
def test_real_subprocess(text, wavs, voice_demo_template, tmp_path):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(voice_demo_template, home)
    env = dict(os.environ, HERO_HOME=str(home), HERO_VOICE="silent", COLUMNS="200")
    proc = subprocess.run([hero_exe(), "--context", "business", "voice", "--file", str(wavs[text])],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "$ hero --context business " + ("calendar today" if "today" in text else "contact create") in proc.stdout
    assert proc.stderr.strip() == ""
    if "Lena" in text:
        check = subprocess.run([hero_exe(), "--context", "business", "contact", "search", "Lumen", "--json"],
                               capture_output=True, text=True, env=env, timeout=30)
        if "I heard the name" in proc.stdout:  # a doubtful name: read back, nothing created until a yes
            assert "Shall I create that contact in business?" in proc.stdout, proc.stdout
            assert json.loads(check.stdout) == []
            # the answer comes in another process: the conversation carries ("no" drops it)
            no = subprocess.run([hero_exe(), "--context", "business", "voice", "--file", str(wavs["no"])],
                                capture_output=True, text=True, env=env, timeout=60)
            assert no.returncode == 0 and "OK, cancelled: nothing changed." in no.stdout, no
        else:
            assert "lumen" in check.stdout.lower()


# ---------------------------------------------------------------------------------------
# Awkward inputs
# ---------------------------------------------------------------------------------------


def test_silence_only(demo, tmp_path, capsys):
    import numpy as np

    data = voice_file(capsys, write_wav(tmp_path / "silence.wav", np.zeros(16000 * 3)))
    assert not data["heard"] and data["transcript"] == "" and data["result"] is None


def test_noise_only(demo, tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(7)
    data = voice_file(capsys, write_wav(tmp_path / "noise.wav", rng.normal(0, 0.2, 16000 * 3)))
    # Nothing heard, or at worst words that plan nothing that changes data.
    if data["heard"]:
        assert not any(s.get("destructive") for s in data["result"]["plan"]["steps"])
        assert data["result"]["plan"]["source"] == "fallback", data


def test_two_minute_file_is_bounded(demo, wavs, tmp_path, capsys):
    import numpy as np

    from herotui.voice import stt

    parts = [np.concatenate([stt.read_audio(w), np.zeros(8000)]) for w in wavs.values()]
    loud = np.concatenate(parts * 10)[: 16000 * 120]
    assert len(loud) == 16000 * 120
    path = write_wav(tmp_path / "long.wav", loud)
    t0 = time.perf_counter()
    data = voice_file(capsys, path)
    assert time.perf_counter() - t0 < 20
    assert data["audio_seconds"] <= 15.01 and data["heard"]


def test_corrupt_wav(demo, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(40))
    code, out, err = run_voice(capsys, "voice", "--file", str(bad))
    assert code == 1 and out == ""
    assert err.startswith("error: bad.wav: not a readable WAV file") and "Traceback" not in err


def test_not_a_wav(demo, tmp_path, capsys):
    txt = tmp_path / "notes.txt"
    txt.write_text("this is not audio\n" * 20)
    code, _, err = run_voice(capsys, "voice", "--file", str(txt))
    assert code == 1 and "not an audio file" in err
    fake = tmp_path / "fake.wav"
    fake.write_text("hello")
    code, _, err = run_voice(capsys, "voice", "--file", str(fake))
    assert code == 1 and "not a readable WAV file" in err
    code, _, err = run_voice(capsys, "voice", "--file", str(tmp_path / "missing.wav"))
    assert code == 3 and "no such audio file" in err


# ---------------------------------------------------------------------------------------
# No sound card (CI, SSH): clean messages, nothing from ALSA on the screen
# ---------------------------------------------------------------------------------------


def _no_audio_here() -> bool:
    from herotui.voice import capture

    info = capture.devices()
    return not info["input"] and not info["output"]


def test_no_device_interactive_falls_back_to_text(hero):
    if not _no_audio_here():
        pytest.skip("this machine has audio devices")
    r = hero("voice", "--silent", input="what's on today\n")
    assert r.code == 0, r
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("No microphone here"), r.err
    assert "ALSA" not in r.err and "jack" not in r.err.lower()
    assert "calendar today" in r.out


def test_no_device_say_and_devices(hero, tmp_path):
    if not _no_audio_here():
        pytest.skip("this machine has audio devices")
    r = hero("voice", "say", "hello")
    assert r.code == 1 and r.err.startswith("error: nothing was played") and "ALSA" not in r.err
    assert len(r.err.strip().splitlines()) == 2
    r = hero("voice", "devices")
    assert r.code == 0 and "input: none" in r.out and r.err == ""
    r = hero("voice", "doctor", "--json")
    report = json.loads(r.out)
    assert report["microphone"].startswith("none") and "voice --file" in report["works"]
    out = tmp_path / "hello.wav"
    r = hero("voice", "say", "Hello. Two meetings today.", "--out", str(out))
    assert r.code == 0 and out.stat().st_size > 10000
    with wave.open(str(out)) as w:
        assert w.getnframes() / w.getframerate() > 1.0


def test_quiet_stderr_hides_c_level_writes(capfd):
    from herotui.voice import capture

    with capture.quiet_stderr():
        os.write(2, b"ALSA lib pcm.c: noise\n")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"


def test_speech_libraries_are_lazy():
    code = ("import sys\nfrom herotui.frontends import cli\n"
            "try:\n    cli._main(['contact', 'list'])\nexcept SystemExit: pass\n"
            "print([m for m in ('faster_whisper', 'ctranslate2', 'piper', 'onnxruntime', 'sounddevice', "
            "'webrtcvad', 'numpy', 'herotui.voice') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.strip().splitlines()[-1] == "[]"
    code2 = "import sys\nfrom herotui.frontends import cli\ncli.build_app(['voice'])\nprint('faster_whisper' in sys.modules, 'piper' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code2], capture_output=True, text=True, timeout=60).stdout
    assert out.strip() == "False False"


# ---------------------------------------------------------------------------------------
# Pieces
# ---------------------------------------------------------------------------------------


def test_end_of_speech_after_configured_silence(wavs):
    from herotui.voice import stt, vad

    speech = stt.float_to_pcm16(stt.read_audio(wavs["What's on today?"]))
    pcm = speech + bytes(16000 * 2 * 2)
    spoken_until = len(speech) / 32000
    for ms in (700, 400):
        at = vad.end_of_speech_at(pcm, silence_ms=ms)
        assert at is not None and spoken_until - 0.4 <= at <= spoken_until + ms / 1000 + 0.1, (at, spoken_until)
    assert vad.end_of_speech_at(bytes(16000 * 2 * 3)) is None


def test_vocabulary_hint_from_live_data(demo):
    from herotui import contexts
    from herotui.voice import vocabulary

    biz = contexts.load("business")
    hint = vocabulary.hint(biz)
    assert "Alex Smith" in hint and "business" in hint and "personal" in hint
    assert "Contoso Product Roadmap 2027" in hint and "roadmap" in hint and len(hint) <= vocabulary.MAX_CHARS + 1
    # example commands last, with the context's own names in them
    names = vocabulary.gather(biz)
    assert hint.endswith(vocabulary.examples(names)) and f"Show {names['contacts'][0]}." in hint
    # whisper keeps only the last 223 tokens of a prompt: the whole hint must fit
    from herotui.voice import stt

    assert len(stt.backend().model.hf_tokenizer.encode(" " + hint).ids) <= 223
    empty = vocabulary.build({})
    assert empty == vocabulary.examples({}) and "Show Sam Peters." in empty


def test_speakable_replies():
    from herotui.voice import tts

    text = ("You have 6 events:\n  10:00 \u00b7 Quarterly report\n  11:00 \u00b7 B\n  12:00 \u00b7 C\n"
            "  13:00 \u00b7 D\n  14:00 \u00b7 E\n  15:00 \u00b7 F\n$ hero calendar today\n**Shall I** summarise `it`?")
    said = tts.speakable(text)
    assert "and 3 more" in said and "$" not in said and "*" not in said and "`" not in said
    assert "hero calendar" not in said and said.endswith("Shall I summarise it?")
    long = "word " * 200
    assert len(tts.speakable(long)) <= tts.MAX_CHARS + 3
    assert tts.first_sentence("Done. Lena Fischer was added.") == ("Done.", "Lena Fischer was added.")


def test_reply_chunks():
    from herotui.voice import tts

    long = ("4 events: Wed 09:15 Daily standup; Wed 10:00 Quarterly report review; Wed 13:00 Product "
            "roadmap sync with Contoso; Wed 16:00 Vendor call: Fabrikam supply terms. Shall I summarise it?")
    pieces = tts.chunks(long)
    assert " ".join(pieces).split() == long.split()  # nothing lost or reordered
    assert tts.MIN_CHUNK <= len(pieces[0]) <= tts.FIRST_CHUNK and pieces[0].endswith(";")
    assert pieces[-1] == "Shall I summarise it?"
    assert tts.chunks("Done. Lena Fischer was added.") == ["Done.", "Lena Fischer was added."]
    assert tts.chunks("Alex Smith.") == ["Alex Smith."] and tts.chunks("  ") == []


class FakeSpeaker:
    """A sound card stand-in: 'plays' each piece (sleeps its duration, divided by ``speed``:
    a faster speaker is a harder test of keeping it fed)."""

    def __init__(self, fail_at: int | None = None, speed: float = 1.0) -> None:
        self.calls: list[tuple[float, float]] = []  # (handed over at, time it played)
        self.fail_at = fail_at
        self.speed = speed

    def __call__(self, audio):
        from herotui.voice import tts

        self.calls.append((time.perf_counter(), audio.duration / self.speed))
        if self.fail_at is not None and len(self.calls) > self.fail_at:
            return tts.Playback(False, "fake", "device unplugged")
        time.sleep(audio.duration / self.speed)
        return tts.Playback(True, "fake")


def test_say_streams_sentence_by_sentence(tmp_path):
    from herotui.voice import tts

    text = ("3 found: Q1 2026 budget assumptions, notes for Alex; Northwind Traders, Q4 2025 Quarterly Report; "
            "Brightline Studio, open invoices for Northwind Traders. Shall I open the first one?")
    tts._load_piper()
    voice = tts._piper
    tts.synthesize("Warm up.", "piper")  # onnxruntime's first run is slow: not part of either figure

    def whole_reply() -> tuple[object, float]:
        t0 = time.perf_counter()
        audio = tts.synthesize(tts.speakable(text), "piper")
        return audio, time.perf_counter() - t0

    whole, before = whole_reply()
    speaker = FakeSpeaker(speed=3)  # 14 s of speech played in 4.6 s: piper makes it ~20x faster than real time
    spoken = tts.say(text, engine="piper", player=speaker, out=tmp_path / "r.wav")
    _, after = whole_reply()
    whole_s = max(before, after)  # measured on both sides: a quiet moment for one is no verdict under load
    assert spoken.played and spoken.method == "fake" and spoken.error is None
    assert spoken.chunks == len(tts.chunks(spoken.text)) >= 3 == len(speaker.calls)
    # speech starts once the first piece (a third of the text) is made, well before the whole
    # reply could be
    assert spoken.first_audio_seconds < whole_s * 0.75, (spoken.first_audio_seconds, before, after)
    # piece n+1 was ready when piece n ended: the speaker (three times real time) never waited
    assert spoken.stalls == 0
    for (at, duration), (nxt, _) in zip(speaker.calls, speaker.calls[1:]):
        assert nxt - (at + duration) < 0.1
    with wave.open(str(tmp_path / "r.wav")) as w:
        assert abs(w.getnframes() / w.getframerate() - spoken.audio_seconds) < 0.01
        assert abs(spoken.audio_seconds - whole.duration) < whole.duration * 0.25
    assert tts._piper is voice  # the voice is loaded once per process


def test_say_stops_when_playback_fails():
    from herotui.voice import tts

    speaker = FakeSpeaker(fail_at=1)
    spoken = tts.say("First part here. Second part here. Third part here. Fourth part here.", engine="piper",
                     player=speaker)
    assert not spoken.played and spoken.error == "device unplugged"
    assert len(speaker.calls) == 2 and spoken.chunks == 2  # the rest is neither played nor kept


def test_say_silent_and_no_device(monkeypatch, tmp_path):
    from herotui.voice import tts

    spoken = tts.say("Hello there. Two meetings today.", silent=True)
    assert spoken.engine == "silent" and not spoken.played and spoken.chunks == 0
    monkeypatch.setenv("HERO_VOICE", "silent")
    assert tts.engine_name() == "silent" and tts.preload() is None
    spoken = tts.say("Hello there.", out=tmp_path / "s.wav")  # silent, but a file was asked for
    assert spoken.out and spoken.engine == "piper" and not spoken.played
    monkeypatch.delenv("HERO_VOICE")
    monkeypatch.setattr(tts, "output_available", lambda: (False, "no audio output device"))
    spoken = tts.say("Hello there.")
    assert not spoken.played and spoken.error == "not played: no audio output (no audio output device)"


def test_espeak_fallback_writes_a_wav(tmp_path):
    from herotui.voice import tts

    if not tts.espeak_path():
        pytest.skip("espeak-ng not installed")
    spoken = tts.say("Hello from espeak.", engine="espeak", out=tmp_path / "e.wav", play_audio=False)
    assert spoken.engine == "espeak" and (tmp_path / "e.wav").stat().st_size > 5000
    speaker = FakeSpeaker()
    spoken = tts.say("Hello from espeak. This is the fallback voice.", engine="espeak", player=speaker)
    assert spoken.played and spoken.engine == "espeak" and len(speaker.calls) == 2


def test_whisper_cpp_model_path_errors(monkeypatch, tmp_path):
    from herotui.voice import stt

    monkeypatch.setattr(stt, "_backend", None)
    monkeypatch.setenv("HERO_WHISPER_MODEL", str(tmp_path / "ggml-missing.bin"))
    with pytest.raises(stt.VoiceUnavailable, match="no such model file"):
        stt.backend()
    monkeypatch.delenv("HERO_WHISPER_MODEL")
    monkeypatch.setenv("HERO_STT_MODEL", str(tmp_path))
    with pytest.raises(stt.VoiceUnavailable, match="no model.bin"):
        stt.backend()


def test_a_name_heard_with_doubt_is_read_back_and_asked(demo, tmp_path, capsys):
    """espeak-ng's "Lena Fischer" is a name tiny.en mishears ("leave a phisher"): Hero says the
    name it heard and asks; "no" creates nothing. The words' probabilities decide, not the text."""
    from herotui import contexts, registry
    from herotui.voice import stt, tts

    try:
        wav = tts.synthesize("Add Lena Fischer from Lumen Labs as a contact in business", "espeak").write(tmp_path / "e.wav")
    except tts.NoSpeechEngine:
        pytest.fail("espeak-ng is missing (scripts/install adds it)")
    tr = stt.transcribe_file(wav)
    assert tr.unsure_words(), tr.segments  # whisper's own word probabilities say it was unsure
    biz = contexts.load("business")
    before = len(registry.call("contact.list", {}, biz))
    data = voice_file(capsys, wav)
    if data["plan"] and any(s["verb"] == "contact.create" for s in data["result"]["plan"]["steps"]):
        name = next(s for s in data["result"]["plan"]["steps"] if s["verb"] == "contact.create")["args"]["name"]
        assert data["pending"] and f"I heard the name \u201c{name}\u201d" in data["reply"], data
    assert len(registry.call("contact.list", {}, biz)) == before  # nothing created from a doubtful name
    assert "cancel" in voice_file(capsys, wavs_no(tmp_path))["reply"].lower() or not data["pending"]
    assert len(registry.call("contact.list", {}, biz)) == before


def wavs_no(folder: Path) -> Path:
    from herotui.voice import tts

    return tts.synthesize("no", "piper", deterministic=True).write(folder / "no.wav")


def test_read_back_only_for_new_names_with_doubtful_words():
    from herotui.planner.ask import _read_back
    from herotui.planner.plan import Plan, Step

    plan = Plan(text="x", steps=[Step(verb="contact.create", args={"name": "Leave A Phisher", "company": "Lumen Labs"},
                                      context="business")])
    assert "\u201cLeave A Phisher\u201d at \u201cLumen Labs\u201d" in _read_back(plan, ["phisher"])
    assert _read_back(plan, ["business", "the"]) is None  # doubt about other words of the request
    event = Plan(text="x", steps=[Step(verb="calendar.add", args={"title": "Lunch with Zed", "start": "tomorrow 12:30"},
                                       context="personal")])
    assert "I heard \u201cLunch with Zed\u201d (tomorrow 12:30)" in _read_back(event, ["Zed."])
    shown = Plan(text="x", steps=[Step(verb="contact.show", args={"id": "01X"}, context="personal")])
    assert _read_back(shown, ["alex"]) is None
