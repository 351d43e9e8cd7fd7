"""Documents: real files in tmp_path, the real DuckDB, blobs and Tantivy index.

In-process CLI calls (``_main``) for speed; subprocesses where the process matters (stdin,
exit codes, memory, the progress bar on a terminal).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from support import Cli

from herotui import registry

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "contexts" / "demo"
DEMO_DOCS = DEMO / "documents"


# --- helpers ---------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], title: str | None = None, password: str | None = None,
             owner_only: bool = False) -> bytes:
    """A real PDF with a text layer (Helvetica, WinAnsi), made with pypdf.

    ``password``: encrypted (RC4-128, which pypdf does without a crypto library); with
    ``owner_only`` the user password is empty, so anyone may open it.
    """
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    font = w._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }))
    for lines in pages:
        page = w.add_blank_page(595, 842)
        ops = ["BT", "/F1 11 Tf", "15 TL", "60 780 Td"]
        for line in lines:
            ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("cp1252"))
        page[NameObject("/Contents")] = w._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    if title:
        w.add_metadata({"/Title": title})
    if password:
        w.encrypt(user_password="" if owner_only else password, owner_password=password + "-owner", algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


@pytest.fixture
def cli(capsys) -> Cli:
    return Cli(capsys)


def add(ctx, *paths, **kw):
    return registry.call("document.add", {"paths": [str(p) for p in paths], **kw}, ctx)


def rows(ctx) -> list[tuple]:
    with ctx.read() as conn:
        return conn.execute("SELECT id, title, kind, sha256, text, note FROM documents ORDER BY id").fetchall()


def blob_files(ctx) -> list[Path]:
    return sorted(p for p in ctx.blobs_path.rglob("*") if p.is_file())


def text_of(ctx, did: str) -> str | None:
    return registry.call("document.text", {"id": did}, ctx).text


# --- extraction, one kind at a time ----------------------------------------------------------


def test_markdown_title_from_first_heading_and_text(ctx, tmp_path):
    f = tmp_path / "notes-2026.md"
    f.write_text("Some intro line\n\n```\n# not a heading (code)\n```\n## Minor\n\n# Budget *plan* 2026\n\nWe plan for growth.\n")
    r = add(ctx, f, tags=["Finance, plans"])
    [d] = r.added
    assert (d.kind, d.title, d.mime, d.tags, d.filename) == ("markdown", "Budget plan 2026", "text/markdown", ["finance", "plans"], "notes-2026.md")
    assert d.source == str(f) and d.size == f.stat().st_size and d.note is None
    assert "We plan for growth." in text_of(ctx, d.id)
    fm = tmp_path / "fm.md"
    fm.write_text("---\ntitle: 'From front matter'\n---\n# Heading\n")
    assert add(ctx, fm).added[0].title == "From front matter"


def test_plain_text_title_is_the_file_name(ctx, tmp_path):
    f = tmp_path / "meeting notes.txt"
    f.write_text("# looks like a heading but this is plain text\nline two\n")
    [d] = add(ctx, f).added
    assert (d.kind, d.title) == ("text", "meeting notes")
    assert text_of(ctx, d.id).startswith("# looks like a heading")


def test_html_title_text_without_scripts(ctx, tmp_path):
    f = tmp_path / "page.html"
    f.write_text("<!doctype html><html><head><title>Release &amp; notes</title><style>p{color:red}</style>"
                 "<script>var secret = 'hidden';</script></head><body><h1>Version 2</h1>"
                 "<p>First paragraph.</p><ul><li>Item one</li><li>Item two</li></ul></body></html>")
    [d] = add(ctx, f).added
    assert (d.kind, d.title) == ("html", "Release & notes")
    text = text_of(ctx, d.id)
    assert "First paragraph." in text and "Item one\nItem two" in text and "Version 2" in text
    assert "secret" not in text and "color" not in text
    g = tmp_path / "no-title.htm"
    g.write_text("<html><body><h1>Only a <b>heading</b></h1><p>x</p></body></html>")
    assert add(ctx, g).added[0].title == "Only a heading"


def test_pdf_text_pages_and_metadata_title(ctx, tmp_path):
    f = tmp_path / "scan-0001.pdf"
    f.write_bytes(make_pdf([["Quarterly revenue grew strongly.", "Second line."], ["Costs fell on page two."]],
                           title="Q4 figures"))
    [d] = add(ctx, f).added
    assert (d.kind, d.title, d.pages, d.mime) == ("pdf", "Q4 figures", 2, "application/pdf")
    text = text_of(ctx, d.id)
    assert "Quarterly revenue grew strongly." in text and "Costs fell on page two." in text
    g = tmp_path / "untitled.pdf"
    g.write_bytes(make_pdf([["No metadata here."]]))
    assert add(ctx, g).added[0].title == "untitled"


def test_binary_and_unknown_types_are_stored_with_a_note(ctx, tmp_path):
    b = tmp_path / "firmware.bin"
    b.write_bytes(bytes(range(256)) * 40)
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(500))
    txt_but_binary = tmp_path / "fake.txt"
    txt_but_binary.write_bytes(b"abc\x00\x01\x02" * 100)
    r = add(ctx, b, png, txt_but_binary)
    assert not r.skipped
    by_name = {d.filename: d for d in r.added}
    assert by_name["firmware.bin"].kind == "other"
    assert by_name["firmware.bin"].note == "no text extracted (application/octet-stream)"
    assert by_name["photo.png"].note == "no text extracted (image/png)"
    assert by_name["fake.txt"].kind == "other"
    for d in r.added:
        assert text_of(ctx, d.id) is None
    # the bytes are kept: the blob is the file
    from herotui.store import blobs

    assert blobs.read(ctx, by_name["firmware.bin"].sha256) == b.read_bytes()
    code_out = registry.call("document.text", {"id": by_name["photo.png"].id}, ctx)
    assert code_out.note.startswith("no text extracted")


def test_non_utf8_text_is_decoded_and_noted(ctx, tmp_path):
    f = tmp_path / "menu.txt"
    f.write_bytes("Crème brûlée, café au lait et pâté: très délicieux à Noël.\n".encode("cp1252"))
    u16 = tmp_path / "wide.txt"
    u16.write_bytes("Grüße aus Köln\n".encode("utf-16"))
    r = add(ctx, f, u16)
    by_name = {d.filename: d for d in r.added}
    assert "Crème brûlée, café au lait et pâté" in text_of(ctx, by_name["menu.txt"].id)
    assert "not UTF-8" in by_name["menu.txt"].note
    assert text_of(ctx, by_name["wide.txt"].id) == "Grüße aus Köln\n"


# --- duplicates, folders, stdin --------------------------------------------------------------


def test_same_content_twice_is_reported_not_stored(ctx, tmp_path, cli):
    a = tmp_path / "a.md"
    a.write_text("# Same\n\ncontent\n")
    copy = tmp_path / "sub" / "copy-of-a.md"
    copy.parent.mkdir()
    copy.write_bytes(a.read_bytes())
    r = add(ctx, a, copy)
    assert len(r.added) == 1 and len(r.duplicates) == 1
    assert r.duplicates[0].path == str(copy)
    first = r.added[0].id
    again = add(ctx, a)
    assert again.added == [] and [(d.path, d.id) for d in again.duplicates] == [(str(a), first)]
    assert len(rows(ctx)) == 1 and len(blob_files(ctx)) == 1
    code, out, err = cli("document", "add", str(a))
    assert code == 0 and f"already stored: {a} is {first}" in out


def test_folders_are_walked_recursively_hidden_left_out(ctx, tmp_path):
    root = tmp_path / "docs"
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / ".hidden.md").write_text("# hidden\n")
    for i, sub in enumerate(["", "a", "a/b", "a/b/c"]):
        (root / sub / f"doc{i}.md").write_text(f"# Doc {i}\n\nlevel {i}\n")
    r = add(ctx, root)
    assert sorted(d.title for d in r.added) == ["Doc 0", "Doc 1", "Doc 2", "Doc 3"]
    assert r.hidden == 2 and not r.skipped
    r2 = add(ctx, root, hidden=True)
    assert sorted(d.filename for d in r2.added) == [".hidden.md", "config"]
    assert len(r2.duplicates) == 4


def test_stdin_through_the_cli(hero):
    r = hero("document", "add", "-", "--title", "Notes", "--tag", "inbox", "--json",
             input="Buy oat milk.\nCall the plumber about the boiler.\n")
    assert r.code == 0, r
    [doc] = r.json()["added"]
    assert (doc["title"], doc["kind"], doc["source"], doc["tags"], doc["filename"]) == ("Notes", "text", "-", ["inbox"], "Notes.txt")
    t = hero("document", "text", doc["id"])
    assert t.code == 0 and t.out == "Buy oat milk.\nCall the plumber about the boiler.\n"
    # Markdown is recognised on stdin, and its heading is the title
    r = hero("document", "add", "-", "--json", input="# Standup notes\n\n- ship the release\n")
    [doc] = r.json()["added"]
    assert (doc["title"], doc["kind"], doc["filename"]) == ("Standup notes", "markdown", "Standup notes.md")
    # the same text again is a duplicate
    again = hero("document", "add", "-", input="# Standup notes\n\n- ship the release\n")
    assert again.code == 0 and f"is {doc['id']}" in again.out
    empty = hero("document", "add", "-", input="")
    assert empty.code == 1 and "empty" in empty.err and "Traceback" not in empty.err


# --- bad input ---------------------------------------------------------------------------------


def test_encrypted_pdf_is_kept_with_a_note_owner_only_is_read(ctx, tmp_path):
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(make_pdf([["Top secret figures."]], password="s3cret"))
    owner = tmp_path / "owner-only.pdf"
    owner.write_bytes(make_pdf([["Readable without a password."]], password="s3cret", owner_only=True))
    r = add(ctx, locked, owner)
    assert not r.skipped
    by_name = {d.filename: d for d in r.added}
    assert by_name["locked.pdf"].note == "encrypted PDF: no text extracted (it needs a password)"
    assert text_of(ctx, by_name["locked.pdf"].id) is None
    assert "Readable without a password." in text_of(ctx, by_name["owner-only.pdf"].id)


def test_corrupt_pdf_is_skipped_and_nothing_of_it_is_stored(ctx, tmp_path, cli):
    good = tmp_path / "good.md"
    good.write_text("# Good\n")
    whole = make_pdf([["Hello."]])
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(whole[: len(whole) // 3])
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    not_pdf = tmp_path / "renamed.pdf"
    not_pdf.write_text("this is not a pdf at all")
    code, out, err = cli("document", "add", str(good), str(truncated), str(garbage), str(not_pdf))
    assert code == 0, err
    assert f"skipped: {truncated}: damaged PDF" in out
    assert f"skipped: {garbage}: damaged PDF" in out
    assert f"skipped: {not_pdf}: not a PDF" in out
    assert [r[1] for r in rows(ctx)] == ["Good"]
    assert len(blob_files(ctx)) == 1  # no blob of a skipped file
    code, out, err = cli("document", "add", str(garbage))
    assert code == 1 and err.startswith("error: nothing added: ") and "damaged PDF" in err


def test_size_limit_env_and_option(ctx, tmp_path, monkeypatch):
    small = tmp_path / "small.txt"
    small.write_text("tiny\n")
    big = tmp_path / "big.txt"
    big.write_text("x" * 300_000 + "\n")
    monkeypatch.setenv("HERO_MAX_DOCUMENT_MB", "0.1")
    r = add(ctx, small, big)
    assert [d.filename for d in r.added] == ["small.txt"]
    [s] = r.skipped
    assert s.path == str(big) and s.reason.startswith("too large: 0.3 MB is over the 0.1 MB limit")
    assert "--max-mb" in s.reason and "HERO_MAX_DOCUMENT_MB" in s.reason
    assert len(blob_files(ctx)) == 1
    r = add(ctx, big, max_mb=1)  # the option wins over the variable
    assert [d.filename for d in r.added] == ["big.txt"]
    monkeypatch.setenv("HERO_MAX_DOCUMENT_MB", "lots")
    from herotui.errors import InvalidInput

    with pytest.raises(InvalidInput, match="HERO_MAX_DOCUMENT_MB"):
        add(ctx, small)


def test_default_limit_is_50_mb(monkeypatch):
    from herotui.services.document import max_bytes

    monkeypatch.delenv("HERO_MAX_DOCUMENT_MB", raising=False)
    assert max_bytes(None) == 50 * 1024 * 1024


def test_missing_paths(ctx, tmp_path, cli):
    ok = tmp_path / "ok.md"
    ok.write_text("# OK\n")
    code, out, err = cli("document", "add", str(tmp_path / "nope.md"), str(ok))
    assert code == 0 and f"skipped: {tmp_path / 'nope.md'}: no such file or folder" in out
    code, out, err = cli("document", "add", str(tmp_path / "nope.md"))
    assert code == 3 and err.startswith("error: nothing added: ") and "no such file or folder" in err  # missing: 3
    assert len(rows(ctx)) == 1


def test_symlink_loops_are_reported_and_do_not_hang(ctx, tmp_path):
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "real.md").write_text("# Real\n")
    (root / "sub" / "up").symlink_to(root)  # a folder loop
    (root / "self").symlink_to(root / "self")  # a link to itself
    (root / "dangling").symlink_to(root / "gone")
    r = add(ctx, root)
    assert [d.title for d in r.added] == ["Real"]
    reasons = {Path(s.path).name: s.reason for s in r.skipped}
    assert reasons["self"].startswith("symlink loop")
    assert reasons["up"].startswith("symlink loop")
    assert reasons["dangling"].startswith("broken symlink")


STRESS = os.environ.get("HERO_STRESS") == "1"  # benchmarks/bench_stress.py: the 10k-file run


def test_many_files_in_batches_bounded_memory(tmp_path, hero_home):
    """Many files in one add: all stored, in batches of 500 (one revision each), with the peak
    memory bounded. The suite adds 1,200 files (three batches); ``HERO_STRESS=1``
    (benchmarks/bench_stress.py) adds 10,000, where holding everything would show."""
    folders, per_folder = (10, 1000) if STRESS else (2, 600)
    count = folders * per_folder
    root = tmp_path / "many"
    body = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 140)  # ~8 KB each
    for d in range(folders):
        folder = root / f"folder{d:02d}"
        folder.mkdir(parents=True)
        for i in range(per_folder):
            (folder / f"note{i:04d}.txt").write_text(f"Note {d}-{i} unique{d}x{i}\n{body}")
    script = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(p.stderr)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stdout.write(p.stdout)\n"
    )
    from support import hero_exe

    env = dict(os.environ, HERO_HOME=str(hero_home))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script, hero_exe(), "document", "add", str(root), "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    first, _, out = proc.stdout.partition("\n")
    code, max_rss_kb = map(int, first.split())
    assert code == 0, proc.stderr
    report = json.loads(out)
    assert len(report["added"]) == count and not report["skipped"] and not report["duplicates"]
    # 10k files: ~80 MB of text went through (measured peak: about 350 MB, of which DuckDB's
    # checkpoint and Tantivy take what grows with the stores); holding it all and writing it in
    # one go would pass 600 MB
    assert max_rss_kb < 480_000, f"peak RSS {max_rss_kb / 1024:.0f} MB"
    print(f"FIGURE {count} files added in {time.monotonic() - started:.1f} s, peak RSS {max_rss_kb / 1024:.0f} MB")
    from herotui import contexts

    ctx = contexts.current()
    with ctx.read() as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT revision) FROM documents").fetchone() == (count, -(-count // 500))
    from herotui.store import index

    hits = index.search(ctx, "unique1x123", kinds=["document"])
    assert hits and hits[0].title == "note0123"


def test_progress_bar_on_a_terminal_only(tmp_path, hero_home):
    import pty

    root = tmp_path / "few"
    root.mkdir()
    for i in range(30):
        (root / f"n{i}.md").write_text(f"# N {i}\n")
    from support import hero_exe

    env = dict(os.environ, HERO_HOME=str(hero_home), COLUMNS="100")
    master, slave = pty.openpty()
    proc = subprocess.run([hero_exe(), "document", "add", str(root)], stdout=subprocess.PIPE, stderr=slave,
                          env=env, timeout=60)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.returncode == 0
    assert b"adding documents" in b"".join(chunks)
    assert b"added 30 documents" in proc.stdout
    # not a terminal: no bar
    p2 = subprocess.run([hero_exe(), "document", "add", str(root), "--hidden"], capture_output=True, env=env, timeout=60)
    assert b"adding documents" not in p2.stderr


# --- delete, export, open --------------------------------------------------------------------


def test_delete_removes_the_blob_only_when_unused_and_the_index_always(ctx, tmp_path, cli):
    from herotui.store import blobs, index

    f = tmp_path / "shared.md"
    f.write_text("# Shared deck and document\n\nzanzibar quokka\n\n---\n\n# Slide two\n")
    [doc] = add(ctx, f).added
    deck = registry.call("slides.create", {"path": str(f)}, ctx)  # a deck with the same bytes
    blob = blobs.path_for(ctx, doc.sha256)
    assert blob.exists()
    with ctx.read():
        assert [h.id for h in index.search(ctx, "quokka", kinds=["document"])] == [doc.id]
    code, out, err = cli("document", "delete", doc.id)  # no terminal: needs --yes
    assert code == 1 and "--yes" in err
    d = registry.call("document.delete", {"id": doc.id}, ctx, confirmed=True)
    assert (d.id, d.blob_removed) == (doc.id, False)
    assert blob.exists()  # the deck still uses it
    with ctx.read():
        assert index.search(ctx, "quokka", kinds=["document"]) == []
    [other] = add(ctx, tmp_path / "shared.md").added  # not a duplicate any more
    code, out, err = cli("document", "delete", other.id, "--yes", "--json")
    assert code == 0 and json.loads(out)["blob_removed"] is False
    deck_id = getattr(deck, "id", None) or deck.deck.id
    registry.call("slides.delete", {"id": deck_id}, ctx, confirmed=True)
    assert not blob.exists()
    g = tmp_path / "alone.md"
    g.write_text("# Alone\n")
    [alone] = add(ctx, g).added
    assert registry.call("document.delete", {"id": alone.id}, ctx, confirmed=True).blob_removed is True
    assert not blobs.path_for(ctx, alone.sha256).exists()
    assert not [p for p in ctx.blobs_path.rglob("*.deleted")]


def test_export_writes_the_original_inside_the_folder_only(ctx, tmp_path, hero):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf([["Exported text."]]))
    [doc] = add(ctx, pdf).added
    out = tmp_path / "out"
    e = registry.call("document.export", {"id": doc.id, "output": str(out)}, ctx)
    assert Path(e.path) == out / "report.pdf" and Path(e.path).read_bytes() == pdf.read_bytes()
    e2 = registry.call("document.export", {"id": doc.id, "output": str(out)}, ctx)
    assert Path(e2.path) == out / "report-1.pdf"  # never overwrites
    # names from documents are sanitised: stdin titles and stored file names
    r = hero("document", "add", "-", "--title", "../../etc/passwd", "--json", input="root:x:0:0\n")
    evil = r.json()["added"][0]
    for name in ["../../evil.txt", "a/b:c", "..", "/abs/path.md", "con.txt", "x\x00y\n.txt"]:
        with ctx.write() as tx:
            tx.execute("UPDATE documents SET filename = ?, revision = ? WHERE id = ?", [name, tx.revision, doc.id])
        e = registry.call("document.export", {"id": doc.id, "output": str(out)}, ctx)
        p = Path(e.path)
        assert p.parent == out and p.resolve().parent == out.resolve(), (name, p)
        assert "/" not in p.name and not p.name.startswith(".")
    ex = hero("document", "export", evil["id"], "-o", str(out), "--json")
    assert ex.code == 0, ex
    p = Path(ex.json()["path"])
    assert p.parent == out and p.name == "etc_passwd.txt" and p.read_text() == "root:x:0:0\n"
    assert not (tmp_path / "etc").exists() and not Path("/etc/passwd.txt").exists()
    assert sorted(q.name for q in out.iterdir() if q.name.startswith(".")) == []  # no temp files left


def test_open_text_in_the_pager_other_kinds_with_the_opener(ctx, tmp_path, hero):
    md = tmp_path / "read-me.md"
    md.write_text("# Read me\n\nPaged text.\n")
    pdf = tmp_path / "view.pdf"
    pdf.write_bytes(make_pdf([["Viewed."]]))
    r = add(ctx, md, pdf)
    ids = {d.filename: d.id for d in r.added}
    o = hero("document", "open", ids["read-me.md"], env={"PAGER": "cat"})
    assert o.code == 0 and o.out == "# Read me\n\nPaged text.\n"
    # no opener (no graphical session, no xdg-open): a clear message and a hint
    env = {"PATH": "/nonexistent", "DISPLAY": "", "WAYLAND_DISPLAY": "", "HERO_OPENER": ""}
    o = hero("document", "open", ids["view.pdf"], env=env)
    assert o.code == 1 and o.err.startswith("error: cannot open 'view' (pdf) here")
    assert f"hero document export {ids['view.pdf']}" in o.err and "HERO_OPENER" in o.err
    # a configured opener gets a copy of the file
    seen = tmp_path / "opened-with"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\ncp "$1" "{seen}"\n')
    opener.chmod(0o755)
    o = hero("document", "open", ids["view.pdf"], "--json", env={"HERO_OPENER": str(opener)})
    assert o.code == 0, o
    assert o.json()["how"] == "opener" and seen.read_bytes() == pdf.read_bytes()
    o = hero("document", "open", ids["read-me.md"], env={"PAGER": "no-such-pager-here"})
    assert o.code == 1 and "PAGER" in o.err


# --- metadata, links, search, summaries -------------------------------------------------------


def test_update_tag_untag_show(ctx, tmp_path, cli):
    f = tmp_path / "plan.md"
    f.write_text("# Plan\n")
    [d] = add(ctx, f, tags=["draft"]).added
    u = cli.json("document", "update", d.id[:10], "--title", "  Final   plan ", "--tag", "q1,finance")
    assert (u["title"], u["tags"]) == ("Final plan", ["q1", "finance"])
    assert cli.json("document", "tag", d.id, "vip", "q1")["tags"] == ["q1", "finance", "vip"]
    assert cli.json("document", "untag", d.id, "q1")["tags"] == ["finance", "vip"]
    code, out, err = cli("document", "update", d.id)
    assert code == 1 and "nothing to update" in err
    code, out, err = cli("document", "show", "ZZZZZZ")
    assert code == 3 and "no document" in err
    s = cli.json("document", "show", d.id)
    assert s["title"] == "Final plan" and s["chars"] == len("# Plan\n")
    assert [x["id"] for x in cli.json("document", "list", "--tag", "vip")] == [d.id]
    assert cli.json("document", "list", "--kind", "pdf") == []
    code, out, err = cli("document", "list", "--kind", "spreadsheet")
    assert code == 1 and "unknown kind" in err


def test_link_to_contacts_and_events_and_list_by_them(ctx, tmp_path, cli):
    alex = registry.call("contact.create", {"name": "Alex Smith", "emails": ["alex.smith@northwind.example"]}, ctx)
    registry.call("contact.create", {"name": "Alexandra Jones"}, ctx)
    lena = registry.call("contact.create", {"name": "Lena Fischer"}, ctx)
    ev = registry.call("calendar.add", {"title": "Quarterly report review", "start": "tomorrow 10:00"}, ctx)
    a, b = tmp_path / "q4.md", tmp_path / "other.md"
    a.write_text("# Q4 report\n")
    b.write_text("# Other\n")
    r = add(ctx, a, b)
    q4, other = (d.id for d in r.added)
    linked = cli.json("document", "link", q4, "--contact", "alex", "--event", "quarterly report review")
    assert linked["contacts"] == [alex.id] and linked["events"] == [ev.id]
    assert linked["linked_contacts"] == [f"Alex Smith <alex.smith@northwind.example> ({alex.id})"]
    assert "Quarterly report review" in linked["linked_events"][0]
    cli.json("document", "link", other, "--contact", lena.id[:12])
    assert [d["id"] for d in cli.json("document", "list", "--contact", "alex")] == [q4]
    assert [d["id"] for d in cli.json("document", "list", "--contact", "alex.smith@northwind.example")] == [q4]
    assert [d["id"] for d in cli.json("document", "list", "--contact", "Lena")] == [other]
    assert [d["id"] for d in cli.json("document", "list", "--event", ev.id[:10])] == [q4]
    code, out, err = cli("document", "list", "--contact", "nobody")
    assert code == 3 and "no contact matches 'nobody'" in err
    code, out, err = cli("document", "link", q4, "--contact", "Mr Nobody")
    assert code == 3
    code, out, err = cli("document", "link", q4, "--event", "01ZZZZZZZZZZ")
    assert code == 3
    cli.json("document", "unlink", q4, "--contact", "alex")
    assert cli.json("document", "list", "--contact", "alex") == []
    # links given at add time, by email and event UID
    with ctx.read() as conn:
        uid = conn.execute("SELECT uid FROM events WHERE id = ?", [ev.id]).fetchone()[0]
    c = tmp_path / "c.md"
    c.write_text("# Linked at add\n")
    [d] = add(ctx, c, contacts=["alex.smith@northwind.example"], events=[uid]).added
    assert (d.contacts, d.events) == ([alex.id], [ev.id])


def test_summarize_is_extractive_and_labelled(ctx, tmp_path, cli):
    f = DEMO_DOCS / "quarterly-report-q4.md"
    [d] = add(ctx, f).added
    s = cli.json("document", "summarize", d.id)
    assert s["method"] == "extractive" and len(s["sentences"]) == 5 and s["parts"] == []
    original = " ".join(f.read_text().split())
    for sentence in s["sentences"]:
        assert sentence in original  # extractive: the document's own sentences
    assert "extractive" in s["text"].splitlines()[0]
    code, out, err = cli("document", "summarize", d.id, "-n", "2")
    assert code == 0 and out.startswith("Summary of \u201cNorthwind Traders") and out.count("\n- ") == 2
    code, out, err = cli("document", "summarize", d.id, "--method", "model")
    assert code == 1 and "no model is configured" in err


def test_long_documents_are_summarised_by_parts(ctx, tmp_path):
    sections = []
    topics = ["revenue", "logistics", "hiring", "marketing", "security", "pricing"]
    for t in topics:
        para = " ".join(f"The {t} team reviewed item {i} of the {t} plan and agreed the {t} next steps for week {i}."
                        for i in range(40))
        sections.append(f"## {t.title()}\n\n{para}\n")
    f = tmp_path / "long.md"
    f.write_text("# Annual review\n\n" + "\n".join(sections))
    assert len(f.read_text()) > 20_000
    [d] = add(ctx, f).added
    s = registry.call("document.summarize", {"id": d.id, "sentences": 6}, ctx)
    assert s.method == "extractive" and len(s.parts) >= 3
    covered = {t for t in topics if any(t in p.title.lower() for p in s.parts)}
    assert covered == set(topics)  # every section was read
    assert "By part:" in s.text


def test_summarize_without_text_is_a_clear_error(ctx, tmp_path, cli):
    b = tmp_path / "x.bin"
    b.write_bytes(b"\x00\x01" * 50)
    [d] = add(ctx, b).added
    code, out, err = cli("document", "summarize", d.id)
    assert code == 1 and "has no text to summarise" in err


def test_top_level_search_finds_document_text(ctx, tmp_path, hero):
    f = tmp_path / "minutes.pdf"
    f.write_bytes(make_pdf([["The committee approved the xylophone budget."]], title="Committee minutes"))
    [d] = add(ctx, f).added
    r = hero("search", "xylophone", "--json")
    assert r.code == 0, r
    hits = r.json()
    assert hits and hits[0]["id"] == d.id and hits[0]["kind"] == "document" and "xylophone" in hits[0]["snippet"]
    assert [x.id for x in registry.call("document.search", {"query": "xylofone"}, ctx)] == [d.id]


# --- demo ------------------------------------------------------------------------------------


def test_demo_documents_and_manifest(ctx):
    manifest = tomllib.loads((DEMO_DOCS / "manifest.toml").read_text())
    entries = manifest["document"]
    files = {e["file"] for e in entries}
    assert "quarterly-report-q4.md" in files
    assert files == {p.name for p in DEMO_DOCS.iterdir() if p.name != "manifest.toml"}
    for e in entries:
        assert e["context"] in ("business", "personal")
        ics = (DEMO / f"{e['context']}.ics").read_text()
        vcf = (DEMO / f"{e['context']}.vcf").read_text().lower()
        for uid in e.get("events", []):
            assert f"UID:{uid}" in ics
        for email in e.get("contacts", []):
            assert email.lower() in vcf
    qr = next(e for e in entries if e["file"] == "quarterly-report-q4.md")
    assert "demo-biz-006@hero" in qr["events"] and "alex.smith@northwind.example" in qr["contacts"]
    assert len((DEMO_DOCS / "quarterly-report-q4.md").read_text().split()) > 1200
    r = add(ctx, *(DEMO_DOCS / e["file"] for e in entries))
    assert not r.skipped and len(r.added) == len(entries)
    pdf = next(d for d in r.added if d.kind == "pdf")
    assert pdf.pages and "Northwind" in text_of(ctx, pdf.id)
