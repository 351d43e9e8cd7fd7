"""The audit log as a command: ``hero history`` lists what ran, newest first.

Every verb call, whoever makes it (cli, tui, voice, planner, mcp, rpc), is one JSON line in
``state/audit.jsonl`` (rotated to ``audit.jsonl.1`` past 5 MB), written by the registry.
``history`` reads both files; its own calls are left out unless asked for with
``--verb history``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel

from herotui import paths
from herotui.registry import P, verb

SERVICE = "history"


class AuditEntry(BaseModel):
    """One verb call: when, who (actor), where (context), what (verb, arguments), outcome."""

    time: str
    actor: str
    context: str | None = None
    verb: str
    outcome: str  # "ok" or the error
    ok: bool
    ms: float | None = None
    args: dict[str, Any] = {}

    __columns__ = ("time", "actor", "context", "verb", "outcome")


def _lines(path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


@verb(cli_name="history", examples=["hero history", "hero history --actor planner --failed", "hero history --verb contact --limit 10"])
def list_(
    ctx,
    actor: Annotated[str | None, P("Only calls by this actor (cli, tui, voice, planner, mcp, rpc, ...)")] = None,
    verb_name: Annotated[str | None, P("Only this verb, or a service (contact) or prefix of it", flag="--verb")] = None,
    in_context: Annotated[str | None, P("Only calls in this context (--context picks where hero runs, not a filter)")] = None,
    failed: Annotated[bool, P("Only calls that failed")] = False,
    limit: Annotated[int, P("At most this many (newest first)", minimum=1)] = 50,
) -> list[AuditEntry]:
    """Show the audit log: who ran which command, in which context, when, and how it went."""
    folder = paths.state_dir()
    lines = _lines(folder / "audit.jsonl.1") + _lines(folder / "audit.jsonl")
    out: list[AuditEntry] = []
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn line (a crash mid-write) is skipped, never fatal
        name = rec.get("verb") or ""
        if verb_name:
            if not (name == verb_name or name.startswith(verb_name.rstrip(".") + ".")):
                continue
        elif name.startswith("history."):
            continue
        if actor and rec.get("actor") != actor:
            continue
        if in_context and rec.get("context") != in_context:
            continue
        if failed and rec.get("ok"):
            continue
        out.append(AuditEntry(time=rec.get("time", ""), actor=rec.get("actor", ""), context=rec.get("context"), verb=name,
                              ok=bool(rec.get("ok")), outcome="ok" if rec.get("ok") else (rec.get("error") or "failed"),
                              ms=rec.get("ms"), args=rec.get("args") or {}))
        if len(out) >= limit:
            break
    return out
