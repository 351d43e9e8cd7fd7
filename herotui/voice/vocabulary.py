"""What speech to text should expect, from live data; and a command-word correction step.

tiny.en spells "Lena Fischer" or "Northwind" however it likes unless told, and it hears a
short command's first word badly (piper's "show Alex Smith" comes out as "Joe Alex
Smith"). Two remedies:

* :func:`hint`, whisper's ``initial_prompt``: the names in the active context (contexts,
  decks, tags, contacts, companies, sharing the room turn by turn), then example commands
  in sentence form, filled with those names. Whisper continues the style of its prompt, so
  commands written as sentences just before the audio ("Show Sophie Martens. Tag Omar
  Haddad as VIP.") help it far more than a comma list of command words: over the bench's
  synthesised set, mean WER 0.067 -> 0.027 (piper without noise) and 0.090 -> 0.048 (with
  noise), command accuracy 0.79 -> 0.96, and the three misheard first words came out
  right. The examples come last because whisper keeps the *last* 223 tokens of a prompt;
  the hint stays under ~220 tokens. The names cost one small DuckDB query per table
  (~30 ms), cached per context.
* :func:`correct_command`: when a transcript does not parse as any known intent, a first
  word that is no command word but sounds like one of the templates' (``commands/*.yaml``,
  compared as espeak-ng phonemes) is replaced, and kept only when the sentence then parses
  as a known intent whose steps need no confirmation. "Joe Alex Smith" -> "Show Alex
  Smith"; "Joe called about the budget" stays as it is (nothing parses).
"""

from __future__ import annotations

import difflib
import functools
import re
import time

MAX_CHARS = 840  # ~215 tokens: whisper keeps the last 223 of a prompt
_cache: dict[str, tuple[float, str]] = {}
TTL = 30.0
MIN_SIMILARITY = 0.5  # phoneme similarity (difflib ratio) for a first word to be replaced


def gather(ctx) -> dict[str, list[str]]:
    """Names from the context's store: contacts, tags, deck titles, companies, context names."""
    from herotui import contexts  # lazy: the thin entry's voice hand-off imports this module (no store)

    out: dict[str, list[str]] = {"contacts": [], "tags": [], "decks": [], "contexts": [], "companies": []}
    try:
        out["contexts"] = contexts.names()
    except Exception:
        pass
    try:
        with ctx.read() as conn:
            out["contacts"] = [r[0] for r in conn.execute(
                "SELECT name FROM contacts ORDER BY updated DESC LIMIT 40").fetchall()]
            out["companies"] = [r[0] for r in conn.execute(
                "SELECT DISTINCT company FROM contacts WHERE company IS NOT NULL LIMIT 15").fetchall()]
            tags = conn.execute(  # the most used first
                "SELECT t FROM (SELECT unnest(tags) AS t FROM contacts UNION ALL "
                "SELECT unnest(tags) AS t FROM documents) GROUP BY t ORDER BY count(*) DESC, t LIMIT 40").fetchall()
            out["tags"] = [r[0] for r in tags]
            out["decks"] = [r[0] for r in conn.execute(
                "SELECT title FROM documents WHERE kind = 'deck' ORDER BY title LIMIT 15").fetchall()]
    except Exception:  # a fresh context with no database yet, a busy one: hint without names
        pass
    return out


def _pick(values: list[str], i: int, default: str) -> str:
    values = [v for v in values if v]
    return values[i] if len(values) > i else default


def examples(names: dict[str, list[str]]) -> str:
    """Spoken commands as sentences, with the context's own names where it has some."""
    contacts, tags = names.get("contacts") or [], names.get("tags") or []
    first = [c.split()[0] for c in contacts[2:4]] + ["Anna", "Tom"]
    context = _pick(list(reversed(names.get("contexts") or [])), 0, "personal")
    return (f"What's on today? What's next? Show {_pick(contacts, 0, 'Sam Peters')}. "
            f"Tag {_pick(contacts, 1, 'Lea Jansen')} as VIP. "
            f"Tag the {_pick(tags, 0, 'budget')} document as {_pick(tags, 1, 'finance')}. "
            f"Find contact {first[1]}. Find documents about {_pick(tags, 2, 'budget')}. "
            f"Find the deck about {_pick(tags, 3, 'sales')} and open it. List my decks. "
            f"Add lunch with {first[0]} tomorrow at 12:30. Summarise it. Search {_pick(tags, 4, 'contracts')}. "
            f"Switch to {context}. How do I import a vCard? Yes. No.")


_ORDER = (("contexts", "Contexts"), ("decks", "Decks"), ("tags", "Tags"), ("companies", "Companies"),
          ("contacts", "Contacts"))
# Turns at the room, per round: tags are short words, three of them cost about one name.
_TURNS = (("contexts", 1), ("contacts", 1), ("decks", 1), ("companies", 1), ("tags", 3))


def build(names: dict[str, list[str]]) -> str:
    """The names, then the example commands (last: whisper keeps the end of a long prompt).

    The names share ``MAX_CHARS`` turn by turn (a context, a contact, a deck, a company, three
    tags, then the next of each...), so no kind crowds the others out.
    """
    tail = examples(names)
    room = MAX_CHARS - len(tail) - 1
    labels = dict(_ORDER)
    todo = {key: [v for v in names.get(key, []) if v] for key, _ in _TURNS}
    kept: dict[str, list[str]] = {key: [] for key, _ in _TURNS}
    while any(todo.values()):
        for key, turns in _TURNS:
            for _ in range(turns):
                if not todo[key]:
                    break
                value = todo[key].pop(0)
                cost = len(value) + 2 + (len(labels[key]) + 3 if not kept[key] else 0)
                if cost > room:
                    todo[key] = []  # no room left for this kind
                    break
                kept[key].append(value)
                room -= cost
    head = " ".join(f"{label}: {', '.join(kept[key])}." for key, label in _ORDER if kept[key])
    return f"{head} {tail}".strip()


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


# ---------------------------------------------------------------------------------------
# Command-word correction
# ---------------------------------------------------------------------------------------


def _first_words(expr, rules: dict, depth: int = 0) -> tuple[set[str], bool]:
    """The words a hassil template expression can start with, and whether it can be empty."""
    # ~85 ms: only the voice commands pay for it
    from hassil.expression import (Alternative, Group, ListReference, Permutation, RuleReference, Sentence,
                                   TextChunk)

    if isinstance(expr, Sentence):
        return _first_words(expr.expression, rules, depth)
    if isinstance(expr, TextChunk):
        words = expr.text.split()
        return ({words[0].lower()} if words else set()), not words
    if isinstance(expr, RuleReference):
        rule = rules.get(expr.rule_name)
        return _first_words(rule, rules, depth + 1) if rule is not None and depth < 8 else (set(), True)
    if isinstance(expr, ListReference):
        return set(), False  # a name or free words: not a command word
    if isinstance(expr, Alternative):
        out, empty = set(), expr.is_optional
        for item in expr.items:
            words, can_be_empty = _first_words(item, rules, depth)
            out |= words
            empty = empty or can_be_empty
        return out, empty
    if isinstance(expr, Permutation):
        out, empty = set(), True
        for item in expr.items:
            words, can_be_empty = _first_words(item, rules, depth)
            out |= words
            empty = empty and can_be_empty
        return out, empty
    if isinstance(expr, Group):  # a sequence
        out = set()
        for item in expr.items:
            words, can_be_empty = _first_words(item, rules, depth)
            out |= words
            if not can_be_empty:
                return out, False
        return out, True
    return set(), True


@functools.cache
def command_words() -> frozenset[str]:
    """Every word a command template can start with ("show", "tag", "find", "what's", ...)."""
    from herotui.planner import intents  # lazy: the hand-off needs no planner (pydantic, the registry)

    compiled, _specs = intents.compiled()
    out: set[str] = set()
    for intent in compiled.intents.values():
        for data in intent.data:
            for sentence in data.sentences:
                out |= _first_words(sentence, compiled.expansion_rules)[0]
    return frozenset(w for w in out if re.fullmatch(r"[a-z][a-z']*", w))


@functools.lru_cache(maxsize=4096)
def sounds(word: str) -> str:
    """How ``word`` sounds: espeak-ng phonemes (through piper's bundled espeak), else its letters."""
    from herotui.voice import tts  # lazy: the hand-off stays light

    ipa = tts.phonemes(word)
    if ipa:
        return re.sub(r"[ˈˌː\s]", "", ipa)
    return word.lower()


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, sounds(a), sounds(b)).ratio()


def prepare() -> None:
    """Work out the command words and how they sound now (~0.2 s) rather than on the first
    misheard turn."""
    for word in command_words():
        sounds(word)


_FIRST = re.compile(r"^\s*(?P<word>[A-Za-z][A-Za-z']*)(?P<sep>[\s,.!?-]+)(?P<rest>.*)$", re.S)


# Verbs that take any words: a misheard first word replaced by "search" or "find" would always
# "parse", so a correction that lands on one of them is no evidence of anything.
FREE_TEXT_VERBS = frozenset({"search.query", "contact.search", "calendar.search", "document.search", "knowledge.search",
                             "knowledge.ask", "slides.present"})


def _parses(ctx, text: str) -> bool:
    """Does ``text`` plan as a known intent, with steps that need no confirmation and are no free-text search?"""
    from herotui.planner import intents  # lazy: the hand-off needs no planner (pydantic, the registry)

    try:
        plan = intents.plan_offline(ctx, text, frames=False)
    except Exception:
        return False
    if plan is None or not plan.steps or plan.needs_confirmation:
        return False
    return not any(s.verb in FREE_TEXT_VERBS for s in plan.steps)


def correct_command(ctx, text: str) -> str | None:
    """``text`` with its misheard first word replaced by a command word, or None.

    Only when ``text`` itself does not plan, its first word is no command word, a command
    word sounds like it (phoneme similarity >= ``MIN_SIMILARITY``) and the corrected
    sentence plans as a known intent (exact templates) whose steps need no confirmation and are
    no free-text search (a wildcard search "parses" whatever the words). Among several such
    words the one that sounds closest wins; a tie is no correction. A first word that is a
    command word stays ("Tag Alex Smith is bit" must not become "Untag ...").
    """
    from herotui.planner import intents  # lazy: the hand-off needs no planner (pydantic, the registry)

    m = _FIRST.match(text)
    if not m or not m.group("rest").strip():
        return None
    try:
        plan = intents.plan_offline(ctx, text, frames=False)  # the exact templates: the intent model reads
    except Exception:  # almost anything, so it is no evidence that the first word was heard right
        return None
    if plan is not None and (plan.steps or plan.intent):
        return None  # it already means something (or names something that does not exist)
    heard = m.group("word").lower()
    if heard in command_words():
        return None  # a command word was heard: if something is wrong, it is not the first word
    rest = m.group("rest").strip()
    scored = sorted(((similarity(heard, w), w) for w in command_words() if w != heard), reverse=True)
    best: list[tuple[float, str]] = []
    for score, word in scored:
        if score < MIN_SIMILARITY or (best and score < best[0][0]):
            break
        if _parses(ctx, f"{word} {rest}"):
            best.append((score, word))
    if len(best) != 1:
        return None
    word = best[0][1]
    return f"{word[0].upper() if m.group('word')[0].isupper() else word[0]}{word[1:]} {rest}"
