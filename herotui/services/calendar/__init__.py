"""Calendar: events with time zones, all-day events, recurrence, attendees; iCalendar.

Decisions (the front-ends and the planner rely on them):

* Times are stored in UTC; every time a verb returns is aware, in the user's zone
  (``timeparse.local_zone()``: ``HERO_TZ``, ``TZ``, the system zone). Each event keeps the
  zone it was written in (``tz``), and recurrences are expanded on its wall clock, so a
  weekly 09:00 Europe/Brussels meeting stays at 09:00 across DST changes.
* All-day events are stored as floating dates (00:00, end exclusive, as in iCalendar) and
  shown as 00:00 of that day in the user's zone, with ``all_day`` true. ``add`` makes an
  event all-day with ``--all-day`` or when the start names a day without a time
  (``friday``); for all-day events ``--end`` names the last day (inclusive).
* Windows (an occurrence is listed when it overlaps the window, so a meeting that is
  still running is listed):
  ``list``: from the start of today for 30 days (``--to`` alone: from the start of today;
  ``--from`` alone: 30 days from it; a day-only ``--to`` includes that day);
  ``today``: today 00:00 to tomorrow 00:00;
  ``week``: this calendar week, Monday 00:00 to the next Monday (``--offset 1``: next week);
  ``agenda``: from now to the end of the ``--days``-th day (default 14; 1 = rest of today);
  ``next``: the first occurrence starting at or after now, else NotFound (exit 3).
* Default length: 1 hour (1 day for all-day events). End before start is refused.
* Attendees (``--attendee``/``-a``) are linked to contacts of the same context: an email
  (or ``Name <email>``) matching a contact's email, else a unique contact id prefix, else a
  case-insensitive name (the full name, or every word of it, e.g. ``alex``); a name that
  fits several contacts is refused with the candidates; an unknown name or email is kept
  as a free attendee (``contact_id`` null).
* iCalendar import is idempotent on UID (plus RECURRENCE-ID for an edited instance of a
  series; the highest SEQUENCE wins): importing a file again adds nothing. Cancelled events
  (STATUS:CANCELLED) are kept but not listed. One unreadable field costs that field, not the
  event (reported as a warning); to-dos and journal entries are kept aside for export.
* Occurrences are ``recurring_ical_events``'s (the reference other programs are measured
  against): RRULE (several), RDATE, EXDATE (also on a single event), edited instances.
  ``--occurrence`` picks one (its day or start, in the user's zone) for ``update`` and
  ``delete``; ``--this-and-following`` splits the series as RFC 5545 does (the old one gets
  an UNTIL, a new UID carries the rest, a COUNT keeps what is left); one occurrence changed
  is an edited instance (RECURRENCE-ID), one cancelled an EXDATE, so exports carry them.
* A time typed to ``add``/``update`` means the user's zone unless ``--tz`` names one; the
  event keeps its own zone (IANA, a Windows name mapped by CLDR, or the rules of its file's
  VTIMEZONE: never a guess by offsets) for its rule and its wall-clock time.
* Bounds: a rule that repeats more than 48 times a day without COUNT/UNTIL (or INTERVAL=0)
  is refused; a listing covers at most 20 years and 50,000 occurrences.

The package, by concern: ``models`` (records, results, limits, shared parameter types),
``records`` (stored rows, zones and times, events and occurrences as results), ``occurrences``
(in a window, one chosen, a series counted, a change's scope in words), ``inputs`` (typed
ends, all-day spans, rules), ``attendees``, ``series`` (splitting and editing a series),
then the verbs: ``adding``, ``reading``, ``changing``, ``searching``, ``exchange`` (iCalendar
import and export). The verbs are registered in that order when this package is imported
(the registry imports ``herotui.services.calendar``): add, show, list, today, week, agenda,
next, update, delete, search, import, export. Every name stays importable from here.
"""

from __future__ import annotations

from herotui.services.calendar.models import (
    UTC, COLUMNS, LIST_DAYS, MAX_DAYS, MAX_LISTED, UPCOMING, REPEAT_HINT, Id, Occurrence_, Following,
    Attendee, Event, Occurrence, DeletedEvent, CalendarImportReport,
)
from herotui.services.calendar.records import (
    record, zone_of, event_zone, shown_time, occurrence_time, fmt_time, naive_utc, midnight, local_day_start,
    event_of, occurrence_of, get_record, SERIES_UIDS, series_rows, bound_series, listed, upcoming_starts,
    naive_local, get_event, master_of, stored_instant,
)
from herotui.services.calendar.occurrences import (
    check_window, occurrences_between, find_occurrence, series_count, change_scope,
)
from herotui.services.calendar.inputs import parse_end, whole_days, all_day_span, check_order, rule_of
from herotui.services.calendar.attendees import contacts_of, resolve_attendees
from herotui.services.calendar.series import (
    truncate_series, insert_row, split_series, edited_instance, skip_instants, move_exdates,
)
from herotui.services.calendar.adding import add
from herotui.services.calendar.reading import show, list_, today, week, agenda, next_
from herotui.services.calendar.changing import update, delete
from herotui.services.calendar.searching import search
from herotui.services.calendar.exchange import store_events, import_, export

SERVICE = "calendar"  # each verb module names it too (the registry reads the function's module)

__all__ = [
    "SERVICE", "UTC", "COLUMNS", "LIST_DAYS", "MAX_DAYS", "MAX_LISTED", "UPCOMING", "REPEAT_HINT", "Id",
    "Occurrence_", "Following", "Attendee", "Event", "Occurrence", "DeletedEvent", "CalendarImportReport",
    "record", "zone_of", "event_zone", "shown_time", "occurrence_time", "fmt_time", "naive_utc", "midnight",
    "local_day_start", "event_of", "occurrence_of", "get_record", "SERIES_UIDS", "series_rows",
    "bound_series", "listed", "upcoming_starts", "naive_local", "get_event", "master_of", "stored_instant",
    "check_window", "occurrences_between", "find_occurrence", "series_count", "change_scope", "parse_end",
    "whole_days", "all_day_span", "check_order", "rule_of", "contacts_of", "resolve_attendees",
    "truncate_series", "insert_row", "split_series", "edited_instance", "skip_instants", "move_exdates",
    "add", "show", "list_", "today", "week", "agenda", "next_", "update", "delete", "search", "store_events",
    "import_", "export",
]
