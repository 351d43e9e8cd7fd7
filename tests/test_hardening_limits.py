"""Issue 13, hostile input: memory per request is bounded, and every transport caps requests.

Search: query text over ``index.MAX_QUERY_CHARS`` is refused, long words are searched exactly,
at most ``index.MAX_FUZZY_TERMS`` words get fuzzy variants, a huge ``limit`` costs nothing.
Transports (real processes): over-long lines, deep nesting and odd ids are answered with a
JSON-RPC error and the server keeps serving; no error echoes megabytes of input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
from support import hero_exe

from herotui.errors import InvalidInput

MIB = 1 << 20


# --------------------------------------------------------------------------- search


def _run_py(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (its own RSS; an abort there is not ours)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


_SEARCH_RSS = """
    import resource, sys
    from herotui import contexts, registry
    from herotui.errors import HeroError
    from herotui.store import index
    ctx = contexts.current()
    if not registry.call("contact.list", {{}}, ctx):  # one home for every run of this script
        registry.call("contact.create", {{"name": "Alex Smith", "company": "Acme"}}, ctx, actor="cli")
    ctx = contexts.current()
    index.search(ctx, "alex")  # warm: the index is open, the first search paid for
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    before = peak()
    try:
        outcome = len(index.search(ctx, {text}, limit={limit}))
    except HeroError as exc:
        outcome = type(exc).__name__
    print(json.dumps({{"grew_mb": peak() - before, "outcome": outcome}}))
"""


def _search_rss(text: str, limit: int = 20) -> dict:
    proc = _run_py("import json\n" + textwrap.dedent(_SEARCH_RSS).format(text=text, limit=limit))
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_one_long_word_costs_bounded_memory():
    from herotui.store import index

    # the longest word allowed: searched exactly, not through a 2,000-state fuzzy automaton
    # (~60 MB before the bound, ~33 KB per character)
    word = f'"a" * {index.MAX_QUERY_CHARS}'
    got = _search_rss(word)
    assert got["outcome"] == 0 and got["grew_mb"] < 20, got
    # ten thousand characters: refused up front (400 MB before the bound)
    got = _search_rss('"a" * 10_000')
    assert got["outcome"] == "InvalidInput" and got["grew_mb"] < 20, got
    # many distinct words under the limit: only the first few are fuzzy (335 MB for 400 before)
    words = '" ".join("abcdefgh%d" % i for i in range(170))'
    got = _search_rss(words)
    assert got["outcome"] == 0 and got["grew_mb"] < 20, got


def test_huge_limit_does_not_reserve_memory():
    # Tantivy reserved room for 2 * limit hits up front: 4e9 asked for 128 GB and aborted
    got = _search_rss('"alex"', limit=4_000_000_000)
    assert got["outcome"] == 1, got


def test_long_query_is_refused_with_a_short_message(ctx):
    from herotui import registry
    from herotui.store import index

    text = "lookfor " * 2000
    with pytest.raises(InvalidInput) as info:
        registry.call("search.query", {"query": text}, ctx, actor="mcp")
    assert "too long" in info.value.message and f"{index.MAX_QUERY_CHARS:,}" in info.value.message
    assert "lookfor" not in info.value.message and len(info.value.message) < 200
    assert info.value.hint
    with pytest.raises(InvalidInput):
        registry.call("contact.search", {"query": "x" * (index.MAX_QUERY_CHARS + 1)}, ctx, actor="rpc")
    assert registry.call("contact.search", {"query": "x" * index.MAX_QUERY_CHARS}, ctx, actor="rpc") == []


def test_fuzzy_terms_are_bounded_and_long_words_exact(ctx, monkeypatch):
    import tantivy

    from herotui import registry
    from herotui.store import index

    registry.call("contact.create", {"name": "Alex Smith", "company": "Northwind", "tags": ["finance"]}, ctx, actor="cli")
    fuzzed: list[str] = []
    query_type = tantivy.Query
    real = query_type.fuzzy_term_query

    class Q:  # tantivy.Query is a Rust type: stand in for it with one that records fuzzy words
        def __getattr__(self, name):
            return getattr(query_type, name)

        @staticmethod
        def fuzzy_term_query(schema, field, text, **kw):
            fuzzed.append(text)
            return real(schema, field, text, **kw)

    monkeypatch.setattr(tantivy, "Query", Q())
    # typos are still forgiven for ordinary words
    assert [h.title for h in index.search(ctx, "northwnd")] == ["Alex Smith"]
    assert set(fuzzed) == {"northwnd"}
    fuzzed.clear()
    long_word = "n" * (index.MAX_FUZZY_WORD + 1)
    index.search(ctx, long_word)
    assert fuzzed == []  # searched exactly
    fuzzed.clear()
    words = [f"word{i:02d}" for i in range(40)]
    index.search(ctx, " ".join(words + words))
    assert sorted(set(fuzzed)) == words[: index.MAX_FUZZY_TERMS]
    # an exact long word still finds its record
    registry.call("contact.create", {"name": "Pneumonoultramicroscopicsilicovolcano Doe"}, ctx, actor="cli")
    hits = index.search(contexts_current(), "pneumonoultramicroscopicsilicovolcano")
    assert [h.title for h in hits] == ["Pneumonoultramicroscopicsilicovolcano Doe"]


def contexts_current():
    from herotui import contexts

    return contexts.current()


# --------------------------------------------------------------------------- RPC (stdio)


class RpcProcess:
    """``hero rpc serve --stdio`` as a child process."""

    def __init__(self) -> None:
        env = dict(os.environ, HERO_LOCK_TIMEOUT="60")
        self.proc = subprocess.Popen([hero_exe(), "rpc", "serve", "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def read_raw(self) -> bytes:
        raw = self.proc.stdout.readline()
        assert raw, f"server closed: {self.proc.poll()} {self.proc.stderr.read().decode()[-2000:]}"
        return raw

    def exchange(self, data: bytes) -> dict:
        self.send(data)
        return json.loads(self.read_raw())

    def alive(self, rid: int = 99) -> None:
        resp = self.exchange(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "contact.list"}).encode())
        assert resp["id"] == rid and isinstance(resp.get("result"), list), resp

    def peak_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


@pytest.fixture
def rpc_server():
    s = RpcProcess()
    yield s
    s.close()


def test_rpc_long_line_is_refused_and_not_kept(rpc_server):
    from herotui.frontends import rpc

    rpc_server.alive(1)
    before = rpc_server.peak_kb()
    # 24 MiB of one line (a valid request with a huge name): never held in memory
    big = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "contact.create",
                      "params": {"name": "x" * (24 * MIB)}}).encode()
    rpc_server.send(big)
    raw = rpc_server.read_raw()
    assert len(raw) < 2000, len(raw)
    resp = json.loads(raw)
    assert resp["id"] is None and resp["error"]["code"] == rpc.INVALID_REQUEST
    assert "over the limit" in resp["error"]["message"]
    grew_mb = (rpc_server.peak_kb() - before) / 1024
    assert grew_mb < 8, f"the server grew by {grew_mb:.0f} MB for one refused line"
    rpc_server.alive(3)
    # just under the limit is served (a method-not-found here), and the answer is short
    name = "m" * (rpc.MAX_LINE_BYTES - 100)
    resp = rpc_server.exchange(json.dumps({"jsonrpc": "2.0", "id": 4, "method": name}).encode())
    assert resp["error"]["code"] == rpc.METHOD_NOT_FOUND
    assert len(json.dumps(resp)) < 2 * rpc.MAX_ERROR_CHARS
    rpc_server.alive(5)


def test_rpc_deep_nesting_and_odd_ids_keep_the_server_up(rpc_server):
    from herotui.frontends import rpc

    for line in (b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000):
        resp = rpc_server.exchange(line)
        assert resp["id"] is None and resp["error"]["code"] in (rpc.INVALID_REQUEST, rpc.PARSE_ERROR), resp
        rpc_server.alive()
    # nested params deep enough to trouble validation or the audit writer
    deep = '{"jsonrpc":"2.0","id":7,"method":"contact.create","params":{"name":' + "[" * 900 + "]" * 900 + "}}"
    resp = rpc_server.exchange(deep.encode())
    assert resp["error"]["code"] == rpc.INVALID_REQUEST, resp
    # strings full of brackets are not nesting
    resp = rpc_server.exchange(json.dumps({"jsonrpc": "2.0", "id": 8, "method": "contact.create",
                                           "params": {"name": "[[[{{{" * 50 + '\\"['}}).encode())
    assert resp["id"] == 8 and resp["result"]["name"].startswith("[[[{{{"), resp
    # ids the server could not send back as JSON
    for bad in (b'{"jsonrpc":"2.0","id":NaN,"method":"contact.list"}',
                b'{"jsonrpc":"2.0","id":Infinity,"method":"contact.list"}',
                b'{"jsonrpc":"2.0","id":"\\ud800","method":"contact.list"}'):
        rpc_server.send(bad)
        raw = rpc_server.read_raw()
        resp = json.loads(raw)  # strict JSON: no NaN in the answer
        assert resp["id"] is None and resp["error"]["code"] == rpc.INVALID_REQUEST, resp
        rpc_server.alive()


def test_rpc_errors_never_echo_huge_input(rpc_server):
    from herotui.frontends import rpc

    junk = "z" * 500_000
    for req in ({"jsonrpc": "2.0", "id": 1, "method": junk},
                {"jsonrpc": "2.0", "id": 2, "method": "contact.show", "params": {"id": junk}},
                {"jsonrpc": "2.0", "id": 3, "method": "contact.create", "params": {"name": junk, "emails": [junk]}},
                {"jsonrpc": "2.0", "id": 4, "method": "search.query", "params": {"query": junk}}):
        raw = rpc_server.exchange(json.dumps(req).encode())
        assert "error" in raw, raw if len(json.dumps(raw)) < 3000 else req["id"]
        assert len(json.dumps(raw)) < 3 * rpc.MAX_ERROR_CHARS, (req["id"], len(json.dumps(raw)))
    rpc_server.alive()


def test_rpc_lines_are_split_and_capped_in_process():
    import io

    from herotui.frontends import rpc

    data = b"ab\n" + b"x" * 300 + b"\ncd\n" + b"y" * 150 + b"\n\nlast"
    got = list(rpc._lines(io.BytesIO(data), limit=100))
    assert got[0] == b"ab" and got[2] == b"cd" and got[4] == b"" and got[5] == b"last"
    assert isinstance(got[1], rpc.LineTooLong) and got[1].size == 300
    assert isinstance(got[3], rpc.LineTooLong) and got[3].size == 150
    assert rpc.too_deep("[" * (rpc.MAX_DEPTH + 1)) and not rpc.too_deep("[" * rpc.MAX_DEPTH)
    assert not rpc.too_deep(json.dumps(["[" * 1000]))
    assert rpc.too_deep(json.dumps(["\\", [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]), limit=10)


# --------------------------------------------------------------------------- MCP (stdio, HTTP)

_INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


class McpStdio(RpcProcess):
    """``hero mcp serve`` over stdio, spoken line by line (initialised)."""

    def __init__(self) -> None:
        env = dict(os.environ, HERO_LOCK_TIMEOUT="60")
        self.proc = subprocess.Popen([hero_exe(), "mcp", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        resp = self.exchange(json.dumps(_INIT).encode())
        assert resp["id"] == 1 and "result" in resp, resp
        self.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode())

    def alive(self, rid: int = 99) -> None:
        resp = self.exchange(json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                                         "params": {"name": "contact_list", "arguments": {}}}).encode())
        assert resp["id"] == rid and resp["result"]["isError"] is False, resp


@pytest.fixture
def mcp_stdio():
    s = McpStdio()
    yield s
    s.close()


def test_mcp_stdio_long_lines_deep_nesting_and_bad_json(mcp_stdio):
    from herotui.frontends import mcp

    mcp_stdio.alive(2)
    before = mcp_stdio.peak_kb()
    big = json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                      "params": {"name": "contact_create", "arguments": {"name": "x" * (24 * MIB)}}}).encode()
    mcp_stdio.send(big)
    raw = mcp_stdio.read_raw()
    assert len(raw) < 2000, len(raw)
    resp = json.loads(raw)
    assert resp["id"] is None and resp["error"]["code"] == -32600 and f"{mcp.MAX_REQUEST_BYTES:,}" in resp["error"]["message"]
    grew_mb = (mcp_stdio.peak_kb() - before) / 1024
    assert grew_mb < 8, f"the server grew by {grew_mb:.0f} MB for one refused line"
    mcp_stdio.alive(4)
    resp = mcp_stdio.exchange(b"[" * 100_000)
    assert resp["id"] is None and resp["error"]["code"] == -32600, resp
    resp = mcp_stdio.exchange(b"{not json")
    assert resp["id"] is None and resp["error"]["code"] == -32700, resp
    mcp_stdio.alive(5)
    assert mcp_stdio.proc.poll() is None


def test_mcp_unknown_tool_and_bad_cursor_are_protocol_errors(mcp_stdio):
    resp = mcp_stdio.exchange(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                                          "params": {"name": "no_such_tool" + "q" * 100_000, "arguments": {}}}).encode())
    assert resp["id"] == 7 and resp["error"]["code"] == -32602 and "unknown tool" in resp["error"]["message"], resp
    assert len(json.dumps(resp)) < 1000
    resp = mcp_stdio.exchange(json.dumps({"jsonrpc": "2.0", "id": 8, "method": "tools/list",
                                          "params": {"cursor": "bogus"}}).encode())
    assert resp["id"] == 8 and resp["error"]["code"] == -32602, resp
    resp = mcp_stdio.exchange(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}).encode())
    assert resp["id"] == 9 and len(resp["result"]["tools"]) > 10
    # a verb that exists but is not served: a tool error saying why
    resp = mcp_stdio.exchange(json.dumps({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
                                          "params": {"name": "document_open", "arguments": {"id": "x"}}}).encode())
    assert resp["result"]["isError"] is True and "not served over MCP" in resp["result"]["content"][0]["text"]
    # tool errors never echo huge input
    junk = "z" * 500_000
    resp = mcp_stdio.exchange(json.dumps({"jsonrpc": "2.0", "id": 11, "method": "tools/call",
                                          "params": {"name": "contact_show", "arguments": {"id": junk}}}).encode())
    assert len(json.dumps(resp)) < 3000, len(json.dumps(resp))
    mcp_stdio.alive()


def test_mcp_http_body_is_capped(hero_home):
    import socket
    import urllib.error
    import urllib.request

    from herotui.frontends import mcp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mcp"
    proc = subprocess.Popen([hero_exe(), "mcp", "serve", "--http", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                urllib.request.urlopen(url, timeout=1)
            except urllib.error.HTTPError:
                break
            except OSError:
                assert time.monotonic() < deadline, "HTTP server did not start"
                time.sleep(0.1)
        secret = (hero_home / "config" / "mcp-token").read_text().strip()
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
                   "Accept": "application/json, text/event-stream"}

        def post(body: bytes) -> tuple[int, bytes]:
            """A raw HTTP/1.1 POST: the server may answer before the body is sent (and close)."""
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(body)}\r\n"
                    "Connection: close\r\n\r\n").encode()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
                try:
                    conn.sendall(head + body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                data = b""
                try:
                    while chunk := conn.recv(65536):
                        data += chunk
                except ConnectionResetError:
                    pass
            status_line, _, rest = data.partition(b"\r\n")
            return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]

        status, _ = post(json.dumps(_INIT).encode())
        assert status == 200
        # 2 MiB (the SDK's own bound is 4 MiB): refused, briefly
        big = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"pad": "p" * (2 * MIB)}}).encode()
        status, body = post(big)
        assert status == 413 and len(body) < 2000, (status, body[:200])
        status, _ = post(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping",
                                     "params": {"pad": "p" * (mcp.MAX_REQUEST_BYTES // 2)}}).encode())
        assert status != 413
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
