"""The assistant: ``hero ask "..."`` turns words into verb calls (a plan) and runs them.

Decisions:

* The plan is shown as the CLI lines it runs (``$ hero --context business contact create ...``),
  so every step can be copied and replayed; ``--dry-run`` plans without running.
* A plan with a destructive step runs nothing until confirmed: without ``--yes`` it is saved
  as the *pending plan* (``$HERO_HOME/state/pending-plan.json``, kept 10 minutes) and the
  reply asks for a yes; a later ``hero ask yes`` runs it, ``hero ask no`` drops it. Plans
  without destructive steps run at once.
* After "what's on today?" (and the other calendar views) the reply offers to summarise the
  document linked to the first upcoming event; that offer is also a pending plan, so "yes"
  runs it. Any other request replaces the pending plan.
* Steps run through the registry with actor ``planner`` (see ``herotui.planner.execute`` for
  the safety rules: no shell, no code, contexts only when named, confirmation).

The module's service name is ``ask`` so that ``hero ask`` is a top-level command
(``SERVICES["ask"]`` with ``command="ask.run"``).
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel

from herotui.planner.execute import StepResult
from herotui.planner.plan import Plan
from herotui.registry import P, verb

SERVICE = "ask"
PENDING_TTL = 600  # seconds a pending plan waits for its "yes"
CALENDAR_VIEWS = ("calendar.today", "calendar.list", "calendar.week", "calendar.agenda", "calendar.next")

HELP = """Things you can say (or type after 'hero ask'):
  what's on today? · what's on tomorrow / this week / next week? · what's next?
  add lunch with Alex tomorrow at 12:30 · move the quarterly report review to friday 3pm · cancel the sprint retrospective
  add Lena Fischer from Lumen Labs as a contact · find contact northwind · show Alex Smith · tag Alex Smith as vip
  find documents about budget · open the quarterly report · summarise the statement of work · tag the invoices as urgent
  find the deck about Alex and open it · list my decks
  search northwind · how do I import a vcard?
  switch to business · in business, add Lena Fischer as a contact
  yes / no (to confirm or cancel what is waiting)
Every step is shown as the hero command it runs; 'hero history' lists what ran."""


class AskResult(BaseModel):
    """What the assistant understood (the plan), what ran (one result per step), and the reply.

    ``reply`` is the whole answer (what the voice says, and the TUI shows); ``brief`` is the
    same answer without the items the result lines above it already list (what the CLI prints
    under them, so a day's meetings are not listed twice). ``exit_code`` is 1 when a step
    failed (``hero ask`` exits with it), else 0.
    """

    text: str
    context: str
    plan: Plan
    steps: list[StepResult] = []
    reply: str = ""
    brief: str = ""
    ran: bool = False
    pending: bool = False  # saved, waiting for a yes
    dry_run: bool = False
    exit_code: int = 0

    # how it looks is its view (herotui.frontends.views.ask_result); in a terminal,
    # render.output hands it to herotui.frontends.present, which prints it and then
    # presents the deck a "... and open it" step opened
    __present__: ClassVar = True

    def presentation(self):
        """The deck a ``slides.present`` step of this plan opened, as a Presentation, else None."""
        from herotui.services.slides import Presentation

        for s in self.steps:
            if s.verb == "slides.present" and s.status == "ok" and isinstance(s.result, dict) and s.result.get("slides"):
                return Presentation.model_validate(s.result)
        return None


# ---------------------------------------------------------------------------------------
# The conversation: per context and per front-end session
# ---------------------------------------------------------------------------------------


def _session_default() -> str:
    """This terminal, for the CLI (so two shells have two conversations); else the actor alone."""
    from herotui import registry

    actor = registry.ACTOR.get()
    if actor != "cli":
        return ""
    for fd in (0, 1, 2):
        try:
            return os.ttyname(fd)
        except OSError:
            continue
    return f"ppid-{os.getppid()}"


def _conversation_path(context: str, session: str | None = None, actor: str | None = None):
    import hashlib

    from herotui import paths, registry

    # an explicit session is one conversation whoever speaks in it (the TUI: typed and spoken);
    # without one, each front-end (and for the CLI each terminal) has its own
    key = f"session|{context}|{session}" if session else f"{actor or registry.ACTOR.get()}|{context}|{_session_default()}"
    name = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return paths.state_dir() / "conversations" / f"{name}.json"


def _load(context: str, session: str | None = None, actor: str | None = None) -> dict:
    try:
        data = json.loads(_conversation_path(context, session, actor).read_text())
    except (OSError, ValueError):
        return {}
    if time.time() - float(data.get("saved", 0)) > PENDING_TTL or data.get("context") != context:
        return {}
    return data


def _save(context: str, session: str | None = None, **fields: Any) -> None:
    from herotui import paths

    path = _conversation_path(context, session)
    paths.ensure_private_dir(path.parent)
    data = _load(context, session)
    data.update(fields, saved=time.time(), context=context)
    paths.write_private(path, json.dumps(data, default=str))  # a conversation: owner-only


def save_pending(plan: Plan, context: str, offer: bool = False, session: str | None = None) -> None:
    _save(context, session, plan=plan.model_dump(mode="json"), offer=offer)


def load_pending(context: str | None = None, session: str | None = None,
                 actor: str | None = None) -> tuple[Plan, dict] | None:
    """The plan waiting for a yes in this conversation (``context``: the active one; ``actor``:
    the front-end, by default the caller of the running verb)."""
    from herotui import contexts

    data = _load(context or contexts.current().name, session, actor)
    if not data.get("plan"):
        return None
    try:
        return Plan.model_validate(data["plan"]), data
    except Exception:
        clear_pending(context, session)
        return None


def clear_pending(context: str | None = None, session: str | None = None) -> None:
    from herotui import contexts

    context = context or contexts.current().name
    if _load(context, session).get("plan"):
        _save(context, session, plan=None, offer=False)


def _answer_to_choice(text: str, options: list[dict]) -> dict | None:
    """"2", "the first one", "Alex Smith", "the one at Northwind" -> that option, else None."""
    from herotui.planner.normalize import clean

    t = clean(text).lower()
    ordinals = {"first": 1, "1st": 1, "one": 1, "1": 1, "second": 2, "2nd": 2, "two": 2, "2": 2, "third": 3, "3rd": 3,
                "three": 3, "3": 3, "fourth": 4, "4th": 4, "four": 4, "4": 4, "last": len(options)}
    words = t.replace("number", " ").split()
    for w in words:
        if w in ordinals and len(words) <= 4 and 1 <= ordinals[w] <= len(options):
            return options[ordinals[w] - 1]
    hits = [o for o in options if all(part in o["label"].lower() for part in t.split() if part not in ("the", "one", "with", "at"))]
    return hits[0] if len(hits) == 1 else None


def _shared_words(a: str, b: str) -> bool:
    from herotui.planner import slots

    wa = {w for w in slots.words(a) if w not in slots.STOP and len(w) > 2}
    return bool(wa & {w for w in slots.words(b) if w not in slots.STOP and len(w) > 2})


def _learn(ctx, text: str, label: str | None) -> None:
    """Remember that ``text`` meant the kind of request ``label`` (a model label, not a template's)."""
    if not label or not label.islower():
        return
    from herotui import contexts
    from herotui.planner import intents, learned, understand

    u = understand.read(text, intents.live_data(ctx), ctx.name, contexts.names())
    learned.remember(understand.delexicalised(u), label, text)


_FOLLOW_UP = re.compile(r"^(?:and|what about|how about|and what about|and on)\s+(?P<rest>.+)$", re.I)


# ---------------------------------------------------------------------------------------
# The verb
# ---------------------------------------------------------------------------------------


def reply_for(plan: Plan, steps: list[StepResult], *, brief: bool = False) -> str:
    """The reply to a plan that ran; ``brief``: without the items of a list result (the CLI
    prints those as lines above it)."""
    from herotui.planner.execute import describe

    failed = next((s for s in steps if s.status == "error"), None)
    if failed and brief:  # the error and its hint are printed above
        return f"Step {failed.index} ({failed.verb}) failed."
    if failed:
        return f"Step {failed.index} ({failed.verb}) failed: {failed.error}" + (f" ({failed.hint})" if failed.hint else "")
    ok = [s for s in steps if s.status == "ok"]
    if not ok:
        return plan.reply or "Nothing to do."
    last = ok[-1]
    text = None
    if plan.question:
        from herotui.planner.answers import answer

        step = plan.steps[last.index - 1] if last.index - 1 < len(plan.steps) else None
        text = answer(plan.question, step.args if step else {}, last.result)
    text = text or describe(last.verb, last.result, listed=brief)
    if plan.reply:
        text = plan.reply + " " + text
    return text


def _exit_code(steps: list[StepResult]) -> int:
    """1 when a step failed (the CLI exits with it), else 0."""
    return 1 if any(s.status == "error" for s in steps) else 0


def _offer_summary(ctx, steps: list[StepResult]) -> Plan | None:
    """After a calendar view: the summary of the document linked to the first upcoming event."""
    from datetime import datetime, timezone

    from herotui import contexts, registry
    from herotui.planner.intents import step_cli
    from herotui.planner.plan import Step

    last = steps[-1] if steps else None
    if last is None or last.status != "ok" or last.verb not in CALENDAR_VIEWS or not last.result:
        return None
    events = last.result if isinstance(last.result, list) else [last.result]
    now = datetime.now(timezone.utc)
    upcoming = [e for e in events if isinstance(e, dict) and e.get("end") and datetime.fromisoformat(e["end"]) >= now]
    target_ctx = contexts.load(last.context)
    for event in upcoming[:5]:
        try:
            docs = registry.call("document.list", {"event": event["id"]}, target_ctx, actor="planner")
        except Exception:
            return None
        docs = [d for d in docs if getattr(d, "kind", "") != "deck"]
        if docs:
            doc = best_document(event, docs)
            args = {"id": doc.id}
            step = Step(verb="document.summarize", args=args, context=last.context,
                        cli=step_cli("document.summarize", args, last.context))
            from herotui.planner.execute import event_when

            return Plan(text=f"summarise {doc.title}", steps=[step], intent="offer",
                        reply=f"Shall I summarise \u201c{doc.title}\u201d (for {event['title']}, {event_when(event).rstrip(',')})?")
    return None


def best_document(event: dict, docs: list) -> Any:
    """The document that is most about ``event``: words its title and tags share with the
    event's title, description and tags (the title counts double), then the one linked to
    fewest events (the most specific), then the newest. "Quarterly report review" offers the
    Q4 Quarterly Report, not the statement of work linked to the same meeting."""
    from herotui.planner import slots

    def words(text: str) -> set[str]:
        return {w for w in slots.words(text.lower()) if w not in slots.STOP and len(w) > 2}

    title = words(event.get("title") or "")
    about = title | words(event.get("description") or "") | {t.lower() for t in event.get("tags") or []}

    def score(pair):
        pos, d = pair
        mine = words(d.title) | {t.lower() for t in d.tags}
        return (-(2 * len(words(d.title) & title) + len(mine & about)), len(d.events or []), pos)

    return min(enumerate(docs), key=score)[1]


@verb(mutates=True, cli_name="ask", examples=[
    "hero ask \"what's on today?\"",
    "hero ask \"add Lena Fischer from Lumen Labs as a contact in business\"",
    "hero ask \"find the deck about Alex and open it\" --dry-run",
    "hero ask \"delete Alex Smith\" --yes",
    "hero ask yes",
])
def run(
    ctx,
    text: Annotated[str, P("What you want, in plain words (quote it)", positional=True)] = "",
    dry_run: Annotated[bool, P("Only show the plan (the commands it would run)")] = False,
    confirm: Annotated[bool, P("Run destructive steps without asking", flag="--yes", short="-y")] = False,
    session: Annotated[str | None, P("Conversation id: a yes or an answer counts only in the conversation that asked "
                                     "(default: this terminal, or the front-end)")] = None,
    learned: Annotated[bool, P("List the phrasings Hero learned from you (TEXT is ignored)")] = False,
    forget: Annotated[bool, P("Forget the learned phrasing TEXT ('all': every one)")] = False,
    unsure: Annotated[list[str], P("Words the speech recogniser was unsure of (the voice front-ends pass them): "
                                   "a contact or event named with one is read back and waits for a yes")] = [],
) -> AskResult:
    """Ask in plain words: the planner turns them into commands, shows them, runs them and answers.

    Offline sentence templates first (no model, no network); then a model if the context
    allows one; otherwise the closest commands. Steps that delete or overwrite need a yes
    ('hero ask yes', or --yes). A question Hero asks ("Which Alex: 1) ... 2) ...?") takes
    an answer ("2", "the first one", "Alex Smith"); "and tomorrow?" repeats the last request
    for another time. Both only within the same context and conversation.
    """
    from herotui.planner import execute

    if learned or forget:
        return AskResult(text=text, context=ctx.name, plan=Plan(text=text, source="intent"), reply=_learned_reply(text, forget))
    text, plan = _plan_in_conversation(ctx, text, session)
    if plan.intent == "help":
        return AskResult(text=text, context=ctx.name, plan=plan, reply=HELP)
    if plan.intent in ("confirm", "deny"):
        return _answer_to_pending(ctx, text, plan, session, dry_run)
    if dry_run:
        return AskResult(text=text, context=ctx.name, plan=plan, dry_run=True,
                         reply=plan.reply or ("Would run the commands above." if plan.steps else ""))
    if not plan.steps:
        return AskResult(text=text, context=ctx.name, plan=plan, reply=plan.reply)
    heard = _read_back(plan, unsure) if unsure and not confirm else None
    if heard:  # a name from speech that may be misheard ("leave a phisher"): say it and ask
        save_pending(plan, ctx.name, session=session)
        return AskResult(text=text, context=ctx.name, plan=plan, pending=True, reply=heard, brief=heard)
    if plan.needs_confirmation and not confirm:
        save_pending(plan, ctx.name, session=session)
        what = plan.change or "This deletes data (" + "; ".join(s.cli for s in plan.steps if s.destructive) + ")"
        covers = execute.scopes(plan.steps)
        if covers:
            what = f"{what.rstrip('.')}: {'; '.join(covers)}"
        return AskResult(text=text, context=ctx.name, plan=plan, pending=True,
                         reply=f"{what}. Say yes to confirm or no to cancel (or add --yes).")
    clear_pending(ctx.name, session)
    steps = execute.run(plan, confirmed=confirm)
    return _after_run(ctx, text, plan, steps, session)


def _learned_reply(text: str, forget: bool) -> str:
    """``hero ask --learned`` (the phrasings learned) or ``--forget TEXT``: the reply."""
    from herotui.planner import learned as learned_store

    if forget:
        n = learned_store.forget(text)
        return f"Forgot {n} learned phrasing{'s' if n != 1 else ''}." if n else (
            "Nothing learned yet." if not learned_store.load() else f"No learned phrasing \u201c{text}\u201d.")
    rows = learned_store.load()
    return "\n".join(f"{v.get('example')}  \u2192  {v.get('label')}  ({v.get('learned')})" for v in rows.values()) \
        or "Nothing learned yet."


def _plan_in_conversation(ctx, text: str, session: str | None) -> tuple[str, Plan]:
    """(what the words mean in this conversation, its plan): an answer to "which one?", a "did
    you mean" pick or "and tomorrow?" read against what came before; the conversation then
    remembers the plan (and learns a rephrasing understood right after a miss)."""
    from herotui.planner import execute, understand

    convo = _load(ctx.name, session)
    text, pins, chosen = _read_follow_up(ctx, text, session, convo)
    with understand.pinned(pins or {k: v for k, v in (convo.get("last") or {}).get("pins", {}).items()
                                    if re.search(r"\b(?:it|that|this one|her|him|them)\b", text, re.I)}):
        plan = chosen or execute.make_plan(ctx, text)
    unknown = convo.get("unknown")
    if plan.steps and unknown and plan.intent and plan.intent.islower() and time.time() - convo.get("saved", 0) < 120 \
            and _shared_words(unknown, text):
        _learn(ctx, unknown, plan.intent)  # a rephrasing understood right after a miss: the miss meant this
    _save(ctx.name, session, choice={"text": text, "options": plan.choices} if plan.choices else None,
          unknown=text if plan.source == "fallback" else None)
    if plan.steps:
        _save(ctx.name, session, last={"text": text, "pins": plan.pins})
    return text, plan


def _read_follow_up(ctx, text: str, session: str | None, convo: dict) -> tuple[str, dict[str, str], Plan | None]:
    """(the request the words stand for, the records they pin, the plan picked from "did you
    mean", if any)."""
    pins: dict[str, str] = {}
    chosen = None
    choice = convo.get("choice")
    picked = _answer_to_choice(text, choice["options"]) if choice else None
    if picked is not None and picked["kind"] == "plan":  # a "did you mean" pick: run it, and learn the phrasing
        chosen = Plan.model_validate(picked["plan"])
        _learn(ctx, choice["text"], picked.get("intent"))
        _save(ctx.name, session, choice=None)
        text = choice["text"]
    if picked is not None and picked["kind"] != "plan":
        pins = {picked["kind"]: picked["id"]}
        text = choice["text"]
    elif convo.get("last") and (m := _FOLLOW_UP.match(text.strip().rstrip("?.! "))):
        last = convo["last"]
        from herotui.planner import slots

        if slots.find_when(m.group("rest")) is not None:  # "and tomorrow?": the last request, another time
            before = slots.find_when(last["text"])
            text = (slots.cut(last["text"], before.start, before.end) if before else last["text"]) + " " + m.group("rest")
    return text, pins, chosen


def _answer_to_pending(ctx, text: str, plan: Plan, session: str | None, dry_run: bool) -> AskResult:
    """A yes or a no: run, show (--dry-run) or cancel what waits for it."""
    from herotui.planner import execute

    pending = load_pending(ctx.name, session)
    if plan.intent == "deny" or pending is None:
        if pending is not None:
            clear_pending(ctx.name, session)
            return AskResult(text=text, context=ctx.name, plan=plan, reply="OK, cancelled: nothing changed.")
        return AskResult(text=text, context=ctx.name, plan=plan,
                         reply="There is nothing waiting for a yes." if plan.intent == "confirm" else "Nothing to cancel.")
    waiting, _meta = pending
    if dry_run:
        return AskResult(text=text, context=ctx.name, plan=waiting, dry_run=True, pending=True,
                         reply="This is what a yes would run.")
    clear_pending(ctx.name, session)
    steps = execute.run(waiting, confirmed=True)
    bare = waiting.model_copy(update={"reply": ""})
    return AskResult(text=text, context=ctx.name, plan=waiting, steps=steps, ran=True, exit_code=_exit_code(steps),
                     reply=reply_for(bare, steps), brief=reply_for(bare, steps, brief=True))


def _after_run(ctx, text: str, plan: Plan, steps: list[StepResult], session: str | None) -> AskResult:
    """The answer once the plan ran: its reply, with the offer of what comes next (a summary
    of the meeting's document, or a yes before creating a duplicate) waiting for a yes."""
    again = _duplicate_offer(plan, steps)
    if again is not None:  # "add Lena Fischer ..." a second time: ask rather than create her twice
        save_pending(again, ctx.name, session=session)
        return AskResult(text=text, context=ctx.name, plan=plan, steps=steps, ran=True, pending=True,
                         reply=again.reply, brief=again.reply)
    reply = reply_for(plan, steps)
    brief = reply_for(plan, steps, brief=True)
    offer = _offer_summary(ctx, steps) if not plan.question else None
    pending = False
    if offer is not None:
        save_pending(offer, ctx.name, offer=True, session=session)
        reply = f"{reply} {offer.reply}"
        brief = f"{brief} {offer.reply}"
        pending = True
    return AskResult(text=text, context=ctx.name, plan=plan, steps=steps, ran=True, reply=reply, brief=brief,
                     pending=pending, exit_code=_exit_code(steps))


def _read_back(plan: Plan, unsure: list[str]) -> str | None:
    """The question to ask when a contact or an event of ``plan`` would be named with a word
    the recogniser was unsure of: the name as heard, and "yes" or "no", else None."""
    doubt = {w for u in unsure for w in re.findall(r"\w+", u.lower())}
    for step in plan.steps:
        if step.verb == "contact.create":
            name, company = step.args.get("name") or "", step.args.get("company") or ""
            if doubt & set(re.findall(r"\w+", f"{name} {company}".lower())):
                at = f" at \u201c{company}\u201d" if company else ""
                return (f"I heard the name \u201c{name}\u201d{at}. Shall I create that contact in {step.context}? "
                        "Say yes, or no and say it again (or type it).")
        if step.verb == "calendar.add":
            title = step.args.get("title") or ""
            if doubt & set(re.findall(r"\w+", title.lower())):
                when = f" ({step.args['start']})" if step.args.get("start") else ""
                return (f"I heard \u201c{title}\u201d{when}. Shall I add that event in {step.context}? "
                        "Say yes, or no and say it again (or type it).")
    return None


def _duplicate_offer(plan: Plan, steps: list[StepResult]) -> Plan | None:
    """When the last step was a ``contact.create`` refused because that person (same name and
    company) is already a contact: the same step with ``duplicate``, waiting for a yes; the
    refused step is marked as waiting rather than failed."""
    from herotui.planner.execute import fill_step

    failed = steps[-1] if steps else None
    if failed is None or failed.status != "error" or failed.code != "duplicate" or failed.verb != "contact.create":
        return None
    step = plan.steps[failed.index - 1]
    failed.status = "needs-confirmation"
    again = fill_step(step.model_copy(update={"args": {**step.args, "duplicate": True}}))
    name = step.args.get("name")
    at = f" at {step.args['company']}" if step.args.get("company") else ""
    return Plan(text=plan.text, steps=[again], intent="duplicate", needs_confirmation=True,
                reply=f"{name}{at} is already a contact in {step.context}. Add a second one? "
                      "Say yes to add it, or no to keep just the one.")
