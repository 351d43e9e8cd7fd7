"""Settings (issue 16, item 5): every HERO_* variable is a documented field of one model, read
cheaply and live, validated by pydantic-settings, documented from the model, and shown by
``hero config show`` with where each value came from (never a secret)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from herotui import settings

ROOT = Path(__file__).resolve().parent.parent
# a HERO_* name as code reads it or docs mention it; not Click's _HERO_COMPLETE
NAME = re.compile(r"(?<![A-Za-z0-9_])HERO_[A-Z][A-Z0-9_]*")


def names_in_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "herotui").rglob("*.py")):
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_hero_variable_in_the_code_is_a_documented_field():
    found = names_in_code()
    assert {"HERO_HOME", "HERO_NO_SERVER", "HERO_LOCK_TIMEOUT", "HERO_VOICE_UNSURE"} <= set(found)  # the scan sees them
    unknown = {name: sorted(where) for name, where in found.items() if name not in settings.NAMES}
    assert not unknown, f"HERO_* names that are no field of herotui/settings.py's Settings: {unknown}"
    docs, sections = settings.docs(), settings.sections()
    assert set(docs) == set(settings.NAMES)
    undocumented = [n for n in settings.NAMES if len(docs[n]) < 20 or not sections[n]]
    assert not undocumented, f"fields without a docstring (or a section): {undocumented}"
    unused = set(settings.NAMES) - set(found) - {"HERO_HOME"}  # every field is read somewhere
    assert not unused


def test_a_name_the_model_does_not_declare_is_found(tmp_path):
    """The scan above fails on a variable read nowhere declared (shown on a planted line)."""
    planted = 'value = os.environ.get("HERO_PLANTED_KNOB")  # read, but not a field\n'
    assert NAME.findall(planted) == ["HERO_PLANTED_KNOB"]
    assert "HERO_PLANTED_KNOB" not in settings.NAMES
    assert NAME.findall('"_HERO_COMPLETE" in os.environ') == []


def test_docs_are_generated_from_the_model():
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert text == settings.markdown(), "docs/settings.md is out of date: python -m herotui.settings --write"
    for name in settings.NAMES:
        assert f"| `{name}` |" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/settings.md" in readme and "hero config show" in readme


def test_an_unsupported_type_is_refused():
    with pytest.raises(TypeError, match="unsupported type"):
        settings._kind("list[str]")
    assert settings._kind("Path | None") == ("Path", True)


ENVIRONMENTS = [
    {},
    {"HERO_LOCK_TIMEOUT": "7.5", "HERO_STT_THREADS": " 3 ", "HERO_DEBUG": "0", "HERO_PROGRESS": "off",
     "HERO_HOME": "~/h", "HERO_TZ": " Europe/Paris ", "HERO_TERMINAL_SCROLLBACK": "0", "HERO_NO_SERVER": "yes"},
    {"HERO_LOCK_TIMEOUT": "soon", "HERO_STT_THREADS": "2.5", "HERO_PROGRESS": "maybe", "HERO_SERVE_EXPECT_UID": "x",
     "HERO_VOICE_UNSURE": "nan", "HERO_MAX_IMPORT_MB": "-1"},
    {"HERO_LOCK_TIMEOUT": "   ", "HERO_STT_THREADS": "", "HERO_PROGRESS": " ", "HERO_CONTEXT": " ", "HERO_DEBUG": ""},
]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=["unset", "valid", "invalid", "blank"])
def test_the_light_reader_and_the_pydantic_settings_model_agree(env, monkeypatch):
    for name in settings.NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    light = settings.get()
    model, problems = settings.validated()
    assert type(model).__mro__[2].__name__ == "BaseSettings"
    assert set(problems) == {n for n in settings.NAMES if light.problem(n)}
    for name in settings.NAMES:
        mine, theirs = getattr(light, name), getattr(model, name)
        assert mine == theirs or (mine != mine and theirs != theirs), (name, mine, theirs)  # nan == nan
        assert type(mine) is type(theirs) or Path in type(theirs).__mro__, (name, mine, theirs)
        source = "env (invalid)" if name in problems else "env" if name in model.model_fields_set else "default"
        assert light.source(name) == source, name


def test_get_is_read_once_and_follows_the_environment(monkeypatch, hero_home):
    from herotui import contexts, paths

    first = settings.get()
    assert settings.get() is first  # parsed once
    assert first.HERO_HOME == hero_home and paths.data_dir() == hero_home
    monkeypatch.setenv("HERO_HOME", str(hero_home / "other"))
    assert settings.get() is not first and paths.data_dir() == hero_home / "other"  # live, as tests need
    monkeypatch.setenv("HERO_CONTEXT", "business")
    assert contexts.active_name() == "business" and contexts.active_name("x") == "x"
    monkeypatch.delenv("HERO_CONTEXT")
    assert contexts.active_name() == "personal"


def test_a_bad_value_keeps_its_default_and_the_reader_decides(monkeypatch):
    from herotui.errors import InvalidInput
    from herotui.services import common
    from herotui.store import db
    from herotui.tui.widgets import terminal

    monkeypatch.setenv("HERO_LOCK_TIMEOUT", "soon")
    assert db.lock_timeout() == 20.0
    assert settings.get().problem("HERO_LOCK_TIMEOUT") == "not a number: 'soon'"
    monkeypatch.setenv("HERO_MAX_IMPORT_MB", "lots")
    with pytest.raises(InvalidInput, match="HERO_MAX_IMPORT_MB='lots' is not a number"):
        common.import_limit()
    monkeypatch.setenv("HERO_MAX_IMPORT_MB", "0")
    with pytest.raises(InvalidInput, match="must be above 0"):
        common.import_limit()
    monkeypatch.setenv("HERO_MAX_IMPORT_MB", "2")
    assert common.import_limit() == 2_000_000
    monkeypatch.setenv("HERO_TERMINAL_SCROLLBACK", "-3")
    assert terminal.scrollback_limit()[0] == terminal.DEFAULT_SCROLLBACK and "-3" in terminal.scrollback_limit()[1]
    monkeypatch.setenv("HERO_TERMINAL_SCROLLBACK", "many")
    assert "'many' is not a line count" in terminal.scrollback_limit()[1]
    monkeypatch.setenv("HERO_TERMINAL_SCROLLBACK", "0")
    assert terminal.scrollback_limit() == (0, None)


LIGHT_CALLS = """
import sys
from herotui import contexts, logs, paths, timeparse
from herotui.store import db
from herotui.voice import silent_by_env, tts
paths.data_dir(); paths.served_roots(); contexts.active_name(); logs.setup(); timeparse.local_zone()
db.lock_timeout(); silent_by_env(); tts.engine_name(); tts.piper_voice_path()
print(sorted(m for m in ("pydantic", "pydantic_settings") if m in sys.modules))
"""

IN_PROCESS_COMMAND = """
import sys
from herotui.frontends import cli
try:
    cli.main(["calendar", "today"])
except SystemExit:
    pass
print("pydantic_settings" in sys.modules, file=sys.stderr)
"""


def test_reading_settings_imports_neither_pydantic_nor_pydantic_settings(hero_home):
    env = dict(os.environ, HERO_NO_SERVER="1")
    out = subprocess.run([sys.executable, "-c", LIGHT_CALLS], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # the thin entry's voice hand-off, import herotui.paths...: no pydantic at all
    out = subprocess.run([sys.executable, "-c", IN_PROCESS_COMMAND], capture_output=True, text=True, env=env, timeout=60)
    assert out.stderr.strip().endswith("False"), out.stderr  # a command in-process: pydantic, never pydantic-settings


def rows(result) -> dict[str, dict]:
    return {r["name"]: r for r in result.json()}


def test_config_show_lists_every_setting_with_its_value_and_source(hero):
    env = {"HERO_NO_SERVER": "1", "HERO_LOCK_TIMEOUT": "soon", "HERO_MODEL": "ollama_chat/llama3.2",
           "HERO_MODEL_API_KEY_ENV": "MY_MODEL_KEY", "MY_MODEL_KEY": "sk-very-secret-123"}
    out = hero("config", "show", "--json", env=env)
    assert out.code == 0, out
    got = rows(out)
    assert set(settings.NAMES) <= set(got)
    assert got["HERO_TZ"]["value"] == "Europe/Brussels" and got["HERO_TZ"]["source"] == "env"  # conftest sets it
    assert got["HERO_VAD_SILENCE_MS"] == {**got["HERO_VAD_SILENCE_MS"], "value": "700", "source": "default", "default": "700"}
    bad = got["HERO_LOCK_TIMEOUT"]
    assert (bad["value"], bad["source"]) == ("20", "env (invalid)") and "'soon'" in bad["problem"]
    assert got["HERO_MODEL_API_KEY_ENV"]["value"] == "MY_MODEL_KEY (set)"
    assert got["model.name"]["value"] == "ollama_chat/llama3.2" and got["model.name"]["source"] == "env"
    assert got["model.api_key_env"]["value"] == "MY_MODEL_KEY (set)"
    assert got["model.policy"]["source"] == "profile (personal)"  # the shipped personal profile is local-only
    assert got["context"]["value"] == "personal"
    assert all(r["description"] for r in got.values())
    assert "sk-very-secret-123" not in out.out + out.err
    text = hero("config", "show", env=env)  # piped: one setting a line, tab-separated
    assert text.code == 0 and "HERO_LOCK_TIMEOUT\t20\tenv (invalid)" in text.out
    assert "sk-very-secret-123" not in text.out + text.err
    changed = rows(hero("config", "show", "--changed", "--json", env=env))
    assert "HERO_LOCK_TIMEOUT" in changed and "HERO_VAD_SILENCE_MS" not in changed


def test_config_show_never_prints_a_key_pasted_where_its_name_belongs(hero):
    out = hero("config", "show", "--json", env={"HERO_NO_SERVER": "1", "HERO_MODEL_API_KEY_ENV": "sk-pasted-key/9"})
    assert out.code == 0, out
    assert "sk-pasted-key" not in out.out + out.err
    assert rows(out)["HERO_MODEL_API_KEY_ENV"]["value"].startswith("(hidden")


def test_config_show_follows_the_model_precedence(ctx, monkeypatch):
    from herotui import config, registry

    monkeypatch.delenv("HERO_MODEL", raising=False)
    config.config_file().parent.mkdir(parents=True, exist_ok=True)
    config.config_file().write_text('[model]\nname = "ollama_chat/from-config"\ntimeout = 12\n')

    def shown() -> dict[str, tuple[str, str]]:
        return {r.name: (r.value, r.source) for r in registry.call("config.show", {}, ctx, actor="test")}

    assert shown()["model.name"] == ("ollama_chat/from-config", "config.toml")
    assert shown()["model.timeout"] == ("12", "config.toml")
    ctx.profile["model"] = "ollama_chat/from-profile"  # the profile wins over config.toml ...
    assert shown()["model.name"] == ("ollama_chat/from-profile", "profile (personal)")
    monkeypatch.setenv("HERO_MODEL", "ollama_chat/from-env")  # ... and the environment over both
    assert shown()["model.name"] == ("ollama_chat/from-env", "env")
    monkeypatch.setenv("HERO_MODEL", "gpt-4o-mini")  # a cloud model in a local-only context: said, not raised
    refused = shown()["model"]
    assert refused[1] == "error"
    monkeypatch.setenv("HERO_MODEL", "off")
    assert shown()["model"] == ("", "none configured (or off)")


def test_config_show_is_a_verb_of_every_front_end():
    from herotui import registry

    verb = registry.get("config.show")
    assert verb.cli_path == "config show" and not verb.mutates
    assert json.dumps(verb.schema())  # the MCP tool's and the RPC method's schema
