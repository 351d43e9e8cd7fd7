"""Verbs that belong to the caller's process (registry.Verb.in_caller) are not handed to the
resident server: ``config show`` reports the caller's settings (its HERO_CONTEXT, its
HERO_LOG_LEVEL), not the server's; document open and imports stay with the caller too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.conftest import child_env, hero_exe
from tests.e2e.test_server import start_server

from herotui import registry


def audit(home: Path) -> list[dict]:
    path = home / "state" / "audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_config_show_reports_the_callers_settings_with_a_server_running(hero_home):
    info = start_server()
    assert subprocess.run([hero_exe(), "context", "create", "business"], env=child_env(), capture_output=True).returncode == 0
    env = child_env(HERO_CONTEXT="business", HERO_LOG_LEVEL="debug")  # neither changes which server it may use
    out = subprocess.run([hero_exe(), "config", "show", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["context"]["value"] == "business" and "HERO_CONTEXT" in rows["context"]["source"]
    assert rows["HERO_LOG_LEVEL"]["value"] == "debug" and rows["HERO_LOG_LEVEL"]["source"].startswith("env")
    last = audit(hero_home)[-1]
    assert last["verb"] == "config.show" and last["pid"] != info["pid"]  # run by the caller


def test_the_registry_says_which_verbs_stay_with_the_caller():
    registry.load()
    stay = {name for name, v in registry.verbs().items() if v.in_caller}
    assert {"config.show", "document.open", "contact.import", "calendar.import", "document.add"} <= stay
    assert not {"contact.list", "contact.create", "calendar.today", "ask.run"} & stay
