"""The calendar's records and results (data only: the front-ends decide how they look), its
limits and the parameter types the verbs share."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import BaseModel

from herotui.registry import P
from herotui.services.common import ImportProblem


UTC = timezone.utc


COLUMNS = ('id, uid, recurrence_id, title, start, "end", all_day, tz, location, description, attendees, '
           "tags, rrule, exdates, status, created, updated, rdates, vtimezone, sequence")


LIST_DAYS = 30


MAX_DAYS = 7320  # a listing covers at most 20 years


MAX_LISTED = 50_000  # occurrences one listing returns


UPCOMING = 5  # occurrences shown by ``show``


REPEAT_HINT = "use --repeat daily|weekly|monthly|yearly|weekdays, or --rrule 'FREQ=WEEKLY;BYDAY=MO'"


Id = Annotated[str, P("Event id, or a unique prefix of it", positional=True)]


Occurrence_ = Annotated[str | None, P(
    "Only this occurrence of a series: its day or its start ('2026-12-08', 'tuesday', 'dec 8 9:00'), "
    "as listed in your zone")]


Following = Annotated[bool, P("With --occurrence: that occurrence and every later one", flag="--this-and-following")]


class Attendee(BaseModel):
    """Someone invited: a contact of this context (``contact_id``) or a free name/email."""

    name: str | None = None
    email: str | None = None
    contact_id: str | None = None


class Event(BaseModel):
    """An event (for a recurring one: the series, with its first start and end)."""

    id: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    tz: str
    location: str | None = None
    description: str | None = None
    attendees: list[Attendee] = []
    tags: list[str] = []
    rrule: str | None = None
    rdates: list[datetime] = []
    exdates: list[datetime] = []
    status: str | None = None
    uid: str
    recurrence_id: datetime | None = None
    upcoming: list[datetime] = []
    created: datetime
    updated: datetime

    __columns__ = ("id", "start", "end", "title", "location", "rrule", "tags")


class Occurrence(BaseModel):
    """One occurrence of an event in time (``id`` is the event's)."""

    id: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    location: str | None = None
    description: str | None = None
    attendees: list[Attendee] = []
    tags: list[str] = []
    recurring: bool = False
    instance: datetime | None = None  # which occurrence of a series: --occurrence takes it

    __columns__ = ("id", "start", "end", "title", "location", "tags")


class DeletedEvent(BaseModel):
    """What a delete removed: the whole event or series, one occurrence, or an occurrence
    and the ones after it."""

    id: str
    title: str
    removed: int = 1  # rows: the event, with the edited instances of a series
    scope: str = "event"  # event | occurrence | following
    occurrence: datetime | None = None

    __columns__ = ("id", "title", "scope", "occurrence")


class CalendarImportReport(BaseModel):
    """The outcome of an import: events added, events updated (same UID), problems, and the
    to-dos and journal entries kept aside (written back on export)."""

    path: str
    imported: int
    updated: int = 0
    kept_aside: int = 0
    skipped: list[ImportProblem] = []
    warnings: list[ImportProblem] = []  # events kept without a field that could not be read
    note: str | None = None
