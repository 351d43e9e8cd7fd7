"""The planner on the development set of plain requests (tests/data/understanding-dev.tsv).

The score is the contract: one test plans all 120 rows offline under the reference clock
(Sunday 2026-12-06 12:00 Europe/Brussels), checks each plan (verbs, ``must`` substrings,
confirmation, and its effect when run in a fresh copy of the demo home) and asks for 95%
right. The other tests keep the data honest (every ``@id`` reference finds its record) and
the scorer honest (hand-made wrong plans are scored wrong, right ones right). The rules
live in ``devset.py``, shared with ``benchmarks/bench_planner.py``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import devset
import pytest
from support import make_demo_home

PASS_MARK = 0.95
ROWS = devset.load_rows()
BY_ID = {r.id: r for r in ROWS}


@pytest.fixture(scope="session")
def dev_template(tmp_path_factory) -> Path:
    """The demo home as it is on the reference date (the demo data follows the current week)."""
    with devset.frozen_clock():
        return make_demo_home(tmp_path_factory.mktemp("devset") / "hero-home")


@pytest.fixture
def dev_home(dev_template, tmp_path):
    """A copy of the template, HERO_HOME for the test, under the reference clock."""
    home = tmp_path / "home"
    shutil.copytree(dev_template, home)
    with devset.frozen_clock(), devset.hero_home(home):
        yield home


# ---------------------------------------------------------------------------------------
# The score
# ---------------------------------------------------------------------------------------


def test_dev_set_score(dev_template, tmp_path):
    with devset.frozen_clock():
        outcomes = devset.score(ROWS, dev_template, tmp_path / "dev")
        with devset.hero_home(tmp_path / "dev" / "planning"):  # the copy the rows were planned in
            problems = devset.data_problems(ROWS)
    text = devset.report(outcomes, problems)
    assert len(outcomes) == len(ROWS) == 120
    assert devset.overall(outcomes) >= PASS_MARK, f"below {PASS_MARK:.0%}\n{text}"


def test_dev_set_references_resolve(dev_home):
    """Every ``@id:KIND:TITLE`` names exactly one demo record, every verb exists, ids are unique."""
    assert devset.data_problems(ROWS) == []


# ---------------------------------------------------------------------------------------
# The scorer can fail
# ---------------------------------------------------------------------------------------


def _step(verb: str, args: dict, context: str):
    from herotui.planner.plan import Step, cli_line
    from herotui import registry

    return Step(verb=verb, args=args, context=context, cli=cli_line(verb, args, context),
                destructive=registry.get(verb).destructive)


def _plan(text: str, *steps, confirm: bool | None = None):
    from herotui.planner.plan import Plan

    confirm = any(s.destructive for s in steps) if confirm is None else confirm
    return Plan(text=text, steps=list(steps), needs_confirmation=confirm)


def _id(row, kind: str, title: str) -> str:
    from herotui import contexts

    (rid,) = devset.resolve_id(contexts.load(row.ctx), kind, title)
    return rid


def _why(row, plan) -> list[str]:
    from herotui import contexts

    return devset.check_plan(row, plan, contexts.load(row.ctx))


def test_parse_verbs_and_must():
    assert devset.parse_verbs("calendar.list/search") == [{"calendar.list"}, {"search.query"}]
    assert devset.parse_verbs("contact.create&contact.tag/history") == [{"contact.create", "contact.tag"}, {"history.list"}]
    assert devset.parse_verbs("context.use/NONE") == [{"context.use"}, frozenset()]
    assert devset.parse_must("a~b|c") == [["a", "b"], ["c"]]
    assert devset.parse_must("") == []


def test_a_right_destructive_plan_is_right_and_runs(dev_template, dev_home, tmp_path):
    row = BY_ID["h061"]  # cancel my dentist appointment
    plan = _plan(row.utterance, _step("calendar.delete", {"id": _id(row, "calendar", "Dentist check-up")}, row.ctx))
    assert plan.needs_confirmation and _why(row, plan) == []
    outcome = devset.score_plan(row, plan, dev_template, tmp_path / "run")
    assert outcome.right, outcome.why


def test_a_wrong_verb_is_wrong(dev_home):
    row = BY_ID["h061"]
    plan = _plan(row.utterance, _step("calendar.show", {"id": _id(row, "calendar", "Dentist check-up")}, row.ctx))
    assert any("not in calendar.delete" in w for w in _why(row, plan))


def test_a_destructive_plan_without_confirmation_is_wrong(dev_home):
    row = BY_ID["h061"]
    plan = _plan(row.utterance, _step("calendar.delete", {"id": _id(row, "calendar", "Dentist check-up")}, row.ctx),
                 confirm=False)
    assert _why(row, plan) == ["destructive, but no confirmation asked"]
    # the row need not say so: a destructive step always needs confirmation
    quiet = dataclasses.replace(row, destructive=False)
    assert _why(quiet, plan) == ["calendar.delete is destructive, but no confirmation asked"]


def test_a_plan_missing_a_must_group_is_wrong(dev_template, dev_home, tmp_path):
    row = BY_ID["h031"]  # schedule a meeting with Alex tomorrow at 10
    good = _plan(row.utterance, _step("calendar.add", {"title": "Meeting with Alex", "start": "2026-12-07 10:00"}, row.ctx))
    assert _why(row, good) == []
    assert devset.score_plan(row, good, dev_template, tmp_path / "good").right
    no_time = _plan(row.utterance, _step("calendar.add", {"title": "Meeting with Alex", "start": "2026-12-07"}, row.ctx))
    assert _why(row, no_time) == ["missing 10:00~10am~10 am~at 10"]


def test_a_wrong_record_is_wrong_and_a_failing_step_is_wrong(dev_template, dev_home, tmp_path):
    row = BY_ID["h061"]
    other = _plan(row.utterance, _step("calendar.delete", {"id": _id(row, "calendar", "Gym with Hugo")}, row.ctx))
    assert _why(row, other) == ["missing dentist~@id:calendar:Dentist check-up"]
    missing = _plan(row.utterance, _step("calendar.delete", {"id": "01DENTIST000000000000000000"}, row.ctx))
    outcome = devset.score_plan(row, missing, dev_template, tmp_path / "run")
    assert not outcome.right and "step 1 calendar.delete error" in outcome.why, outcome.why


def test_a_read_only_plan_that_changes_data_is_wrong(dev_template, dev_home, tmp_path, monkeypatch):
    from herotui import registry

    row = dataclasses.replace(BY_ID["h061"], destructive=False)
    plan = _plan(row.utterance, _step("calendar.delete", {"id": _id(row, "calendar", "Dentist check-up")}, row.ctx))
    monkeypatch.setattr(registry.get("calendar.delete"), "mutates", False)  # a verb that lies about itself
    outcome = devset.score_plan(row, plan, dev_template, tmp_path / "run")
    assert outcome.why == "a read-only plan changed the data"


def test_none_rows_want_no_steps(dev_home):
    row = BY_ID["h217"]  # what's the weather like tomorrow?
    assert _why(row, _plan(row.utterance)) == []
    searched = _plan(row.utterance, _step("search.query", {"query": "weather"}, row.ctx))
    assert _why(row, searched) == ["should plan nothing, planned search.query"]
    maybe = BY_ID["h206"]  # use the work context: context.use/NONE
    assert _why(maybe, _plan(maybe.utterance)) == []
    listing = BY_ID["h084"]  # list all contacts: an empty plan is wrong
    assert _why(listing, _plan(listing.utterance))[0].startswith("no steps")


def test_both_verbs_of_an_and_option(dev_home):
    row = dataclasses.replace(BY_ID["h103"], verbs="contact.create&contact.tag", must="mark jones")
    create = _step("contact.create", {"name": "Mark Jones", "company": "Initech"}, row.ctx)
    tag = _step("contact.tag", {"id": "$1.id", "tags": ["partner"]}, row.ctx)
    assert _why(row, _plan(row.utterance, create, tag)) == []
    assert _why(row, _plan(row.utterance, create))[0].startswith("verbs contact.create do not hold one of")
    extra = _step("contact.list", {}, row.ctx)
    assert _why(row, _plan(row.utterance, create, tag, extra))[0].startswith("verb contact.list not in")
