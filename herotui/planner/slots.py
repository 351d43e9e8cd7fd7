"""Typed slots: times, ranges, durations, recurrences, emails, phones, paths, and records.

Every value a plan carries is found here, parsed, and validated before the plan exists; a
slot that does not parse or resolve is never passed on (the planner asks instead).

Times (:func:`find_when`): the longest run of time words wins and is cut out of the
sentence, so what is left is the title. A run is made of *atoms* — days ("today", "the day
after tomorrow", "next friday", "dec 15", "the 17th", "2026-12-15"), clock times ("10am",
"14:30", "noon", "at 4"), parts of day ("morning", "thursday afternoon"), and ranges ("this
weekend", "next week", "in january", "the next 3 days", "from 4 to 6", "dec 21 to dec 28").
Decisions:

* A bare hour after "at"/"from"/"to" is a daytime hour: 1-7 means pm, 8-12 am/noon
  ("at 4" is 16:00, "at 10" is 10:00).
* Parts of day: morning 06-12, afternoon 12-18, evening 18-23, night/tonight 18-24; an event
  added for "wednesday morning" starts at 09:00, afternoon 14:00, evening 19:00.
* "this weekend" on a Saturday or Sunday is the rest of it (today to Sunday); on other days
  the coming Saturday and Sunday. "next weekend" is the one after that.
* A month alone is the whole month, the next one of that name that has not ended.
* Days are resolved with :mod:`herotui.timeparse` (the CLI's own parser, so what the plan
  shows is what the verb will read); in the CLI line a day is kept in words when it is one
  of today/tomorrow/a weekday, else written as an ISO date.

Records: contacts by full name, first or last name, possessive, or a near spelling
(rapidfuzz), with a score and a margin: one clear winner resolves, several close ones are
returned so the planner can ask "Which Alex: 1) ... 2) ...". Events, documents and decks are
scored on their title words (near spellings and acronyms such as "SOW" count), tags and
linked people, each word weighted by how rare it is among the titles.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from herotui import timeparse

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD_SHORT = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5,
             "sun": 6}
_WD = "|".join(WEEKDAYS + sorted(_WD_SHORT, key=len, reverse=True))
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
_MON_SHORT = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
              "nov": 11, "dec": 12}
_MON = "|".join(MONTHS + sorted(_MON_SHORT, key=len, reverse=True))
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
PARTS = {"morning": (6, 12, 9), "afternoon": (12, 18, 14), "evening": (18, 23, 19), "night": (18, 24, 20),
         "tonight": (18, 24, 20), "lunchtime": (12, 14, 12), "lunch time": (12, 14, 12)}

# one atom of a time expression; named groups say what it is
_ATOMS = [
    ("dayafter", r"(?:the\s+)?day\s+after\s+tomorrow"),
    ("dayword", r"today|tomorrow|tmrw|tomorow|tommorow|tomorrw|yesterday"),
    ("tonight", r"tonight"),
    ("weekend", r"(?:(?:this|next|the|coming)\s+)?weekend"),
    ("weekafter", r"(?:the\s+)?week\s+after\s+next"),
    ("period", r"(?:this|next|last|coming|the\s+coming)\s+(?:week|month)"),
    ("ndays", r"(?:(?:over|for|in|during)\s+)?(?:the\s+)?(?:next|coming)\s+(?:\d+|few|couple(?:\s+of)?)\s+(?:days|weeks)"),
    ("reldays", r"in\s+(?:\d+|an?)\s+(?:days?|weeks?|hours?|minutes?|mins?)"),
    ("isodate", r"\d{4}-\d{2}-\d{2}"),
    ("slash", r"\d{1,2}/\d{1,2}(?:/\d{2,4})?"),
    ("mday", rf"(?:{_MON})\.?\s+{_ORD}(?:,?\s+\d{{4}})?(?![:\d])"),
    ("dmon", rf"{_ORD}\s+(?:of\s+)?(?:{_MON})(?:,?\s+\d{{4}})?"),
    ("theord", r"the\s+\d{1,2}(?:st|nd|rd|th)"),
    ("month", rf"(?:(?:in|during|for|of|all)\s+)?(?:{_MON})(?!\s*\d)"),
    ("weekday", rf"(?:(?:this|next|coming|last|on)\s+)?(?:{_WD})s?"),
    ("part", r"(?:(?:in|during)\s+the\s+|this\s+)?(?:morning|afternoon|evening|night|lunchtime|lunch\s+time)"),
    ("clock", r"(?:at\s+|@\s*|by\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}|\d{1,2}\s+oclock|noon|midday|midnight)"),
    ("bare", r"(?:at|from|to|until|till|@)\s+\d{1,2}(?!(?:st|nd|rd|th)\b)"  # not "the 1st"; "at 8 starting" is 8
             r"(?!\s*(?:%|/|\d|[:.]\d|[ap]m\b|oclock|minutes?|mins?|hours?|h\b|days?|people|slides?|percent))"),
    # the first hour of "friday 9 to 12" (kept only right after a day: see _runs)
    ("hour", r"\d{1,2}(?::\d{2})?(?=\s+(?:to|until|till)\s+\d{1,2}(?::\d{2})?\s*(?:am|pm)?(?:\s|,|$))"),
]
_ATOM_RX = re.compile("|".join(f"(?P<{n}>\\b(?:{p})\\b)" for n, p in _ATOMS), re.I)
_GLUE = re.compile(r"^[\s,]*(?:(?:on|at|from|this|in\s+the|of|,|the)\s*)*$", re.I)
_RANGE_GLUE = re.compile(r"^\s*(?:to|until|till|til|through|thru|-|and)\s*$", re.I)


@dataclass
class When:
    """A time expression found in a sentence."""

    start: int  # span in the text
    end: int
    said: str
    kind: str  # point (a moment), day (a whole day), range (from..to), days (next N days), week (offset)
    begin: datetime | None = None  # wall clock, naive, in the user's zone
    until: datetime | None = None  # end of a range (exclusive for times, the last day for days)
    day_words: str | None = None  # "tomorrow", "next friday": kept in CLI lines
    has_clock: bool = False
    part: str | None = None
    days: int | None = None
    week_offset: int | None = None
    moved: bool = False  # "yesterday", "last friday": in the past
    dated: bool = True  # a day was named (False for "at 5pm" alone)

    def cli(self) -> str:
        """The start as the CLI reads it: the words as said when the CLI's parser reads them
        as the same moment ("friday 3pm"), else day words or an ISO date and a 24-hour time."""
        assert self.begin is not None
        said = re.sub(r"^(?:on|at|for|by|from)\s+", "", self.said.strip(), flags=re.I)
        said = re.sub(r"\s+at\s+", " ", said, flags=re.I)
        if self.kind == "point" and self.dated and re.fullmatch(r"[\w: ]+", said):
            try:
                if timeparse.parse_when(said).replace(tzinfo=None) == self.begin:
                    return said
            except Exception:
                pass
        day = self.day_words or self.begin.date().isoformat()
        return f"{day} {self.begin:%H:%M}" if self.has_clock or self.part else day

    def day_iso(self) -> str:
        assert self.begin is not None
        return self.begin.date().isoformat()


def reference_now(now: datetime | None) -> datetime:
    tz = timeparse.local_zone()
    current = now.astimezone(tz) if now is not None else datetime.now(tz)
    return current.replace(tzinfo=None, microsecond=0)


def _hour(text: str, pm_hint: bool | None = None) -> time | None:
    """A clock time: '10am', '14:30', 'noon', or a bare daytime hour ('4' -> 16:00)."""
    t = re.sub(r"^(?:at|from|to|by|@)\s*", "", text.strip().lower())
    t = re.sub(r"\s+oclock$", "", t)
    if t in ("noon", "midday"):
        return time(12)
    if t == "midnight":
        return time(0)
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", t)
    if not m:
        return None
    h, mi, ap = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if mi > 59:
        return None
    if ap:
        if not 1 <= h <= 12:
            return None
        return time(h % 12 + (12 if ap == "pm" else 0), mi)
    if m.group(2) is not None:
        return time(h, mi) if h <= 23 else None
    if h > 23:
        return None
    if pm_hint is True and h < 12:
        return time(h + 12, mi)
    if 1 <= h <= 7:
        return time(h + 12, mi)
    return time(h, mi)


def _month_num(word: str) -> int:
    w = word.lower().rstrip(".")
    return MONTHS.index(w) + 1 if w in MONTHS else _MON_SHORT[w]


def _day_of(kind: str, said: str, today: date) -> tuple[date | None, str | None]:
    """(the day, the words kept for the CLI) for a day atom."""
    s = re.sub(r"\s+", " ", said.lower().strip())
    if kind == "dayafter":
        return today + timedelta(days=2), None
    if kind == "dayword":
        off = {"today": 0, "yesterday": -1}.get(s, 1)
        return today + timedelta(days=off), {0: "today", 1: "tomorrow", -1: "yesterday"}[off]
    if kind == "weekday":
        s = re.sub(r"^on\s+", "", s)
        m = re.fullmatch(rf"(?:(this|next|coming|last)\s+)?({_WD})s?", s)
        if not m:
            return None, None
        wd = m.group(2)
        idx = WEEKDAYS.index(wd) if wd in WEEKDAYS else _WD_SHORT[wd]
        qual = m.group(1)
        delta = (idx - today.weekday()) % 7
        if qual == "next":
            delta = delta or 7
        elif qual == "last":
            delta = -((today.weekday() - idx) % 7 or 7)
        words = f"{qual + ' ' if qual in ('next', 'last') else ''}{WEEKDAYS[idx]}"
        return today + timedelta(days=delta), words
    if kind == "isodate":
        try:
            return date.fromisoformat(s), None
        except ValueError:
            return None, None
    if kind == "theord":
        n = int(re.search(r"\d+", s).group(0))
        d = _nth(today, n)
        return d, None
    if kind in ("mday", "dmon"):
        mon = re.search(rf"\b({_MON})\b", s).group(1)
        nums = re.findall(r"\d+", s)
        day_n = int(nums[0])
        year = int(nums[1]) if len(nums) > 1 else None
        try:
            d = date(year or today.year, _month_num(mon), day_n)
        except ValueError:
            return None, None
        if year is None and d < today - timedelta(days=60):
            d = d.replace(year=d.year + 1)
        return d, None
    if kind == "slash":  # day/month (Europe) unless the first number cannot be a day of month
        try:
            return timeparse.parse_when(s).date(), None
        except Exception:
            return None, None
    return None, None


def _nth(today: date, n: int) -> date | None:
    """"the 17th": this month's when still to come (today counts), else next month's."""
    y, m = today.year, today.month
    for _ in range(3):
        try:
            d = date(y, m, n)
            if d >= today:
                return d
        except ValueError:
            pass
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return None


def _month_range(said: str, today: date) -> tuple[date, date]:
    mon = _month_num(re.search(rf"\b({_MON})\b", said.lower()).group(1))
    year = today.year if mon >= today.month else today.year + 1
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _atoms(text: str) -> list[re.Match]:
    return [m for m in _ATOM_RX.finditer(text)]


def _runs(text: str, atoms: list[re.Match]) -> list[list[re.Match]]:
    """Atoms that stand together ("tomorrow at 10", "from 4 to 6", "dec 21 to dec 28").

    A part of day said bare ("parents evening") is a time only right after a day
    ("saturday morning") or with its own article ("in the morning", "this evening").
    """
    runs: list[list[re.Match]] = []
    kept = []
    for i, m in enumerate(atoms):
        bare_part = _kind(m) == "part" and re.fullmatch(r"morning|afternoon|evening|night|lunchtime|lunch\s+time",
                                                          m.group(0), re.I)
        if bare_part or _kind(m) == "hour":
            prev = atoms[i - 1] if i else None
            if not (prev is not None and _kind(prev) in _DAY_KINDS and not text[prev.end():m.start()].strip()):
                continue
        kept.append(m)
    for m in kept:
        if runs:
            gap = text[runs[-1][-1].end():m.start()]
            if _GLUE.match(gap) or _RANGE_GLUE.match(gap):
                runs[-1].append(m)
                continue
        runs.append([m])
    return runs


def _kind(m: re.Match) -> str:
    return next(k for k, v in m.groupdict().items() if v is not None)


def find_when(text: str, *, now: datetime | None = None, purpose: str = "point") -> When | None:
    """The longest time expression in ``text`` (see the module docstring), or None.

    ``purpose``: "view" reads a part of day as a range (what's on thursday afternoon),
    "point" as a start time (add lunch thursday afternoon).
    """
    atoms = _atoms(text)
    if not atoms:
        return None
    runs = _runs(text, atoms)
    if not runs:
        return None
    best = max(runs, key=lambda r: (r[-1].end() - r[0].start(), -r[0].start()))
    try:
        return _interpret(text, best, reference_now(now), purpose)
    except (ValueError, KeyError, AttributeError):
        return None


def find_all_when(text: str, *, now: datetime | None = None) -> list[When]:
    """Every time expression in ``text``, in order ("move my 4pm meeting to 5": two)."""
    atoms = _atoms(text)
    out = []
    for run in _runs(text, atoms) if atoms else []:
        try:
            w = _interpret(text, run, reference_now(now), "point")
        except (ValueError, KeyError, AttributeError):
            w = None
        if w is not None:
            out.append(w)
    return out


def _interpret(text: str, run: list[re.Match], now: datetime, purpose: str) -> When | None:
    start, end = run[0].start(), run[-1].end()
    # extend over a leading "on"/"at"/"from"/"for"/"between"/"by"
    lead = re.search(r"(?:\b(?:on|at|from|for|between|by|during|in)\s+)$", text[:start], re.I)
    if lead:
        start = lead.start()
    span = (start, end, text[start:end])
    split = _range_split(text, run)
    if split is not None:
        return _range(text, run[:split], run[split:], now, span)
    today = now.date()
    day: date | None = None
    words: str | None = None
    clock: time | None = None
    part: str | None = None
    ampm = False
    for m in run:
        k = _kind(m)
        s = m.group(0).lower()
        if k in _SPAN_ATOMS:  # a span by itself ("this weekend", "in 2 hours", "in january")
            return _SPAN_ATOMS[k](s, now, span)
        if k in _DATE_KINDS:
            day, words = _day_of(k, s, today)
            if day is None:
                return None
        elif k == "tonight":
            day, words, part = today, "today", "tonight"
        elif k == "part":
            part = re.sub(r"^(?:in|during)\s+the\s+|^this\s+", "", s).replace("lunch time", "lunchtime")
        elif k in ("clock", "bare", "hour"):
            clock = _hour(s)
            ampm = bool(re.search(r"\d\s*[ap]m$", s))
            if clock is None:
                return None
    if clock is not None and part is not None and not ampm:
        clock = _in_part(clock, part)
    return _moment(span, day, words, clock, part, today, purpose)


def _in_part(clock: time, part: str) -> time:
    """A clock time said without am/pm, read in the part of the day said with it: "thursday
    evening at 8" is 20:00, "at 7 in the morning" 07:00 (a bare 7 alone is 19:00)."""
    lo, hi, _default = PARTS[part]
    for hour in (clock.hour % 12, clock.hour % 12 + 12):
        if lo <= hour < hi:
            return clock.replace(hour=hour)
    return clock


def _range_split(text: str, run: list[re.Match]) -> int | None:
    """Where a run is two halves joined by to/until/and ("from 4 to 6"), or None."""
    for i in range(1, len(run)):
        gap = text[run[i - 1].end():run[i].start()]
        if _RANGE_GLUE.match(gap) or re.match(r"(?:to|until|till)\s", run[i].group(0), re.I):
            return i
    return None


def _range(text: str, first: list[re.Match], second: list[re.Match], now: datetime, span: tuple) -> When | None:
    """"from 4 to 6 on friday", "dec 21 to dec 28": each half read as a point, the day said
    on one half lent to the other, an end before its start moved after it."""
    a = _interpret(text, first, now, "point")
    b = _interpret(text, second, now, "point")
    if a is None or b is None or a.begin is None or b.begin is None:
        return None
    if not b.dated and a.dated:
        b.begin = datetime.combine(a.begin.date(), b.begin.time())  # "friday from 4 to 6"
    elif not a.dated and b.dated:
        a.begin = datetime.combine(b.begin.date(), a.begin.time())  # "from 4 to 6 on friday"
        a.day_words = b.day_words
    if a.has_clock and b.has_clock and b.begin <= a.begin:
        if b.begin.time() < a.begin.time() and b.begin.hour < 12:
            b.begin += timedelta(hours=12)
    if b.begin < a.begin and not b.has_clock:
        b.begin = b.begin.replace(year=b.begin.year + 1)
    return When(*span, "range", a.begin, b.begin, day_words=a.day_words,
                has_clock=a.has_clock or b.has_clock, dated=a.dated or b.dated)


def _moment(span: tuple, day: date | None, words: str | None, clock: time | None, part: str | None,
            today: date, purpose: str) -> When | None:
    """The day, clock time and part of day a run named, as one When (today when no day was said)."""
    if day is None and clock is None and part is None:
        return None
    dated = day is not None
    if day is None:
        day, words = today, None
        if part and purpose == "point" and clock is None:
            words = "today"
    if clock is not None:
        return When(*span, "point", datetime.combine(day, clock), day_words=words, has_clock=True,
                    moved=day < today, dated=dated)
    if part is not None:
        lo, hi, default = PARTS[part]
        if purpose == "view":
            until = datetime.combine(day, time(0)) + timedelta(hours=hi)
            return When(*span, "range", datetime.combine(day, time(lo)), until, day_words=words, part=part)
        return When(*span, "point", datetime.combine(day, time(default)), day_words=words, part=part,
                    has_clock=True)
    return When(*span, "day", datetime.combine(day, time(0)), day_words=words, moved=day < today)


# Atoms that are a whole span by themselves: each read by its function, (said, now, span) -> When.

def _weekend(s: str, now: datetime, span: tuple) -> When:
    """"this weekend": the rest of it on a Saturday or Sunday, else the coming one; "next
    weekend": the one after."""
    today = now.date()
    sat = today + timedelta(days=(5 - today.weekday()) % 7)
    if today.weekday() == 6:
        sat = today - timedelta(days=1)
    if s.startswith("next"):
        sat += timedelta(days=7)
    first = max(sat, today)
    return When(*span, "range", datetime.combine(first, time(0)), datetime.combine(sat + timedelta(days=1), time(0)))


def _week_after_next(s: str, now: datetime, span: tuple) -> When:
    return When(*span, "week", week_offset=2)


def _period(s: str, now: datetime, span: tuple) -> When:
    """"this week", "next month", "last week": a week by its offset, a month as a range."""
    off = {"this": 0, "coming": 1, "the coming": 1, "next": 1, "last": -1}[re.sub(r"\s+(week|month)$", "", s)]
    if not s.endswith("month"):
        return When(*span, "week", week_offset=off)
    today = now.date()
    first = date(today.year, today.month, 1)
    for _ in range(off if off > 0 else 0):
        first = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    if off < 0:
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    last = date(first.year + (first.month == 12), first.month % 12 + 1, 1) - timedelta(days=1)
    return When(*span, "range", datetime.combine(max(first, today) if off == 0 else first, time(0)),
                datetime.combine(last, time(0)))


def _next_days(s: str, now: datetime, span: tuple) -> When:
    """"the next 3 days", "the coming few weeks"."""
    n_s = re.search(r"\d+|few|couple", s).group(0)
    n = int(n_s) if n_s.isdigit() else (3 if n_s == "few" else 2)
    if "week" in s:
        n *= 7
    return When(*span, "days", datetime.combine(now.date(), time(0)), days=n)


def _in_days(s: str, now: datetime, span: tuple) -> When:
    """"in 2 days", "in a week" (a day), "in an hour", "in 20 minutes" (a moment)."""
    n_s = re.search(r"\d+|an?\b", s).group(0)
    n = int(n_s) if n_s.isdigit() else 1
    unit = re.search(r"day|week|hour|min", s).group(0)
    if unit in ("hour", "min"):
        at = now + (timedelta(hours=n) if unit == "hour" else timedelta(minutes=n))
        return When(*span, "point", at.replace(second=0), has_clock=True)
    at = datetime.combine(now.date() + timedelta(days=n * (7 if unit == "week" else 1)), time(0))
    return When(*span, "day", at)


def _named_month(s: str, now: datetime, span: tuple) -> When:
    """"in january": the rest of it when it is this month, else the next one of that name."""
    today = now.date()
    first, last = _month_range(s, today)
    return When(*span, "range", datetime.combine(max(first, today) if first <= today else first, time(0)),
                datetime.combine(last, time(0)))


_SPAN_ATOMS = {"weekend": _weekend, "weekafter": _week_after_next, "period": _period, "ndays": _next_days,
               "reldays": _in_days, "month": _named_month}
_DATE_KINDS = ("dayafter", "dayword", "weekday", "isodate", "theord", "mday", "dmon", "slash")


_DAY_KINDS = ("dayafter", "dayword", "weekday", "isodate", "theord", "mday", "dmon", "slash", "tonight")


def _has_day(run: list[re.Match]) -> bool:
    return any(_kind(m) in _DAY_KINDS for m in run)


def cut(text: str, start: int, end: int) -> str:
    """``text`` without ``[start:end]`` (spaces and dangling commas tidied)."""
    out = (text[:start] + " " + text[end:]).strip()
    out = re.sub(r"\s+,", ",", out)
    return re.sub(r"\s{2,}", " ", out).strip(" ,")


# ---------------------------------------------------------------------------------------
# Durations and recurrences
# ---------------------------------------------------------------------------------------

_DURATION_RX = re.compile(
    r"\b(?:for\s+)?(?:(?P<half>an?\s+hour\s+and\s+a\s+half|1\s+and\s+a\s+half\s+hours?)|(?P<hh>\d+h\d{2})|"
    r"(?P<n>\d+(?:\.\d+)?|an?|half\s+an?|one)\s*(?:-\s*)?(?P<u>hours?|hrs?|h|minutes?|mins?|m)\b"
    r"(?:\s+(?:and\s+)?(?P<n2>\d+)\s*(?:minutes?|mins?|m)\b)?)"
    r"(?:\s+long)?", re.I)


@dataclass
class Duration:
    start: int
    end: int
    minutes: int

    def cli(self) -> str:
        h, m = divmod(self.minutes, 60)
        return f"{h}h" if not m else (f"{m}m" if not h else f"{h}h{m:02d}")


def find_duration(text: str) -> Duration | None:
    """'a 30 minute call', 'block 2 hours', 'for an hour', '1h30' (not 'in 2 hours' or '2 hours later')."""
    for m in _DURATION_RX.finditer(text):
        before = text[:m.start()].rstrip().lower()
        after = text[m.end():].lstrip().lower()
        if before.endswith(" in") or before == "in" or after.startswith(("later", "earlier", "ago", "from now", "before", "after")):
            continue
        if m.group("half"):
            mins = 90
        elif m.group("hh"):
            h, mm = m.group("hh").split("h")
            mins = int(h) * 60 + int(mm)
        else:
            raw = m.group("n").lower()
            n = 0.5 if raw.startswith("half") else 1.0 if raw in ("a", "an", "one") else float(raw)
            unit = m.group("u").lower()
            mins = int(n * 60) if unit.startswith("h") else int(n)
            if m.group("n2"):
                mins += int(m.group("n2"))
            if unit in ("m",) and not re.match(r"\d", raw):
                continue
        if 0 < mins <= 24 * 60 * 14:
            return Duration(m.start(), m.end(), mins)
    return None


_SHIFT_RX = re.compile(
    r"\b(?:by\s+)?(?P<n>\d+(?:\.\d+)?|an?|half\s+an?|one)\s*(?P<u>hours?|hrs?|h|minutes?|mins?|days?|weeks?)\s+"
    r"(?P<dir>later|earlier|forward|back|ahead)\b", re.I)


def find_shift(text: str) -> tuple[int, int, timedelta] | None:
    """'an hour later', '30 minutes earlier', '2 days later', 'a week later' -> a signed delta."""
    m = _SHIFT_RX.search(text)
    if m:
        raw = m.group("n").lower()
        n = 0.5 if raw.startswith("half") else 1.0 if raw in ("a", "an", "one") else float(raw)
        unit = m.group("u").lower()
        delta = (timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n) if unit.startswith("m")
                 else timedelta(days=n) if unit.startswith("d") else timedelta(weeks=n))
        sign = -1 if m.group("dir").lower() in ("earlier", "back") else 1
        return m.start(), m.end(), sign * delta
    m = re.search(r"\bto\s+next\s+week(?:\s+(?:same\s+time|at\s+the\s+same\s+time))?\b|\ba\s+week\s+later\b", text, re.I)
    if m:
        return m.start(), m.end(), timedelta(weeks=1)
    return None


_REPEAT_RX = re.compile(
    rf"\b(?:(?P<every>every|each)\s+(?:(?P<other>other|second)\s+)?(?P<what>day|weekday|week|month|year|(?:{_WD})s?|morning|evening)"
    rf"(?:\s+(?:and|&)\s+(?P<what2>(?:{_WD})s?))?|(?P<adv>daily|weekly|monthly|yearly|annually|fortnightly|every\s+weekday)"
    rf"|on\s+(?P<plural>(?:{_WD}))s\b)", re.I)


@dataclass
class Repeat:
    start: int
    end: int
    repeat: str | None = None  # daily, weekly, monthly, yearly, weekdays
    rrule: str | None = None
    weekday: int | None = None


def find_repeat(text: str) -> Repeat | None:
    m = _REPEAT_RX.search(text)
    if not m:
        return None
    adv = (m.group("adv") or "").lower()
    if adv:
        adv = {"annually": "yearly", "every weekday": "weekdays"}.get(re.sub(r"\s+", " ", adv), adv)
        if adv == "fortnightly":
            return Repeat(m.start(), m.end(), rrule="FREQ=WEEKLY;INTERVAL=2")
        return Repeat(m.start(), m.end(), repeat=adv)
    what = (m.group("what") or m.group("plural") or "").lower().rstrip("s") if (m.group("what") or m.group("plural")) else ""
    what = what if what in WEEKDAYS or what in _WD_SHORT else (m.group("what") or "").lower()
    interval = ";INTERVAL=2" if m.group("other") else ""
    if what in ("day", "morning", "evening"):
        return Repeat(m.start(), m.end(), repeat="daily" if not interval else None, rrule=f"FREQ=DAILY{interval}" if interval else None)
    if what == "weekday":
        return Repeat(m.start(), m.end(), repeat="weekdays")
    if what in ("week", "month", "year"):
        r = {"week": "weekly", "month": "monthly", "year": "yearly"}[what]
        return Repeat(m.start(), m.end(), repeat=None if interval else r,
                      rrule=f"FREQ={r.upper()}{interval}" if interval else None)
    days = [what]
    if m.group("what2"):
        days.append(m.group("what2").lower().rstrip("s"))
    idx = [WEEKDAYS.index(d) if d in WEEKDAYS else _WD_SHORT[d] for d in days]
    byday = ",".join(WEEKDAYS[i][:2].upper() for i in idx)
    return Repeat(m.start(), m.end(), rrule=f"FREQ=WEEKLY{interval};BYDAY={byday}", weekday=idx[0])


# ---------------------------------------------------------------------------------------
# Emails, phones, paths, URLs
# ---------------------------------------------------------------------------------------

EMAIL_RX = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE_RX = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{1,4}\)?[\s.-]?){2,6}\d{2,4}(?![\w])")
PATH_RX = re.compile(r"(?<![\w@])(?:~|\.{1,2})?/[^\s,;'\"]+|(?<![\w/])[\w.-]+\.(?:pdf|md|markdown|txt|html?|vcf|ics|docx?|csv|png|jpe?g)\b", re.I)
URL_RX = re.compile(r"\bhttps?://[^\s,;'\"]+", re.I)


# words that are never a tag: what they are part of is another request ("tag Sanne as emergency
# and call her mother", "tag Omar as vip and delete him")
NOT_TAG = re.compile(r"\b(?:him|her|them|it|his|its|their|then|delete|remove|add|show|move|cancel|open|find)\b", re.I)


def find_emails(text: str) -> list[re.Match]:
    return list(EMAIL_RX.finditer(text))


def find_phones(text: str) -> list[re.Match]:
    out = []
    for m in PHONE_RX.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 6 <= len(digits) <= 15 and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", m.group(0).strip()):
            out.append(m)
    return out


def find_paths(text: str) -> list[re.Match]:
    return [m for m in PATH_RX.finditer(text) if not EMAIL_RX.fullmatch(m.group(0))]


# ---------------------------------------------------------------------------------------
# Records: contacts, events, documents, decks
# ---------------------------------------------------------------------------------------

STOP = frozenset(
    "a an the my our your his her their its me i we you it this that these those about on for of to in at with and or "
    "is are was be been do does did have has had will would can could should please any some all every one from by "
    "up out so just now then there here what which who whom whose when where how why new".split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'s ", " ").replace("\u2019s ", " "))


def _stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


@dataclass
class Candidate:
    id: str
    label: str
    score: float
    extra: dict = field(default_factory=dict)


def _near(a: str, b: str) -> float:
    """1 for the same word (or stem), less for a near spelling, 0 otherwise."""
    if a == b or _stem(a) == _stem(b):
        return 1.0
    if len(a) < 4 or len(b) < 4:
        return 0.0
    from rapidfuzz.distance import DamerauLevenshtein  # ~17 ms: only understanding a typed request pays for it

    d = DamerauLevenshtein.distance(a, b, score_cutoff=2)
    if d == 1:
        return 0.85
    if d == 2 and min(len(a), len(b)) >= 7:
        return 0.7
    if len(a) >= 4 and b.startswith(a) and len(a) >= len(b) - 4:  # "onboard" ~ "onboarding"
        return 0.75
    return 0.0


def score_title(query: list[str], title_words: list[str], extra_words: list[str], idf: dict[str, float]) -> float:
    """How well the query words name a record: the share of the query's weight found in it."""
    if not query:
        return 0.0
    acronym = "".join(w[0] for w in title_words if w not in ("a", "an", "the", "and"))
    total = found = 0.0
    for q in query:
        wgt = idf.get(_stem(q), 2.0)
        total += wgt
        best = max([_near(q, t) for t in title_words] + [0.6 * _near(q, t) for t in extra_words] + [0.0])
        if best == 0 and len(q) >= 3 and q == acronym[: len(q)] and len(q) == len(acronym):
            best = 1.0
        elif best == 0 and len(q) >= 3 and q in acronym and q.isalpha() and len(q) >= 3:
            best = 0.9
        found += wgt * best
    return found / total


@functools.lru_cache(maxsize=32)
def _idf(titles: tuple[str, ...]) -> dict[str, float]:
    df: dict[str, int] = {}
    for t in titles:
        for w in {_stem(x) for x in words(t)}:
            df[w] = df.get(w, 0) + 1
    n = len(titles) + 1
    return {w: math.log(1 + n / c) for w, c in df.items()}


def rank(query: str, records: list[tuple[str, str, list[str]]], *, ignore: frozenset[str] = frozenset()) -> list[Candidate]:
    """Records ``(id, title, extra words)`` ranked by how well ``query`` names them."""
    q = [w for w in words(query) if w not in STOP and w not in ignore]
    if not q:
        return []
    idf = _idf(tuple(t for _i, t, _e in records))
    out = []
    for rid, title, extra in records:
        tw = words(title)
        s = score_title(q, tw, [w for e in extra for w in words(e)], idf)
        if s > 0:
            out.append(Candidate(rid, title, s))
    out.sort(key=lambda c: -c.score)
    return out


def pick(cands: list[Candidate], *, floor: float = 0.5, margin: float = 0.15) -> tuple[Candidate | None, list[Candidate]]:
    """(the clear winner, or None with the close ones when several are near the top)."""
    good = [c for c in cands if c.score >= floor]
    if not good:
        return None, []
    if len(good) == 1 or good[0].score - good[1].score >= margin:
        return good[0], []
    close = [c for c in good if good[0].score - c.score < margin]
    return None, close[:4]


class _Names:
    """The contacts' names made ready for :func:`contact_mentions`: each name's words, and the
    contacts by first and by last word, so a span is scored against the few names it may be
    rather than all of them (10k contacts: every name was scored for every span)."""

    __slots__ = ("contacts", "parts", "by_first", "by_last", "firsts", "near")

    def __init__(self, contacts: list[tuple[str, str]]) -> None:
        self.contacts = contacts  # held: the cache is keyed by this list's identity
        self.parts = []
        self.by_first: dict[str, list[int]] = {}
        self.by_last: dict[str, list[int]] = {}
        for i, (cid, name) in enumerate(contacts):
            ws = [w for w in re.findall(r"[\w\u00C0-\u024F-]+", _fold(name.lower())) if w not in ("dr", "mr", "mrs", "ms")]
            self.parts.append((cid, name, ws))
            if ws:
                self.by_first.setdefault(ws[0], []).append(i)
                self.by_last.setdefault(ws[-1], []).append(i)
        self.firsts = list(self.by_first)
        self.near: dict[tuple[str, float], list[str]] = {}  # (word, least closeness) -> first words

    def _near_firsts(self, w: str, least: float) -> list[str]:
        key = (w, least)
        hit = self.near.get(key)
        if hit is None:
            hit = self.near[key] = [f for f in self.firsts if _near(w, f) >= least]
        return hit

    def candidates(self, span: list[str]) -> list[int]:
        """Indexes of every name :func:`_name_score` may give a score for ``span`` (a superset)."""
        first = span[0]
        forms = {first, first[:-1]} if first.endswith("s") and len(first) > 3 else {first}  # possessive s
        out: set[int] = set()
        for f in forms:
            out.update(self.by_first.get(f, ()))
        if len(span) == 1:
            for f in forms:
                out.update(self.by_last.get(f, ()))
            for f in forms:
                if len(f) >= 4:
                    for g in self._near_firsts(f, 0.85):
                        out.update(self.by_first[g])
        else:
            for f in forms:
                for g in self._near_firsts(f, 0.7):
                    out.update(self.by_first[g])
        return sorted(out)


_NAMES: dict[int, _Names] = {}


def _names(contacts: list[tuple[str, str]]) -> _Names:
    """The prepared names of a contact list, kept while the planner keeps the list: its live
    data (``intents.live_data``) is one list per context until the database changes, so the
    preparation is made once per (context, revision)."""
    hit = _NAMES.get(id(contacts))
    if hit is not None and hit.contacts is contacts:
        return hit
    prepared = _Names(contacts)
    if len(_NAMES) >= 8:
        _NAMES.pop(next(iter(_NAMES)))
    _NAMES[id(contacts)] = prepared
    return prepared


def contact_mentions(text: str, contacts: list[tuple[str, str]]) -> list[tuple[int, int, list[Candidate]]]:
    """Where people are named in ``text``: spans with the contacts they may be, best first.

    A full name, a first or a last name, each possibly possessive ("marie's") or misspelt by
    one letter (two for long names). A first name shared by several contacts gives them all.
    """
    toks = list(re.finditer(r"[A-Za-z\u00C0-\u024F][\w\u00C0-\u024F'-]*", text))
    if not toks or not contacts:
        return []
    names = _names(contacts)
    parts = names.parts
    out: list[tuple[int, int, list[Candidate]]] = []
    i = 0
    while i < len(toks):
        found = None
        for n in (3, 2, 1):
            if i + n > len(toks):
                continue
            span_words = [_fold(t.group(0).lower()) for t in toks[i:i + n]]
            span_words[-1] = re.sub(r"'s$", "", span_words[-1])
            if n == 1 and (span_words[0] in STOP or len(span_words[0]) < 3 or span_words[0] in _NOT_NAMES):
                break
            cands = []
            for k in names.candidates(span_words):
                cid, name, ws = parts[k]
                s = _name_score(span_words, ws)
                if s:
                    cands.append(Candidate(cid, name, s))
            if cands and n == 1 and max(c.score for c in cands) <= 0.8 and i > 0 and toks[i - 1].group(0)[:1].isupper() \
                    and toks[i].group(0)[:1].isupper() and toks[i - 1].start() > 0:
                cands = []  # "Lisa Peeters": a new person's family name, not one of the Peeters we know
            if cands:
                cands.sort(key=lambda c: -c.score)
                top = cands[0].score
                found = (toks[i].start(), toks[i + n - 1].end(), [c for c in cands if c.score >= top - 0.05])
                i += n
                break
        if found:
            out.append(found)
        else:
            i += 1
    return out


_NOT_NAMES = frozenset("contact contacts calendar event events meeting deck decks document documents doc docs slides slide tag "
                       "tags email phone number call lunch dinner add delete remove show find list move cancel today "
                       "tomorrow".split())


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _name_score(span: list[str], name: list[str]) -> float:
    if not name:
        return 0.0
    span = [re.sub(r"s$", "", w) if w.endswith("s") and len(w) > 3 and w[:-1] in name else w for w in span]
    if span == name:
        return 1.0
    if len(span) == 1:
        w = span[0]
        if w == name[0]:
            return 0.9
        if len(name) > 1 and w == name[-1]:
            return 0.8
        if len(w) >= 4 and _near(w, name[0]) >= 0.85:
            return 0.7
        return 0.0
    if len(span) == len(name) and all(_near(a, b) >= 0.7 for a, b in zip(span, name)):
        return 0.95
    if len(span) == 2 and len(name) >= 2 and span[0] == name[0] and _near(span[1], name[-1]) >= 0.7:
        return 0.9
    return 0.0


