"""JSON-RPC 2.0 end to end: the installed ``hero rpc serve --stdio`` as a real subprocess.

Framing is newline-delimited JSON (one request or batch per line). The "remote" transport is
exercised through a fake ssh: a tiny script that drops its host argument and executes the rest,
as ``ssh box hero rpc serve --stdio`` would on the box.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def hero_exe() -> str:
    exe = Path(sys.executable).parent / "hero"
    return str(exe)


class Server:
    """``hero rpc serve --stdio`` in a child process; one JSON line out, one line back."""

    def __init__(self, argv: list[str] | None = None) -> None:
        env = dict(os.environ, HERO_LOCK_TIMEOUT="60")
        self.proc = subprocess.Popen(argv or [hero_exe(), "rpc", "serve", "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.next_id = 0

    def send_line(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def read(self):
        raw = self.proc.stdout.readline()
        assert raw, f"server closed: {self.proc.stderr.read().decode()}"
        return json.loads(raw)

    def exchange(self, line: str | bytes):
        self.send_line(line)
        return self.read()

    def call(self, method: str, params=None):
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            req["params"] = params
        resp = self.exchange(json.dumps(req))
        assert resp["jsonrpc"] == "2.0" and resp["id"] == self.next_id, resp
        return resp

    def ok(self, method: str, params=None):
        resp = self.call(method, params)
        assert "result" in resp, f"{method} {params}: {resp}"
        return resp["result"]

    def close(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out.decode(), err.decode()


@pytest.fixture
def server(tmp_path):
    s = Server([hero_exe(), "rpc", "serve", "--stdio", "--root", str(tmp_path)])  # the test's files
    yield s
    if s.proc.poll() is None:
        s.close()


def _validator():
    import jsonschema
    import referencing
    import referencing.jsonschema

    meta = json.loads((DATA / "openrpc-meta-schema.json").read_text())
    tools = json.loads((DATA / "json-schema-tools-meta-schema.json").read_text())
    resource = referencing.Resource.from_contents(tools, default_specification=referencing.jsonschema.DRAFT7)
    registry = referencing.Registry().with_resources(
        [("https://meta.json-schema.tools", resource), ("https://meta.json-schema.tools/", resource)])
    return jsonschema.Draft7Validator(meta, registry=registry)


def test_spec_validates_against_openrpc_meta_schema(hero):
    from herotui import registry
    from herotui.frontends import rpc

    r = hero("rpc", "spec")
    assert r.code == 0, r
    doc = json.loads(r.out)
    validator = _validator()
    problems = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]
    assert not problems, problems
    # the validator does look inside: a broken document is rejected
    broken = json.loads(r.out)
    broken["methods"][0]["params"].append({"required": True})  # a content descriptor without name/schema
    assert list(validator.iter_errors(broken))
    assert doc["openrpc"].startswith("1.3")
    names = {m["name"] for m in doc["methods"]}
    assert names == (set(registry.verbs()) - set(rpc.refused())) | {"rpc.discover"}
    # every $ref points into components
    text = json.dumps(doc)
    assert "#/$defs/" not in text
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"], ref
    create = next(m for m in doc["methods"] if m["name"] == "contact.create")
    assert create["summary"].startswith("Create a contact")
    assert [p["name"] for p in create["params"]][:2] == ["name", "emails"]
    assert create["params"][0]["required"] is True
    assert create["result"]["schema"] == {"$ref": "#/components/schemas/Contact"}
    delete = next(m for m in doc["methods"] if m["name"] == "contact.delete")
    assert delete["x-destructive"] is True and any(p["name"] == "confirm" for p in delete["params"])


def _fixtures(tmp: Path) -> dict[str, str]:
    (tmp / "report.md").write_text("# Quarterly report\n\nRevenue grew in every region. Alex wrote the summary. "
                                   "The outlook for next year is good.\n")
    (tmp / "deck.md").write_text("# Alex deck\n\nFirst slide\n\n---\n\n# Second\n\nMore words\n")
    book = tmp / "book"
    book.mkdir()
    (book / "intro.md").write_text("# Intro\n\nHero keeps every context separate.\n")
    (tmp / "one.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\nEND:VCARD\r\n")
    (tmp / "one.ics").write_text(textwrap.dedent("""\
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//test//EN
        BEGIN:VEVENT
        UID:abc-1@test
        DTSTAMP:20260101T000000Z
        DTSTART:20300101T100000Z
        DTEND:20300101T110000Z
        SUMMARY:Imported meeting
        END:VEVENT
        END:VCALENDAR
        """).replace("\n", "\r\n"))
    (tmp / "out").mkdir()
    return {"tmp": str(tmp)}


def test_every_verb_round_trips(server, tmp_path):
    """Each verb of the registry is called once through the server with minimal valid arguments."""
    from herotui import registry
    from herotui.frontends import rpc

    _fixtures(tmp_path)
    t = str(tmp_path)
    called: set[str] = set()

    def ok(method, params=None):
        called.add(method)
        return server.ok(method, params)

    # context
    assert any(c["name"] == "personal" for c in ok("context.list"))
    ok("context.create", {"name": "work"})
    ok("context.show", {"name": "work"})
    ok("context.use", {"name": "personal"})
    ok("context.rename", {"name": "work", "new_name": "work2"})
    ok("context.delete", {"name": "work2", "confirm": True})
    # config: the serving process's settings, each with its source
    assert any(r["name"] == "HERO_HOME" and r["source"].startswith("env") for r in ok("config.show"))
    # contact
    ada = ok("contact.create", {"name": "Ada Lovelace", "emails": ["ada@example.com"], "tags": ["math"],
                                "birthday": "1815-12-10"})
    cid = ada["id"]
    assert ok("contact.show", {"id": cid}) == ada
    assert [c["id"] for c in ok("contact.list")] == [cid]
    assert ok("contact.update", {"id": cid, "company": "Analytical Engines"})["company"] == "Analytical Engines"
    assert ok("contact.search", {"query": "Ada"})[0]["id"] == cid
    assert "x" in ok("contact.tag", {"id": cid, "tags": ["x"]})["tags"]
    assert "x" not in ok("contact.untag", [cid, ["x"]])["tags"]  # by position
    ok("contact.import", {"path": f"{t}/one.vcf"})
    assert ok("contact.export", {})["count"] == 2
    # calendar
    ev = ok("calendar.add", {"title": "Quarterly with Alex", "start": "tomorrow 10am", "duration": "1h",
                             "attendees": [cid]})
    eid = ev["id"]
    ok("calendar.show", {"id": eid})
    assert ok("calendar.list", {})
    ok("calendar.today")
    ok("calendar.week", {"offset": 0})
    assert ok("calendar.agenda", {"days": 3})
    assert ok("calendar.next")["title"] == "Quarterly with Alex"
    ok("calendar.update", {"id": eid, "location": "Room 1"})
    ok("calendar.search", {"query": "Quarterly"})
    ok("calendar.import", {"path": f"{t}/one.ics"})
    assert ok("calendar.export", {})["count"] == 2
    # documents
    added = ok("document.add", {"paths": [f"{t}/report.md"], "tags": ["report"]})
    did = added["added"][0]["id"]
    ok("document.list")
    ok("document.show", {"id": did})
    assert "Revenue" in ok("document.text", {"id": did})["text"]
    ok("document.search", {"query": "revenue"})
    ok("document.update", {"id": did, "title": "Q report"})
    ok("document.tag", {"id": did, "tags": ["q3"]})
    ok("document.untag", {"id": did, "tags": ["q3"]})
    ok("document.link", {"id": did, "contacts": [cid], "events": [eid]})
    ok("document.unlink", {"id": did, "events": [eid]})
    ok("document.export", {"id": did, "output": f"{t}/out"})
    ok("document.summarize", {"id": did, "method": "extractive"})
    # slides
    deck = ok("slides.create", {"path": f"{t}/deck.md", "tags": ["alex"]})
    ok("slides.list")
    ok("slides.show", {"id": deck["id"]})
    assert ok("slides.present", {"best": "alex"})["deck_id"] == deck["id"]
    ok("slides.link", {"id": deck["id"], "contacts": [cid]})
    # knowledge
    ok("knowledge.add", {"path": f"{t}/book", "book": "mine"})
    ok("knowledge.list")
    ok("knowledge.list", {"book": "mine"})
    ok("knowledge.show", {"page": "intro", "book": "mine"})
    ok("knowledge.search", {"query": "context"})
    ok("knowledge.ask", {"question": "what does Hero keep separate?"})
    # the rest
    assert ok("search.query", {"query": "Ada"})
    ok("ask.run", {"text": "what's on today", "dry_run": True})
    ok("agent.run", {"text": "what's on today", "dry_run": True})
    ok("index.rebuild")
    ok("status.show")
    ok("demo.load", {"only": "business"})
    ok("document.list", {"context": "business"})
    # destructive verbs last
    ok("knowledge.delete", {"book": "mine", "confirm": True})
    ok("slides.delete", {"id": deck["id"], "confirm": True})
    ok("document.delete", {"id": did, "confirm": True})
    ok("calendar.delete", {"id": eid, "confirm": True})
    ok("contact.delete", {"id": cid, "confirm": True})
    history = ok("history.list", {"limit": 500})
    assert {h["actor"] for h in history} >= {"rpc"}
    # and the refused one
    resp = server.call("document.open", {"id": did})
    assert resp["error"]["code"] == -32006
    called.add("document.open")
    assert called == set(registry.verbs()), sorted(set(registry.verbs()) - called)
    assert set(rpc.refused()) == {"document.open"}  # the registry's terminal verbs
    code, out, _err = server.close()
    assert code == 0 and out == ""


def test_protocol_errors_batches_and_notifications(server):
    # parse error
    resp = server.exchange("{not json")
    assert resp["id"] is None and resp["error"]["code"] == -32700
    # invalid requests
    assert server.exchange('"hello"')["error"]["code"] == -32600
    assert server.exchange('{"jsonrpc": "1.0", "id": 7, "method": "status.show"}') == {
        "jsonrpc": "2.0", "id": 7, "error": {"code": -32600, "message": 'invalid request: "jsonrpc" must be "2.0"'}}
    assert server.exchange('{"jsonrpc": "2.0", "id": 8, "method": "status.show", "params": 3}')["error"]["code"] == -32600
    assert server.exchange("[]")["error"]["code"] == -32600
    # unknown method, invalid params (the validation message), unknown parameter, too many by position
    assert server.call("contact.nope")["error"]["code"] == -32601
    assert server.call("nope")["error"]["code"] == -32601
    err = server.call("contact.create", {"name": "Ada", "emails": ["not-an-email"]})["error"]
    assert err["code"] == -32602 and "invalid input" in err["message"]
    assert "emails" in err["message"] and "--email" not in err["message"]  # the method's terms, not the CLI's
    assert server.call("contact.create", {})["error"]["message"] == "invalid input: name is required"
    assert "not a parameter" in server.call("contact.list", {"colour": "red"})["error"]["message"]
    assert server.call("contact.show", ["a", "b", "c"])["error"]["code"] == -32602  # id, context: no third
    # application errors: not found, confirmation, unknown context, stdin refused
    err = server.call("contact.show", {"id": "01ZZZ"})["error"]
    assert err["code"] == -32003 and err["data"]["kind"] == "not_found" and err["data"]["hint"]
    ada = server.ok("contact.create", {"name": "Ada"})
    err = server.call("contact.delete", {"id": ada["id"]})["error"]
    assert err["code"] == -32001 and err["data"]["kind"] == "confirm"
    assert server.ok("contact.show", {"id": ada["id"]})["name"] == "Ada"  # nothing deleted
    assert server.call("contact.list", {"context": "nowhere"})["error"]["code"] == -32003
    err = server.call("document.add", {"paths": ["-"]})["error"]
    assert err["code"] == -32006 and "standard input" in err["message"]
    # notification: no response; the next request is answered
    server.send_line(json.dumps({"jsonrpc": "2.0", "method": "contact.create", "params": {"name": "Silent"}}))
    assert [c["name"] for c in server.ok("contact.list")] == ["Ada", "Silent"]
    # batch: responses for the requests only, errors inside; an all-notification batch gets no line
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "contact.create", "params": {"name": "Lena Fischer", "company": "Lumen Labs"}},
        {"jsonrpc": "2.0", "method": "status.show"},
        {"jsonrpc": "2.0", "id": "b", "method": "contact.search", "params": {"query": "Lena"}},
        {"jsonrpc": "2.0", "id": "c", "method": "nope"},
        5,
    ]
    out = server.exchange(json.dumps(batch))
    assert isinstance(out, list) and len(out) == 4
    by_id = {r["id"]: r for r in out if r["id"] is not None}
    assert by_id["a"]["result"]["company"] == "Lumen Labs"
    assert by_id["b"]["result"][0]["name"] == "Lena Fischer"
    assert by_id["c"]["error"]["code"] == -32601
    assert [r["error"]["code"] for r in out if r["id"] is None] == [-32600]
    server.send_line(json.dumps([{"jsonrpc": "2.0", "method": "status.show"}]))
    discover = server.ok("rpc.discover")  # the line after the silent batch is this answer
    assert discover["info"]["title"] == "Hero"
    server.send_line(b"\xff\xfe not utf-8")
    assert server.read()["error"]["code"] == -32700
    code, out, _err = server.close()
    assert code == 0 and out == ""


def test_cli_results_match_rpc_results(server, hero):
    created = server.ok("contact.create", {"name": "Ada Lovelace", "emails": ["ada@example.com"]})
    cli = hero("contact", "show", created["id"], "--json")
    assert cli.code == 0, cli
    assert cli.json() == server.ok("contact.show", {"id": created["id"]})


def test_fake_ssh_transport_and_no_lock_between_calls(tmp_path, hero):
    """A remote Hero through a stand-in for ssh; between calls the CLI writes to the same context."""
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text("#!/bin/sh\n# stands in for ssh: drop the host, run the command\nshift\nexec \"$@\"\n")
    fake_ssh.chmod(0o755)
    s = Server([str(fake_ssh), "box", hero_exe(), "rpc", "serve", "--stdio"])
    try:
        s.ok("contact.create", {"name": "Over SSH"})
        r = hero("contact", "create", "--name", "From the CLI", env={"HERO_LOCK_TIMEOUT": "2"})
        assert r.code == 0, r  # the server holds no lock while idle
        assert sorted(c["name"] for c in s.ok("contact.list")) == ["From the CLI", "Over SSH"]
    finally:
        code, out, err = s.close()
    assert code == 0 and out == "", err


def test_serve_needs_stdio(hero):
    r = hero("rpc", "serve")
    assert r.code == 1 and "--stdio" in r.err
