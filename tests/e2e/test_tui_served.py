"""Issue 15, item 3: the TUI as a client of the resident server.

A served app (what ``hero`` and ``hero tui`` open) runs its verbs in the server: the audit's
pid is the server's and its actor ``tui``; results come back as the same models; the verbs
that read the caller's files and the context verbs stay in the app's process; a killed
server is survived (reads run again in-process, then a new server takes over). A real
server process, a real Textual app (``run_test``)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from support import hero_app, until
from tests.e2e.test_server import start_server, wait_for

from herotui import server as wire
from herotui.server import cli as serve_cli

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def audit(home: Path) -> list[dict]:
    path = home / "state" / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


async def test_a_served_tui_runs_its_verbs_in_the_server(hero_home, tmp_path):
    info = start_server()
    app = hero_app(island="contacts", served=True)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await until(pilot, lambda: app.calls.opened.is_set(), timeout=30) and app.calls.remote
        made = await asyncio.to_thread(app.calls.call, "contact.create", {"name": "Grace Hopper"}, app.ctx)
        assert type(made).__name__ == "Contact" and made.name == "Grace Hopper"  # the verb's own model
        last = audit(hero_home)[-1]
        assert (last["verb"], last["actor"], last["pid"], last["ok"]) == ("contact.create", "tui", info["pid"], True)
        # the island shows it (refreshed by the server's notification), read in the server too
        table = app.query_one("#contacts-table")
        assert await until(pilot, lambda: table.row_count == 1, timeout=10)
        listed = await asyncio.to_thread(app.calls.call, "contact.list", {}, app.ctx)
        assert [c.name for c in listed] == ["Grace Hopper"] and audit(hero_home)[-1]["pid"] == info["pid"]
        # a verb that reads this process's files runs here (its progress and Ctrl-C are this process's)
        vcf = tmp_path / "one.vcf"
        vcf.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEND:VCARD\r\n")
        await asyncio.to_thread(app.calls.call, "contact.import", {"path": str(vcf)}, app.ctx)
        last = audit(hero_home)[-1]
        assert (last["verb"], last["actor"], last["pid"]) == ("contact.import", "tui", os.getpid())
        # the server's errors arrive as Hero's own errors
        from herotui.errors import NotFound

        with pytest.raises(NotFound):
            await asyncio.to_thread(app.calls.call, "contact.show", {"id": "01JD3ZZZZZZZZZZZZZZZZZZZZZ"}, app.ctx)
        # a killed server: the next read is answered all the same
        os.kill(info["pid"], signal.SIGKILL)
        assert wait_for(lambda: not wire.server_running())
        listed = await asyncio.to_thread(app.calls.call, "contact.list", {}, app.ctx)
        assert sorted(c.name for c in listed) == ["Ada Lovelace", "Grace Hopper"]
    app.calls.close()


async def test_an_app_that_is_not_served_runs_in_process(hero_home):
    app = hero_app(island="contacts")
    async with app.run_test(size=(120, 40)):
        assert not app.calls.remote
        await asyncio.to_thread(app.calls.call, "contact.create", {"name": "Alone"}, app.ctx)
        assert audit(hero_home)[-1]["pid"] == os.getpid()
    assert serve_cli.status() is None  # nothing started one
