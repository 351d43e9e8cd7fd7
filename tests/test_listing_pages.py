"""Issue 13, item 8: a long listing is printed page by page, so memory grows with the page,
not with the set; the text is the same as the whole list gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from herotui import contexts, registry
from herotui.frontends import render
from herotui.services import contact


def _cards(n: int, prefix: str = "Person") -> str:
    # names with equal lower-case forms across a page boundary test the keyset's tie-break
    return "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{prefix} {i // 3:05d}\r\nEMAIL:p{i}@example.org\r\n"
                   f"CATEGORIES:{'odd' if i % 2 else 'even'}\r\nEND:VCARD\r\n" for i in range(n))


@pytest.fixture
def many(ctx, tmp_path, monkeypatch):
    path = tmp_path / "many.vcf"
    path.write_text(_cards(2_345))
    registry.call("contact.import", {"path": str(path)}, ctx, actor="test")
    monkeypatch.setattr(contact, "PAGE", 100)  # many pages (the default is 1,000 rows)
    monkeypatch.setattr(contact._list_pages, "__defaults__", (None, None, None, 100))
    return ctx


def _printed(capsys, ctx, args: dict, as_json: bool, paged: bool) -> str:
    render.output(registry.call("contact.list", args, ctx, actor="test", paged=paged), as_json)
    return capsys.readouterr().out


@pytest.mark.parametrize("args", [{}, {"tag": "odd"}, {"limit": 250}, {"limit": 7}, {"tag": "none"}])
def test_pages_print_what_the_whole_list_prints(many, capsys, monkeypatch, args):
    monkeypatch.setattr(render, "_piped", lambda: True)
    for as_json in (True, False):
        whole = _printed(capsys, many, args, as_json, paged=False)
        paged = _printed(capsys, many, args, as_json, paged=True)
        assert paged == whole, (args, as_json)
    ids = [r["id"] for r in json.loads(_printed(capsys, many, args, True, paged=True) or "[]")]
    expected = {"odd": 1_172, "none": 0}.get(args.get("tag"), args.get("limit", 2_345))
    assert len(ids) == len(set(ids)) == expected  # each row once, across page boundaries


def test_pages_come_one_at_a_time(many):
    pages = iter(registry.call("contact.list", {}, many, actor="test", paged=True))
    assert [len(next(pages)) for _ in range(3)] == [100, 100, 100]
    assert sum(len(p) for p in pages) == 2_345 - 300


def test_a_terminal_table_has_one_header_and_every_row(many, capsys, monkeypatch):
    monkeypatch.setattr(render, "_piped", lambda: False)
    monkeypatch.setenv("COLUMNS", "120")
    out = _printed(capsys, many, {}, False, paged=True).splitlines()
    assert sum(1 for line in out if line.startswith("id ")) == 1
    assert len(out) == 1 + 2_345 and all("@example.org" in line for line in out[1:])


MEASURE = """
import resource, subprocess, sys
p = subprocess.run([sys.argv[1], "contact", "list", *sys.argv[2:]], stdout=subprocess.DEVNULL)
assert p.returncode == 0
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def test_memory_of_a_long_listing_grows_with_the_page(hero_home, tmp_path):
    """20,000 contacts piped as text and as JSON cost about what 5 do (the whole list: +60 MB)."""
    ctx = contexts.current()
    path = tmp_path / "big.vcf"
    path.write_text(_cards(20_000, "Big"))
    registry.call("contact.import", {"path": str(path)}, ctx, actor="test")
    hero = os.path.join(os.path.dirname(sys.executable), "hero")
    env = dict(os.environ, HERO_NO_SERVER="1")

    def peak(*args: str) -> int:
        out = subprocess.run([sys.executable, "-c", MEASURE, hero, *args], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    small = peak("--limit", "5")
    for args in ((), ("--json",)):
        assert peak(*args) - small < 25, args
