"""Phrasings learned from the user: local, inspectable, removable.

When Hero does not understand a request, it offers the closest plans as choices. When the
user picks one — or rephrases and the rephrasing is understood — the first phrasing is kept
with the kind of request it meant, so next time it is understood at once, whatever the names
and times in it ("frobnicate Alex tomorrow" learned also serves "frobnicate Emma on friday":
the key is the sentence with its people, times, emails, phones and paths as placeholders).

The file is ``$HERO_HOME/state/learned.json`` (a JSON object, one entry per phrasing, with
what it meant and when it was learned); ``hero ask --learned`` lists it and ``hero ask
--forget "PHRASE"`` (or ``--forget all``) removes entries. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import time
from typing import Any

from herotui import paths

MAX_ENTRIES = 500


def _path():
    return paths.state_dir() / "learned.json"


def load() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(data: dict) -> None:
    folder = paths.ensure_private_dir(paths.state_dir())
    paths.write_private(folder / "learned.json", json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True))


def key(delexicalised: str) -> str:
    return " ".join(delexicalised.lower().split())


def remember(delexicalised: str, label: str, said: str) -> None:
    """Learn that the sentence (delexicalised) means ``label``; ``said`` is kept for people to read."""
    data = load()
    data[key(delexicalised)] = {"label": label, "example": said, "learned": time.strftime("%Y-%m-%d %H:%M")}
    if len(data) > MAX_ENTRIES:  # the oldest go first
        for k in sorted(data, key=lambda k: data[k].get("learned", ""))[: len(data) - MAX_ENTRIES]:
            del data[k]
    _write(data)


def lookup(delexicalised: str) -> str | None:
    entry = load().get(key(delexicalised))
    return entry.get("label") if entry else None


def forget(phrase: str) -> int:
    """Remove the entries whose example or key is ``phrase`` (``all``: every entry); how many went."""
    data = load()
    if not data:
        return 0
    if phrase.strip().lower() == "all":
        n = len(data)
        _write({})
        return n
    want = " ".join(phrase.lower().split())
    gone = [k for k, v in data.items() if k == want or " ".join(str(v.get("example", "")).lower().split()) == want]
    for k in gone:
        del data[k]
    _write(data)
    return len(gone)
