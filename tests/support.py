"""Helpers shared by test modules (imported as ``support``: pytest puts ``tests/`` on the path).

Fixtures stay in the conftest files; plain functions live here, so that no test module
imports a conftest or another test module.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACTIVE = "business"


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
    """Build the demo home at ``home`` (for a session fixture; the environment is restored)."""
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
