"""``hero voice``: talk to Hero in a plain terminal, or from a recording.

* ``hero voice`` — push-to-talk: Space or Enter starts listening, the end of speech is found
  by voice activity detection (``--silence-ms``, 700), Space stops early, Esc cancels, q
  quits. No microphone: one line saying so, then a text prompt (the same planner).
* ``hero voice --file x.wav`` — one utterance from a file: transcript, the plan as CLI
  lines, the reply (spoken unless ``--silent`` or there is no audio output); ``--json``.
  The conversation carries between invocations, per terminal as for ``hero ask`` (a
  recording of "yes" answers the offer or question of the previous recording made from the
  same terminal, or script: never another terminal's), or the one named by ``--session ID``
  (the same as ``hero ask --session ID``: typed and spoken turns of one conversation).
* ``hero voice transcribe FILE`` · ``hero voice say TEXT [--out f.wav]`` ·
  ``hero voice devices`` · ``hero voice doctor``.

Speech libraries are imported inside the commands (see ``herotui.voice``); this module
imports only Typer at build time.
"""

from __future__ import annotations

import json
import sys
from typing import Optional


def _context(name: str | None):
    from herotui import contexts  # lazy: the thin entry's voice hand-off imports this module

    return contexts.current(name)


def print_turn(turn, as_json: bool) -> None:
    if as_json:
        print(json.dumps(turn.to_json(), default=str))
        return
    from rich.console import Console  # ~40 ms: only printing a turn as text pays for it

    console = Console(highlight=False, soft_wrap=True)
    if not turn.heard:
        console.print("[dim]heard:[/] (nothing)")
        console.print(turn.reply)
        return
    if getattr(turn, "heard_as", None):
        console.print(f"[dim]heard:[/] {turn.heard_as} [dim](taken as: {turn.transcript})[/]")
    else:
        console.print(f"[dim]heard:[/] {turn.transcript}")
    if turn.result is not None:
        from herotui.frontends import views  # lazy: the thin entry's voice hand-off imports this module

        console.print(views.view(turn.result))
    else:
        console.print(turn.reply)


def terminal_session() -> str:
    """The default conversation of ``hero voice``: this terminal's (or, with none, the parent
    process's: a script's calls share one), as ``hero ask`` keeps one per terminal."""
    import os  # lazy: the thin entry's voice hand-off imports this module

    for fd in (0, 1, 2):
        try:
            return f"voice@{os.ttyname(fd)}"
        except OSError:
            continue
    return f"voice@ppid-{os.getppid()}"


_told = False  # "reply not spoken" is said once per session (this process)


def tell_not_spoken(error: str) -> None:
    """Say on stderr, once per process, that a reply could not be spoken (and why)."""
    global _told
    if not _told:
        _told = True
        print(f"(reply not spoken: {error})", file=sys.stderr)


def _speak(turn, silent: bool, as_json: bool, out: Optional[str] = None) -> None:
    from herotui.voice import loop, silent_by_env  # lazy: the thin entry's voice hand-off imports this module

    spoken = loop.speak_reply(turn, silent=silent or silent_by_env(), out=out)
    if not as_json and spoken.get("error") and not (silent or silent_by_env()):
        tell_not_spoken(spoken["error"])


def cli(options=None):
    """``hero voice ...``; ``options``: the root command's (``hero --context X --json voice``)."""
    def root_context() -> str | None:  # read when a command runs: the root callback sets it first
        return getattr(options, "context", None)

    def _as_json(flag: bool) -> bool:
        return flag or bool(getattr(options, "json", False))

    import typer  # ~40 ms; the speech libraries load only inside the commands

    app = typer.Typer(rich_markup_mode=None, invoke_without_command=True, no_args_is_help=False,
                      context_settings={"help_option_names": ["-h", "--help"]})

    @app.callback()
    def voice(
        ctx: typer.Context,
        file: Optional[str] = typer.Option(None, "--file", "-f", help="Take one utterance from this recording (WAV, or mp3/ogg/flac)."),
        silent: bool = typer.Option(False, "--silent", help="Do not speak the reply (also HERO_VOICE=silent)."),
        json_: bool = typer.Option(False, "--json", help="Print JSON (transcript, plan, reply, timings)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Only show the plan; run nothing."),
        out: Optional[str] = typer.Option(None, "--out", help="Also write the spoken reply to this WAV file."),
        silence_ms: Optional[float] = typer.Option(None, "--silence-ms", help="Silence that ends an utterance (ms, default 700)."),
        max_seconds: Optional[float] = typer.Option(None, "--max-seconds", help="Longest utterance (s, default 15)."),
        text: bool = typer.Option(False, "--text", help="Type instead of talking (what happens with no microphone)."),
        session: Optional[str] = typer.Option(None, "--session", help="Conversation id, as for 'hero ask --session': a "
                                              "spoken yes answers only the question of the same conversation "
                                              "(default: this terminal's voice conversation)."),
    ) -> None:
        """Talk to Hero: push-to-talk in this terminal, or one recording with --file."""
        import os  # lazy: the thin entry's voice hand-off imports this module

        _check_audio_backend()  # every voice command checks it
        if ctx.invoked_subcommand is not None:
            return

        if silence_ms is not None:
            os.environ["HERO_VAD_SILENCE_MS"] = str(silence_ms)
        if max_seconds is not None:
            os.environ["HERO_VOICE_MAX_SECONDS"] = str(max_seconds)
        as_json = _as_json(json_)
        session = session or terminal_session()
        if file:
            _one_recording(file, root_context(), dry_run=dry_run, session=session, silent=silent, as_json=as_json, out=out)
            return
        interactive(silent=silent, dry_run=dry_run, text_only=text, as_json=as_json, session=session, context=root_context())

    voice.__annotations__["ctx"] = typer.Context  # the class, not the string "typer.Context" (future annotations)

    @app.command("transcribe")
    def transcribe(
        file: str = typer.Argument(..., help="A recording (WAV, or mp3/ogg/flac)."),
        json_: bool = typer.Option(False, "--json", help="Print JSON."),
        no_hint: bool = typer.Option(False, "--no-hint", help="No vocabulary hint from your data."),
        max_seconds: float = typer.Option(600, "--max-seconds", help="Transcribe at most this much (s)."),
    ) -> None:
        """Print what is said in FILE (offline speech to text, with your names as a hint)."""
        from herotui.voice import stt, vocabulary  # lazy: the thin entry's voice hand-off imports this module

        prompt = None if no_hint else vocabulary.hint(_context(root_context()))
        tr = stt.transcribe_file(file, prompt, max_seconds=max_seconds)
        if _as_json(json_):
            print(json.dumps({"text": tr.text, "audio_seconds": round(tr.audio_seconds, 3),
                              "seconds": round(tr.seconds, 3), "backend": tr.backend, "segments": tr.segments}))
        else:
            print(tr.text)

    @app.command("say")
    def say(
        text: str = typer.Argument(..., help="What to say."),
        out: Optional[str] = typer.Option(None, "--out", "-o", help="Write the speech to this WAV file."),
        engine: Optional[str] = typer.Option(None, "--engine", help="piper | espeak (default: piper if installed)."),
        silent: bool = typer.Option(False, "--silent", help="Do not play (useful with --out)."),
        json_: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Say TEXT aloud (the packaged voice, or espeak-ng), or write it to --out."""
        from herotui.voice import tts  # lazy: the thin entry's voice hand-off imports this module

        _print_spoken(tts.say(text, out=out, silent=silent, engine=engine), _as_json(json_), silent)

    @app.command("devices")
    def devices_cmd(json_: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List audio input and output devices (what PortAudio sees)."""
        from herotui.voice import capture  # lazy: the thin entry's voice hand-off imports this module

        _print_devices(capture.devices(), _as_json(json_))

    @app.command("doctor")
    def doctor(json_: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """What works here: devices, speech model, voices, VAD, and what to install."""
        report = diagnose()
        if _as_json(json_):
            print(json.dumps(report))
            return
        for key, value in report.items():
            print(f"{key:12} {value}")

    return app


def _check_audio_backend() -> None:
    """UsageError when HERO_AUDIO_BACKEND names no backend Hero has."""
    from herotui import settings  # lazy: the thin entry's voice hand-off imports this module

    forced = (settings.get().HERO_AUDIO_BACKEND or "").strip().lower()
    if forced and forced not in ("auto", "pyaudio", "sounddevice"):
        from herotui.errors import UsageError  # lazy: the thin entry's voice hand-off imports this module

        raise UsageError(f"HERO_AUDIO_BACKEND must be pyaudio or sounddevice, not {forced!r}",
                         hint="unset it to use pyaudio, and sounddevice when pyaudio is missing")


def _one_recording(file: str, context: str | None, *, dry_run: bool, session: str, silent: bool, as_json: bool, out: Optional[str]) -> None:
    """``hero voice --file``: one utterance from a recording, through the resident server when
    one runs (its model loaded), else here; the turn printed and the reply spoken."""
    from herotui.server import voice as served  # the resident server, its model loaded

    if served.forward_file(file, context, dry_run=dry_run, session=session,
                           silent=silent, as_json=as_json, out=out):
        return
    from herotui.voice import loop  # lazy: the thin entry's voice hand-off imports this module

    turn = loop.handle_file(file, _context(context), dry_run=dry_run, session=session)
    if as_json:  # the JSON says whether it was spoken
        _speak(turn, silent, as_json, out)
        print_turn(turn, as_json)
    else:
        print_turn(turn, as_json)
        _speak(turn, silent, as_json, out)


def _print_spoken(spoken, as_json: bool, silent: bool) -> None:
    """``hero voice say``: the file written and how it was played; HeroError when it was
    neither played nor written (and not --silent)."""
    from dataclasses import asdict  # lazy: the thin entry's voice hand-off imports this module

    from herotui.errors import HeroError  # lazy: the thin entry's voice hand-off imports this module

    if as_json:
        print(json.dumps(asdict(spoken)))
    else:
        if spoken.out:
            print(f"wrote {spoken.out} ({spoken.engine})")
        if spoken.played:
            print(f"said ({spoken.engine}, {spoken.method})")
    if not spoken.played and not spoken.out and not silent:
        raise HeroError(f"nothing was played: {spoken.error}",
                        hint="write it to a file with --out f.wav, or check 'hero voice devices'")


def _print_devices(info: dict, as_json: bool) -> None:
    """``hero voice devices``: the backend, then each input and output device (* the default)."""
    if as_json:
        print(json.dumps(info))
        return
    if info["error"]:
        print(f"audio: {info['error']}")
    if info.get("backend"):
        print(f"backend: {info['backend']} ({info['backend_reason']})")
    for kind in ("input", "output"):
        if not info[kind]:
            print(f"{kind}: none")
        for d in info[kind]:
            mark = "*" if d["index"] == info.get(f"default_{kind}") else " "
            print(f"{kind}: {mark}{d['index']}: {d['name']} ({d['channels']} ch, {int(d['rate'])} Hz)")


def diagnose() -> dict:
    import importlib.util  # lazy: the thin entry's voice hand-off imports this module
    import shutil  # lazy: the thin entry's voice hand-off imports this module

    from herotui.voice import capture, stt, tts  # lazy: the thin entry's voice hand-off imports this module

    info = capture.devices()
    s = stt.describe_backend()
    ok_out, how = tts.output_available()
    vad = "webrtcvad" if importlib.util.find_spec("webrtcvad") else "energy threshold (webrtcvad missing)"
    return {
        "audio": f"{info['backend']} ({info['backend_reason']})" if info.get("backend") else "none (no PortAudio binding)",
        "microphone": ", ".join(d["name"] for d in info["input"]) or f"none ({info['error'] or 'no input device'})",
        "speaker": how if ok_out else f"none ({how})",
        "stt": f"{s['backend']}: {s['model']} ({'ok' if s['ok'] else 'missing: ' + ('model' if not s['model_found'] else 'library')})",
        "tts": f"{tts.engine_name()} (piper voice: {'yes' if tts.piper_available() else 'no'}, "
               f"espeak-ng: {'yes' if tts.espeak_path() else 'no'})",
        "vad": vad,
        "players": ", ".join(p for p in ("aplay", "play") if shutil.which(p)) or "none",
        "works": ", ".join(w for w, ok in (("push-to-talk", bool(info["input"])), ("voice --file", s["ok"]),
                                          ("spoken replies", ok_out and tts.engine_name() not in ("none", "silent")),
                                          ("say --out", tts.piper_available() or bool(tts.espeak_path())))
                           if ok) or "nothing: pip install 'herotui[voice]'",
    }


# ---------------------------------------------------------------------------------------
# Interactive push-to-talk
# ---------------------------------------------------------------------------------------


def _read_key(timeout: float | None = None) -> str | None:
    import select  # lazy: the thin entry's voice hand-off imports this module

    r, _, _ = select.select([sys.stdin], [], [], timeout)
    if not r:
        return None
    import os  # lazy: the thin entry's voice hand-off imports this module

    return os.read(sys.stdin.fileno(), 8).decode(errors="replace")


def interactive(*, silent: bool, dry_run: bool, text_only: bool, as_json: bool, session: str | None = None,
                context: str | None = None) -> None:
    import threading  # lazy: the thin entry's voice hand-off imports this module

    from herotui.voice import capture, loop  # lazy: the thin entry's voice hand-off imports this module

    ctx = _context(context)
    if not text_only and not capture.has_microphone():
        info = capture.devices()
        print(f"No microphone here ({info['error'] or 'no audio input device'}): type instead (empty line or Ctrl-D quits).",
              file=sys.stderr)
        text_only = True
    if text_only or not sys.stdin.isatty():
        _text_prompt(ctx, silent, dry_run, as_json, session)
        return
    import termios  # lazy: the thin entry's voice hand-off imports this module
    import tty  # lazy: the thin entry's voice hand-off imports this module

    print("Loading the speech model...", file=sys.stderr, end="\r")
    loop.warm_up()
    print("Space or Enter: talk · Space: stop · Esc: cancel · q: quit      ", file=sys.stderr)
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        while True:
            key = _read_key()
            if key in ("q", "Q", "\x04", "\x03"):
                break
            if key not in (" ", "\r", "\n"):
                continue
            cancel, stop, box = threading.Event(), threading.Event(), {}

            def work() -> None:
                try:
                    box["turn"] = loop.listen_once(ctx, cancel=cancel, stop=stop, dry_run=dry_run, session=session)
                except Exception as exc:  # NoMicrophone, a HeroError from the plan: shown below
                    box["error"] = exc

            print("listening... (Space: stop, Esc: cancel)", file=sys.stderr)
            worker = threading.Thread(target=work, daemon=True)
            worker.start()
            while worker.is_alive():
                k = _read_key(0.05)
                if k is None:
                    continue
                if k.startswith("\x1b"):
                    cancel.set()
                elif k in (" ", "\r", "\n"):
                    stop.set()
            worker.join()
            if "error" in box:
                exc = box["error"]
                print(f"error: {getattr(exc, 'message', exc)}", file=sys.stderr)
                continue
            turn = box.get("turn")
            if turn is None:
                print("cancelled", file=sys.stderr)
                continue
            print_turn(turn, as_json)
            _speak(turn, silent, as_json)
            if turn.waiting_for_yes and turn.result.plan.needs_confirmation:
                print("listening for yes or no...", file=sys.stderr)
                answer = loop.confirm_by_voice(ctx, session=session)
                print_turn(answer, as_json)
                _speak(answer, silent, as_json)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _text_prompt(ctx, silent: bool, dry_run: bool, as_json: bool, session: str | None = None) -> None:
    from herotui.errors import HeroError  # lazy: the thin entry's voice hand-off imports this module
    from herotui.voice import loop  # lazy: the thin entry's voice hand-off imports this module

    while True:
        if sys.stdin.isatty():
            print("> ", end="", flush=True, file=sys.stderr)
        line = sys.stdin.readline()
        if not line or not line.strip():
            return
        try:
            turn = loop.handle_text(line.strip(), ctx, dry_run=dry_run, session=session)
        except HeroError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            continue
        print_turn(turn, as_json)
        _speak(turn, silent, as_json)
