"""The database schema: ordered migrations and what each kind of record puts in the index.

Migrations are small functions applied in order, each recorded by name in ``_migrations``
(the schema version is their count). Never edit an applied migration: add a new one.

Timestamps are stored as naive ``TIMESTAMP`` values in UTC; the services attach the zone at
the boundary. Every row carries the ``revision`` of the write that last touched it, and
deletions leave a ``tombstones`` row, so the index can be brought up to date from any
revision (see ``store.index.sync``).
"""

from __future__ import annotations

from typing import Callable

MIGRATIONS: list[Callable] = []


def migration(fn: Callable) -> Callable:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_core(conn) -> None:
    conn.execute("CREATE TABLE state (id INTEGER PRIMARY KEY, revision BIGINT NOT NULL)")
    conn.execute("INSERT INTO state VALUES (1, 0)")
    conn.execute("CREATE TABLE tombstones (kind VARCHAR NOT NULL, id VARCHAR NOT NULL, revision BIGINT NOT NULL)")


@migration
def m002_contacts(conn) -> None:
    conn.execute(
        """
        CREATE TABLE contacts (
            id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            emails VARCHAR[] NOT NULL DEFAULT [],
            phones VARCHAR[] NOT NULL DEFAULT [],
            company VARCHAR,
            role VARCHAR,
            tags VARCHAR[] NOT NULL DEFAULT [],
            notes VARCHAR,
            birthday DATE,
            vcard VARCHAR,          -- the imported card, so unknown properties survive export
            created TIMESTAMP NOT NULL,
            updated TIMESTAMP NOT NULL,
            revision BIGINT NOT NULL
        )
        """
    )


@migration
def m003_events(conn) -> None:
    conn.execute(
        """
        CREATE TABLE events (
            id VARCHAR PRIMARY KEY,
            uid VARCHAR NOT NULL,   -- iCalendar UID (import is idempotent on uid + recurrence_id)
            recurrence_id TIMESTAMP, -- set on an edited instance of a series (same uid): RECURRENCE-ID
            title VARCHAR NOT NULL,
            start TIMESTAMP NOT NULL, -- UTC; for all-day events the floating date at 00:00
            "end" TIMESTAMP NOT NULL,
            all_day BOOLEAN NOT NULL DEFAULT false,
            tz VARCHAR NOT NULL,    -- the zone the event was written in (recurrence runs in it)
            location VARCHAR,
            description VARCHAR,
            attendees VARCHAR NOT NULL DEFAULT '[]', -- JSON: [{name, email, contact_id}]
            tags VARCHAR[] NOT NULL DEFAULT [],
            rrule VARCHAR,
            exdates TIMESTAMP[] NOT NULL DEFAULT [], -- same form as start: UTC, or dates at 00:00
            status VARCHAR,         -- iCalendar STATUS (CANCELLED events are not listed)
            ical VARCHAR,           -- the imported VEVENT, so unknown properties survive export
            created TIMESTAMP NOT NULL,
            updated TIMESTAMP NOT NULL,
            revision BIGINT NOT NULL
        )
        """
    )


@migration
def m004_documents(conn) -> None:
    # Documents and decks (a deck is a Markdown document with '---' between slides, kind
    # 'deck'). The file itself is in blobs/<sha256>; text is what was extracted from it.
    conn.execute(
        """
        CREATE TABLE documents (
            id VARCHAR PRIMARY KEY,
            sha256 VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,      -- markdown, text, pdf, html, other, deck
            mime VARCHAR,
            tags VARCHAR[] NOT NULL DEFAULT [],
            source VARCHAR,             -- the path it was added from ('-' for stdin)
            filename VARCHAR NOT NULL,  -- original file name (sanitised on export)
            size BIGINT NOT NULL,
            pages INTEGER,              -- PDF pages, or slides of a deck
            text VARCHAR,               -- extracted text (NULL: none could be extracted)
            note VARCHAR,               -- e.g. 'no text extracted (image/png)'
            contacts VARCHAR[] NOT NULL DEFAULT [],  -- linked contact ids
            events VARCHAR[] NOT NULL DEFAULT [],    -- linked event ids
            created TIMESTAMP NOT NULL,
            updated TIMESTAMP NOT NULL,
            revision BIGINT NOT NULL
        )
        """
    )


@migration
def m005_knowledge(conn) -> None:
    # Books of Markdown pages; pages are split by heading into passages for retrieval.
    conn.execute(
        """
        CREATE TABLE knowledge_pages (
            id VARCHAR PRIMARY KEY,
            book VARCHAR NOT NULL,
            path VARCHAR NOT NULL,      -- page path inside the book, e.g. 'services/contact.md'
            title VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            created TIMESTAMP NOT NULL,
            updated TIMESTAMP NOT NULL,
            revision BIGINT NOT NULL,
            UNIQUE (book, path)
        )
        """
    )
    conn.execute(
        """
        CREATE TABLE knowledge_passages (
            id VARCHAR PRIMARY KEY,
            page_id VARCHAR NOT NULL,
            book VARCHAR NOT NULL,
            seq INTEGER NOT NULL,       -- order within the page
            heading VARCHAR NOT NULL,   -- 'Page title > Section > Subsection'
            text VARCHAR NOT NULL,
            updated TIMESTAMP NOT NULL,
            revision BIGINT NOT NULL
        )
        """
    )


@migration
def m006_calendar_series(conn) -> None:
    # What real calendar files carry beyond one rule: extra instances (RDATE, same form as
    # start), the zone's own definition when its TZID is not an IANA or Windows name
    # (the VTIMEZONE text: its rules, never a guess by offsets), SEQUENCE (the highest wins
    # on re-import), and components Hero does not model (VTODO, VJOURNAL) kept for export.
    conn.execute("ALTER TABLE events ADD COLUMN rdates TIMESTAMP[] NOT NULL DEFAULT []")
    conn.execute("ALTER TABLE events ADD COLUMN vtimezone VARCHAR")
    conn.execute("ALTER TABLE events ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        """
        CREATE TABLE calendar_items (
            uid VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,      -- VTODO or VJOURNAL
            ical VARCHAR NOT NULL,      -- the component as imported
            created TIMESTAMP NOT NULL,
            revision BIGINT NOT NULL,
            PRIMARY KEY (uid, kind)
        )
        """
    )


@migration
def m007_series_end(conn) -> None:
    # When a series' last occurrence ends (stored form; NULL: it has no end), so listings
    # expand only the series that can reach their window.
    conn.execute("ALTER TABLE events ADD COLUMN series_end TIMESTAMP")


# What each kind puts in the search index: id, title, body, tags, time (UTC), revision.
INDEX_SOURCES: dict[str, str] = {
    "contact": """
        SELECT id, name AS title,
               concat_ws(' ', company, role, array_to_string(emails, ' '),
                         array_to_string(phones, ' '), notes) AS body,
               tags, updated AS time, revision
        FROM contacts""",
    "event": """
        SELECT id, title,
               concat_ws(' ', location, description,
                         array_to_string(json_extract_string(attendees, '$[*].name'), ' '),
                         array_to_string(json_extract_string(attendees, '$[*].email'), ' ')) AS body,
               tags, start AS time, revision
        FROM events""",
    "document": """
        SELECT id, title, left(coalesce(text, note, ''), 200000) AS body, tags, updated AS time, revision
        FROM documents WHERE kind <> 'deck'""",
    "deck": """
        SELECT id, title, left(coalesce(text, ''), 200000) AS body, tags, updated AS time, revision
        FROM documents WHERE kind = 'deck'""",
    "knowledge": """
        SELECT id, heading AS title, text AS body, [book] AS tags, updated AS time, revision
        FROM knowledge_passages""",
}
