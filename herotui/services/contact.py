"""Contacts: people, with vCard 3.0/4.0 import and export."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from herotui.errors import InvalidInput, NotFound
from herotui.registry import P, verb
from herotui.services.common import (ExportResult, ImportProblem, aware, clean_tags, export_text, new_id, retag,
                                     read_import_file, resolve_id, utcnow)

SERVICE = "contact"
COLUMNS = "id, name, emails, phones, company, role, tags, notes, birthday, created, updated"


def _email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"'{value}' is not a valid email address ({exc})") from None


_PHONE_OK = re.compile(r"^\+?[0-9 ()./\-]{3,}(?:\s*(?:x|ext\.?)\s*[0-9]+)?$", re.I)


def _phone(value: str) -> str:
    v = value.strip()
    if v.lower().startswith("tel:"):
        v = v[4:]
    if not _PHONE_OK.match(v) or sum(c.isdigit() for c in v) < 3:
        raise ValueError(f"'{value}' is not a phone number")
    return v


Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(_phone)]
Id = Annotated[str, P("Contact id, or a unique prefix of it", positional=True)]
Tags = Annotated[list[str], P("Tag (repeat, or comma-separated)", positional=True)]


def _name(value: str) -> str:
    v = value.strip()
    if not v:
        raise ValueError("must not be empty")
    return v


Name = Annotated[str, AfterValidator(_name)]


class Contact(BaseModel):
    """A person."""

    id: str
    name: str
    emails: list[str] = []
    phones: list[str] = []
    company: str | None = None
    role: str | None = None
    tags: list[str] = []
    notes: str | None = None
    birthday: date | None = None
    created: datetime
    updated: datetime

    __columns__ = ("id", "name", "emails", "phones", "company", "tags")


def _row(row) -> Contact:
    (cid, name, emails, phones, company, role, tags, notes, birthday, created, updated) = row
    return Contact(
        id=cid, name=name, emails=emails or [], phones=phones or [], company=company, role=role,
        tags=tags or [], notes=notes, birthday=birthday, created=aware(created), updated=aware(updated),
    )


def _get(conn, cid: str) -> Contact:
    row = conn.execute(f"SELECT {COLUMNS} FROM contacts WHERE id = ?", [cid]).fetchone()
    if row is None:
        raise NotFound(f"no contact with id '{cid}'")
    return _row(row)


def _insert(tx, c: dict, vcard: str | None = None) -> str:
    cid = new_id()
    now = utcnow()
    tx.execute(
        "INSERT INTO contacts (id, name, emails, phones, company, role, tags, notes, birthday, vcard, created, updated, revision)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [cid, c["name"], c.get("emails") or [], c.get("phones") or [], c.get("company"), c.get("role"),
         c.get("tags") or [], c.get("notes"), c.get("birthday"), vcard, now, now, tx.revision],
    )
    return cid


@verb(mutates=True, examples=['hero contact create --name "Alex Smith" --email alex@example.com --company Northwind --tag finance'])
def create(
    ctx,
    name: Annotated[Name, P("Full name")],
    emails: Annotated[list[Email], P("Email address (repeat for several)", flag="--email", short="-e")] = [],
    phones: Annotated[list[Phone], P("Phone number (repeat for several)", flag="--phone", short="-p")] = [],
    company: Annotated[str | None, P("Company or organisation")] = None,
    role: Annotated[str | None, P("Role or job title")] = None,
    tags: Annotated[list[str], P("Tag (repeat, or comma-separated)", flag="--tag", short="-t")] = [],
    notes: Annotated[str | None, P("Free-form notes")] = None,
    birthday: Annotated[date | None, P("Birthday, YYYY-MM-DD")] = None,
) -> Contact:
    """Create a contact in the active context."""
    fields = dict(name=name, emails=emails, phones=phones, company=company, role=role,
                  tags=clean_tags(tags), notes=notes, birthday=birthday)
    with ctx.write() as tx:
        cid = _insert(tx, fields)
        return _get(tx.conn, cid)


@verb(examples=["hero contact show 01JD3"])
def show(ctx, id: Id) -> Contact:
    """Show one contact."""
    with ctx.read() as conn:
        return _get(conn, resolve_id(conn, "contacts", "contact", id))


@verb(examples=["hero contact list", "hero contact list --tag finance", "hero contact list --company Northwind"])
def list_(
    ctx,
    tag: Annotated[str | None, P("Only contacts with this tag")] = None,
    company: Annotated[str | None, P("Only contacts at this company (case-insensitive)")] = None,
    limit: Annotated[int | None, P("At most this many", minimum=1)] = None,
) -> list[Contact]:
    """List contacts, sorted by name."""
    where, params = [], []
    if tag:
        where.append("list_contains(tags, ?)")
        params.append(tag.strip().lower())
    if company:
        where.append("lower(company) = lower(?)")
        params.append(company.strip())
    sql = f"SELECT {COLUMNS} FROM contacts"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY lower(name), id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with ctx.read() as conn:
        return [_row(r) for r in conn.execute(sql, params).fetchall()]


@verb(mutates=True, examples=['hero contact update 01JD3 --role "CFO" --email alex@new.example'])
def update(
    ctx,
    id: Id,
    name: Annotated[Name | None, P("New full name")] = None,
    emails: Annotated[list[Email] | None, P("Replace the emails (repeat for several)", flag="--email", short="-e")] = None,
    phones: Annotated[list[Phone] | None, P("Replace the phones (repeat for several)", flag="--phone", short="-p")] = None,
    company: Annotated[str | None, P("New company ('' clears it)")] = None,
    role: Annotated[str | None, P("New role ('' clears it)")] = None,
    notes: Annotated[str | None, P("New notes ('' clears them)")] = None,
    birthday: Annotated[str | None, P("New birthday YYYY-MM-DD ('' clears it)")] = None,
) -> Contact:
    """Change a contact's fields; fields not given stay as they are."""
    changes: dict = {}
    if name is not None:
        changes["name"] = name
    if emails:
        changes["emails"] = emails
    if phones:
        changes["phones"] = phones
    for key, value in (("company", company), ("role", role), ("notes", notes)):
        if value is not None:
            changes[key] = value.strip() or None
    if birthday is not None:
        try:
            changes["birthday"] = date.fromisoformat(birthday) if birthday.strip() else None
        except ValueError:
            raise InvalidInput(f"--birthday '{birthday}' is not a date", hint="use YYYY-MM-DD") from None
    if not changes:
        raise InvalidInput("nothing to update", hint="give at least one field, e.g. --role 'CFO'")
    with ctx.write() as tx:
        cid = resolve_id(tx.conn, "contacts", "contact", id)
        sets = ", ".join(f"{k} = ?" for k in changes)
        tx.execute(f"UPDATE contacts SET {sets}, updated = ?, revision = ? WHERE id = ?",
                   [*changes.values(), utcnow(), tx.revision, cid])
        return _get(tx.conn, cid)


class Deleted(BaseModel):
    """What a delete removed."""

    id: str
    name: str


@verb(destructive=True, examples=["hero contact delete 01JD3 --yes"])
def delete(ctx, id: Id) -> Deleted:
    """Delete a contact."""
    with ctx.write() as tx:
        cid = resolve_id(tx.conn, "contacts", "contact", id)
        name = tx.execute("SELECT name FROM contacts WHERE id = ?", [cid]).fetchone()[0]
        tx.execute("DELETE FROM contacts WHERE id = ?", [cid])
        tx.tombstone("contact", cid)
    return Deleted(id=cid, name=name)


@verb(examples=['hero contact search "alex northwind"', "hero contact search finanse"])
def search(
    ctx,
    query: Annotated[str, P("Words to look for (typos are forgiven)", positional=True)],
    limit: Annotated[int, P("At most this many", minimum=1)] = 20,
) -> list[Contact]:
    """Search contacts by name, company, role, email, phone, notes and tags, best first."""
    from herotui.store import index

    with ctx.read() as conn:
        hits = index.search(ctx, query, kinds=["contact"], limit=limit)
        if not hits:
            return []
        ids = [h.id for h in hits]
        rows = {r[0]: _row(r) for r in conn.execute(f"SELECT {COLUMNS} FROM contacts WHERE list_contains(?, id)", [ids]).fetchall()}
    return [rows[i] for i in ids if i in rows]


def _retag(ctx, id: str, tags: list[str], add: bool) -> Contact:
    wanted = clean_tags(tags)
    if not wanted:
        raise InvalidInput("no tag given", hint="e.g. 'hero contact tag 01JD3 finance'")
    with ctx.write() as tx:
        cid = resolve_id(tx.conn, "contacts", "contact", id)
        retag(tx, "contacts", cid, wanted, add)
        return _get(tx.conn, cid)


@verb(mutates=True, examples=["hero contact tag 01JD3 finance vip"])
def tag(ctx, id: Id, tags: Tags) -> Contact:
    """Add tags to a contact."""
    return _retag(ctx, id, tags, add=True)


@verb(mutates=True, examples=["hero contact untag 01JD3 vip"])
def untag(ctx, id: Id, tags: Tags) -> Contact:
    """Remove tags from a contact."""
    return _retag(ctx, id, tags, add=False)


class ImportReport(BaseModel):
    """The outcome of an import: what was added, and what was skipped and why."""

    path: str
    imported: int
    skipped: list[ImportProblem] = []


@verb(mutates=True, name="contact.import", examples=["hero contact import ~/contacts.vcf"])
def import_(ctx, path: Annotated[str, P("A .vcf file (vCard 3.0 or 4.0, any number of cards)", positional=True)]) -> ImportReport:
    """Import contacts from a vCard file; valid cards are added, bad ones reported by position.

    Properties Hero does not model (addresses, URLs, X- extensions...) are kept and written
    back on export. The whole import is one transaction: it lands entirely or not at all.
    """
    from herotui.services import _vcard

    file, text = read_import_file(path)
    cards, problems = _vcard.parse(text)
    if not cards and not any(_vcard._BEGIN.match(line) for line in text.splitlines()):
        raise InvalidInput(f"{path} contains no vCard", hint="a vCard starts with BEGIN:VCARD")
    with ctx.write() as tx:
        now = utcnow()
        rows = [(new_id(), c["name"], c["emails"], c["phones"], c["company"], c["role"], clean_tags(c["tags"]),
                 c["notes"], c["birthday"], c["vcard"], now, now, tx.revision) for c in cards]
        if rows:
            cols = [list(col) for col in zip(*rows)]
            tx.execute(
                "INSERT INTO contacts (id, name, emails, phones, company, role, tags, notes, birthday, vcard, created, updated, revision) "
                "SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)",
                cols,
            )
    return ImportReport(path=str(file), imported=len(rows), skipped=[ImportProblem(**p) for p in problems])


@verb(examples=["hero contact export > contacts.vcf", "hero contact export --tag finance --output finance.vcf"])
def export(
    ctx,
    output: Annotated[str | None, P("Write to this file (default: print)", short="-o")] = None,
    tag: Annotated[str | None, P("Only contacts with this tag")] = None,
    version: Annotated[str, P("vCard version: 3.0 or 4.0")] = "4.0",
) -> ExportResult:
    """Export contacts as vCard (unknown properties from imported cards are kept)."""
    from herotui.services import _vcard

    if version not in ("3.0", "4.0"):
        raise InvalidInput(f"unsupported vCard version '{version}'", hint="use 3.0 or 4.0")
    sql = f"SELECT {COLUMNS}, vcard FROM contacts"
    params = []
    if tag:
        sql += " WHERE list_contains(tags, ?)"
        params.append(tag.lower())
    with ctx.read() as conn:
        rows = conn.execute(sql + " ORDER BY lower(name), id", params).fetchall()
    text = "".join(_vcard.serialize(_row(r[:-1]).model_dump(), r[-1], version) for r in rows)
    return export_text(text, len(rows), output)
