"""Natural times for the calendar: ``tomorrow 10am``, ``next friday 3pm``, ``in 2 hours``.

Public API
----------
``local_zone()``            the user's zone (``HERO_TZ``, ``TZ``, /etc/localtime, else UTC).
``parse_when(text)``        an aware datetime in the user's zone.
``is_date_only(text)``      does the phrase name a day without a time (all-day events)?
``parse_date_only(text)``   the day named by a date-only phrase, else ``None``.
``parse_duration(text)``    ``30m``, ``1h30``, ``2 hours``, ``90`` (minutes), ``PT1H30M``...
``to_utc(dt)``              aware datetime -> UTC; naive -> ``InvalidInput``.

Every failure is ``herotui.errors.InvalidInput`` with a hint. Importing this module is
cheap: ``dateparser`` (~100 ms) and ``dateutil`` are imported only when a phrase needs them.

Rules (decisions, so callers and tests can rely on them)
--------------------------------------------------------
* Results are aware, in ``tz``, with whole-second precision (``now`` is truncated).
* A phrase that names a day but no time (``today``, ``friday``, ``dec 5``, ``2026-12-01``,
  ``next week``) resolves to 00:00 of that day; ``is_date_only`` is True for it.
* A bare clock time (``10am``, ``15:00``, ``noon``) is *today*, even if already past;
  say ``tomorrow 8am`` for tomorrow. Bare ``midnight`` is the coming one (00:00 tomorrow);
  ``friday midnight`` is 00:00 at the start of Friday.
* Weekdays: ``friday`` and ``this friday`` are the first Friday on or after today (today
  counts); ``next friday`` is the first Friday strictly after today (so on a Wednesday
  ``friday`` and ``next friday`` are the same day, and on a Friday ``next friday`` is in 7
  days); ``last friday`` is the last Friday strictly before today.
* ``in N minutes/hours/seconds`` (and ``N hours ago``) is elapsed time: it is computed in
  UTC, so ``in 2 hours`` across a DST change is exactly two hours later.
  ``in N days/weeks/months/years`` keeps the wall-clock time of ``now`` (``in 1 day`` at
  01:30 is 01:30 tomorrow, even across a DST change). ``in ...`` phrases are never
  date-only.
* A wall-clock time that does not exist (spring-forward gap) is moved forward by the gap
  (02:30 -> 03:30); an ambiguous one (autumn fold) takes the first occurrence.
* Phrases that name only a month or a year (``december``, ``next month``, ``2027``) and
  bare numbers (``10``) are rejected as too vague.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from herotui import settings
from herotui.errors import InvalidInput

__all__ = [
    "local_zone",
    "parse_when",
    "is_date_only",
    "parse_date_only",
    "parse_duration",
    "to_utc",
]

WHEN_HINT = "try 'tomorrow 10am', 'next friday 3pm', 'in 2 hours' or '2026-12-01 14:00'"
DURATION_HINT = "try '30m', '45 minutes', '1h30', '1.5h', '2 hours', '90' (minutes), '1d' or 'PT1H30M'"
ZONE_HINT = "use an IANA zone name such as 'Europe/Brussels', 'America/New_York' or 'UTC'"

# ---------------------------------------------------------------------------------------
# Zones
# ---------------------------------------------------------------------------------------


def _zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (LookupError, ValueError, OSError, TypeError):  # not found / bad path / a directory
        return None


def _zone_key_from_path(path: str) -> str | None:
    """``/usr/share/zoneinfo/Europe/Brussels`` -> ``Europe/Brussels`` (posix/ and right/ too)."""
    marker = "zoneinfo/"
    idx = path.rfind(marker)
    if idx < 0:
        return None
    key = path[idx + len(marker):]
    for prefix in ("posix/", "right/"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key or None


def _system_zone(link: str = "/etc/localtime", timezone_file: str = "/etc/timezone") -> ZoneInfo | None:
    try:
        target = os.readlink(link)
    except OSError:
        target = None
    if target is not None:
        if not os.path.isabs(target):
            target = os.path.join(os.path.dirname(link), target)
        for candidate in (target, os.path.realpath(link)):
            key = _zone_key_from_path(candidate)
            zone = _zone_or_none(key) if key else None
            if zone is not None:
                return zone
    try:  # Debian-style fallback when /etc/localtime is a copy, not a symlink
        with open(timezone_file, encoding="utf-8") as fh:
            key = fh.read().strip()
    except OSError:
        return None
    return _zone_or_none(key) if key else None


def local_zone() -> ZoneInfo:
    """The user's zone: ``HERO_TZ`` (must be valid), else ``TZ`` if it is an IANA name, else
    the zone /etc/localtime points to, else UTC."""
    hero_tz = (settings.get().HERO_TZ or "").strip()
    if hero_tz:
        zone = _zone_or_none(hero_tz)
        if zone is None:
            raise InvalidInput(f"unknown time zone '{hero_tz}' in HERO_TZ", hint=ZONE_HINT)
        return zone
    tz_env = os.environ.get("TZ", "").strip().lstrip(":")
    if tz_env:
        key = _zone_key_from_path(tz_env) if tz_env.startswith("/") else tz_env
        zone = _zone_or_none(key) if key else None
        if zone is not None:
            return zone
    return _system_zone() or ZoneInfo("UTC")


def _resolve_tz(tz: object | None) -> ZoneInfo:
    if tz is None:
        return local_zone()
    if isinstance(tz, ZoneInfo):
        return tz
    if tz is timezone.utc:
        return ZoneInfo("UTC")
    raise InvalidInput(
        f"unsupported time zone object {tz!r}", hint="pass a zoneinfo.ZoneInfo, e.g. ZoneInfo('Europe/Brussels')"
    )


def _localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; gaps move forward, folds take the first occurrence."""
    aware = naive.replace(tzinfo=tz, fold=0)
    return aware.astimezone(timezone.utc).astimezone(tz)


def _now_in(tz: ZoneInfo, now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(tz)
    elif not isinstance(now, datetime):
        raise InvalidInput(
            f"'now' must be a datetime, not {type(now).__name__}", hint="pass an aware datetime or leave it out"
        )
    elif now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput(
            "'now' is a naive datetime", hint="pass an aware datetime, e.g. datetime.now(ZoneInfo('Europe/Brussels'))"
        )
    return now.astimezone(tz).replace(microsecond=0)


def to_utc(dt: datetime) -> datetime:
    """An aware datetime converted to UTC. Naive datetimes are refused: they must never
    cross a boundary (store, API, another zone)."""
    if not isinstance(dt, datetime):
        raise InvalidInput(f"expected a datetime, got {type(dt).__name__}", hint="use parse_when() to build one")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise InvalidInput(
            f"naive datetime {dt.isoformat()} has no time zone",
            hint="attach a zone first (parse_when() always returns aware datetimes)",
        )
    return dt.astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------
# Phrase grammar for the fast paths
# ---------------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_LIKE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ t]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?:z|[+-]\d{2}(?::?\d{2})?)?)?"
)

_UNIT_WORDS = {
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks",
    "month": "months", "months": "months",
    "y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
}
_ELAPSED_UNITS = {"seconds", "minutes", "hours"}
_UNIT_ALT = "|".join(sorted(_UNIT_WORDS, key=len, reverse=True))
_AMOUNT = r"(?P<n>\d+(?:\.\d+)?|an?|one)"
_REL_IN = re.compile(rf"(?:in\s+){_AMOUNT}\s*(?P<unit>{_UNIT_ALT})(?:\s+from\s+now)?")
_REL_FROM_NOW = re.compile(rf"{_AMOUNT}\s*(?P<unit>{_UNIT_ALT})\s+(?:from\s+now|later)")
_REL_BARE = re.compile(rf"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>{_UNIT_ALT})")  # "2 hours", "30m"
_REL_AGO = re.compile(rf"{_AMOUNT}\s*(?P<unit>{_UNIT_ALT})\s+ago")

_DAY_WORDS = {"today": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomorow": 1, "yesterday": -1}
_DAY_ALT = "|".join(sorted(_DAY_WORDS, key=len, reverse=True))
_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}
_WEEKDAY_ALT = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_DAY_FIRST = re.compile(
    rf"(?:on\s+)?(?:(?P<qual>this|next|coming|last)\s+)?(?P<day>{_DAY_ALT}|{_WEEKDAY_ALT})"
    rf"(?:\s*,?\s+(?:at\s+)?(?P<rest>.+))?"
)
_DAY_LAST = re.compile(
    rf"(?:at\s+)?(?P<rest>.+?)\s*,?\s+(?:on\s+)?(?:(?P<qual>this|next|coming|last)\s+)?"
    rf"(?P<day>{_DAY_ALT}|{_WEEKDAY_ALT})"
)

_CLOCK_WORDS = {
    "noon": time(12), "midday": time(12), "12 noon": time(12), "midnight": time(0),
    # Same values dateparser gives to "this morning", "this afternoon", "this evening", "tonight".
    "morning": time(9), "afternoon": time(15), "evening": time(18), "night": time(20), "tonight": time(20),
}
_CLOCK_12H = re.compile(r"(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ap>[ap])\.?\s*m\.?")
_CLOCK_24H = re.compile(r"(?P<h>\d{1,2})[:h](?P<m>\d{2})(?::(?P<s>\d{2}))?")
_EXPLICIT_MIDNIGHT = re.compile(r"midnight|\b12\s*a\.?\s*m\b|\b0?0[:h.]00\b|\b24:00\b")


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _parse_clock(text: str) -> time | None:
    """``10am``, ``3 pm``, ``10:30``, ``15h30``, ``12pm``, ``noon``, ``evening``... else None."""
    text = re.sub(r"^(?:at|in the|this)\s+", "", text.strip())
    text = re.sub(r"\s*o'?clock$", "", text)
    if text in _CLOCK_WORDS:
        return _CLOCK_WORDS[text]
    m = _CLOCK_12H.fullmatch(text)
    if m:
        hour, minute = int(m["h"]), int(m["m"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if m["ap"] == "p" else 0)
        return time(hour, minute)
    m = _CLOCK_24H.fullmatch(text)
    if m:
        hour, minute, second = int(m["h"]), int(m["m"]), int(m["s"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        return time(hour, minute, second)
    return None


def _amount(raw: str) -> float:
    return 1.0 if raw in ("a", "an", "one") else float(raw)


def _offset(now: datetime, amount: float, unit: str, tz: ZoneInfo) -> datetime:
    """``now`` moved by ``amount`` units: elapsed units in UTC, calendar units on the wall clock."""
    try:
        if unit in _ELAPSED_UNITS:
            moved = now.astimezone(timezone.utc) + timedelta(**{unit: amount})
            return moved.astimezone(tz).replace(microsecond=0)
        from dateutil.relativedelta import relativedelta  # ~12 ms: only moving by months or years pays for it

        if unit in ("months", "years") and amount != int(amount):
            raise InvalidInput(f"cannot move by a fraction of a {unit[:-1]}", hint=WHEN_HINT)
        if unit in ("months", "years"):
            delta = relativedelta(**{unit: int(amount)})
        else:
            delta = relativedelta(**{unit: amount})
        return _localize(now.replace(tzinfo=None) + delta, tz).replace(microsecond=0)
    except (OverflowError, ValueError) as exc:
        raise InvalidInput(f"that is too far away ({exc})", hint=WHEN_HINT) from None


def _day_for(word: str, qual: str | None, today: date) -> date | None:
    if word in _DAY_WORDS:
        if qual:  # "next tomorrow" is not a thing
            return None
        return today + timedelta(days=_DAY_WORDS[word])
    from dateutil.relativedelta import relativedelta, weekday  # ~12 ms: only weekday arithmetic pays for it

    wd = weekday(_WEEKDAYS[word])
    if qual == "next":
        return today + relativedelta(days=+1, weekday=wd(+1))
    if qual == "last":
        return today + relativedelta(days=-1, weekday=wd(-1))
    return today + relativedelta(weekday=wd(+1))  # bare, "this", "coming": today counts


# ---------------------------------------------------------------------------------------
# Resolution: (wall-clock result, has_time)
# ---------------------------------------------------------------------------------------


class _Unsure:
    """A day phrase with a tail that is not a clock time; ``day`` is what the fast path read."""

    def __init__(self, day: date | None) -> None:
        self.day = day


def _fast_paths(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, bool] | _Unsure | None:
    today = now.date()

    if _ISO_LIKE.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(text.upper().replace(" ", "T"))
        except ValueError:
            raise InvalidInput(f"'{text}' is not a valid date", hint=WHEN_HINT) from None
        if parsed.tzinfo is not None:
            return parsed.astimezone(tz), True
        return _localize(parsed, tz), not _ISO_DATE.fullmatch(text)

    if text in ("now", "right now"):
        return now, True

    for pattern, sign in ((_REL_IN, 1), (_REL_FROM_NOW, 1), (_REL_BARE, 1), (_REL_AGO, -1)):
        m = pattern.fullmatch(text)
        if m:
            return _offset(now, sign * _amount(m["n"]), _UNIT_WORDS[m["unit"]], tz), True

    if text == "midnight":  # the coming one
        return _localize(datetime.combine(today + timedelta(days=1), time(0)), tz), True

    for pattern in (_DAY_FIRST, _DAY_LAST):
        m = pattern.fullmatch(text)
        if not m:
            continue
        day = _day_for(m["day"], m["qual"], today)
        if day is None:  # "next tomorrow"
            return _Unsure(None)
        if not m["rest"]:
            return _localize(datetime.combine(day, time(0)), tz), False
        clock = _parse_clock(m["rest"])
        if clock is not None:
            return _localize(datetime.combine(day, clock), tz), True
        return _Unsure(day)

    clock = _parse_clock(text)
    if clock is not None:
        return _localize(datetime.combine(today, clock), tz), True
    return None


_MARK = 424242  # microsecond stamped on RELATIVE_BASE to see which results copied its clock
_PARSERS = ["relative-time", "custom-formats", "absolute-time"]  # no unix timestamps, no "1h30"


def _dateparser_path(text: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, bool] | None:
    import dateparser.date  # lazy: ~100 ms

    base = now.replace(tzinfo=None, microsecond=_MARK)
    settings = {
        "PREFER_DATES_FROM": "future",
        # dateparser localizes with pytz's raw offset of the *base* date: "tomorrow" from
        # 2026-03-29 01:30 Brussels comes back as +01:00 on 2026-03-30 (should be +02:00).
        # So take its wall-clock answer (explicit zones in the text are converted to
        # TIMEZONE first) and attach the zone ourselves with zoneinfo.
        "RETURN_AS_TIMEZONE_AWARE": False,
        "TIMEZONE": tz.key,
        "RELATIVE_BASE": base,
        "PARSERS": _PARSERS,
    }
    try:
        data = dateparser.date.DateDataParser(languages=["en"], settings=settings).get_date_data(text)
    except Exception:  # dateparser raises odd things (ValueError, OverflowError...) on junk
        return None
    result = data.date_obj if data else None
    if result is None:
        return None
    if data.period in ("month", "year"):
        raise InvalidInput(f"'{text}' names a {data.period}, not a day", hint=WHEN_HINT)
    if result.tzinfo is not None:  # defensive: should not happen with the settings above
        result = result.astimezone(tz).replace(tzinfo=None)
    copied_clock = result.microsecond == _MARK
    result = result.replace(microsecond=0)
    if copied_clock and result.time() == base.time().replace(microsecond=0):
        # "next week", "the day after tomorrow": the clock is the base's, not the user's
        return _localize(datetime.combine(result.date(), time(0)), tz), False
    if not copied_clock and result.time() == time(0) and not _EXPLICIT_MIDNIGHT.search(text):
        return _localize(result, tz), False  # "dec 5", "5 december"
    return _localize(result, tz), True


def _resolve(text: str, now: datetime | None, tz: ZoneInfo | None) -> tuple[datetime, bool]:
    if not isinstance(text, str):
        raise InvalidInput(f"expected text for a time, got {type(text).__name__}", hint=WHEN_HINT)
    zone = _resolve_tz(tz)
    current = _now_in(zone, now)
    norm = _normalize(text)
    if not norm:
        raise InvalidInput("no time given", hint=WHEN_HINT)
    if norm.isdigit():  # "10": the 10th? 10:00? October (dateparser's guess)? Refuse.
        raise InvalidInput(f"'{text.strip()}' is ambiguous", hint=WHEN_HINT)
    found = _fast_paths(norm, current, zone)
    if isinstance(found, _Unsure):
        # "friday 3 in the afternoon", "the day after tomorrow": ask dateparser, but it
        # silently drops tails it cannot read ("tomorrow 25:00" -> plain tomorrow), so a
        # date-only answer that is just the day we already read means the tail was junk.
        unsure_day = found.day
        try:
            found = _dateparser_path(norm, current, zone)
        except InvalidInput:  # "friday at 10": dateparser reads October; refuse plainly
            found = None
        if found is not None and not found[1] and (unsure_day is None or found[0].date() == unsure_day):
            found = None
    elif found is None:
        found = _dateparser_path(norm, current, zone)
    if found is None:
        raise InvalidInput(f"cannot understand the time '{text.strip()}'", hint=WHEN_HINT)
    return found


def parse_when(text: str, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> datetime:
    """Parse a natural or ISO 8601 time into an aware datetime in ``tz``.

    ``now`` (aware; default: the current time) anchors relative phrases; ``tz`` defaults to
    ``local_zone()``. ISO input with an offset or ``Z`` is converted to ``tz``; ISO input
    without one is wall-clock time in ``tz``. See the module docstring for the rules:
    date-only phrases give 00:00, a bare clock time is today, ``next friday`` is the first
    Friday strictly after today, ``in 2 hours`` is elapsed time across DST changes.
    """
    return _resolve(text, now, tz)[0]


def is_date_only(text: str, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> bool:
    """True when the phrase names a day without a time (an all-day event): ``tomorrow``,
    ``friday``, ``2026-12-01``, ``dec 5``. False for ``tomorrow 10am``, ``in 2 hours``.
    Unparseable text raises ``InvalidInput`` like ``parse_when``."""
    return not _resolve(text, now, tz)[1]


def parse_date_only(text: str, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> date | None:
    """The day named by a date-only phrase (``dec 5`` -> that date), or ``None`` when the
    phrase carries a time (``dec 5 2pm``). Unparseable text raises ``InvalidInput``."""
    when, has_time = _resolve(text, now, tz)
    return None if has_time else when.date()


# ---------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------

_NUM = r"\d+(?:\.\d+)?"
_ISO_DURATION = re.compile(
    rf"p(?:(?P<w>{_NUM})w)?(?:(?P<d>{_NUM})d)?(?:t(?:(?P<h>{_NUM})h)?(?:(?P<m>{_NUM})m)?(?:(?P<s>{_NUM})s)?)?"
)
_H_THEN_MIN = re.compile(rf"(?P<h>{_NUM})\s*h(?:ours?|rs?)?\s*(?P<m>\d{{1,2}})")  # "1h30", "1 hour 30"
_H_COLON_MIN = re.compile(r"(?P<h>\d+):(?P<m>[0-5]\d)")  # "1:30"
_DURATION_UNITS = {
    "w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks",
    "d": "days", "day": "days", "days": "days",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
}
_DURATION_PART = re.compile(
    rf"(?P<n>{_NUM})\s*(?P<unit>{'|'.join(sorted(_DURATION_UNITS, key=len, reverse=True))})(?![a-z])"
)
_DURATION_PARTS = re.compile(rf"(?:{_DURATION_PART.pattern}\s*)+")


def _sum_parts(text: str) -> timedelta | None:
    """``1h 30m``, ``2 hours and 15 minutes``, ``1d2h``: each unit at most once."""
    cleaned = re.sub(r"\s*(?:,|\band\b)\s*", " ", text).strip()
    if not _DURATION_PARTS.fullmatch(cleaned):
        return None
    total, seen = timedelta(), set()
    for m in _DURATION_PART.finditer(cleaned):
        unit = _DURATION_UNITS[m["unit"]]
        if unit in seen:
            return None
        seen.add(unit)
        total += timedelta(**{unit: float(m["n"])})
    return total


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration: ``30m``, ``30 min``, ``45 minutes``, ``1h``, ``1h30``,
    ``1h30m``, ``1:30``, ``1.5h``, ``2 hours``, ``1h 15m``, ``90`` (a bare number is
    minutes), ``1d``, ``2w``, ``PT1H30M``, ``P1D`` (ISO 8601 without years/months, which have
    no fixed length). Zero, negative or unreadable -> ``InvalidInput``."""
    if not isinstance(text, str):
        raise InvalidInput(f"expected text for a duration, got {type(text).__name__}", hint=DURATION_HINT)
    norm = _normalize(text)
    shown = text.strip()
    if not norm:
        raise InvalidInput("no duration given", hint=DURATION_HINT)
    if norm.startswith("-"):
        raise InvalidInput(f"the duration '{shown}' is negative", hint="durations must be positive; " + DURATION_HINT)
    try:
        result = _parse_duration_value(norm)
    except (OverflowError, ValueError):
        raise InvalidInput(f"the duration '{shown}' is too long", hint=DURATION_HINT) from None
    if result is None:
        raise InvalidInput(f"cannot understand the duration '{shown}'", hint=DURATION_HINT)
    if result <= timedelta(0):
        raise InvalidInput(f"the duration '{shown}' is zero", hint="durations must be positive; " + DURATION_HINT)
    return result


def _parse_duration_value(norm: str) -> timedelta | None:
    if re.fullmatch(_NUM, norm):
        return timedelta(minutes=float(norm))
    m = _ISO_DURATION.fullmatch(norm)
    if m and any(m.group(g) for g in "wdhms") and not norm.endswith("t"):
        return timedelta(
            weeks=float(m["w"] or 0), days=float(m["d"] or 0),
            hours=float(m["h"] or 0), minutes=float(m["m"] or 0), seconds=float(m["s"] or 0),
        )
    m = _H_THEN_MIN.fullmatch(norm) or _H_COLON_MIN.fullmatch(norm)
    if m:
        if int(m["m"]) > 59:
            return None
        return timedelta(hours=float(m["h"]), minutes=int(m["m"]))
    return _sum_parts(norm)
