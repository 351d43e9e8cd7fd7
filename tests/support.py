"""Helpers shared by test modules (imported as ``support``: pytest puts ``tests/`` on the path).

Fixtures stay in the conftest files; plain functions live here, so that no test module
imports a conftest or another test module.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACTIVE = "business"
RUN_FOLDER: Path | None = None
"""This test run's folder shared by the xdist workers (:func:`run_folder`; set by conftest.py)."""


# --- scheduling under ``-n N`` (pytest-xdist) ----------------------------------------------
# The README's command is ``pytest -n 2``. Plain ``--dist load`` hands tests out in file
# order, so a module's expensive module- or session-scoped fixture is built on both workers,
# and a long test late in the order runs alone at the end. Instead (unless --dist is given):
# ``loadgroup``, the work handed out one unit at a time in the order below, where
#
# - the modules of SHARED run on one worker each, as one unit: their fixture is built once;
# - the modules of LONG_FIRST come first, the longest first (2-core figures from
#   ``--durations``), so that they overlap the many short tests instead of ending the run.
SHARED = {
    "tests/test_voice.py": "voice",  # 23 piper WAVs, the demo home, the speech model
    "tests/e2e/test_voice_story.py": "voice-story",  # the story's WAVs
    "tests/test_voice_devices.py": "voice-devices",  # a PulseAudio daemon, its WAVs
    "tests/test_tui_voice.py": "tui-voice",  # the story's WAVs, the speech model
    "tests/e2e/test_wheel.py": "wheel",  # the wheel, built and installed into a venv once
    "tests/test_tui_snapshots.py": "snapshots",  # the seeded business demo (session fixture), once
    "tests/test_planner_llm.py": "llm",  # litellm's import (4-7 s), once
}
LONG_FIRST = [  # from --durations on 2 cores: the units and the tests of 15-80 s first
    "tests/e2e/test_voice_story.py",
    "tests/test_voice.py",
    "tests/e2e/test_morning_story.py",
    "tests/test_tui_voice.py",
    "tests/test_voice_devices.py",
    "tests/e2e/test_wheel.py",
    "tests/e2e/test_concurrency.py",
    "tests/test_tui_snapshots.py",
    "tests/test_documents.py",
    "tests/test_output.py",
    "tests/test_understanding.py",
    "tests/test_planner_safety.py",
    "tests/test_tui_morning.py",
    "tests/test_readme_tour.py",
    "tests/test_index_gc.py",
    "tests/e2e/test_crash.py",
    "tests/test_tui_terminals.py",
    "tests/e2e/test_tui_story_tmux.py",
    "tests/e2e/test_rpc.py",
]


# The resident server (issue 15) starts on a HERO_HOME's first ``hero`` call (which itself runs
# in-process) and each test has its own HERO_HOME: ~0.6 s of CPU per test that runs ``hero``,
# for a server most of these tests then use once or never. The modules below test what
# commands do, not where they run: their ``hero`` processes run every call in-process
# (HERO_NO_SERVER=1). The served path is the subject of tests/e2e (test_server.py, including
# served output = in-process output, test_served_clients.py, test_served_bridge.py, ...), and
# the hostile-input, limits, voice, TUI and story modules keep the server.
IN_PROCESS = {
    "tests/test_output.py", "tests/test_hardening_files.py", "tests/test_hardening_outcomes.py",
    "tests/test_contexts.py", "tests/test_documents.py", "tests/test_calendar.py",
    "tests/test_calendar_series.py", "tests/test_knowledge.py", "tests/test_slides.py",
    "tests/test_contacts.py", "tests/test_cli_surface.py", "tests/test_registry.py",
    "tests/test_listing_pages.py", "tests/test_logs.py", "tests/test_vcard.py", "tests/test_checks.py",
    "tests/test_planner_llm.py", "tests/test_settings.py",
}


LIBFAKETIME = next((p for p in ("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                                "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                                "/usr/lib/faketime/libfaketime.so.1") if Path(p).exists()), None)
"""libfaketime (Debian: ``apt-get install faketime``), preloaded (``LD_PRELOAD``, ``FAKETIME``)
by the tests that freeze a real process's clock. Not the ``faketime`` wrapper: it keeps a
named semaphore per PID in /dev/shm, and one left by an earlier process of the same PID made it
fail at start ("sem_open: File exists")."""


def hero_exe() -> str:
    """The installed ``hero`` console script of the environment running the tests."""
    exe = Path(sys.executable).parent / "hero"
    return str(exe) if exe.exists() else shutil.which("hero") or "hero"


class Cli:
    """``hero ...`` in-process: returns (exit code, stdout, stderr); never a traceback."""

    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        from herotui.frontends.cli import _main

        code = _main(list(argv))
        out, err = self.capsys.readouterr()
        assert "Traceback" not in err and "internal error" not in err, err
        return code, out, err

    def json(self, *argv: str):
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        return json.loads(out)

    def fails(self, code: int, *argv: str) -> str:
        got, out, err = self(*argv)
        assert got == code, f"{argv}: exit {got}, stderr {err!r}"
        assert err.startswith("error: ") or err.startswith("Usage:"), err
        return err


# --- the terminal UI under Pilot ---------------------------------------------------------


def hero_app(**kw):
    from herotui.tui.shell import HeroApp

    return HeroApp(**kw)


async def until(pilot, predicate, timeout: float = 8.0) -> bool:
    """Let the app run until ``predicate()`` holds (True) or ``timeout`` passes (its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if predicate():
            return True
    return predicate()


async def typed(pilot, text: str, *then: str) -> None:
    """``text`` typed as a fast typist types it: every character reaches the app at once, in
    order, as a terminal delivers a burst of keys; then one wait until the screen has handled
    them, then the keys ``then`` (``"enter"``) pressed one by one.

    ``pilot.press`` waits for the process to look idle after each key (two waits of 20 ms or
    more, up to a second each while a thread works): 86 ms a character on average in the TUI
    tests, most of their time. The events are the ones ``pilot.press`` makes (Textual's key
    name for the character, the character itself)."""
    from textual import events
    from textual.keys import _character_to_key  # the name pilot.press gives a character

    app = pilot.app
    for ch in text:
        key = events.Key(_character_to_key(ch), ch)
        key.set_sender(app)
        app.post_message(key)
    await pilot.pause()
    if then:
        await pilot.press(*then)


# --- the demo home (built once per session, copied per test) ------------------------------


def load_demo_files(ctx) -> None:
    """Documents and decks of ``contexts/demo`` (when ``hero demo`` did not load them)."""
    from herotui import registry

    folder = ROOT / "contexts" / "demo"
    with ctx.read() as conn:
        have = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    if have:
        return
    docs = tomllib.loads((folder / "documents" / "manifest.toml").read_text())
    for d in docs.get("document", []):
        if d["context"] != ctx.name:
            continue
        registry.call("document.add", {"paths": [str(folder / "documents" / d["file"])], "tags": d.get("tags", []),
                                       "contacts": d.get("contacts", []), "events": d.get("events", [])}, ctx, actor="test")
    decks = tomllib.loads((folder / "decks" / "manifest.toml").read_text())
    for d in decks.get("deck", []):
        if d["context"] != ctx.name:
            continue
        deck = registry.call("slides.create", {"path": str(folder / "decks" / d["file"]), "tags": d.get("tags", [])}, ctx, actor="test")
        with ctx.write() as tx:  # decks take no --contact: link them as the demo manifest says
            cids = [r[0] for r in tx.execute("SELECT id FROM contacts WHERE list_has_any(emails, ?)", [d.get("contacts", [])]).fetchall()]
            tx.execute("UPDATE documents SET contacts = ? WHERE id = ?", [cids, deck.id])


def build_demo_home() -> None:
    """With HERO_HOME set: the demo, its documents and decks, the built-in knowledge book."""
    from herotui import contexts, registry
    from herotui.services import knowledge

    registry.call("demo.load", {}, actor="test")
    for name in ("personal", "business"):
        ctx = contexts.load(name)
        load_demo_files(ctx)
        knowledge.ensure_builtin(ctx)


def restore_env(saved: dict[str, str | None]) -> None:
    """Put environment variables back as ``saved`` ({name: value or None for unset}) had them."""
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def snapshot() -> dict:
    """Everything a plan can change, minus ids and time stamps (to compare homes before and after)."""
    from herotui import contexts

    out: dict = {"active": contexts.saved_choice(), "contexts": contexts.names()}
    for name in contexts.names():
        ctx = contexts.load(name)
        with ctx.read() as conn:
            out[name] = {
                "contacts": sorted(map(repr, conn.execute(
                    "SELECT name, emails, phones, company, role, tags, notes, birthday FROM contacts").fetchall())),
                "events": sorted(map(repr, conn.execute(
                    "SELECT title, start, \"end\", all_day, location, tags, rrule, exdates, status, "
                    "list_transform(from_json(attendees, '[\"json\"]'), lambda a: a->>'name') FROM events").fetchall())),
                "documents": sorted(map(repr, conn.execute(
                    "SELECT title, kind, tags, len(contacts), len(events), sha256 FROM documents").fetchall())),
            }
    return out


def make_demo_home(home: Path) -> Path:
    """Build the demo home at ``home`` (for a session fixture; the environment is restored).

    Made once per run for every module and xdist worker that asks under the same clock (a
    frozen instant, or today's date on the real clock: the demo follows the current week),
    then copied to ``home``."""
    if RUN_FOLDER is None:
        return _build_demo_at(home)
    from datetime import datetime

    import time_machine

    now = datetime.now()
    clock = f"frozen-{now.isoformat()}" if time_machine.escape_hatch.is_travelling() else f"today-{now.date()}"
    key = "".join(c if c.isalnum() else "_" for c in f"{clock}-{os.environ.get('HERO_TZ', '')}")
    template = built_once(RUN_FOLDER / f"demo-home-{key}", _build_demo_at)
    shutil.copytree(template, home, ignore=shutil.ignore_patterns("run"))
    return home


def _build_demo_at(home: Path) -> Path:
    saved = {k: os.environ.get(k) for k in ("HERO_HOME", "HERO_TZ", "HERO_CONTEXT")}
    os.environ.update(HERO_HOME=str(home), HERO_TZ="Europe/Brussels")
    os.environ.pop("HERO_CONTEXT", None)
    try:
        build_demo_home()
    finally:
        restore_env(saved)
    return home


def use_home(template: Path, target: Path, monkeypatch, active: str = DEFAULT_ACTIVE):
    """A copy of ``template`` at ``target``, made HERO_HOME, with ``active`` the active context."""
    from herotui import contexts
    from herotui.planner import intents

    shutil.copytree(template, target)
    monkeypatch.setenv("HERO_HOME", str(target))
    monkeypatch.setenv("PAGER", "cat")
    intents._LIVE.clear()
    contexts.save_choice(active)
    return contexts.current()


# --- built once per run, shared by the workers (pytest-xdist) ----------------------------


def run_folder(tmp_path_factory) -> Path:
    """A folder of this test run that every xdist worker sees (the workers' base folders are
    inside it); without xdist, the run's own base folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(folder: Path, build: Callable[[Path], None]) -> Path:
    """``folder``, made by ``build(folder)`` once per run whichever worker asks first (the
    others wait for it); a build that fails leaves nothing behind, and the next asker retries."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not folder.exists():
            part = folder.with_name(folder.name + ".part")
            shutil.rmtree(part, ignore_errors=True)
            build(part)
            part.rename(folder)
    return folder


def frozen_demo_home(shared: Path, env: dict) -> None:
    """Make ``env["HERO_HOME"]`` a copy of a fresh ``hero demo`` run under ``env`` (its
    libfaketime clock, ``FAKETIME``): the demo runs once per clock and run, as a real process
    (without a resident server: the first call runs in-process either way), and each test
    gets its own copy (no server state: a copy's first call starts its own server)."""

    def build(home: Path) -> None:
        proc = subprocess.run([hero_exe(), "demo"], capture_output=True, text=True, timeout=180,
                              env=dict(env, HERO_HOME=str(home), HERO_NO_SERVER="1"))
        assert proc.returncode == 0, f"hero demo -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"

    clock = "-".join(env.get(k, "") for k in ("FAKETIME", "TZ", "HERO_TZ"))
    template = built_once(shared / ("demo-" + "".join(c if c.isalnum() else "_" for c in clock)), build)
    target = Path(env["HERO_HOME"])
    assert not target.exists() or not any(target.iterdir()), f"{target} is not a fresh home"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("run"))
