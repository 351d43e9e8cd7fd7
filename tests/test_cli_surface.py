"""CLI surface checks: generated shell completions are current; the fast --help is Typer's."""

from __future__ import annotations

import os
import subprocess
import sys

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def hero_exe() -> str:
    return str(Path(sys.executable).parent / "hero")


def test_completion_scripts_are_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_completions.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_bash_completion_offers_services_and_verbs():
    def complete(words: str, cword: int) -> list[str]:
        env = dict(os.environ, _HERO_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
        out = subprocess.run([hero_exe()], env=env, capture_output=True, text=True).stdout
        return [line.split(",", 1)[-1] for line in out.splitlines()]

    assert "contact" in complete("hero con", 1)
    assert "calendar" in complete("hero ca", 1)
    assert set(complete("hero contact ", 2)) >= {"create", "list", "import", "export"}
    assert "--email" in complete("hero contact create --em", 3)


def test_fast_help_matches_typer_help(capsys):
    """`hero --help` skips Typer for speed; its text must be exactly what Typer prints."""
    from herotui.frontends import cli

    assert cli._main(["--help"]) == 0
    typer_text = capsys.readouterr().out
    assert cli.fast_help() == typer_text
    assert "contact" in typer_text and "calendar" in typer_text
