"""Every test runs against a fresh HERO_HOME in a temporary folder (never the user's data)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import IN_PROCESS, LONG_FIRST, SHARED, hero_exe  # noqa: F401  (hero_exe: also used by the fixtures below)

ROOT = Path(__file__).resolve().parent.parent

# --- scheduling under ``-n N`` (pytest-xdist): see support.SHARED and support.LONG_FIRST ----


def pytest_configure(config):
    if any(a == "--dist" or a.startswith(("--dist=", "-d")) for a in config.invocation_params.args):
        return  # a mode asked for by name: as asked
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # a worker gets the command line, not the controller's choice below: name the groups
        config.option.loadgroup = True
        # N workers on N cores: one thread for each speech-to-text model (its own processes and
        # its servers inherit it), not one per core in every worker (the voice modules: 126 s ->
        # 108 s on 2 workers, the cores no longer oversubscribed)
        os.environ.setdefault("HERO_STT_THREADS", "1")
    elif getattr(config.option, "dist", "no") == "load":  # -n N alone
        config.option.dist = "loadgroup"
        config.option.loadscopereorder = False  # the units in the order the collection puts them


@pytest.hookimpl(tryfirst=True)  # before xdist names the groups in the test ids
def pytest_collection_modifyitems(config, items):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # without xdist: file order, as written

    def module(item) -> str:
        return item.nodeid.split("::", 1)[0]

    for item in items:
        group = SHARED.get(module(item))
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    rank = {m: i for i, m in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(module(item), len(rank)))  # stable: file order otherwise


@pytest.fixture(scope="session", autouse=True)
def _run_folder(tmp_path_factory):
    """Templates built once per run (support.make_demo_home) go into a folder every worker sees."""
    import support

    support.RUN_FOLDER = support.run_folder(tmp_path_factory)


@pytest.fixture(autouse=True)
def hero_home(request, tmp_path, monkeypatch) -> Path:
    home = tmp_path / "hero-home"
    monkeypatch.setenv("HERO_HOME", str(home))
    monkeypatch.delenv("HERO_CONTEXT", raising=False)
    monkeypatch.delenv("HERO_DEBUG", raising=False)
    monkeypatch.setenv("HERO_TZ", "Europe/Brussels")
    # hero serve (issue 15): each HERO_HOME gets its own server; under tests it closes the
    # stores after every call (helpers read the database files directly), exits when idle,
    # and is stopped when the test ends, so none outlives its test
    monkeypatch.setenv("HERO_SERVE_HOLD", "0")
    monkeypatch.setenv("HERO_SERVE_IDLE", "60")
    if request.node.nodeid.split("::", 1)[0] in IN_PROCESS:  # see support.IN_PROCESS
        monkeypatch.setenv("HERO_NO_SERVER", "1")
    yield home
    from herotui.server import cli as serve_cli

    serve_cli.stop()


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout: {self.out}\nstderr: {self.err}>"


@pytest.fixture
def hero(hero_home):
    """Run the installed ``hero`` as a subprocess: ``hero("contact", "list", "--json")``."""

    def run(*args: str, input: str | None = None, env: dict | None = None, timeout: float = 60) -> Result:
        full_env = dict(os.environ, COLUMNS="200", **(env or {}))
        proc = subprocess.run([hero_exe(), *args], capture_output=True, text=True, input=input,
                              env=full_env, timeout=timeout)
        return Result(proc)

    return run


@pytest.fixture
def weekday_morning():
    """The clock at Wednesday 9 December 2026, 09:30 in Brussels (HERO_TZ), ticking: for tests
    whose data is relative to "today" ("today 23:00", "in 5 days"), so that neither the hour
    nor the weekday the suite runs at changes what they see. In-process only (subprocesses
    keep the real clock: use libfaketime for them, as test_readme_tour does)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    when = datetime(2026, 12, 9, 9, 30, tzinfo=ZoneInfo("Europe/Brussels"))
    with time_machine.travel(when, tick=True):
        yield when


@pytest.fixture
def ctx(hero_home):
    """The active context (``personal``), created on first use."""
    from herotui import contexts

    return contexts.current()
