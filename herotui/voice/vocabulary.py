"""The vocabulary hint for speech to text, built from live data.

tiny.en spells "Lena Fischer" or "Northwind" however it likes unless told; whisper's
``initial_prompt`` is the way to tell it. The hint lists the command words and the names in
the active context: contacts, tags, deck titles, context names (kept under ~700 characters,
whisper reads at most 224 tokens of prompt). Reading them is one small DuckDB query per
table (~30 ms); :func:`hint` caches per context for a few seconds so a conversation does
not pay it on every turn.
"""

from __future__ import annotations

import time

COMMAND_WORDS = ("what's on today, add a contact, find contact, show, tag, find documents about, "
                 "find the deck about, open it, summarise, switch to, in business, calendar, meeting, "
                 "import a vCard, VIP, yes, no")
MAX_CHARS = 700
_cache: dict[str, tuple[float, str]] = {}
TTL = 30.0


def gather(ctx) -> dict[str, list[str]]:
    """Names from the context's store: contacts, tags, deck titles, context names."""
    from herotui import contexts

    out: dict[str, list[str]] = {"contacts": [], "tags": [], "decks": [], "contexts": []}
    try:
        out["contexts"] = contexts.names()
    except Exception:
        pass
    try:
        with ctx.read() as conn:
            out["contacts"] = [r[0] for r in conn.execute(
                "SELECT name FROM contacts ORDER BY updated DESC LIMIT 40").fetchall()]
            companies = [r[0] for r in conn.execute(
                "SELECT DISTINCT company FROM contacts WHERE company IS NOT NULL LIMIT 15").fetchall()]
            tags = conn.execute(
                "SELECT DISTINCT t FROM (SELECT unnest(tags) AS t FROM contacts UNION ALL "
                "SELECT unnest(tags) AS t FROM documents) LIMIT 30").fetchall()
            out["tags"] = [r[0] for r in tags]
            out["decks"] = [r[0] for r in conn.execute(
                "SELECT title FROM documents WHERE kind = 'deck' ORDER BY title LIMIT 15").fetchall()]
            out["companies"] = companies
    except Exception:  # a fresh context with no database yet, a busy one: hint without names
        pass
    return out


def build(names: dict[str, list[str]]) -> str:
    parts = [f"Commands: {COMMAND_WORDS}."]
    for key, label in (("contexts", "Contexts"), ("decks", "Decks"), ("tags", "Tags"),
                       ("contacts", "Contacts"), ("companies", "Companies")):
        values = [v for v in names.get(key, []) if v]
        if values:
            parts.append(f"{label}: {', '.join(values)}.")
    text = " ".join(parts)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(",", 1)[0] + "."
    return text


def hint(ctx) -> str:
    now = time.monotonic()
    cached = _cache.get(ctx.name)
    if cached and now - cached[0] < TTL:
        return cached[1]
    text = build(gather(ctx))
    _cache[ctx.name] = (now, text)
    return text


def invalidate() -> None:
    _cache.clear()
