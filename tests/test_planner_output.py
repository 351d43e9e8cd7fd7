"""The planner's answers are shown by the front-ends (issue 16 items 1 and 5).

- ``hero ask`` and ``hero agent run`` results print through their views
  (:mod:`herotui.frontends.views`) exactly as the planner's own renderers printed them
  (recorded from those renderers: piped text and terminal styles, 60 columns);
- the planner prints nothing: ``hero agent run`` tells ``agent.STEP_DONE`` of each finished
  step, and the CLI (``render.planner_steps``) prints the line on standard error when it is a
  terminal, as the planner did;
- the front-ends read ``HERO_PROGRESS``, ``HERO_OPENER``, ``HERO_DEBUG`` and ``HERO_CONTEXT``
  through ``settings.get()``, and see a changed value at once.
"""

from __future__ import annotations

import io
import sys

import pytest

from herotui import registry, settings
from herotui.frontends import present, render, views


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _samples() -> dict:
    """An answer with every kind of line: plan lines, a listed result, an error with its hint,
    a step waiting for a yes, a deck that was opened; and agent runs (ran, dry run)."""
    from herotui.planner.agent import AgentRun
    from herotui.planner.ask import AskResult
    from herotui.planner.execute import StepResult
    from herotui.planner.plan import Plan, Step

    steps = [Step(verb="contact.search", args={"query": "alex"}, context="personal",
                  cli="hero --context personal contact search alex"),
             Step(verb="contact.tag", args={}, context="personal", cli="hero --context personal contact tag X vip"),
             Step(verb="contact.delete", args={}, context="personal", cli="hero --context personal contact delete X",
                  destructive=True),
             Step(verb="slides.present", args={}, context="business", cli="hero --context business slides present --best a")]
    done = [StepResult(index=1, verb="contact.search", context="personal", cli=steps[0].cli, status="ok",
                       result=[{"name": "Alex Smith", "company": "Northwind"}, {"name": "Alexa Jones"}, "plain"]),
            StepResult(index=2, verb="contact.tag", context="personal", cli=steps[1].cli, status="error",
                       error="no contact X", hint="hero contact list shows them"),
            StepResult(index=3, verb="contact.delete", context="personal", cli=steps[2].cli, status="needs-confirmation"),
            StepResult(index=4, verb="slides.present", context="business", cli=steps[3].cli, status="ok",
                       result={"deck_id": "01JD3ABCDEFGHJKMNPQRSTVWXY", "title": "Alex at 40", "total": 6})]
    plan = Plan(text="many things", steps=steps)
    many = [{"start": "2026-12-06T10:00:00+00:00", "title": f"Meeting {i}"} for i in range(10)]
    listing = Plan(text="what's on", steps=[Step(verb="calendar.list", context="personal", cli="hero calendar list")])
    return {
        "ask": AskResult(text="many things", context="personal", plan=plan, steps=done, reply="The whole reply.",
                         brief="The brief reply.", ran=True, exit_code=1),
        "ask-dry": AskResult(text="x", context="personal", plan=Plan(text="x", steps=steps[:2]), dry_run=True,
                             reply="This is what a yes would run."),
        "ask-list": AskResult(text="what's on", context="personal", plan=listing, ran=True, reply="10 events.",
                              steps=[StepResult(index=1, verb="calendar.list", context="personal", cli="hero calendar list",
                                                status="ok", result=many)]),
        "ask-nothing": AskResult(text="hm", context="personal", plan=Plan(text="hm")),
        "agent": AgentRun(text="t", context="personal", plan=plan, steps=done[:3], status="failed",
                          reply="Step 2 (contact.tag) failed: no contact X"),
        "agent-dry": AgentRun(text="t", context="personal", plan=Plan(text="t", steps=steps[:2]), status="dry-run",
                              reply="2 steps planned."),
        "agent-not-run": AgentRun(text="t", context="personal", plan=Plan(text="t", steps=steps[:2]),
                                  status="needs-confirmation"),
    }


def _printed(result, monkeypatch, tty: bool) -> str:
    out = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("FORCE_COLOR", "1" if tty else "")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("HERO_TZ", "UTC")
    render.output(result, False)
    return out.getvalue()


# Printed by AskResult.__rich__ / rendered(opening) and AgentRun.__rich__ before they moved
# (the same samples, the same Rich, 60 columns): see RECORDED below.
RECORDED: dict[str, str] = {
    'ask piped': (
        '$ hero --context personal contact search alex\n'
        '$ hero --context personal contact tag X vip  [error]\n'
        '$ hero --context personal contact delete X  [needs-confirmation]\n'
        '$ hero --context business slides present --best a\n'
        '  Alex Smith · Northwind\n'
        '  Alexa Jones\n'
        '  plain\n'
        'error: no contact X\n'
        'hint: hero contact list shows them\n'
        'Found the deck “Alex at 40” (6 slides); to present it in a terminal: hero --context busine'
        'ss slides present 01JD3ABCDEFGHJKMNPQRSTVWXY\n'
    ),
    'ask terminal': (
        '\x1b[2m$ hero --context personal contact search alex\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact tag X vip\x1b[0m\x1b[2;31m  [error]\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact delete X\x1b[0m\x1b[2;33m  \x1b[0m\n'
        '\x1b[2;33m[needs-confirmation]\x1b[0m\n'
        '\x1b[2m$ hero --context business slides present --best a\x1b[0m\n'
        '\x1b[36m  Alex Smith · Northwind\x1b[0m\n'
        '\x1b[36m  Alexa Jones\x1b[0m\n'
        '\x1b[36m  plain\x1b[0m\n'
        '\x1b[31merror: no contact X\x1b[0m\n'
        '\x1b[31mhint: hero contact list shows them\x1b[0m\n'
        '\x1b[1mFound the deck “Alex at 40” (6 slides); to present it in a \x1b[0m\n'
        '\x1b[1mterminal: hero --context business slides present \x1b[0m\n'
        '\x1b[1m01JD3ABCDEFGHJKMNPQRSTVWXY\x1b[0m\n'
    ),
    'ask-dry piped': (
        '$ hero --context personal contact search alex\n'
        '$ hero --context personal contact tag X vip\n'
        'This is what a yes would run.\n'
    ),
    'ask-dry terminal': (
        '\x1b[2m$ hero --context personal contact search alex\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact tag X vip\x1b[0m\n'
        '\x1b[1mThis is what a yes would run.\x1b[0m\n'
    ),
    'ask-list piped': (
        '$ hero calendar list\n'
        '  Sun 10:00 · Meeting 0\n'
        '  Sun 10:00 · Meeting 1\n'
        '  Sun 10:00 · Meeting 2\n'
        '  Sun 10:00 · Meeting 3\n'
        '  Sun 10:00 · Meeting 4\n'
        '  Sun 10:00 · Meeting 5\n'
        '  Sun 10:00 · Meeting 6\n'
        '  Sun 10:00 · Meeting 7\n'
        '  ... 2 more\n'
        '10 events.\n'
    ),
    'ask-list terminal': (
        '\x1b[2m$ hero calendar list\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 0\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 1\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 2\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 3\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 4\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 5\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 6\x1b[0m\n'
        '\x1b[36m  Sun 10:00 · Meeting 7\x1b[0m\n'
        '\x1b[36m  ... 2 more\x1b[0m\n'
        '\x1b[1m10 events.\x1b[0m\n'
    ),
    'ask-nothing piped': '',
    'ask-nothing terminal': '',
    'agent piped': (
        '✓ 1. hero --context personal contact search alex\n'
        '✗ 2. hero --context personal contact tag X vip  no contact X\n'
        '? 3. hero --context personal contact delete X\n'
        '· 4. hero --context business slides present --best a\n'
        'Step 2 (contact.tag) failed: no contact X\n'
    ),
    'agent terminal': (
        '\x1b[32m✓ 1. \x1b[0m\x1b[2;32mhero --context personal contact search alex\x1b[0m\n'
        '\x1b[31m✗ 2. \x1b[0m\x1b[2;31mhero --context personal contact tag X vip\x1b[0m\x1b[31m  no contact X\x1b[0m\n'
        '\x1b[33m? 3. \x1b[0m\x1b[2;33mhero --context personal contact delete X\x1b[0m\n'
        '\x1b[2m· 4. \x1b[0m\x1b[2mhero --context business slides present --best a\x1b[0m\n'
        '\x1b[1mStep 2 (contact.tag) failed: no contact X\x1b[0m\n'
    ),
    'agent-dry piped': (
        '· 1. hero --context personal contact search alex\n'
        '· 2. hero --context personal contact tag X vip\n'
        '2 steps planned.\n'
    ),
    'agent-dry terminal': (
        '\x1b[2m· 1. \x1b[0m\x1b[2mhero --context personal contact search alex\x1b[0m\n'
        '\x1b[2m· 2. \x1b[0m\x1b[2mhero --context personal contact tag X vip\x1b[0m\n'
        '\x1b[1m2 steps planned.\x1b[0m\n'
    ),
    'agent-not-run piped': (
        '· 1. hero --context personal contact search alex\n'
        '· 2. hero --context personal contact tag X vip\n'
    ),
    'agent-not-run terminal': (
        '\x1b[2m· 1. \x1b[0m\x1b[2mhero --context personal contact search alex\x1b[0m\n'
        '\x1b[2m· 2. \x1b[0m\x1b[2mhero --context personal contact tag X vip\x1b[0m\n'
    ),
    'ask opening=False': (
        '\x1b[2m$ hero --context personal contact search alex\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact tag X vip\x1b[0m\x1b[2;31m  [error]\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact delete X\x1b[0m\x1b[2;33m  \x1b[0m\n'
        '\x1b[2;33m[needs-confirmation]\x1b[0m\n'
        '\x1b[2m$ hero --context business slides present --best a\x1b[0m\n'
        '\x1b[36m  Alex Smith · Northwind\x1b[0m\n'
        '\x1b[36m  Alexa Jones\x1b[0m\n'
        '\x1b[36m  plain\x1b[0m\n'
        '\x1b[31merror: no contact X\x1b[0m\n'
        '\x1b[31mhint: hero contact list shows them\x1b[0m\n'
        '\x1b[1mFound the deck “Alex at 40” (6 slides); to present it in a \x1b[0m\n'
        '\x1b[1mterminal: hero --context business slides present \x1b[0m\n'
        '\x1b[1m01JD3ABCDEFGHJKMNPQRSTVWXY\x1b[0m\n'
    ),
    'ask opening=True': (
        '\x1b[2m$ hero --context personal contact search alex\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact tag X vip\x1b[0m\x1b[2;31m  [error]\x1b[0m\n'
        '\x1b[2m$ hero --context personal contact delete X\x1b[0m\x1b[2;33m  \x1b[0m\n'
        '\x1b[2;33m[needs-confirmation]\x1b[0m\n'
        '\x1b[2m$ hero --context business slides present --best a\x1b[0m\n'
        '\x1b[36m  Alex Smith · Northwind\x1b[0m\n'
        '\x1b[36m  Alexa Jones\x1b[0m\n'
        '\x1b[36m  plain\x1b[0m\n'
        '\x1b[31merror: no contact X\x1b[0m\n'
        '\x1b[31mhint: hero contact list shows them\x1b[0m\n'
        '\x1b[1mThe brief reply.\x1b[0m\n'
    ),
}


@pytest.mark.parametrize("name", ["ask", "ask-dry", "ask-list", "ask-nothing", "agent", "agent-dry", "agent-not-run"])
@pytest.mark.parametrize("tty", [False, True], ids=["piped", "terminal"])
def test_the_views_print_what_the_planners_renderers_printed(name, tty, monkeypatch):
    result = _samples()[name]
    if tty and name.startswith("ask"):  # a terminal (stdout, not stdin): render.output prints, the presenter does not
        monkeypatch.setattr(sys, "stdin", io.StringIO())
    assert _printed(result, monkeypatch, tty) == RECORDED[f"{name} {'terminal' if tty else 'piped'}"]


def test_the_presenter_prints_an_answer_as_before_opening_or_not(monkeypatch):
    from rich.console import Console

    answer = _samples()["ask"]
    for opening in (False, True):
        out = _Tty()
        Console(file=out, width=60, force_terminal=True, highlight=False).print(views.ask_result(answer, False, opening=opening))
        assert out.getvalue() == RECORDED[f"ask opening={opening}"]
    assert views.find(answer) is views.ask_result and views.find(_samples()["agent"]) is views.agent_run


def test_present_run_prints_an_answer_with_its_view(monkeypatch):
    import re

    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not interactive: the deck is named, not presented
    monkeypatch.setenv("COLUMNS", "60")
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    present.run(_samples()["ask"])  # what render.output hands an answer in a terminal
    assert out.getvalue() == re.sub(r"\x1b\[[0-9;]*m", "", RECORDED["ask opening=False"])


# --- the planner's steps, said by the CLI ---------------------------------------------------------------


def _agent_run(ctx, text: str = "list contacts and then list my decks") -> None:
    registry.call("agent.run", {"text": text}, ctx, actor="cli")


def test_the_planner_prints_no_step_line(ctx, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", _Tty())
    _agent_run(ctx)
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == ""


def test_the_cli_says_each_step_on_a_terminal_and_nothing_when_piped(ctx, monkeypatch):
    v = registry.get("agent.run")
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    with render.planner_steps(v):
        _agent_run(ctx)
    assert err.getvalue() == ("\u2713 1. hero --context personal contact list\n"
                              "\u2713 2. hero --context personal slides list\n")
    from herotui.planner import agent

    assert agent.STEP_DONE.get() is None  # reset when the verb is done
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with render.planner_steps(v):
        _agent_run(ctx)
    assert piped.getvalue() == ""
    with render.planner_steps(registry.get("contact.list")):  # other verbs: no hook (the planner is not imported for them)
        assert agent.STEP_DONE.get() is None


def test_a_failed_step_is_said_with_its_error(monkeypatch):
    from herotui.planner.execute import StepResult

    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    render.print_step(StepResult(index=2, verb="contact.show", context="personal", cli="hero contact show X",
                                 status="error", error="no contact X"))
    render.print_step(StepResult(index=3, verb="contact.delete", context="personal", cli="hero contact delete X",
                                 status="skipped"))
    assert err.getvalue() == "\u2717 2. hero contact show X  (no contact X)\n\u00b7 3. hero contact delete X\n"


def test_hero_agent_run_through_the_cli_says_its_steps_on_stderr(ctx, monkeypatch, capsys):
    from herotui.frontends import cli

    monkeypatch.setenv("HERO_NO_SERVER", "1")
    monkeypatch.setattr(sys, "stderr", _Tty())
    code = cli._main(["agent", "run", "list contacts and then list my decks"])
    assert code == 0
    assert sys.stderr.getvalue().splitlines() == ["\u2713 1. hero --context personal contact list",
                                                  "\u2713 2. hero --context personal slides list"]
    assert capsys.readouterr().out.splitlines()[:2] == ["\u2713 1. hero --context personal contact list",
                                                       "\u2713 2. hero --context personal slides list"]


# --- settings read by the front-ends ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "shown"), [
    (None, True), ("1", True), ("yes", True), ("true", True), ("on", True), ("", True), ("   ", True),
    ("maybe", True),  # not a yes/no value: the default (on), as settings.get() reads it
    ("0", False), (" 0 ", False), ("false", False), ("FALSE", False), ("no", False), ("off", False),
])
def test_hero_progress_is_the_settings_bool(value, shown, monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Tty())
    if value is None:
        monkeypatch.delenv("HERO_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("HERO_PROGRESS", value)
    assert settings.get().HERO_PROGRESS is shown  # the front-end and the settings agree
    bar = render.progress_bar()
    assert (bar is not None) is shown
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert render.progress_bar() is None  # never when standard error is not a terminal


def test_hero_opener_is_read_when_it_changes(monkeypatch):
    monkeypatch.setenv("HERO_OPENER", "  my-viewer --new  ")
    assert present.opener() == ["my-viewer", "--new"]
    monkeypatch.setenv("HERO_OPENER", "other")
    assert present.opener() == ["other"]
    monkeypatch.setenv("HERO_OPENER", "")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform != "darwin":
        assert present.opener() is None  # unset (empty): no graphical session, no opener


def test_hero_debug_shows_the_traceback_in_the_cli(hero_home, monkeypatch, capsys):
    from herotui.errors import HeroError
    from herotui.frontends import cli

    monkeypatch.setenv("HERO_NO_SERVER", "1")
    assert cli._main(["contact", "show", "nobody-at-all"]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    monkeypatch.setenv("HERO_DEBUG", "0")  # a flag: any value turns it on, as before
    with pytest.raises(HeroError):
        cli._main(["contact", "show", "nobody-at-all"])


def test_hero_debug_prints_an_rpc_internal_error_s_traceback(hero_home, monkeypatch, capsys):
    from herotui.frontends import rpc

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(rpc, "call_method", broken)
    server = rpc.Server()
    request = {"jsonrpc": "2.0", "id": 1, "method": "contact.list"}
    assert server.handle_one(request)["error"]["code"] == rpc.INTERNAL_ERROR
    assert "Traceback" not in capsys.readouterr().err
    monkeypatch.setenv("HERO_DEBUG", "1")
    assert server.handle_one(request)["error"]["code"] == rpc.INTERNAL_ERROR
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_mcp_pins_hero_context_from_the_settings(hero_home, monkeypatch):
    """The resident server's bridge is given the front-end's HERO_CONTEXT (empty: none)."""
    from herotui.frontends import mcp
    from herotui.server import bridge

    seen = []

    class Bridge:
        def __init__(self, kind, context, pin, roots) -> None:
            seen.append((kind, pin))
            raise SystemExit(0)  # enough: the pin is what this test is about

    monkeypatch.setattr(bridge, "available", lambda: True)
    monkeypatch.setattr(bridge, "Bridge", Bridge)
    monkeypatch.setenv("HERO_CONTEXT", "business")
    with pytest.raises(SystemExit):
        mcp.make_server()
    monkeypatch.setenv("HERO_CONTEXT", "")
    with pytest.raises(SystemExit):
        mcp.make_server()
    assert seen == [("mcp", "business"), ("mcp", None)]
