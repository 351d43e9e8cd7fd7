"""Calendar truth: one occurrence, this and following, or the whole series; one rule for
time zones; bounded expansion; files as other programs write them.

Real DuckDB stores (conftest's HERO_HOME, HERO_TZ=Europe/Brussels unless a test sets
another display zone). Every date is explicit and the clock is frozen where "now" matters,
so the results do not depend on the day the suite runs.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from herotui import registry
from herotui.errors import Ambiguous, InvalidInput

ROOT = Path(__file__).resolve().parent.parent
BRU = ZoneInfo("Europe/Brussels")
UTC = timezone.utc
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # a Sunday, before every series below


def cal(verb: str, ctx, **args):
    return registry.call(f"calendar.{verb}", args, ctx, actor="test", confirmed=True)


def ics(body: str) -> str:
    text = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n" + textwrap.dedent(body).strip() + "\nEND:VCALENDAR\n"
    return text.replace("\n", "\r\n")


def load(ctx, tmp_path, body: str, name: str = "in.ics"):
    path = tmp_path / name
    path.write_text(ics(body) if "BEGIN:VCALENDAR" not in body else body)
    return cal("import", ctx, path=str(path))


def listed(ctx, lo: str, hi: str) -> list[tuple[str, str]]:
    """(start as 'YYYY-MM-DD HH:MM' in the display zone, title) of every occurrence."""
    return [(f"{o.start:%Y-%m-%d %H:%M}", o.title) for o in cal("list", ctx, start=lo, end=hi)]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def standup(ctx, clock):
    """Weekdays at 09:00 Brussels from Mon 30 Nov 2026, 10 occurrences (to Fri 11 Dec)."""
    return cal("add", ctx, title="Standup", start="2026-11-30 09:00", rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=10")


def export(ctx, tmp_path, name="out.ics") -> str:
    out = tmp_path / name
    cal("export", ctx, output=str(out))
    return out.read_text()


# ---------------------------------------------------------------------------------------
# One occurrence, this and following, the series
# ---------------------------------------------------------------------------------------


def test_cancel_one_occurrence_keeps_the_series_and_exports_an_exdate(ctx, standup, tmp_path):
    gone = cal("delete", ctx, id=standup.id, occurrence="2026-12-08")
    assert (gone.scope, f"{gone.occurrence:%Y-%m-%d %H:%M}") == ("occurrence", "2026-12-08 09:00")
    days = [d for d, _ in listed(ctx, "2026-11-30", "2026-12-31")]
    assert len(days) == 9 and "2026-12-08 09:00" not in days and "2026-12-09 09:00" in days
    text = export(ctx, tmp_path)
    assert "RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO,TU,WE,TH,FR" in text.replace("\r\n", "\n")
    assert "EXDATE;TZID=Europe/Brussels:20261208T090000" in text
    # the export means the same occurrences to Hero in another context
    other = registry.call("context.create", {"name": "other"}, None, actor="test")
    from herotui import contexts

    octx = contexts.load(other.name)
    path = tmp_path / "again.ics"
    path.write_text(text)
    cal("import", octx, path=str(path))
    assert listed(octx, "2026-11-30", "2026-12-31") == listed(ctx, "2026-11-30", "2026-12-31")


def test_this_and_following_ends_the_series_with_until(ctx, standup, tmp_path):
    gone = cal("delete", ctx, id=standup.id, occurrence="2026-12-07", following=True)
    assert gone.scope == "following"
    assert [d for d, _ in listed(ctx, "2026-11-30", "2026-12-31")] == [
        "2026-11-30 09:00", "2026-12-01 09:00", "2026-12-02 09:00", "2026-12-03 09:00", "2026-12-04 09:00"]
    assert "UNTIL=20261207T075959Z" in cal("show", ctx, id=standup.id).rrule
    assert "COUNT" not in cal("show", ctx, id=standup.id).rrule  # RFC 5545: never both


def test_from_the_first_occurrence_on_means_the_whole_series(ctx, standup):
    gone = cal("delete", ctx, id=standup.id, occurrence="2026-11-30", following=True)
    assert gone.scope == "event" and listed(ctx, "2026-11-30", "2026-12-31") == []


def test_move_one_occurrence_is_an_edited_instance(ctx, standup, tmp_path):
    moved = cal("update", ctx, id=standup.id, occurrence="2026-12-09", start="2026-12-09 15:00", location="Atlas")
    assert moved.recurrence_id is not None and f"{moved.recurrence_id:%Y-%m-%d %H:%M}" == "2026-12-09 09:00"
    rows = listed(ctx, "2026-12-08", "2026-12-10")
    assert rows == [("2026-12-08 09:00", "Standup"), ("2026-12-09 15:00", "Standup"), ("2026-12-10 09:00", "Standup")]
    by_day = {f"{o.start:%d}": o for o in cal("list", ctx, start="2026-12-08", end="2026-12-10")}
    assert by_day["09"].location == "Atlas" and by_day["08"].location is None
    assert by_day["09"].id == standup.id  # listed under the series: --occurrence works from any listing
    text = export(ctx, tmp_path)
    assert "RECURRENCE-ID;TZID=Europe/Brussels:20261209T090000" in text
    # the edited instance moves again, found by where it is now
    cal("update", ctx, id=standup.id, occurrence="2026-12-09 15:00", start="2026-12-09 16:00")
    assert ("2026-12-09 16:00", "Standup") in listed(ctx, "2026-12-09", "2026-12-09")
    # and cancelling it leaves neither the instance nor the original slot
    cal("delete", ctx, id=standup.id, occurrence="2026-12-09")
    assert [d for d, _ in listed(ctx, "2026-12-09", "2026-12-09")] == []


def test_change_this_and_following_splits_the_series_and_keeps_the_count(ctx, standup):
    cal("update", ctx, id=standup.id, occurrence="2026-12-03", following=True, location="Room Atlas",
        start="2026-12-03 10:00")
    rows = cal("list", ctx, start="2026-11-30", end="2026-12-31")
    assert len(rows) == 10  # 3 before, 7 after: COUNT carried over
    before = [o for o in rows if o.start.day in (30, 1, 2)]
    after = [o for o in rows if o not in before]
    assert all(o.location is None and o.start.hour == 9 for o in before)
    assert all(o.location == "Room Atlas" and o.start.hour == 10 for o in after) and len(after) == 7
    assert len({o.id for o in after}) == 1 and after[0].id != standup.id


def test_an_occurrence_that_does_not_exist_or_is_ambiguous_is_refused(ctx, standup):
    with pytest.raises(InvalidInput, match="no occurrence on Sat 2026-12-05"):
        cal("delete", ctx, id=standup.id, occurrence="2026-12-05")
    single = cal("add", ctx, title="Dentist", start="2026-12-10 14:00")
    with pytest.raises(InvalidInput, match="not a recurring event"):
        cal("delete", ctx, id=single.id, occurrence="2026-12-10")
    with pytest.raises(InvalidInput, match="needs --occurrence"):
        cal("delete", ctx, id=standup.id, following=True)
    with pytest.raises(InvalidInput, match="no rule of its own"):
        cal("update", ctx, id=standup.id, occurrence="2026-12-08", repeat="daily")
    twice = cal("add", ctx, title="Pills", start="2026-12-01 08:00", rrule="FREQ=HOURLY;INTERVAL=12;COUNT=6")
    with pytest.raises(Ambiguous, match="2 times on 2026-12-01"):
        cal("delete", ctx, id=twice.id, occurrence="2026-12-01")
    cal("delete", ctx, id=twice.id, occurrence="2026-12-01 20:00")
    assert [d for d, t in listed(ctx, "2026-12-01", "2026-12-01") if t == "Pills"] == ["2026-12-01 08:00"]


def test_the_question_says_what_a_change_covers(ctx, standup):
    def scope(verb, **args):
        return registry.scope(f"calendar.{verb}", {"id": standup.id, **args}, ctx)

    assert scope("delete") == "'Standup': all 10 occurrences, from Mon 30 Nov 2026"
    assert scope("delete", occurrence="2026-12-08") == "'Standup': only the occurrence on Tue 8 Dec 2026"
    assert scope("update", skip=["2026-12-08"]) == "'Standup': only the occurrence on Tue 8 Dec 2026"
    assert scope("delete", occurrence="2026-12-08", following=True) == \
        "'Standup': the occurrence on Tue 8 Dec 2026 and the 3 after it"
    assert scope("delete", occurrence="2026-11-30", following=True) == \
        "'Standup': all 10 occurrences, from Mon 30 Nov 2026"  # from the first on: the series
    endless = cal("add", ctx, title="Gym", start="2026-12-02 18:00", repeat="weekly")
    assert registry.scope("calendar.delete", {"id": endless.id}, ctx) == \
        "'Gym': every occurrence, from Wed 2 Dec 2026 (the series has no end)"
    with pytest.raises(InvalidInput):  # a call the verb would refuse is refused before the question
        scope("delete", occurrence="2026-12-05")


def test_cli_asks_with_the_scope_and_refuses_without_a_terminal(hero, ctx):
    ev = cal("add", ctx, title="Standup", start="2026-11-30 09:00", rrule="FREQ=DAILY;COUNT=5")
    r = hero("calendar", "delete", ev.id, "--occurrence", "2026-12-02")
    assert r.code != 0 and "only the occurrence on Wed 2 Dec 2026" in r.err and "--yes" in r.err
    r = hero("calendar", "delete", ev.id, "--occurrence", "2026-12-02", "--yes", "--json")
    assert r.code == 0 and r.json()["scope"] == "occurrence"
    r = hero("calendar", "delete", ev.id, "--occurrence", "2026-12-25", "--yes")
    assert r.code != 0 and "no occurrence on" in r.err and "Traceback" not in r.err


# ---------------------------------------------------------------------------------------
# Time zones: one rule
# ---------------------------------------------------------------------------------------


def test_a_typed_time_means_the_display_zone_and_the_event_keeps_its_own(ctx, clock, monkeypatch):
    ev = cal("add", ctx, title="Vendor call", start="2026-12-09 10:00", tz="Europe/Brussels")
    monkeypatch.setenv("HERO_TZ", "UTC")
    moved = cal("update", ctx, id=ev.id, start="2026-12-09 15:00")
    assert f"{moved.start:%H:%M %Z}" == "15:00 UTC" and moved.tz == "Europe/Brussels"
    assert [d for d, _ in listed(ctx, "2026-12-09", "2026-12-09")] == ["2026-12-09 15:00"]
    # naming a zone reads the time in it
    moved = cal("update", ctx, id=ev.id, start="2026-12-09 15:00", tz="America/New_York")
    assert f"{moved.start:%H:%M}" == "20:00" and moved.tz == "America/New_York"
    # a day alone keeps the event's own wall-clock time
    moved = cal("update", ctx, id=ev.id, start="2026-12-10")
    assert moved.start.astimezone(ZoneInfo("America/New_York")).strftime("%d %H:%M") == "10 15:00"


@pytest.mark.parametrize("display, expect", [
    ("UTC", {"Europe/Brussels": ["08:00", "08:00", "07:00", "07:00"], "America/New_York": ["14:00", "13:00", "13:00", "13:00"]}),
    ("Asia/Tokyo", {"Europe/Brussels": ["17:00", "17:00", "16:00", "16:00"], "America/New_York": ["23:00", "22:00", "22:00", "22:00"]}),
])
def test_dst_crossing_series_keep_their_wall_clock_in_any_display_zone(ctx, monkeypatch, display, expect):
    # Brussels leaves winter time on 29 March 2026, New York on 8 March 2026
    for zone, day in (("Europe/Brussels", "2026-03-16"), ("America/New_York", "2026-03-02")):
        cal("add", ctx, title=zone, start=f"{day} 09:00", tz=zone, rrule="FREQ=WEEKLY;COUNT=4")
    monkeypatch.setenv("HERO_TZ", display)
    for zone, times in expect.items():
        got = [o.start for o in cal("list", ctx, start="2026-03-01", end="2026-04-30") if o.title == zone]
        assert [f"{t:%H:%M}" for t in got] == times
        assert all(t.tzinfo is not None and t.utcoffset() == ZoneInfo(display).utcoffset(t.replace(tzinfo=None)) for t in got)
        assert {t.astimezone(ZoneInfo(zone)).strftime("%H:%M") for t in got} == {"09:00"}


WINDOWS = """
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VTIMEZONE
TZID:Kuala Lumpur, Singapore
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0800
TZOFFSETTO:+0800
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:win-1@test
DTSTAMP:20260101T000000Z
SUMMARY:Outlook weekly
DTSTART;TZID=W. Europe Standard Time:20260323T090000
DTEND;TZID=W. Europe Standard Time:20260323T100000
RRULE:FREQ=WEEKLY;COUNT=2
END:VEVENT
BEGIN:VEVENT
UID:win-2@test
DTSTAMP:20260101T000000Z
SUMMARY:Eastern no VTIMEZONE
DTSTART;TZID=Eastern Standard Time:20260701T090000
DTEND;TZID=Eastern Standard Time:20260701T100000
END:VEVENT
BEGIN:VEVENT
UID:kl-1@test
DTSTAMP:20260101T000000Z
SUMMARY:Kuala Lumpur
DTSTART;TZID="Kuala Lumpur, Singapore":20261031T093000
DTEND;TZID="Kuala Lumpur, Singapore":20261031T103000
END:VEVENT
"""


def test_windows_zone_names_and_a_files_own_zone(ctx, tmp_path):
    report = load(ctx, tmp_path, WINDOWS)
    assert (report.imported, report.skipped) == (3, [])
    events = {e.title: e for e in (cal("show", ctx, id=o.id) for o in cal("list", ctx, start="2026-03-01", end="2026-12-31"))}
    assert events["Outlook weekly"].tz == "Europe/Berlin"  # CLDR windowsZones, through icalendar
    assert events["Eastern no VTIMEZONE"].tz == "America/New_York"
    starts = [f"{o.start:%m-%d %H:%M}" for o in cal("list", ctx, start="2026-03-01", end="2026-04-01")]
    assert starts == ["03-23 09:00", "03-30 09:00"]  # across Europe's DST change, still 09:00
    kl = events["Kuala Lumpur"]
    assert kl.tz == "Kuala Lumpur, Singapore" and "Antarctica" not in kl.tz  # its own rules, not a guess
    assert kl.start.astimezone(UTC).strftime("%H:%M") == "01:30"
    text = export(ctx, tmp_path)
    assert 'TZID:"Kuala Lumpur, Singapore"' in text or "TZID:Kuala Lumpur\\, Singapore" in text \
        or "TZID:Kuala Lumpur, Singapore" in text
    assert "TZID=Europe/Berlin" in text


def test_x_wr_timezone_reads_floating_and_utc_times_in_that_zone(ctx, tmp_path):
    report = load(ctx, tmp_path, ics("""
        X-WR-TIMEZONE:America/New_York
        BEGIN:VEVENT
        UID:g-1@test
        DTSTAMP:20260101T000000Z
        SUMMARY:Google weekly
        DTSTART:20260302T140000Z
        DTEND:20260302T150000Z
        RRULE:FREQ=WEEKLY;COUNT=2
        END:VEVENT
    """))
    assert report.imported == 1
    got = cal("list", ctx, start="2026-03-01", end="2026-03-31")
    # 09:00 New York both weeks (Google writes UTC and means the calendar's zone): DST on 8 March
    assert [o.start.astimezone(ZoneInfo("America/New_York")).strftime("%d %H:%M") for o in got] == ["02 09:00", "09 09:00"]


# ---------------------------------------------------------------------------------------
# Expansion agrees with the reference; bounded
# ---------------------------------------------------------------------------------------


def reference(text: str, lo: datetime, hi: datetime) -> list[tuple[str, str]]:
    import recurring_ical_events
    from icalendar import Calendar

    out = []
    for comp in recurring_ical_events.of(Calendar.from_ical(text)).between(lo, hi):
        s = comp.start
        if isinstance(s, datetime):
            s = (s if s.tzinfo else s.replace(tzinfo=BRU)).astimezone(BRU).strftime("%Y-%m-%d %H:%M")
        else:
            s = f"{s:%Y-%m-%d} 00:00"
        out.append((s, str(comp.get("SUMMARY"))))
    return sorted(out)


EXPANSION = """
BEGIN:VEVENT
UID:rdate@test
DTSTAMP:20260101T000000Z
SUMMARY:With RDATE
DTSTART;TZID=Europe/Brussels:20260302T100000
DURATION:PT1H
RRULE:FREQ=WEEKLY;COUNT=3
RDATE;TZID=Europe/Brussels:20260305T150000,20260320T080000
EXDATE;TZID=Europe/Brussels:20260309T100000
END:VEVENT
BEGIN:VEVENT
UID:two-rules@test
DTSTAMP:20260101T000000Z
SUMMARY:Two rules
DTSTART;VALUE=DATE:20260301
RRULE:FREQ=MONTHLY;COUNT=2
RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=3
END:VEVENT
BEGIN:VEVENT
UID:single-exdate@test
DTSTAMP:20260101T000000Z
SUMMARY:Excluded single
DTSTART:20260310T120000Z
DTEND:20260310T130000Z
EXDATE:20260310T120000Z
END:VEVENT
BEGIN:VEVENT
UID:moved@test
DTSTAMP:20260101T000000Z
SUMMARY:Series
DTSTART:20260303T090000Z
DTEND:20260303T100000Z
RRULE:FREQ=DAILY;COUNT=4
END:VEVENT
BEGIN:VEVENT
UID:moved@test
DTSTAMP:20260101T000000Z
RECURRENCE-ID;VALUE=DATE:20260304
SUMMARY:Series moved by date
DTSTART:20260304T160000Z
DTEND:20260304T170000Z
END:VEVENT
BEGIN:VEVENT
UID:floating@test
DTSTAMP:20260101T000000Z
SUMMARY:Floating
DTSTART:20260306T080000
DTEND:20260306T083000
END:VEVENT
"""


def test_expansion_agrees_with_recurring_ical_events(ctx, tmp_path):
    text = ics(EXPANSION)
    report = load(ctx, tmp_path, text)
    assert report.skipped == []
    lo, hi = datetime(2026, 2, 1, tzinfo=BRU), datetime(2026, 6, 1, tzinfo=BRU)
    ours = sorted(listed(ctx, "2026-02-01", "2026-05-31"))
    assert ours == reference(text, lo, hi)
    titles = [t for _, t in ours]
    assert "Excluded single" not in titles and titles.count("With RDATE") == 4 and titles.count("Two rules") == 5
    assert ("2026-03-04 17:00", "Series moved by date") in ours


@pytest.mark.parametrize("rule, why", [
    ("FREQ=MINUTELY;INTERVAL=0", "INTERVAL=0"),
    ("FREQ=MINUTELY", "times a day with no end"),
    ("FREQ=SECONDLY;UNTIL=20300101T000000Z", "times a day with no end"),
])
def test_unbounded_rules_are_refused_with_a_reason(ctx, tmp_path, rule, why):
    report = load(ctx, tmp_path, ics(f"""
        BEGIN:VEVENT
        UID:bad@test
        DTSTAMP:20260101T000000Z
        SUMMARY:Runaway
        DTSTART:20260301T090000Z
        RRULE:{rule}
        END:VEVENT
        BEGIN:VEVENT
        UID:good@test
        DTSTAMP:20260101T000000Z
        SUMMARY:Fine
        DTSTART:20260301T090000Z
        END:VEVENT
    """))
    assert report.imported == 1 and len(report.skipped) == 1 and why in report.skipped[0].message
    with pytest.raises(InvalidInput, match=why):
        cal("add", ctx, title="Runaway", start="2026-03-01 09:00", rrule=rule)
    assert cal("add", ctx, title="Short", start="2026-03-01 09:00", rrule="FREQ=MINUTELY;INTERVAL=10;COUNT=6").rrule


def test_a_window_too_long_to_list_is_refused(ctx):
    with pytest.raises(InvalidInput, match="too long to list"):
        cal("agenda", ctx, days=100_000)
    with pytest.raises(InvalidInput, match="too long to list"):
        cal("list", ctx, start="1900-01-01", end="2100-01-01")


def test_a_runaway_rule_stored_before_the_bounds_does_not_stall_listings(ctx, clock):
    ev = cal("add", ctx, title="Old runaway", start="2020-01-01 00:00", rrule="FREQ=HOURLY;COUNT=5")
    cal("add", ctx, title="Meeting", start="2026-12-01 10:00")
    with ctx.write() as tx:  # as an older Hero stored it
        tx.execute("UPDATE events SET rrule = 'FREQ=SECONDLY' WHERE id = ?", [ev.id])
    assert [t for _, t in listed(ctx, "2026-12-01", "2026-12-01")] == ["Meeting"]
    assert cal("next", ctx).title == "Meeting"


# ---------------------------------------------------------------------------------------
# Import and export fidelity
# ---------------------------------------------------------------------------------------


def test_reimport_adds_nothing_and_the_highest_sequence_wins(ctx, tmp_path):
    first = ics("""
        BEGIN:VEVENT
        UID:seq@test
        SEQUENCE:2
        DTSTAMP:20260101T000000Z
        SUMMARY:Version two
        DTSTART:20260301T090000Z
        END:VEVENT
        BEGIN:VEVENT
        DTSTAMP:20260101T000000Z
        SUMMARY:No UID
        DTSTART:20260302T090000Z
        END:VEVENT
    """)
    a = load(ctx, tmp_path, first, "a.ics")
    b = load(ctx, tmp_path, first, "a.ics")
    assert (a.imported, a.updated, b.imported, b.updated) == (2, 0, 0, 2)
    older = first.replace("SEQUENCE:2", "SEQUENCE:1").replace("Version two", "Version one")
    load(ctx, tmp_path, older, "b.ics")
    titles = sorted(t for _, t in listed(ctx, "2026-03-01", "2026-03-02"))
    assert titles == ["No UID", "Version two"]
    with ctx.read() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2


def test_todos_and_journals_are_kept_aside_and_exported_again(ctx, tmp_path):
    report = load(ctx, tmp_path, ics("""
        BEGIN:VTODO
        UID:todo-1@test
        DTSTAMP:20260101T000000Z
        SUMMARY:File the taxes
        END:VTODO
        BEGIN:VEVENT
        UID:ev-1@test
        DTSTAMP:20260101T000000Z
        CREATED:20250101T101010Z
        LAST-MODIFIED:20250202T111111Z
        SUMMARY:Event
        DTSTART:20260301T090000Z
        END:VEVENT
        BEGIN:VJOURNAL
        UID:journal-1@test
        DTSTAMP:20260101T000000Z
        SUMMARY:Notes
        END:VJOURNAL
    """))
    assert (report.imported, report.kept_aside) == (1, 2)
    text = export(ctx, tmp_path)
    assert "BEGIN:VTODO" in text and "File the taxes" in text and "BEGIN:VJOURNAL" in text
    assert "CREATED:20250101T101010Z" in text and "LAST-MODIFIED:20250202T111111Z" in text
    assert "DTSTAMP:20260101T000000Z" in text


def test_exported_zones_cover_the_years_of_the_events(ctx, tmp_path):
    cal("add", ctx, title="Far", start="2045-06-01 09:00", tz="America/New_York")
    text = export(ctx, tmp_path)
    from icalendar import Calendar

    tz = Calendar.from_ical(text).walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    assert datetime(2045, 6, 1, 9, tzinfo=tz).utcoffset().total_seconds() == -4 * 3600  # EDT in 2045


# ---------------------------------------------------------------------------------------
# Real files (tests/data/ics/ORIGIN.tsv names their projects): Hero's occurrences are the
# reference's, and the file survives a round trip.
# ---------------------------------------------------------------------------------------

FILES = sorted((ROOT / "tests" / "data" / "ics").glob("*.ics"))


def window(text: str) -> tuple[datetime, datetime]:
    """From the first year a file's events start in, three years."""
    years = [int(y) for y in re.findall(r"^DTSTART[^:\r\n]*:(\d{4})", text, re.M)]
    first = min(years) if years else 2000
    return datetime(first, 1, 1, tzinfo=BRU), datetime(first + 3, 1, 1, tzinfo=BRU)


@pytest.mark.parametrize("path", FILES, ids=[p.stem[-48:] for p in FILES])
def test_real_files_agree_with_the_reference(ctx, path, tmp_path):
    text = path.read_text()
    report = cal("import", ctx, path=str(path))
    assert report.imported > 0 and report.skipped == []
    lo, hi = window(text)
    ours = sorted(listed(ctx, f"{lo:%Y-%m-%d}", f"{hi:%Y-%m-%d %H:%M}"))
    assert ours == reference(text, lo, hi)
    # the export means the same to Hero (and to the reference)
    again = export(ctx, tmp_path)
    assert sorted(reference(again, lo, hi)) == ours


def test_origins_are_recorded():
    origins = (ROOT / "tests" / "data" / "ics" / "ORIGIN.tsv").read_text().splitlines()
    named = {line.split("\t")[0] for line in origins if line and not line.startswith("#")}
    assert {p.name for p in FILES} <= named


def test_cli_import_of_a_bad_file_is_one_line(hero, tmp_path):
    bad = tmp_path / "bad.ics"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    r = hero("calendar", "import", str(bad))
    assert r.code != 0 and "Traceback" not in r.err and len(r.err.strip().splitlines()) <= 2


def test_utf8_with_damaged_bytes_stays_utf8(ctx, tmp_path):
    title = "2005年日本国際博覧会".encode()
    damaged = title[:12] + b"?" + title[13:]  # one byte of a character lost, as in ical4j's sample
    body = ics("""
        BEGIN:VEVENT
        UID:expo@test
        DTSTAMP:20050101T000000Z
        SUMMARY:TITLE
        DTSTART;VALUE=DATE:20050325
        END:VEVENT
    """).encode().replace(b"TITLE", damaged)
    path = tmp_path / "expo.ics"
    path.write_bytes(body)
    report = cal("import", ctx, path=str(path))
    assert "UTF-8" in report.note and "damaged" in report.note
    [o] = cal("list", ctx, start="2005-03-25", end="2005-03-25")
    assert o.title.startswith("2005年日") and o.title.endswith("国際博覧会")  # only the cut character is lost


def test_a_rule_that_ends_before_the_event_starts_is_reported(ctx, tmp_path):
    report = load(ctx, tmp_path, ics("""
        BEGIN:VEVENT
        UID:early-until@test
        DTSTAMP:20260101T000000Z
        SUMMARY:Once
        DTSTART:20260310T090000Z
        DTEND:20260310T100000Z
        RRULE:FREQ=DAILY;UNTIL=20260301T000000Z
        END:VEVENT
    """))
    assert report.imported == 1 and "before the event starts" in report.warnings[0].message
    # no occurrence, as recurring-ical-events and khal read it; the file's rule is kept for export
    assert listed(ctx, "2026-03-01", "2026-03-31") == []
    assert "RRULE:FREQ=DAILY;UNTIL=20260301T000000Z" in export(ctx, tmp_path)


def test_a_kept_aside_component_is_exported_readable(ctx, tmp_path):
    load(ctx, tmp_path, ics("""
        BEGIN:VJOURNAL
        UID:journal-2@test
        DTSTAMP:19970901T1300Z
        SUMMARY:Minutes
        END:VJOURNAL
        BEGIN:VEVENT
        UID:ev-2@test
        DTSTAMP:20260101T000000Z
        SUMMARY:Event
        DTSTART:20260301T090000Z
        END:VEVENT
    """))
    text = export(ctx, tmp_path)
    from icalendar import Calendar

    journal = Calendar.from_ical(text).walk("VJOURNAL")  # strict readers refuse a broken DTSTAMP
    assert [str(j["SUMMARY"]) for j in journal] == ["Minutes"] and "19970901T1300Z" not in text
