"""herotui.timeparse: natural times, durations, zones. Every case uses a fixed ``now``."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from herotui import timeparse
from herotui.errors import InvalidInput
from herotui.timeparse import (
    is_date_only,
    local_zone,
    parse_date_only,
    parse_duration,
    parse_when,
    to_utc,
)

BRU = ZoneInfo("Europe/Brussels")
UTC = timezone.utc
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=BRU)  # a Wednesday, CET (+01:00)
WHEN_HINT = "try 'tomorrow 10am', 'next friday 3pm', 'in 2 hours' or '2026-12-01 14:00'"


def when(text: str, now: datetime = NOW, tz: ZoneInfo = BRU) -> datetime:
    return parse_when(text, now=now, tz=tz)


def bru(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRU)


def assert_same(got: datetime, expected: datetime) -> None:
    """Same instant, same wall clock, same zone (== alone compares instants only)."""
    assert got == expected
    assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert got.tzinfo is expected.tzinfo
    assert got.utcoffset() == expected.utcoffset()


# --------------------------------------------------------------------------- phrases


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", bru(2026, 11, 25, 0, 0)),
        ("tomorrow", bru(2026, 11, 26, 0, 0)),
        ("tomorrow 10am", bru(2026, 11, 26, 10, 0)),
        ("tomorrow at 10:30", bru(2026, 11, 26, 10, 30)),
        ("next friday 3pm", bru(2026, 11, 27, 15, 0)),
        ("friday 3pm", bru(2026, 11, 27, 15, 0)),
        ("this friday", bru(2026, 11, 27, 0, 0)),
        ("monday", bru(2026, 11, 30, 0, 0)),
        ("in 2 hours", bru(2026, 11, 25, 11, 0)),
        ("in 30 minutes", bru(2026, 11, 25, 9, 30)),
        ("in 3 days", bru(2026, 11, 28, 9, 0)),
        ("10am", bru(2026, 11, 25, 10, 0)),
        ("3 pm", bru(2026, 11, 25, 15, 0)),
        ("noon", bru(2026, 11, 25, 12, 0)),
        ("dec 5 2pm", bru(2026, 12, 5, 14, 0)),
        ("5 december", bru(2026, 12, 5, 0, 0)),
        ("yesterday 9am", bru(2026, 11, 24, 9, 0)),
        # more forms
        ("dec 5", bru(2026, 12, 5, 0, 0)),
        ("Tomorrow  10AM", bru(2026, 11, 26, 10, 0)),
        ("2pm tomorrow", bru(2026, 11, 26, 14, 0)),
        ("noon tomorrow", bru(2026, 11, 26, 12, 0)),
        ("next friday at 15:30", bru(2026, 11, 27, 15, 30)),
        ("on fri 9:15", bru(2026, 11, 27, 9, 15)),
        ("tomorrow 10 a.m.", bru(2026, 11, 26, 10, 0)),
        ("tomorrow 12pm", bru(2026, 11, 26, 12, 0)),
        ("tomorrow 12am", bru(2026, 11, 26, 0, 0)),
        ("tomorrow morning", bru(2026, 11, 26, 9, 0)),
        ("friday evening", bru(2026, 11, 27, 18, 0)),
        ("tonight", bru(2026, 11, 25, 20, 0)),
        ("8am", bru(2026, 11, 25, 8, 0)),  # a bare time is today even when already past
        ("midnight", bru(2026, 11, 26, 0, 0)),  # the coming one
        ("now", bru(2026, 11, 25, 9, 0)),
        ("in an hour", bru(2026, 11, 25, 10, 0)),
        ("in 1.5 hours", bru(2026, 11, 25, 10, 30)),
        ("2 hours", bru(2026, 11, 25, 11, 0)),
        ("in 2 weeks", bru(2026, 12, 9, 9, 0)),
        ("in 1 month", bru(2026, 12, 25, 9, 0)),
        ("3 days from now", bru(2026, 11, 28, 9, 0)),
        ("2 days ago", bru(2026, 11, 23, 9, 0)),
        ("next week", bru(2026, 12, 2, 0, 0)),
        ("the day after tomorrow", bru(2026, 11, 27, 0, 0)),
        ("dec 5th at 14:00", bru(2026, 12, 5, 14, 0)),
        ("feb 3", bru(2027, 2, 3, 0, 0)),  # dates in the past roll to next year
    ],
)
def test_natural_phrases(text: str, expected: datetime) -> None:
    assert_same(when(text), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", bru(2026, 12, 1, 0, 0)),
        ("2026-12-01 10:00", bru(2026, 12, 1, 10, 0)),
        ("2026-12-01T10:00", bru(2026, 12, 1, 10, 0)),
        ("2026-12-01T10:00:30", bru(2026, 12, 1, 10, 0, 30)),
        ("2026-12-01T10:00+01:00", bru(2026, 12, 1, 10, 0)),
        ("2026-12-01T10:00+05:00", bru(2026, 12, 1, 6, 0)),
        ("2026-12-01T10:00Z", bru(2026, 12, 1, 11, 0)),
        ("2026-12-01t10:00z", bru(2026, 12, 1, 11, 0)),
        ("2026-07-01T10:00Z", bru(2026, 7, 1, 12, 0)),  # summer: +02:00
    ],
)
def test_iso_8601(text: str, expected: datetime) -> None:
    assert_same(when(text), expected)


def test_result_is_aware_in_requested_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    got = parse_when("tomorrow 10am", now=NOW, tz=tokyo)
    # NOW is 17:00 in Tokyo on the 25th, so tomorrow is the 26th there too
    assert_same(got, datetime(2026, 11, 26, 10, 0, tzinfo=tokyo))


def test_now_in_another_zone_is_converted_first() -> None:
    # 2026-11-25 23:30 UTC is already Thursday 00:30 in Brussels: "tomorrow" is Friday
    now_utc = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert_same(when("tomorrow", now=now_utc), bru(2026, 11, 27, 0, 0))


def test_explicit_zone_in_phrase_is_converted() -> None:
    assert when("3pm utc") == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert when("3pm utc").tzinfo is BRU


def test_results_have_second_precision() -> None:
    now = datetime(2026, 11, 25, 9, 0, 12, 987654, tzinfo=BRU)
    assert_same(when("in 2 hours", now=now), bru(2026, 11, 25, 11, 0, 12))


def test_defaults_use_local_zone_and_current_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERO_TZ", "Europe/Brussels")
    before = datetime.now(UTC).replace(microsecond=0)
    got = parse_when("in 2 hours")
    after = datetime.now(UTC)
    assert got.tzinfo is BRU
    assert before + timedelta(hours=2) <= got <= after + timedelta(hours=2)


# --------------------------------------------------------------------------- weekdays


FRIDAY = datetime(2026, 11, 27, 9, 0, tzinfo=BRU)


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        # on a Wednesday: "friday", "this friday" and "next friday" are all the 27th
        ("friday", NOW, bru(2026, 11, 27, 0, 0)),
        ("next friday", NOW, bru(2026, 11, 27, 0, 0)),
        ("coming friday", NOW, bru(2026, 11, 27, 0, 0)),
        ("wednesday", NOW, bru(2026, 11, 25, 0, 0)),  # today counts for a bare weekday
        ("next wednesday", NOW, bru(2026, 12, 2, 0, 0)),  # strictly after today
        ("last wednesday", NOW, bru(2026, 11, 18, 0, 0)),  # strictly before today
        ("last friday", NOW, bru(2026, 11, 20, 0, 0)),
        ("sunday 10am", NOW, bru(2026, 11, 29, 10, 0)),
        ("tue", NOW, bru(2026, 12, 1, 0, 0)),
        # on a Friday
        ("friday", FRIDAY, bru(2026, 11, 27, 0, 0)),
        ("this friday 3pm", FRIDAY, bru(2026, 11, 27, 15, 0)),
        ("next friday 3pm", FRIDAY, bru(2026, 12, 4, 15, 0)),
        ("monday", FRIDAY, bru(2026, 11, 30, 0, 0)),
        # across a month and a year end
        ("next friday", datetime(2026, 12, 30, 12, 0, tzinfo=BRU), bru(2027, 1, 1, 0, 0)),
    ],
)
def test_weekday_rules(text: str, now: datetime, expected: datetime) -> None:
    assert_same(when(text, now=now), expected)


# --------------------------------------------------------------------------- DST

SPRING_NOW = datetime(2026, 3, 29, 1, 30, tzinfo=BRU)  # 00:30 UTC, 30 min before CET -> CEST
AUTUMN_NOW = datetime(2026, 10, 25, 1, 30, tzinfo=BRU)  # 23:30 UTC (24th), CEST, before fall-back


def test_in_two_hours_across_spring_forward_is_two_real_hours() -> None:
    got = when("in 2 hours", now=SPRING_NOW)
    assert to_utc(got) == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert_same(got, bru(2026, 3, 29, 4, 30))  # wall clock jumped 02:00 -> 03:00
    assert got.utcoffset() == timedelta(hours=2)


def test_in_two_hours_across_fall_back_is_two_real_hours() -> None:
    got = when("in 2 hours", now=AUTUMN_NOW)
    assert to_utc(got) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert got.replace(tzinfo=None) == datetime(2026, 10, 25, 2, 30)
    assert got.utcoffset() == timedelta(hours=1)  # the second 02:30 (CET)


def test_in_one_day_keeps_wall_clock_across_dst() -> None:
    got = when("in 1 day", now=SPRING_NOW)
    assert_same(got, bru(2026, 3, 30, 1, 30))
    assert to_utc(got) == datetime(2026, 3, 29, 23, 30, tzinfo=UTC)  # only 23 real hours


def test_day_after_spring_forward_gets_summer_offset() -> None:
    # dateparser's own aware output would say +01:00 here (pytz offset of the base date)
    for text in ("tomorrow 3pm", "march 30 3pm", "30 march 3pm"):
        got = when(text, now=SPRING_NOW)
        assert to_utc(got) == datetime(2026, 3, 30, 13, 0, tzinfo=UTC), text
        assert got.utcoffset() == timedelta(hours=2), text


def test_dateparser_path_across_dst_uses_zoneinfo_offsets() -> None:
    before = datetime(2026, 3, 27, 12, 0, tzinfo=BRU)
    got = when("the day after tomorrow", now=before)  # goes through dateparser
    assert_same(got, bru(2026, 3, 29, 0, 0))
    got = when("next week", now=before)
    assert to_utc(got) == datetime(2026, 4, 2, 22, 0, tzinfo=UTC)


def test_nonexistent_wall_time_moves_forward() -> None:
    got = when("2026-03-29 02:30", now=SPRING_NOW)
    assert to_utc(got) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert_same(got, bru(2026, 3, 29, 3, 30))
    assert_same(when("today 2:30am", now=SPRING_NOW), bru(2026, 3, 29, 3, 30))


def test_ambiguous_wall_time_takes_first_occurrence() -> None:
    got = when("2026-10-25 02:30", now=AUTUMN_NOW)
    assert to_utc(got) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # CEST, the first one


# --------------------------------------------------------------------------- date-only


@pytest.mark.parametrize(
    "text",
    ["today", "tomorrow", "yesterday", "friday", "next friday", "monday", "2026-12-01", "dec 5",
     "5 december", "next week", "the day after tomorrow"],
)
def test_date_only_phrases(text: str) -> None:
    assert is_date_only(text, now=NOW, tz=BRU) is True
    day = parse_date_only(text, now=NOW, tz=BRU)
    assert isinstance(day, date) and not isinstance(day, datetime)
    assert day == when(text).date()
    assert when(text).time() == datetime.min.time()


@pytest.mark.parametrize(
    "text",
    ["tomorrow 10am", "in 2 hours", "in 3 days", "10am", "noon", "midnight", "dec 5 2pm",
     "2026-12-01 10:00", "2026-12-01T00:00Z", "friday 3pm", "tonight", "now", "tomorrow 12am"],
)
def test_timed_phrases(text: str) -> None:
    assert is_date_only(text, now=NOW, tz=BRU) is False
    assert parse_date_only(text, now=NOW, tz=BRU) is None


def test_explicit_midnight_through_dateparser_is_timed() -> None:
    assert is_date_only("dec 5 at 00:00", now=NOW, tz=BRU) is False
    assert_same(when("dec 5 at 00:00"), bru(2026, 12, 5, 0, 0))


def test_parse_date_only_value() -> None:
    assert parse_date_only("dec 5", now=NOW, tz=BRU) == date(2026, 12, 5)
    assert parse_date_only("next friday", now=FRIDAY, tz=BRU) == date(2026, 12, 4)


def test_is_date_only_rejects_garbage() -> None:
    with pytest.raises(InvalidInput):
        is_date_only("blurgh", now=NOW, tz=BRU)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("text", ["blurgh", "31 feb"])
def test_unparseable_message_and_hint(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        when(text)
    assert info.value.message == f"cannot understand the time '{text}'"
    assert info.value.hint == WHEN_HINT


@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "blurgh", "31 feb", "13pm", "25:00", "tomorrow 25:00", "tomorrow 3",
        "friday blurgh", "next tomorrow", "10", "1700000000", "december", "next month", "a",
        "2026-02-31", "2026-13-01", "2026-12-01 24:30", "in 99999999999 years",
        "in 1.5 months", "friday at 10",
    ],
)
def test_bad_phrases_raise_invalid_input_with_hint(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        when(text)
    assert info.value.hint
    assert info.value.code == "invalid"


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_when("tomorrow", now=datetime(2026, 11, 25, 9, 0), tz=BRU)
    assert info.value.hint


def test_non_string_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_when(None, now=NOW, tz=BRU)  # type: ignore[arg-type]


def test_stdlib_utc_is_accepted_other_tzinfo_refused() -> None:
    assert parse_when("2026-12-01 10:00", now=NOW, tz=UTC) == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        parse_when("today", now=NOW, tz=timezone(timedelta(hours=3)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("30 min", timedelta(minutes=30)),
        ("30 mins", timedelta(minutes=30)),
        ("45 minutes", timedelta(minutes=45)),
        ("1h", timedelta(hours=1)),
        ("1h30", timedelta(hours=1, minutes=30)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1 hour 30", timedelta(hours=1, minutes=30)),
        ("2 hours and 15 minutes", timedelta(hours=2, minutes=15)),
        ("1:30", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("2 hours", timedelta(hours=2)),
        ("90", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("2 days", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("pt45m", timedelta(minutes=45)),
        ("PT90S", timedelta(seconds=90)),
        ("P1D", timedelta(days=1)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("  2H ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "0", "0m", "PT0M", "-30m", "-1h", "garbage", "PT", "P", "P1M", "P1Y", "1h1h", "1h75",
     "30 parsecs", "m", "1.2.3h", "99999999999999999d"],
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_duration(text)
    assert info.value.hint


def test_zero_and_negative_duration_messages() -> None:
    with pytest.raises(InvalidInput, match="zero"):
        parse_duration("0m")
    with pytest.raises(InvalidInput, match="negative"):
        parse_duration("-30m")


# --------------------------------------------------------------------------- to_utc


def test_to_utc() -> None:
    got = to_utc(bru(2026, 7, 1, 12, 0))
    assert got == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert got.tzinfo is UTC


def test_to_utc_refuses_naive_and_non_datetimes() -> None:
    with pytest.raises(InvalidInput) as info:
        to_utc(datetime(2026, 7, 1, 12, 0))
    assert info.value.hint
    with pytest.raises(InvalidInput):
        to_utc(date(2026, 7, 1))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- local_zone


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("HERO_TZ", raising=False)
    monkeypatch.delenv("TZ", raising=False)
    return monkeypatch


def test_local_zone_hero_tz_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HERO_TZ", "Asia/Tokyo")
    clean_env.setenv("TZ", "Europe/Brussels")
    assert local_zone() == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "Europe", "../etc/passwd", "CET-1CEST"])
def test_local_zone_invalid_hero_tz(clean_env: pytest.MonkeyPatch, bad: str) -> None:
    clean_env.setenv("HERO_TZ", bad)
    with pytest.raises(InvalidInput) as info:
        local_zone()
    assert bad in info.value.message
    assert "Europe/Brussels" in info.value.hint


@pytest.mark.parametrize(
    ("tz_env", "expected"),
    [("Europe/Brussels", "Europe/Brussels"), (":America/New_York", "America/New_York"),
     ("/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo")],
)
def test_local_zone_from_tz_env(clean_env: pytest.MonkeyPatch, tz_env: str, expected: str) -> None:
    clean_env.setenv("TZ", tz_env)
    assert local_zone() == ZoneInfo(expected)


def test_local_zone_ignores_posix_tz_and_falls_back(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    clean_env.setattr(timeparse, "_system_zone", lambda: ZoneInfo("Europe/Paris"))
    assert local_zone() == ZoneInfo("Europe/Paris")
    clean_env.setattr(timeparse, "_system_zone", lambda: None)
    assert local_zone() == ZoneInfo("UTC")


def test_system_zone_from_localtime_symlink(tmp_path: Path) -> None:
    link = tmp_path / "localtime"
    os.symlink("/usr/share/zoneinfo/Europe/Brussels", link)
    assert timeparse._system_zone(str(link), str(tmp_path / "missing")) == BRU
    posix = tmp_path / "posix_localtime"
    os.symlink("../usr/share/zoneinfo/posix/Asia/Tokyo", posix)
    assert timeparse._system_zone(str(posix), str(tmp_path / "missing")) == ZoneInfo("Asia/Tokyo")


def test_system_zone_from_timezone_file(tmp_path: Path) -> None:
    (tmp_path / "timezone").write_text("America/Chicago\n", encoding="utf-8")
    got = timeparse._system_zone(str(tmp_path / "no-localtime"), str(tmp_path / "timezone"))
    assert got == ZoneInfo("America/Chicago")
    assert timeparse._system_zone(str(tmp_path / "no"), str(tmp_path / "no")) is None


# --------------------------------------------------------------------------- import cost


def test_import_is_cheap_and_lazy() -> None:
    code = (
        "import sys, herotui.timeparse as t\n"
        "heavy = [m for m in ('dateparser', 'dateutil', 'pytz', 'regex') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
