"""``hero voice --file`` through the resident server: the speech model stays loaded there.

Loading tiny.en costs ~1.3 s, more than the whole target of a spoken command (end of audio
-> action done <= 0.8 s). The ``hero`` command (the thin entry) therefore hands a recording
to the server (``hero.voice``): the server reads the file, transcribes it with the model it
loaded the first time voice was used (and keeps), plans and runs it through the registry
(actor ``voice``, the stores open), and returns the turn (the JSON of ``--json``) and the
text ``hero voice`` prints, rendered for the client's terminal. The client prints it and
speaks the reply itself (its audio device, ``--out`` file, ``--silent``).

In-process, as before: with no server (the first call starts one in the background), a
server of other settings, ``HERO_NO_SERVER``/``HERO_DEBUG``, and callers of the CLI's
functions in their own process (``cli._main``: tests, scripts) rather than the ``hero``
command.
"""

from __future__ import annotations

import os
import sys
import threading

_MODEL_LOCK = threading.Lock()


def forward_file(path: str, context: str | None, *, dry_run: bool, session: str | None, silent: bool,
                 as_json: bool, out: str | None) -> bool:
    """Run ``hero voice --file`` in the server; False to run it in this process instead."""
    entry = sys.modules.get("herotui.server.entry")
    if entry is None or not getattr(entry, "THIN", False):
        return False  # not the hero command: in-process (tests, scripts calling the CLI)
    from herotui import settings

    s = settings.get()
    if s.HERO_NO_SERVER or s.HERO_DEBUG:
        return False
    from herotui import server as wire

    folder = wire.ensure_runtime_dir()
    if folder is None:
        return False
    try:
        conn = entry._connection(folder, actor="voice")
    except entry.Fallback:
        return False
    try:
        params = {"path": os.path.abspath(path), "context": context or s.HERO_CONTEXT or None,
                  "dry_run": dry_run, "session": session, "json": as_json, "term": entry._term()}
        try:
            resp = conn.call("hero.voice", params)
        except (wire.ServerGone, OSError, ValueError):
            if dry_run:
                return False  # nothing was run: again, here
            print("error: the Hero server stopped during the call: what was said may or may not have been done",
                  file=sys.stderr)
            print("hint: check (e.g. with a list or show command) before saying it again", file=sys.stderr)
            raise SystemExit(1) from None
    finally:
        conn.close()
    result = resp.get("result")
    if not isinstance(result, dict):
        return False
    if result.get("code"):
        sys.stderr.write(result.get("err") or "")
        raise SystemExit(int(result["code"]))
    turn = result["turn"]
    if not as_json:
        sys.stdout.write(result.get("out") or "")
        sys.stdout.flush()
    _speak(turn, silent, as_json, out)
    if as_json:
        import json

        print(json.dumps(turn, default=str))
    if result.get("err"):
        sys.stderr.write(result["err"])
    return True


def _speak(turn: dict, silent: bool, as_json: bool, out: str | None) -> None:
    """Speak the reply here (this terminal's audio), as ``hero voice`` does in-process."""
    from dataclasses import asdict

    from herotui.frontends import voice as front
    from herotui.voice import silent_by_env, tts

    quiet = silent or silent_by_env()
    spoken = asdict(tts.say(turn.get("reply") or "", silent=quiet, out=out))
    turn["spoken"] = spoken
    if not as_json and spoken.get("error") and not quiet:
        front.tell_not_spoken(spoken["error"])


def run_voice(params: dict) -> dict:
    """The server's side (``hero.voice``): ``{"turn", "out", "err", "code"}``."""
    from herotui import contexts
    from herotui.errors import HeroError
    from herotui.frontends import render
    from herotui.server import core

    term = params.get("term") or {}
    cap = core.start_capture(term)
    as_json = bool(params.get("json"))
    turn_json = None
    code = 0
    try:
        from herotui.frontends import voice as front
        from herotui.voice import loop

        ctx = contexts.current(params.get("context") or None)
        turn = loop.handle_file(str(params["path"]), ctx, dry_run=bool(params.get("dry_run")),
                                session=params.get("session") or None)
        turn_json = turn.to_json()
        if not as_json:
            with core.rendering(term):
                front.print_turn(turn, False)
    except HeroError as exc:
        with core.rendering(term):
            render.error(exc, as_json)
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: briefly, as the CLI says it
        core.log.exception("internal error in hero.voice")
        cap["err"].append(f"error: internal error: {type(exc).__name__}: {exc}\n"
                          "hint: run again with HERO_DEBUG=1 for the traceback, and report it\n")
        code = 1
    finally:
        core.stop_capture()
    return {"turn": turn_json, "out": "".join(cap["out"]), "err": "".join(cap["err"]), "code": code}


def warm() -> None:
    """Load the speech model (kept for the server's life) and the vocabulary hints."""
    from herotui.voice import stt, vocabulary

    stt.backend()
    vocabulary.prepare()
