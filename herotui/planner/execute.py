"""Planning and running plans: offline intents, then a model, then a helpful answer.

Rules this module enforces, whoever made the plan (templates or a model):

* Every step is a registry verb called through ``registry.call(..., actor="planner")``:
  the planner never runs a shell command or code. Verbs of the assistant itself (``ask``,
  ``agent``, ``history``) and of shells or servers (``terminal``, ``mcp``, ``rpc``) are refused.
* A destructive step runs only when the plan was confirmed (``--yes``, "yes").
* A step runs in the plan's context unless the words of the request name another one
  (``guard``); searching every context needs the words too ("in all contexts").
* Text that comes back from verbs (documents, events, the web) is data: it is shown and
  passed to later steps as argument values, never planned or run as instructions.
* A step's result feeds the next: an argument ``"$prev.id"`` (or ``"$1.id"``, 1-based) is
  the ``id`` of the previous (or first) step's result, its first item when it is a list.
* A failed step is retried once: with the error given back to the model when one is
  allowed, else (a busy context only) as is; then the failure is reported.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable

from pydantic import BaseModel

from herotui import contexts, registry, timeparse
from herotui.errors import ContextBusy, HeroError
from herotui.planner import classify, intents, slots, understand
from herotui.planner.intents import step_cli
from herotui.planner.plan import Plan, Step
from herotui.results import jsonable

# The planner never plans its own verbs, servers or demo loading (one list, shared with llm.py)
BLOCKED_SERVICES = frozenset({"ask", "agent", "terminal", "mcp", "rpc", "demo", "voice"})
REF = re.compile(r"^\$(prev|\d+)(?:\.(\w+))?$")
ALL_CONTEXTS_WORDS = re.compile(r"\b(all|every|across|each)\b.*\bcontexts?\b|\beverywhere\b", re.I)
MODEL_HINT = ("to let a model handle free requests, set HERO_MODEL (e.g. HERO_MODEL=ollama/llama3.2) or "
              "'model = ...' in the context's context.toml; see: hero knowledge ask 'configure a model'")


class StepResult(BaseModel):
    """How one step went: ok, error, skipped, refused or waiting for confirmation."""

    index: int
    verb: str
    context: str
    cli: str
    status: str  # ok | error | skipped | refused | needs-confirmation
    result: Any = None
    error: str | None = None
    hint: str | None = None
    code: str | None = None  # the error's kind (HeroError.code: not_found, duplicate, ...)
    retried: bool = False


# ---------------------------------------------------------------------------------------
# Making a plan
# ---------------------------------------------------------------------------------------


def llm_plan(ctx, text: str, feedback: str | None = None) -> Plan | None:
    """The model's plan, or None when no model is allowed here (or litellm is missing)."""
    try:
        from herotui.planner import llm  # written separately; absent in a minimal install
    except ImportError:
        return None
    try:
        plan = llm.plan(ctx, text, feedback=feedback)
    except ImportError:
        return None
    except HeroError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return Plan(text=text, source="llm", reply=f"the model could not plan this: {exc.message}{hint}")
    if plan is not None:
        plan.source = "llm"
    return plan


def make_plan(ctx, text: str, *, use_model: bool = True) -> Plan:
    """Offline templates first, then a model when the context allows one, else a helpful reply."""
    if not text or not text.strip():
        return Plan(text=text, source="fallback", reply="Say or type what you want, e.g. \"what's on today?\"")
    if len(text) > MAX_REQUEST:
        return Plan(text=text[:200], source="fallback",
                    reply=f"That request is {len(text):,} characters long; say what you want in a sentence or two "
                          f"(at most {MAX_REQUEST:,} characters). To store a long text, add it as a document.")
    plan = intents.plan_offline(ctx, text)
    if plan is None and use_model:
        plan = llm_plan(ctx, text)
        if plan is not None:
            for step in plan.steps:  # the model's steps get their CLI lines like any other
                step.context = step.context or ctx.name
                fill_step(step)
            invalid = invalid_slot(plan.steps)
            if invalid:  # the same gate as the offline planner's: a slot that does not parse is never planned
                plan = Plan(text=text, source="llm", intent=plan.intent, reply=f"I could not use that plan: {invalid}.")
    if plan is None:
        plan = fallback(ctx, text)
    refused = guard(plan, ctx.name)
    if refused:
        return Plan(text=text, source=plan.source, intent=plan.intent, reply=f"I won't do that: {refused}.")
    plan.needs_confirmation = plan.needs_confirmation or needs_confirmation(plan.steps)
    return plan


MAX_REQUEST = 2000  # characters of one request: planning is bounded, a pasted book is not a request


def needs_confirmation(steps: list[Step]) -> bool:
    """Whoever made the plan: deletes, date changes and series-wide changes wait for a yes."""
    for s in steps:
        if s.destructive:
            return True
        if s.verb == "calendar.update" and {"start", "skip", "rrule", "repeat", "tz", "all_day"} & set(s.args):
            return True
        if s.verb == "context.rename":
            return True
    return False


def scopes(steps: list[Step]) -> list[str]:
    """What the steps that wait for a yes would change in a series, in the verbs' own words
    ("'Standup': all 23 occurrences, from Mon 30 Nov"); steps that use an earlier step's
    result are described when they run."""
    out = []
    for s in steps:
        if any(isinstance(v, str) and v.startswith("$") for v in s.args.values()):
            continue
        try:
            text = registry.scope(s.verb, s.args, contexts.load(s.context))
        except HeroError:
            continue  # the step reports it when it runs
        if text and "occurrence" in text and text not in out:  # a single event: the change says it all
            out.append(text)
    return out


def invalid_slot(steps: list[Step]) -> str | None:
    """Why a step's time or length does not parse (the verb would refuse it later), else None."""
    for s in steps:
        for key in ("start", "end"):
            value = s.args.get(key)
            if isinstance(value, str) and not value.startswith("$"):
                try:
                    timeparse.parse_when(value)
                except HeroError:
                    return f"'{value}' ({s.verb} --{'from' if key == 'start' and s.verb != 'calendar.add' else key}) is not a time"
        if isinstance(s.args.get("duration"), str):
            try:
                timeparse.parse_duration(s.args["duration"])
            except HeroError:
                return f"'{s.args['duration']}' is not a length of time"
    return None


def fill_step(step: Step) -> Step:
    v = registry.get(step.verb)
    step.destructive = v.destructive
    step.cli = step_cli(step.verb, step.args, step.context)
    return step


def guard(plan: Plan, active: str) -> str | None:
    """Why ``plan`` must not run (a blocked verb, an unnamed context), else None. A context is
    named by its name or by the word its description starts with ("work" for business)."""
    words = set(re.findall(r"[a-z0-9_-]+", plan.text.lower()))
    if any(s.context != active or s.verb.startswith("context.") for s in plan.steps):
        by_word = intents.context_words(contexts.names())
        words |= {by_word[w] for w in words if w in by_word}
    for step in plan.steps:
        service = step.verb.split(".", 1)[0]
        if service in BLOCKED_SERVICES:
            return f"'{step.verb}' is not something the planner runs"
        try:
            registry.get(step.verb)
        except HeroError:
            return f"there is no command '{step.verb}'"
        if step.context != active and step.context not in words:
            return f"the step {step.verb} would touch context '{step.context}', which the request does not name"
        if step.args.get("all_contexts") and not ALL_CONTEXTS_WORDS.search(plan.text):
            return "searching every context needs the words 'in all contexts'"
        if service == "context":
            for key in ("name", "new_name"):
                target = step.args.get(key)
                if isinstance(target, str) and target.lower() not in words:
                    return f"the request does not name the context '{target}'"
    return None


def fallback(ctx, text: str) -> Plan:
    """No template and no model: what was understood, the closest commands, how to enable a model."""
    live = intents.live_data(ctx)
    low = text.lower()
    understood = [f"contact {name}" for _cid, name in live.contacts if name.lower() in low]
    understood += [f"context {n}" for n in contexts.names() if re.search(rf"\b{re.escape(n)}\b", low)]
    understood += [f"tag {t}" for t in live.tags if re.search(rf"\b{re.escape(t)}\b", low)][:3]
    closest = closest_commands(text, registry.verbs())
    lines = [f"I did not understand \u201c{text.strip()}\u201d" + (f" (I recognised: {', '.join(understood)})." if understood else ".")]

    foreign = _not_english(text, live)
    guesses = understand.alternatives(ctx, text, live, contexts.names()) if len(text) <= 500 and not foreign else []
    if foreign:
        lines[0] += " Hero's offline planner understands requests in English."
    if guesses:  # runnable readings, as choices; a pick is remembered (herotui.planner.learned)
        lines.append("Did you mean (say the number):")
        lines += [f"  {i}) " + " ; ".join(s.cli for s in g.steps) for i, g in enumerate(guesses, 1)]
    if closest:
        lines.append("Closest commands:")
        lines += [f"  hero {v.cli_path} \u2014 {v.description}" for v in closest]
    lines.append(f"Say 'help' for examples; {MODEL_HINT}.")
    choices = [{"kind": "plan", "id": str(i), "label": " ; ".join(s.cli for s in g.steps), "intent": g.intent,
                "plan": g.model_dump(mode="json")} for i, g in enumerate(guesses, 1)]
    return Plan(text=text, source="fallback", reply="\n".join(lines), choices=choices)


def _not_english(text: str, live) -> bool:
    """Mostly words neither English commands nor names Hero knows ("qu'est-ce que j'ai demain")."""
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isascii() or "\u00c0" <= c <= "\u024f" for c in letters) / len(letters) < 0.5:
        return True  # another script
    words = re.findall(r"[^\W\d_]+", text.lower())
    if len(words) < 2:
        return False
    known = classify.vocabulary() | live.vocabulary | slots.STOP | {"s", "t", "d", "ll", "re", "ve", "m"}
    return sum(w in known for w in words) / len(words) < 0.3


def closest_commands(text: str, verbs: dict, n: int = 3) -> list:
    wanted = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2} - {"the", "and", "what", "with", "for", "please"}
    scored = []
    for v in verbs.values():
        if v.service in BLOCKED_SERVICES:
            continue
        hay = set(re.findall(r"[a-z]+", " ".join([v.name.replace(".", " "), v.description, *v.examples]).lower()))
        score = len(wanted & hay) + 0.5 * len(wanted & set(v.name.replace(".", " ").split()))
        if score:
            scored.append((-score, v.name, v))
    return [v for _s, _n, v in sorted(scored)[:n]]


# ---------------------------------------------------------------------------------------
# Running a plan
# ---------------------------------------------------------------------------------------


def _ref_value(results: list[Any], token: str, field: str | None, index: int) -> Any:
    pos = index - 1 if token == "prev" else int(token) - 1
    if pos < 0 or pos >= len(results) or results[pos] is None:
        raise HeroError(f"step {index + 1} refers to a result that does not exist ({token})",
                        hint="the earlier step failed or was not run")
    value = results[pos]
    if isinstance(value, list):
        if not value:
            raise HeroError("the previous step found nothing to work on", hint="try other words")
        value = value[0]
    key = field or "id"
    if isinstance(value, dict):
        if key in value:
            return value[key]
        if key == "id":
            for alt in ("deck_id", "document_id"):
                if alt in value:
                    return value[alt]
        raise HeroError(f"the previous result has no '{key}'")
    return value


def resolve(step: Step, results: list[Any], index: int) -> Step:
    """A copy of ``step`` with ``$prev.id`` style references replaced by earlier results."""
    args = {}
    changed = False
    for k, v in step.args.items():
        m = REF.match(v) if isinstance(v, str) else None
        if m:
            args[k] = _ref_value(results, m.group(1), m.group(2), index)
            changed = True
        else:
            args[k] = v
    if not changed:
        return step
    return fill_step(step.model_copy(update={"args": args}))


def run(
    plan: Plan,
    *,
    confirmed: bool = False,
    actor: str = "planner",
    progress: Callable[[StepResult], None] | None = None,
    max_steps: int | None = None,
    replan: bool = True,
) -> list[StepResult]:
    """Run the steps of ``plan`` in order; stops at the first failure (after one retry)."""
    out: list[StepResult] = []
    values: list[Any] = []
    steps = list(plan.steps)
    retried = False
    i = 0
    while i < len(steps):
        step = steps[i]
        if max_steps is not None and i >= max_steps:
            for j, rest in enumerate(steps[i:], i):
                out.append(StepResult(index=j + 1, verb=rest.verb, context=rest.context, cli=rest.cli, status="skipped",
                                      error=f"over the limit of {max_steps} steps"))
            break
        try:
            step = resolve(step, values, i)
        except HeroError as exc:
            out.append(StepResult(index=i + 1, verb=step.verb, context=step.context, cli=step.cli, status="error",
                                  error=exc.message, hint=exc.hint))
            _skip_rest(out, steps, i + 1)
            break
        if step.destructive and not confirmed:
            res = StepResult(index=i + 1, verb=step.verb, context=step.context, cli=step.cli, status="needs-confirmation",
                             error="deletes or overwrites data: confirm first")
            out.append(res)
            if progress:
                progress(res)
            _skip_rest(out, steps, i + 1)
            break
        try:
            ctx = contexts.load(step.context)
            value = registry.call(step.verb, step.args, ctx, actor=actor, confirmed=confirmed and step.destructive)
        except HeroError as exc:
            if not retried:
                retried = True
                new = None
                if replan and plan.source == "llm":
                    new = llm_plan(contexts.load(step.context), plan.text,
                                   feedback=f"step {i + 1} `{step.cli}` failed: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
                    if new is not None and new.steps and guard(new, step.context) is None:
                        for s in new.steps:
                            s.context = s.context or step.context
                            fill_step(s)
                        steps = steps[:i] + list(new.steps)
                        continue
                if isinstance(exc, ContextBusy):
                    continue
            res = StepResult(index=i + 1, verb=step.verb, context=step.context, cli=step.cli, status="error",
                             error=exc.message, hint=exc.hint, code=exc.code, retried=retried)
            out.append(res)
            if progress:
                progress(res)
            _skip_rest(out, steps, i + 1)
            break
        data = jsonable(value)
        values.append(data)
        res = StepResult(index=i + 1, verb=step.verb, context=step.context, cli=step.cli, status="ok", result=data,
                         retried=retried)
        out.append(res)
        if progress:
            progress(res)
        i += 1
    return out


def _skip_rest(out: list[StepResult], steps: list[Step], start: int) -> None:
    for j, rest in enumerate(steps[start:], start):
        out.append(StepResult(index=j + 1, verb=rest.verb, context=rest.context, cli=rest.cli, status="skipped"))


# ---------------------------------------------------------------------------------------
# Replies: a sentence for what happened (the front-ends print or speak it)
# ---------------------------------------------------------------------------------------


def event_when(event: dict) -> str:
    """"Mon 09:15", or "Mon, all day" for an all-day event (never "00:00")."""
    if event.get("all_day"):
        try:
            return datetime.fromisoformat(event["start"]).strftime("%a") + ", all day,"
        except (KeyError, TypeError, ValueError):
            return "All day:"
    return _time(event.get("start"))


def _time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%a %H:%M")
    except ValueError:
        return iso


def _label(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("name", "title", "question", "book"):
            if item.get(key):
                return str(item[key])
        return str(item.get("id", ""))
    return str(item)


def describe(verb_name: str, value: Any, *, listed: bool = False) -> str:
    """One or a few sentences about a step's result (JSON form); ``listed``: the items of a list
    are already shown one per line, so only count them."""
    action = verb_name.split(".", 1)[1]
    if isinstance(value, list):
        return _describe_list(value, listed)
    if not isinstance(value, dict):
        return "Done." if value is None else str(value)
    own = _DESCRIBE.get(verb_name)
    said = own(value) if own else None
    if said is not None:
        return said
    label = _label(value)
    past = _PAST.get(action)
    if past:
        return f"{past} {label}."
    return label + "." if label else "Done."


def _describe_list(value: list, listed: bool) -> str:
    """A list: how many (events, or things found) and, unless ``listed``, the first five."""
    if not value:
        return "Nothing found."
    first = value[0]
    more = f" and {len(value) - 5} more" if len(value) > 5 else ""
    if isinstance(first, dict) and "start" in first and "title" in first:
        count = f"{len(value)} event{'s' if len(value) != 1 else ''}"
        if listed:
            return count + "."
        return f"{count}: " + "; ".join(f"{event_when(o)} {o['title']}" for o in value[:5]) + more + "."
    if listed:
        return f"{len(value)} found."
    return f"{len(value)} found: " + ", ".join(_label(x) for x in value[:5]) + more + "."


def _knowledge_answer(value: dict) -> str:
    """The answer, else the best passage with its citation."""
    if value.get("answer"):
        return value["answer"].strip()
    passages = value.get("passages") or []
    if not passages:
        return "The knowledge base has nothing on that."
    p = passages[0]
    return f"{(p.get('text') or '').strip()[:400]} [{p.get('citation') or p.get('page', '')}]"


# Verbs whose result is said in their own words (None: the generic sentence).
_DESCRIBE: dict[str, Callable[[dict], str | None]] = {
    "document.summarize": lambda v: v["text"].strip() if v.get("text") else None,
    "knowledge.ask": _knowledge_answer,
    "calendar.next": lambda v: f"Next: {_time(v.get('start'))} {v.get('title')}.",
    "slides.present": lambda v: f"Opening the deck \u201c{v.get('title')}\u201d ({v.get('total')} slides).",
    "context.use": lambda v: f"Switched to the {v.get('name')} context.",
    "status.show": lambda r: " ".join(f"{k}: {v}" for k, v in r.items() if isinstance(v, (str, int)) and v != ""),
}
# The generic sentence: the action in the past, then the record ("Created Lena Fischer.").
_PAST = {"create": "Created", "add": "Added", "update": "Updated", "delete": "Deleted", "tag": "Tagged",
         "untag": "Untagged", "open": "Opened", "show": "", "use": "Using"}
