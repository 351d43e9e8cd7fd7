"""contact create refuses a second contact of the same name and company (case and spacing
aside): the check's cheap first filter (a word of the name, strpos) never hides a duplicate."""

from __future__ import annotations

import pytest

from herotui import registry
from herotui.errors import DuplicateContact


def _create(ctx, **args):
    return registry.call("contact.create", args, ctx, actor="test")


@pytest.mark.parametrize("again", ["ada  LOVELACE", " Ada Lovelace ", "ADA\tlovelace"])
def test_same_name_and_company_is_refused(ctx, again):
    first = _create(ctx, name="Ada Lovelace", company="Analytical  Engines")
    with pytest.raises(DuplicateContact) as exc:
        _create(ctx, name=again, company="analytical engines")
    assert exc.value.existing_id == first.id


@pytest.mark.parametrize("other", ["Ada Lovelace-Byron", "Ada", "Lovelace Ada", "Adam Lovelace"])
def test_another_name_is_created(ctx, other):
    _create(ctx, name="Ada Lovelace")
    assert _create(ctx, name=other).name == other


def test_same_name_other_company_is_created_and_duplicate_passes(ctx):
    _create(ctx, name="Jo Li", company="A")
    assert _create(ctx, name="Jo Li", company="B").company == "B"
    assert _create(ctx, name="jo li", company="a", duplicate=True).name == "jo li"
    assert len(registry.call("contact.list", {}, ctx, actor="test")) == 3
