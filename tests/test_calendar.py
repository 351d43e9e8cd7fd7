"""The calendar service: natural times, time zones and DST, recurrence, attendees, iCalendar.

Real DuckDB and Tantivy in the temporary HERO_HOME of conftest (HERO_TZ=Europe/Brussels).
Times are given as explicit ISO text wherever the test is about something else than the
natural-language reading, so results do not depend on when the tests run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from herotui import registry, timeparse
from herotui.errors import Ambiguous, ConfirmationRequired, InvalidInput, NotFound

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "contexts" / "demo"
BRU = ZoneInfo("Europe/Brussels")
UTC = timezone.utc


def cal(verb: str, ctx, **args):
    return registry.call(f"calendar.{verb}", args, ctx, actor="test", confirmed=True)


def bru(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRU)


def starts(occurrences) -> list[datetime]:
    return [o.start for o in occurrences]


def ics(body: str) -> str:
    """A VCALENDAR around ``body`` (indented text allowed), CRLF line ends."""
    text = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n" + textwrap.dedent(body).strip() + "\nEND:VCALENDAR\n"
    return text.replace("\n", "\r\n")


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ---------------------------------------------------------------------------------------
# add: times, durations, errors
# ---------------------------------------------------------------------------------------


def test_add_iso_start_with_duration_is_stored_in_utc_and_shown_local(ctx):
    ev = cal("add", ctx, title="Quarterly review", start="2026-03-02 10:00", duration="1h30",
             location="Room 3", description="Q4 numbers", tags=["Finance, quarterly"])
    assert ev.start == bru(2026, 3, 2, 10, 0) and ev.start.utcoffset() == timedelta(hours=1)
    assert ev.end == bru(2026, 3, 2, 11, 30)
    assert (ev.tz, ev.all_day, ev.location, ev.tags) == ("Europe/Brussels", False, "Room 3", ["finance", "quarterly"])
    with ctx.read() as conn:
        stored = conn.execute('SELECT start, "end" FROM events WHERE id = ?', [ev.id]).fetchone()
    assert stored == (datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 2, 10, 30))  # naive UTC
    shown = cal("show", ctx, id=ev.id[:10])
    assert (shown.id, shown.title, shown.start) == (ev.id, "Quarterly review", ev.start)


def test_add_natural_start_and_default_length_of_one_hour(ctx):
    ev = cal("add", ctx, title="Call Lena", start="tomorrow 10am")
    expected = timeparse.parse_when("tomorrow 10am", tz=BRU)
    assert ev.start == expected and (ev.start.hour, ev.start.minute) == (10, 0)
    assert ev.start.date() == datetime.now(BRU).date() + timedelta(days=1)
    assert ev.end - ev.start == timedelta(hours=1)


def test_add_in_two_hours_with_a_duration(ctx):
    before = datetime.now(UTC).replace(microsecond=0)
    ev = cal("add", ctx, title="Focus", start="in 2 hours", duration="30m")
    after = datetime.now(UTC)
    assert before + timedelta(hours=2) <= ev.start <= after + timedelta(hours=2)
    assert ev.end - ev.start == timedelta(minutes=30)


def test_bare_clock_end_is_on_the_start_day(ctx):
    ev = cal("add", ctx, title="Workshop", start="2026-06-10 14:00", end="16:30")
    assert (ev.start, ev.end) == (bru(2026, 6, 10, 14), bru(2026, 6, 10, 16, 30))
    late = cal("add", ctx, title="Party", start="2026-03-06 22:00", end="saturday 2am")  # a Friday start
    assert late.end == bru(2026, 3, 7, 2)
    weekend = cal("add", ctx, title="Weekend away", start="2026-03-06", end="sunday")
    assert weekend.all_day and (weekend.start, weekend.end) == (bru(2026, 3, 6), bru(2026, 3, 9))


def test_event_in_another_zone_keeps_its_zone_and_shows_in_mine(ctx):
    ev = cal("add", ctx, title="NY call", start="2026-07-01 09:00", tz="America/New_York")
    assert ev.tz == "America/New_York"
    assert ev.start == datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("America/New_York"))
    assert ev.start.tzinfo.key == "Europe/Brussels" and ev.start.hour == 15  # 09:00 EDT = 15:00 CEST


@pytest.mark.parametrize("args, fragment", [
    ({"start": "2026-03-02 10:00", "end": "2026-03-02 09:00"}, "before the start"),
    ({"start": "2026-03-02 10:00", "end": "9am"}, "before the start"),
    ({"start": "the 45th of nevember"}, "cannot understand"),
    ({"start": "2026-02-30 10:00"}, "not a valid date"),
    ({"start": "2026-03-02 10:00", "duration": "soon"}, "duration"),
    ({"start": "2026-03-02 10:00", "end": "11:00", "duration": "1h"}, "not both"),
    ({"start": "2026-03-02 10:00", "rrule": "FREQ=SOMETIMES"}, "FREQ"),
    ({"start": "2026-03-02 10:00", "rrule": "FREQ=WEEKLY;BYDAY=XX"}, "BYDAY"),
    ({"start": "2026-03-02 10:00", "repeat": "fortnightly"}, "--repeat"),
    ({"start": "2026-03-02", "duration": "36h"}, "whole days"),
    ({"start": "2026-03-02 10:00", "tz": "Mars/Olympus"}, "time zone"),
    ({"start": "2026-03-02 10:00", "attendees": ["bad@"]}, "email"),
])
def test_bad_input_is_refused_and_nothing_is_written(ctx, args, fragment):
    with pytest.raises(InvalidInput) as err:
        cal("add", ctx, title="Nope", **args)
    assert fragment in err.value.message
    assert cal("list", ctx, start="2026-01-01", end="2026-12-31") == []
    with ctx.read() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


# ---------------------------------------------------------------------------------------
# all-day events
# ---------------------------------------------------------------------------------------


def test_a_day_alone_makes_an_all_day_event(ctx):
    ev = cal("add", ctx, title="Offsite", start="2026-03-06")
    assert ev.all_day is True
    assert (ev.start, ev.end) == (bru(2026, 3, 6), bru(2026, 3, 7))
    with ctx.read() as conn:  # a floating date, not a UTC instant
        assert conn.execute('SELECT start, "end" FROM events').fetchone() == (datetime(2026, 3, 6), datetime(2026, 3, 7))
    assert [o.title for o in cal("list", ctx, start="2026-03-06", end="2026-03-06")] == ["Offsite"]
    assert cal("list", ctx, start="2026-03-07", end="2026-03-07") == []
    assert cal("list", ctx, start="2026-03-05", end="2026-03-05") == []


def test_all_day_end_is_the_last_day_and_flag_drops_the_time(ctx):
    trip = cal("add", ctx, title="Trip", start="2026-03-06", end="2026-03-08")
    assert (trip.start, trip.end) == (bru(2026, 3, 6), bru(2026, 3, 9))
    flagged = cal("add", ctx, title="Holiday", start="2026-05-01 10:00", all_day=True, duration="2d")
    assert flagged.all_day and (flagged.start, flagged.end) == (bru(2026, 5, 1), bru(2026, 5, 3))
    titles = [o.title for o in cal("list", ctx, start="2026-03-08", end="2026-03-08")]
    assert titles == ["Trip"]


# ---------------------------------------------------------------------------------------
# recurrence
# ---------------------------------------------------------------------------------------


def test_weekly_event_stays_at_nine_local_across_dst(ctx):
    ev = cal("add", ctx, title="Team sync", start="2026-03-16 09:00", rrule="FREQ=WEEKLY;BYDAY=MO", tz="Europe/Brussels")
    occ = cal("list", ctx, start="2026-03-16", end="2026-04-12")
    assert [o.id for o in occ] == [ev.id] * 4 and all(o.recurring for o in occ)
    assert [(o.start.date(), o.start.hour, o.start.minute) for o in occ] == [
        (date(2026, 3, 16), 9, 0), (date(2026, 3, 23), 9, 0), (date(2026, 3, 30), 9, 0), (date(2026, 4, 6), 9, 0)]
    assert [o.start.astimezone(UTC).hour for o in occ] == [8, 8, 7, 7]  # DST began 2026-03-29
    assert all(o.end - o.start == timedelta(hours=1) for o in occ)


def test_recurrence_runs_on_the_event_zone_not_mine(ctx):
    ny = ZoneInfo("America/New_York")
    cal("add", ctx, title="NY standup", start="2026-03-02 09:00", repeat="weekly", tz="America/New_York")
    occ = cal("list", ctx, start="2026-03-02", end="2026-04-05")
    assert all(o.start.astimezone(ny).hour == 9 for o in occ) and len(occ) == 5
    # US DST starts 2026-03-08, EU on 2026-03-29: in Brussels the meeting moves 15:00 -> 14:00 -> 15:00
    assert [o.start.hour for o in occ] == [15, 14, 14, 14, 15]


def test_repeat_weekdays_and_count(ctx):
    cal("add", ctx, title="Standup", start="2026-03-02 09:15", duration="15m", rrule="FREQ=DAILY;COUNT=3")
    cal("add", ctx, title="Focus", start="2026-03-06 08:00", repeat="weekdays")
    occ = cal("list", ctx, start="2026-03-02", end="2026-03-10")
    assert [o.start.day for o in occ if o.title == "Standup"] == [2, 3, 4]
    assert [o.start.day for o in occ if o.title == "Focus"] == [6, 9, 10]  # no weekend


def test_until_in_local_form_is_accepted_and_honoured(ctx):
    ev = cal("add", ctx, title="Course", start="2026-03-03 18:00", rrule="FREQ=WEEKLY;UNTIL=20260317")
    assert ev.rrule.endswith("UNTIL=20260317T225959Z")  # end of that day, Brussels, in UTC
    assert [o.start.day for o in cal("list", ctx, start="2026-03-01", end="2026-04-30")] == [3, 10, 17]


def test_skip_one_occurrence_adds_an_exdate(ctx):
    ev = cal("add", ctx, title="Team sync", start="2026-03-16 09:00", repeat="weekly")
    updated = cal("update", ctx, id=ev.id, skip=["2026-03-23"])
    assert updated.exdates == [bru(2026, 3, 23, 9)]
    assert [o.start.day for o in cal("list", ctx, start="2026-03-16", end="2026-04-05")] == [16, 30]
    with pytest.raises(InvalidInput, match="no occurrence"):
        cal("update", ctx, id=ev.id, skip=["2026-03-25"])  # a Wednesday
    single = cal("add", ctx, title="Once", start="2026-03-16 12:00")
    with pytest.raises(InvalidInput, match="recurring"):
        cal("update", ctx, id=single.id, skip=["2026-03-16"])


def test_moving_a_series_moves_its_exclusions(ctx):
    ev = cal("add", ctx, title="Sync", start="2026-03-16 09:00", repeat="weekly")
    cal("update", ctx, id=ev.id, skip=["2026-03-23"])
    moved = cal("update", ctx, id=ev.id, start="2026-03-16 11:00")
    assert moved.exdates == [bru(2026, 3, 23, 11)] and moved.end == bru(2026, 3, 16, 12)
    occ = cal("list", ctx, start="2026-03-16", end="2026-04-05")
    assert [(o.start.day, o.start.hour) for o in occ] == [(16, 11), (30, 11)]


# ---------------------------------------------------------------------------------------
# today, week, agenda, next
# ---------------------------------------------------------------------------------------


def test_today_week_agenda_and_next(ctx):
    today = datetime.now(BRU).date()
    monday_next = today - timedelta(days=today.weekday()) + timedelta(days=7)
    cal("add", ctx, title="All day today", start=today.isoformat())
    cal("add", ctx, title="Old", start=(today - timedelta(days=3)).isoformat() + " 10:00")
    soon = cal("add", ctx, title="Soon", start="in 2 hours")
    cal("add", ctx, title="Later", start="in 3 hours")
    cal("add", ctx, title="Next week", start=monday_next.isoformat() + " 10:00")

    assert "All day today" in [o.title for o in cal("today", ctx)]
    assert "Old" not in [o.title for o in cal("today", ctx)]
    this_week = [o.title for o in cal("week", ctx)]
    assert "All day today" in this_week and "Next week" not in this_week
    assert [o.title for o in cal("week", ctx, offset=1)][-1] == "Next week"
    agenda = [o.title for o in cal("agenda", ctx, days=14)]
    assert agenda[0] == "All day today" and "Soon" in agenda and "Next week" in agenda and "Old" not in agenda
    first = cal("next", ctx)
    assert (first.id, first.title) == (soon.id, "Soon")


def test_next_follows_a_recurring_series_and_reports_nothing(ctx):
    with pytest.raises(NotFound, match="no upcoming events"):
        cal("next", ctx)
    cal("add", ctx, title="Past", start="2026-01-05 09:00")
    # two days ago, 5 minutes later than now: today's occurrence is never at the minute now runs
    earlier = (datetime.now(BRU) - timedelta(days=2) + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    ev = cal("add", ctx, title="Daily", start=earlier, repeat="daily")
    nxt = cal("next", ctx)
    assert nxt.id == ev.id and nxt.recurring
    assert timedelta(0) <= nxt.start - datetime.now(UTC) <= timedelta(days=1)


# ---------------------------------------------------------------------------------------
# attendees
# ---------------------------------------------------------------------------------------


def _contact(ctx, name, email):
    return registry.call("contact.create", {"name": name, "emails": [email]}, ctx, actor="test")


def test_attendees_are_linked_to_contacts(ctx):
    alex = _contact(ctx, "Alex Smith", "alex.smith@northwind.example")
    lena = _contact(ctx, "Lena Fischer", "lena@lumen.example")
    ev = cal("add", ctx, title="Review", start="2026-03-02 10:00",
             attendees=["alex", "LENA@lumen.example", "Bob Free", "carol@example.org"])
    got = [(a.name, a.email, a.contact_id) for a in ev.attendees]
    assert got == [
        ("Alex Smith", "alex.smith@northwind.example", alex.id),
        ("Lena Fischer", "lena@lumen.example", lena.id),
        ("Bob Free", None, None),
        (None, "carol@example.org", None),
    ]
    by_id = cal("update", ctx, id=ev.id, attendees=[lena.id[:12]])
    assert [(a.name, a.contact_id) for a in by_id.attendees] == [("Lena Fischer", lena.id)]
    cleared = cal("update", ctx, id=ev.id, attendees=[""])
    assert cleared.attendees == []


def test_ambiguous_attendee_lists_the_candidates_and_writes_nothing(ctx):
    _contact(ctx, "Alex Smith", "alex@a.example")
    _contact(ctx, "Alex Brown", "alex@b.example")
    with pytest.raises(Ambiguous) as err:
        cal("add", ctx, title="Lunch", start="2026-03-02 12:00", attendees=["Alex"])
    assert "Alex Smith" in err.value.message and "Alex Brown" in err.value.message
    with ctx.read() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    ev = cal("add", ctx, title="Lunch", start="2026-03-02 12:00", attendees=["alex brown"])
    assert ev.attendees[0].name == "Alex Brown" and ev.attendees[0].contact_id


# ---------------------------------------------------------------------------------------
# update, delete, search
# ---------------------------------------------------------------------------------------


def test_update_moves_keeping_the_length_and_replaces_fields(ctx):
    ev = cal("add", ctx, title="Review", start="2026-03-02 10:00", duration="45m", tags=["a", "b"], location="X")
    moved = cal("update", ctx, id=ev.id, start="2026-03-04")  # a day alone keeps the time of day
    assert (moved.start, moved.end) == (bru(2026, 3, 4, 10), bru(2026, 3, 4, 10, 45))
    changed = cal("update", ctx, id=ev.id, title="Review v2", tags=["c"], location="", duration="2h",
                  repeat="weekly")
    assert (changed.title, changed.tags, changed.location, changed.end) == ("Review v2", ["c"], None, bru(2026, 3, 4, 12))
    assert changed.rrule == "FREQ=WEEKLY"
    assert cal("update", ctx, id=ev.id, rrule="").rrule is None
    allday = cal("update", ctx, id=ev.id, all_day=True)
    assert allday.all_day and (allday.start, allday.end) == (bru(2026, 3, 4), bru(2026, 3, 5))
    timed = cal("update", ctx, id=ev.id, start="2026-03-05 15:00")
    assert not timed.all_day and (timed.start, timed.end) == (bru(2026, 3, 5, 15), bru(2026, 3, 5, 16))
    with pytest.raises(InvalidInput, match="before the start"):
        cal("update", ctx, id=ev.id, end="2026-03-05 14:00")
    with pytest.raises(InvalidInput, match="nothing to update"):
        cal("update", ctx, id=ev.id)
    assert cal("show", ctx, id=ev.id).start == bru(2026, 3, 5, 15)


def test_delete_needs_confirmation_then_removes_and_unknown_ids_are_not_found(ctx):
    ev = cal("add", ctx, title="Temporary", start="2026-03-02 10:00")
    with pytest.raises(ConfirmationRequired):
        registry.call("calendar.delete", {"id": ev.id}, ctx, actor="test")
    gone = cal("delete", ctx, id=ev.id[:12])
    assert (gone.id, gone.title) == (ev.id, "Temporary")
    with pytest.raises(NotFound):
        cal("show", ctx, id=ev.id)
    with pytest.raises(NotFound):
        cal("update", ctx, id="ZZZZZZ", title="x")
    assert cal("search", ctx, query="temporary") == []


def test_search_finds_events_by_title_place_and_attendee(ctx):
    a = cal("add", ctx, title="Quarterly report review", start="2026-03-02 10:00", location="Antwerp",
            attendees=["Emma Janssens <emma@northwind.example>"])
    cal("add", ctx, title="Dentist", start="2026-03-03 08:00")
    assert [e.id for e in cal("search", ctx, query="quartrly")] == [a.id]
    assert [e.id for e in cal("search", ctx, query="antwerp")] == [a.id]
    assert [e.id for e in cal("search", ctx, query="janssens")] == [a.id]


# ---------------------------------------------------------------------------------------
# iCalendar import / export
# ---------------------------------------------------------------------------------------


def test_import_demo_files(ctx):
    registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx, actor="test")
    biz = cal("import", ctx, path=str(DEMO / "business.ics"))
    per = cal("import", ctx, path=str(DEMO / "personal.ics"))
    assert (biz.imported, biz.updated, biz.skipped) == (23, 0, [])
    assert (per.imported, per.updated, per.skipped) == (15, 0, [])

    occ = cal("list", ctx, start="2026-01-05", end="2026-01-18")
    # business: standup 10 - 1 EXDATE, 1:1 x2, week-ahead review x2, 20 single events;
    # personal: gym x4, swimming x2, 13 single
    assert len(occ) == 9 + 2 + 2 + 20 + 4 + 2 + 13
    standup = [o for o in occ if o.title == "Daily standup"]
    assert date(2026, 1, 9) not in [o.start.date() for o in standup] and len(standup) == 9
    assert all((o.start.hour, o.start.minute) == (9, 15) for o in standup)
    offsite = next(o for o in occ if o.title == "Company offsite")
    assert offsite.all_day and (offsite.start, offsite.end) == (bru(2026, 1, 9), bru(2026, 1, 10))
    globex = next(o for o in occ if o.title == "Partnership call with Globex")  # DTSTART in UTC
    assert globex.start == datetime(2026, 1, 6, 10, tzinfo=UTC) and globex.start.hour == 11
    onboarding = next(o for o in occ if o.title.startswith("Supplier onboarding"))  # DURATION:PT45M
    assert onboarding.end - onboarding.start == timedelta(minutes=45)
    review = next(o for o in occ if o.title == "Quarterly report review")
    assert review.tags == ["quarterly", "finance"]
    linked = {a.email: a.contact_id for a in review.attendees}
    assert linked["alex.smith@northwind.example"] is not None  # a contact from business.vcf
    gym = [o.start.date() for o in occ if o.title == "Gym with Hugo"]  # UNTIL=20260115T235959Z
    assert gym == [date(2026, 1, 5), date(2026, 1, 8), date(2026, 1, 12), date(2026, 1, 15)]


def test_reimport_updates_instead_of_duplicating(ctx, tmp_path):
    n = (DEMO / "business.ics").read_text().count("BEGIN:VEVENT")  # each with its own UID
    first = cal("import", ctx, path=str(DEMO / "business.ics"))
    again = cal("import", ctx, path=str(DEMO / "business.ics"))
    assert (first.imported, again.imported, again.updated) == (n, 0, n)
    with ctx.read() as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT uid) FROM events").fetchone() == (n, n)
    changed = (DEMO / "business.ics").read_text().replace("SUMMARY:Sprint planning", "SUMMARY:Sprint planning (moved)")
    third = cal("import", ctx, path=write(tmp_path, "b.ics", changed))
    assert (third.imported, third.updated) == (0, n)
    assert [e.title for e in cal("search", ctx, query="sprint planning moved")][0] == "Sprint planning (moved)"


ROUND_TRIP = ics("""
    BEGIN:VTIMEZONE
    TZID:Customized Time Zone
    BEGIN:STANDARD
    DTSTART:16010101T030000
    TZOFFSETFROM:+0200
    TZOFFSETTO:+0100
    RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
    END:STANDARD
    BEGIN:DAYLIGHT
    DTSTART:16010101T020000
    TZOFFSETFROM:+0100
    TZOFFSETTO:+0200
    RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
    END:DAYLIGHT
    END:VTIMEZONE
    BEGIN:VEVENT
    UID:rt-1@test
    DTSTAMP:20260101T000000Z
    SUMMARY:Weekly planning
    DTSTART;TZID=Customized Time Zone:20260316T090000
    DTEND;TZID=Customized Time Zone:20260316T100000
    RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260413T070000Z
    EXDATE;TZID=Customized Time Zone:20260323T090000
    ORGANIZER;CN=Boss:mailto:boss@example.org
    ATTENDEE;CN=Ann;PARTSTAT=TENTATIVE:mailto:ann@example.org
    X-HERO-TEST;FOO=bar:keep me
    CATEGORIES:Planning,Big Team
    BEGIN:VALARM
    ACTION:DISPLAY
    DESCRIPTION:Reminder
    TRIGGER:-PT15M
    END:VALARM
    END:VEVENT
    BEGIN:VEVENT
    UID:rt-2@test
    DTSTAMP:20260101T000000Z
    SUMMARY:Floating lunch
    DTSTART:20260317T123000
    DTEND:20260317T133000
    END:VEVENT
    BEGIN:VEVENT
    UID:rt-3@test
    DTSTAMP:20260101T000000Z
    SUMMARY:Holiday
    DTSTART;VALUE=DATE:20260320
    END:VEVENT
""")


def _snapshot(ctx):
    occ = cal("list", ctx, start="2026-03-01", end="2026-04-30")
    return [(o.title, o.start, o.end, o.all_day, o.tags, [(a.name, a.email) for a in o.attendees]) for o in occ]


def test_round_trip_keeps_events_and_unknown_properties(ctx, tmp_path):
    report = cal("import", ctx, path=write(tmp_path, "in.ics", ROUND_TRIP))
    assert (report.imported, report.skipped) == (3, [])
    before = _snapshot(ctx)
    planning = [s for s in before if s[0] == "Weekly planning"]
    # custom zone = Brussels rules: 09:00 local every Monday until 13 April, 23 March excluded
    assert [s[1] for s in planning] == [bru(2026, 3, 16, 9), bru(2026, 3, 30, 9), bru(2026, 4, 6, 9), bru(2026, 4, 13, 9)]
    assert planning[0][4] == ["planning", "big-team"]
    assert ("Floating lunch", bru(2026, 3, 17, 12, 30), bru(2026, 3, 17, 13, 30), False, [], []) in before
    assert ("Holiday", bru(2026, 3, 20), bru(2026, 3, 21), True, [], []) in before

    out = cal("export", ctx, output=str(tmp_path / "out.ics"))
    text = Path(out.path).read_text()
    assert out.count == 3 and "BEGIN:VTIMEZONE" in text and "TZID:Europe/Brussels" in text
    assert "X-HERO-TEST;FOO=bar:keep me" in text and "BEGIN:VALARM" in text and "ORGANIZER" in text
    assert "PARTSTAT=TENTATIVE" in text
    assert "CATEGORIES:Planning,Big Team" in text  # the file's spelling while the tags are unchanged

    from herotui import contexts

    other = contexts.create("roundtrip")
    again = cal("import", other, path=out.path)
    assert (again.imported, again.skipped) == (3, [])
    assert _snapshot(other) == before
    assert "X-HERO-TEST;FOO=bar:keep me" in cal("export", other).text
    planning_id = next(o.id for o in cal("list", ctx, start="2026-03-16", end="2026-03-16"))
    cal("update", ctx, id=planning_id, tags=["planning", "board"])
    assert "CATEGORIES:planning,board" in cal("export", ctx).text  # changed in Hero: Hero's tags


def test_export_to_stdout_and_by_tag(ctx):
    cal("add", ctx, title="Tagged", start="2026-03-02 10:00", tags=["work"], repeat="weekly")
    cal("add", ctx, title="Other", start="2026-03-03", tags=["home"])
    all_events = cal("export", ctx)
    assert all_events.count == 2 and all_events.path is None
    assert all_events.text.startswith("BEGIN:VCALENDAR") and all_events.text.count("BEGIN:VEVENT") == 2
    work = cal("export", ctx, tag="work")
    assert work.count == 1 and "SUMMARY:Tagged" in work.text and "RRULE:FREQ=WEEKLY" in work.text
    assert "DTSTART;TZID=Europe/Brussels:20260302T100000" in work.text
    assert "DTSTART;VALUE=DATE:20260303" in all_events.text


def test_malformed_event_is_reported_by_position_and_the_others_imported(ctx, tmp_path):
    text = ics("""
        BEGIN:VEVENT
        UID:ok-1
        SUMMARY:Good one
        DTSTART:20260302T100000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:bad-2
        SUMMARY:Bad date
        DTSTART:2026XX02T100000
        END:VEVENT
        BEGIN:VEVENT
        UID:bad-3
        SUMMARY:Backwards
        DTSTART:20260302T100000Z
        DTEND:20260302T090000Z
        END:VEVENT
        BEGIN:VEVENT
        UID:bad-4
        SUMMARY:Bad rule
        DTSTART:20260302T100000Z
        RRULE:FREQ=SOMETIMES
        END:VEVENT
        BEGIN:VEVENT
        UID:ok-5
        SUMMARY:Good two
        DTSTART:20260303T100000Z
        END:VEVENT
    """)
    report = cal("import", ctx, path=write(tmp_path, "mixed.ics", text))
    assert report.imported == 3  # a DTEND before DTSTART costs the DTEND, not the event
    assert [(p.position, p.line) for p in report.skipped] == [(2, 9), (4, 20)]
    assert "DTSTART" in report.skipped[0].message and "before" in report.warnings[0].message
    assert (report.warnings[0].position, report.warnings[0].line) == (3, 14)
    assert report.skipped[1].message.startswith("RRULE") and "SOMETIMES" in report.skipped[1].message
    assert sorted(o.title for o in cal("list", ctx, start="2026-03-01", end="2026-03-05")) == [
        "Backwards", "Good one", "Good two"]


def test_a_structurally_broken_file_is_read_event_by_event(ctx, tmp_path):
    text = ics("""
        BEGIN:VEVENT
        UID:ok-1
        SUMMARY:Survivor
        DTSTART;VALUE=DATE:20260302
        END:VEVENT
        BEGIN:VEVENT
        UID:cut-2
        SUMMARY:Cut short
        DTSTART:20260302T100000Z
        BEGIN:VEVENT
        UID:ok-3
        SUMMARY:Also fine
        DTSTART:20260304T100000Z
        END:VEVENT
    """)
    report = cal("import", ctx, path=write(tmp_path, "cut.ics", text))
    assert report.imported == 2
    assert [(p.position, p.line, p.message) for p in report.skipped] == [(2, 9, "event has no END:VEVENT")]
    with pytest.raises(InvalidInput, match="no event"):
        cal("import", ctx, path=write(tmp_path, "empty.ics", ics("")))
    with pytest.raises(NotFound, match="cannot read"):  # a missing file: exit 3, as everywhere
        cal("import", ctx, path=str(tmp_path / "missing.ics"))


def test_edited_instance_replaces_its_occurrence_and_cancelled_events_are_hidden(ctx, tmp_path):
    text = ics("""
        BEGIN:VEVENT
        UID:series@test
        SUMMARY:Weekly
        DTSTART;TZID=Europe/Brussels:20260302T090000
        DTEND;TZID=Europe/Brussels:20260302T100000
        RRULE:FREQ=WEEKLY;COUNT=3
        END:VEVENT
        BEGIN:VEVENT
        UID:series@test
        RECURRENCE-ID;TZID=Europe/Brussels:20260309T090000
        SUMMARY:Weekly (moved)
        DTSTART;TZID=Europe/Brussels:20260310T140000
        DTEND;TZID=Europe/Brussels:20260310T150000
        END:VEVENT
        BEGIN:VEVENT
        UID:gone@test
        SUMMARY:Cancelled thing
        STATUS:CANCELLED
        DTSTART:20260304T100000Z
        END:VEVENT
    """)
    assert cal("import", ctx, path=write(tmp_path, "edit.ics", text)).imported == 3
    occ = cal("list", ctx, start="2026-03-01", end="2026-03-31")
    assert [(o.title, o.start) for o in occ] == [
        ("Weekly", bru(2026, 3, 2, 9)), ("Weekly (moved)", bru(2026, 3, 10, 14)), ("Weekly", bru(2026, 3, 16, 9))]
    again = cal("import", ctx, path=write(tmp_path, "edit.ics", text))
    assert (again.imported, again.updated) == (0, 3)
    exported = cal("export", ctx).text
    assert "RECURRENCE-ID;TZID=Europe/Brussels:20260309T090000" in exported and "STATUS:CANCELLED" in exported


def test_parse_shift_moves_everything_on_the_wall_clock():
    from herotui.services import _ical

    text = (DEMO / "business.ics").read_text()
    events, problems = _ical.parse(text, shift=timedelta(weeks=12))  # 2026-01-05 -> 2026-03-30, after DST
    assert problems == [] and len(events) == text.count("BEGIN:VEVENT")
    standup = next(e for e in events if e["uid"] == "demo-biz-001@hero")
    assert standup["start"] == datetime(2026, 3, 30, 7, 15)  # 09:15 CEST, in UTC
    assert standup["exdates"] == [datetime(2026, 4, 3, 7, 15)]
    offsite = next(e for e in events if e["uid"] == "demo-biz-011@hero")
    assert (offsite["start"], offsite["all_day"]) == (datetime(2026, 4, 3), True)
    gym, _ = _ical.parse((DEMO / "personal.ics").read_text(), shift=timedelta(weeks=1))
    assert "UNTIL=20260122T235959Z" in next(e for e in gym if e["uid"] == "demo-per-001@hero")["rrule"]


def test_module_import_stays_light():
    code = ("import sys, herotui.services.calendar, herotui.services._ical; "
            "heavy = [m for m in ('icalendar', 'dateutil.rrule', 'duckdb', 'dateparser') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------


def test_cli_add_list_and_show(hero):
    added = hero("calendar", "add", "Board meeting", "--start", "2026-03-02 14:00", "-d", "1h30",
                 "-a", "Grace Kim <grace@globex.example>", "-t", "board", "--json")
    assert added.code == 0, added
    ev = added.json()
    assert ev["start"] == "2026-03-02T14:00:00+01:00" and ev["end"] == "2026-03-02T15:30:00+01:00"
    listed = hero("calendar", "list", "--from", "2026-03-01", "--to", "2026-03-07", "--json")
    assert listed.code == 0 and [o["title"] for o in listed.json()] == ["Board meeting"]
    shown = hero("calendar", "show", ev["id"][:10])
    assert shown.code == 0 and "Board meeting" in shown.out and "grace@globex.example" in shown.out


def test_cli_end_before_start_is_one_line_error_exit_1(hero):
    r = hero("calendar", "add", "Backwards", "--start", "2026-03-02 10:00", "--end", "2026-03-02 09:00")
    assert r.code == 1, r
    lines = r.err.strip().splitlines()
    assert lines[0].startswith("error: the end") and "before the start" in lines[0]
    assert len(lines) <= 2 and "Traceback" not in r.err
    assert hero("calendar", "list", "--from", "2026-03-01", "--to", "2026-03-07", "--json").json() == []


def test_cli_unknown_id_exits_3_and_no_upcoming_exits_3(hero):
    r = hero("calendar", "show", "01ZZZZZZ")
    assert r.code == 3 and r.err.startswith("error: no event") and "Traceback" not in r.err
    n = hero("calendar", "next")
    assert n.code == 3 and "no upcoming events" in n.err


def test_cli_import_and_export(hero, tmp_path):
    n = (DEMO / "personal.ics").read_text().count("BEGIN:VEVENT")
    r = hero("calendar", "import", str(DEMO / "personal.ics"), "--json")
    assert r.code == 0 and r.json()["imported"] == n
    out = hero("calendar", "export")
    assert out.code == 0 and out.out.count("BEGIN:VEVENT") == n and "TZID:Europe/Brussels" in out.out
    target = tmp_path / "p.ics"
    saved = hero("calendar", "export", "-o", str(target), "--json")
    assert saved.code == 0 and saved.json()["count"] == n and target.read_text().count("BEGIN:VEVENT") == n
