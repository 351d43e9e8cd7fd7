"""``hero --context X <front-end> ...``: the root command's options reach the front-end groups
(rpc, mcp, tui, voice) as an explicit object the CLI hands them, not module state
(issue 16 item 4). Real ``hero`` processes."""

from __future__ import annotations

import json


def test_rpc_serve_is_pinned_by_the_root_context_option(hero):
    assert hero("context", "create", "business").code == 0
    line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "contact.list", "params": {"context": "personal"}}) + "\n"
    pinned = hero("--context", "business", "rpc", "serve", "--stdio", input=line)
    answer = json.loads(pinned.out)
    assert answer["error"]["code"] == -32602 and "only the context 'business'" in answer["error"]["message"], answer
    loose = hero("rpc", "serve", "--stdio", input=line)
    assert json.loads(loose.out)["result"] == []


def test_mcp_serve_checks_the_root_context_option_before_serving(hero):
    out = hero("--context", "nosuch", "mcp", "serve")
    assert out.code == 3 and "unknown context 'nosuch'" in out.err, out


def test_the_json_root_option_reaches_a_front_end_group(hero):
    out = hero("--json", "voice", "transcribe", "/nonexistent.wav")
    assert out.code != 0 and json.loads(out.err)["error"]["message"], out  # the error as JSON
