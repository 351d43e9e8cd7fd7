"""Contexts: named, isolated workspaces, and how the CLI picks the active one."""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import time

import pytest

from herotui import contexts, registry
from herotui.errors import NotFound
from herotui.frontends.cli import _main


def hero_exe() -> str:
    import shutil
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "hero"
    return str(exe) if exe.exists() else shutil.which("hero") or "hero"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = _main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


def cli_json(capsys, *argv: str):
    import json

    code, out, err = cli(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --- first use, profiles, folders ----------------------------------------------------------


def test_personal_is_created_on_first_use(hero, hero_home):
    assert not (hero_home / "contexts").exists()
    r = hero("contact", "list", "--json")
    assert r.code == 0, r
    assert r.json() == []
    toml = hero_home / "contexts" / "personal" / "context.toml"
    assert toml.is_file()
    info = hero("context", "show", "--json").json()
    assert info["name"] == "personal" and info["active"] is True
    assert info["description"] == "Family, friends, home and health" and info["color"] == "green"
    assert info["path"] == str(hero_home / "contexts" / "personal")


def test_context_list_creates_personal_and_marks_the_active_one(capsys, hero_home):
    rows = cli_json(capsys, "context", "list")
    assert [r["name"] for r in rows] == ["personal"]
    assert set(rows[0]) == {"name", "description", "color", "active", "path"}
    assert rows[0]["active"] is True


def test_shipped_profile_is_used_for_business(capsys):
    info = cli_json(capsys, "context", "create", "business")
    assert info["description"] == "Work: clients, colleagues, meetings and documents"
    assert info["color"] == "blue"
    assert info["active"] is False
    ctx = contexts.load("business")
    assert ctx.description == info["description"] and ctx.color == "blue"


def test_create_with_own_profile(capsys):
    info = cli_json(capsys, "context", "create", "geomind", "--description", "Research", "--color", "#ff8800")
    assert (info["description"], info["color"]) == ("Research", "#ff8800")
    shown = cli_json(capsys, "context", "show", "geomind")
    assert shown == info
    # an explicit description wins over a shipped profile
    info = cli_json(capsys, "context", "create", "business", "--description", "Day job")
    assert info["description"] == "Day job" and info["color"] == "blue"


def test_create_twice_is_refused(capsys):
    cli_json(capsys, "context", "create", "work")
    code, _, err = cli(capsys, "context", "create", "work")
    assert code == 1 and "already exists" in err


def test_data_folders_are_private(hero, hero_home):
    assert hero("context", "create", "business").code == 0
    assert hero("--context", "business", "contact", "create", "--name", "A B").code == 0
    for path in (hero_home / "contexts", hero_home / "contexts" / "business", hero_home / "contexts" / "business" / "blobs",
                 hero_home / "contexts" / "business" / "index", hero_home / "contexts" / "personal",
                 hero_home / "state"):
        assert path.is_dir(), path
        assert mode(path) == 0o700, f"{path} is {oct(mode(path))}"
    assert (hero_home / "contexts" / "business" / "hero.duckdb").is_file()


def test_saved_choice_folder_is_private(capsys, hero_home):
    cli_json(capsys, "context", "create", "business")
    cli_json(capsys, "context", "use", "business")
    assert mode(hero_home / "config") == 0o700


@pytest.mark.parametrize("bad", ["Bad Name", "UPPER", "-dash-first", "a" * 33, "../escape", "a/b", ".hidden", ""])
def test_invalid_names_are_refused(capsys, hero_home, bad):
    code, _, err = cli(capsys, "context", "create", "--", bad)
    assert code == 1, err
    assert "invalid context name" in err and "hint:" in err
    assert contexts.names() in ([], ["personal"])
    assert not (hero_home / "escape").exists() and not (hero_home / "contexts" / "a").exists()


def test_invalid_context_option_is_refused(hero):
    r = hero("--context", "Bad Name", "contact", "list")
    assert r.code == 1 and "invalid context name" in r.err and "Traceback" not in r.err, r


# --- choosing the active context -----------------------------------------------------------


def _names_in(capsys, *context_args: str) -> list[str]:
    return [c["name"] for c in cli_json(capsys, *context_args, "contact", "list")]


def test_context_option_env_and_saved_choice(capsys, monkeypatch):
    contexts.create("business")
    contexts.create("geomind")
    registry.call("contact.create", {"name": "In Personal"}, contexts.load("personal"))
    registry.call("contact.create", {"name": "In Business"}, contexts.load("business"))
    registry.call("contact.create", {"name": "In Geomind"}, contexts.load("geomind"))

    assert _names_in(capsys) == ["In Personal"]  # the default
    info = cli_json(capsys, "context", "use", "business")
    assert info["name"] == "business" and info["active"] is True
    assert _names_in(capsys) == ["In Business"]  # the saved choice
    assert cli_json(capsys, "context", "show")["name"] == "business"
    assert [c["name"] for c in cli_json(capsys, "context", "list") if c["active"]] == ["business"]

    monkeypatch.setenv("HERO_CONTEXT", "geomind")  # HERO_CONTEXT beats the saved choice
    assert _names_in(capsys) == ["In Geomind"]
    # --context beats HERO_CONTEXT, before or after the command
    assert _names_in(capsys, "--context", "personal") == ["In Personal"]
    assert [c["name"] for c in cli_json(capsys, "contact", "list", "--context", "business")] == ["In Business"]
    assert [c["name"] for c in cli_json(capsys, "contact", "list", "-c", "personal")] == ["In Personal"]


def test_saved_choice_survives_processes(hero):
    assert hero("context", "create", "business").code == 0
    assert hero("context", "use", "business").code == 0
    assert hero("contact", "create", "--name", "Lena Fischer", "--company", "Lumen Labs").code == 0
    assert [c["name"] for c in hero("--context", "business", "contact", "list", "--json").json()] == ["Lena Fischer"]
    assert hero("--context", "personal", "contact", "list", "--json").json() == []
    r = hero("contact", "list", "--json", env={"HERO_CONTEXT": "personal"})
    assert r.json() == []


def test_unknown_context_is_not_found_with_a_hint(hero):
    for args, env in ((("--context", "nope", "contact", "list"), None),
                      (("contact", "list"), {"HERO_CONTEXT": "nope"}),
                      (("context", "use", "nope"), None),
                      (("context", "show", "nope"), None),
                      (("context", "delete", "nope", "--yes"), None),
                      (("context", "rename", "nope", "other"), None)):
        r = hero(*args, env=env)
        assert r.code == 3, (args, r)
        assert "unknown context 'nope'" in r.err and "hint: create it with 'hero context create nope'" in r.err, r
        assert "Traceback" not in r.err
    r = hero("--context", "nope", "contact", "list", "--json")
    assert r.code == 3 and '"code": "not_found"' in r.err, r


def test_saved_choice_of_a_vanished_context(capsys, hero_home):
    contexts.create("business")
    cli_json(capsys, "context", "use", "business")
    import shutil

    shutil.rmtree(hero_home / "contexts" / "business")  # removed behind Hero's back
    code, _, err = cli(capsys, "contact", "list")
    assert code == 3 and "unknown context 'business'" in err


def test_every_command_takes_context(capsys):
    for v in _loaded_verbs():
        code, out, _ = cli(capsys, *v.cli_path.split(), "--help")
        assert code == 0 and "--context" in out, v.name


def _loaded_verbs():
    from herotui.services import SERVICES

    out = []
    for name in SERVICES:
        try:
            out.extend(registry.service_verbs(name))
        except ImportError:
            pass
    return out


# --- rename and delete ---------------------------------------------------------------------


def test_rename_moves_the_data_and_the_saved_choice(capsys, hero_home):
    contexts.create("work")
    c = registry.call("contact.create", {"name": "Moving Person", "notes": "zeppelin"}, contexts.load("work"))
    cli_json(capsys, "context", "use", "work")
    info = cli_json(capsys, "context", "rename", "work", "business")
    assert info["name"] == "business" and info["active"] is True
    assert not (hero_home / "contexts" / "work").exists()
    assert contexts.names() == ["business", "personal"]
    assert [x["id"] for x in cli_json(capsys, "contact", "list")] == [c.id]  # saved choice followed
    assert [x["id"] for x in cli_json(capsys, "contact", "search", "zeppelin")] == [c.id]  # the index moved too
    code, _, err = cli(capsys, "--context", "work", "contact", "list")
    assert code == 3


def test_rename_refusals(capsys):
    contexts.create("work")
    contexts.create("business")
    code, _, err = cli(capsys, "context", "rename", "work", "business")
    assert code == 1 and "already exists" in err
    code, _, err = cli(capsys, "context", "rename", "work", "Bad Name")
    assert code == 1 and "invalid context name" in err
    assert contexts.names() == ["business", "personal", "work"]


def test_delete_without_tty_and_without_yes_refuses(hero, hero_home):
    assert hero("context", "create", "business").code == 0
    assert hero("--context", "business", "contact", "create", "--name", "Still Here").code == 0
    r = hero("context", "delete", "business", input="")  # stdin is a pipe, not a terminal
    assert r.code == 1, r
    assert "--yes" in r.err and "Traceback" not in r.err
    assert (hero_home / "contexts" / "business" / "hero.duckdb").is_file()
    assert [c["name"] for c in hero("--context", "business", "contact", "list", "--json").json()] == ["Still Here"]
    r = hero("context", "delete", "business", "--yes", "--json")
    assert r.code == 0, r
    assert r.json() == {"id": "business", "name": "business"}
    assert not (hero_home / "contexts" / "business").exists()
    assert not any(p.name.startswith(".business") for p in (hero_home / "contexts").iterdir())
    assert hero("--context", "business", "contact", "list").code == 3


def _delete_on_a_tty(hero_home, answer: bytes) -> tuple[int, str]:
    """Run ``hero context delete business`` with a terminal as stdin and type ``answer``."""
    master, slave = pty.openpty()
    env = dict(os.environ, HERO_HOME=str(hero_home))
    proc = subprocess.Popen([hero_exe(), "context", "delete", "business"], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    os.close(slave)
    try:
        seen = b""
        deadline = time.monotonic() + 30
        # wait for the question on stderr before answering
        while b"?" not in seen and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stderr], [], [], 0.5)
            if ready:
                seen += os.read(proc.stderr.fileno(), 4096)
        os.write(master, answer)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, (seen + err).decode()


def test_delete_asks_on_a_terminal(hero, hero_home):
    assert hero("context", "create", "business").code == 0
    code, err = _delete_on_a_tty(hero_home, b"n\n")
    assert code == 1, err
    assert "business" in err and "nothing changed" in err and "Traceback" not in err
    assert contexts.exists("business")
    code, err = _delete_on_a_tty(hero_home, b"y\n")
    assert code == 0, err
    assert not contexts.exists("business")


def test_deleting_the_saved_context_falls_back_to_personal(capsys):
    contexts.create("business")
    cli_json(capsys, "context", "use", "business")
    cli_json(capsys, "context", "delete", "business", "--yes")
    assert contexts.saved_choice() is None
    assert cli_json(capsys, "context", "show")["name"] == "personal"


def test_delete_waits_for_nobody_and_leaves_others_alone(capsys):
    contexts.create("business")
    contexts.create("geomind")
    keep = registry.call("contact.create", {"name": "Geo Person"}, contexts.load("geomind"))
    cli_json(capsys, "context", "delete", "business", "--yes")
    assert contexts.names() == ["geomind", "personal"]
    assert registry.call("contact.show", {"id": keep.id}, contexts.load("geomind")).name == "Geo Person"
    with pytest.raises(NotFound):
        contexts.load("business")


# --- isolation -----------------------------------------------------------------------------


def test_a_business_contact_is_invisible_from_personal_through_every_contact_verb(capsys, tmp_path):
    biz = contexts.create("business")
    personal = contexts.load("personal")
    b = registry.call("contact.create", {"name": "Bianca Secret", "company": "Hidden Corp", "tags": ["bizonly"],
                                         "notes": "xylophone"}, biz)
    p = registry.call("contact.create", {"name": "Paul Public", "tags": ["home"]}, personal)
    vcf = tmp_path / "one.vcf"
    vcf.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Imported Person\r\nEND:VCARD\r\n")

    def not_found(*argv):
        code, _, err = cli(capsys, "--context", "personal", "contact", *argv)
        assert code == 3, (argv, err)
        assert "no contact with id" in err

    def listed(*argv):
        import json

        code, out, err = cli(capsys, "--context", "personal", "contact", *argv, "--json")
        assert code == 0, err
        return json.loads(out)

    checks = {
        "contact.show": lambda: not_found("show", b.id),
        "contact.update": lambda: not_found("update", b.id, "--role", "Spy"),
        "contact.delete": lambda: not_found("delete", b.id, "--yes"),
        "contact.tag": lambda: not_found("tag", b.id, "found"),
        "contact.untag": lambda: not_found("untag", b.id, "bizonly"),
        "contact.list": lambda: (
            [c["id"] for c in listed("list")] == [p.id]
            and listed("list", "--tag", "bizonly") == []
            and listed("list", "--company", "Hidden Corp") == []
        ) or pytest.fail("list shows another context's contact"),
        "contact.search": lambda: all(listed("search", q) == [] for q in ("xylophone", "Bianca", "Hidden Corp", "bizonly",
                                                                          "Biancq"))
        or pytest.fail("search finds another context's contact"),
        "contact.export": lambda: (lambda r: r["count"] == 1 and "Bianca" not in r["text"] and b.id not in r["text"]
                                   and "Paul Public" in r["text"])(listed("export"))
        or pytest.fail("export includes another context's contact"),
        "contact.import": lambda: listed("import", str(vcf))["imported"] == 1,
        "contact.create": lambda: listed("create", "--name", "Bianca Secret")["id"] != b.id,
    }
    verbs = {v.name for v in registry.service_verbs("contact")}
    assert set(checks) == verbs, f"add an isolation check for: {verbs - set(checks)}"
    for name in checks:  # in this order: the writes into personal (import, create) come last
        checks[name]()
    # and through the Python API as well
    for name, args in (("contact.show", {"id": b.id}), ("contact.update", {"id": b.id, "role": "Spy"}),
                       ("contact.tag", {"id": b.id, "tags": ["x"]}), ("contact.untag", {"id": b.id, "tags": ["bizonly"]})):
        with pytest.raises(NotFound):
            registry.call(name, args, personal)
    with pytest.raises(NotFound):
        registry.call("contact.delete", {"id": b.id}, personal, confirmed=True)
    # business is untouched
    again = registry.call("contact.show", {"id": b.id}, biz)
    assert again == b
    assert [c.id for c in registry.call("contact.search", {"query": "xylophone"}, biz)] == [b.id]
    assert [c.name for c in registry.call("contact.list", {}, biz)] == ["Bianca Secret"]
    assert sorted(c.name for c in registry.call("contact.list", {}, personal)) == ["Bianca Secret", "Imported Person",
                                                                                  "Paul Public"]


def test_each_context_has_its_own_files(hero_home):
    biz = contexts.create("business")
    personal = contexts.load("personal")
    assert biz.db_path != personal.db_path and biz.index_path != personal.index_path
    assert biz.db_path.parent == hero_home / "contexts" / "business"
    registry.call("contact.create", {"name": "Only Business"}, biz)
    assert registry.call("contact.list", {}, personal) == []


# --- an unusable HERO_HOME -----------------------------------------------------------------


def test_unwritable_hero_home_is_a_clear_error(hero, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"HERO_HOME": str(blocker / "hero")}
    for args in (("contact", "list"), ("contact", "create", "--name", "X"), ("context", "list"),
                 ("context", "create", "business"), ("context", "use", "personal")):
        r = hero(*args, env=env)
        assert r.code == 1, (args, r)
        assert r.err.startswith("error: cannot create"), r
        assert "Not a directory" in r.err and "HERO_HOME" in r.err, r
        assert "Traceback" not in r.err and "internal error" not in r.err, r
    r = hero("contact", "list", "--json", env=env)
    assert r.code == 1 and '"code": "error"' in r.err, r
    assert blocker.read_text() == "not a folder"
