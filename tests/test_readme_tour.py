"""The README's "A short tour" block works verbatim on a fresh ``hero demo``: each line is run
in order by a real shell (``bash -c``) with ``hero`` on the PATH, in a temporary folder and a
temporary HERO_HOME, under a frozen clock (libfaketime: Wednesday 9 December 2026, 07:30 in
Brussels), and must exit 0.

Non-interactive forms (the shell here has no terminal, as in a pipe): ``hero`` alone prints
the status instead of opening the TUI, and ``hero slides present --best alex`` prints every
slide instead of presenting them full-screen; ``hero ask "find the deck ... and open it"``
names the deck and the command that presents it. Those lines run as written.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from support import LIBFAKETIME, hero_exe

ROOT = Path(__file__).resolve().parent.parent


def tour_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## A short tour\n\n```sh\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_every_line_of_the_tour_works(tmp_path, hero_home):
    assert LIBFAKETIME, "libfaketime is missing: apt-get install faketime (see the README's test paragraph)"
    lines = tour_lines()
    assert len(lines) > 30 and lines[1].startswith("hero demo")
    # the test's own HERO_HOME: the server the tour starts is stopped when the test ends (under
    # libfaketime its idle timer cannot be trusted to end it)
    env = dict(os.environ, HERO_HOME=str(hero_home), COLUMNS="200", TZ="Europe/Brussels",
               HERO_TZ="Europe/Brussels", LD_PRELOAD=LIBFAKETIME, FAKETIME="@2026-12-09 07:30:00",
               PATH=str(Path(hero_exe()).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("HERO_CONTEXT", None)
    work = tmp_path / "work"
    work.mkdir()
    outputs = {}
    for line in lines:
        proc = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{line}\n-> exit {proc.returncode}\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
        outputs[line] = proc.stdout
    said = {line.split("#")[0].strip(): out for line, out in outputs.items()}
    # a few lines' effects, so a line that "works" by doing nothing is caught
    assert "Sam Carter" in said['hero ask "show Sam Carter"']
    assert "Created Lena Fischer" in said['hero ask "in business, add Lena Fischer from Lumen Labs as a contact"']
    assert "Found the deck" in said['hero ask "find the deck about Alex and open it"']
    agent = said['hero agent run "create a contact Ada Lovelace; tag Ada with math"']
    assert "contact create --name 'Ada Lovelace'" in agent and "contact tag" in agent
    ada = subprocess.run([hero_exe(), "--context", "business", "contact", "list", "--tag", "math"], env=env,
                         capture_output=True, text=True).stdout
    assert "Ada Lovelace" in ada and "tag Ada" not in ada
