"""Output (issue 14, item 3), with real processes:

- piped text is never wrapped or cut (a knowledge answer, a path, a hash, a plan line), even
  with COLUMNS=80;
- terminal tables (stdout a pty of 80 and 60 columns) shorten free text and never break an
  id, email, phone or date; columns that cannot fit are left out with a note;
- ``search --all-contexts`` says which context each hit is from (table, pipe, --json);
- a missing file is exit 3 (not found) for every command that reads or writes one;
- usage errors honour ``--json`` (one error object on stderr, the same exit code).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time

import pytest
from support import hero_exe

from herotui import contexts, registry


def run(*args: str, columns: int = 80, input: str | None = None) -> subprocess.CompletedProcess:
    """``hero *args`` with stdout and stderr pipes (COLUMNS=80: it must not matter)."""
    env = dict(os.environ, COLUMNS=str(columns))
    return subprocess.run([hero_exe(), *args], capture_output=True, text=True, env=env, input=input, timeout=120)


def in_terminal(columns: int, *args: str) -> tuple[int, list[str], str]:
    """``hero *args`` with stdout a terminal (a pty) ``columns`` wide: (exit code, lines, stderr)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = dict(os.environ, COLUMNS=str(columns), LINES="40", TERM="dumb", NO_COLOR="1")
    proc = subprocess.Popen([hero_exe(), *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE,
                            env=env)
    os.close(slave)
    data = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the other end closed
                    break
                if not chunk:
                    break
                data += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=60)
        err = proc.stderr.read().decode()
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    text = data.decode().replace("\r\n", "\n")
    assert "Traceback" not in text + err and "internal error" not in err, text + err
    return code, text.splitlines(), err


def width(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


# --- piped: never wrapped, never cut -------------------------------------------------------------


LONG_SENTENCE = ("The sourdough starter wants rye flour on Mondays and a warm corner on Fridays, "
                 "and the zymurgy notes say so in one long line that no pipe may fold: "
                 "hydration seventy-two percent, autolyse forty minutes, bulk four hours at "
                 "twenty-four degrees, shape, retard overnight, bake at two hundred fifty.")


def test_a_piped_knowledge_answer_is_not_wrapped_or_cut(tmp_path):
    book = tmp_path / "kitchen"
    book.mkdir()
    (book / "bread.md").write_text(f"# Bread\n\n## Starter\n\n{LONG_SENTENCE}\n\n```sh\n"
                                   f"echo {'very-long-argument-' * 8}end\n```\n")
    assert run("knowledge", "add", str(book), "--book", "kitchen").returncode == 0
    r = run("knowledge", "ask", "zymurgy sourdough starter", "--book", "kitchen")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert LONG_SENTENCE in lines, r.stdout  # one line, whole
    assert f"echo {'very-long-argument-' * 8}end" in lines
    assert all(line == line.rstrip() for line in lines)  # no padding to a width


def test_a_piped_path_hash_and_table_are_one_line_each(tmp_path):
    folder = tmp_path / ("a-folder-with-a-rather-long-name-" * 3) / "and-another-level-below-it"
    folder.mkdir(parents=True)
    path = folder / "quarterly-report-for-northwind-traders-with-a-long-file-name.md"
    path.write_text("# Quarterly report\n\nRevenue grew.\n")
    assert len(str(path)) > 200
    r = run("document", "add", str(path), "--json")
    assert r.returncode == 0, r.stderr
    added = json.loads(r.stdout)["added"][0]
    r = run("document", "show", added["id"])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(line.endswith(str(path)) and line.split()[0] == "source" for line in lines), r.stdout
    assert any(line.split() == ["sha256", added["sha256"]] for line in lines), r.stdout
    r = run("document", "list")
    assert r.returncode == 0 and r.stdout.splitlines()[0].split("\t")[:2] == [added["id"], "Quarterly report"], r


def test_a_piped_plan_line_is_one_line():
    name = "Maximiliane Featherstonehaugh-Wolfeschlegelsteinhausen"
    company = "Lumen Labs International Consolidated Holdings"
    r = run("ask", "--dry-run", f"add {name} from {company} as a contact")
    assert r.returncode == 0, r.stderr
    plan = [line for line in r.stdout.splitlines() if line.startswith("$ hero ")]
    assert plan, r.stdout
    assert name in plan[0] and company in plan[0] and len(plan[0]) > 100, r.stdout


# --- a terminal: tables never break a value ------------------------------------------------------


PEOPLE = [
    {"name": "Maximiliane Wolfeschlegelsteinhausen-Bergerdorff",
     "emails": ["m.wolfeschlegel@northwind.example", "mw@example.org"],
     "phones": ["+32 470 12 34 56", "+1 (555) 010-0199"], "company": "Northwind Traders International Holdings",
     "tags": ["finance", "quarterly", "board", "northwind"]},
    {"name": "Bo Li", "emails": ["bo@li.example"], "phones": ["+86 10 1234 5678"], "company": "Li & Co"},
    {"name": "Ana de la Cruz Fernández", "emails": ["ana.fernandez@contoso-consulting.example"],
     "company": "Contoso", "tags": ["legal"]},
]


@pytest.fixture
def people(ctx):
    return [registry.call("contact.create", p, ctx, actor="test") for p in PEOPLE]


@pytest.fixture
def events(ctx):
    made = []
    for title, start, end, location in [
        ("Quarterly report review with the Northwind finance team and the auditors", "2030-01-15 10:00",
         "2030-01-15 11:30", "Northwind Traders HQ, 1 Harbour Street, Antwerp - Meeting room 3"),
        ("Offsite", "2030-01-16 09:00", "2030-01-17 17:00", "Hof ter Linden, Edegem"),
        ("Lunch", "2030-01-18 12:30", "2030-01-18 13:30", None),
    ]:
        args = {"title": title, "start": start, "end": end} | ({"location": location} if location else {})
        made.append(registry.call("calendar.add", args, ctx, actor="test"))
    return made


def check_table(lines: list[str], err: str, columns: int, values: dict[str, list[str]]) -> set[str]:
    """Every line fits; every value of a shown column is whole on one line. The hidden columns."""
    assert lines, err
    assert all(width(line) <= columns for line in lines), "\n".join(lines)
    hidden = set()
    note = re.search(r"not shown at (\d+) columns: ([^;]+);", err)
    if note:
        assert int(note.group(1)) == columns
        hidden = {c.strip() for c in note.group(2).split(",")}
    header = lines[0].split()
    for column, wanted in values.items():
        if column in hidden:
            assert column not in header
            continue
        assert column in header, (column, lines[0])
        for value in wanted:
            assert any(value in line for line in lines), f"{value!r} is not whole:\n" + "\n".join(lines)
    return hidden


@pytest.mark.parametrize("columns", [80, 60, 120])
def test_contact_table_in_a_terminal_keeps_ids_emails_and_phones_whole(people, columns):
    code, lines, err = in_terminal(columns, "contact", "list")
    assert code == 0, err
    hidden = check_table(lines, err, columns, {
        "id": [c.id for c in people],
        "emails": [e for c in people for e in c.emails],
        "phones": [p for c in people for p in c.phones],
    })
    assert "name" not in hidden  # the name is shortened, never left out
    assert any(line.split()[1:2] == ["Bo"] or " Bo Li " in line for line in lines[1:])
    if columns >= 80:
        assert "id" not in hidden and "emails" not in hidden
        row = next(line for line in lines if people[0].id in line)
        assert "Maxim" in row and "…" in row and "Bergerdorff" not in row  # the long name shortened
    if columns == 120:
        assert hidden == {"tags"} or not hidden
        assert any("+32 470 12 34 56" in line and "Maximiliane" in line for line in lines)


@pytest.mark.parametrize("columns", [80, 60])
def test_event_table_in_a_terminal_keeps_dates_whole(events, columns):
    code, lines, err = in_terminal(columns, "calendar", "list", "--from", "2030-01-01", "--to", "2030-02-01")
    assert code == 0, err
    check_table(lines, err, columns, {
        "id": [e.id for e in events],
        "start": ["2030-01-15 10:00", "2030-01-16 09:00", "2030-01-18 12:30"],
    })
    if columns == 80:
        header = lines[0].split()
        assert header[:4] == ["id", "start", "end", "title"], lines[0]
        review = next(line for line in lines if events[0].id in line)
        assert "11:30" in review  # same day: the end is its time
        offsite = next(line for line in lines if events[1].id in line)
        assert "2030-01-17 17:00" in offsite  # another day: the end is whole


def test_terminal_table_of_many_rows_keeps_values_whole(ctx, tmp_path):
    from herotui.frontends.render import RICH_TABLE_MAX

    cards = "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person Number {i:03d} With A Long Name\r\n"
                    f"EMAIL:person.number.{i:03d}@a-long-domain-name.example\r\nEND:VCARD\r\n"
                    for i in range(RICH_TABLE_MAX + 5))
    (tmp_path / "many.vcf").write_text(cards)
    registry.call("contact.import", {"path": str(tmp_path / "many.vcf")}, ctx, actor="test")  # one write, not 205
    code, lines, err = in_terminal(80, "contact", "list")
    assert code == 0, err
    assert len(lines) == RICH_TABLE_MAX + 6
    check_table(lines, err, 80, {"emails": [f"person.number.{i:03d}@a-long-domain-name.example" for i in (0, 7, 204)]})


# --- search --all-contexts --------------------------------------------------------------------


def test_search_all_contexts_says_where_each_hit_is(ctx):
    r = run("context", "create", "business")
    assert r.returncode == 0, r.stderr
    business = contexts.load("business")
    registry.call("contact.create", {"name": "Zanzibar Quill", "company": "Home"}, ctx, actor="test")
    registry.call("contact.create", {"name": "Zanzibar Quill", "company": "Quill Labs"}, business, actor="test")

    r = run("search", "zanzibar", "--all-contexts", "--json")
    assert r.returncode == 0, r.stderr
    assert sorted(h["context"] for h in json.loads(r.stdout)) == ["business", "personal"]
    r = run("search", "zanzibar", "--all-contexts")
    assert r.returncode == 0, r.stderr
    assert sorted(line.split("\t")[0] for line in r.stdout.splitlines()) == ["business", "personal"], r.stdout
    code, lines, err = in_terminal(100, "search", "zanzibar", "--all-contexts")
    assert code == 0, err
    assert lines[0].split()[0] == "context" and sorted(line.split()[0] for line in lines[1:]) == ["business", "personal"]
    # one context searched: no context column (it would say the same thing on every line)
    r = run("search", "zanzibar")
    assert r.returncode == 0 and r.stdout.split("\t")[0] == "contact", r.stdout


# --- a missing file: exit 3 everywhere -----------------------------------------------------------


def test_a_missing_file_is_exit_3_for_every_command(tmp_path):
    gone = tmp_path / "gone"
    cases = [
        ("contact", "import", str(gone / "people.vcf")),
        ("calendar", "import", str(gone / "calendar.ics")),
        ("document", "add", str(gone / "report.md")),
        ("slides", "create", str(gone / "deck.md")),
        ("knowledge", "add", str(gone), "--book", "notes"),
        ("contact", "export", "--output", str(gone / "out" / "people.vcf")),
        ("calendar", "export", "--output", str(gone / "out" / "calendar.ics")),
    ]
    for args in cases:
        r = run(*args)
        assert r.returncode == 3, (args, r.returncode, r.stderr)
        lines = r.stderr.splitlines()
        assert lines[0].startswith("error: ") and str(gone) in lines[0] and len(lines) <= 2, (args, r.stderr)
        r = run(*args, "--json")
        assert r.returncode == 3 and json.loads(r.stderr)["error"]["code"] == "not_found", (args, r.stderr)
    # not missing, but not a file: a different error (1)
    assert run("contact", "import", str(tmp_path)).returncode == 1


# --- usage errors and --json ---------------------------------------------------------------------


@pytest.mark.parametrize("args, says", [
    (["contact", "show"], "Missing argument"),
    (["contact", "list", "--bogus"], "No such option: --bogus"),
    (["contact", "list", "--limit", "abc"], "--limit"),
    (["contact", "lst"], "No such command 'lst'"),
    (["contact"], "'hero contact' needs a command: create"),
    (["nosuch"], "No such command 'nosuch'"),
])
def test_usage_errors_honour_json(args, says):
    plain = run(*args)
    assert plain.returncode == 2 and plain.stdout == "", plain
    assert "Usage:" in plain.stderr or "Error" in plain.stderr
    # after a group ('hero contact --json') --json is an option the group does not have
    forms = [["--json", *args]] + ([[*args, "--json"]] if len(args) > 1 and args[1] != "lst" else [])
    for argv in forms:
        r = run(*argv)
        assert r.returncode == plain.returncode, (argv, r.returncode, r.stderr)
        assert r.stdout == "", r.stdout
        error = json.loads(r.stderr)["error"]  # one JSON object, nothing else
        assert error["code"] == "usage" and says in error["message"], (argv, error)
        assert error["hint"].startswith("'hero") and "--help" in error["hint"]


def test_a_json_error_after_double_dash_is_an_argument():
    from herotui.frontends.cli import _wants_json

    assert _wants_json(["contact", "show", "--json"])
    assert not _wants_json(["knowledge", "ask", "--", "--json"])
