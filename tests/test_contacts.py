"""Contacts through the CLI (in-process for speed, a subprocess where the process matters)."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from support import Cli

from herotui import contexts, registry

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "contexts" / "demo"
CONTACT_KEYS = {"id", "name", "emails", "phones", "company", "role", "tags", "notes", "birthday", "created", "updated"}
ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@pytest.fixture
def hero_cli(capsys) -> Cli:
    return Cli(capsys)


def state(ctx) -> tuple[int, list]:
    """(database revision, every contact row): what a refused command must leave alone."""
    with ctx.read() as conn:
        rev = conn.execute("SELECT revision FROM state").fetchone()[0]
        rows = conn.execute("SELECT * FROM contacts ORDER BY id").fetchall()
    return rev, rows


@pytest.fixture
def business(ctx):
    """The business demo card file imported into ``personal`` (25 contacts)."""
    report = registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
    assert report.imported == 25
    return ctx


# --- create, show, list --------------------------------------------------------------------


def test_create_and_its_json_shape(hero_cli):
    c = hero_cli.json("contact", "create", "--name", "  Alex Smith ", "--email", "Alex.Smith@Example.COM",
                      "-e", "alex@home.example", "--phone", "+32 470 12 34 56", "--company", "Northwind",
                      "--role", "CFO", "--tag", "Finance,VIP", "-t", "finance", "--notes", "Quarterly report",
                      "--birthday", "1980-04-12")
    assert set(c) == CONTACT_KEYS
    assert ULID_RE.match(c["id"])
    from ulid import ULID

    assert str(ULID.from_str(c["id"])) == c["id"]
    assert c["name"] == "Alex Smith"
    assert c["emails"] == ["Alex.Smith@example.com", "alex@home.example"]
    assert c["phones"] == ["+32 470 12 34 56"]
    assert (c["company"], c["role"], c["notes"]) == ("Northwind", "CFO", "Quarterly report")
    assert c["tags"] == ["finance", "vip"]
    assert c["birthday"] == "1980-04-12"
    created = datetime.fromisoformat(c["created"])
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert c["created"] == c["updated"]
    assert hero_cli.json("contact", "show", c["id"]) == c


def test_ids_are_ulids_in_creation_order(ctx):
    ids = [registry.call("contact.create", {"name": f"P{i}"}, ctx).id for i in range(20)]
    assert all(ULID_RE.match(i) for i in ids)
    assert len(set(ids)) == 20
    assert ids == sorted(ids)


def test_show_by_prefix(hero_cli, ctx):
    ids = [registry.call("contact.create", {"name": f"Person {i}"}, ctx).id for i in range(3)]
    for i, cid in enumerate(ids):
        others = [o for o in ids if o != cid]
        n = next(n for n in range(1, 27) if not any(o.startswith(cid[:n]) for o in others))
        assert hero_cli.json("contact", "show", cid[:n])["name"] == f"Person {i}"
        assert hero_cli.json("contact", "show", cid[:n].lower())["id"] == cid  # case does not matter
    code, out, _ = hero_cli("contact", "show", ids[1])
    assert code == 0 and "Person 1" in out and ids[1] in out


def test_ambiguous_prefix_lists_candidates_and_changes_nothing(hero_cli, ctx):
    ids = [registry.call("contact.create", {"name": f"Twin {i}", "tags": ["t"]}, ctx).id for i in range(3)]
    prefix = os.path.commonprefix(ids)
    assert len(prefix) >= 6, "created in the same second, so they share the time part"
    before = state(ctx)
    for argv in (("show", prefix), ("update", prefix, "--role", "X"), ("delete", prefix, "--yes"),
                 ("tag", prefix, "new"), ("untag", prefix, "t")):
        err = hero_cli.fails(1, "contact", *argv)
        assert "matches several contacts" in err, err
        for cid in ids:
            assert cid in err
        assert "Twin 0" in err and "hint: type more characters" in err
    assert state(ctx) == before
    # with --json the error is one object on stderr
    code, out, err = hero_cli("contact", "show", prefix, "--json")
    assert code == 1 and out == ""
    assert json.loads(err)["error"]["code"] == "ambiguous"


def test_unknown_and_invalid_ids(hero_cli, ctx):
    registry.call("contact.create", {"name": "Someone"}, ctx)
    before = state(ctx)
    for argv in (("show", "ZZZZZZZZ"), ("update", "ZZZZZZZZ", "--role", "X"), ("delete", "ZZZZZZZZ", "--yes"),
                 ("tag", "ZZZZZZZZ", "x"), ("untag", "ZZZZZZZZ", "x")):
        err = hero_cli.fails(3, "contact", *argv)
        assert "no contact with id 'ZZZZZZZZ'" in err and "hint:" in err
    for bad in ("a b", "01'; DROP TABLE contacts; --", "%"):
        hero_cli.fails(1, "contact", "show", bad)
    code, _, err = hero_cli("contact", "show", "ZZZZ", "--json")
    assert code == 3 and set(json.loads(err)["error"]) == {"code", "message", "hint"}
    assert state(ctx) == before


def test_list_sorted_with_filters(hero_cli, ctx):
    for name, company, tags in (("bob Brown", "Northwind", ["client"]), ("Alice Adams", "northwind", ["client", "vip"]),
                                ("Carol Clark", "Globex", ["vip"]), ("dave Doe", None, [])):
        registry.call("contact.create", {"name": name, "company": company, "tags": tags}, ctx)
    names = lambda rows: [r["name"] for r in rows]  # noqa: E731
    rows = hero_cli.json("contact", "list")
    assert names(rows) == ["Alice Adams", "bob Brown", "Carol Clark", "dave Doe"]
    assert all(set(r) == CONTACT_KEYS for r in rows)
    assert names(hero_cli.json("contact", "list", "--tag", "vip")) == ["Alice Adams", "Carol Clark"]
    assert names(hero_cli.json("contact", "list", "--tag", "VIP")) == ["Alice Adams", "Carol Clark"]
    assert names(hero_cli.json("contact", "list", "--company", "NORTHWIND")) == ["Alice Adams", "bob Brown"]
    assert names(hero_cli.json("contact", "list", "--company", "northwind", "--tag", "vip")) == ["Alice Adams"]
    assert hero_cli.json("contact", "list", "--tag", "nobody") == []
    assert names(hero_cli.json("contact", "list", "--limit", "2")) == ["Alice Adams", "bob Brown"]
    hero_cli.fails(1, "contact", "list", "--limit", "0")
    hero_cli.fails(2, "contact", "list", "--limit", "many")
    code, out, _ = hero_cli("contact", "list")
    assert code == 0 and all(n in out for n in ("Alice Adams", "bob Brown", "Carol Clark", "dave Doe"))


# --- update, delete, tags ------------------------------------------------------------------


def test_update_changes_only_what_is_given(hero_cli, ctx):
    c = registry.call("contact.create", {"name": "Lena Fischer", "emails": ["lena@lumen.example"], "company": "Lumen Labs",
                                         "role": "CTO", "notes": "met at FOSDEM", "birthday": "1990-02-03",
                                         "tags": ["partner"]}, ctx)
    u = hero_cli.json("contact", "update", c.id[:12], "--role", "CEO", "--email", "lena@new.example", "-e", "l@x.example")
    assert u["role"] == "CEO" and u["emails"] == ["lena@new.example", "l@x.example"]
    assert (u["name"], u["company"], u["notes"], u["birthday"], u["tags"]) == (
        "Lena Fischer", "Lumen Labs", "met at FOSDEM", "1990-02-03", ["partner"])
    assert u["created"] == c.created.isoformat().replace("+00:00", "Z")
    assert datetime.fromisoformat(u["updated"]) >= datetime.fromisoformat(u["created"])
    u = hero_cli.json("contact", "update", c.id, "--company", "", "--birthday", "", "--notes", "", "--name", "Lena F.")
    assert (u["company"], u["birthday"], u["notes"], u["name"]) == (None, None, None, "Lena F.")
    assert u["role"] == "CEO"
    hero_cli.fails(1, "contact", "update", c.id)  # nothing to update
    assert hero_cli.json("contact", "search", "Lena")[0]["name"] == "Lena F."  # the index followed


def test_delete(hero_cli, ctx):
    keep = registry.call("contact.create", {"name": "Keep Kept"}, ctx)
    gone = registry.call("contact.create", {"name": "Gone Person", "notes": "ephemeral"}, ctx)
    assert [c["id"] for c in hero_cli.json("contact", "search", "ephemeral")] == [gone.id]
    d = hero_cli.json("contact", "delete", gone.id, "--yes")
    assert d == {"id": gone.id, "name": "Gone Person"}
    hero_cli.fails(3, "contact", "show", gone.id)
    assert hero_cli.json("contact", "search", "ephemeral") == []
    assert [c["id"] for c in hero_cli.json("contact", "list")] == [keep.id]
    hero_cli.fails(3, "contact", "delete", gone.id, "--yes")


def test_delete_without_yes_on_a_pipe_refuses(hero, ctx):
    c = registry.call("contact.create", {"name": "Stays Here"}, ctx)
    r = hero("contact", "delete", c.id, input="")
    assert r.code == 1 and "--yes" in r.err and "Traceback" not in r.err, r
    assert registry.call("contact.show", {"id": c.id}, ctx).name == "Stays Here"


def test_tag_and_untag(hero_cli, ctx):
    c = registry.call("contact.create", {"name": "Tag Target", "tags": ["client"]}, ctx)
    t = hero_cli.json("contact", "tag", c.id, "VIP,finance", "vip", "Client")
    assert t["tags"] == ["client", "vip", "finance"]
    assert [x["id"] for x in hero_cli.json("contact", "list", "--tag", "finance")] == [c.id]
    assert [x["id"] for x in hero_cli.json("contact", "search", "vip")] == [c.id]  # tags are searchable
    t = hero_cli.json("contact", "untag", c.id, "client", "notthere")
    assert t["tags"] == ["vip", "finance"]
    assert hero_cli.json("contact", "list", "--tag", "client") == []
    before = state(ctx)
    hero_cli.fails(1, "contact", "tag", c.id, "two words")
    hero_cli.fails(1, "contact", "tag", c.id, ",")
    hero_cli.fails(2, "contact", "tag", c.id)  # no tag at all is a usage error
    assert state(ctx) == before


# --- search --------------------------------------------------------------------------------


def test_search_is_fuzzy(hero_cli, business):
    for query in ("Alxe", "alex", "Alex Smith", "finanse", "Northwnd Finance"):
        hits = hero_cli.json("contact", "search", query)
        assert hits, query
        assert hits[0]["name"] == "Alex Smith", (query, [h["name"] for h in hits])
    assert all(set(h) == CONTACT_KEYS for h in hits)
    assert hero_cli.json("contact", "search", "qwertyuiop") == []


def test_search_ranks_a_title_match_first(hero_cli, ctx):
    body = registry.call("contact.create", {"name": "Sam Other", "company": "Quill Supplies",
                                            "notes": "quill quill quill, buys quill ink from Quill"}, ctx)
    title = registry.call("contact.create", {"name": "Jordan Quill"}, ctx)
    hits = hero_cli.json("contact", "search", "quill")
    assert [h["id"] for h in hits] == [title.id, body.id]
    hits = hero_cli.json("contact", "search", "Qulil")  # a typo: same order
    assert [h["id"] for h in hits][:1] == [title.id]


def test_search_finds_every_field(hero_cli, ctx):
    c = registry.call("contact.create", {"name": "Field Person", "emails": ["fp@uniquedomain.example"],
                                         "phones": ["+1 555 0199"], "company": "Acmecorp", "role": "Astronomer",
                                         "notes": "likes zeppelins", "tags": ["stargazer"]}, ctx)
    registry.call("contact.create", {"name": "Other Person"}, ctx)
    for q in ("uniquedomain", "Acmecorp", "astronomer", "zeppelins", "stargazer", "Field"):
        assert [h["id"] for h in hero_cli.json("contact", "search", q)] == [c.id], q
    assert len(hero_cli.json("contact", "search", "person", "--limit", "1")) == 1


# --- bad input changes nothing -------------------------------------------------------------


def test_bad_input_changes_nothing(hero_cli, ctx):
    c = registry.call("contact.create", {"name": "Stable Person", "emails": ["s@example.com"],
                                         "birthday": "1970-01-01"}, ctx)
    before = state(ctx)
    cases = [
        ("create", "--name", "X", "--email", "not-an-email"),
        ("create", "--name", "X", "--email", "a@b@c"),
        ("create", "--name", "X", "--birthday", "1990-13-45"),
        ("create", "--name", "X", "--birthday", "next tuesday"),
        ("create", "--name", "X", "--phone", "call me"),
        ("create", "--name", ""),
        ("create", "--name", "   "),
        ("create", "--name", "X", "--tag", "two words"),
        ("update", c.id, "--email", "broken"),
        ("update", c.id, "--birthday", "1990-02-30"),
        ("update", c.id, "--name", ""),
        ("update", c.id, "--name", "  "),
        ("update", c.id, "--phone", "x"),
    ]
    for argv in cases:
        err = hero_cli.fails(1, "contact", *argv)
        assert "hint:" in err, (argv, err)
    hero_cli.fails(3, "contact", "update", "ZZZZZZZZZZ", "--role", "X")
    hero_cli.fails(2, "contact", "create")  # --name missing: usage
    hero_cli.fails(2, "contact", "create", "--name", "X", "--no-such-option")
    assert state(ctx) == before
    assert registry.call("contact.show", {"id": c.id}, ctx).emails == ["s@example.com"]


def test_user_errors_in_a_real_process_have_no_traceback(hero):
    r = hero("contact", "create", "--name", "Real Person", "--json")
    assert r.code == 0, r
    cid = r.json()["id"]
    for code, args in ((1, ("contact", "create", "--name", "X", "--email", "nope")),
                       (1, ("contact", "create", "--name", "")),
                       (1, ("contact", "create", "--name", "X", "--birthday", "31/12/1999")),
                       (3, ("contact", "show", "ZZZZZZZZ")),
                       (3, ("contact", "update", "ZZZZZZZZ", "--role", "x")),
                       (1, ("contact", "update", cid, "--email", "nope")),
                       (2, ("contact", "create", "--bogus")),
                       (2, ("contact", "frobnicate"))):
        r = hero(*args)
        assert r.code == code, (args, r)
        assert "Traceback" not in r.err and "internal error" not in r.err, r
        assert r.out == "", r
    assert [c["id"] for c in hero("contact", "list", "--json").json()] == [cid]


def test_json_error_shape(hero_cli):
    code, out, err = hero_cli("contact", "create", "--name", "X", "--email", "bad", "--json")
    assert code == 1 and out == ""
    payload = json.loads(err)
    assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message", "hint"}
    assert payload["error"]["code"] == "invalid" and "--email" in payload["error"]["message"]


def test_python_api_validates_too(ctx):
    from herotui.errors import InvalidInput

    for args in ({"name": ""}, {"name": "  "}, {"name": "X", "emails": ["bad"]}, {"name": "X", "birthday": "soon"},
                 {"name": "X", "unknown": 1}, {}):
        with pytest.raises(InvalidInput):
            registry.call("contact.create", args, ctx)
    assert registry.call("contact.list", {}, ctx) == []


def test_list_and_show_in_a_named_context(hero_cli):
    contexts.create("business")
    c = hero_cli.json("--context", "business", "contact", "create", "--name", "Lena Fischer", "--company", "Lumen Labs")
    assert hero_cli.json("contact", "show", c["id"], "--context", "business")["company"] == "Lumen Labs"
    assert hero_cli.json("contact", "list") == []
