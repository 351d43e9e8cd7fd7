"""Issue 15, item 3: ``hero rpc serve --stdio`` and ``hero mcp serve`` as clients of the
resident server. Their calls run in the server (the audit's pid is the server's), with the
front-end's file roots and pinned context; a cancelled MCP call rolls back in the server;
the server's own methods are not reachable through them; a killed server is survived.
Real processes: the installed ``hero``, the official MCP SDK client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
from tests.e2e.conftest import child_env, hero_exe
from tests.e2e.test_server import start_server, wait_for

from herotui import server as wire
from herotui.server import cli as serve_cli

from test_mcp import stdio_session  # noqa: E402 (tests/e2e is on sys.path)


def audit(home: Path) -> list[dict]:
    path = home / "state" / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


class Rpc:
    def __init__(self, *extra: str, env: dict | None = None) -> None:
        self.proc = subprocess.Popen([hero_exe(), "rpc", "serve", "--stdio", *extra], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or child_env())
        self.n = 0

    def __call__(self, method: str, params=None) -> dict:
        self.n += 1
        msg = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None:
            msg["params"] = params
        self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read().decode()
        out = json.loads(line)
        assert out["id"] == self.n
        return out

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def until_in_server(home: Path, call, server_pid: int, timeout: float = 30.0) -> None:
    """Repeat a read until it is served by the resident server (the bridge links in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call()
        records = audit(home)
        if records and records[-1]["pid"] == server_pid:
            return
        time.sleep(0.05)
    raise AssertionError(f"the calls never ran in the server (PID {server_pid}): {audit(home)[-3:]}")


def test_rpc_bridge_runs_calls_in_the_server_with_its_roots_and_pin(hero_home, tmp_path):
    info = start_server()
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "one.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Outside Person\r\nEND:VCARD\r\n")
    rpc = Rpc("--root", str(allowed))
    try:
        until_in_server(hero_home, lambda: rpc("contact.list"), info["pid"])
        r = rpc("contact.create", {"name": "Grace Hopper"})
        assert r["result"]["name"] == "Grace Hopper"
        last = audit(hero_home)[-1]
        assert (last["verb"], last["actor"], last["pid"], last["ok"]) == ("contact.create", "rpc", info["pid"], True)
        # files: outside the roots refused in the server; a relative path lands in the first root (exports)
        r = rpc("contact.import", {"path": str(outside / "one.vcf")})
        assert r["error"]["code"] == -32602 and "outside the folders this server may use" in r["error"]["message"]
        assert audit(hero_home)[-1]["pid"] == info["pid"]
        r = rpc("contact.export", {"output": "people.vcf"})
        assert "error" not in r, r
        assert "Grace Hopper" in (hero_home / "exports" / "people.vcf").read_text()  # the first root
        r = rpc("contact.export", {"output": str(outside / "people.vcf")})
        assert r["error"]["code"] == -32602 and not (outside / "people.vcf").exists()
        # the server's own methods that run without roots are not the client's
        for method, params in (("hero.cli", {"method": "contact.export", "args": {"output": str(outside / "x.vcf")}}),
                               ("hero.stop", None), ("hero.hello", {"version": wire.server_version(), "serve": {}}),
                               ("hero.release", None)):
            r = rpc(method, params)
            assert r["error"]["code"] == -32601, (method, r)
        assert not (outside / "x.vcf").exists()
        assert serve_cli.status()["pid"] == info["pid"]
        # the server still holds this connection to its roots (the hello above changed nothing)
        r = rpc("contact.export", {"output": str(outside / "people.vcf"), "force": True, "confirm": True})
        assert r["error"]["code"] == -32602
    finally:
        rpc.close()
    assert serve_cli.status()["pid"] == info["pid"]


def test_rpc_bridge_answers_text_that_is_not_utf8_and_goes_on(hero_home):
    """A lone surrogate cannot cross to the server as UTF-8: the call is checked in-process (a
    clear error, not a wait for an answer that never comes) and the next call goes on."""
    info = start_server()
    rpc = Rpc()
    try:
        until_in_server(hero_home, lambda: rpc("contact.list"), info["pid"])
        r = rpc("contact.create", {"name": "a\udcffb"})
        assert r["error"]["code"] == -32602 and "not valid UTF-8" in r["error"]["message"], r
        r = rpc("contact.search", {"query": "x\u0000"})
        assert r["error"]["code"] == -32602 and "NUL" in r["error"]["message"], r
        assert rpc("contact.create", {"name": "Lena Fischer"})["result"]["name"] == "Lena Fischer"
        assert audit(hero_home)[-1]["pid"] == info["pid"]
    finally:
        rpc.close()


def test_rpc_bridge_keeps_the_pin_and_the_callers_default_context(hero_home):
    info = start_server()
    assert subprocess.run([hero_exe(), "context", "create", "business"], env=child_env(), capture_output=True).returncode == 0
    pinned = Rpc("--context", "business")
    loose = Rpc(env=child_env(HERO_CONTEXT="business"))
    try:
        until_in_server(hero_home, lambda: pinned("contact.list"), info["pid"])
        r = pinned("contact.list", {"context": "personal"})
        assert r["error"]["code"] == -32602 and "serves only the context 'business'" in r["error"]["message"]
        r = pinned("search.query", {"query": "x", "all_contexts": True})
        assert "error" in r and "all_contexts" in r["error"]["message"]
        assert pinned("contact.create", {"name": "Pinned Person"})["result"]["name"] == "Pinned Person"
        assert audit(hero_home)[-1]["context"] == "business" and audit(hero_home)[-1]["pid"] == info["pid"]
        # HERO_CONTEXT of the bridge is its default, not a pin
        until_in_server(hero_home, lambda: loose("contact.list"), info["pid"])
        assert [c["name"] for c in loose("contact.list")["result"]] == ["Pinned Person"]
        assert loose("contact.list", {"context": "personal"})["result"] == []
        assert audit(hero_home)[-1]["pid"] == info["pid"]
    finally:
        pinned.close()
        loose.close()


def test_rpc_bridge_survives_a_killed_server(hero_home):
    info = start_server()
    rpc = Rpc()
    try:
        until_in_server(hero_home, lambda: rpc("contact.list"), info["pid"])
        assert rpc("contact.create", {"name": "Before Kill"})["result"]
        os.kill(info["pid"], signal.SIGKILL)
        wait_for(lambda: not wire.server_running())
        # a read is answered (in-process, or by a new server), the write is not lost
        r = rpc("contact.list")
        assert [c["name"] for c in r["result"]] == ["Before Kill"]
        assert rpc("contact.create", {"name": "After Kill"})["result"]["name"] == "After Kill"
        new = wait_for(lambda: (s := serve_cli.status()) and s["pid"] != info["pid"] and s, timeout=30)
        assert new, "no new server was started"
        until_in_server(hero_home, lambda: rpc("contact.list"), new["pid"])
        assert sorted(c["name"] for c in rpc("contact.list")["result"]) == ["After Kill", "Before Kill"]
    finally:
        rpc.close()


def test_rpc_without_a_server_runs_in_process(hero_home):
    rpc = Rpc(env=child_env(HERO_NO_SERVER="1"))
    try:
        assert rpc("contact.create", {"name": "Alone"})["result"]["name"] == "Alone"
        assert rpc("contact.list")["result"][0]["name"] == "Alone"
        assert audit(hero_home)[-1]["pid"] == rpc.proc.pid
    finally:
        rpc.close()
    assert not wire.server_running()


from test_served_clients import _big_vcf  # noqa: E402 (tests/e2e is on sys.path)


def test_mcp_calls_run_in_the_server_and_a_cancel_rolls_back_there(stores, hero_home, tmp_path):
    info = start_server()
    big = tmp_path / "big.vcf"
    _big_vcf(big, 30_000)
    (tmp_path / "outside").mkdir()

    async def body():
        async with stdio_session(stores, "--root", str(tmp_path / "allowed")) as s:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = await s.call_tool("contact_list", {"limit": 1})
                assert not r.is_error
                if audit(hero_home)[-1]["pid"] == info["pid"]:
                    break
                await anyio.sleep(0.05)
            assert audit(hero_home)[-1]["pid"] == info["pid"], "the MCP calls never ran in the server"
            # roots: the big file is outside this server's folders (tmp_path/allowed)
            r = await s.call_tool("contact_import", {"path": str(big)})
            assert r.is_error and "outside the folders this server may use" in r.content[0].text
            assert audit(hero_home)[-1]["pid"] == info["pid"]

        async with stdio_session(stores, "--root", str(tmp_path)) as s:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                await s.call_tool("contact_list", {"limit": 1})
                if audit(hero_home)[-1]["pid"] == info["pid"]:
                    break
                await anyio.sleep(0.05)
            # cancelled while the server still reads the 30,000 cards (~1 s on 2 quiet cores):
            # their one write never starts. (At 1.5 s a quiet machine had already committed,
            # which the MCP specification allows: the test would prove nothing then.)
            with anyio.move_on_after(0.5) as scope:
                await s.call_tool("contact_import", {"path": str(big)})
            assert scope.cancelled_caught, "the import finished before it could be cancelled"
            record = None
            deadline = time.monotonic() + 120
            while record is None and time.monotonic() < deadline:
                await anyio.sleep(0.2)
                record = next((x for x in audit(hero_home) if x["verb"] == "contact.import" and x["args"].get("path") == str(big)
                               and "Cancelled" in (x["error"] or "")), None)
            assert record is not None and record["ok"] is False and record["pid"] == info["pid"], audit(hero_home)[-3:]
            assert record["actor"] == "mcp"
            r = await s.call_tool("contact_list", {"limit": 5})
            assert not r.is_error and r.structured_content["result"] == []

    anyio.run(body)
    assert serve_cli.status()["pid"] == info["pid"]
    from herotui import contexts

    assert stores.db_contacts(contexts.current()) == []


def test_voice_file_runs_in_the_server_with_the_model_kept(hero_home, tmp_path):
    """hero voice --file hands the recording to the server (the speech model loaded once):
    same turn as in-process, the plan run there with actor voice."""
    import pytest

    pytest.importorskip("piper", reason="voice extra not installed")
    from herotui.voice import tts

    wav = tts.synthesize("create a contact Ada Lovelace", "piper", deterministic=True).write(tmp_path / "ada.wav")
    info = start_server()

    def voice(**env) -> dict:
        cp = subprocess.run([hero_exe(), "voice", "--file", str(wav), "--json", "--silent", "--dry-run"],
                            capture_output=True, text=True, env=child_env(**env), timeout=120)
        assert cp.returncode == 0, cp.stderr
        return json.loads(cp.stdout)

    served = voice()
    # the thin command hands it over without building the full CLI (no Typer, no pydantic)
    cp = subprocess.run([sys.executable, "-X", "importtime", hero_exe(), "voice", "--file", str(wav), "--json",
                         "--silent", "--dry-run"], capture_output=True, text=True, env=child_env(), timeout=120)
    assert cp.returncode == 0, cp.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in cp.stderr.splitlines() if line.startswith("import time:")}
    assert "herotui.server.voice" in imported and not imported & {"typer", "pydantic", "duckdb", "rich"}
    record = audit(hero_home)[-1]
    assert (record["verb"], record["actor"], record["pid"]) == ("ask.run", "voice", info["pid"])
    local = voice(HERO_NO_SERVER="1")
    assert audit(hero_home)[-1]["pid"] != info["pid"]
    for turn in (served, local):
        turn.pop("timings"), turn.pop("spoken")
        (turn.get("result") or {}).pop("session", None)
    assert served == local
    assert served["plan"] and "contact create" in served["plan"][0]
    assert serve_cli.status()["pid"] == info["pid"]
