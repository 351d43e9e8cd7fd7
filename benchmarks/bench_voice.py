"""Voice latency and accuracy over piper-synthesised commands of the planner's set.

Per utterance: STT time, plan+run time, time to first audio of the reply (synthesis of its
first sentence), and the total from end of speech to action done (+ first audio). WER and
command accuracy (first verb as in tests/data/utterances.yaml). Runs in a temporary demo
home; nothing is played.

    python benchmarks/bench_voice.py [--json]
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


def main() -> None:
    import yaml

    tmp = Path(tempfile.mkdtemp(prefix="hero-bench-voice-"))
    os.environ.update(HERO_HOME=str(tmp / "home"), HERO_TZ="Europe/Brussels", HERO_VOICE="silent")
    from test_planner import build_demo_home
    from test_voice import SPOKEN, wer

    from herotui import contexts
    from herotui.voice import loop, stt, tts

    build_demo_home()
    contexts.save_choice("business")
    cases = {c["text"]: c for c in yaml.safe_load((ROOT / "tests" / "data" / "utterances.yaml").read_text())}
    texts = [t for t in SPOKEN if t not in ("yes", "no", "delete Alex Smith")]
    t0 = time.perf_counter(); stt.backend(); load_stt = time.perf_counter() - t0
    t0 = time.perf_counter(); tts._load_piper(); load_tts = time.perf_counter() - t0
    rows = []
    for i, text in enumerate(texts):
        wav = tts.synthesize(text, "piper").write(tmp / f"u{i}.wav")
        audio = stt.read_audio(wav)
        ctx = contexts.load("business")
        t_end = time.perf_counter()  # end of speech (VAD's 700 ms wait not included: see below)
        turn = loop.handle_audio(audio, ctx)
        t_done = time.perf_counter()
        first, _ = tts.first_sentence(turn.speakable)
        head = tts.synthesize(first or "OK.", "piper")
        t_audio = time.perf_counter()
        case = cases.get(text, {})
        expected = case.get("verb") or (case.get("steps") or [{}])[0].get("verb")
        got = turn.result.plan.steps[0].verb if turn.result is not None and turn.result.plan.steps else None
        rows.append({"text": text, "heard": turn.transcript, "wer": wer(text, turn.transcript),
                     "verb_ok": got == expected, "in_set": expected is not None, "stt": turn.timings.get("stt", 0), "plan": turn.timings.get("plan_and_run", 0),
                     "first_audio": head.seconds_to_synth, "done": t_done - t_end, "done_to_audio": t_audio - t_end})
    med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    summary = {"utterances": len(rows), "load_stt_s": load_stt, "load_tts_s": load_tts,
               "median_stt_s": med("stt"), "median_plan_s": med("plan"), "median_first_audio_synth_s": med("first_audio"),
               "median_end_of_speech_to_action_done_s": med("done"),
               "median_end_of_speech_to_first_audio_s": med("done_to_audio"),
               "max_end_of_speech_to_action_done_s": max(r["done"] for r in rows),
               "mean_wer": statistics.mean(r["wer"] for r in rows),
               "command_accuracy": sum(r["verb_ok"] for r in rows if r["in_set"]) / max(1, sum(r["in_set"] for r in rows)),
               "note": "add the VAD's end-of-speech wait (HERO_VAD_SILENCE_MS, 700 ms) for a live microphone"}
    if "--json" in sys.argv:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
    else:
        for r in rows:
            print(f"{'ok ' if r['verb_ok'] else 'BAD'} wer {r['wer']:.2f} stt {r['stt']:.3f}s plan {r['plan']:.3f}s "
                  f"first-audio {r['first_audio']:.3f}s done {r['done']:.3f}s | {r['text']!r} -> {r['heard']!r}")
        for k, v in summary.items():
            print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
