"""Hostile files (issue 13, item 2): what imports read and where exports write.

Imports (``contact.import``, ``calendar.import``, ``slides.create``, ``document.add``) take
regular files only, with a size limit: a FIFO is refused at once (it would block forever),
``/dev/urandom`` is refused (it would grow the process without bound), a folder and a file
over the limit are refused, each with a one-line error. Exports (``contact.export``,
``calendar.export``, ``document.export``) never overwrite without ``force``, never follow a
planted ``<output>.tmp`` link, and never write onto a link, a pipe or a device.

Everything that could hang on a regression runs in a subprocess or a thread with a timeout.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from herotui import registry
from herotui.errors import InvalidInput
from herotui.services import common

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "contexts" / "demo"

CARD = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Lena Fischer\r\nEMAIL:lena@lumen.example\r\nEND:VCARD\r\n"
EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:one@test\r\n"
         "DTSTAMP:20250101T000000Z\r\nDTSTART:20250301T090000Z\r\nDTEND:20250301T100000Z\r\n"
         "SUMMARY:Review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

IMPORTS = [  # (CLI words before the path, verb, parameter)
    (("contact", "import"), "contact.import", "path"),
    (("calendar", "import"), "calendar.import", "path"),
    (("slides", "create"), "slides.create", "path"),
]


def in_thread(fn, timeout: float = 20):
    """``fn()``'s result or exception; fails (instead of hanging the suite) after ``timeout``."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"still running after {timeout} s (blocked on a pipe or reading without end?)"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def short_error(r) -> None:
    """A CLI refusal: exit code != 0, one or two lines on stderr, no traceback."""
    assert r.code != 0, r
    lines = r.err.strip().splitlines()
    assert 1 <= len(lines) <= 2, r
    assert lines[0].startswith("error: "), r
    assert "Traceback" not in r.err and "internal error" not in r.err, r


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.vcf"
    os.mkfifo(path)
    return path


# --- imports: regular files only ---------------------------------------------------------


@pytest.mark.parametrize("words, verb, param", IMPORTS)
def test_a_fifo_is_refused_at_once(hero, fifo, words, verb, param):
    r = hero(*words, str(fifo), timeout=30)  # a regression blocks: TimeoutExpired, not a hung suite
    short_error(r)
    assert "pipe" in r.err and "not a regular file" in r.err, r


def test_a_fifo_is_refused_in_process_too(ctx, fifo):
    for _words, verb, param in IMPORTS:
        with pytest.raises(InvalidInput, match="pipe"):
            in_thread(lambda verb=verb, param=param: registry.call(verb, {param: str(fifo)}, ctx))


def test_document_add_skips_a_fifo_without_blocking(hero, ctx, fifo, tmp_path):
    r = hero("document", "add", str(fifo), timeout=30)
    short_error(r)
    assert "nothing added" in r.err and "not a regular file" in r.err, r
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.md").write_text("# Note\n\nA real note.\n")
    os.mkfifo(folder / "trap.md")
    report = in_thread(lambda: registry.call("document.add", {"paths": [str(folder)]}, ctx))
    assert [d.title for d in report.added] == ["Note"]
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [("trap.md", "not a regular file (a device, socket or pipe)")]


def test_a_fifo_swapped_in_after_the_walk_does_not_block(tmp_path):
    from herotui.services import document

    pipe = tmp_path / "late.md"
    os.mkfifo(pipe)
    with pytest.raises(OSError) as info:
        in_thread(lambda: document.open_regular(str(pipe)))
    assert document.os_reason(info.value) == "not a regular file (a device, socket or pipe)"
    with pytest.raises(OSError):
        in_thread(lambda: document.hash_file(str(pipe), 1000))


@pytest.mark.skipif(not os.path.exists("/dev/urandom"), reason="no /dev/urandom")
@pytest.mark.parametrize("words, verb, param", IMPORTS)
def test_dev_urandom_is_refused(hero, words, verb, param):
    r = hero(*words, "/dev/urandom", timeout=30)
    short_error(r)
    assert "device" in r.err, r


@pytest.mark.skipif(not os.path.exists("/dev/urandom"), reason="no /dev/urandom")
def test_dev_urandom_is_refused_in_process(ctx):
    for _words, verb, param in IMPORTS:
        with pytest.raises(InvalidInput, match="is a device, not a regular file"):
            in_thread(lambda verb=verb, param=param: registry.call(verb, {param: "/dev/urandom"}, ctx))
    report_error = None
    try:
        in_thread(lambda: registry.call("document.add", {"paths": ["/dev/urandom"]}, ctx))
    except InvalidInput as exc:
        report_error = exc.message
    assert report_error and "not a regular file" in report_error


@pytest.mark.parametrize("words, verb, param", IMPORTS)
def test_a_folder_is_refused(hero, tmp_path, words, verb, param):
    r = hero(*words, str(tmp_path), timeout=30)
    short_error(r)
    assert "is a folder" in r.err, r


def test_too_big_files_are_refused_before_reading(ctx, tmp_path):
    big = tmp_path / "big.vcf"
    with open(big, "wb") as fh:  # sparse: 60 MB on paper, nothing on disk
        fh.write(CARD.encode())
        fh.truncate(60_000_000)
    for verb in ("contact.import", "calendar.import"):
        with pytest.raises(InvalidInput, match=r"too large \(60\.0 MB, the limit is 50\.0 MB\)") as info:
            in_thread(lambda verb=verb: registry.call(verb, {"path": str(big)}, ctx))
        assert "HERO_MAX_IMPORT_MB" in info.value.hint
    deck = tmp_path / "big.md"
    with open(deck, "wb") as fh:
        fh.write(b"# Title\n")
        fh.truncate(10_000_001)
    with pytest.raises(InvalidInput, match="too large") as info:
        in_thread(lambda: registry.call("slides.create", {"path": str(deck)}, ctx))
    assert "10 MB" in info.value.hint


def test_the_import_limit_can_be_changed(ctx, tmp_path, monkeypatch, hero):
    vcf = tmp_path / "cards.vcf"
    vcf.write_text(CARD * 40)  # ~2.7 KB
    monkeypatch.setenv("HERO_MAX_IMPORT_MB", "0.001")
    with pytest.raises(InvalidInput, match="the limit is 0.0 MB"):
        registry.call("contact.import", {"path": str(vcf)}, ctx)
    r = hero("contact", "import", str(vcf), env={"HERO_MAX_IMPORT_MB": "0.001"})
    short_error(r)
    monkeypatch.setenv("HERO_MAX_IMPORT_MB", "lots")
    with pytest.raises(InvalidInput, match="not a number"):
        registry.call("contact.import", {"path": str(vcf)}, ctx)
    monkeypatch.setenv("HERO_MAX_IMPORT_MB", "1")
    assert registry.call("contact.import", {"path": str(vcf)}, ctx).imported == 40


def test_bad_path_names_are_one_line_errors(ctx, tmp_path):
    for bad in ["", "   ", "a\x00b.vcf", "x" * 5000]:
        with pytest.raises(InvalidInput) as info:
            registry.call("contact.import", {"path": bad}, ctx)
        assert "\n" not in info.value.message and len(info.value.message) < 300


def test_a_regular_file_still_imports(ctx, tmp_path):
    vcf = tmp_path / "one.vcf"
    vcf.write_text(CARD)
    assert registry.call("contact.import", {"path": str(vcf)}, ctx).imported == 1
    ics = tmp_path / "one.ics"
    ics.write_text(EVENT)
    assert registry.call("calendar.import", {"path": str(ics)}, ctx).imported == 1


def test_read_regular_file_refuses_a_file_growing_past_the_limit(tmp_path):
    f = tmp_path / "f.txt"
    f.write_bytes(b"x" * 100)
    assert common.read_regular_file(str(f), 100)[1] == b"x" * 100
    with pytest.raises(InvalidInput, match="too large"):
        common.read_regular_file(str(f), 99)


# --- exports: never overwrite by surprise, never through a link ---------------------------


@pytest.fixture
def filled(ctx, tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(CARD)
    registry.call("contact.import", {"path": str(vcf)}, ctx)
    ics = tmp_path / "in.ics"
    ics.write_text(EVENT)
    registry.call("calendar.import", {"path": str(ics)}, ctx)
    return ctx


EXPORTS = [("contact.export", "contact", "BEGIN:VCARD"), ("calendar.export", "calendar", "BEGIN:VEVENT")]


@pytest.mark.parametrize("verb, _service, marker", EXPORTS)
def test_an_existing_file_is_not_overwritten_without_force(filled, tmp_path, verb, _service, marker):
    out = tmp_path / "out.txt"
    out.write_text("precious\n")
    out.chmod(0o640)
    with pytest.raises(InvalidInput, match="already exists: not overwritten") as info:
        registry.call(verb, {"output": str(out)}, filled)
    assert "--force" in info.value.hint
    assert out.read_text() == "precious\n"
    r = registry.call(verb, {"output": str(out), "force": True}, filled)
    assert r.path == str(out) and r.count == 1 and marker in out.read_text()
    assert (out.stat().st_mode & 0o777) == 0o640  # the replaced file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hero-home", "in.ics", "in.vcf", "out.txt"]  # no temp file left


@pytest.mark.parametrize("verb, _service, marker", EXPORTS)
def test_a_new_file_is_written_without_force(filled, tmp_path, verb, _service, marker):
    out = tmp_path / "new.txt"
    r = registry.call(verb, {"output": str(out)}, filled)
    assert r.path == str(out) and marker in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hero-home", "in.ics", "in.vcf", "new.txt"]


@pytest.mark.parametrize("verb, _service, marker", EXPORTS)
def test_a_planted_tmp_link_is_not_followed(filled, tmp_path, verb, _service, marker):
    victim = tmp_path / "victim.rc"
    victim.write_text("keep me\n")
    out = tmp_path / "out.txt"
    (tmp_path / "out.txt.tmp").symlink_to(victim)
    registry.call(verb, {"output": str(out)}, filled)
    assert victim.read_text() == "keep me\n" and marker in out.read_text()
    assert (tmp_path / "out.txt.tmp").is_symlink()  # not ours: left alone
    registry.call(verb, {"output": str(out), "force": True}, filled)
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize("verb, _service, marker", EXPORTS)
def test_never_onto_a_link_pipe_or_folder_even_with_force(filled, tmp_path, verb, _service, marker):
    victim = tmp_path / "victim.rc"
    victim.write_text("keep me\n")
    link = tmp_path / "link.txt"
    link.symlink_to(victim)
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    for target, why in [(link, "symbolic link"), (pipe, "pipe"), (tmp_path, "folder")]:
        for force in (False, True):
            with pytest.raises(InvalidInput, match=why):
                in_thread(lambda target=target, force=force: registry.call(verb, {"output": str(target), "force": force}, filled))
    assert victim.read_text() == "keep me\n" and link.is_symlink() and Path(pipe).is_fifo()
    with pytest.raises(InvalidInput, match="names a folder"):
        registry.call(verb, {"output": str(tmp_path) + "/"}, filled)


def test_dev_null_is_never_replaced(filled):
    before = os.lstat("/dev/null")
    for verb, _service, _marker in EXPORTS:
        with pytest.raises(InvalidInput, match="is a device"):
            registry.call(verb, {"output": "/dev/null", "force": True}, filled)
    after = os.lstat("/dev/null")
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)


def test_cli_export_refuses_then_forces(hero, tmp_path):
    vcf = tmp_path / "in.vcf"
    vcf.write_text(CARD)
    assert hero("contact", "import", str(vcf)).code == 0
    out = tmp_path / "out.vcf"
    out.write_text("precious\n")
    r = hero("contact", "export", "-o", str(out))
    short_error(r)
    assert "already exists" in r.err and "--force" in r.err and out.read_text() == "precious\n"
    r = hero("contact", "export", "-o", str(out), "--force", "--json")
    assert r.code == 0 and r.json()["path"] == str(out) and "Lena Fischer" in out.read_text(), r
    r = hero("calendar", "export", "-o", str(tmp_path / "pipe-less" / "x.ics"))
    short_error(r)


def test_document_export_never_overwrites_nor_follows_a_link(ctx, tmp_path):
    src = tmp_path / "report.md"
    src.write_text("# Report\n\nNumbers.\n")
    [doc] = registry.call("document.add", {"paths": [str(src)]}, ctx).added
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.rc"
    victim.write_text("keep me\n")
    (out / "report.md").symlink_to(victim)
    (out / "report-1.md").write_text("mine\n")
    e = registry.call("document.export", {"id": doc.id, "output": str(out)}, ctx)
    assert Path(e.path) == out / "report-2.md" and Path(e.path).read_text() == src.read_text()
    assert victim.read_text() == "keep me\n" and (out / "report-1.md").read_text() == "mine\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left
    with pytest.raises(InvalidInput):
        registry.call("document.export", {"id": doc.id, "output": "bad\x00name"}, ctx)
    with pytest.raises(InvalidInput, match="not a folder|is a file"):
        registry.call("document.export", {"id": doc.id, "output": str(victim)}, ctx)


def test_leftovers_of_a_killed_export_are_swept_by_the_next_one(filled, tmp_path):
    """A process killed mid-export leaves its ``.hero-export-*.tmp``; the next export into that
    folder removes the old ones (not a young one: an export may be running), and nothing else."""
    old, young = tmp_path / ".hero-export-0a1b2c.tmp", tmp_path / ".hero-export-3d4e5f.tmp"
    lookalike = tmp_path / ".hero-export-notes.txt"  # not ours: another name
    for f in (old, young, lookalike):
        f.write_text("half an export")
    os.utime(old, (1, 1))
    os.utime(lookalike, (1, 1))
    link = tmp_path / ".hero-export-link.tmp"
    link.symlink_to(lookalike)
    os.utime(link, (1, 1), follow_symlinks=False)
    registry.call("contact.export", {"output": str(tmp_path / "a.vcf")}, filled)
    assert not old.exists() and young.exists() and lookalike.exists() and link.is_symlink()
    doc = tmp_path / "d.md"
    doc.write_text("# D\n\ntext\n")
    added = registry.call("document.add", {"paths": [str(doc)]}, filled).added[0]
    out = tmp_path / "docs"
    out.mkdir()
    stale = out / ".hero-export-zzz.tmp"
    stale.write_text("x")
    os.utime(stale, (1, 1))
    registry.call("document.export", {"id": added.id, "output": str(out)}, filled)
    assert sorted(p.name for p in out.iterdir()) == ["d.md"]
