"""Offline intents: sentence templates in ``commands/*.yaml`` matched with hassil.

No model and no network: a sentence is matched against the templates of every service in
well under a millisecond, then mapped to verb calls. Each YAML file holds hassil intents
(``data: [{sentences: [...]}]``) plus our own keys per intent:

``verb``      the verb to call (``contact.create``); absent for the special intents
              (``special: confirm | deny | help``).
``args``      the arguments: ``"{slot}"`` is the matched text, ``"{slot:id}"`` the id of the
              contact, document, deck or event named, ``"{slot:best}"`` the id of the best
              match for free words (see :func:`best_match`); other values are literal.
``hooks``     post-processing by name (``when``: split "lunch with Alex tomorrow 12:30"
              into a title and a time; ``attendees``: contacts named in the title).
``then``      an optional second step (same shape as ``verb``/``args``), whose arguments may
              refer to the first result (``$prev.id``).

Live slot lists come from the target context: contact names (and unique first names), tags,
deck and document titles, event titles and context names. They are read with one read-only
connection and cached until the context's database file changes, so repeated planning costs
no database access.

Context rules: a plan runs in the active context, except when the words name another one
("in business, add ...", "... as a contact in business"): then only that sentence's steps
run there. ``switch to business`` is the verb ``context.use``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from herotui import contexts, paths, registry
from herotui.planner import normalize as canon
from herotui.planner import slots
from herotui.planner.plan import Plan, Step, cli_line

STOP_WORDS = frozenset(
    "a an the my our your his her their its me i we you it this that these those about on for of to in at with "
    "and or please can could would will do does did is are be show open find get me up find document documents "
    "doc docs file files deck decks presentation presentations slides slide one latest".split()
)
CONTRACTIONS = frozenset("what it that there let who here where how he she what's".split())
_POSSESSIVE = re.compile(r"\b(\w+)['’]s\b")
_TRAILING = re.compile(r"[\s.!?]+$")
_CONTEXT_PREFIX = re.compile(r"^\s*(?:in|for|within|inside)\s+(?:the\s+|my\s+)?(?P<name>[a-z0-9][a-z0-9_-]*)"
                             r"(?:\s+context)?\s*[,:]?\s+(?P<rest>.+)$", re.I)
_CONTEXT_SUFFIX = re.compile(r"^(?P<rest>.+?)[\s,]+(?:in|for|within|inside)\s+(?:the\s+|my\s+)?(?P<name>[a-z0-9][a-z0-9_-]*)"
                             r"(?:\s+context)?\s*$", re.I)

# Phrases that start a time expression, for splitting "lunch with Alex tomorrow at 12:30".
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_WHEN_START = re.compile(
    rf"\b(?:(?:on|at|this|next|coming)\s+)?(?:today|tonight|tomorrow|day after tomorrow|(?:{_WEEKDAYS})\b|in \d+ (?:minutes?|hours?|days?|weeks?)|"
    rf"noon|midnight|\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm)\b|\d{{1,2}}:\d{{2}}|\d{{4}}-\d{{2}}-\d{{2}}|(?:{_MONTHS})\s+\d{{1,2}}\b|\d{{1,2}}\s+(?:{_MONTHS})\b)",
    re.I,
)
_EMAIL_IN = re.compile(r"[\s,]+(?:with\s+)?(?:e-?mail\s+(?:address\s+)?)?(?P<email>[^\s@,]+@[^\s@,]+\.[a-z]{2,})\s*$", re.I)
_COMPANY_IN = re.compile(r"\s+(?:from|at|of|who works (?:at|for)|working at|with)\s+(?P<company>.+)$", re.I)
_DURATION = re.compile(r"\s*\bfor\s+(?P<d>\d+(?:\.\d+)?\s*(?:h|hours?|m|min|minutes?|d|days?)|an? hour|half an hour|\d+h\d*)\s*$", re.I)


@dataclass
class Live:
    """What the planner knows of a context's data (for slot lists and name resolution)."""

    contacts: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    documents: list[tuple[str, str, str, list[str], list[str]]] = field(default_factory=list)  # id, title, kind, tags, contact ids
    events: list[tuple[str, str, Any, list[str]]] = field(default_factory=list)  # id, title, start, attendee names
    tags: list[str] = field(default_factory=list)
    people: dict[str, dict] = field(default_factory=dict)  # id -> company, role, tags, emails
    event_info: dict[str, dict] = field(default_factory=dict)  # id -> rrule, location, end, all_day, upcoming
    vocabulary: frozenset[str] = frozenset()  # words of names, tags and titles (typo correction)

    @functools.cached_property
    def contact_by_name(self) -> dict[str, str]:
        return {name.lower(): cid for cid, name in self.contacts}

    @functools.cached_property
    def contact_name_of(self) -> dict[str, str]:
        return {cid: name for cid, name in self.contacts}

    @functools.cached_property
    def slot_lists(self) -> dict:
        from hassil import TextSlotList  # ~85 ms: only understanding a typed request pays for it

        first_names: dict[str, list[str]] = {}
        for _cid, name in self.contacts:
            words = [w for w in name.replace(".", " ").split() if w.lower() not in ("dr", "mr", "mrs", "ms")]
            if words:
                first_names.setdefault(words[0].lower(), []).append(name)
        contact_values = [(name, name) for _cid, name in self.contacts]
        contact_values += [(first, names[0]) for first, names in first_names.items() if len(names) == 1
                           and first not in self.contact_by_name]
        lists = {
            "contact": TextSlotList.from_tuples(contact_values, allow_template=False),
            "tag": TextSlotList.from_strings(self.tags or ["-"], allow_template=False),
        }
        return lists


# ---------------------------------------------------------------------------------------
# Loading the templates (once per process)
# ---------------------------------------------------------------------------------------


@functools.cache
def compiled() -> tuple[Any, dict[str, dict]]:
    """The hassil ``Intents`` of every ``commands/*.yaml`` and our per-intent specs."""
    import yaml  # ~16 ms: only understanding a typed request pays for it
    from hassil import Intents  # ~85 ms: only understanding a typed request pays for it

    merged: dict[str, Any] = {"language": "en", "intents": {}, "lists": {}, "expansion_rules": {}, "skip_words": []}
    specs: dict[str, dict] = {}
    folder = paths.resource("commands")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster than the pure-Python parser
    for f in sorted(folder.glob("*.yaml")):
        if f.name == "paraphrases.yaml":  # the intent model's training sentences, not templates
            continue
        doc = yaml.load(f.read_text(encoding="utf-8"), Loader=loader) or {}
        for name, body in (doc.get("intents") or {}).items():
            if name in specs:
                raise ValueError(f"intent {name} is defined twice ({specs[name]['file']} and {f.name})")
            specs[name] = {k: v for k, v in body.items() if k != "data"} | {"file": f.name}
            merged["intents"][name] = {"data": body["data"]}
        merged["lists"].update(doc.get("lists") or {})
        merged["expansion_rules"].update(doc.get("expansion_rules") or {})
        merged["skip_words"] += doc.get("skip_words") or []
    # live lists get placeholders so templates compile; the real values come per call
    for live in ("contact", "tag", "context"):
        merged["lists"].setdefault(live, {"values": ["-"]})
    return Intents.from_dict(merged), specs


# ---------------------------------------------------------------------------------------
# Live data (cached per context until its database changes)
# ---------------------------------------------------------------------------------------

_LIVE: dict[str, tuple[tuple, Live]] = {}


def vocabulary_stamp(ctx) -> tuple:
    out = []
    for p in (ctx.db_path, ctx.db_path.with_name(ctx.db_path.name + ".wal")):
        try:
            st = os.stat(p)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


# Contacts an earlier part of the same request creates ("create a contact Ada Lovelace; tag Ada
# with math"): (context, "$N.id", name, company). Later parts resolve the name to that step's
# result, which the executor fills in when the step has run (herotui.planner.execute.resolve).
_PLANNED: ContextVar[tuple[tuple[str, str, str, str | None], ...]] = ContextVar("hero_planned_contacts", default=())


def _planned_contacts() -> ContextVar:
    return _PLANNED


class planning_created:
    """``with planning_created(step_index, step):`` while planning the parts after ``step``
    (a ``contact.create``), its name resolves to ``$<step_index>.id``."""

    def __init__(self, index: int, step: Step):
        self.entry = (step.context, f"${index}.id", str(step.args.get("name") or ""), step.args.get("company"))

    def __enter__(self):
        var = _planned_contacts()
        self.token = var.set(var.get() + (self.entry,))
        return self

    def __exit__(self, *exc):
        _planned_contacts().reset(self.token)


def live_data(ctx) -> Live:
    """Contacts, documents, events and tags of ``ctx``, with the contacts the request being
    planned creates before this part (see :class:`planning_created`)."""
    live = _stored_live_data(ctx)
    extra = [e for e in _planned_contacts().get() if e[0] == ctx.name and e[2]]
    if not extra:
        return live
    words = {w for e in extra for w in re.findall(r"[a-z]+", e[2].lower()) if len(w) > 2}
    return dataclasses.replace(
        live, contacts=live.contacts + [(e[1], e[2]) for e in extra],
        people={**live.people, **{e[1]: {"company": e[3], "role": None, "tags": [], "emails": []} for e in extra}},
        vocabulary=live.vocabulary | frozenset(words))


def _stored_live_data(ctx) -> Live:
    """Contacts, documents, events and tags of ``ctx`` (one read-only connection, cached)."""
    key = str(ctx.path)
    stamp = vocabulary_stamp(ctx)
    hit = _LIVE.get(key)
    if hit and hit[0] == stamp:
        return hit[1]
    live = Live()
    try:
        with ctx.read() as conn:
            rows = conn.execute("SELECT id, name, company, role, tags, emails FROM contacts ORDER BY lower(name), id").fetchall()
            live.contacts = [(r[0], r[1]) for r in rows]
            live.people = {r[0]: {"company": r[2], "role": r[3], "tags": list(r[4] or []), "emails": list(r[5] or [])}
                           for r in rows}
            live.documents = [(r[0], r[1], r[2], list(r[3] or []), list(r[4] or [])) for r in conn.execute(
                "SELECT id, title, kind, tags, contacts FROM documents ORDER BY created DESC, id").fetchall()]
            events = []
            for eid, title, start, attendees, rrule, location, end, all_day, tz, tags in conn.execute(
                    "SELECT id, title, start, attendees, rrule, location, \"end\", all_day, tz, tags FROM events "
                    "WHERE recurrence_id IS NULL AND coalesce(status, '') <> 'CANCELLED' ORDER BY start, id").fetchall():
                names = [a.get("name") or "" for a in json.loads(attendees or "[]")]
                events.append((eid, title, start, names))
                live.event_info[eid] = {"rrule": rrule, "location": location, "end": end, "all_day": all_day, "tz": tz,
                                        "tags": list(tags or [])}
            live.events = events
            tags: set[str] = set()
            for table in ("contacts", "documents", "events"):
                for (t,) in conn.execute(f"SELECT DISTINCT unnest(tags) FROM {table}").fetchall():
                    if t:
                        tags.add(t)
            live.tags = sorted(tags)
            vocab: set[str] = set(live.tags)
            texts = [n for _c, n in live.contacts] + [d[1] for d in live.documents] + [e[1] for e in live.events]
            texts += [p["company"] or "" for p in live.people.values()]
            for t in texts:
                vocab.update(w for w in re.findall(r"[a-z]+", t.lower()) if len(w) > 2)
            live.vocabulary = frozenset(vocab)
    except Exception:  # a damaged or busy context must not stop planning: no live names then
        live = Live()
    _LIVE[key] = (vocabulary_stamp(ctx), live)
    return live


# ---------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Spacing, curly quotes, possessives ("Alex's" -> "Alex 's") and final punctuation."""
    t = text.replace("’", "'").replace("“", '"').replace("”", '"').strip()
    t = _TRAILING.sub("", t)

    def possessive(m: re.Match) -> str:
        return m.group(0) if m.group(1).lower() in CONTRACTIONS else f"{m.group(1)} 's"

    t = _POSSESSIVE.sub(possessive, t)
    return re.sub(r"\s+", " ", t)


def context_words(known: list[str]) -> dict[str, str]:
    """The words that name a context: its name, and the first word of its description when no
    other context's starts with it ("Work: clients, ..." makes "work" mean business)."""
    words = {name: name for name in known}
    firsts: dict[str, list[str]] = {}
    for name in known:
        try:
            first = slots.words(contexts.load(name).description)[:1]
        except Exception:  # noqa: BLE001 - a context that does not load has no description to read
            continue
        if first and len(first[0]) > 2 and first[0] not in slots.STOP:
            firsts.setdefault(first[0], []).append(name)
    for word, names in firsts.items():
        if len(names) == 1:
            words.setdefault(word, names[0])
    return words


# "my work contacts", "the business calendar": a context's word before a kind of record (the
# word goes, the record stays); "in my personal stuff": a context's word before a vague noun
# (the phrase goes). Not after "to" ("go back to my personal stuff" is a switch: its frame's).
_RECORD_NOUNS = (r"(?:contacts?|people|calendar|agenda|schedule|diary|events?|meetings?|appointments?|documents?|docs?|"
                 r"files?|pdfs?|decks?|slides|slideshows?|presentations?)")
_VAGUE_NOUNS = r"(?:stuff|things|side|life|world|space)"


def split_context(text: str, known: list[str]) -> tuple[str | None, str]:
    """("business", "add ...") for "in business, add ..." or "add ... in business"; also
    ("business", "which documents ...") for "which work documents ..." (:func:`context_words`)."""
    for rx in (_CONTEXT_PREFIX, _CONTEXT_SUFFIX):
        m = rx.match(text)
        if m and m.group("name").lower() in known:
            return m.group("name").lower(), m.group("rest").strip()
    if not re.search(rf"\b(?:{_RECORD_NOUNS}|{_VAGUE_NOUNS})\b", text, re.I):
        return None, text  # no kind of record said: no context profile is read
    words = context_words(known)
    names = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    m = re.search(rf"[\s,]*\b(?:(?:in|on|from|among|of|for)\s+)?(?:(?:the|my|our)\s+)?(?P<w>{names})\s+{_VAGUE_NOUNS}\b",
                  text, re.I) or re.search(rf"\b(?P<w>{names})\s+(?={_RECORD_NOUNS}\b)", text, re.I)
    if m and not re.search(r"\b(?:to|into|over|back)\s*$", text[:m.start()], re.I):  # "switch to my work stuff"
        rest = re.sub(r"\s{2,}", " ", text[:m.start()] + " " + text[m.end():]).strip(" ,")
        if rest:
            return words[m.group("w").lower()], rest
    return None, text


@dataclass
class Match:
    intent: str
    spec: dict
    slots: dict[str, str]  # slot name -> value
    texts: dict[str, str]  # slot name -> the words as said
    text: str = ""  # the sentence matched
    wild: str = ""  # the words taken by free-text slots


def recognize(text: str, live: Live, contexts_known: list[str], limit: int = 4) -> list[Match]:
    """The best matches of ``text``, best first (fewer free-text slots, more literal words)."""
    from hassil import TextSlotList  # ~85 ms: only understanding a typed request pays for it
    from hassil.recognize import _get_result_score, recognize_all  # ~85 ms: only understanding a typed request pays for it

    intents, specs = compiled()
    lists = dict(live.slot_lists)
    lists["context"] = TextSlotList.from_strings(contexts_known or ["-"], allow_template=False)
    results = sorted(recognize_all(text, intents, slot_lists=lists), key=_get_result_score)
    out: list[Match] = []
    seen: set = set()
    for result in results:
        slots = {name: e.value for name, e in result.entities.items()}
        key = (result.intent.name, tuple(sorted((k, str(v)) for k, v in slots.items())))
        if key in seen:
            continue
        seen.add(key)
        texts = {name: (e.text or str(e.value)) for name, e in result.entities.items()}
        wild = " ".join(e.text or "" for e in result.entities_list if e.is_wildcard)
        out.append(Match(result.intent.name, specs[result.intent.name], slots, texts, text, wild))
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------------------
# Resolving names to records
# ---------------------------------------------------------------------------------------


def words_of(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower().replace("'s", "")) if w not in STOP_WORDS]


def _stem(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") else w


def best_match(query: str, live: Live, kind: str) -> str | None:
    """The id of the document (``kind='document'``), deck or event best matching ``query``.

    Score: query words found in the title (2 each), in the tags (1.5), in linked contact or
    attendee names (1); ties go to the newest document or the next event.
    """
    wanted = [_stem(w) for w in words_of(query)]
    if not wanted:
        return None
    best, best_score = None, 0.0
    if kind in ("document", "deck"):
        for did, title, dkind, tags, cids in live.documents:
            if (dkind == "deck") != (kind == "deck"):
                continue
            tw = {_stem(w) for w in re.findall(r"[a-z0-9]+", title.lower())}
            tg = {_stem(t) for tag in tags for t in re.split(r"[-_]", tag)}
            names = {_stem(w) for c in cids for w in live.contact_name_of.get(c, "").lower().split()}
            score = sum(2 if w in tw else 1.5 if w in tg else 1 if w in names else 0 for w in wanted)
            if score > best_score:
                best, best_score = did, score
    else:
        now = datetime.utcnow() - timedelta(hours=2)
        for eid, title, start, attendees in live.events:
            tw = {_stem(w) for w in re.findall(r"[a-z0-9]+", title.lower())}
            names = {_stem(w) for n in attendees for w in n.lower().split()}
            score = sum(2 if w in tw else 1 if w in names else 0 for w in wanted)
            score += 0.1 if start is not None and start >= now else 0  # upcoming first
            if score > best_score + 1e-9:
                best, best_score = eid, score
        if best_score < 1:
            return None
    return best


def _attendees(title: str, live: Live) -> list[str]:
    """Contacts named in an event title ("Lunch with Alex" -> ["Alex Smith"])."""
    low = title.lower()
    found: list[str] = []
    for _cid, name in live.contacts:
        parts = name.lower().split()
        if name.lower() in low:
            found.append(name)
        elif parts and re.search(rf"\bwith\s+{re.escape(parts[0])}\b", low):
            same = [n for _c, n in live.contacts if n.lower().split()[0] == parts[0]]
            if len(same) == 1:
                found.append(name)
    return list(dict.fromkeys(found))


def split_when(text: str) -> tuple[str, str | None, str | None]:
    """("Lunch with Alex", "tomorrow at 12:30", "1h") from "Lunch with Alex tomorrow at 12:30 for 1h"."""
    duration = None
    m = _DURATION.search(text)
    if m:
        d = m.group("d").lower()
        duration = {"an hour": "1h", "a hour": "1h", "half an hour": "30m"}.get(d, d.replace(" ", ""))
        text = text[: m.start()]
    m = _WHEN_START.search(text)
    if not m:
        return text.strip(), None, duration
    if m.start() == 0:  # only a time: "schedule something tomorrow" has no title
        return "", text.strip(), duration
    title = text[: m.start()].strip(" ,")
    when = text[m.start():].strip()
    when = re.sub(r"^(?:on|at)\s+", "", when, flags=re.I)
    when = re.sub(r"\bat\s+", "", when, flags=re.I)
    return title, when, duration


class Unresolved(Exception):
    """A name in the sentence matches nothing in the context."""


def _fill(template: Any, m: Match, live: Live) -> Any:
    if isinstance(template, list):
        out = [_fill(t, m, live) for t in template]
        return [x for x in out if x is not None]
    if not isinstance(template, str) or "{" not in template:
        return template
    if template == "{_text}":
        return m.text
    whole = re.fullmatch(r"\{(\w+)(?::(\w+))?\}", template)
    if not whole:
        return re.sub(r"\{(\w+)\}", lambda g: str(m.slots.get(g.group(1), "")), template)
    slot, how = whole.group(1), whole.group(2)
    if slot not in m.slots:
        return None
    value = m.slots[slot]
    value = value.strip() if isinstance(value, str) else value
    if how is None:
        return value
    if how == "id":  # a contact named from the live list
        cid = live.contact_by_name.get(str(value).lower())
        if cid is None:
            raise Unresolved(f"I don't know a contact called {value}")
        return cid
    if how == "lower":
        return str(value).lower()
    if how == "said":  # the words as spoken ("Alex"), not the list's value ("Alex Smith")
        return m.texts.get(slot, str(value)).strip().lower()
    if how in ("document", "deck", "event"):
        found = best_match(str(value), live, how)
        if found is None:
            label = {"document": "document", "deck": "deck", "event": "event"}[how]
            raise Unresolved(f"I found no {label} matching '{value}' in this context")
        return found
    if how == "tags":
        tags = [t for t in re.split(r"[\s,]+|\band\b", str(value).lower()) if t and t not in ("as", "with")]
        if slots.NOT_TAG.search(str(value)):  # "tag Sanne as emergency and call her mother": a second request
            raise Unresolved(f"\u201c{value}\u201d does not read as tags (say the tags as words: 'tag Sanne as "
                             f"emergency', then the rest)")
        return tags
    return value



def _apply_hooks(spec: dict, args: dict, live: Live) -> dict:
    hooks = spec.get("hooks") or []
    if "person" in hooks and args.get("name"):
        m = _EMAIL_IN.search(args["name"])
        if m:
            args.setdefault("emails", [m.group("email")])
            args["name"] = args["name"][: m.start()].strip(" ,")
        m = _COMPANY_IN.search(args["name"])
        if m and not args.get("company"):
            args["name"], args["company"] = args["name"][: m.start()].strip(" ,"), m.group("company").strip(" ,")
    if "when" in hooks and args.get("title"):
        title, when, duration = split_when(args["title"])
        if when and not args.get("start"):
            args["title"], args["start"] = title, when
        if duration and not args.get("duration"):
            args["duration"] = duration
    if "attendees" in hooks and args.get("title"):
        found = _attendees(args["title"], live)
        if found:
            args["attendees"] = list(dict.fromkeys([*(args.get("attendees") or []), *found]))
    if "when" in hooks:
        if not args.get("title"):
            who = args.get("attendees") or []
            args["title"] = "Meeting with " + " and ".join(who) if who else "Event"
        if not args.get("start"):
            raise Unresolved(f"When is \u201c{args['title']}\u201d? Say it with a time, e.g. "
                             f"'add {args['title'].lower()} tomorrow at 10am'")
    if args.get("title"):
        args["title"] = args["title"][:1].upper() + args["title"][1:]
    if args.get("start") is None:
        args.pop("start", None)
    return args


def _step(verb_name: str, template: dict, m: Match, live: Live, context: str, spec: dict) -> Step:
    args: dict[str, Any] = {}
    for key, tmpl in (template or {}).items():
        value = _fill(tmpl, m, live)
        if value is not None and value != [] and value != "":
            args[key] = value
    args = _apply_hooks(spec, args, live)
    v = registry.get(verb_name)
    return Step(verb=verb_name, args=args, context=context, destructive=v.destructive,
                cli=step_cli(verb_name, args, context))


def step_cli(verb_name: str, args: dict, context: str | None) -> str:
    """The step's CLI line (``--context`` is left out for context verbs, which take a name)."""
    return cli_line(verb_name, args, None if verb_name.startswith("context.") else context)


# ---------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------

SPLITTERS = re.compile(r"\s*(?:;|,?\s+and then\s+|,?\s+then\s+|,\s+and\s+|\s+and\s+)\s*", re.I)


def plan_one(ctx, text: str, *, frames: bool = True) -> Plan | None:
    """The plan for one sentence offline, or None when nothing matches."""
    return plan_sentence(ctx, text, frames=frames)[0]


def plan_sentence(ctx, text: str, *, frames: bool = True) -> tuple[Plan | None, bool]:
    """(plan, greedy): greedy when a free-text slot swallowed "and"/"then" (maybe two requests).

    The templates are the exact fast path; the intent model and its frames
    (:mod:`herotui.planner.understand`) decide when no template matches, when a template
    only matched through a free-text slot that the model reads as another kind of request
    ("add Ana" is a person, not an event titled "Ana"), or when the template's names do not
    resolve.
    """
    from herotui.planner import understand  # lazy: understand imports this module (cycle)

    known = contexts.names()
    cleaned = canon.clean(text)
    if not cleaned:
        return None, False
    tpl, greedy, match = _template_plan(ctx, text, normalize(text), known)  # the templates' own spelling first
    if tpl is None:
        tpl, greedy, match = _template_plan(ctx, text, normalize(cleaned), known)
    if tpl is not None and tpl.intent in ("confirm", "deny", "help") or not frames:
        return tpl, greedy
    named, rest = split_context(cleaned, known)
    target = contexts.load(named) if named else ctx
    body = rest if named else cleaned
    frames = understand.understand(target, body, live_data(target), known)
    forced = _label(match) if tpl is not None and tpl.steps and _label(match) in FRAMES_FIRST else None
    if forced and (frames is None or frames.intent == forced or frames.confidence < OVERRIDE):
        # these kinds are the frames' to plan (occurrences, dates of moves); the template only says which
        frames = understand.understand(target, body, live_data(target), known, label=forced)
        if frames is not None:
            frames.text = text
            return frames, False
    if tpl is not None and tpl.steps and _label(match) == "calendar_add" and (
            frames is None or (frames.intent != "calendar_add" and frames.confidence < OVERRIDE)):
        # the template's catch-all saw an event and the model is unsure: the event frame fills the slots
        frames = understand.understand(target, body, live_data(target), known, label="calendar_add")
    if frames is not None:
        frames.text = text
    if tpl is not None and not tpl.steps and tpl.reply and frames is not None and frames.intent in _LOOKUPS:
        return tpl, False  # "show Zorro Nobody": say the name is unknown rather than search for it
    if tpl is not None and tpl.steps:
        if frames is None or not frames.steps or not match.wild or _agrees(match, frames) \
                or (frames.confidence < OVERRIDE and frames.intent not in FRAMES_BETTER and not _only_time(match.wild)):
            if frames is not None and frames.question and _label(match) == frames.intent:
                tpl.question = frames.question  # "what's Marie's email": the template's step, the frame's answer
            return tpl, greedy
        return frames, False
    if frames is not None and (frames.steps or frames.reply):
        if tpl is not None and not frames.steps and tpl.reply and frames.intent == _label(match) \
                and frames.intent not in FRAMES_FIRST:
            return tpl, False
        return frames, False
    return tpl, greedy


_LOOKUPS = frozenset({"contact_find", "contact_show", "search", "document_find", "calendar_search"})


def _label(match: "Match | None") -> str | None:
    from herotui.planner.classify import TEMPLATE_LABELS  # lazy: classify imports this module (cycle)

    return TEMPLATE_LABELS.get(match.intent) if match is not None else None


# kinds whose frames know more than their templates: occurrences of a series, the date of a
# move given as a time alone ("moved to 5pm" keeps the day)
FRAMES_FIRST = frozenset({"calendar_cancel", "calendar_move"})  # forced: the template only says which kind
FRAMES_BETTER = FRAMES_FIRST | {"calendar_add", "search", "document_summarize"}  # when the model agrees, its frame fills the slots
OVERRIDE = 0.6  # how sure the model must be to prefer its own reading to a template's free-text match


def _agrees(match: "Match", plan: Plan) -> bool:
    return _label(match) == plan.intent and plan.intent not in FRAMES_BETTER


def _only_time(words: str) -> bool:
    """Did a template's free-text slot take nothing but a time ("what do I have on {dec 15}")?"""
    w = slots.find_when(words)
    return w is not None and not slots.cut(words, w.start, w.end).strip()


def _template_plan(ctx, text: str, clean: str, known: list[str]) -> tuple[Plan | None, bool, "Match | None"]:
    candidates: list[tuple[Match, Live, str]] = []
    named, rest = split_context(clean, known)
    if named:  # "in business, ..." only when the rest is itself a command
        there = live_data(contexts.load(named))
        candidates += [(m, there, named) for m in recognize(rest, there, known)
                       if not m.spec.get("verb", "").startswith("context.")]
    if not candidates:
        here = live_data(ctx)
        candidates += [(m, here, ctx.name) for m in recognize(clean, here, known)]
    if not candidates:
        return None, False, None
    unresolved: tuple[Plan, Match] | None = None
    for m, live, target in candidates:
        greedy = bool(_JOINERS.search(m.wild))
        spec = m.spec
        if spec.get("special"):
            return Plan(text=text, intent=spec["special"], source="intent", reply=spec.get("reply", "")), greedy, m
        try:
            steps = [_step(spec["verb"], spec.get("args") or {}, m, live, target, spec)]
            if spec.get("then"):
                nxt = spec["then"]
                steps.append(_step(nxt["verb"], nxt.get("args") or {}, m, live, target, nxt))
        except Unresolved as exc:  # a name that matches nothing: try the next reading, else say so
            if unresolved is None:
                unresolved = (Plan(text=text, intent=m.intent, source="intent", reply=f"{exc}."), m)
            continue
        destructive = any(s.destructive for s in steps)
        return Plan(text=text, steps=steps, needs_confirmation=destructive, intent=m.intent, source="intent",
                    reply=spec.get("reply", "")), greedy, m
    if unresolved:
        return unresolved[0], False, unresolved[1]
    return None, False, None


_JOINERS = re.compile(r"(?:\band\b|\bthen\b|;)", re.I)


_PIN_KINDS = {"contact": "contact", "calendar": "event", "document": "document", "slides": "deck"}


def step_pins(steps: list[Step]) -> dict[str, str]:
    """The records ``steps`` act on, by kind, as pins for the next part of the request ("tag
    Sanne as emergency and change her number": her is Sanne), whoever planned them (a template
    or a frame)."""
    pins = {}
    for s in steps:
        kind = _PIN_KINDS.get(s.verb.split(".", 1)[0])
        rid = s.args.get("id")
        if kind and isinstance(rid, str) and rid and not rid.startswith("$"):
            pins[kind] = rid
    return pins


def created_contacts(steps: list[Step], before: int) -> list[tuple[int, Step]]:
    """(1-based index in the whole plan, step) of the ``contact.create`` steps among ``steps``
    (which come after ``before`` steps of the plan)."""
    return [(before + i, s) for i, s in enumerate(steps, 1) if s.verb == "contact.create" and s.args.get("name")]


class creating_records:
    """Plan with these created contacts known by name (a stack of :class:`planning_created`)."""

    def __init__(self, created: list[tuple[int, Step]]):
        self.scopes = [planning_created(i, s) for i, s in created]

    def __enter__(self):
        for s in self.scopes:
            s.__enter__()
        return self

    def __exit__(self, *exc):
        for s in reversed(self.scopes):
            s.__exit__(*exc)


def plan_offline(ctx, text: str, *, frames: bool = True) -> Plan | None:
    """One sentence, or several joined by "and then", "then", ";" or "and", all matched.

    ``frames=False``: the exact templates only (what the voice loop's first-word correction
    checks against: a sentence the intent model can read anyhow is no evidence)."""
    whole, greedy = plan_sentence(ctx, text, frames=frames)
    if one_request(whole, greedy, text):
        return whole
    parts = [p for p in SPLITTERS.split(text) if p and p.strip()]
    if len(parts) < 2:
        return whole
    split = _plan_parts(ctx, text, parts, frames=frames)
    if split is not None and split.steps and (whole is None or not whole.steps or len(split.steps) > len(whole.steps)):
        return split
    return whole if whole is not None else split


def one_request(whole: Plan | None, greedy: bool, text: str) -> bool:
    """Is ``whole`` the plan for all of ``text``? Not when a template's free text swallowed an
    "and"/"then", nor when the model read a sentence with a joiner as one request (the parts
    are tried; the whole is kept when they do not all plan)."""
    from_model = whole is not None and whole.intent is not None and whole.intent.islower()
    if ";" in text:  # a semicolon always separates requests: no name, title or note spans one
        return False
    return whole is not None and bool(whole.steps) and not greedy and not (from_model and _JOINERS.search(text))


def _plan_parts(ctx, text: str, parts: list[str], *, frames: bool = True) -> Plan | None:
    from herotui.planner import understand  # lazy: understand imports this module (cycle)

    plans = []
    here = ctx
    pins: dict[str, str] = {}
    created: list = []  # contacts earlier parts create: later parts may name them
    for part in parts:
        with understand.pinned(pins), creating_records(created):  # "tag Omar as vip and delete him": "him" is the record of the part before
            p = plan_one(here, part, frames=frames)
        pins = {**pins, **step_pins(p.steps), **p.pins} if p is not None else pins
        if p is None or p.intent in ("confirm", "deny", "help"):
            return None
        if not p.steps:
            return p  # a name that matches nothing: say so rather than run half a request
        plans.append(p)
        created += created_contacts(p.steps, sum(len(q.steps) for q in plans[:-1]))
        last = p.steps[-1]
        if last.verb == "context.use":  # "switch to personal and then ...": the rest runs there
            here = contexts.load(last.args["name"])
    steps = [s for p in plans for s in p.steps]
    confirm = any(s.destructive for s in steps) or any(p.needs_confirmation for p in plans)
    return Plan(text=text, steps=steps, needs_confirmation=confirm, source="intent",
                intent="+".join(p.intent or "" for p in plans), reply="")
