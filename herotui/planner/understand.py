"""From a request in anyone's words to a validated plan, offline.

Three layers (DESIGN.md §4): the words are normalised (:mod:`normalize`), the kind of request
is decided by the intent model (:mod:`classify`) over the sentence with its people, times,
emails, phones and paths replaced by placeholders, and a *frame* per kind fills typed slots
(:mod:`slots`) and builds the steps. A frame that cannot fill or validate a slot never
emits a plan: it asks (which person, which event, when), and says what it understood.

Rules every frame keeps:

* Names resolve with a margin: one clear winner, else a question listing the candidates.
* An update or delete of a record found by a near spelling, any change of an event's date,
  and any change that covers a whole series need a confirmation showing the change.
* "cancel tomorrow's standup" skips that occurrence (``calendar update ID --skip DAY``); the
  series is deleted only when the words say all/every/series.
* Out-of-scope requests (weather, music, calls) and small talk get a plain answer, no step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from herotui import contexts, registry, settings, timeparse
from herotui.planner import classify, learned, normalize, slots
from herotui.planner.plan import Plan, Step

MIN_CONFIDENCE = 0.30  # below this the model's best guess is not acted on
CUE_WORDS = frozenset("""add create make new schedule book put plan set setup arrange block remind me please cancel delete
remove erase drop get rid skip move reschedule push shift postpone change update rename fix show find search look lookup
for list display open read view pull bring present start play summarise summarize summary tldr gist tag untag label mark
link attach export save import calendar agenda event events meeting meetings appointment appointments contact contacts
deck decks slides slide presentation document documents doc docs file files note notes the a an my our to from with
of about on in at is was it its what whats when where who which how do does did i you me can could would will give
tell want need know anything everything thing stuff there any some called named titled off anymore no longer not
happening coming going time up quick short brief""".split())


@dataclass
class U:
    """A request being understood."""

    raw: str
    text: str  # normalised and corrected, original case
    live: Any
    context: str
    known: list[str]
    when: slots.When | None = None
    duration: slots.Duration | None = None
    repeat: slots.Repeat | None = None
    shift: tuple[int, int, timedelta] | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    people: list[tuple[int, int, list[slots.Candidate]]] = field(default_factory=list)
    quoted: str | None = None
    label: str = ""
    confidence: float = 0.0
    resolved: dict[str, str] = field(default_factory=dict)  # kind -> id of the records the plan is about
    pinned_event: Any = None  # an event already identified by a frame (by its time, say)
    loose: list[str] = field(default_factory=list)  # records found by a near spelling (a change to them is confirmed)

    @property
    def low(self) -> str:
        return self.text.lower()

    def has(self, pattern: str) -> re.Match | None:
        return re.search(pattern, self.text, re.I)


class Ask(Exception):
    """The frame needs something from the user: the question to ask (and its options)."""

    def __init__(self, message: str, choices: list[dict] | None = None):
        super().__init__(message)
        self.choices = choices or []


PINS: ContextVar[dict[str, str] | None] = ContextVar("hero_pins", default=None)


@contextlib.contextmanager
def pinned(pins: dict[str, str]):
    """Plan with these records already chosen ({"contact": id, "event": id, ...}): the user
    answered "which one?", or said "it" about the record of the previous request."""
    token = PINS.set(dict(pins))
    try:
        yield
    finally:
        PINS.reset(token)


# ---------------------------------------------------------------------------------------
# Reading the sentence
# ---------------------------------------------------------------------------------------


def read(text: str, live, context: str, known: list[str], *, purpose: str = "point") -> U:
    clean = normalize.clean(text)
    vocab = _vocabulary() | live.vocabulary | frozenset(known)
    fixed = normalize.correct(clean, vocab)
    u = U(raw=text, text=fixed, live=live, context=context, known=known)
    q = re.search(r"['\"]([^'\"]{2,80})['\"]", fixed)
    if q and not re.search(r"\w'\w", q.group(0)):
        u.quoted = q.group(1)
    u.emails = [m.group(0) for m in slots.find_emails(fixed)]
    u.paths = [m.group(0) for m in slots.find_paths(fixed)]
    no_email = slots.EMAIL_RX.sub(" ", fixed)
    u.phones = [m.group(0).strip() for m in slots.find_phones(no_email)]
    u.duration = slots.find_duration(fixed)
    u.repeat = slots.find_repeat(fixed)
    u.shift = slots.find_shift(fixed)
    u.when = slots.find_when(_blank(fixed, u), purpose=purpose)
    u.people = slots.contact_mentions(fixed, live.contacts)
    return u


def _blank(text: str, u: U) -> str:
    """``text`` with durations, shifts, phones and emails blanked (same length) for the time parser."""
    out = text
    for span in ([(u.duration.start, u.duration.end)] if u.duration else []) + ([u.shift[:2]] if u.shift else []):
        out = out[:span[0]] + " " * (span[1] - span[0]) + out[span[1]:]
    for rx in (slots.EMAIL_RX,):
        out = rx.sub(lambda m: " " * len(m.group(0)), out)
    for p in u.phones:
        i = out.find(p)
        if i >= 0:
            out = out[:i] + " " * len(p) + out[i + len(p):]
    return out


def delexicalised(u: U) -> str:
    """The sentence the intent model sees: people, times and the like as placeholder tokens."""
    spans: list[tuple[int, int, str]] = []
    if u.when:
        spans.append((u.when.start, u.when.end, "WHEN"))
    if u.duration:
        spans.append((u.duration.start, u.duration.end, "DURATION"))
    for a, b, _c in u.people:
        spans.append((a, b, "PERSON"))
    for rx, tok in ((slots.EMAIL_RX, "EMAIL"), (slots.PATH_RX, "PATH")):
        spans += [(m.start(), m.end(), tok) for m in rx.finditer(u.text)]
    for p in u.phones:
        i = u.text.find(p)
        if i >= 0:
            spans.append((i, i + len(p), "PHONE"))
    for m in _NEW_NAME.finditer(u.text):  # "Joe Bloggs": a name the context does not know yet
        if m.start() > 0 and not _NOT_NAME.match(m.group(0)):
            spans.append((m.start(), m.end(), "PERSON"))
    companies = {c.lower() for c in _companies(u.live)}
    for comp in companies:
        for m in re.finditer(rf"\b{re.escape(comp)}\b", u.low):
            spans.append((m.start(), m.end(), "COMPANY"))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out, pos = [], 0
    for a, b, tok in spans:
        if a < pos:
            continue
        out.append(u.text[pos:a])
        out.append(f" {tok} ")
        pos = b
    out.append(u.text[pos:])
    return re.sub(r"\s+", " ", "".join(out)).strip()


_NEW_NAME = re.compile(r"\b[A-Z\u00C0-\u00DE][a-z\u00DF-\u00FF'-]+"
                       r"(?:\s+(?:van|de|der|von|da|el|le|la)?\s*[A-Z\u00C0-\u00DE][a-z\u00DF-\u00FF'-]+)+\b")
_NOT_NAME = re.compile(r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|"
                       r"July|August|September|October|November|December|I)\b")


def _companies(live) -> set[str]:
    return {p["company"] for p in live.people.values() if p.get("company")}


# words the rules below read that the training sentences may lack (a typo of one is corrected to it)
_RULE_WORDS = frozenset("changed changes updated moving stepping taking promoted anymore".split())


def _vocabulary() -> frozenset[str]:
    return classify.vocabulary() | _RULE_WORDS


# ---------------------------------------------------------------------------------------
# Helpers for frames
# ---------------------------------------------------------------------------------------


def _step(verb: str, args: dict, context: str) -> Step:
    from herotui.planner.intents import step_cli  # lazy: intents imports this module (cycle)

    clean = {k: v for k, v in args.items() if v is not None and v != [] and v != ""}
    v = registry.get(verb)
    return Step(verb=verb, args=clean, context=context, destructive=v.destructive, cli=step_cli(verb, clean, context))


def _plan(u: U, steps: list[Step], change: str | None = None, *, confirm: bool = False,
          question: str | None = None) -> Plan:
    return Plan(text=u.raw, steps=steps, needs_confirmation=confirm or any(s.destructive for s in steps),
                intent=u.label, source="intent", change=change, question=question)


def remainder(u: U, *, drop: frozenset[str] = CUE_WORDS, keep_people: bool = True) -> str:
    """The words left once times, durations, emails, phones, paths and cue words are taken out."""
    t = u.text
    cuts = []
    if u.when:
        cuts.append((u.when.start, u.when.end))
    if u.duration:
        cuts.append((u.duration.start, u.duration.end))
    if u.repeat:
        cuts.append((u.repeat.start, u.repeat.end))
    if u.shift:
        cuts.append(u.shift[:2])
    if not keep_people:
        cuts += [(a, b) for a, b, _c in u.people]
    for a, b in reversed(_merged(cuts)):
        t = t[:a] + " " + t[b:]
    for x in u.emails + u.phones + u.paths:
        t = t.replace(x, " ")
    t = re.sub(r"'s\b", "", t)
    ws = [w for w in re.findall(r"[\w\u00C0-\u024F&+-]+", t) if w.lower() not in drop]
    return " ".join(ws)


def _person(u: U, *, required: bool = True, index: int = 0) -> slots.Candidate | None:
    """The contact the sentence names (the index-th mention), or Ask when it is unclear."""
    pin = (PINS.get() or {}).get("contact")
    if pin and index == 0 and (len(u.people) <= index or len(u.people[0][2]) > 1 or _pronoun(u)):
        name = u.live.contact_name_of.get(pin)
        if name:
            u.resolved["contact"] = pin
            return slots.Candidate(pin, name, 1.0)
    if len(u.people) <= index:
        if re.search(r"\b(?:her|him|his|them|their)\b", u.low):
            raise Ask("Who do you mean? Say the name: I do not carry 'her' or 'him' over from earlier requests yet.")
        if required:
            raise Ask("Who do you mean? Say the contact's name, e.g. 'show Alex Smith'.")
        return None
    a, b, cands = u.people[index]
    if len(cands) == 1 and cands[0].score < 0.75:
        u.loose.append(cands[0].label)
    if len(cands) > 1:
        said = re.sub(r"'s$", "", u.text[a:b]).strip()
        raise Ask(_which("contact", cands, u, said[:1].upper() + said[1:]), [{"kind": "contact", "id": c.id, "label": c.label} for c in cands[:4]])
    u.resolved.setdefault("contact", cands[0].id)
    return cands[0]


def _pronoun(u: U) -> bool:
    return bool(re.search(r"\b(?:it|that|this one|her|him|them)\b", u.low))


def _which(kind: str, cands: list[slots.Candidate], u: U, said: str | None = None) -> str:
    def label(c: slots.Candidate) -> str:
        info = u.live.people.get(c.id) if kind == "contact" else None
        company = f", {info['company']}" if info and info.get("company") else ""
        return f"{c.label}{company}"

    first = (said or cands[0].label.split()[0]) if kind == "contact" else kind
    options = " ".join(f"{i}) {label(c)}" for i, c in enumerate(cands[:4], 1))
    return f"Which {first}: {options}?"


def _records(u: U, kind: str) -> list[tuple[str, str, list[str]]]:
    live = u.live
    if kind == "event":
        return [(eid, title, [*names, live.event_info.get(eid, {}).get("location") or "",
                              *live.event_info.get(eid, {}).get("tags", [])]) for eid, title, _s, names in live.events]
    want_deck = kind == "deck"
    return [(did, title, [*tags, *(live.contact_name_of.get(c, "") for c in cids)])
            for did, title, dkind, tags, cids in live.documents if (dkind == "deck") == want_deck]


def _target(u: U, kind: str, words: str, *, required: bool = True, floor: float = 0.5) -> slots.Candidate | None:
    """The event, document or deck named by ``words``, or Ask."""
    label = {"event": "event", "document": "document", "deck": "deck"}[kind]
    records = _records(u, kind)
    hit = _pinned_target(u, kind, words, records)
    if hit is not None:
        return hit
    cands = []
    for t in _target_phrasings(u, kind, words):
        ranked = slots.rank(t, records)
        if ranked and (not cands or ranked[0].score > cands[0].score + 1e-9):
            cands = ranked
    if kind == "event":
        hit, cands = _events_then(u, records, cands, floor)
        if hit is not None:
            u.resolved.setdefault(kind, hit.id)
            return hit
    best, close = slots.pick(cands, floor=floor)
    if best is not None:
        u.resolved.setdefault(kind, best.id)
        if best.score < 0.75:
            u.loose.append(best.label)
        return best
    if close:
        opts = " ".join(f"{i}) {c.label}" for i, c in enumerate(close, 1))
        raise Ask(f"Which {label}: {opts}?", [{"kind": kind, "id": c.id, "label": c.label} for c in close])
    if required:
        if not words.strip() and kind == "event" and u.when is not None and u.when.has_clock and u.when.begin:
            raise Ask(f"There is nothing at {u.when.begin:%H:%M} on {u.when.begin:%a} {u.when.begin.day} {u.when.begin:%b} in {u.context}.")
        said = words.strip() or "that"
        raise Ask(f"I found no {label} matching \u201c{said}\u201d in {u.context}.")
    return None


def _pinned_target(u: U, kind: str, words: str, records: list) -> slots.Candidate | None:
    """The record of this kind already chosen (an answer to "which one?", or "it"), when the
    words do not name another one."""
    pin = (PINS.get() or {}).get(kind)
    if not pin:
        return None
    hit = next((slots.Candidate(rid, title, 1.0) for rid, title, _e in records if rid == pin), None)
    if hit is not None and (not words.strip() or _pronoun(u) or not slots.pick(slots.rank(words, records))[0]):
        u.resolved[kind] = pin
        return hit
    return None


def _target_phrasings(u: U, kind: str, words: str) -> list[str]:
    """The ways ``words`` may name the record: as said, with the time words ("friday drinks"),
    and the first clause alone ("drop friday drinks, nobody's coming")."""
    tries = [words]
    if u.when and kind == "event":  # "friday drinks": a time word may be part of the title
        tries.append(f"{words} {u.when.said}")
    if "," in u.text:  # "drop friday drinks, nobody's coming": the clause that names it
        sub = U(raw=u.raw, text=u.text.split(",")[0], live=u.live, context=u.context, known=u.known)
        tries.append(remainder(sub, drop=CUE_WORDS | _MOVE_WORDS | _DOC_WORDS | frozenset(["drop"])) + " " + (
            u.when.said if u.when and kind == "event" else ""))
    return tries


def _events_then(u: U, records: list, cands: list[slots.Candidate],
                 floor: float) -> tuple[slots.Candidate | None, list[slots.Candidate]]:
    """"the meeting with the vendor on monday", "my 4pm meeting": the one event at the time
    said (when the words do not clearly name another), else the candidates with that day's
    events first."""
    w = u.when
    if w is None or w.begin is None or w.dated is None:
        return None, cands
    that_day = _day_events(u, w)
    if not that_day:
        return None, cands
    on_day = [c for c in cands if c.id in that_day]
    if w.has_clock and w.kind == "point":
        at_time = [eid for eid, start in that_day.items() if start == w.begin]
        if len(at_time) == 1 and (not on_day or on_day[0].id == at_time[0] or on_day[0].score < 0.75):
            hit = next((slots.Candidate(rid, title, 1.0) for rid, title, _e in records if rid == at_time[0]), None)
            if hit is not None:
                return hit, cands
    if on_day and on_day[0].score >= floor * 0.6:
        cands = on_day + [c for c in cands if c.id not in that_day]
        cands[0] = slots.Candidate(cands[0].id, cands[0].label, max(cands[0].score, floor), cands[0].extra)
    return None, cands


_READS: dict[tuple, Any] = {}


def _read(u: U, verb: str, args: dict) -> Any:
    """A read-only verb call made while planning (through the registry, as every call is),
    remembered until the context's database changes: a warm planner does not reopen the
    stores to learn which events happen on a day it already looked at."""
    from herotui.planner.intents import vocabulary_stamp  # lazy: intents imports this module (cycle)

    ctx = contexts.load(u.context)
    key = (str(ctx.path), vocabulary_stamp(ctx), verb, json.dumps(args, sort_keys=True))
    if key not in _READS:
        if len(_READS) > 256:
            _READS.clear()
        _READS[key] = registry.call(verb, args, ctx, actor="planner")
    return _READS[key]


def _day_events(u: U, w: slots.When) -> dict[str, datetime]:
    """The events on the day ``w`` names (or today for a time alone): id -> start, wall clock."""
    day = w.begin.date() if w.begin is not None else None
    if day is None:
        return {}
    try:
        occ = _read(u, "calendar.list", {"start": day.isoformat(), "end": day.isoformat()})
    except Exception:
        return {}
    return {o.id: o.start.astimezone(timeparse.local_zone()).replace(tzinfo=None) for o in occ}


def _tags_after(u: U, pattern: str) -> list[str]:
    m = re.search(pattern, u.text, re.I)
    if not m:
        return []
    raw = re.split(r"\s*(?:,|\band\b|&)\s*", m.group("tags"))
    out = []
    for t in raw:
        t = re.sub(r"^(?:as|with|the|a|an|tags?|label)\s+", "", t.strip(), flags=re.I).strip(" .")
        t = re.sub(r"\s+(?:tags?|label)$", "", t, flags=re.I)
        if t and len(t.split()) <= 3:
            out.append(t.lower().replace(" ", "-"))
    return out


def _fuzzy_one(word: str, options: list[str], cutoff: float = 80) -> str | None:
    from rapidfuzz import fuzz, process  # ~17 ms: only understanding a typed request pays for it

    if not options or not word:
        return None
    hit = process.extractOne(word.lower(), {o: o.lower() for o in options}, scorer=fuzz.ratio, score_cutoff=cutoff)
    return hit[2] if hit else None


def _fmt(dt: datetime) -> str:
    return f"{dt:%a} {dt.day} {dt:%b} {dt:%H:%M}"


# ---------------------------------------------------------------------------------------
# Frames: calendar
# ---------------------------------------------------------------------------------------


def f_calendar_view(u: U) -> Plan:
    w = u.when
    topic = remainder(u, drop=CUE_WORDS | _VIEW_WORDS)
    if topic and not w and len(topic.split()) <= 4:
        return _plan(u, [_step("calendar.search", {"query": topic}, u.context)])
    if w is None:
        if u.has(r"\b(?:coming up|upcoming|ahead|agenda)\b"):
            return _plan(u, [_step("calendar.agenda", {}, u.context)])
        return _plan(u, [_step("calendar.today", {}, u.context)])
    if w.kind == "week":
        return _plan(u, [_step("calendar.week", {"offset": w.week_offset or None}, u.context)])
    if w.kind == "days":
        return _plan(u, [_step("calendar.agenda", {"days": w.days}, u.context)])
    if w.kind == "range":
        start, end = _range_args(w)
        return _plan(u, [_step("calendar.list", {"start": start, "end": end}, u.context)])
    if w.day_words == "today" and not w.has_clock:
        return _plan(u, [_step("calendar.today", {}, u.context)])
    day = w.day_words or w.day_iso()
    return _plan(u, [_step("calendar.list", {"start": day, "end": day}, u.context)])


_VIEW_WORDS = frozenset("""look like looks looking schedule plan plans planned scheduled today tomorrow week weekend busy free
happening going on have got see show list day days next upcoming coming ahead whole entire all rest morning afternoon
evening night calendar agenda diary events meetings be am are""".split())


def _range_args(w: slots.When) -> tuple[str, str]:
    assert w.begin is not None and w.until is not None
    if w.begin.time().hour == 0 and w.begin.minute == 0 and w.until.hour == 0 and w.until.minute == 0 and not w.has_clock:
        return w.begin.date().isoformat(), w.until.date().isoformat()
    return f"{w.begin:%Y-%m-%d %H:%M}", f"{w.until:%Y-%m-%d %H:%M}"


def _view_range(u: U) -> tuple[str, str, str]:
    """(from, to, the period in words) for questions about a period (default: today)."""
    w = u.when
    if w is None:
        return "today", "today", "today"
    if w.kind == "range":
        a, b = _range_args(w)
        return a, b, w.said
    if w.kind == "days" and w.begin:
        end = (w.begin + timedelta(days=(w.days or 1) - 1)).date().isoformat()
        return w.begin.date().isoformat(), end, w.said
    if w.kind == "week":  # the whole week, as 'hero calendar week' shows it
        return _week_dates(w)
    day = w.day_words or w.day_iso()
    if w.has_clock and w.begin:
        return f"{w.begin:%Y-%m-%d %H:%M}", f"{w.begin + timedelta(hours=1):%Y-%m-%d %H:%M}", w.said
    return day, day, w.said


def f_calendar_free(u: U) -> Plan:
    u.when = slots.find_when(_blank(u.text, u), purpose="view")
    start, end, said = _view_range(u)
    return _plan(u, [_step("calendar.list", {"start": start, "end": end}, u.context)], question=f"free:{said}")


def f_calendar_count(u: U) -> Plan:
    u.when = slots.find_when(_blank(u.text, u), purpose="view")
    start, end, said = _view_range(u)
    return _plan(u, [_step("calendar.list", {"start": start, "end": end}, u.context)], question=f"count:{said}")


def f_calendar_next(u: U) -> Plan:
    topic = remainder(u, drop=CUE_WORDS | _VIEW_WORDS | frozenset(["soon", "later"]))
    if topic:  # "any deadlines coming up", "when is my next dentist appointment"
        return _plan(u, [_step("calendar.search", {"query": topic}, u.context)])
    return _plan(u, [_step("calendar.next", {}, u.context)])


def f_calendar_last_with(u: U) -> Plan:
    who = _person(u)
    last = bool(u.has(r"\b(?:last|previous|latest|did)\b"))
    return _plan(u, [_step("calendar.search", {"query": who.label}, u.context)],
                 question=f"{'last' if last else 'next'}:{who.label}")


def f_calendar_search(u: U) -> Plan:
    words = remainder(u, drop=CUE_WORDS | _VIEW_WORDS)
    if not words:
        raise Ask("Which event? Say its title, e.g. 'when is the budget review'.")
    hit = _target(u, "event", words, required=False, floor=0.6)
    query = hit.label if hit else words
    return _plan(u, [_step("calendar.search", {"query": query}, u.context)])


_PLACE = re.compile(r"\b(?:at|in)\s+(?P<place>(?:room|the\s+)?[A-Z0-9][\w'’-]*(?:\s+[A-Z0-9][\w'’-]*)*|room\s+\w+(?:\s+\d+)?)", re.U)
_ADD_CUES = re.compile(
    r"^(?:(?:i\s+)?(?:need|want|have|got|would like)\s+to\s+(?:get\s+|go\s+to\s+|have\s+|do\s+)?|i\s+have\s+(?:a\s+|an\s+)?|"
    r"(?:add|schedule|book|create|put|plan|set\s+up|setup|set|arrange|organi[sz]e|block(?:\s+out)?|reserve|pencil\s+in|"
    r"remind\s+me\s+(?:to|about)|new\s+event|new\s+appointment|new\s+meeting|make)\b[\s:]*)", re.I)


def f_calendar_add(u: U) -> Plan:
    w, first_day = _repeat_start(u)
    place, place_span = _place(u.text, w)
    title = _event_title(u, [s for s in (place_span, first_day) if s])
    if not title:
        raise Ask("What is the event? Say a title and a time, e.g. 'add lunch with Alex tomorrow at 12:30'.")
    if w is None or w.begin is None:
        raise Ask(f"When is \u201c{title}\u201d? Say it with a time, e.g. 'add {title.lower()} tomorrow at 10am'.")
    args = _event_time(w, title)
    if u.duration and "duration" not in args:
        args["duration"] = u.duration.cli()
    if u.repeat:
        if u.repeat.rrule:
            args["rrule"] = u.repeat.rrule
        else:
            args["repeat"] = u.repeat.repeat
    if re.search(r"\ball[ -]day\b", u.text, re.I):
        args["all_day"] = True
    if place:
        args["location"] = place
    attendees = [cs[0].label for _a, _b, cs in u.people if len(cs) == 1 and cs[0].score >= 0.8]
    if attendees:
        args["attendees"] = list(dict.fromkeys(attendees))
    return _plan(u, [_step("calendar.add", {"title": title, **args}, u.context)])


def _repeat_start(u: U) -> tuple[slots.When | None, tuple[int, int] | None]:
    """The time of a repeating event, on the day its series starts when the words say one
    ("every thursday at 8pm starting the 10th"), and the span of those words (cut from the title)."""
    w = u.when
    if not (u.repeat and w and w.begin):
        return w, None
    for later in slots.find_all_when(u.text):
        lead = re.search(r"\b(?:starting|beginning|from|as of|effective)\s+(?:on\s+|from\s+)?$", u.text[:later.start], re.I)
        if later.start >= w.end and lead and later.dated and later.begin:
            begin = datetime.combine(later.begin.date(), w.begin.time())
            return dataclasses.replace(w, begin=begin, day_words=None), (lead.start(), later.end)
    return w, None


def _place(text: str, w: slots.When | None) -> tuple[str | None, tuple[int, int] | None]:
    """Where the event is ("at the Blue Door", "in room 4") and its span, or (None, None)."""
    for m in _PLACE.finditer(text):
        if w and w.start <= m.start() < w.end:
            continue
        cand = m.group("place").strip()
        if slots.find_when(cand) or cand.lower() in ("the", "my"):
            continue
        return cand, (m.start(), m.end())
    return None, None


def _event_title(u: U, more_cuts: list[tuple[int, int]]) -> str:
    """The title: what is left once the time, length, repetition and place are cut (or the
    quoted words); "Meeting with ..." when only people are left."""
    w = u.when
    cuts = ([(w.start, w.end)] if w else []) + ([(u.duration.start, u.duration.end)] if u.duration else []) + \
        ([(u.repeat.start, u.repeat.end)] if u.repeat else []) + more_cuts
    title_src = u.text
    for a, b in reversed(_merged(cuts)):
        title_src = title_src[:a] + " " + title_src[b:]
    title_src = re.sub(r",?\s*\ball[ -]day\b", " ", title_src, flags=re.I)
    title = u.quoted or _title(title_src)
    if not title:
        who = [c.label for _a, _b, cs in u.people if len(cs) == 1 for c in cs]
        title = "Meeting with " + " and ".join(who) if who else ""
    return title


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping ones joined: "every thursday" (a repeat) and "thursday
    evening at 8" (the time) share a word, and cutting one after the other cut the wrong letters."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _event_time(w: slots.When, title: str) -> dict[str, Any]:
    """The start (and, for a range of times, the length) of a new event, or Ask."""
    args: dict[str, Any] = {}
    if w.kind == "range" and w.until and w.has_clock:
        args["start"] = w.cli()
        mins = int((w.until - w.begin).total_seconds() // 60)
        if mins > 0:
            args["duration"] = slots.Duration(0, 0, mins).cli()
    elif w.kind in ("point", "day"):
        args["start"] = w.cli()
    else:
        raise Ask(f"When exactly is \u201c{title}\u201d? Say a day and a time, e.g. 'friday at 3pm'.")
    return args


def _title(text: str) -> str:
    t = re.sub(r"\s+", " ", text).strip(" ,:-")
    for _ in range(3):
        t = _ADD_CUES.sub("", t).strip(" ,:-")
    t = re.sub(r"^(?:and|also|then|a|an|the|my|our)\s+", "", t, flags=re.I)
    t = re.sub(r"^(?:a|an|the|my|our)\s+", "", t, flags=re.I)
    if t.lower() in ("and", "also", "then", "it", "that", "this", "something", "thing", "one"):
        return ""
    t = re.sub(r"\s+(?:to|in|into|on)\s+(?:my|the)\s+(?:calendar|agenda|diary|schedule)\b", "", t, flags=re.I)
    t = re.sub(r"^(?:for|to)\s+(?:(?:a|an|the|my|our)\s+)?", "", t, flags=re.I)
    t = re.sub(r"(?:\s+(?:for|at|on|in|from|with|to|and|every|each))+$", "", t, flags=re.I).strip(" ,:-")
    t = re.sub(r"^(?:(?:an?\s+)?(?:event|appointment|meeting)\s+(?:called|named|titled)\s+)", "", t, flags=re.I)
    t = re.sub(r"^(?:called|named|titled)\s+", "", t, flags=re.I)
    t = re.sub(r"\s{2,}", " ", t).strip(" ,")
    return t[:1].upper() + t[1:] if t else ""


def _event_words(u: U, extra: frozenset[str] = frozenset()) -> str:
    return remainder(u, drop=CUE_WORDS | _MOVE_WORDS | extra)


_MOVE_WORDS = frozenset("""moved move reschedule rescheduled shift push pushed postpone postponed bring brought forward
back later earlier instead got has been be now same time day week next to from new""".split())


def _event_start(u: U, eid: str) -> datetime | None:
    """The next (or, failing that, the first) start of an event, wall clock in the user's zone."""
    if u.live.event_info.get(eid, {}).get("rrule"):

        try:
            ev = _read(u, "calendar.show", {"id": eid})
            if ev.upcoming:
                return ev.upcoming[0].astimezone(timeparse.local_zone()).replace(tzinfo=None)
        except Exception:
            pass
    start = next((s for e, _t, s, _n in u.live.events if e == eid), None)
    if start is None:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    return start.astimezone(timeparse.local_zone()).replace(tzinfo=None)


def _occurrence(u: U, eid: str, day) -> datetime | None:
    """The start of the event's occurrence on ``day`` (expanded through the calendar verb)."""

    try:
        occ = _read(u, "calendar.list", {"start": day.isoformat(), "end": day.isoformat()})
    except Exception:
        return None
    for o in occ:
        if o.id == eid:
            return o.start.astimezone(timeparse.local_zone()).replace(tzinfo=None)
    return None


def f_calendar_move(u: U) -> Plan:
    _read_move(u)
    origin_day, w = _day_to_day(u.when)
    ev = getattr(u, "pinned_event", None) or _target(u, "event", _event_words(u))
    assert ev is not None
    current = (_occurrence(u, ev.id, origin_day) if origin_day else None) or _event_start(u, ev.id)
    args: dict[str, Any] = {"id": ev.id}
    target, args["start"] = _move_to(u, ev, w, current)
    series = bool(u.live.event_info.get(ev.id, {}).get("rrule"))
    one = None  # the day of the one occurrence of a series that moves
    if series:
        one, current, scope = _series_scope(u, ev, w, current, origin_day)
        args.update(scope)
    if current is not None and target == current:
        raise Ask(f"\u201c{ev.label}\u201d is already at {_fmt(current)}: nothing to change.")
    change = f"{ev.label}: {_fmt(current) if current else '?'} \u2192 {_fmt(target)}"
    if one is not None:
        change += " (only that occurrence)"
    elif series:
        change += " (the whole series)"  # the verb's scope adds how many occurrences, from when
    return _plan(u, [_step("calendar.update", args, u.context)], change=f"Move {change}", confirm=True)


def _read_move(u: U) -> None:
    """"move my 4pm meeting to 5": the first time names the event (pinned on ``u`` when it is
    found), the second is where it goes (``u.when``)."""
    whens = slots.find_all_when(_blank(u.text, u))
    if u.when is not None and u.when.kind == "range" and u.when.has_clock and u.when.begin and u.when.until:
        # "move my 4 o'clock to 6pm" reads as one range: from the first time to the second
        w0 = u.when
        whens = [slots.When(w0.start, w0.end, w0.said, "point", w0.begin, has_clock=True, dated=w0.dated),
                 slots.When(w0.start, w0.end, w0.said, "point", w0.until, has_clock=True, dated=w0.dated)]
    elif not (len(whens) == 2 and bool(re.search(r"\bto\s+$", u.text[:whens[1].start]) or re.match(r"to\b", whens[1].said))):
        return
    origin, target_w = whens
    u.when = origin
    probe = _target(u, "event", _event_words(u), required=False)
    if probe is not None:
        if not target_w.dated and origin.dated:
            target_w.begin = datetime.combine(origin.begin.date(), target_w.begin.time())
            target_w.dated = True
        u.when = target_w
        u.pinned_event = probe


def _day_to_day(w: slots.When | None) -> tuple[date | None, slots.When | None]:
    """"from wednesday to thursday": (the day it leaves, the day it goes to); else (None, w)."""
    if w and w.kind == "range" and not w.has_clock and w.begin and w.until:
        new = slots.When(w.start, w.end, w.said, "day", w.until, day_words=None)
        new.begin = w.until
        return w.begin.date(), new
    return None, w


def _move_to(u: U, ev: slots.Candidate, w: slots.When | None, current: datetime | None) -> tuple[datetime, str]:
    """(the new start, as the plan's start argument says it), or Ask."""
    if u.shift and current:
        target = current + u.shift[2]
        return target, f"{target:%Y-%m-%d %H:%M}"
    if w is None or w.begin is None:
        raise Ask(f"When should \u201c{ev.label}\u201d move to? e.g. 'move it to friday at 3pm'.")
    if w.kind == "point" and not w.dated and current:
        target = datetime.combine(current.date(), w.begin.time())
        return target, f"{target:%Y-%m-%d %H:%M}"
    if w.kind in ("point", "day"):
        target = w.begin if w.kind == "point" else datetime.combine(w.begin.date(), current.time() if current else w.begin.time())
        return target, (w.cli() if w.kind == "point" else (w.day_words or w.day_iso()))
    raise Ask(f"Move \u201c{ev.label}\u201d to when exactly? Say a day or a time.")


def _series_scope(u: U, ev: slots.Candidate, w: slots.When | None, current: datetime | None,
                  origin_day: date | None) -> tuple[date | None, datetime | None, dict[str, str]]:
    """What of a series moves: (the day of the one occurrence that moves or None for all of
    them, that occurrence's start, the arguments that say so)."""
    if not _SERIES_WORDS.search(u.text) and current is not None and (origin_day or (w and w.dated) or u.shift):
        one = origin_day or current.date()
        if w is not None and w.dated and not origin_day and not u.shift:
            on_day = _occurrence(u, ev.id, w.begin.date())  # "move the standup on friday to 10": that one
            if on_day is not None:
                one, current = on_day.date(), on_day
                if w.kind == "day":
                    raise Ask(f"Move \u201c{ev.label}\u201d of {_fmt(current)} to when? Say a time or another day.")
        return one, current, {"occurrence": f"{current:%Y-%m-%d %H:%M}"}
    if w is not None and w.kind == "point" and not w.dated and not u.shift:
        first = next((s for e, _t, s, _n in u.live.events if e == ev.id), None)  # every occurrence at the new time:
        if first is not None:  # the series keeps its first day
            first_local = (first if first.tzinfo else first.replace(tzinfo=__import__("datetime").timezone.utc))
            first_local = first_local.astimezone(timeparse.local_zone()).replace(tzinfo=None)
            return None, current, {"start": f"{datetime.combine(first_local.date(), w.begin.time()):%Y-%m-%d %H:%M}"}
    return None, current, {}


def f_calendar_change(u: U) -> Plan:
    args: dict[str, Any] = {}
    m = re.search(r"\b(?:location|place|venue|room)\b.*?\bto\s+(?P<v>.+)$|\bis\s+(?:now\s+)?(?:at|in)\s+(?P<v2>.+)$|"
                  r"\bmove\s+.+?\bto\s+(?P<v3>room\s+.+|the\s+.+room.*)$", u.text, re.I)
    rename = re.search(r"\b(?:rename|retitle|call)\b.+?\b(?:to|as)\s+(?P<v>.+)$|\btitle\b.+?\bto\s+(?P<v2>.+)$", u.text, re.I)
    if rename and not m:
        args["title"] = (rename.group("v") or rename.group("v2")).strip(" '\"")
        left = u.text[:rename.start("v") if rename.group("v") else rename.start("v2")]
    elif m:
        args["location"] = (m.group("v") or m.group("v2") or m.group("v3")).strip(" '\"")
        cut = m.start("v") if m.group("v") else (m.start("v2") if m.group("v2") else m.start("v3"))
        left = u.text[:cut]
    elif u.duration:
        args["duration"] = u.duration.cli()
        left = u.text[:u.duration.start]
    else:
        raise Ask("What should change: the title, the place or the length?")
    sub = U(raw=u.raw, text=left, live=u.live, context=u.context, known=u.known)
    words = remainder(sub, drop=CUE_WORDS | _MOVE_WORDS | frozenset("location place venue title name length room make last".split()))
    ev = _target(u, "event", words)
    assert ev is not None
    return _plan(u, [_step("calendar.update", {"id": ev.id, **args}, u.context)])


_SERIES_WORDS = re.compile(r"\b(?:all|every|each|series|recurring|whole|entire|altogether|for good|permanently|from now on)\b", re.I)


def f_calendar_cancel(u: U) -> Plan:
    words = _event_words(u, frozenset("skip cancelled canceled off called call".split()) - {"call"})
    ev = _target(u, "event", words) if words or (u.when and u.when.has_clock) else None
    if ev is None:
        raise Ask("Which event should I cancel? Say its title.")
    info = u.live.event_info.get(ev.id, {})
    series = bool(info.get("rrule"))
    w = u.when
    if series and not _SERIES_WORDS.search(u.text):
        if w is None or w.begin is None:
            nxt = _event_start(u, ev.id)
            raise Ask(f"\u201c{ev.label}\u201d repeats. Cancel one occurrence (say which day) or all of them (say 'all')?"
                      + (f" The next is {_fmt(nxt)}." if nxt else ""))
        day = w.begin.date()
        occ = _occurrence(u, ev.id, day)
        if occ is None:
            raise Ask(f"\u201c{ev.label}\u201d does not happen on {day:%a} {day.day} {day:%b}.")
        return _plan(u, [_step("calendar.update", {"id": ev.id, "skip": [f"{occ:%Y-%m-%d %H:%M}"]}, u.context)],
                     change=f"Cancel {ev.label} on {_fmt(occ)} (only that occurrence)", confirm=True)
    change = f"Delete {ev.label}" + (" (the whole series)" if series else "")
    return _plan(u, [_step("calendar.delete", {"id": ev.id}, u.context)], change=change, confirm=True)


# ---------------------------------------------------------------------------------------
# Frames: contacts
# ---------------------------------------------------------------------------------------

_FIELD_WORDS = {
    "email": r"e-?mail|mail address|email address", "phone": r"phone|number|mobile|cell|telephone|tel",
    "company": r"company|employer|organi[sz]ation|works?\s+(?:at|for)", "role": r"role|job|title|position",
    "birthday": r"birthday|born|birth date|date of birth", "address": r"address|live|lives",
}


def _field(u: U) -> str | None:
    for name, rx in _FIELD_WORDS.items():
        if re.search(rf"\b(?:{rx})\b", u.text, re.I):
            return name
    return None


def f_contact_show(u: U) -> Plan:
    if not u.people:
        _person(u, required=False)  # "change her phone number": whose?
        words = remainder(u, drop=CUE_WORDS | frozenset("email mail phone number mobile telephone cell address birthday "
                                                        "company role job details info card".split()))
        if not words:
            raise Ask("Whose details? Say a name, e.g. 'show Alex Smith'.")
        name = _NEW_NAME.search(words)
        if name:  # a name no contact has: say so (searching would only find near spellings of others)
            raise Ask(f"I don't know a contact called {name.group(0)} in {u.context}. "
                      f"Say 'add {name.group(0)}' to create one.")
        return _plan(u, [_step("contact.search", {"query": words}, u.context)], question=f"field:{_field(u) or ''}")
    who = _person(u)
    assert who is not None
    field_asked = _field(u)
    if field_asked:  # "what's Marie's email": the card found by her full name, the reply names the field
        return _plan(u, [_step("contact.search", {"query": who.label, "limit": 1}, u.context)], question=f"field:{field_asked}")
    return _plan(u, [_step("contact.show", {"id": who.id}, u.context)])


def f_contact_find(u: U) -> Plan:
    drop = CUE_WORDS | frozenset("people person someone anyone everyone know work works working guy woman man colleague "
                                 "contact".split())
    words = remainder(u, drop=drop)
    if not words:
        return _plan(u, [_step("contact.list", {}, u.context)])
    if len(words.split()) <= 3:  # "who do I know at Globex": everyone at that company, not a fuzzy search
        comp = _fuzzy_one(words, sorted(_companies(u.live)), 85) or next(
            (c for c in _companies(u.live) if c.lower().split()[0] == words.lower()), None)
        if comp:
            return _plan(u, [_step("contact.list", {"company": comp}, u.context)])
    return _plan(u, [_step("contact.search", {"query": words}, u.context)])


def f_contact_list(u: U) -> Plan:
    words = remainder(u, drop=CUE_WORDS | frozenset("all people everyone everybody tagged label labelled labeled works "
                                                    "working who".split()), keep_people=False)
    args: dict[str, Any] = {}
    for w in words.split():
        tag = _fuzzy_one(w, u.live.tags, 80)
        if tag:
            args["tag"] = tag
            break
        comp = _fuzzy_one(w, sorted(_companies(u.live)), 70) or _fuzzy_one(w, [c.split()[0] for c in _companies(u.live)], 80)
        if comp:
            full = next((c for c in _companies(u.live) if c.lower().startswith(comp.lower())), comp)
            args["company"] = full.split()[0] if len(full.split()) > 1 else full
            break
    return _plan(u, [_step("contact.list", args, u.context)])


_RELATION = r"(?:my\s+)?(?:new\s+)?(?:cousin|neighbou?r|friend|colleague|coworker|co-worker|boss|aunt|uncle|sister|brother|" \
            r"mom|mum|dad|mother|father|client|dentist|doctor|babysitter|plumber|accountant|lawyer|partner|wife|husband)"


def f_contact_create(u: U) -> Plan:
    t = u.text
    for x in u.emails + u.phones:
        t = t.replace(x, " ")
    args: dict[str, Any] = {}
    tags = _tags_after(u, r"\b(?:and\s+)?(?:tag|tags|label)\s+(?:(?:him|her|them|it|as)\s+)*(?P<tags>[\w\s,&-]+?)(?:$|,\s*(?:email|phone))")
    t = re.sub(r",?\s*\b(?:and\s+)?(?:tag|tags|label)\s+(?:(?:him|her|them|it|as)\s+)*[\w\s,&-]+$", "", t, flags=re.I)
    bday = re.search(r"\b(?:birthday|born(?:\s+on)?)\s*(?:is\s+|on\s+)?(?P<d>\d{4}-\d{2}-\d{2}|[\w\s]+?\d{4})\b", t, re.I)
    if bday:
        d = _date_value(bday.group("d"))
        if d:
            args["birthday"] = d
        t = t[:bday.start()] + t[bday.end():]
    comp = re.search(r"\b(?:from|at|of|with|who works (?:at|for)|works (?:at|for)|working (?:at|for))"
                     r"\s+(?P<c>[A-Z][\w&.'-]*(?:\s+[A-Z][\w&.'-]*)*)", t)
    if comp:
        args["company"] = comp.group("c").strip()
        t = t[:comp.start()] + t[comp.end():]
    name = None
    m = re.search(r"\b(?:called|named|name is|name's)"
                  r"\s+(?P<n>[A-Z\u00C0-\u024F][\w\u00C0-\u024F'-]*(?:\s+[A-Z\u00C0-\u024F][\w\u00C0-\u024F'-]*){0,3})", t)
    if m:
        name = m.group("n")
    if not name:
        core = re.sub(r"\b(?:as|to)\s+(?:a\s+|my\s+)?(?:new\s+)?contacts?\b.*$"
                      r"|\b(?:to|in|into)\s+(?:my\s+)?(?:contacts|address book)\b.*$", "", t, flags=re.I)
        core = re.sub(r"^.*?\b(?:add|create|save|new contact|contact for|contact|put|remember|make)\b[\s:]*", "", core, flags=re.I)
        core = re.sub(rf"^(?:a\s+)?(?:new\s+)?(?:contact\s+)?(?:for\s+)?{_RELATION}\s+", "", core.strip(), flags=re.I)
        core = re.split(r"\s*(?:,|;|\bphone\b|\be-?mail\b|\band\b|\bwho\b|\bat\b|\bwith\b)\s*", core.strip())[0]
        words = [w for w in core.split() if w.lower() not in ("a", "an", "the", "new", "contact", "her", "him", "them")]
        name = " ".join(words[:4])
    if not name or not re.search(r"[A-Za-z\u00C0-\u024F]", name):
        raise Ask("What is the new contact's name? e.g. 'add Ana Silva, ana@example.com'.")
    if name == name.lower():
        name = " ".join(p[:1].upper() + p[1:] for p in name.split())
    if u.emails:
        args["emails"] = u.emails
    if u.phones:
        args["phones"] = u.phones
    if tags:
        args["tags"] = tags
    same = [cid for cid, n in u.live.contacts if n.lower() == name.lower()
            and (not args.get("company") or (u.live.people.get(cid, {}).get("company") or "").lower() == args["company"].lower())]
    if same:
        raise Ask(f"You already have {name}" + (f" ({args['company']})" if args.get("company") else "")
                  + ". Say 'show " + name + "' to see the card, or add them with another name.")
    return _plan(u, [_step("contact.create", {"name": name, **args}, u.context)])


def _date_value(text: str) -> str | None:
    t = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        return t
    try:
        import dateparser  # ~80 ms: only understanding a typed request pays for it

        d = dateparser.parse(t, languages=["en"], settings={"PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month"]})
    except Exception:
        d = None
    if d is None:
        try:
            return timeparse.parse_when(t).date().isoformat()
        except Exception:
            return None
    return d.date().isoformat()


def f_contact_update(u: U) -> Plan:
    who = _person(u)
    assert who is not None
    after = u.text[u.people[0][1]:] if u.people else u.text  # no name said: "her" (the record of the request before)
    args: dict[str, Any] = {}
    if u.emails:
        args["emails"] = u.emails
    if u.phones:
        args["phones"] = u.phones
    m = re.search(r"\bname\b.*?(?:\bto\b|\bis\b|,\s*(?:it is|it's|now))\s+(?P<v>[A-Z\u00C0-\u024F][\w\u00C0-\u024F' -]+?)(?:\s+now)?$", u.text, re.I)
    if m:
        args["name"] = m.group("v").strip()
    role = re.search(r"\b(?:is now|now|became|promoted to|new role is|role (?:is|to)|is(?=\s+[\w &/-]+\s+now\b)|"
                     r"(?:is\s+)?(?:moving|moves|moved|stepping|steps|stepped) into|(?:is\s+)?tak(?:ing|es) over as)"
                     r"\s+(?:the\s+|a\s+|an\s+)?(?P<v>[\w &/-]+?)(?:\s+(?:role|position|job))?"
                     r"(?:\s+(?:at|with|for)\s+(?P<c>[\w &.-]+?))?(?:\s+now)?(?:,|$)", after, re.I)
    moved = re.search(r"\b(?:moved to|joined|works (?:at|for)|is (?:now )?(?:at|with)|switched to|left \w+ for|now at)"
                      r"\s+(?P<c>[A-Z\w][\w &.'-]*?)(?:\s+now)?(?:,|$)", after, re.I)
    if "birthday" in u.low:
        d = re.search(r"\b(?:to|is)\s+(?P<d>.+)$", after, re.I)
        v = _date_value(d.group("d")) if d else None
        if not v:
            raise Ask(f"What is {who.label}'s birthday? Say it as a date, e.g. '12 april 1988'.")
        args["birthday"] = v
    elif moved and not args.get("name"):
        args["company"] = _known_company(u, moved.group("c").strip())
    elif role and "role" in u.low or (role and re.search(r"\b(?:head|director|manager|lead|chief|vp|cto|ceo|cfo|engineer)\b", role.group("v"), re.I)):
        args["role"] = role.group("v").strip()
        if role.group("c"):
            args["company"] = _known_company(u, role.group("c").strip())
    elif not args:
        raise Ask(f"What should change for {who.label}: email, phone, company, role, birthday or name?")
    args = {k: v for k, v in args.items() if v}
    change = ", ".join(f"{k} \u2192 {', '.join(v) if isinstance(v, list) else v}" for k, v in args.items())
    return _plan(u, [_step("contact.update", {"id": who.id, **args}, u.context)], change=f"Update {who.label}: {change}",
                 confirm=who.score < 0.9 or bool(args.get("name")))


def _known_company(u: U, said: str) -> str:
    hit = _fuzzy_one(said, sorted(_companies(u.live)), 75)
    if hit:
        return hit
    first = _fuzzy_one(said.split()[0], [c.split()[0] for c in _companies(u.live)], 85)
    if first:
        return next(c for c in _companies(u.live) if c.split()[0] == first)
    return said[:1].upper() + said[1:]




def _tags(u: U) -> list[str]:
    start = u.people[0][1] if u.people else 0
    tail = u.text[start:]
    tail = re.sub(r"^\s*(?:'s)?\s*(?:as|with|to)?\s*", "", tail)
    tail = re.sub(r"\b(?:tag|tags|label)\b", " ", tail, flags=re.I)
    parts = re.split(r"\s*(?:,|\band\b|&)\s*", tail)
    out = []
    for p in parts:
        p = re.sub(r"^(?:as|with|the|a|an)\s+", "", p.strip(), flags=re.I).strip()
        if p and len(p.split()) <= 3 and not slots.NOT_TAG.search(p):
            out.append(p.lower().replace(" ", "-"))
    return out


def f_contact_tag(u: U, untag: bool = False) -> Plan:
    who = _person(u)
    assert who is not None
    others = [cs[0] for _a, _b, cs in u.people[1:] if len(cs) == 1]
    if others and not untag and re.search(r"\band\b", u.text[u.people[0][1]:u.people[1][0]]):  # "tag Alex and Emma as vip"
        m = re.search(r"\b(?:as|with)\s+(?P<t>[\w ,&-]+)$", u.text, re.I)
        if m:
            tags = [t.strip().lower().replace(" ", "-") for t in re.split(r"\s*(?:,|\band\b|&)\s*", m.group("t")) if t.strip()]
            steps = [_step("contact.tag", {"id": c.id, "tags": tags}, u.context) for c in [who, *others]]
            return _plan(u, steps)
    if untag:
        m = re.search(r"\b(?:remove|take off|drop|delete)\s+(?:the\s+)?(?P<t>[\w -]+?)\s+(?:tag|label)s?\s+from\b", u.text, re.I) \
            or re.search(r"\b(?:tag|label)s?\s+(?P<t>[\w -]+?)\s+from\b", u.text, re.I)
        tags = [m.group("t").strip().lower()] if m else _tags(u)
        tags = [_fuzzy_one(t, u.live.people.get(who.id, {}).get("tags", []), 75) or t for t in tags]
    else:
        m = re.search(r"\b(?:tag|label|mark)\s+(?P<t>[\w, &-]+?)\s+(?:to|on)\b", u.text, re.I)
        tags = (_tags_after(u, r"\b(?:tags?|label)\s+(?P<tags>[\w\s,&-]+?)\s+(?:to|on)\b")
                if m and u.text.lower().find(" to ") > m.start() else _tags(u))
    tags = [t for t in tags if t and t not in ("him", "her", "them", "it")]
    if not tags:
        raise Ask(f"Which tag for {who.label}? e.g. 'tag {who.label} as vip'.")
    verb = "contact.untag" if untag else "contact.tag"
    return _plan(u, [_step(verb, {"id": who.id, "tags": tags}, u.context)])


def f_contact_delete(u: U) -> Plan:
    who = _person(u)
    assert who is not None
    return _plan(u, [_step("contact.delete", {"id": who.id}, u.context)], change=f"Delete the contact {who.label}")


def f_contact_import(u: U) -> Plan:
    if not u.paths:
        raise Ask("Which file? e.g. 'import contacts from ~/Downloads/contacts.vcf'.")
    return _plan(u, [_step("contact.import", {"path": u.paths[0]}, u.context)])


def f_contact_export(u: U) -> Plan:
    args = {"output": u.paths[0]} if u.paths else {}
    tag = next((t for t in u.live.tags if re.search(rf"\b{re.escape(t)}\b", u.low)), None)
    if tag:
        args["tag"] = tag
    return _plan(u, [_step("contact.export", args, u.context)])


# ---------------------------------------------------------------------------------------
# Frames: documents and decks
# ---------------------------------------------------------------------------------------

_DOC_WORDS = frozenset("""doc docs document documents file files report paper notes note brief say says said content contents
text summary summarise summarize gist tldr read open show view give quick short what does do tell main points""".split())


def _doc(u: U, words: str | None = None, kind: str = "document") -> slots.Candidate:
    words = remainder(u, drop=CUE_WORDS | _DOC_WORDS, keep_people=True) if words is None else words
    if not words:
        pinned = _pinned_target(u, kind, "", _records(u, kind))  # "... and link it to Camille": the one before
        if pinned is not None:
            return pinned
        raise Ask(f"Which {kind}? Say words from its title.")
    hit = _target(u, kind, words)
    assert hit is not None
    return hit


def f_document_list(u: U) -> Plan:
    args: dict[str, Any] = {}
    linked = re.search(r"\b(?:linked|attached|go(?:es)? with|belong(?:s|ing)? (?:to|with)|for|about|from)\b", u.low)
    if linked:  # "which docs go with the quarterly report review meeting": that event's documents
        words = remainder(u, drop=CUE_WORDS | _DOC_WORDS | frozenset("go goes belong belongs linked attached related "
                                                                     "recent recently which are".split()),
                          keep_people=False)  # "linked to Alex" is the contact filter below
        ev, _c = slots.pick(slots.rank(words, _records(u, "event")), floor=0.75)
        if ev is not None and len(words.split()) >= 2:
            return _plan(u, [_step("document.list", {"event": ev.id}, u.context)])
    named = {w for a, b, _c in u.people for w in slots.words(u.text[a:b])}  # "Alex" is the person, not the tag alex
    tag = next((t for t in u.live.tags if t not in named and re.search(rf"\b{re.escape(t)}\b", u.low)), None)
    if tag:
        args["tag"] = tag
    if u.people and len(u.people[0][2]) == 1:
        args["contact"] = u.people[0][2][0].label
    kind = re.search(r"\b(pdf|markdown|html|text)s?\b", u.low)
    if kind:
        args["kind"] = kind.group(1)
    return _plan(u, [_step("document.list", args, u.context)])


def f_document_find(u: U) -> Plan:
    words = remainder(u, drop=CUE_WORDS | _DOC_WORDS | frozenset("mention mentions mentioning contain containing cover covers".split()))
    if not words:
        return _plan(u, [_step("document.list", {}, u.context)])
    return _plan(u, [_step("document.search", {"query": words}, u.context)])


def f_document_read(u: U) -> Plan:
    doc = _doc(u)
    if u.has(r"\b(?:say|says|said|content|contents|text)\b"):
        verb = "document.text"
    elif u.has(r"\b(?:details|info|metadata|properties)\b"):
        verb = "document.show"
    else:
        verb = "document.open"
    return _plan(u, [_step(verb, {"id": doc.id}, u.context)])


def f_document_summarize(u: U) -> Plan:
    n = re.search(r"\b(?:in|to|with)\s+(\d{1,2})\s+(?:sentences|lines|points|bullets)\b", u.text, re.I)
    if n:
        u = dataclasses.replace(u, text=slots.cut(u.text, n.start(), n.end()), when=None, duration=None, shift=None,
                                repeat=None, people=[])  # spans of the old text do not fit the new one
    doc = _doc(u)
    return _plan(u, [_step("document.summarize", {"id": doc.id, "sentences": int(n.group(1)) if n else None}, u.context)])


def f_document_add(u: U) -> Plan:
    if not u.paths:
        raise Ask("Which file or folder? e.g. 'add ~/Downloads/report.pdf to my documents'.")
    tags = _tags_after(u, r"\b(?:tag|tagged|label)\s+(?:(?:it|them|as|with)\s+)*(?P<tags>[\w\s,&-]+)$")
    return _plan(u, [_step("document.add", {"paths": u.paths, "tags": tags}, u.context)])


def _split_to(u: U) -> tuple[str, str]:
    m = re.search(r"\s(?:to|with)\s(?!.*\s(?:to|with)\s)", u.text)
    if not m:
        raise Ask("Link it to whom or to which event? e.g. 'link the budget notes to Alex'.")
    return u.text[:m.start()], u.text[m.end():]


def _link(u: U, kind: str) -> Plan:
    left, right = _split_to(u)
    sub = U(raw=u.raw, text=left, live=u.live, context=u.context, known=u.known)
    item = _doc(sub, remainder(sub, drop=CUE_WORDS | _DOC_WORDS | frozenset(["link", "linked", "connect"])), kind)
    people = slots.contact_mentions(right, u.live.contacts)
    args: dict[str, Any] = {"id": item.id}
    sub2 = U(raw=u.raw, text=right, live=u.live, context=u.context, known=u.known)
    event_words = remainder(sub2, drop=CUE_WORDS | frozenset(["meeting", "event", "call"]))
    strong_event, _c = slots.pick(slots.rank(event_words, _records(u, "event")), floor=0.75)
    if strong_event is not None and (not people or len(people[0][2]) != 1 or len(event_words.split()) > 1):
        args["events"] = [strong_event.id]
    elif people and len(people[0][2]) == 1:
        args["contacts"] = [people[0][2][0].label]
    else:
        sub2 = U(raw=u.raw, text=right, live=u.live, context=u.context, known=u.known)
        ev = _target(u, "event", remainder(sub2, drop=CUE_WORDS | frozenset(["meeting", "event", "call"])))
        assert ev is not None
        args["events"] = [ev.id]
    return _plan(u, [_step("slides.link" if kind == "deck" else "document.link", args, u.context)])


def f_document_link(u: U) -> Plan:
    return _link(u, "document")


def f_slides_link(u: U) -> Plan:
    return _link(u, "deck")


def f_document_tag(u: U, untag: bool = False) -> Plan:
    rm = re.search(r"\b(?:remove|delete|drop|take off)\s+(?:the\s+)?(?P<t>[\w-]+)\s+(?:tag|label)\s+from\s+(?P<rest>.+)$", u.text, re.I)
    if rm:  # "remove the research tag from the onboarding doc"
        sub = U(raw=u.raw, text=rm.group("rest"), live=u.live, context=u.context, known=u.known)
        doc = _doc(sub, remainder(sub, drop=CUE_WORDS | _DOC_WORDS))
        return _plan(u, [_step("document.untag", {"id": doc.id, "tags": [rm.group("t").lower()]}, u.context)])
    m = re.search(r"\b(?:as|with)\s+(?P<t>[\w ,&-]+)$|\b(?:tag|tags|label)\s+(?P<t2>[\w ,&-]+?)\s+(?:to|on|from)\b", u.text, re.I)
    if not m:
        raise Ask("Which tag? e.g. 'tag the onboarding research as ux'.")
    raw = m.group("t") or m.group("t2")
    tags = [t.strip().lower().replace(" ", "-") for t in re.split(r"\s*(?:,|\band\b|&)\s*", raw) if t.strip()]
    left = u.text[:m.start()] if m.group("t") else u.text[m.end():]
    sub = U(raw=u.raw, text=left, live=u.live, context=u.context, known=u.known)
    doc = _doc(sub, remainder(sub, drop=CUE_WORDS | _DOC_WORDS))
    return _plan(u, [_step("document.untag" if untag else "document.tag", {"id": doc.id, "tags": tags}, u.context)])


def f_document_export(u: U) -> Plan:
    out = u.paths[-1] if u.paths else None
    t = u.text
    if out:
        t = t.replace(out, " ")
    sub = U(raw=u.raw, text=t, live=u.live, context=u.context, known=u.known)
    doc = _doc(sub, remainder(sub, drop=CUE_WORDS | _DOC_WORDS | frozenset(["copy", "folder", "desktop", "downloads"])))
    return _plan(u, [_step("document.export", {"id": doc.id, "output": out}, u.context)])


def f_document_delete(u: U) -> Plan:
    doc = _doc(u)
    return _plan(u, [_step("document.delete", {"id": doc.id}, u.context)], change=f"Delete the document {doc.label}")


def f_slides_list(u: U) -> Plan:
    tag = next((t for t in u.live.tags if re.search(rf"\b{re.escape(t)}\b", u.low)), None)
    return _plan(u, [_step("slides.list", {"tag": tag}, u.context)])


def f_slides_create(u: U) -> Plan:
    if not u.paths:
        raise Ask("From which Markdown file? e.g. 'create a deck from ~/talks/kickoff.md'.")
    title = re.search(r"\b(?:titled|called|named|with the title)\s+['\"]?(?P<t>[^'\"]+?)['\"]?\s*$", u.text, re.I)
    return _plan(u, [_step("slides.create", {"path": u.paths[0], "title": title.group("t") if title else None}, u.context)])


_DECK_WORDS = frozenset("deck decks slides slide presentation presentations talk slideshow pitch present start play run".split())


def f_slides_present(u: U) -> Plan:
    words = remainder(u, drop=CUE_WORDS | _DECK_WORDS | _DOC_WORDS | frozenset(["best", "find", "get"]))
    if not words:
        raise Ask("Which deck? Say words from its title or the person it is for.")
    cands = slots.rank(words, _records(u, "deck"))
    best, _close = slots.pick(cands, floor=0.6)
    if best is not None:
        return _plan(u, [_step("slides.present", {"id": best.id}, u.context)])
    return _plan(u, [_step("slides.present", {"best": words.lower()}, u.context)])


def f_slides_show(u: U) -> Plan:
    m = re.search(r"\b(?:slide|page)\s+(?:number\s+)?(\d+)|\b(\d+)(?:st|nd|rd|th)\s+slide", u.text, re.I)
    n = int(m.group(1) or m.group(2)) if m else None
    t = u.text[:m.start()] + " " + u.text[m.end():] if m else u.text
    sub = U(raw=u.raw, text=t, live=u.live, context=u.context, known=u.known)
    deck = _doc(sub, remainder(sub, drop=CUE_WORDS | _DECK_WORDS), "deck")
    return _plan(u, [_step("slides.show", {"id": deck.id, "slide": n}, u.context)])


def f_slides_delete(u: U) -> Plan:
    deck = _doc(u, remainder(u, drop=CUE_WORDS | _DECK_WORDS), "deck")
    return _plan(u, [_step("slides.delete", {"id": deck.id}, u.context)], change=f"Delete the deck {deck.label}")


# ---------------------------------------------------------------------------------------
# Frames: knowledge, search, contexts, history, out of scope
# ---------------------------------------------------------------------------------------

_KB_WORDS = frozenset("knowledge base manual docs documentation handbook help guide book books page pages say says ask "
                      "check explain tell me how works work".split())


def f_knowledge_ask(u: U) -> Plan:
    question = re.sub(r"^(?:ask|check)\s+(?:the\s+)?(?:manual|docs|documentation|knowledge base|handbook|help)\s+(?:about\s+|on\s+)?", "",
                      u.text, flags=re.I)
    return _plan(u, [_step("knowledge.ask", {"question": question}, u.context)])


def f_knowledge_search(u: U) -> Plan:
    words = remainder(u, drop=CUE_WORDS | _KB_WORDS)
    if not words:
        return _plan(u, [_step("knowledge.list", {}, u.context)])
    return _plan(u, [_step("knowledge.search", {"query": words}, u.context)])


def f_knowledge_list(u: U) -> Plan:
    return _plan(u, [_step("knowledge.list", {}, u.context)])


def f_knowledge_show(u: U) -> Plan:
    words = remainder(u, drop=CUE_WORDS | _KB_WORDS)
    if not words:
        return _plan(u, [_step("knowledge.list", {}, u.context)])
    return _plan(u, [_step("knowledge.show", {"page": words.lower()}, u.context)])


_SEARCH_WORDS = frozenset("search look everything anything mentioning mention mentions related regarding concerning info "
                          "information stuff have got".split())


def f_search(u: U) -> Plan:
    args: dict[str, Any] = {}
    w = u.when
    if w is not None:
        start, end, _said = _view_range(u) if w.kind != "week" else _week_dates(w)
        args["start"], args["end"] = start, end
    everywhere = re.search(r"\b(?:(?:in|across|through)\s+)?(?:all|every|each)\s+(?:(?:my|the|of my)\s+)?contexts?\b|\beverywhere\b", u.text, re.I)
    if everywhere:
        args["all_contexts"] = True
        u = dataclasses.replace(u, text=slots.cut(u.text, everywhere.start(), everywhere.end()), when=None, duration=None,
                                shift=None, repeat=None, people=[])  # spans of the old text do not fit the new one
    words = remainder(u, drop=CUE_WORDS | _SEARCH_WORDS | frozenset(["last", "week", "contexts", "context", "everywhere",
                                                                       "across", "every", "each"]))
    if not words and not args:
        raise Ask("Search for what? e.g. 'search budget'.")
    return _plan(u, [_step("search.query", {"query": words, **args}, u.context)])


def _week_dates(w: slots.When) -> tuple[str, str, str]:
    today = slots.reference_now(None).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=w.week_offset or 0)
    return monday.isoformat(), (monday + timedelta(days=6)).isoformat(), w.said


def _context_name(u: U, *, exclude: str | None = None) -> str | None:
    for name in u.known:
        if name != exclude and re.search(rf"\b{re.escape(name)}\b", u.low):
            return name
    for w in re.findall(r"[a-z0-9_-]+", u.low):
        hit = _fuzzy_one(w, [k for k in u.known if k != exclude], 80)
        if hit:
            return hit
    return None


def f_context_use(u: U) -> Plan:
    name = _context_name(u)
    if name is None:
        said = remainder(u, drop=CUE_WORDS | frozenset("context workspace switch go back over use stuff things space".split()))
        known = ", ".join(u.known)
        described = _described(said, u.known)
        if described:  # "the work context": no such name, but business is described as "Work: ..."
            step = _step("context.use", {"name": described}, u.context)  # offered: a switch lasts, so it is asked
            option = Plan(text=f"switch to {described}", steps=[step], intent="context_use", source="intent")
            raise Ask(f"There is no context called \u201c{said}\u201d. Did you mean {described}? Say 1 (or 'switch to "
                      f"{described}').", [{"kind": "plan", "id": "1", "label": step.cli, "intent": "context_use",
                                           "plan": option.model_dump(mode="json")}])
        raise Ask((f"There is no context called \u201c{said}\u201d. " if said else "Which context? ") + f"Contexts: {known}.")
    return _plan(u, [_step("context.use", {"name": name}, u.context)])


def _described(said: str, known: list[str]) -> str | None:
    """The one context whose description starts with a word of ``said`` ("work" -> business)."""
    from herotui.planner.intents import context_words  # lazy: intents imports this module (cycle)

    by_word = context_words(known)
    hits = {by_word[w] for w in slots.words(said) if w in by_word}
    return hits.pop() if len(hits) == 1 else None


def f_context_show(u: U) -> Plan:
    return _plan(u, [_step("context.show", {"name": _context_name(u)}, u.context)])


def f_context_list(u: U) -> Plan:
    return _plan(u, [_step("context.list", {}, u.context)])


def f_context_create(u: U) -> Plan:
    m = re.search(r"\b(?:called|named)\s+(?P<n>[\w-]+)|\b(?:context|workspace)\s+for\s+(?:the\s+|my\s+)?(?P<n4>[\w-]+)", u.text, re.I) or re.search(
        r"\b(?:context|workspace)\s+(?P<n2>[\w-]+)$|\bcreate\s+(?:a\s+)?(?:new\s+)?(?P<n3>[\w-]+)\s+(?:context|workspace)", u.text, re.I)
    if not m:
        raise Ask("What should the new context be called? e.g. 'create a context called side-project'.")
    groups = m.groupdict()
    name = next(groups[k] for k in ("n", "n4", "n2", "n3") if groups.get(k))
    colour = re.search(r"\bcolou?r\s+(?:it\s+)?(\w+)|\bin\s+(red|green|blue|yellow|magenta|cyan|white|orange|purple)\b", u.low)
    return _plan(u, [_step("context.create", {"name": name.lower(),
                                              "color": (colour.group(1) or colour.group(2)) if colour else None}, u.context)])


def f_context_rename(u: U) -> Plan:
    m = re.search(r"\b(?P<a>[\w-]+)(?:\s+context)?\s+(?:to|as|into)\s+(?P<b>[\w-]+)\s*$", u.text, re.I)
    whole = re.search(r"^(?:rename|retitle|call)\s+(?P<what>.+?)\s+(?:to|as|into)\s+['\"]?(?P<new>.+?)['\"]?$", u.text, re.I)
    if whole and not (m and m.group("a").lower() in u.known):  # "rename the budget notes to Q1 budget final"
        sub = U(raw=u.raw, text=whole.group("what"), live=u.live, context=u.context, known=u.known)
        words = remainder(sub, drop=CUE_WORDS | _DOC_WORDS)
        doc, _c = slots.pick(slots.rank(words, _records(u, "document")), floor=0.6)
        if doc is not None:
            return _plan(u, [_step("document.update", {"id": doc.id, "title": whole.group("new")}, u.context)])
        ev, _c = slots.pick(slots.rank(words, _records(u, "event")), floor=0.6)
        if ev is not None:
            return _plan(u, [_step("calendar.update", {"id": ev.id, "title": whole.group("new")}, u.context)])
    if not m or m.group("a").lower() not in u.known:
        raise Ask("Rename which context to what? e.g. 'rename business to work'.")
    return _plan(u, [_step("context.rename", {"name": m.group("a").lower(), "new_name": m.group("b").lower()}, u.context)],
                 change=f"Rename the context {m.group('a').lower()} to {m.group('b').lower()}", confirm=True)


def f_context_delete(u: U) -> Plan:
    name = _context_name(u)
    if name is None:
        raise Ask("Which context should I delete? Say its name.")
    return _plan(u, [_step("context.delete", {"name": name}, u.context)], change=f"Delete the context {name} and all its data")


def f_history(u: U) -> Plan:
    failed = bool(u.has(r"\b(?:fail|failed|failing|errors?|went wrong|broke)\b"))
    n = re.search(r"\b(?:last|latest|past)\s+(\d+)\b", u.text, re.I)
    service = re.search(r"\b(contacts?|calendar|events?|documents?|docs|decks?|slides)\b", u.low)
    verb_filter = None
    if service:
        verb_filter = {"contacts": "contact", "contact": "contact", "calendar": "calendar", "events": "calendar",
                       "event": "calendar", "documents": "document", "document": "document", "docs": "document",
                       "decks": "slides", "deck": "slides", "slides": "slides"}[service.group(1)]
    return _plan(u, [_step("history.list", {"failed": failed or None, "limit": int(n.group(1)) if n else None,
                                            "verb_name": verb_filter}, u.context)])


def f_oos(u: U) -> None:
    """Out of scope offline: no plan, so a configured model may try, else the helpful fallback."""
    return None


def f_chitchat(u: U) -> Plan:
    return Plan(text=u.raw, source="intent", intent="chitchat", reply="You're welcome. Say 'help' to see what I can do.")


FRAMES: dict[str, Callable[[U], Plan]] = {
    "calendar_view": f_calendar_view, "calendar_next": f_calendar_next, "calendar_free": f_calendar_free,
    "calendar_count": f_calendar_count, "calendar_last_with": f_calendar_last_with, "calendar_add": f_calendar_add,
    "calendar_move": f_calendar_move, "calendar_change": f_calendar_change, "calendar_cancel": f_calendar_cancel,
    "calendar_search": f_calendar_search, "contact_create": f_contact_create, "contact_show": f_contact_show,
    "contact_find": f_contact_find, "contact_list": f_contact_list, "contact_update": f_contact_update,
    "contact_tag": f_contact_tag, "contact_untag": lambda u: f_contact_tag(u, untag=True),
    "contact_delete": f_contact_delete, "contact_import": f_contact_import, "contact_export": f_contact_export,
    "document_list": f_document_list, "document_find": f_document_find, "document_read": f_document_read,
    "document_summarize": f_document_summarize, "document_add": f_document_add, "document_tag": f_document_tag,
    "document_untag": lambda u: f_document_tag(u, untag=True), "document_link": f_document_link,
    "document_export": f_document_export, "document_delete": f_document_delete, "slides_list": f_slides_list,
    "slides_create": f_slides_create, "slides_present": f_slides_present, "slides_show": f_slides_show,
    "slides_link": f_slides_link, "slides_delete": f_slides_delete, "knowledge_ask": f_knowledge_ask,
    "knowledge_search": f_knowledge_search, "knowledge_list": f_knowledge_list, "knowledge_show": f_knowledge_show,
    "search": f_search, "context_use": f_context_use, "context_show": f_context_show, "context_list": f_context_list,
    "context_create": f_context_create, "context_rename": f_context_rename, "context_delete": f_context_delete,
    "history": f_history, "oos": f_oos, "chitchat": f_chitchat,  # type: ignore[dict-item]
}

# Words that settle the kind of request whatever the model says (it is trained on sentences,
# these are facts of the language): an e-mail address after "add" is a person, a path after
# "add"/"import" is a file, "tag ... as" with a person is a contact tag.
def _overrides(u: U, ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    first = u.low.split(" ", 1)[0] if u.low else ""
    ranked = _by_family(u, first, ranked)
    label = ranked[0][0]
    boost = next((b for rule in _RULES if (b := rule(u, first, label))), None)  # the first rule that applies wins
    if boost:
        return [(boost, 1.0)] + [r for r in ranked if r[0] != boost]
    return ranked


def _by_family(u: U, first: str, ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """``ranked`` with the best label of the family an imperative first word or a noun names
    moved to the top ("link ...", "where's the doc about ...")."""
    family = _FIRST_WORD.get(first)
    if family and ranked[0][0] not in family:
        best_in = next((r for r in ranked if r[0] in family), None)
        if best_in is not None and best_in[1] >= 0.02:  # the words settle it: as sure as the model needs to be
            ranked = [(best_in[0], max(best_in[1], 0.5))] + [r for r in ranked if r is not best_in]
    for rx, prefix in _NOUN_FAMILY:
        if rx.search(u.text) and (ranked[0][0].startswith("calendar_") or ranked[0][1] < MIN_CONFIDENCE) and not re.search(
                r"\b(?:meeting|event|appointment|call)\s*$", u.low):
            best_in = next((r for r in ranked if r[0].startswith(prefix)), None)
            if best_in is not None:
                ranked = [(best_in[0], max(best_in[1], 0.5))] + [r for r in ranked if r is not best_in]
    return ranked


# The rules, in order: each (u, first word, the model's label after _by_family) -> the label
# the words settle on, or None.

_ADDING = ("add", "create", "new", "schedule", "put", "book", "save")


def _add_a_path(u: U, first: str, label: str) -> str | None:
    if u.paths and first in ("add", "import", "upload", "save", "load"):
        return ("contact_import" if re.search(r"\bcontacts?\b|\.vcf\b", u.low) else
                "slides_create" if re.search(r"\b(?:deck|slides)\b", u.low) else "document_add")
    return None


def _deck_from_a_path(u: U, first: str, label: str) -> str | None:
    if u.paths and first in ("create", "make", "turn", "build") and re.search(r"\b(?:deck|slides|presentation)\b", u.low):
        return "slides_create"
    return None


def _a_repeating_event(u: U, first: str, label: str) -> str | None:
    """"add yoga every thursday at 8pm starting next week": only events repeat."""
    if u.repeat and first in _ADDING and label not in ("calendar_add", "calendar_change", "calendar_move"):
        return "calendar_add"
    return None


def _tag_a_person(u: U, first: str, label: str) -> str | None:
    if first in ("tag", "label") and u.people and not re.search(r"\b(?:doc|document|file|report|notes?|research)\b", u.low):
        return "contact_tag"
    return None


def _add_and_tag(u: U, first: str, label: str) -> str | None:
    if first in ("add", "create", "new", "save") and re.search(r"\band\s+(?:tag|label)\s+(?:him|her|them|it)\b", u.low):
        return "document_add" if u.paths else "contact_create"
    return None


def _add_an_email(u: U, first: str, label: str) -> str | None:
    if first in ("add", "create", "new", "save") and u.emails and not u.paths:
        return "contact_create"
    return None


def _add_her(u: U, first: str, label: str) -> str | None:
    if re.search(r"\b(?:called|named)\b.*\badd\s+(?:her|him|them)\b|\badd\s+(?:her|him|them)\s*$", u.low):
        return "contact_create"
    return None


def _someones_number(u: U, first: str, label: str) -> str | None:
    """"Alex's phone", "the email of Lena" (not "set Alex's phone to ...")."""
    if re.search(r"'s\s+(?:e-?mail|phone|number|mobile|address)\b|\b(?:e-?mail|phone number|number) (?:of|for)\b", u.low) \
            and first not in _ADDING and not re.search(r"\b(?:set|change|update|is now|to)\b", u.low):
        return "contact_show"
    return None


def _born(u: U, first: str, label: str) -> str | None:
    """A birthday with a year of birth belongs to a person, not to the calendar."""
    if re.search(r"\bbirthday\b", u.low) and u.when is not None and u.when.begin is not None \
            and u.when.begin.year < slots.reference_now(None).year:
        return "contact_update" if u.people else "contact_create"
    return None


def _a_persons_birthday(u: U, first: str, label: str) -> str | None:
    if u.people and re.search(r"\bbirthday\b", u.low) and first not in _ADDING and not _event_named(u):
        return "contact_update" if re.search(r"\b(?:set|change|update|fix|is now|is actually)\b", u.low) else "contact_show"
    return None


def _changed_jobs(u: U, first: str, label: str) -> str | None:
    if u.people and u.when is None and re.search(
            r"\b(?:moved to|joined|works (?:at|for) \w+ now|is now at|is at [\w ]+ now|left \w+ for|switched to|switched jobs|"
            r"changed jobs|new job at|(?:moving|stepping|moved|stepped) into|tak(?:ing|es) over as|promoted to)\b", u.low) \
            and not _event_named(u):
        return "contact_update"
    return None


def _a_new_address(u: U, first: str, label: str) -> str | None:
    """"hugo's email changed to hugo@lambert.example", "mom's got a new mobile number: +32 ...":
    a known person, an address or number, and a word of change is an update (not "add ...":
    a new person may share a first name)."""
    if u.people and (u.emails or u.phones) and first not in _ADDING and re.search(
            r"\b(?:changed?|is now|now|new|updated?|different|switched)\b", u.low):
        return "contact_update"
    return None


def _delete_a_person(u: U, first: str, label: str) -> str | None:
    if u.people and re.search(r"^(?:delete|remove|get rid of|forget|erase|drop)\b", u.low) and label in (
            "document_delete", "slides_delete", "calendar_cancel", "context_delete") and not _event_named(u):
        return "contact_delete"
    return None


def _what_a_document_says(u: U, first: str, label: str) -> str | None:
    if label in ("knowledge_ask", "knowledge_search") and not re.search(
            r"\b(?:manual|docs|documentation|knowledge|handbook|hero)\b", u.low):
        hit, _close = slots.pick(slots.rank(remainder(u, drop=CUE_WORDS | _DOC_WORDS), _records(u, "document")), floor=0.75)
        if hit is not None and re.search(r"\b(?:say|says|said)\b", u.low):
            return "document_read"
    return None


def _a_persons_field(u: U, first: str, label: str) -> str | None:
    """"kenji watanabe job title?"."""
    if u.people and _field(u) and not re.search(
            r"\b(?:set|change|update|is now|new|add|create|delete|remove|tag|call|text|email him|email her)\b", u.low):
        return "contact_show"
    return None


def _untag(u: U, first: str, label: str) -> str | None:
    if re.search(r"\b(?:remove|delete|drop|take off)\s+(?:the\s+)?[\w-]+\s+(?:tag|label)\s+from\b", u.low):
        return ("document_untag" if re.search(r"\b(?:docs?|documents?|files?|report|notes?|research|brief)\b", u.low)
                and not u.people else "contact_untag")
    return None


def _about_hero(u: U, first: str, label: str) -> str | None:
    """A question about Hero itself."""
    if re.search(r"\bhero\b", u.low) and re.search(r"\b(?:can|does|do|is|how|what|why|will)\b", u.low) and label not in (
            "knowledge_search", "knowledge_show", "knowledge_list"):
        return "knowledge_ask"
    return None


_HOW_TO = re.compile(r"\bhow (?:do|can|could|would|should|does|did) (?:i|you|we|one|people|hero)\b(?! (?:get|go) to\b)|"
                     r"\bhow to\b|\b(?:which|what) (?:\w+ )?(?:types?|formats?|syntax|kinds? of files?)\b.*"
                     r"\b(?:can i|can you|supported|support|does hero|do you|allowed|accepted|add)\b", re.I)


def _how_to(u: U, first: str, label: str) -> str | None:
    """"How do you cancel one occurrence of a repeating event?", "which file types can I
    add?": a question about using Hero, answered from its manual, never an action on a record
    the words happen to resemble. A named person keeps it theirs ("how can I reach Alex")."""
    if _HOW_TO.search(u.low) and not u.people and not label.startswith("knowledge_"):
        return "knowledge_ask"
    return None


def _the_docs(u: U, first: str, label: str) -> str | None:
    """"the docs" is Hero's documentation, not your documents."""
    if re.search(r"\b(?:the|hero's|hero) (?:docs|documentation|manual|handbook|help pages?)\b", u.low) \
            and not label.startswith("context_"):
        return (label if label.startswith("knowledge_") else
                "knowledge_search" if re.search(r"^(?:search|look|find|grep)\b", u.low) else "knowledge_ask")
    return None


def _which_documents(u: U, first: str, label: str) -> str | None:
    """"which docs go with the review meeting", "what documents do I have"."""
    if re.search(r"^(?:which|what)\s+(?:docs?|documents?|files?)\b", u.low) and not re.search(
            r"\b(?:say|says|mention|mentions|contain|contains|about)\b", u.low):
        return "document_list"
    return None


def _new_context(u: U, first: str, label: str) -> str | None:
    if re.search(r"\b(?:create|make|add|new|set up|start)\b.*\b(?:context|workspace)\b", u.low) and not re.search(
            r"\b(?:switch|use|go|in|into)\b.*\b(?:context|workspace)\b", u.low.split(" context")[0][-20:]):
        return "context_create"
    return None


def _what_changed(u: U, first: str, label: str) -> str | None:
    if re.search(r"\bwhat (?:have|did) (?:i|you) (?:changed?|done|added|deleted|removed|run|ran)\b|\b(?:recent|last) changes\b", u.low):
        return "history"
    if re.search(r"\b(?:fail|failed|failing|errors?)\b", u.low) and not u.people and not re.search(
            r"\b(?:docs?|documents?|files?|events?|meetings?)\b", u.low):
        return "history"
    return None


_RULES: list[Callable[[U, str, str], str | None]] = [
    _add_a_path, _deck_from_a_path, _a_repeating_event, _tag_a_person, _add_and_tag, _add_an_email, _add_her, _someones_number, _born,
    _a_persons_birthday, _changed_jobs, _a_new_address, _delete_a_person, _what_a_document_says, _a_persons_field, _untag, _about_hero,
    _how_to, _the_docs, _which_documents, _new_context, _what_changed,
]


# An imperative first word names the action; the model then only picks the kind of record.
_FIRST_WORD = {
    "link": ("document_link", "slides_link"), "attach": ("document_link", "slides_link"),
    "connect": ("document_link", "slides_link"), "unlink": ("document_link", "slides_link"),
    "summarise": ("document_summarize",), "summarize": ("document_summarize",),
    "export": ("contact_export", "document_export"), "untag": ("contact_untag", "document_untag"),
    "rename": ("context_rename", "calendar_change", "contact_update"), "present": ("slides_present",),
    "reschedule": ("calendar_move",), "postpone": ("calendar_move",), "import": ("contact_import", "document_add", "slides_create"),
    "block": ("calendar_add",), "schedule": ("calendar_add", "calendar_move"),
}
# Nouns that name the kind of record: "where's the doc about ..." is about documents whatever the verb.
_NOUN_FAMILY = [
    (re.compile(r"\b(?:docs?|documents?|files?|pdfs?|reports?|notes|memo|brief)\b", re.I), "document_"),
    (re.compile(r"\b(?:decks?|slides?|presentations?|slideshow)\b", re.I), "slides_"),
]


def _event_named(u: U) -> bool:
    best, _close = slots.pick(slots.rank(remainder(u, drop=CUE_WORDS | _MOVE_WORDS), _records(u, "event")), floor=0.7)
    return best is not None


def understand(ctx, text: str, live, known: list[str], *, label: str | None = None) -> Plan | None:
    """The plan for ``text`` in ``ctx`` from the intent model and the frames, or None.

    ``label`` skips the model: a template already said what kind of request this is. A
    defect in a frame never reaches the user as a traceback: it is logged and the request is
    treated as not understood (``HERO_DEBUG=1`` raises it instead).
    """
    try:
        return _understand(ctx, text, live, known, label=label)
    except Exception:
        if settings.get().HERO_DEBUG:
            raise
        logging.getLogger("hero.planner").exception("understanding %r failed", text[:200])
        return None


def _understand(ctx, text: str, live, known: list[str], *, label: str | None = None) -> Plan | None:
    model = classify.load()
    if model is None:
        return None
    u = read(text, live, ctx.name, known)
    if not u.text:
        return None

    delex = delexicalised(u)
    taught = learned.lookup(delex) if label is None else None
    if label is not None or taught is not None:
        ranked = [(label or taught, 1.0)]
    else:
        ranked = _overrides(u, model.scores(delex))
    label, p = ranked[0]
    u.label, u.confidence = label, p
    if p < MIN_CONFIDENCE:
        return None
    frame = FRAMES.get(label)
    if frame is None:
        return None
    if label == "calendar_view":
        u.when = slots.find_when(_blank(u.text, u), purpose="view")
    try:
        plan = frame(u)
        if plan is None:
            return None
    except Ask as q:
        plan = Plan(text=text, source="intent", intent=label, reply=str(q), choices=q.choices)
    plan.confidence = p
    plan.pins = dict(u.resolved)
    if plan.steps and u.loose and not plan.needs_confirmation:
        if any(registry.get(s.verb).mutates for s in plan.steps):  # a change to a record found by a near spelling
            plan.needs_confirmation = True
            plan.change = plan.change or "Change " + ", ".join(u.loose) + " (found by a near spelling)"
    return plan


def alternatives(ctx, text: str, live, known: list[str], n: int = 3) -> list[Plan]:
    """The plans of the model's next best readings (for "did you mean ...?"), each with steps."""
    model = classify.load()
    if model is None:
        return []
    u = read(text, live, ctx.name, known)
    if not u.text:
        return []
    out: list[Plan] = []
    for label, p in model.scores(delexicalised(u))[:8]:
        if p < 0.03 or label in ("oos", "chitchat") or label not in FRAMES:
            continue
        plan = understand(ctx, text, live, known, label=label)
        if plan is not None and plan.steps and not plan.needs_confirmation:
            plan.confidence = p
            out.append(plan)
        if len(out) >= n:
            break
    return out
