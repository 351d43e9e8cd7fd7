"""Truthful outcomes: a write that committed is reported as done even when the search index
could not follow (full disk, read-only or unwritable index), so nobody retries it into a
duplicate; reads keep working; the index catches up later. And small boundary cases."""

from __future__ import annotations

import errno

from herotui import registry


def test_a_committed_write_whose_index_update_fails_is_done_with_a_notice(ctx, monkeypatch):
    from herotui.store import db, index

    real_sync = index.sync

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index, "sync", full_disk)
    made = registry.call("contact.create", {"name": "Ada Lovelace"}, ctx, actor="test")
    assert made.name == "Ada Lovelace"  # not an error: the row is in the database
    notices = db.take_notices()
    assert len(notices) == 1 and "No space left on device" in notices[0] and "saved" in notices[0]
    assert db.take_notices() == []
    # reads keep working while the index cannot be written
    assert [c.name for c in registry.call("contact.list", {}, ctx, actor="test")] == ["Ada Lovelace"]
    monkeypatch.setattr(index, "sync", real_sync)
    # the next write (or open) brings the index up to date: the contact is found by search
    registry.call("contact.create", {"name": "Grace Hopper"}, ctx, actor="test")
    hits = registry.call("contact.search", {"query": "lovelace"}, ctx, actor="test")
    assert [h.name for h in hits] == ["Ada Lovelace"]


def test_cli_says_done_with_a_warning_not_failed(hero_home):
    """The real CLI entry point in its own process, with the index unable to write (as a
    full disk makes it): exit 0, one warning line, the contact stored once."""
    import json
    import subprocess
    import sys

    script = (
        "import errno, sys\n"
        "from herotui.store import index\n"
        "def full(*a, **k):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "index.sync = full\n"
        "from herotui.frontends.cli import main\n"
        "sys.argv = ['hero', 'contact', 'create', '--name', 'Ada Lovelace']\n"
        "main()\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == [
        "warning: saved, but the search index could not be updated (No space left on device); "
        "it catches up on a later command"]
    listed = subprocess.run([sys.executable, "-m", "herotui", "contact", "list", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert [c["name"] for c in json.loads(listed.stdout)] == ["Ada Lovelace"]


def test_context_create_works_when_hero_context_names_it(hero):
    r = hero("context", "create", "projectx", env={"HERO_CONTEXT": "projectx"})
    assert r.code == 0, r.err
    r = hero("contact", "list", env={"HERO_CONTEXT": "projectx"})
    assert r.code == 0
    r = hero("context", "show", env={"HERO_CONTEXT": "nosuch"})
    assert r.code == 3 and "unknown context 'nosuch'" in r.err


def test_import_workers_die_with_a_killed_parent():
    """A SIGKILLed import leaves no parsing worker behind (they used to block forever)."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import os, sys, time\n"
        "from herotui.services.common import parse_pool\n"
        "pool = parse_pool(2)\n"
        "futs = [pool.submit(os.getpid) for _ in range(8)]\n"
        "print(' '.join(str(p) for p in sorted({f.result() for f in futs})), flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert workers and proc.pid not in workers
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in workers if _alive(p)]
    assert alive == [], f"workers left behind: {alive}"


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for init to reap it is gone for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_mcp_hints_are_truthful_and_an_overwrite_needs_a_confirmation(ctx, tmp_path):
    from herotui.frontends import mcp

    tools = {t.name: t.annotations for t in mcp.build_tools()}
    # read-only means writes nothing: an export writes a file
    assert tools["contact_list"].read_only_hint is True
    assert tools["contact_export"].read_only_hint is False and tools["contact_export"].destructive_hint is True
    # every write that is not purely additive is destructive
    for name in ("contact_update", "contact_untag", "contact_import", "context_rename", "index_rebuild",
                 "calendar_update", "document_unlink"):
        assert tools[name].destructive_hint is True, name
    for name in ("contact_create", "contact_tag", "calendar_add", "document_link"):
        assert tools[name].destructive_hint is False, name
    out = tmp_path / "cards.vcf"
    out.write_text("precious\n")
    registry.call("contact.create", {"name": "Ada"}, ctx, actor="test")
    ok, payload = mcp.run_tool("contact_export", {"output": str(out), "force": True})
    assert not ok and out.read_text() == "precious\n"
    ok, payload = mcp.run_tool("contact_export", {"output": str(out), "force": True, "confirm": True})
    assert ok and "BEGIN:VCARD" in out.read_text()


def test_a_server_started_for_one_context_serves_only_it(hero, hero_home):
    """`hero rpc serve --stdio --context business` (a real process): calls in business work;
    another context, every context, another's history, managing contexts: refused."""
    import json
    import subprocess

    from support import hero_exe

    assert hero("context", "create", "business").code == 0
    assert hero("--context", "personal", "contact", "create", "--name", "Private Person",
                "--notes", "secret").code == 0
    calls = [
        ("contact.create", {"name": "Work Person"}),
        ("contact.list", {"context": "personal"}),
        ("search.query", {"query": "person", "all_contexts": True}),
        ("history.list", {"in_context": "personal"}),
        ("history.list", {}),
        ("context.use", {"name": "personal"}),
        ("contact.list", {}),
    ]
    lines = "".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}) + "\n"
                    for i, (m, p) in enumerate(calls))
    proc = subprocess.run([hero_exe(), "rpc", "serve", "--stdio", "--context", "business"], input=lines,
                          capture_output=True, text=True, timeout=60)
    out = {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert out[0]["result"]["name"] == "Work Person"
    for i in (1, 2, 3, 5):
        assert out[i]["error"]["code"] == -32602 and "'business'" in out[i]["error"]["message"], out[i]
        assert "--context business" in out[i]["error"]["data"]["hint"]
    assert all(h["context"] == "business" for h in out[4]["result"]) and out[4]["result"]
    assert [c["name"] for c in out[6]["result"]] == ["Work Person"]
    assert "secret" not in proc.stdout


def test_mcp_confined_to_one_context(hero, hero_home):
    from herotui.frontends import mcp

    assert hero("context", "create", "business").code == 0
    ok, payload = mcp.run_tool("contact_list", {"context": "personal"}, default_context="business")
    assert not ok and "serves only the context 'business'" in str(payload)
    ok, payload = mcp.run_tool("search_query", {"query": "x", "all_contexts": True}, default_context="business")
    assert not ok and "all_contexts" in str(payload)
    ok, payload = mcp.run_tool("contact_list", {}, default_context="business")
    assert ok


def test_the_audit_log_keeps_personal_values_out(hero, hero_home):
    import json

    from herotui import paths

    r = hero("contact", "create", "--name", "Ada Lovelace", "--email", "ada@example.org",
             "--notes", "allergic to penicillin")
    assert r.code == 0
    lines = (paths.state_dir() / "audit.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["verb"] == "contact.create" and record["args"]["name"] == "Ada Lovelace"
    assert "penicillin" not in lines[-1] and "ada@example.org" not in lines[-1]
    assert record["args"]["notes"] == "<redacted: 22 characters>"


def test_files_written_later_are_owner_only_whatever_the_umask(hero_home, tmp_path):
    import os
    import stat
    import subprocess

    from support import hero_exe

    def run(*args):
        return subprocess.run([hero_exe(), *args], capture_output=True, text=True, timeout=60,
                              preexec_fn=lambda: os.umask(0))

    doc = tmp_path / "note.md"
    doc.write_text("# Note\n\nhello\n")
    assert run("context", "create", "work").returncode == 0
    assert run("context", "use", "work").returncode == 0
    assert run("context", "rename", "work", "job").returncode == 0  # rewrites the profile
    assert run("document", "add", str(doc)).returncode == 0
    assert run("ask", "what's on today").returncode == 0  # a conversation is kept
    loose = [str(p) for p in hero_home.rglob("*")
             if p.is_file() and not p.is_symlink() and stat.S_IMODE(p.stat().st_mode) & 0o077
             and "index" not in p.parts]  # Tantivy writes its own files, in a 0700 folder
    assert loose == []
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in hero_home.rglob("*") if p.is_dir())


def test_a_fifo_in_a_knowledge_folder_is_skipped_not_waited_on(hero, tmp_path):
    import os

    book = tmp_path / "book"
    book.mkdir()
    (book / "page.md").write_text("# Page\n\nText.\n")
    os.mkfifo(book / "trap.md")
    r = hero("knowledge", "add", str(book), "--book", "notes", "--json", timeout=30)
    assert r.code == 0, r.err
    report = r.json()
    assert report["added"] == 1 and "pipe" in report["skipped"][0]["message"]
