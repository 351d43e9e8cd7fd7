"""The wheel: built from the source tree, installed into a fresh virtual environment (no system
site-packages), it runs and finds its shipped data inside the installed package."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(cmd: list[str], timeout: float = 600, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert proc.returncode == 0, f"{cmd}\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)]
    if importlib.util.find_spec("hatchling"):
        cmd.insert(4, "--no-build-isolation")  # the backend is already here: no download
    run(cmd)
    (whl,) = out.glob("herotui-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("venv") / "v"
    # no pip of its own (ensurepip: ~4 s): this pip installs into it (pip --python); no
    # byte-compiling of every dependency at install time (half the install): Python compiles
    # what the commands below import, as it would for a user's first run
    run([sys.executable, "-m", "venv", "--without-pip", str(where)])
    cfg = (where / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    run([sys.executable, "-m", "pip", "--python", str(where / "bin" / "python"), "install", "-q", "--no-compile",
         str(wheel)], timeout=900)
    return where


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"herotui", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}, tops
    for needed in ("herotui/_data/contexts/personal.toml", "herotui/_data/contexts/business.toml",
                   "herotui/_data/contexts/demo/business.vcf", "herotui/_data/contexts/demo/personal.vcf",
                   "herotui/frontends/cli.py", "herotui/services/contact.py"):
        assert needed in names, needed
    assert any(n.startswith("herotui/_data/commands/") for n in names)
    assert not any(n.startswith(("tests/", "herotui/tests/")) for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "hero = herotui.server.entry:main" in zipfile.ZipFile(wheel).read(entry).decode()


@pytest.mark.slow
def test_installed_wheel_runs(venv, tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(HERO_HOME=str(home), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", COLUMNS="200")
    hero = str(venv / "bin" / "hero")
    py = str(venv / "bin" / "python")
    opts = dict(env=env, cwd=str(tmp_path))  # not the source tree: imports must come from the venv

    where = run([py, "-c", "import herotui, herotui.paths as p; print(herotui.__file__); print(p.resource('contexts'))"],
                **opts).stdout.split()
    package = Path(where[0]).parent
    assert "site-packages" in package.parts and venv in package.parents, package
    contexts_dir = Path(where[1])
    assert contexts_dir == package / "_data" / "contexts"
    assert (contexts_dir / "personal.toml").is_file()

    r = run([hero, "--help"], **opts)
    assert "contact" in r.stdout and "context" in r.stdout
    created = json.loads(run([hero, "contact", "create", "--name", "Wheel Person", "--email", "w@example.com", "--json"],
                             **opts).stdout)
    listed = json.loads(run([hero, "contact", "list", "--json"], **opts).stdout)
    assert [c["id"] for c in listed] == [created["id"]] and listed[0]["name"] == "Wheel Person"
    found = json.loads(run([hero, "contact", "search", "Wheel", "--json"], **opts).stdout)
    assert [c["id"] for c in found] == [created["id"]]

    info = json.loads(run([hero, "context", "show", "--json"], **opts).stdout)
    assert info["description"] == "Family, friends, home and health", "the shipped profile comes from the wheel"
    run([hero, "context", "create", "business"], **opts)
    report = json.loads(run([hero, "--context", "business", "contact", "import",
                             str(contexts_dir / "demo" / "business.vcf"), "--json"], **opts).stdout)
    assert report["imported"] == 25
    bad = subprocess.run([hero, "contact", "show", "ZZZZZZZZ"], capture_output=True, text=True, **opts)
    assert bad.returncode == 3 and "Traceback" not in bad.stderr
