"""The verb registry: every verb is described, has a JSON Schema and a CLI command; every call
is audited; destructive verbs refuse without confirmation.

The per-verb tests are parametrized over every verb of every service in the manifest whose
module loads; ``test_every_manifest_service_loads`` fails if one does not.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from herotui import contexts, registry
from herotui.errors import ConfirmationRequired, InvalidInput, NotFound
from herotui.frontends.cli import _main
from herotui.services import SERVICES


def _load_services() -> tuple[list[registry.Verb], dict[str, str]]:
    found, missing = [], {}
    for name in SERVICES:
        try:
            found.extend(registry.service_verbs(name))
        except ImportError as exc:  # reported by test_every_manifest_service_loads
            missing[name] = f"{type(exc).__name__}: {exc}"
    return found, missing


VERBS, MISSING = _load_services()
DESTRUCTIVE = [v for v in VERBS if v.destructive]


def by_name(verbs):
    return pytest.mark.parametrize("v", verbs, ids=[v.name for v in verbs])


def audit_lines(home) -> list[dict]:
    path = home / "state" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = _main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- the manifest --------------------------------------------------------------------------


def test_every_manifest_service_loads():
    assert not MISSING, f"services in the manifest whose module does not load: {MISSING}"
    everything = registry.verbs()
    assert {v.service for v in everything.values()} == set(SERVICES)


def test_core_verbs_are_registered():
    names = {v.name for v in VERBS}
    for expected in ("contact.create", "contact.show", "contact.list", "contact.update", "contact.delete",
                     "contact.search", "contact.tag", "contact.untag", "contact.import", "contact.export",
                     "context.list", "context.create", "context.use", "context.show", "context.rename",
                     "context.delete"):
        assert expected in names


@pytest.mark.parametrize("service", [s for s, svc in SERVICES.items() if svc.command])
def test_top_level_commands_point_at_a_verb_with_that_cli_name(service):
    if service in MISSING:
        pytest.fail(f"service {service} does not load: {MISSING[service]}")
    v = registry.get(SERVICES[service].command)
    assert v.service == service
    assert v.cli_name == service, "the top-level command and the verb's cli_name must agree"


def test_unknown_verb_is_not_found():
    with pytest.raises(NotFound):
        registry.get("contact.frobnicate")
    with pytest.raises(NotFound):
        registry.call("nosuchservice.verb", {})


# --- every verb: description, schema, CLI --------------------------------------------------


@by_name(VERBS)
def test_verb_metadata(v):
    assert v.name == f"{v.service}.{v.action}" and v.service in SERVICES
    assert v.description.strip(), "the docstring's first paragraph is the description"
    assert v.description.strip().endswith("."), "descriptions are sentences"
    assert len(v.description) < 200, "the description is one short paragraph"
    assert v.returns is not None, "front-ends need the return type"
    if v.destructive:
        assert v.mutates, "destructive implies mutates"
    for p in v.params:
        assert p.meta.help, f"parameter {p.name} of {v.name} has no help (it becomes the CLI help and the tool schema)"


def _check_schema(node, defs: dict, where: str) -> None:
    """Structural JSON Schema checks (used when the jsonschema package is not installed)."""
    assert isinstance(node, dict), where
    if "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/$defs/") and ref.split("/")[-1] in defs, f"{where}: dangling {ref}"
        return
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            assert isinstance(node[key], list) and node[key], where
            for i, sub in enumerate(node[key]):
                _check_schema(sub, defs, f"{where}/{key}/{i}")
            return
    if "enum" in node or "const" in node:
        return
    types = {"string", "integer", "number", "boolean", "array", "object", "null"}
    assert node.get("type") in types, f"{where}: bad or missing type {node.get('type')!r}"
    if node["type"] == "array":
        _check_schema(node.get("items", {"type": "string"}), defs, f"{where}/items")
    if node["type"] == "object" and "properties" in node:
        for name, sub in node["properties"].items():
            _check_schema(sub, defs, f"{where}/{name}")


@by_name(VERBS)
def test_verb_schema(v):
    schema = v.schema()
    assert isinstance(schema, dict)
    json.dumps(schema)  # serialisable as is (MCP, OpenRPC, the planner)
    assert schema["type"] == "object"
    assert isinstance(schema["properties"], dict)
    assert list(schema["properties"]) == [p.name for p in v.params]
    assert set(schema.get("required", [])) == {p.name for p in v.params if p.required}
    assert schema.get("additionalProperties") is False, "unknown arguments must be refused"
    for p in v.params:
        assert schema["properties"][p.name].get("description") == p.meta.help
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        _check_schema(schema, schema.get("$defs", {}), v.name)
        for name, sub in schema.get("$defs", {}).items():
            _check_schema(sub, schema["$defs"], f"{v.name}/$defs/{name}")
    else:
        Draft202012Validator.check_schema(schema)


@by_name(VERBS)
def test_verb_refuses_unknown_arguments(v):
    with pytest.raises(InvalidInput) as exc:
        v.validate({"no_such_parameter": 1})
    assert "no_such_parameter" in exc.value.message


@by_name(VERBS)
def test_verb_has_a_cli_command(v, capsys):
    code, out, err = cli(capsys, *v.cli_path.split(), "--help")
    assert code == 0, err
    text = " ".join(out.split())
    assert " ".join(v.description.split()) in text
    usage = out.split("\n\n", 1)[0]
    for p in v.params:
        if p.meta.positional:
            assert re.search(rf"\b{p.name}\b", usage, re.I), f"{p.name} argument missing from the usage line"
        else:
            assert p.flag in out, f"{p.flag} missing from the help"
    assert "--context" in out and "--json" in out
    # --yes: added for destructive verbs; the planner's verbs take it to confirm their steps
    assert ("--yes" in out) == (v.destructive or any(p.flag == "--yes" for p in v.params))


def test_help_lists_every_service(hero):
    r = hero("--help")
    assert r.code == 0, r
    for name in SERVICES:
        assert name in r.out
    assert "Traceback" not in r.err
    r = hero("contact", "create", "--help")
    assert r.code == 0 and "--email" in r.out and "--name" in r.out, r


# --- audit ---------------------------------------------------------------------------------


def test_a_call_writes_one_audit_line(hero_home, ctx):
    before = len(audit_lines(hero_home))
    c = registry.call("contact.create", {"name": "Audit Person", "emails": ["a@example.com"]}, ctx, actor="test")
    lines = audit_lines(hero_home)
    assert len(lines) == before + 1
    rec = lines[-1]
    assert {"time", "actor", "context", "verb", "args", "ok", "error"} <= set(rec)
    assert rec["actor"] == "test" and rec["context"] == "personal" and rec["verb"] == "contact.create"
    assert rec["args"] == {"name": "Audit Person", "emails": "<redacted: 1 values>"}  # personal values stay out
    assert rec["ok"] is True and rec["error"] is None
    assert datetime.fromisoformat(rec["time"]).tzinfo is not None
    registry.call("contact.show", {"id": c.id}, ctx, actor="mcp")
    rec = audit_lines(hero_home)[-1]
    assert rec["verb"] == "contact.show" and rec["actor"] == "mcp" and rec["ok"] is True


def test_a_failed_call_is_audited_with_its_error(hero_home, ctx):
    with pytest.raises(InvalidInput):
        registry.call("contact.create", {"name": "X", "emails": ["not-an-email"]}, ctx, actor="planner")
    rec = audit_lines(hero_home)[-1]
    assert rec["ok"] is False and rec["verb"] == "contact.create" and rec["actor"] == "planner"
    assert rec["error"].startswith("invalid:") and "not-an-email" in rec["error"]
    with pytest.raises(NotFound):
        registry.call("contact.show", {"id": "ZZZZZZ"}, ctx)
    rec = audit_lines(hero_home)[-1]
    assert rec["ok"] is False and rec["error"].startswith("not_found:")


def test_the_cli_audits_as_cli(hero, hero_home):
    r = hero("--context", "personal", "contact", "create", "--name", "Cli Person")
    assert r.code == 0, r
    rec = audit_lines(hero_home)[-1]
    assert rec["actor"] == "cli" and rec["verb"] == "contact.create" and rec["context"] == "personal"
    assert rec["args"] == {"name": "Cli Person"} and rec["ok"] is True
    r = hero("contact", "show", "ZZZZZZ")
    assert r.code == 3, r
    rec = audit_lines(hero_home)[-1]
    assert rec["verb"] == "contact.show" and rec["ok"] is False and rec["error"].startswith("not_found")


# --- destructive verbs ---------------------------------------------------------------------


def _sample(node: dict, defs: dict):
    if "$ref" in node:
        return _sample(defs[node["$ref"].split("/")[-1]], defs)
    if "anyOf" in node:
        return _sample(next(s for s in node["anyOf"] if s.get("type") != "null"), defs)
    if "enum" in node:
        return node["enum"][0]
    kind, fmt = node.get("type"), node.get("format")
    if kind == "string":
        return {"date": "2026-01-01", "date-time": "2026-01-01T10:00:00Z", "email": "a@example.com"}.get(fmt, "x1")
    if kind == "array":
        return [_sample(node.get("items", {"type": "string"}), defs)]
    return {"integer": 1, "number": 1.0, "boolean": False, "object": {}}[kind]


@by_name(DESTRUCTIVE)
def test_destructive_verbs_refuse_without_confirmation(v, ctx, hero_home):
    schema = v.schema()
    args = {name: _sample(schema["properties"][name], schema.get("$defs", {})) for name in schema.get("required", [])}
    with pytest.raises(ConfirmationRequired) as exc:
        registry.call(v.name, args, ctx, actor="planner")
    assert exc.value.hint and exc.value.exit_code == 1
    rec = audit_lines(hero_home)[-1]
    assert rec["verb"] == v.name and rec["ok"] is False and rec["error"].startswith("confirm:")


def test_refused_deletes_change_nothing(ctx):
    c = registry.call("contact.create", {"name": "Keep Me"}, ctx)
    contexts.create("keepme")
    with pytest.raises(ConfirmationRequired):
        registry.call("contact.delete", {"id": c.id}, ctx)
    with pytest.raises(ConfirmationRequired):
        registry.call("context.delete", {"name": "keepme"}, ctx)
    assert registry.call("contact.show", {"id": c.id}, ctx).name == "Keep Me"
    assert contexts.exists("keepme")
    registry.call("contact.delete", {"id": c.id}, ctx, confirmed=True)
    with pytest.raises(NotFound):
        registry.call("contact.show", {"id": c.id}, ctx)


def test_there_are_destructive_verbs():
    assert {"contact.delete", "context.delete"} <= {v.name for v in DESTRUCTIVE}
    assert not registry.get("contact.list").mutates and registry.get("contact.create").mutates


@by_name([v for v in VERBS if any(p.meta.minimum is not None for p in v.params)])
def test_a_minimum_is_in_the_schema_and_checked_by_call(v, ctx):
    p = next(p for p in v.params if p.meta.minimum is not None)
    prop = v.schema()["properties"][p.name]
    assert [p.meta.minimum] == [s["minimum"] for s in prop.get("anyOf", [prop]) if "minimum" in s]  # int | None: anyOf
    args = {q.name: "x" for q in v.params if q.required}
    with pytest.raises(InvalidInput) as exc:
        registry.call(v.name, {**args, p.name: p.meta.minimum - 1}, ctx)
    assert f"{p.flag} must be at least {p.meta.minimum}" in exc.value.message
