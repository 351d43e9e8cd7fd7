"""Views: how a verb's result looks on a terminal, keyed by the result's type.

Services return data (pydantic models); what a person reads (styles, hints such as "try:
hero slides present ...", the order of lines) is decided here, by the front-ends.
:func:`herotui.frontends.render.output` asks :func:`view` for a result's Rich renderable;
the presenter (:mod:`herotui.frontends.present`) prints decks with it when it cannot present.

A view is keyed by ``"module:Class"`` rather than by the class itself, so that rendering a
result never imports a service the command did not use (the CLI imports only the service
named on its command line); a test checks every key names a class that exists. A subclass
gets its parent's view (the lookup walks the MRO). A view takes the result and ``piped``
(standard output is not a terminal) and returns a Rich renderable, or a ``str`` printed
as it is (plain lines that grep can read, never wrapped).

Rich is imported inside the views: this module is imported by :mod:`render` on every call.
"""

from __future__ import annotations

from typing import Any, Callable

View = Callable[[Any, bool], Any]
VIEWS: dict[str, View] = {}


def view_of(key: str) -> Callable[[View], View]:
    """Register the decorated function as the view of the class ``key`` (``"module:Class"``)."""

    def register(func: View) -> View:
        VIEWS[key] = func
        return func

    return register


def find(result: Any) -> View | None:
    """The view of ``result``'s type (or of its nearest parent that has one), else None."""
    for cls in type(result).__mro__:
        func = VIEWS.get(f"{cls.__module__}:{cls.__qualname__}")
        if func is not None:
            return func
    return None


def view(result: Any, piped: bool = False) -> Any:
    """What to print for ``result``: its view's renderable or text, else the result itself
    (anything Rich prints)."""
    func = find(result)
    return func(result, piped) if func is not None else result


# --- status, demo ----------------------------------------------------------------------------


@view_of("herotui.services.status:Status")
def status(s: Any, piped: bool) -> Any:
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    t = Text()
    t.append("Hero", style="bold")
    t.append(" — context ")
    t.append(s.context, style="bold cyan")
    if s.description:
        t.append(f" ({s.description})", style="dim")
    t.append(f"\n{s.contacts} contacts, {s.events} events")
    if s.next_event:
        when = s.next_event_start.astimezone().strftime("%a %d %b %H:%M") if s.next_event_start else ""
        t.append(f"\nnext: {when}  {s.next_event}")
    else:
        t.append("\nnext: nothing scheduled")
    t.append(f"\ncontexts: {', '.join(s.contexts)}", style="dim")
    t.append("\ntry: hero demo · hero contact list · hero calendar today · hero search alex · hero --help", style="dim")
    return t


@view_of("herotui.services.demo:DemoReport")
def demo_report(report: Any, piped: bool) -> Any:
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    t = Text()
    for c in report.contexts:
        t.append(f"{c.context}: ", style="bold")
        t.append(f"{c.contacts} contacts, {c.events} events, {c.documents} documents and {c.decks} decks added\n")
    t.append("try: hero calendar week --context business · hero contact list · hero search alex", style="dim")
    return t


# --- documents -------------------------------------------------------------------------------

SHOWN_IN_REPORT = 20  # documents (and duplicates) named one by one in an add report


def add_report_lines(report: Any) -> list[tuple[str, str]]:
    """(style, line) pairs of a document add report: what a person reads."""
    out = []
    n = len(report.added)
    out.append(("bold green" if n else "bold", f"added {n} document{'s' if n != 1 else ''}"))
    for d in report.added[:SHOWN_IN_REPORT]:
        extra = f", {d.pages} pages" if d.pages else ""
        out.append(("", f"  {d.id}  {d.title}  [{d.kind}{extra}]" + (f"  ({d.note})" if d.note else "")))
    if n > SHOWN_IN_REPORT:
        out.append(("dim", f"  ... and {n - SHOWN_IN_REPORT} more ('hero document list' shows them)"))
    for d in report.duplicates[:SHOWN_IN_REPORT]:
        out.append(("cyan", f"already stored: {d.path} is {d.id} ({d.title})"))
    if len(report.duplicates) > SHOWN_IN_REPORT:
        out.append(("cyan", f"... and {len(report.duplicates) - SHOWN_IN_REPORT} more already stored"))
    for s in report.skipped:
        out.append(("yellow", f"skipped: {s.path}: {s.reason}"))
    if report.hidden:
        out.append(("dim", f"left out {report.hidden} hidden file(s) or folder(s) (add them with --hidden)"))
    return out


@view_of("herotui.services.document.models:AddReport")
def document_add_report(report: Any, piped: bool) -> Any:
    """Piped: plain lines, never wrapped (grep works); a terminal: the same lines, styled."""
    lines = add_report_lines(report)
    if piped:
        return "".join(line + "\n" for _style, line in lines)
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    t = Text()
    for style, line in lines:
        t.append(line + "\n", style=style or None)
    t.rstrip()
    return t


# --- slides ----------------------------------------------------------------------------------


@view_of("herotui.services.slides:CreatedDeck")
def created_deck(deck: Any, piped: bool) -> Any:
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    t = Text()
    if deck.duplicate:
        t.append("already stored: ", style="bold yellow")
        t.append(f"deck {deck.id} '{deck.title}' ({deck.slides} slides) has the same content; nothing added\n")
    else:
        t.append("created ", style="bold green")
        t.append(f"deck {deck.id} '{deck.title}' ({deck.slides} slides)")
        if deck.tags:
            t.append(f"  tags: {', '.join(deck.tags)}", style="dim")
        t.append("\n")
    t.append(f"try: hero slides present {deck.id[:10]}", style="dim")
    return t


@view_of("herotui.services.slides:Presentation")
def presentation(p: Any, piped: bool) -> Any:
    """Every slide, rendered, with a rule between them (the presenter shows them one by one)."""
    from rich.console import Group  # ~54 ms cold: paid when a result is shown to a person
    from rich.markdown import Markdown  # ~68 ms cold: paid when a result is shown to a person
    from rich.rule import Rule  # ~46 ms cold: paid when a result is shown to a person
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    parts: list[Any] = [Text(p.title, style="bold")]
    for s in p.slides:
        label = f"slide {s.index} of {p.total}" + (f" · {s.title}" if s.title else "")
        parts += [Text(""), Rule(label, style="dim"), Text(""), Markdown(s.markdown, code_theme="monokai", hyperlinks=False)]
    return Group(*parts)


# --- knowledge -------------------------------------------------------------------------------


@view_of("herotui.services.knowledge:Answer")
def knowledge_answer(answer: Any, piped: bool) -> Any:
    from rich.console import Group  # ~54 ms cold: paid when a result is shown to a person
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    parts: list[Any] = []
    if answer.answer:
        parts.append(Text(answer.answer.strip() + "\n"))  # a terminal: wrapped at words; piped: one line each
    if not answer.passages:
        parts.append(Text("No passage in the knowledge base answers this; "
                          "try other words, or 'hero knowledge search WORDS'.", style="dim"))
    for i, p in enumerate(answer.passages):
        if i:
            parts.append(Text(""))
        parts.append(Text(p.citation, style="bold cyan"))
        parts.append(Text(p.text.strip()))  # a terminal: wrapped at words, never cut; piped: as written
    return Group(*parts)


# --- the planner's answers -------------------------------------------------------------------


@view_of("herotui.planner.ask:AskResult")
def ask_result(answer: Any, piped: bool, opening: bool = False) -> Any:
    """The plan lines (``$ hero ...``), the results and the reply; ``opening``: the presenter
    shows the deck next (else a deck that was opened is named with the command that shows it)."""
    from rich.console import Group  # ~54 ms cold: paid when a result is shown to a person
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    parts: list[Any] = []
    by_index = {s.index: s for s in answer.steps}
    for i, step in enumerate(answer.plan.steps, 1):
        done = by_index.get(i)
        line = Text("$ " + (done.cli if done else step.cli), style="dim")
        if done is not None and done.status != "ok":
            line.append(f"  [{done.status}]", style="yellow" if done.status != "error" else "red")
        parts.append(line)
    listed = False
    for s in answer.steps:
        if s.status == "ok" and s.result is not None:
            lines = compact(s.result)
            if lines:
                parts.append(Text(lines, style="cyan"))
                listed = True
        elif s.status == "error":
            parts.append(Text(f"error: {s.error}" + (f"\nhint: {s.hint}" if s.hint else ""), style="red"))
            listed = True
    reply = answer.brief if listed and answer.brief else answer.reply
    deck = next((s for s in answer.steps if s.verb == "slides.present" and s.status == "ok"
                 and isinstance(s.result, dict)), None)
    if deck is not None and not opening:
        from herotui.planner.intents import step_cli

        show = step_cli("slides.present", {"id": deck.result.get("deck_id")}, deck.context)
        reply = (f"Found the deck \u201c{deck.result.get('title')}\u201d ({deck.result.get('total')} slides); "
                 f"to present it in a terminal: {show}")
    if reply:
        parts.append(Text(reply, style="bold"))
    return Group(*parts)


def compact(result: Any, limit: int = 8) -> str:
    """A few lines for a step's result (JSON data): one per item of a list, else nothing."""
    if isinstance(result, list):
        lines = []
        for item in result[:limit]:
            if isinstance(item, dict):
                from herotui.planner.execute import event_when

                bits = [event_when(item).rstrip(",") if k == "start" else str(item.get(k))  # "Sun, all day"
                        for k in ("start", "title", "name", "kind", "company") if item.get(k)]
                lines.append("  " + " · ".join(bits[:3]))
            else:
                lines.append(f"  {item}")
        if len(result) > limit:
            lines.append(f"  ... {len(result) - limit} more")
        return "\n".join(lines)
    return ""


STEP_MARKS = {"ok": "\u2713", "error": "\u2717", "needs-confirmation": "?", "skipped": "-"}
STEP_STYLES = {"ok": "green", "error": "red", "needs-confirmation": "yellow"}


@view_of("herotui.planner.agent:AgentRun")
def agent_run(run: Any, piped: bool) -> Any:
    """A line per step with its status mark (planned, run, failed, not run), then the reply."""
    from rich.console import Group  # ~54 ms cold: paid when a result is shown to a person
    from rich.text import Text  # ~20 ms cold: paid when a result is shown to a person

    rows: list[Any] = []
    by_index = {s.index: s for s in run.steps}
    for i, step in enumerate(run.plan.steps, 1):
        done = by_index.get(i)
        status = done.status if done else ("planned" if run.status == "dry-run" else "not run")
        mark = STEP_MARKS.get(status, "\u00b7")
        style = STEP_STYLES.get(status, "dim")
        line = Text(f"{mark} {i}. ", style=style)
        line.append(done.cli if done else step.cli, style="dim")
        if done is not None and done.error:
            line.append(f"  {done.error}", style=style)
        rows.append(line)
    if run.reply:
        rows.append(Text(run.reply, style="bold"))
    return Group(*rows)


def step_line(res: Any) -> str:
    """The line said on standard error when a planner step finishes (``hero agent run``)."""
    mark = {"ok": "\u2713", "error": "\u2717"}.get(res.status, "\u00b7")
    return f"{mark} {res.index}. {res.cli}" + (f"  ({res.error})" if res.error else "")
