"""Occurrences: every one in a window (recurrences expanded), one chosen by ``--occurrence``,
how many a series has, and what a change covers in words (the question that asks for a yes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from herotui import timeparse
from herotui.errors import Ambiguous, InvalidInput
from herotui.services import _ical
from herotui.services.calendar.models import COLUMNS, MAX_DAYS, MAX_LISTED, Occurrence, UTC
from herotui.services.calendar.records import (
    SERIES_UIDS, fmt_time, get_record, listed, local_day_start, master_of, naive_local, naive_utc,
    occurrence_of, occurrence_time, record, series_rows, shown_time, stored_instant,
)
from herotui.services.common import resolve_id


def check_window(lo: datetime, hi: datetime) -> None:
    if hi <= lo:
        raise InvalidInput(f"the window ends ({fmt_time(hi)}) before it starts ({fmt_time(lo)})", hint="give --to after --from")
    if hi - lo > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"a window of {(hi - lo).days:,} days is too long to list (at most {MAX_DAYS:,}, 20 years)",
                           hint="give a shorter --from/--to, or use 'hero calendar search'")


def occurrences_between(conn, lo: datetime, hi: datetime, tag: str | None = None) -> list[Occurrence]:
    """Every occurrence overlapping [lo, hi) (aware), sorted by start then title."""
    check_window(lo, hi)
    margin = timedelta(days=1, hours=14)  # all-day events are floating dates: wide SQL, exact Python
    lo_n, hi_n = naive_utc(lo) - margin, naive_utc(hi) + margin
    sql = (f"SELECT {COLUMNS} FROM events WHERE coalesce(status, '') <> 'CANCELLED' AND "
           f'start < ? AND "end" >= ? AND uid NOT IN ({SERIES_UIDS})')
    params: list = [hi_n, lo_n]
    if tag:
        sql += " AND list_contains(tags, ?)"
        params.append(tag.strip().lower())
    out = []
    for rec in (record(r) for r in conn.execute(sql, params).fetchall()):
        s, e = (rec["start"], rec["end"]) if rec["all_day"] else (rec["start"].replace(tzinfo=UTC), rec["end"].replace(tzinfo=UTC))
        if not (_ical.overlaps(s, e, naive_local(lo), naive_local(hi)) if rec["all_day"]
                else _ical.overlaps(s, e, lo, hi)):
            continue
        out.append(occurrence_of(rec, s, e))
    # a series has no occurrence in the window when none of its rows starts before the window
    # ends, or when it ended before the window (series_end; NULL with a rule: no end)
    series = series_rows(conn, "AND uid IN (SELECT uid FROM events GROUP BY uid HAVING min(start) < ? AND "
                                "max(CASE WHEN series_end IS NULL AND rrule IS NOT NULL THEN TIMESTAMP '9999-12-31' "
                                'ELSE coalesce(series_end, "end") END) >= ?)', [hi_n, lo_n])
    masters = {rows[0]["uid"]: rows[0] for rows in series if rows[0]["recurrence_id"] is None}
    try:
        spans = _ical.occurrences(series, lo, hi, cap=MAX_LISTED)
    except _ical.TooMany:
        raise InvalidInput(f"more than {MAX_LISTED:,} occurrences between {fmt_time(lo)} and {fmt_time(hi)}",
                           hint="give a shorter window (--from/--to) or a --tag") from None
    for rec, s, e in spans:
        if listed(rec, tag) and listed(masters.get(rec["uid"], rec), None):
            out.append(occurrence_of(rec, s, e, masters.get(rec["uid"])))
    out.sort(key=lambda o: (o.start, not o.all_day, o.title.lower(), o.id))
    return out


def find_occurrence(conn, rec: dict, text: str) -> tuple[dict, dict, datetime, datetime, datetime]:
    """``--occurrence TEXT`` -> (master, the row that makes it, its RECURRENCE-ID value in
    stored form, its start and end as ``_ical`` gives them). A day names the occurrence that
    starts on it; a time the one starting then; both in the user's zone."""
    master = master_of(conn, rec)
    if not _ical.is_series(master) or not (master["rrule"] or master["rdates"]):
        raise InvalidInput(f"'{master['title']}' is not a recurring event, it has no occurrences to choose",
                           hint="leave out --occurrence to change the event itself")
    zone = timeparse.local_zone()
    when = timeparse.parse_when(text, tz=zone)
    day_only = timeparse.is_date_only(text, tz=zone)
    lo = local_day_start(when.date()) if day_only else when
    hi = local_day_start(when.date() + timedelta(days=1)) if day_only else when + timedelta(minutes=1)
    series = series_rows(conn, "AND uid = ?", [master["uid"]])
    spans = []
    for row, s, e in _ical.occurrences(series, lo, hi):
        shown = occurrence_time(s, row["all_day"])
        if (shown.date() == when.date()) if day_only else (shown == when.replace(second=0, microsecond=0)):
            spans.append((row, s, e))
    title = master["title"]
    if not spans:
        what = when.strftime("%a %Y-%m-%d") if day_only else fmt_time(when)
        raise InvalidInput(f"'{title}' has no occurrence {'on' if day_only else 'at'} {what}",
                           hint=f"'hero calendar show {master['id'][:8]}' lists the next ones")
    if len(spans) > 1:
        times = ", ".join(occurrence_time(s, r["all_day"]).strftime("%H:%M") for r, s, _ in spans)
        raise Ambiguous(f"'{title}' happens {len(spans)} times on {when.date()} ({times})",
                        hint=f"give the time too, e.g. --occurrence '{when.date()} {times.split(', ')[0]}'")
    row, s, e = spans[0]
    instance = row["recurrence_id"] or stored_instant(s, row["all_day"])
    return master, row, instance, s, e


def series_count(conn, master: dict, since: datetime | None = None) -> tuple[int | None, datetime]:
    """(how many occurrences the series has from ``since`` (stored form; default its start),
    None when it has no end; the first of them, stored form)."""
    series = series_rows(conn, "AND uid = ?", [master["uid"]])
    first = since or min([master["start"], *master["rdates"]])
    if not series:
        return 1, first
    after = first.replace(tzinfo=timeparse.local_zone()) if master["all_day"] else first.replace(tzinfo=UTC)
    endless = any("UNTIL=" not in r and "COUNT=" not in r for r in _ical.rules(master["rrule"]))
    found = [(r, s) for r, s, _ in _ical.starts_after(series[0], after, 1 if endless else _ical.MAX_SERIES)
             if r["status"] != "CANCELLED"]
    start = stored_instant(found[0][1], master["all_day"]) if found else first
    return (None if endless else len(found)), start


def _day(value: datetime, all_day: bool) -> str:
    return shown_time(value, all_day).strftime("%a %-d %b %Y")


def _scope_text(conn, rec: dict, occurrence: str | None, following: bool) -> str:
    """What a change covers, for the question that asks for a yes."""
    master = master_of(conn, rec)
    title = master["title"]
    if occurrence is not None:
        master, row, instance, s, _ = find_occurrence(conn, rec, occurrence)
        day = occurrence_time(s, row["all_day"]).strftime("%a %-d %b %Y")
        if not following:
            return f"'{title}': only the occurrence on {day}"
        if instance > min([master["start"], *master["rdates"]]):
            n, _ = series_count(conn, master, instance)
            later = "every one after it (the series has no end)" if n is None else f"the {n - 1} after it"
            return f"'{title}': the occurrence on {day} and {later}"
        rec = master  # from the first occurrence on: the whole series
    if rec["recurrence_id"] is not None:
        return f"'{title}': only the occurrence on {_day(rec['start'], rec['all_day'])}"
    if not (master["rrule"] or master["rdates"]):
        return f"'{title}' on {_day(master['start'], master['all_day'])}"
    n, first = series_count(conn, master)
    if n is None:
        return f"'{title}': every occurrence, from {_day(first, master['all_day'])} (the series has no end)"
    return f"'{title}': all {n} occurrence{'s' if n != 1 else ''}, from {_day(first, master['all_day'])}"


def change_scope(ctx, args: dict) -> str | None:
    with ctx.read() as conn:
        rec = get_record(conn, resolve_id(conn, "events", "event", args["id"], label="title"))
        skips = [t for t in args.get("skip") or [] if t.strip()]
        if skips and args.get("occurrence") is None:  # update --skip: those occurrences only
            return "; ".join(_scope_text(conn, rec, t, False) for t in skips)
        return _scope_text(conn, rec, args.get("occurrence"), bool(args.get("following")))
