"""The documents' records and results (data only: the front-ends decide how they look)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel

from herotui.registry import P


COLUMNS = ("id, sha256, title, kind, mime, tags, source, filename, size, pages, note, contacts, events, "
           "created, updated")
KINDS = ("markdown", "text", "pdf", "html", "other")
TEXT_KINDS = ("markdown", "text")  # opened in the pager

Id = Annotated[str, P("Document id, or a unique prefix of it", positional=True)]
Tags = Annotated[list[str], P("Tag (repeat, or comma-separated)", positional=True)]


class Document(BaseModel):
    """A stored file: its metadata (the text is shown by ``document text``)."""

    id: str
    title: str
    kind: str
    tags: list[str] = []
    size: int
    pages: int | None = None
    filename: str
    source: str | None = None
    mime: str | None = None
    sha256: str
    note: str | None = None
    contacts: list[str] = []
    events: list[str] = []
    created: datetime
    updated: datetime

    __columns__ = ("id", "title", "kind", "pages", "tags", "updated")


class DocumentDetail(Document):
    """A document with the names of what it is linked to."""

    linked_contacts: list[str] = []  # "Alex Smith <alex@...> (01JD...)"
    linked_events: list[str] = []  # "2026-01-07 10:00 Quarterly report review (01JD...)"
    chars: int = 0  # length of the extracted text


class Duplicate(BaseModel):
    """A file whose content is already stored."""

    path: str
    id: str
    title: str


class Skipped(BaseModel):
    """A path that was not added, and why."""

    path: str
    reason: str


class AddReport(BaseModel):
    """What ``document add`` did: documents added, duplicates found, paths skipped and why."""

    added: list[Document] = []
    duplicates: list[Duplicate] = []
    skipped: list[Skipped] = []
    hidden: int = 0  # hidden files and folders left out of folders (see --hidden)

    __columns__ = ("added", "duplicates", "skipped")


class DocumentText(BaseModel):
    """The extracted text of a document."""

    id: str
    title: str
    kind: str
    text: str | None = None
    note: str | None = None

    __text__ = "text"


class Deleted(BaseModel):
    """What a delete removed: the document, and its file when no other document shares it."""

    id: str
    title: str
    blob_removed: bool


class Exported(BaseModel):
    """Where a document's file was written."""

    id: str
    title: str
    path: str
    size: int


class Opened(BaseModel):
    """A document to show on the caller's own screen: Markdown and text as their text (for a
    pager), other kinds as their stored file (for the system's viewer, under ``filename``).

    The verb shows nothing: the front-end that asked does (the CLI: ``$PAGER``, else
    ``less``; ``$HERO_OPENER``, else ``xdg-open`` or ``open``), and fills in ``command``,
    ``path`` and ``message`` with how it did.
    """

    id: str
    title: str
    kind: str
    how: Literal["pager", "opener"]
    text: str | None = None  # how = pager: the text to page
    file: str | None = None  # how = opener: the stored file (read it, never change it)
    filename: str | None = None  # how = opener: a safe name to open it under (with the kind's extension)
    chars: int = 0  # length of the extracted text ('hero document text' prints it)
    command: str = ""  # the program that showed it (set by the front-end)
    path: str | None = None  # the temporary copy handed to the viewer (set by the front-end)
    message: str = ""  # printed by the CLI (nothing after the pager)

    __text__ = "message"


class SummaryPart(BaseModel):
    """The picked sentences of one part (section or chunk) of a long document."""

    title: str
    sentences: list[str]


class Summary(BaseModel):
    """A summary of a document: ``method`` says how it was made (extractive: no model)."""

    id: str
    title: str
    method: Literal["extractive", "model"]
    sentences: list[str] = []
    parts: list[SummaryPart] = []
    note: str | None = None
    text: str

    __text__ = "text"
