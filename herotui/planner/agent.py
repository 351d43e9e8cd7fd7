"""The agent: ``hero agent run "..."`` carries out a multi-step request, step by step.

The request is split into parts ("and then", "then", ";", ", and", " and "), unless the
whole sentence is one known command ("find the deck about Alex and open it"). Each part is
planned (offline templates, else a model when the context allows one); a part that is not
understood stops the run before anything runs, so half a request never happens. The steps
then run in order with a bound (``--max-steps``, default 8), each step's result available to
the next (``$prev.id``), destructive steps only with ``--yes``. Progress goes to standard
error (one line per step, when it is a terminal: the CLI prints them, told of each step
through :data:`STEP_DONE`; the planner prints nothing); the result lists every step with its
status, so scripts (``--json``) and the TUI see the same thing. How a run looks is its view
(``herotui.frontends.views.agent_run``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, Callable

from pydantic import BaseModel

from herotui.planner.execute import StepResult
from herotui.planner.plan import Plan
from herotui.registry import P, verb

SERVICE = "agent"
MAX_STEPS = 8

STEP_DONE: ContextVar[Callable[[StepResult], None] | None] = ContextVar("hero_step_done", default=None)
"""Told of each step as it finishes (the front-end sets it: the CLI prints a line per step on
a terminal); unset, nobody is told."""


class AgentPart(BaseModel):
    """One part of the request and how it was planned."""

    text: str
    source: str  # intent | llm | fallback
    steps: int
    reply: str = ""


class AgentRun(BaseModel):
    """A multi-step run: the parts understood, each step with its status, and the outcome."""

    text: str
    context: str
    parts: list[AgentPart] = []
    plan: Plan
    steps: list[StepResult] = []
    status: str = "ok"  # ok | failed | not-understood | needs-confirmation | dry-run | too-many-steps
    reply: str = ""

    @property
    def exit_code(self) -> int:
        """1 when a step failed (the CLI exits with it); a request not understood is an answer, 0."""
        return 1 if self.status == "failed" else 0


def split_parts(text: str) -> list[str]:
    from herotui.planner.intents import SPLITTERS

    return [p.strip() for p in SPLITTERS.split(text) if p and p.strip()]


@verb(mutates=True, examples=[
    'hero agent run "find the quarterly report and summarise it"',
    'hero agent run "switch to business; what\'s on today" --max-steps 4',
    'hero agent run "delete Alex Smith and then list contacts" --yes',
])
def run(
    ctx,
    text: Annotated[str, P("The request, in plain words (several steps allowed)", positional=True)],
    max_steps: Annotated[int, P("Run at most this many steps", minimum=1)] = MAX_STEPS,
    confirm: Annotated[bool, P("Run destructive steps without asking", flag="--yes", short="-y")] = False,
    dry_run: Annotated[bool, P("Only show the steps it would run")] = False,
) -> AgentRun:
    """Carry out a multi-step request: plan each part, then run the steps in order (bounded)."""
    from herotui.planner import execute, intents
    from herotui.planner.ask import reply_for

    whole, greedy = intents.plan_sentence(ctx, text)
    parts_text = [text] if intents.one_request(whole, greedy, text) else split_parts(text)
    if len(parts_text) < 2:
        parts_text = [text]
    parts: list[AgentPart] = []
    plans: list[Plan] = []
    here = ctx
    created: list = []  # "create a contact Ada Lovelace; tag Ada with math": later parts know Ada
    for part in parts_text:
        with intents.creating_records(created):
            p = whole if part is text and whole is not None else execute.make_plan(here, part)
        created += intents.created_contacts(p.steps, sum(len(q.steps) for q in plans))
        parts.append(AgentPart(text=part, source=p.source, steps=len(p.steps), reply=p.reply if not p.steps else ""))
        plans.append(p)
        if p.steps and p.steps[-1].verb == "context.use":  # "switch to personal, then ...": the rest runs there
            from herotui import contexts

            here = contexts.load(p.steps[-1].args["name"])
    steps = [s for p in plans for s in p.steps]
    plan = Plan(text=text, steps=steps, needs_confirmation=any(s.destructive for s in steps) or any(
                p.needs_confirmation for p in plans), source="+".join(dict.fromkeys(p.source for p in plans)), intent="agent")
    missing = [pt for pt, p in zip(parts, plans) if not p.steps]
    if missing:
        why = " ".join(f"\u201c{m.text}\u201d: {m.reply.splitlines()[0] if m.reply else 'not understood'}" for m in missing)
        return AgentRun(text=text, context=ctx.name, parts=parts, plan=plan, status="not-understood",
                        reply=f"Nothing ran. {why}")
    if len(steps) > max_steps:
        return AgentRun(text=text, context=ctx.name, parts=parts, plan=plan, status="too-many-steps",
                        reply=f"Nothing ran: {len(steps)} steps is more than --max-steps {max_steps}.")
    if dry_run:
        return AgentRun(text=text, context=ctx.name, parts=parts, plan=plan, status="dry-run",
                        reply=f"{len(steps)} step{'s' if len(steps) != 1 else ''} planned.")
    if plan.needs_confirmation and not confirm:
        return AgentRun(text=text, context=ctx.name, parts=parts, plan=plan, status="needs-confirmation",
                        reply="Nothing ran: a step deletes data or moves an event; run again with --yes to confirm.")
    results = execute.run(plan, confirmed=confirm, progress=STEP_DONE.get(), max_steps=max_steps)
    failed = any(r.status == "error" for r in results)
    return AgentRun(text=text, context=ctx.name, parts=parts, plan=plan, steps=results,
                    status="failed" if failed else "ok", reply=reply_for(plan, results))
