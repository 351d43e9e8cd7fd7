"""The official MCP SDK client against a real ``hero mcp serve`` process (stdio and HTTP)."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import asynccontextmanager

import anyio
import pytest

from herotui import contexts, registry
from herotui.frontends import mcp as hero_mcp


def _env(stores) -> dict:
    return stores.child_env()


@asynccontextmanager
async def stdio_session(stores, *extra: str):
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=stores.hero_exe(), args=["mcp", "serve", *extra], env=_env(stores))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            yield session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until the server answers (401 without a token means it is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read()}")
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("HTTP server did not start")


def text(result) -> str:
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def audit(hero_home) -> list[dict]:
    path = hero_home / "state" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


# --------------------------------------------------------------------------- stdio


def test_stdio_tools_calls_errors_contexts(stores, hero_home):
    from jsonschema import Draft202012Validator

    contexts.create("business")

    async def body():
        async with stdio_session(stores) as s:
            tools = {t.name: t for t in (await s.list_tools()).tools}
            expected = {hero_mcp.tool_name(n) for n in registry.verbs() if n not in hero_mcp.excluded()}
            assert set(tools) == expected
            assert "document_open" not in tools and set(hero_mcp.excluded()) == {"document.open"}  # the terminal verbs
            for name, t in tools.items():
                Draft202012Validator.check_schema(t.input_schema)
                assert t.description
                assert "context" in t.input_schema["properties"], name
                v = registry.get(t.title)
                writes_file = any(p.name == "output" for p in v.params)  # exports write a file
                assert t.annotations.read_only_hint is (not v.mutates and not writes_file)
                overwrites = any(p.name == "force" for p in v.params)  # force takes a confirm too
                assert ("confirm" in t.input_schema["properties"]) is (v.destructive or overwrites) \
                    or name in ("ask_run", "agent_run")
                if v.destructive:
                    assert t.annotations.destructive_hint is True
            assert tools["contact_create"].input_schema["required"] == ["name"]

            # create / list / search
            r = await s.call_tool("contact_create", {"name": "Alex Smith", "emails": ["alex@example.org"],
                                                     "company": "Acme", "tags": ["finance"]})
            assert not r.is_error, text(r)
            alex = r.structured_content
            assert alex["name"] == "Alex Smith" and json.loads(text(r))["id"] == alex["id"]
            r = await s.call_tool("contact_list", {})
            assert [c["name"] for c in r.structured_content["result"]] == ["Alex Smith"]
            r = await s.call_tool("contact_search", {"query": "acme"})
            assert [c["id"] for c in r.structured_content["result"]] == [alex["id"]]
            r = await s.call_tool("search_query", {"query": "alex"})
            assert not r.is_error and r.structured_content["result"]

            # destructive: refused without confirm, runs with it
            r = await s.call_tool("contact_delete", {"id": alex["id"]})
            assert r.is_error and "confirm: true" in text(r)
            assert len((await s.call_tool("contact_list", {})).structured_content["result"]) == 1
            r = await s.call_tool("contact_delete", {"id": alex["id"], "confirm": False})
            assert r.is_error
            r = await s.call_tool("contact_delete", {"id": alex["id"], "confirm": True})
            assert not r.is_error, text(r)
            assert (await s.call_tool("contact_list", {})).structured_content["result"] == []

            # bad arguments: a tool error with the human message, no traceback
            r = await s.call_tool("contact_create", {"nam": "typo"})
            assert r.is_error and "invalid input" in text(r) and "Traceback" not in text(r)
            r = await s.call_tool("contact_create", {"name": "Bad", "emails": ["not-an-email"]})
            assert r.is_error and "email" in text(r).lower()
            r = await s.call_tool("contact_show", {"id": "nonexistent"})
            assert r.is_error
            r = await s.call_tool("document_open", {"id": "x"})
            assert r.is_error and "not served over MCP" in text(r)
            r = await s.call_tool("document_add", {"paths": ["-"]})
            assert r.is_error and "standard input" in text(r)
            r = await s.call_tool("contact_list", {"context": "nowhere"})
            assert r.is_error and "unknown context" in text(r)

            # another context
            r = await s.call_tool("contact_create", {"name": "Lena Fischer", "company": "Lumen Labs",
                                                     "context": "business"})
            assert not r.is_error, text(r)
            assert (await s.call_tool("contact_list", {})).structured_content["result"] == []
            r = await s.call_tool("contact_list", {"context": "business"})
            assert [c["name"] for c in r.structured_content["result"]] == ["Lena Fischer"]

    anyio.run(body)
    records = [a for a in audit(hero_home) if a["actor"] == "mcp"]
    assert {"contact.create", "contact.list", "contact.delete", "contact.search"} <= {a["verb"] for a in records}
    assert any(a["context"] == "business" and a["ok"] for a in records)
    assert any(a["verb"] == "contact.delete" and not a["ok"] for a in records)
    assert registry.call("contact.list", {}, contexts.load("business"))[0].name == "Lena Fischer"


def test_stdio_default_context_option(stores):
    contexts.create("business")

    async def body():
        async with stdio_session(stores, "--context", "business") as s:
            r = await s.call_tool("contact_create", {"name": "Pinned Person"})
            assert not r.is_error, text(r)

    anyio.run(body)
    assert [c.name for c in registry.call("contact.list", {}, contexts.load("business"))] == ["Pinned Person"]
    assert registry.call("contact.list", {}, contexts.load("personal")) == []


# --------------------------------------------------------------------------- HTTP


def test_http_token_and_calls(stores, hero_home, hero):
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    proc = subprocess.Popen([stores.hero_exe(), "mcp", "serve", "--http", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(stores))
    try:
        wait_http(url, proc)
        token_file = hero_home / "config" / "mcp-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        shown = hero("mcp", "token")
        assert shown.code == 0 and shown.out.strip() == token_file.read_text().strip()
        secret = shown.out.strip()
        assert len(secret) >= 40

        # no token, a wrong token: 401
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": secret}):
            req = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Accept": "application/json, text/event-stream", **headers})
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(req, timeout=5)
            assert info.value.code == 401

        async def body_():
            async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {secret}"}, timeout=30) as client:
                async with streamable_http_client(url, http_client=client) as (read, write):
                    async with ClientSession(read, write) as s:
                        await s.initialize()
                        names = {t.name for t in (await s.list_tools()).tools}
                        assert {"contact_create", "contact_search", "calendar_today"} <= names
                        r = await s.call_tool("contact_create", {"name": "Http Person", "tags": ["web"]})
                        assert not r.is_error, text(r)
                        r = await s.call_tool("contact_search", {"query": "http"})
                        assert [c["name"] for c in r.structured_content["result"]] == ["Http Person"]
                        r = await s.call_tool("contact_delete", {"id": "x"})
                        assert r.is_error and "confirm" in text(r)
                        r = await s.call_tool("contact_list", {"limit": "many"})
                        assert r.is_error and "invalid input" in text(r)

        anyio.run(body_)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert secret not in proc.stderr.read()


# --------------------------------------------------------------------------- concurrency

CLI_WRITER = """
import subprocess, sys
hero, worker = sys.argv[1], sys.argv[2]
for i in range(20):
    subprocess.run([hero, "contact", "create", "--name", f"Cli{worker} Person{i:02d}", "--notes", "mcpconcurrency"],
                   check=True, capture_output=True)
"""


@pytest.mark.slow
def test_cli_writes_while_mcp_writes(stores):
    ctx = contexts.current()

    async def body():
        async with stdio_session(stores) as s:
            procs = [subprocess.Popen([sys.executable, "-c", CLI_WRITER, stores.hero_exe(), str(w)],
                                      stderr=subprocess.PIPE, text=True, env=_env(stores)) for w in range(3)]
            for i in range(20):
                r = await s.call_tool("contact_create", {"name": f"Mcp Person{i:02d}", "notes": "mcpconcurrency"})
                assert not r.is_error, text(r)
            for p in procs:
                _out, err = await anyio.to_thread.run_sync(lambda: p.communicate(timeout=240))
                assert p.returncode == 0, err
            r = await s.call_tool("contact_search", {"query": "mcpconcurrency", "limit": 200})
            assert len(r.structured_content["result"]) == 80

    anyio.run(body)
    rows = stores.db_contacts(ctx)
    expected = {f"Mcp Person{i:02d}" for i in range(20)} | {f"Cli{w} Person{i:02d}" for w in range(3) for i in range(20)}
    assert {name for _id, name, _rev in rows} == expected
    assert len(registry.call("contact.search", {"query": "mcpconcurrency", "limit": 200}, ctx)) == 80


# --------------------------------------------------------------------------- CLI surface


def test_config_and_lazy_import(hero, stores):
    r = hero("mcp", "config", "--ssh", "box")
    assert r.code == 0, r
    assert "claude mcp add hero -- hero mcp serve" in r.out
    assert "ssh -T box hero mcp serve" in r.out
    assert '"mcpServers"' in r.out
    # declaring the mcp commands, and a plain verb, never import the SDK
    code = ("import sys; from herotui.frontends import cli; cli.build_app(['mcp', 'token']); "
            "cli.build_app(['contact', 'list']); assert 'mcp' not in sys.modules, 'mcp imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(stores))
    assert proc.returncode == 0, proc.stderr


def test_http_non_loopback_host_warns(stores):
    """A host other than loopback is served only when asked, with a warning (0.0.0.0 is not bound here)."""
    assert hero_mcp.is_loopback("127.0.0.1") and hero_mcp.is_loopback("::1") and hero_mcp.is_loopback("localhost")
    assert not hero_mcp.is_loopback("0.0.0.0") and not hero_mcp.is_loopback("192.168.1.5")
    port = free_port()
    # an unresolvable --host: the warning is printed before binding, then the bind fails
    proc = subprocess.run([stores.hero_exe(), "mcp", "serve", "--http", "--host", "hero.invalid", "--port", str(port)],
                          capture_output=True, text=True, env=_env(stores), timeout=60)
    assert "warning: binding hero.invalid" in proc.stderr
