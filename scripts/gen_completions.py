"""Write completions/hero.{bash,zsh,fish} from the CLI (run after changing commands).

    python scripts/gen_completions.py          # rewrite the files
    python scripts/gen_completions.py --check  # exit 1 if they are out of date (tests use it)

The scripts are Click's completion shims: they ask ``hero`` itself for candidates at
completion time, so they stay correct as verbs are added; regenerate when the shim changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = ("bash", "zsh", "fish")


def render(shell: str) -> str:
    env = dict(os.environ, _HERO_COMPLETE=f"source_{shell}")
    code = "from herotui.frontends.cli import main; main([])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    # the shim names the program it was generated from; completions are for 'hero'
    return out


def main() -> int:
    check = "--check" in sys.argv
    stale = []
    for shell in SHELLS:
        path = ROOT / "completions" / f"hero.{shell}"
        text = render(shell)
        if not text.strip():
            print(f"empty completion script for {shell}", file=sys.stderr)
            return 1
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("out of date: " + ", ".join(stale) + " (run python scripts/gen_completions.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
