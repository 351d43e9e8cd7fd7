"""The planner's promises beyond the score: safety of the plan, bad input, speech-to-text
punctuation, conversations kept apart, learned phrasings, and the shipped intent model.

Everything runs on a copy of the demo home under the reference clock (Sunday 2026-12-06
12:00 Europe/Brussels), so no test depends on the day it runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import devset
import pytest
from support import make_demo_home


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    with devset.frozen_clock():
        return make_demo_home(tmp_path_factory.mktemp("safety") / "hero-home")


@pytest.fixture
def home(template, tmp_path):
    target = tmp_path / "home"
    shutil.copytree(template, target)
    with devset.frozen_clock(tick=True), devset.hero_home(target, active="business"):
        yield target


def ask(text: str, context: str = "business", actor: str = "cli", **kw):
    from herotui import contexts, registry

    return registry.call("ask.run", {"text": text, **kw}, contexts.load(context), actor=actor)


# ---------------------------------------------------------------------------------------
# Safety is a property of the plan
# ---------------------------------------------------------------------------------------

# (context, request, the id of a recurring event it names for one day: no delete may touch it)
DESTRUCTIVE = [
    ("business", "delete Alex Smith", None), ("business", "remove Ben Carter from my contacts", None),
    ("business", "get rid of victor", None), ("business", "erase the contact Julia Becker", None),
    ("business", "delete the contact Sophie Martens", None), ("business", "forget Omar Haddad", None),
    ("personal", "delete Sanne Bakker", None), ("personal", "remove maxime", None),
    ("business", "cancel friday drinks", None), ("business", "delete the sprint retrospective", None),
    ("business", "cancel the globex project status meeting", None), ("business", "call off the vendor call", None),
    ("personal", "cancel my dentist appointment", None), ("personal", "cancel the GP appointment", None),
    ("personal", "remove the plumber from my calendar", None), ("personal", "delete movie night", None),
    ("business", "cancel tomorrow's standup", "Daily standup"), ("business", "skip the standup on friday", "Daily standup"),
    ("business", "no standup on tuesday please", "Daily standup"),
    ("business", "cancel the daily standup on thursday", "Daily standup"),
    ("personal", "skip the gym with Hugo on thursday", "Gym with Hugo"),
    ("personal", "cancel gym with hugo tomorrow", "Gym with Hugo"),
    ("personal", "cancel the swimming lesson this saturday", "Kids' swimming lesson"),
    ("personal", "i am not going to the gym on thursday", "Gym with Hugo"),
    ("business", "cancel the standup", "Daily standup"), ("personal", "cancel the gym with hugo", "Gym with Hugo"),
    ("business", "cancel the meeting with Sophie", "1:1 with Sophie"),
    ("business", "delete the contoso roadmap deck", None), ("business", "delete the onboarding research doc", None),
    ("business", "remove the budget assumptions document", None), ("personal", "delete the personal context", None),
    ("business", "move the quarterly report review to friday 3pm", None),
    ("business", "reschedule the sprint retrospective to next monday 11am", None),
    ("business", "push the vendor call an hour later", None), ("business", "move the vendor call to 5pm", None),
    ("business", "move lunch with claire from wednesday to thursday", None),
    ("business", "the budget follow-up got moved to 3pm", None), ("personal", "the GP appointment got moved to 5pm", None),
    ("personal", "move movie night to saturday 8pm", None), ("personal", "postpone the plumber to tuesday", None),
    ("business", "move the standup to 10am", None), ("business", "shift friday drinks to 6pm", None),
    ("business", "bring the board deck prep forward to tomorrow 9am", None),
    ("personal", "move dinner at felix's to sunday", None), ("business", "delete everything", None),
    ("personal", "delete it", None), ("personal", "move it to tomorrow", None), ("business", "cancel", None),
    ("business", "tga Omar as vip and delete him", None), ("business", "rename business to work", None),
]


def test_fifty_deletes_and_moves_none_runs_unconfirmed_none_loses_a_series(home):
    from herotui import contexts, registry
    from herotui.planner import execute

    assert len(DESTRUCTIVE) >= 50
    before = devset.snapshot()
    for context, text, recurring in DESTRUCTIVE:
        ctx = contexts.load(context)
        plan = execute.make_plan(ctx, text, use_model=False)
        for step in plan.steps:
            risky = step.destructive or (step.verb == "calendar.update" and ("start" in step.args or "skip" in step.args)) \
                or step.verb == "context.rename"
            assert not risky or plan.needs_confirmation, (text, plan)
        if recurring:
            series = devset.resolve_id(ctx, "calendar", recurring)
            assert not any(s.verb == "calendar.delete" and s.args.get("id") in series and not s.args.get("occurrence")
                           for s in plan.steps), (text, plan)
        r = registry.call("ask.run", {"text": text}, ctx, actor="test")
        assert not r.ran or not any(s.status == "ok" and s.verb.endswith((".delete", ".update", ".rename"))
                                    for s in r.steps), (text, r)
        registry.call("ask.run", {"text": "no"}, ctx, actor="test")
    assert devset.snapshot() == before


def test_the_confirmation_shows_the_change(home):
    r = ask("move the vendor call to 5pm")
    assert r.pending and "Vendor call" in r.reply and "16:00" in r.reply and "17:00" in r.reply
    r = ask("cancel all the meetings with Sophie")
    assert r.pending and "whole series" in r.reply and "occurrences" in r.reply
    r = ask("skip the standup on friday")
    assert r.pending and "only that occurrence" in r.reply and "Fri 11 Dec" in r.reply


def test_a_yes_cancels_one_occurrence_and_the_series_stays(home):
    from herotui import contexts, registry

    ctx = contexts.load("business")
    week = {"start": "2026-12-07", "end": "2026-12-11"}
    before = registry.call("calendar.list", week, ctx)
    r = ask("skip the standup on friday")
    assert [s.verb for s in r.plan.steps] == ["calendar.update"] and r.plan.steps[0].args["skip"]
    assert r.pending and "only the occurrence on Fri 11 Dec 2026" in r.reply
    r = ask("yes")
    assert r.ran and [s.status for s in r.steps] == ["ok"]
    after = registry.call("calendar.list", week, ctx)
    gone = [(o.title, o.start) for o in before if (o.title, o.start) not in [(a.title, a.start) for a in after]]
    assert len(gone) == 1 and gone[0][0] == "Daily standup" and gone[0][1].day == 11
    assert sum(o.title == "Daily standup" for o in after) == 4


def test_moving_one_occurrence_of_a_series_moves_only_it(home):
    from herotui import contexts, registry

    ctx = contexts.load("business")
    r = ask("move the standup on thursday to 11am")
    assert r.pending and "only that occurrence" in r.reply, r.reply
    assert ask("yes").ran
    week = registry.call("calendar.list", {"start": "2026-12-07", "end": "2026-12-11"}, ctx)
    standups = [f"{o.start:%a %H:%M}" for o in week if o.title == "Daily standup"]
    assert "Thu 11:00" in standups and sum(s.endswith("09:15") for s in standups) == 4, standups


def test_a_move_that_changes_nothing_says_so(home):
    r = ask("move the vendor call to 4pm")  # it is at 16:00 already
    assert not r.plan.steps and "already" in r.reply and not r.pending


# ---------------------------------------------------------------------------------------
# Bad input: a clear reply, no change, no traceback
# ---------------------------------------------------------------------------------------

BAD = ["", "   ", "\x00\x01\x02", "a" * 10_000, "what's on " * 1_200, "Quels sont mes rendez-vous demain ?",
       "明天我有什么安排", "\u202e\u200bdelete alex\u200b", "$(rm -rf ~)", "'; DROP TABLE contacts; --", "🙂🙂🙂",
       "delete \x1b[31mAlex Smith\x1b[0m"]


@pytest.mark.parametrize("text", BAD, ids=[repr(t[:20]) for t in BAD])
def test_bad_input_gets_a_reply_and_changes_nothing(home, text, capsys):
    from herotui.frontends import cli

    before = devset.snapshot()
    code = cli._main(["ask", text])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in out + err
    assert code in (0, 1, 2) and (out.strip() or err.strip())
    assert devset.snapshot() == before


def test_planning_a_long_request_is_bounded(home):
    import time

    from herotui import contexts
    from herotui.planner import execute

    t0 = time.perf_counter()
    execute.make_plan(contexts.load("business"), "add lunch with Alex " * 500, use_model=False)
    assert time.perf_counter() - t0 < 5


# ---------------------------------------------------------------------------------------
# Speech to text: punctuation and the first-word correction
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("said", ["In business. What's on tomorrow?", "In business, what's on tomorrow?",
                                  "in business what's on tomorrow", "What's on tomorrow, in business."])
def test_the_context_prefix_survives_speech_punctuation(home, said):
    from herotui import contexts
    from herotui.planner import execute

    plan = execute.make_plan(contexts.load("personal"), said, use_model=False)
    assert [s.verb for s in plan.steps] == ["calendar.list"] and plan.steps[0].context == "business", plan
    assert plan.steps[0].args == {"start": "tomorrow", "end": "tomorrow"}


@pytest.mark.parametrize("said,verb", [("Um. Add Lena Fischer as a contact.", "contact.create"),
                                       ("Hey, uh, whats Marie's email?", "contact.show"),
                                       ("Schedule lunch with Alex. Tomorrow at noon.", "calendar.add")])
def test_requests_survive_speech_punctuation_and_fillers(home, said, verb):
    from herotui import contexts
    from herotui.planner import execute

    ctx = contexts.load("personal" if "Marie" in said else "business")
    plan = execute.make_plan(ctx, said, use_model=False)
    assert [s.verb for s in plan.steps] == [verb], plan


@pytest.mark.parametrize("heard", ["Joe budget review", "Fine quarterly report", "Sure the roadmap", "Sign Alex Smith"])
def test_first_word_correction_never_makes_a_free_text_search(home, heard):
    from herotui import contexts
    from herotui.voice import vocabulary

    from herotui.planner import execute

    biz = contexts.load("business")
    # the guard itself: a free-text search plans for any words, so it never counts as a correction
    search = f"find {heard.split(' ', 1)[1]}"
    assert any(s.verb in vocabulary.FREE_TEXT_VERBS for s in execute.make_plan(biz, search, use_model=False).steps)
    assert not vocabulary._parses(biz, search)
    fixed = vocabulary.correct_command(biz, heard)
    if fixed is not None:  # a correction that is not a search is fine ("Sign Alex Smith" -> "Show Alex Smith")
        plan = execute.make_plan(biz, fixed, use_model=False)
        assert not any(s.verb in vocabulary.FREE_TEXT_VERBS for s in plan.steps), (heard, fixed)


def test_a_misheard_first_word_still_finds_the_person(home):
    """whisper's "Joe Alex Smith" for "Show Alex Smith": the planner reads the name itself now."""
    from herotui import contexts
    from herotui.planner import execute
    from herotui.voice import vocabulary

    biz = contexts.load("business")
    fixed = vocabulary.correct_command(biz, "Joe Alex Smith") or "Joe Alex Smith"
    plan = execute.make_plan(biz, fixed, use_model=False)
    assert [s.verb for s in plan.steps] == ["contact.show"]
    assert plan.steps[0].args["id"] == devset.resolve_id(biz, "contact", "Alex Smith")[0]


# ---------------------------------------------------------------------------------------
# Conversations: per context and per front-end session
# ---------------------------------------------------------------------------------------


def test_a_yes_elsewhere_never_runs_the_plan(home):
    from herotui import contexts, registry

    r = ask("delete Sanne Bakker", context="personal")
    assert r.pending
    assert "nothing waiting" in ask("yes", context="business").reply.lower()  # another context
    assert "nothing waiting" in ask("yes", context="personal", actor="rpc").reply.lower()  # another front-end
    assert "nothing waiting" in ask("yes", context="personal", session="other-terminal").reply.lower()
    assert any(c.name == "Sanne Bakker" for c in registry.call("contact.list", {}, contexts.load("personal")))
    r = ask("yes", context="personal")
    assert r.ran and not any(c.name == "Sanne Bakker" for c in registry.call("contact.list", {}, contexts.load("personal")))


def test_which_one_takes_a_number_a_position_or_a_name(home):
    for answer, name in (("2", "Jan Peeters"), ("the first one", "Eva Peeters"), ("Marie", "Marie Peeters")):
        r = ask("show Peeters", context="personal")
        assert r.reply.startswith("Which Peeters: 1) Eva Peeters") and not r.plan.steps
        r = ask(answer, context="personal")
        assert r.ran and r.steps[0].verb == "contact.show" and r.steps[0].result["name"] == name


def test_follow_ups_carry_the_last_request(home):
    r = ask("what's on tomorrow")
    assert r.plan.steps[0].args == {"start": "tomorrow", "end": "tomorrow"}
    r = ask("and friday?")
    assert [s.verb for s in r.plan.steps] == ["calendar.list"] and r.plan.steps[0].args["start"] == "friday"
    r = ask("move the vendor call to 5pm")
    assert r.pending
    ask("no")
    r = ask("move it to 6pm instead")
    assert r.pending and "Vendor call" in r.reply and "18:00" in r.reply
    r = ask("and friday?", actor="mcp")  # another front-end: nothing to carry over
    assert not any(s.verb == "calendar.list" for s in r.plan.steps)


# ---------------------------------------------------------------------------------------
# Not understood: choices, and what the user picks is learned
# ---------------------------------------------------------------------------------------


def test_a_pick_is_learned_and_can_be_forgotten(home):
    r = ask("gimme the lowdown on Alex")
    assert not r.plan.steps and "Did you mean" in r.reply and r.plan.choices
    first = r.plan.choices[0]
    r = ask("1")
    assert r.ran and r.steps[0].cli == first["label"]
    r = ask("gimme the lowdown on Emma")  # the same phrasing, another person: understood now
    assert r.ran and r.steps[0].verb == r.plan.steps[0].verb and "Emma" in str(r.steps[0].result)
    assert "gimme the lowdown on Alex" in ask("", learned=True).reply
    assert "Forgot 1" in ask("gimme the lowdown on Alex", forget=True).reply
    assert not ask("gimme the lowdown on Emma").plan.steps
    assert ask("", learned=True).reply == "Nothing learned yet."


# ---------------------------------------------------------------------------------------
# The intent model
# ---------------------------------------------------------------------------------------


def test_the_shipped_model_is_trained_on_the_current_templates_and_paraphrases():
    from herotui.planner import classify

    model = classify.load()
    assert model is not None, "commands/intent-model.json is missing: run python scripts/train_intents.py"
    assert model.hash == classify.data_hash(), "templates or paraphrases changed: run python scripts/train_intents.py"
    assert set(model.labels) == set(classify.paraphrases()), "every paraphrase label is a model label"


def test_the_model_reads_placeholders_not_names():
    from herotui.planner import classify

    model = classify.load()
    assert model.scores("what is PERSON email")[0][0] == "contact_show"
    assert model.scores("add PERSON and tag her vip")[0][0] != "calendar_add"
    assert model.scores("play some music")[0][0] == "oos"


def test_services_import_no_planner_and_no_front_end():
    """The map (DESIGN.md): services are called through the registry; they never import the
    planner (ask/agent live in herotui/planner) nor a front-end. A model is reached through
    herotui.model, the one small client the planner shares."""
    import ast

    root = Path(__file__).resolve().parent.parent / "herotui" / "services"
    offenders = []
    for f in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if name.startswith(("herotui.planner", "herotui.frontends", "herotui.tui")):
                    offenders.append(f"{f.name}: {name}")
    assert offenders == []


@pytest.mark.parametrize("text", ["Quels sont mes rendez-vous demain ?", "明天我有什么安排", "Was habe ich morgen vor"])
def test_another_language_is_told_so(home, text):
    from herotui import contexts
    from herotui.planner import execute

    plan = execute.make_plan(contexts.load("business"), text, use_model=False)
    assert not plan.steps and "English" in plan.reply and not plan.choices


def test_an_all_day_event_is_never_midnight(home):
    r = ask("what's on today", context="personal")  # Mom's birthday is all day on the reference Sunday
    assert "all day" in r.reply and "00:00" not in r.reply


def test_one_session_is_one_conversation_whoever_speaks(home):
    """The TUI passes its session to typed and spoken requests: a spoken question takes a typed yes."""
    from herotui import contexts, registry

    r = ask("delete Sanne Bakker", context="personal", actor="voice", session="tui-1")
    assert r.pending
    assert "nothing waiting" in ask("yes", context="personal", actor="tui", session="tui-2").reply.lower()
    r = ask("yes", context="personal", actor="tui", session="tui-1")
    assert r.ran and not any(c.name == "Sanne Bakker" for c in registry.call("contact.list", {}, contexts.load("personal")))


def test_a_context_named_by_its_description_is_offered_not_switched(home):
    from herotui import contexts

    contexts.save_choice("personal")
    r = ask("use the work context", context="personal")
    assert not r.plan.steps and "business" in r.reply and contexts.saved_choice() == "personal"
    r = ask("1", context="personal")
    assert r.ran and r.steps[0].cli == "hero context use business" and contexts.saved_choice() == "business"


def test_a_second_request_is_never_written_as_tags(home):
    """A template's tag slot swallowed the rest of the sentence: "tag Sanne as emergency and
    change her number to ..." tagged her "change", "her", "number", ... Words that cannot be
    tags end the tags; the rest is a request of its own ("her" is Sanne)."""
    from herotui import contexts, registry

    r = ask("tag Sanne Bakker as emergency and change her number to +32 479 11 22 33", context="personal", dry_run=True)
    assert [s.verb for s in r.plan.steps] == ["contact.tag", "contact.update"], r.plan
    assert r.plan.steps[0].args["tags"] == ["emergency"]
    assert r.plan.steps[1].args["id"] == r.plan.steps[0].args["id"] and r.plan.steps[1].args["phones"] == ["+32 479 11 22 33"]
    r = ask("tag Sanne Bakker as emergency and call her mother", context="personal")
    sanne = next(c for c in registry.call("contact.list", {}, contexts.load("personal")) if c.name == "Sanne Bakker")
    assert not {"her", "call", "mother"} & set(sanne.tags), sanne.tags
