"""Hostile text and numbers, and permissions that do not depend on the umask (issue 13, items 4 and 7).

Real ``hero`` processes throughout: arguments that are not UTF-8 go in as bytes (what a shell
passes for a Latin-1 file name), huge numbers as typed, and the files Hero creates are
checked with the umask at 0.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from support import hero_exe

VCARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Lena Fischer\r\nN:Fischer;Lena;;;\r\nEND:VCARD\r\n"


def run(home: Path | None, *args: str | bytes, env: dict | None = None, umask: int | None = None,
        input: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``hero *args`` with a bytes argv (so arguments need not be UTF-8); stdout/stderr as bytes."""
    full = {k: v for k, v in os.environ.items() if k not in ("HERO_HOME", "HERO_CONTEXT", "HERO_DEBUG")}
    full.update(COLUMNS="200", HERO_TZ="Europe/Brussels", **(env or {}))
    if home is not None:
        full["HERO_HOME"] = str(home)
    argv = [os.fsencode(hero_exe()), *(a if isinstance(a, bytes) else os.fsencode(a) for a in args)]
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(argv, capture_output=True, env=full, preexec_fn=preexec, input=input,
                          cwd=cwd, timeout=120)


def one_line_error(proc: subprocess.CompletedProcess, *expected: str) -> str:
    """The process failed with exit 1, 2 or 3 and a one-line error (plus hint) naming ``expected``."""
    err = proc.stderr.decode("utf-8", errors="backslashreplace")
    assert proc.returncode in (1, 2, 3), (proc.returncode, err)
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error: "), err
    assert len(lines) <= 2 and all(line.startswith(("error: ", "hint: ")) for line in lines), err
    for text in expected:
        assert text in lines[0], err
    return lines[0]


def audit(home: Path) -> list[dict]:
    """Every audit record; each line must be valid UTF-8 and valid JSON."""
    path = home / "state" / "audit.jsonl"
    return [json.loads(line.decode("utf-8")) for line in path.read_bytes().splitlines()]


# --- text that is not UTF-8 ---------------------------------------------------------------


def test_a_byte_that_is_not_utf8_in_a_text_argument_is_a_clear_error(hero_home):
    proc = run(hero_home, "contact", "create", "--name", b"Caf\xe9 Owner")
    one_line_error(proc, "--name", "not valid UTF-8", "\\xe9")
    records = audit(hero_home)  # the audit writer did not fail on the surrogate
    assert records[-1]["verb"] == "contact.create" and records[-1]["ok"] is False
    assert records[-1]["args"]["name"] == "Caf\udce9 Owner"  # kept exactly, escaped in the file
    assert b"\\udce9" in (hero_home / "state" / "audit.jsonl").read_bytes()
    listed = run(hero_home, "contact", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_a_latin1_file_name_gives_the_real_result_of_an_import(hero_home, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsencode(folder) + b"/caf\xe9.vcf"
    with open(name, "wb") as fh:
        fh.write(VCARD)
    proc = run(hero_home, "contact", "import", name)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"internal error" not in proc.stderr
    listed = run(hero_home, "contact", "list", "--json")
    assert [c["name"] for c in json.loads(listed.stdout)] == ["Lena Fischer"]
    record = audit(hero_home)[-2]
    assert record["verb"] == "contact.import" and record["ok"] is True
    assert record["args"]["path"] == os.fsdecode(name)

    missing = run(hero_home, "contact", "import", os.fsencode(folder) + b"/gon\xe9.vcf")
    one_line_error(missing, "gon")  # the real error (no such file), not the audit writer's


def test_a_latin1_file_name_in_a_folder_does_not_stop_the_other_files(hero_home, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plain.txt").write_text("the quarterly report\n")
    with open(os.fsencode(folder) + b"/r\xe9sum\xe9.txt", "wb") as fh:
        fh.write(b"a Latin-1 named file\n")
    proc = run(hero_home, "document", "add", str(folder))
    err = proc.stderr.decode(errors="backslashreplace")
    assert "internal error" not in err, err
    listed = run(hero_home, "document", "list", "--json")
    titles = json.dumps(json.loads(listed.stdout))
    assert "plain" in titles and "r\\u00e9sum\\u00e9" in titles, (proc.returncode, err, titles)


def test_nul_and_surrogates_over_rpc_are_clear_errors_and_the_server_lives_on(hero_home):
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "contact.create", "params": {"name": "a\u0000b"}},
        {"jsonrpc": "2.0", "id": 2, "method": "contact.create", "params": {"name": "a\udcffb"}},
        {"jsonrpc": "2.0", "id": 3, "method": "contact.search", "params": {"query": "x\u0000"}},
        {"jsonrpc": "2.0", "id": 4, "method": "contact.import", "params": {"path": "/tmp/a\u0000b.vcf"}},
        {"jsonrpc": "2.0", "id": 5, "method": "contact.create", "params": {"name": "Lena Fischer"}},
    ]
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()  # ensure_ascii: \u escapes
    proc = run(hero_home, "rpc", "serve", "--stdio", input=data)
    answers = {a["id"]: a for a in map(json.loads, proc.stdout.decode().splitlines())}
    assert set(answers) == {1, 2, 3, 4, 5}, proc.stdout
    for i, words in ((1, "NUL"), (2, "not valid UTF-8"), (3, "NUL"), (4, "NUL")):
        assert answers[i]["error"]["code"] == -32602, answers[i]
        assert words in answers[i]["error"]["message"] and "internal" not in answers[i]["error"]["message"]
    assert "result" in answers[5], answers[5]
    assert all(r["ok"] is False for r in audit(hero_home)[:4])


# --- numbers too large for a date, a C int or the database --------------------------------------


@pytest.mark.parametrize("args, flag", [
    (["calendar", "agenda", "--days", "99999999999999999999"], "--days"),
    (["calendar", "agenda", "--days", "9999999999"], "--days"),  # fits 64 bits, not a date
    (["calendar", "week", "--offset", str(10**20)], "--offset"),
    (["calendar", "week", "--offset", str(-10**12)], "--offset"),
    (["contact", "list", "--limit", str(10**30)], "--limit"),
    (["contact", "search", "Lena", "--limit", str(10**30)], "--limit"),
    (["document", "summarize", "abc", "--sentences", str(10**25)], "--sentences"),
    (["document", "add", "-", "--max-mb", "nan"], "--max-mb"),
    (["document", "add", "-", "--max-mb", "inf"], "--max-mb"),
], ids=lambda x: " ".join(x) if isinstance(x, list) else None)
def test_a_huge_number_is_a_clear_one_line_error(hero_home, args, flag):
    proc = run(hero_home, *args, input=b"some text\n")
    one_line_error(proc, flag)
    assert audit(hero_home)[-1]["ok"] is False


def test_the_registry_bounds_integers_everywhere(hero_home):
    """Over the Python API too: every int parameter refuses what no 64-bit integer holds."""
    from herotui import registry
    from herotui.errors import InvalidInput

    checked = 0
    for v in registry.verbs().values():
        for p in v.params:
            if registry.base_type(p.annotation) is int:
                with pytest.raises(InvalidInput) as exc:
                    v.validate({q.name: "x" for q in v.params if q.required and q is not p} | {p.name: 2**64})
                assert "too large" in exc.value.message or "at most" in exc.value.message
                checked += 1
    assert checked >= 5


# --- names of files -------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["", "./", ".", "x" * 300 + ".vcf"], ids=["empty", "dot-slash", "dot", "long"])
def test_bad_output_names_are_clear_errors(hero_home, tmp_path, output):
    assert run(hero_home, "contact", "create", "--name", "Lena Fischer").returncode == 0
    proc = run(hero_home, "contact", "export", "--output", output, cwd=tmp_path)
    one_line_error(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == [hero_home.name]  # nothing written


@pytest.mark.parametrize("command", [["contact", "import"], ["calendar", "import"], ["slides", "create"]])
def test_an_over_long_file_name_is_a_clear_error(hero_home, tmp_path, command):
    proc = run(hero_home, *command, str(tmp_path / ("y" * 300 + ".txt")))
    one_line_error(proc)


# --- permissions whatever the umask -----------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_hero_home_is_owner_only_under_umask_zero(tmp_path):
    home = tmp_path / "new" / "hero-home"  # HERO_HOME and a missing parent
    env = {"HERO_LOG_LEVEL": "DEBUG"}
    for args in (["contact", "create", "--name", "Lena Fischer"], ["context", "create", "work"],
                 ["contact", "list", "--context", "work"]):
        proc = run(home, *args, env=env, umask=0)
        assert proc.returncode == 0, proc.stderr.decode()
    folders = [home, home / "contexts", home / "contexts" / "personal", home / "contexts" / "work",
               home / "contexts" / "personal" / "blobs", home / "state"]
    files = [home / "contexts" / c / f for c in ("personal", "work") for f in ("context.toml", "hero.duckdb", "hero.lock")]
    files += [home / "state" / "audit.jsonl", home / "state" / "hero.log"]
    assert {str(p): oct(mode(p)) for p in folders} == {str(p): "0o700" for p in folders}
    assert {str(p): oct(mode(p)) for p in files} == {str(p): "0o600" for p in files}
    # nothing under the data root is reachable by others: every folder is 0700
    for folder in [home, *home.rglob("*")]:
        if folder.is_dir():
            assert mode(folder) & 0o077 == 0, folder


def test_xdg_folders_are_owner_only_under_umask_zero(tmp_path):
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
           "XDG_STATE_HOME": str(tmp_path / "home" / "state"), "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
           "HERO_LOG_LEVEL": "DEBUG"}
    proc = run(None, "contact", "create", "--name", "Lena Fischer", env=env, umask=0)
    assert proc.returncode == 0, proc.stderr.decode()
    assert run(None, "context", "use", "personal", env=env, umask=0).returncode == 0
    data, state = tmp_path / "home" / "data", tmp_path / "home" / "state"
    for folder in (data, data / "hero", data / "hero" / "contexts" / "personal", state, state / "hero"):
        assert oct(mode(folder)) == "0o700", folder
    for file in (data / "hero" / "contexts" / "personal" / "hero.duckdb",
                 data / "hero" / "contexts" / "personal" / "context.toml",
                 state / "hero" / "audit.jsonl", state / "hero" / "hero.log"):
        assert oct(mode(file)) == "0o600", file
    assert mode(tmp_path / "home" / "config" / "hero") == 0o700


def test_an_existing_lax_log_is_made_owner_only_and_bad_text_is_logged_escaped(tmp_path):
    from herotui import logs

    path = tmp_path / "hero.log"
    path.write_text("old line\n")
    path.chmod(0o666)
    import logging

    handler = logs._handler_class()(path, maxBytes=200, backupCount=2, encoding="utf-8", errors="backslashreplace")
    logger = logging.getLogger("hero.test-hardening-text")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("skipped caf\udce9.txt")
        for _ in range(5):  # past maxBytes: rollovers create new files, 0600 too
            logger.warning("x" * 80)
    finally:
        logger.removeHandler(handler)
        handler.close()
    created = list(tmp_path.glob("hero.log*"))
    assert len(created) >= 2 and all(mode(p) == 0o600 for p in created), {p.name: oct(mode(p)) for p in created}
    text = b"".join(p.read_bytes() for p in created)
    assert b"caf\\udce9.txt" in text


def test_a_lax_audit_log_and_database_are_made_owner_only_on_the_next_call(hero_home):
    assert run(hero_home, "contact", "create", "--name", "Lena Fischer").returncode == 0
    lax = [hero_home / "state" / "audit.jsonl", hero_home / "contexts" / "personal" / "hero.duckdb"]
    for path in lax:
        path.chmod(0o644)  # as an older Hero, or a copy, left them
    assert run(hero_home, "contact", "create", "--name", "Alex Smith").returncode == 0
    assert {p.name: oct(mode(p)) for p in lax} == {p.name: "0o600" for p in lax}
