"""Plans are data: steps (verb, arguments, context, CLI line), confirmation, and the reply.

Every step carries the exact command a person could type for it, so a plan can be shown,
copied and replayed; ``cli_line`` derives it from the verb's metadata (the same metadata the
CLI is generated from), so the two cannot disagree.
"""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import BaseModel, Field

from herotui import registry


class Step(BaseModel):
    """One verb call of a plan."""

    verb: str
    args: dict[str, Any] = Field(default_factory=dict)
    context: str
    cli: str = ""
    destructive: bool = False
    # "$1.id" style references to earlier results are resolved at run time (see execute)


class Plan(BaseModel):
    """What the planner understood: steps to run, whether to ask first, and what to say."""

    text: str
    steps: list[Step] = Field(default_factory=list)
    needs_confirmation: bool = False
    reply: str = ""
    source: str = "intent"  # intent | llm | fallback
    intent: str | None = None
    question: str | None = None  # what the reply answers: "free:<period>", "count:<period>", "field:email", ...
    confidence: float = 1.0  # the intent model's probability for its reading (1 for templates)
    change: str | None = None  # what a confirmation shows: "Move Standup: Mon 7 Dec 09:00 -> Tue 8 Dec 09:00"
    choices: list[dict] = Field(default_factory=list)  # a question's options: {kind, id, label}
    pins: dict[str, str] = Field(default_factory=dict)  # the records the plan is about, by kind ("it" next time)


def cli_line(verb_name: str, args: dict[str, Any], context: str | None = None) -> str:
    """The ``hero ...`` command that runs ``verb_name`` with ``args`` (shell-quoted)."""
    v = registry.get(verb_name)
    parts = ["hero"]
    if context:
        parts += ["--context", context]
    parts += v.cli_path.split()
    params = {p.name: p for p in v.params}
    positional, options = [], []
    for name, value in args.items():
        p = params.get(name)
        if p is None or value is None:
            continue
        if p.meta.positional:
            positional += [str(x) for x in value] if isinstance(value, list) else [str(value)]
        elif p.is_bool:
            if value:
                options.append(p.flag)
            elif p.default is None or p.default:
                options.append("--no-" + p.flag[2:])
        elif isinstance(value, list):
            for item in value:
                options += [p.flag, str(item)]
        else:
            options += [p.flag, str(value)]
    parts += positional + options
    if v.destructive:
        parts.append("--yes")
    return " ".join(shlex.quote(x) for x in parts)
