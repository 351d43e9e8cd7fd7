"""Issue 13, items 2 and 6: what a remote client (MCP, JSON-RPC) may do with files, how its
calls are cancelled, how the HTTP server checks who is asking, and the terms its errors use.
Real ``hero`` server processes and the official MCP SDK client."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import anyio
import pytest

from test_mcp import free_port, stdio_session, text, wait_http  # noqa: E402 (tests/e2e is on sys.path)


def rpc_server(stores, *extra: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([stores.hero_exe(), "rpc", "serve", "--stdio", *extra], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=stores.child_env(**(env or {})))


def rpc(proc: subprocess.Popen, method: str, params=None) -> dict:
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode() + b"\n")
    proc.stdin.flush()
    line = proc.stdout.readline()
    assert line, proc.stderr.read().decode()
    return json.loads(line)


def close(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder no server was allowed, with a card and a page in it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "one.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Outside Person\r\nEND:VCARD\r\n")
    (folder / "secret.md").write_text("# Secret\n\nthe launch codes\n")
    return folder


# --------------------------------------------------------------------------- file roots


def test_rpc_reads_and_writes_only_in_the_served_folders(stores, hero_home, outside, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "link.md").symlink_to(outside / "secret.md")  # a link inside that points out
    (allowed / "ok.md").write_text("# Fine\n\nreadable\n")
    proc = rpc_server(stores, "--root", str(allowed))
    try:
        # outside: refused with a clear error, nothing imported, nothing read
        err = rpc(proc, "contact.import", {"path": str(outside / "one.vcf")})["error"]
        assert err["code"] == -32602 and "outside the folders this server may use" in err["message"]
        assert "--root" in err["data"]["hint"]
        err = rpc(proc, "document.add", {"paths": ["/etc/passwd"]})["error"]
        assert "outside the folders" in err["message"] and "root:" not in json.dumps(err)
        # a folder that is allowed: its own page is added, the link out of it is skipped
        report = rpc(proc, "document.add", {"paths": [str(allowed)]})["result"]
        assert [a["filename"] for a in report["added"]] == ["ok.md"]
        assert [(Path(s["path"]).name, s["reason"]) for s in report["skipped"]] == \
            [("link.md", "outside the folders this server may use")]
        texts = [rpc(proc, "document.text", {"id": a["id"]})["result"] for a in report["added"]]
        assert not any("launch codes" in json.dumps(t) for t in texts)
        # writes: a relative name lands in <data>/exports; a folder outside is refused
        rpc(proc, "contact.create", {"name": "Ada Lovelace"})
        done = rpc(proc, "contact.export", {"output": "all.vcf"})["result"]
        assert Path(done["path"]) == hero_home / "exports" / "all.vcf" and "Ada Lovelace" in Path(done["path"]).read_text()
        err = rpc(proc, "contact.export", {"output": str(outside / "x.vcf")})["error"]
        assert "cannot write" in err["message"] and not (outside / "x.vcf").exists()
        doc = report["added"][0]["id"]
        err = rpc(proc, "document.export", {"id": doc, "output": str(outside / "new-folder")})["error"]
        assert "outside" in err["message"] and not (outside / "new-folder").exists()
        assert Path(rpc(proc, "document.export", {"id": doc})["result"]["path"]).parent == hero_home / "exports"
        # the folder given with --root is readable and writable
        assert rpc(proc, "contact.export", {"output": str(allowed / "mine.vcf")})["result"]["count"] == 1
        assert "result" in rpc(proc, "knowledge.add", {"path": str(allowed), "book": "notes"})
        assert "outside" in rpc(proc, "knowledge.add", {"path": str(outside), "book": "x"})["error"]["message"]
        # Hero's own demo is readable whatever the roots
        assert "result" in rpc(proc, "demo.load", {"only": "business"})
    finally:
        close(proc)


def test_hero_file_roots_allows_a_folder(stores, outside):
    proc = rpc_server(stores, env={"HERO_FILE_ROOTS": str(outside)})
    try:
        assert rpc(proc, "contact.import", {"path": str(outside / "one.vcf")})["result"]["imported"] == 1
    finally:
        close(proc)


def test_cli_names_any_file(hero, outside):
    """Roots bind remote clients only: the user at the terminal imports from anywhere."""
    assert hero("contact", "import", str(outside / "one.vcf")).code == 0


def test_mcp_refuses_files_outside_and_says_so(stores, outside):
    async def body():
        async with stdio_session(stores) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            for name in ("contact_import", "document_add", "contact_export", "knowledge_add"):
                assert "only in the folders this server may use" in tools[name].description, name
            assert "folders this server may use" not in tools["contact_create"].description
            r = await s.call_tool("document_add", {"paths": ["/etc/passwd"]})
            assert r.is_error and "outside the folders" in text(r) and "root:x" not in text(r)
            r = await s.call_tool("contact_import", {"path": str(outside / "one.vcf")})
            assert r.is_error and "--root" in text(r)

    anyio.run(body)


# --------------------------------------------------------------------------- errors in the tool's terms


def test_errors_speak_the_tools_language(stores):
    async def body():
        async with stdio_session(stores) as s:
            r = await s.call_tool("contact_create", {"name": "Ada", "emails": ["not-an-email"]})
            assert r.is_error and "emails" in text(r) and "--email" not in text(r)
            r = await s.call_tool("contact_list", {"limit": 10**30})
            assert r.is_error and "limit" in text(r) and "--limit" not in text(r)
            r = await s.call_tool("contact_create", {"name": "Ada"})
            r = await s.call_tool("contact_delete", {"id": r.structured_content["id"]})
            assert r.is_error and "confirm: true" in text(r) and "--yes" not in text(r)

    anyio.run(body)


# --------------------------------------------------------------------------- OpenRPC positions


def test_openrpc_positions_include_context_and_confirm(stores, hero_home):
    from herotui.frontends import rpc as hero_rpc

    spec = hero_rpc.spec()
    methods = {m["name"]: m for m in spec["methods"]}
    delete = [p["name"] for p in methods["contact.delete"]["params"]]
    assert delete[-2:] == ["context", "confirm"]
    export = [p["name"] for p in methods["contact.export"]["params"]]
    assert export[-2:] == ["context", "confirm"] and "force" in export  # force takes a confirm too
    proc = rpc_server(stores)
    try:
        rpc(proc, "context.create", {"name": "business"})
        # a generated client passes every parameter by position, defaults included
        values = {"name": "Grace Hopper", "context": "business"}
        made = rpc(proc, "contact.create", [values.get(p["name"], p["schema"].get("default"))
                                            for p in methods["contact.create"]["params"]])
        assert made["result"]["name"] == "Grace Hopper", made
        assert rpc(proc, "contact.list", {"context": "business"})["result"][0]["name"] == "Grace Hopper"
        assert rpc(proc, "contact.list", {})["result"] == []  # not in the default context
        # a generated client confirms by position, in the order the document gives
        args = {"id": made["result"]["id"], "context": "business", "confirm": True}
        gone = rpc(proc, "contact.delete", [args[name] for name in delete])
        assert "result" in gone, gone
        assert rpc(proc, "contact.list", {"context": "business"})["result"] == []
    finally:
        close(proc)


# --------------------------------------------------------------------------- cancellation


def _big_vcf(path: Path, n: int) -> None:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i:05d}\r\nEMAIL:p{i}@example.org\r\n"
                     f"NOTE:{'x' * 200}\r\nEND:VCARD\r\n")


def test_a_cancelled_call_changes_nothing(stores, hero_home, tmp_path):
    """The client gives up on a long import (the SDK sends notifications/cancelled): the
    import's write rolls back, the audit says so, and the server goes on serving."""
    big = tmp_path / "big.vcf"
    _big_vcf(big, 30_000)

    async def body():
        async with stdio_session(stores, "--root", str(tmp_path)) as s:
            with anyio.move_on_after(1.5) as scope:
                await s.call_tool("contact_import", {"path": str(big)})
            assert scope.cancelled_caught, "the import finished before it could be cancelled"
            audit = hero_home / "state" / "audit.jsonl"
            deadline = time.monotonic() + 120
            record = None
            while record is None and time.monotonic() < deadline:
                await anyio.sleep(0.2)
                lines = audit.read_text().splitlines() if audit.exists() else []
                record = next((json.loads(x) for x in lines if json.loads(x)["verb"] == "contact.import"), None)
            assert record is not None and record["ok"] is False and "Cancelled" in record["error"], record
            r = await s.call_tool("contact_list", {"limit": 5})
            assert not r.is_error and r.structured_content["result"] == []
            r = await s.call_tool("contact_create", {"name": "After Cancel"})
            assert not r.is_error

    anyio.run(body)
    from herotui import contexts

    assert [name for _id, name, _rev in stores.db_contacts(contexts.current())] == ["After Cancel"]


# --------------------------------------------------------------------------- HTTP: who is asking


def test_http_checks_host_origin_and_bearer_whatever_the_bind(stores, hero_home, hero):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    proc = subprocess.Popen([stores.hero_exe(), "mcp", "serve", "--http", "--host", "0.0.0.0", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=stores.child_env())
    try:
        wait_http(url, proc)
        secret = hero("mcp", "token").out.strip()
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).encode()

        def post(**headers) -> int:
            req = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    assert exc.headers.get("WWW-Authenticate", "").startswith("Bearer")
                return exc.code

        assert post(Authorization=f"Bearer {secret}") == 200
        assert post(Authorization=f"bearer {secret}") == 200  # the scheme is case-insensitive
        assert post(Authorization=f"BEARER  {secret} ") == 200
        assert post(Authorization=f"Basic {secret}") == 401
        assert post(Authorization=f"Bearer {secret}", Host=f"evil.example:{port}") == 421  # DNS rebinding
        assert post(Authorization=f"Bearer {secret}", Origin="http://evil.example") == 403
        assert post(Authorization=f"Bearer {secret}", Origin=f"http://localhost:{port}") == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_allowed_hosts_cover_the_machine_when_bound_to_every_address():
    import socket

    from herotui.frontends import mcp as hero_mcp

    assert hero_mcp.allowed_hosts("127.0.0.1") == ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    wide = hero_mcp.allowed_hosts("0.0.0.0", ["hero.lan"])
    assert f"{socket.gethostname()}:*" in wide and "hero.lan:*" in wide
    assert "192.168.1.5:*" in hero_mcp.allowed_hosts("192.168.1.5")
    assert "[fd00::1]:*" in hero_mcp.allowed_hosts("fd00::1")
