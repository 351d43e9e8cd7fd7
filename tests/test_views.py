"""Presentation lives in the front-ends (issue 16 item 1): views keyed by result type, progress
reported to the caller, ``document open`` returning what to show.

- no service or planner module imports Rich, defines ``__rich__``, prints or touches
  ``sys.stdout``/``sys.stderr``; every view names a class that exists;
- the views print what the services' renderers printed (piped text, terminal styles);
- ``document add`` reports progress to ``registry.PROGRESS`` (and counts nothing when no one
  watches); on Ctrl+C the CLI's bar is erased and the command exits 130;
- ``document.open`` runs nothing: it returns the text or the stored file; the front-end
  (``present.show``) pages or hands over a copy.
"""

from __future__ import annotations

import ast
import importlib
import io
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from herotui import registry
from herotui.frontends import present, render, views

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 7, 9, 0, tzinfo=timezone.utc)


def test_services_and_the_planner_import_no_rich_and_render_nothing():
    offenders = []
    paths = [p for package in ("services", "planner") for p in sorted((ROOT / "herotui" / package).rglob("*.py"))]
    assert any(p.name == "ask.py" for p in paths) and any(p.name == "adding.py" for p in paths)
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "rich" or n.startswith("rich.") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {names[0]}")
            if isinstance(node, ast.FunctionDef) and node.name == "__rich__":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} defines __rich__")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} prints")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") and \
                    getattr(node.value, "id", None) == "sys":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} writes to sys.{node.attr}")
    assert offenders == []


def test_every_view_names_a_class_that_exists():
    assert len(views.VIEWS) >= 6
    for key in views.VIEWS:
        module, _, name = key.partition(":")
        cls = getattr(importlib.import_module(module), name, None)
        assert isinstance(cls, type), key
        assert f"{cls.__module__}:{cls.__qualname__}" == key  # what find() looks up


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _printed(result, monkeypatch, tty: bool) -> str:
    out = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("FORCE_COLOR", "1" if tty else "")
    render.output(result, False)
    return out.getvalue()


def test_views_print_what_the_service_renderers_printed(monkeypatch):
    """Recorded from the renderers the services had before (same Rich, 60 columns)."""
    from herotui.services import demo, document, slides, status

    st = status.Status(context="personal", description="home", contacts=3, events=4, next_event="Standup",
                       next_event_start=NOW, contexts=["personal", "business"])
    monkeypatch.setenv("TZ", "Europe/Brussels")
    time.tzset()
    try:
        assert _printed(st, monkeypatch, tty=False) == (
            "Hero — context personal (home)\n3 contacts, 4 events\nnext: Wed 07 Jan 10:00  Standup\n"
            "contexts: personal, business\ntry: hero demo · hero contact list · hero calendar today · hero search alex · hero --help\n")
        assert _printed(st, monkeypatch, tty=True).startswith(
            "\x1b[1mHero\x1b[0m — context \x1b[1;36mpersonal\x1b[0m\x1b[2m (home)\x1b[0m\n3 contacts, 4 events\n")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    report = demo.DemoReport(contexts=[demo.DemoContext(context="personal", contacts=3, events=4, documents=5, decks=1)])
    assert _printed(report, monkeypatch, tty=False) == (
        "personal: 3 contacts, 4 events, 5 documents and 1 decks added\n"
        "try: hero calendar week --context business · hero contact list · hero search alex\n")
    deck = slides.CreatedDeck(id="01JD3ABCDEFGHJKMNPQRSTVWXY", title="Deck", slides=3, tags=["a", "b"], filename="d.md",
                              size=3, sha256="y" * 64, created=NOW, updated=NOW)
    assert _printed(deck, monkeypatch, tty=False) == ("created deck 01JD3ABCDEFGHJKMNPQRSTVWXY 'Deck' (3 slides)  tags: a, b\n"
                                                      "try: hero slides present 01JD3ABCDE\n")
    doc = document.Document(id="01JD3ABCDEFGHJKMNPQRSTVWXY", title="Q4 report", kind="pdf", size=10, pages=3,
                            filename="q4.pdf", sha256="x" * 64, created=NOW, updated=NOW, note="encrypted PDF")
    added = document.AddReport(added=[doc] * 22, skipped=[document.Skipped(path="/b", reason="bad")], hidden=2)
    piped = _printed(added, monkeypatch, tty=False)
    assert piped.splitlines()[:2] == ["added 22 documents", "  01JD3ABCDEFGHJKMNPQRSTVWXY  Q4 report  [pdf, 3 pages]  (encrypted PDF)"]
    assert piped.splitlines()[-3:] == ["  ... and 2 more ('hero document list' shows them)", "skipped: /b: bad",
                                       "left out 2 hidden file(s) or folder(s) (add them with --hidden)"]
    shown = _printed(document.AddReport(), monkeypatch, tty=True)
    assert shown == "\x1b[1madded 0 documents\x1b[0m\n"


def test_a_subclass_gets_its_parents_view_and_others_print_as_before(monkeypatch):
    from herotui.services import slides

    class Mine(slides.CreatedDeck):
        pass

    assert views.find(Mine(id="X" * 26, title="T", slides=1, filename="f", size=1, sha256="s", created=NOW,
                           updated=NOW)) is views.created_deck
    assert views.find(object()) is None and views.view("text") == "text"


# --- progress ----------------------------------------------------------------------------------


def _folder(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        (root / f"n{i:04}.md").write_text(f"# Note {i}\n\nbody {i}\n")
    return root


def test_document_add_reports_progress_to_the_caller(ctx, tmp_path):
    seen = []
    token = registry.PROGRESS.set(lambda what, done, total: seen.append((what, done, total)))
    try:
        registry.call("document.add", {"paths": [str(_folder(tmp_path / "few", 5))]}, ctx)
    finally:
        registry.PROGRESS.reset(token)
    assert seen[0] == ("adding documents", 0, 5) and seen[-1] == ("adding documents", 5, 5)
    assert [d for _w, d, _t in seen] == sorted(d for _w, d, _t in seen)


def test_nobody_watching_nothing_is_counted(ctx, tmp_path, monkeypatch):
    from herotui.services.document import adding

    def no_count(*_a, **_k):
        raise AssertionError("files counted with nobody watching")

    monkeypatch.setattr(adding, "count_files", no_count)
    r = registry.call("document.add", {"paths": [str(_folder(tmp_path / "few", 3))]}, ctx)
    assert len(r.added) == 3
    seen = []
    token = registry.PROGRESS.set(lambda *a: seen.append(a))
    try:  # a single file: no folder to walk, no bar
        f = tmp_path / "one.md"
        f.write_text("# One\n")
        registry.call("document.add", {"paths": [str(f)]}, ctx)
    finally:
        registry.PROGRESS.reset(token)
    assert seen == []


def test_progress_bar_only_on_a_terminal_and_not_with_hero_progress_0(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert render.progress_bar() is None
    monkeypatch.setattr(sys, "stderr", _Tty())
    monkeypatch.delenv("HERO_PROGRESS", raising=False)
    bar = render.progress_bar()
    assert isinstance(bar, render.ProgressBar)
    bar.close()  # nothing reported: nothing drawn, nothing to close
    assert bar.bar is None
    monkeypatch.setenv("HERO_PROGRESS", "0")
    assert render.progress_bar() is None


def test_ctrl_c_during_document_add_erases_the_bar_and_exits_130(tmp_path, hero_home):
    import pty

    from support import hero_exe

    root = _folder(tmp_path / "many", 3000)
    env = dict(os.environ, HERO_HOME=str(hero_home), COLUMNS="100", HERO_NO_SERVER="1")
    master, slave = pty.openpty()
    proc = subprocess.Popen([hero_exe(), "document", "add", str(root)], stdout=subprocess.PIPE, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"adding documents" not in seen and time.monotonic() < deadline:
        seen += os.read(master, 65536)
    assert b"adding documents" in seen
    os.killpg(proc.pid, signal.SIGINT)
    try:
        code = proc.wait(timeout=60)
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            seen += data
    finally:
        os.close(master)
        proc.stdout.close()
    assert code == 130, seen[-500:]  # as Typer ends a command on Ctrl+C (quietly)
    tail = seen.rsplit(b"adding documents", 1)[1]
    assert tail.endswith(b"\x1b[1A\x1b[2K")  # the transient bar erased: the terminal is left clean
    assert b"Traceback" not in seen


# --- document open -------------------------------------------------------------------------------


@pytest.fixture
def two_docs(ctx, tmp_path):
    md = tmp_path / "read-me.md"
    md.write_text("# Read me\n\nPaged text.\n")
    other = tmp_path / "blob.bin"
    other.write_bytes(b"\x00\x01binary")
    r = registry.call("document.add", {"paths": [str(md), str(other)]}, ctx)
    return {d.filename: d.id for d in r.added}


def test_document_open_returns_what_to_show_and_runs_nothing(ctx, two_docs, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setenv("PAGER", "no-such-pager-here")  # the verb must not even look for it
    monkeypatch.setenv("HERO_OPENER", "no-such-opener-here")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = set(tmp_path.iterdir())
    o = registry.call("document.open", {"id": two_docs["read-me.md"]}, ctx)
    assert (o.how, o.kind, o.text, o.file, o.command) == ("pager", "markdown", "# Read me\n\nPaged text.\n", None, "")
    o = registry.call("document.open", {"id": two_docs["blob.bin"]}, ctx)
    assert (o.how, o.kind, o.filename, o.text, o.path) == ("opener", "other", "blob.bin", None, None)
    assert Path(o.file).read_bytes() == b"\x00\x01binary"
    assert set(tmp_path.iterdir()) == before  # no temporary copy: that is the front-end's
    assert registry.get("document.open").terminal and not registry.get("document.text").terminal


def test_present_show_pages_or_hands_a_copy_to_the_viewer(ctx, two_docs, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("PAGER", "cat")
    shown = present.show(registry.call("document.open", {"id": two_docs["read-me.md"]}, ctx))
    assert capfd.readouterr().out == "# Read me\n\nPaged text.\n"
    assert (shown.command, shown.text, shown.message) == ("cat", None, "")
    seen = tmp_path / "seen"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\ncp "$1" "{seen}"\n')
    opener.chmod(0o755)
    monkeypatch.setenv("HERO_OPENER", str(opener))
    shown = present.show(registry.call("document.open", {"id": two_docs["blob.bin"]}, ctx))
    assert seen.read_bytes() == b"\x00\x01binary" and Path(shown.path).name == "blob.bin"
    assert oct(Path(shown.path).parent.stat().st_mode & 0o777) == "0o700"
    assert shown.command == str(opener) and shown.message.startswith("opened blob with ")


def test_an_assistant_answer_shows_the_documents_it_opened(ctx, two_docs, monkeypatch, capfd):
    from types import SimpleNamespace

    from herotui.results import jsonable

    monkeypatch.setenv("PAGER", "cat")
    opened = jsonable(registry.call("document.open", {"id": two_docs["read-me.md"]}, ctx))
    answer = SimpleNamespace(steps=[SimpleNamespace(verb="document.open", status="ok", result=opened),
                                    SimpleNamespace(verb="document.open", status="error", result=None)])
    present._show_opened(answer)
    assert capfd.readouterr().out == "# Read me\n\nPaged text.\n"
    monkeypatch.setenv("PAGER", "no-such-pager-here")
    present._show_opened(answer)  # said, not raised: the answer stands
    assert "error: the pager 'no-such-pager-here' was not found" in capfd.readouterr().err
