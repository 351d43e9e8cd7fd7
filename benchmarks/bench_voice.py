"""Voice latency and accuracy over piper-synthesised commands of the planner's set.

Per utterance, with the clock started at the end of speech (the end of the recording):

* ``stt``: speech to text (tiny.en, with the vocabulary hint);
* ``plan``: planning and running the plan (``ask.run``), after the command-word correction;
* ``done``: end of speech -> action done (transcribed, planned, run);
* ``first_audio``: end of speech -> the first piece of the spoken reply synthesised and
  handed to playback (through STT, plan, run, ``tts.say``: speakable text, chunking, the
  first chunk's synthesis). Playback goes to a stand-in speaker that takes each piece and
  "plays" it in real time (sleeps its duration), exactly where a sound card would; so the
  overlap of playback n with synthesis n+1 is real, and ``stalls`` counts the times the
  speaker had to wait for the next piece;
* ``first_sentence_synth``: for comparison, how long synthesising the whole first sentence
  (the previous way) takes.

WER (of whisper's words, before the command-word correction; ``mean_wer_after_correction``
is of the words planned) and command accuracy (first verb as in tests/data/utterances.yaml)
over the set, per take: take 0 is piper without sampling noise (the audio the tests use), later takes are
piper with its default noise (different audio each run). Each take runs in a fresh copy of
the demo home (data-changing commands are in the set). Nothing reaches a sound card.

For a live microphone add the VAD's end-of-speech wait (``HERO_VAD_SILENCE_MS``, 700 ms):
it is reported as ``..._live_s``.

    python benchmarks/bench_voice.py [--json] [--takes N] [--no-realtime]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


class Speaker:
    """Where a sound card would be: records when each piece is handed over; plays in real time."""

    def __init__(self, realtime: bool = True) -> None:
        self.first: float | None = None
        self.pieces = 0
        self.realtime = realtime

    def __call__(self, audio):
        from herotui.voice import tts

        if self.first is None:
            self.first = time.perf_counter()
        self.pieces += 1
        if self.realtime:
            time.sleep(audio.duration)
        return tts.Playback(True, "bench-speaker")


def _arg(name: str, default: int) -> int:
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return default


def main() -> None:
    import yaml

    takes = _arg("--takes", 2)
    realtime = "--no-realtime" not in sys.argv
    tmp = Path(tempfile.mkdtemp(prefix="hero-bench-voice-"))
    template = tmp / "template"
    os.environ.update(HERO_HOME=str(template), HERO_TZ="Europe/Brussels", HERO_VOICE="silent")
    from test_planner import build_demo_home
    from test_voice import SPOKEN, wer

    from herotui import contexts
    from herotui.planner import intents
    from herotui.voice import loop, stt, tts, vocabulary

    build_demo_home()
    cases = {c["text"]: c for c in yaml.safe_load((ROOT / "tests" / "data" / "utterances.yaml").read_text())}
    texts = [t for t in SPOKEN if t not in ("yes", "no", "delete Alex Smith")]
    t0 = time.perf_counter()
    stt.backend()
    load_stt = time.perf_counter() - t0
    t0 = time.perf_counter()
    tts._load_piper()
    load_tts = time.perf_counter() - t0
    tts.synthesize("Warm up.", "piper")  # onnxruntime's first run
    vocabulary.prepare()
    silence_ms = float(os.environ.get("HERO_VAD_SILENCE_MS", 700))
    rows = []
    for take in range(takes):
        home = tmp / f"home-{take}"
        shutil.copytree(template, home)
        os.environ["HERO_HOME"] = str(home)
        intents._LIVE.clear()
        vocabulary.invalidate()
        contexts.save_choice("business")
        for i, text in enumerate(texts):
            wav = tts.synthesize(text, "piper", deterministic=take == 0).write(tmp / f"t{take}-u{i}.wav")
            audio = stt.read_audio(wav)
            ctx = contexts.load("business")
            t_end = time.perf_counter()  # end of speech (the VAD's wait is not included: see _live_s)
            turn = loop.handle_audio(audio, ctx)
            t_done = time.perf_counter()
            speaker = Speaker(realtime)
            spoken = tts.say(turn.reply, engine="piper", player=speaker)
            first, _ = tts.first_sentence(turn.speakable)
            old_way = tts.synthesize(first, "piper").seconds_to_synth if first else 0.0
            case = cases.get(text, {})
            expected = case.get("verb") or (case.get("steps") or [{}])[0].get("verb")
            got = turn.result.plan.steps[0].verb if turn.result is not None and turn.result.plan.steps else None
            rows.append({
                "take": take, "text": text, "heard": turn.heard_as or turn.transcript, "planned_as": turn.transcript,
                "corrected": bool(turn.heard_as), "wer": wer(text, turn.heard_as or turn.transcript),
                "wer_planned": wer(text, turn.transcript),
                "verb_ok": got == expected, "in_set": expected is not None,
                "stt": turn.timings.get("stt", 0), "plan": turn.timings.get("plan_and_run", 0),
                "done": t_done - t_end,
                "first_audio": (speaker.first - t_end) if speaker.first is not None else None,
                "tts_first_chunk": spoken.first_audio_seconds, "first_sentence_synth": old_way,
                "chunks": spoken.chunks, "stalls": spoken.stalls, "reply_audio_s": spoken.audio_seconds,
            })
    shutil.rmtree(tmp, ignore_errors=True)

    def med(key: str, which=None) -> float:
        values = [r[key] for r in rows if r[key] is not None and (which is None or which(r))]
        return statistics.median(values) if values else float("nan")

    def accuracy(which) -> float:
        sel = [r for r in rows if r["in_set"] and which(r)]
        return sum(r["verb_ok"] for r in sel) / max(1, len(sel))

    summary = {
        "utterances": len(rows), "takes": takes, "cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0],
        "load_stt_s": load_stt, "load_tts_s": load_tts,
        "median_stt_s": med("stt"), "median_plan_s": med("plan"),
        "median_end_of_speech_to_action_done_s": med("done"),
        "max_end_of_speech_to_action_done_s": max(r["done"] for r in rows),
        "median_tts_first_chunk_s": med("tts_first_chunk"),
        "median_first_sentence_synth_s (previous way)": med("first_sentence_synth"),
        "median_end_of_speech_to_first_audio_s": med("first_audio"),
        "median_end_of_speech_to_first_audio_previous_way_s": statistics.median(
            r["done"] + r["first_sentence_synth"] for r in rows),
        "max_end_of_speech_to_first_audio_s": max(r["first_audio"] or 0 for r in rows),
        "median_end_of_speech_to_action_done_live_s": med("done") + silence_ms / 1000,
        "median_end_of_speech_to_first_audio_live_s": med("first_audio") + silence_ms / 1000,
        "replies_with_stalls": sum(r["stalls"] > 0 for r in rows) if realtime else "not measured (--no-realtime)",
        "corrected_first_words": sum(r["corrected"] for r in rows),
    }
    for take in range(takes):
        in_take = lambda r, t=take: r["take"] == t  # noqa: E731
        sel = [r for r in rows if in_take(r)]
        summary[f"take{take}_mean_wer"] = statistics.mean(r["wer"] for r in sel)
        summary[f"take{take}_command_accuracy"] = accuracy(in_take)
    summary["mean_wer"] = statistics.mean(r["wer"] for r in rows)
    summary["mean_wer_after_correction"] = statistics.mean(r["wer_planned"] for r in rows)
    summary["command_accuracy"] = accuracy(lambda r: True)
    if "--json" in sys.argv:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
        return
    for r in rows:
        fa = f"{r['first_audio']:.3f}s" if r["first_audio"] is not None else "-"
        mark = ("ok " if r["verb_ok"] else "BAD") if r["in_set"] else "-- "  # --: no expected verb in the set
        print(f"{mark} t{r['take']} wer {r['wer']:.2f} stt {r['stt']:.3f}s "
              f"plan {r['plan']:.3f}s done {r['done']:.3f}s first-audio {fa} "
              f"(chunk1 {r['tts_first_chunk'] or 0:.3f}s vs sentence {r['first_sentence_synth']:.3f}s, "
              f"{r['chunks']} pieces, {r['stalls']} stalls) | {r['text']!r} -> {r['heard']!r}"
              + (f" => {r['planned_as']!r}" if r["corrected"] else ""))
    for k, v in summary.items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()
