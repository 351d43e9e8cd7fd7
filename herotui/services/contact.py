"""Contacts: people, with vCard 3.0/4.0 import and export."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from herotui.errors import DuplicateContact, InvalidInput, NotFound
from herotui.registry import P, verb
from herotui.services.common import (
    ExportResult,
    ImportProblem,
    aware,
    clean_tags,
    export_text,
    new_id,
    resolve_id,
    retag,
    store_rows,
    utcnow,
)

SERVICE = "contact"
COLUMNS = "id, name, emails, phones, company, role, tags, notes, birthday, created, updated"


_EMAIL_FAST = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                         r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$")
_SPECIAL_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")  # email_validator's list


def normalize_email(value: str) -> str:
    """The normalised address (domain in lower case), or ValueError with email_validator's reason.

    Plain ASCII addresses take a fast path (an import checks thousands) that accepts only
    what email_validator accepts and normalises them the same way; anything else goes to it.
    """
    v = value.strip()
    m = _EMAIL_FAST.match(v)
    if m and len(v) <= 254 and v.index("@") <= 64 and "xn--" not in v.lower():
        domain = m.group(1).lower()
        if domain.rsplit(".", 1)[-1] not in _SPECIAL_DOMAINS:
            return v[: v.index("@") + 1] + domain
    from email_validator import EmailNotValidError, validate_email  # ~40 ms: only addresses off the fast path pay it

    try:
        return validate_email(v, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"'{value}' is not a valid email address ({exc})") from None


_PHONE_OK = re.compile(r"^\+?[0-9A-Za-z ()./\-]{3,}$")
_PHONE_PLAIN = re.compile(r"^\+?(?:[ ()./\-]*[0-9]){3}[0-9 ()./\-]*$")  # the usual number: no letters, no extension
_PHONE_EXT = re.compile(r"\s*(?:x|ext\.?|extension)\s*[0-9]+$", re.IGNORECASE)
_PHONE_LEAD = re.compile(r"^\+?[0-9 ()./\-]*")


def normalize_phone(value: str) -> str:
    """A phone number as written, checked: digits and separators, an extension ('x 12',
    'ext. 12'), or a vanity number (1-800-FLOWERS: digits first, then one word of letters)."""
    v = value.strip()
    if v[:4].lower() == "tel:":
        v = v[4:]
    if _PHONE_PLAIN.match(v):
        return v
    body = _PHONE_EXT.sub("", v)
    digits = sum(c.isdigit() for c in body)
    ok = bool(_PHONE_OK.match(body)) and digits >= 3
    if ok and any(c.isalpha() for c in body):  # a vanity number
        lead = _PHONE_LEAD.match(body).group()
        words = [w for w in re.split(r"[^A-Za-z]+", body[len(lead):]) if len(w) > 1]
        letters = sum(c.isalpha() for c in body)
        ok = sum(c.isdigit() for c in lead) >= 3 and len(words) <= 1 and 7 <= digits + letters <= 16
    if not ok:
        raise ValueError(f"'{value}' is not a phone number")
    return v


Email = Annotated[str, AfterValidator(normalize_email)]
Phone = Annotated[str, AfterValidator(normalize_phone)]
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


_ALL_SET = set(Contact.model_fields)


def _trusted_rows(rows: list) -> list[Contact]:
    """A listing's rows as Contacts without pydantic's validation (what ``model_construct``
    does, without its per-field loop): the database's columns already have the model's
    types (created and updated are NOT NULL). 10k rows: 114 -> 37 ms."""
    out = []
    append, new, set_, fields, utc = out.append, object.__new__, object.__setattr__, _ALL_SET, UTC
    for (cid, name, emails, phones, company, role, tags, notes, birthday, created, updated) in rows:
        c = new(Contact)
        set_(c, "__dict__", {
            "id": cid, "name": name, "emails": emails or [], "phones": phones or [], "company": company, "role": role,
            "tags": tags or [], "notes": notes, "birthday": birthday,
            "created": created.replace(tzinfo=utc), "updated": updated.replace(tzinfo=utc)})
        set_(c, "__pydantic_fields_set__", fields)  # every field: pydantic only ever adds names to it
        set_(c, "__pydantic_extra__", None)
        set_(c, "__pydantic_private__", None)
        append(c)
    return out


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
    duplicate: Annotated[bool, P("Create it even when a contact with this name and company exists")] = False,
) -> Contact:
    """Create a contact in the active context.

    A contact with the same name and company (case and spacing aside) is not created twice
    by accident: the call fails with the existing contact's id, and ``--duplicate`` creates
    a second one (two people can share a name).
    """
    fields = {"name": name, "emails": emails, "phones": phones, "company": company, "role": role,
              "tags": clean_tags(tags), "notes": notes, "birthday": birthday}
    with ctx.write() as tx:
        if not duplicate:
            words = name.lower().split()
            # strpos first: a cheap necessary condition (each word of the name is in it as is),
            # so the regular expressions run on a few rows (10k contacts: 10 -> 3.7 ms, in the writer lock)
            same = tx.execute(
                "SELECT id, name, company FROM contacts WHERE strpos(lower(name), ?) > 0 "
                "AND regexp_replace(lower(trim(name)), '\\s+', ' ', 'g') = ? "
                "AND regexp_replace(lower(trim(coalesce(company, ''))), '\\s+', ' ', 'g') = ? ORDER BY created, id LIMIT 1",
                [max(words, key=len), " ".join(words), " ".join((company or "").lower().split())]).fetchone()
            if same:
                raise DuplicateContact(same[0], same[1], same[2])
        cid = _insert(tx, fields)
        return _get(tx.conn, cid)


@verb(examples=["hero contact show 01JD3"])
def show(ctx, id: Id) -> Contact:
    """Show one contact."""
    with ctx.read() as conn:
        return _get(conn, resolve_id(conn, "contacts", "contact", id))


PAGE = 1000  # rows per page of a listing printed as it goes


def _list_pages(ctx, tag: str | None = None, company: str | None = None, limit: int | None = None,
                page: int = PAGE):
    """``list`` page by page, in name order: one query whose rows are fetched ``page`` at a
    time, so Python holds one page (DuckDB holds the sorted result in its own compact form:
    one sort instead of a top-N scan per page, 119 -> 48 ms on 10k contacts)."""
    where, params = [], []
    if tag:
        where.append("list_contains(tags, ?)")
        params.append(tag.strip().lower())
    if company:
        where.append("lower(company) = lower(?)")
        params.append(company.strip())
    filters = " WHERE " + " AND ".join(where) if where else ""
    order = " ORDER BY lower(name), id" + (f" LIMIT {int(limit)}" if limit is not None else "")
    from herotui.store import db

    with ctx.read() as conn:
        cache = db.row_cache(ctx, "contacts")
        if cache is not None:  # in the resident server
            rows = _cached_rows(conn, cache, filters, order, params)
            for i in range(0, len(rows), page):
                yield _trusted_rows(rows[i:i + page])
            return
        result = conn.execute(f"SELECT {COLUMNS} FROM contacts{filters}{order}", params)
        while True:
            rows = result.fetchmany(page)
            if rows:
                yield _trusted_rows(rows)
            if len(rows) < page:
                return


def _cached_rows(conn, cache: dict, filters: str, order: str, params: list) -> list[tuple]:
    """The listing's rows through the server's row cache (``db.row_cache``): the ids and
    revisions in order (DuckDB reads two narrow columns), then each row from the cache when
    its revision is the cached one, else from the database. On 10k contacts a page of 20
    costs ~1.5 ms instead of ~4 (the full rows of a top-N re-read every column)."""
    conn.execute("BEGIN TRANSACTION")  # one snapshot for the keys and the rows fetched
    try:
        keys = conn.execute(f"SELECT id, revision FROM contacts{filters}{order}", params).fetchall()
        missing = [cid for cid, rev in keys if cache.get(cid, (None,))[0] != rev]
        if len(missing) <= 32:  # point lookups by the primary key
            for cid in missing:
                row = conn.execute(f"SELECT revision, {COLUMNS} FROM contacts WHERE id = ?", [cid]).fetchone()
                cache[cid] = (row[0], row[1:])
        else:  # many (the first listing): one scan
            for row in conn.execute(f"SELECT revision, {COLUMNS} FROM contacts{filters}", params).fetchall():
                cache[row[1]] = (row[0], row[1:])
    finally:
        conn.execute("COMMIT")
    return [cache[cid][1] for cid, _ in keys]


@verb(examples=["hero contact list", "hero contact list --tag finance", "hero contact list --company Northwind"],
      pages=_list_pages)
def list_(
    ctx,
    tag: Annotated[str | None, P("Only contacts with this tag")] = None,
    company: Annotated[str | None, P("Only contacts at this company (case-insensitive)")] = None,
    limit: Annotated[int | None, P("At most this many", minimum=1)] = None,
) -> list[Contact]:
    """List contacts, sorted by name."""
    return [c for chunk in _list_pages(ctx, tag, company, limit, page=limit or 2**62) for c in chunk]  # one query


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


class FieldProblem(BaseModel):
    """A field of an imported card that was left out: card position, line, property, why.

    The card itself was imported, and the line is kept in it: an export writes it back."""

    position: int
    line: int
    field: str
    message: str


class ImportReport(BaseModel):
    """The outcome of an import: what was added, updated or already there, what was left out and why."""

    path: str
    imported: int
    updated: int = 0
    unchanged: int = 0
    skipped: list[ImportProblem] = []
    problems: list[FieldProblem] = []
    notes: list[str] = []


_UID_LINE = re.compile(r"^UID(?:;[^:\r\n]*)?:([^\r\n]*)", re.IGNORECASE | re.MULTILINE)
_STORE = ["name", "emails", "phones", "company", "role", "tags", "notes", "birthday", "vcard"]


def _matcher(conn):
    """Existing contacts by UID (the imported card's, or urn:hero:<id>) and, for cards
    without one, by the card's text: re-importing a file finds its cards again."""
    by_uid: dict[str, list] = {}
    by_text: dict[str, list] = {}
    for row in conn.execute(f"SELECT {COLUMNS}, vcard FROM contacts ORDER BY id").fetchall():
        vcard = row[-1]
        m = _UID_LINE.search(vcard) if vcard else None
        uid = m.group(1).strip() if m else None
        if uid:
            by_uid.setdefault(uid, []).append(row)
        elif vcard:
            by_text.setdefault(vcard, []).append(row)
        by_uid.setdefault(f"urn:hero:{row[0]}", []).append(row)
    return by_uid, by_text


@verb(mutates=True, name="contact.import", examples=["hero contact import ~/contacts.vcf"])
def import_(ctx, path: Annotated[str, P("A .vcf file (vCard 2.1, 3.0 or 4.0, any number of cards)", positional=True)]) -> ImportReport:
    """Import contacts from a vCard file; valid cards are added, bad ones reported by position.

    A field that does not fit (an email that is not one, a BDAY that is not a date) is
    reported in ``problems`` and kept in the card; the rest of the card is imported. Files
    in UTF-16, Latin-1 or Windows-1252 are converted (``notes`` says so). Importing the
    same file again adds nothing: a card whose UID (or, without one, whose text) is already
    here is left alone when identical and updated when it changed. Categories become tags
    ("My Contacts" -> my-contacts) and keep their spelling on export. Properties Hero does
    not model (addresses, URLs, photos, REV, X- extensions...) are kept and written back on
    export. The whole import is one transaction: it lands entirely or not at all.
    """
    from herotui.services import _vcard
    from herotui.services.common import read_import_text

    file, text, note = read_import_text(path)
    cards, skipped = _vcard.parse(text)
    if not cards and not any(_vcard.CARD_BEGIN.match(line) for line in text.splitlines()):
        if re.search(r"^BEGIN:VCALENDAR", text, re.IGNORECASE | re.MULTILINE):
            raise InvalidInput(f"{path} is an iCalendar file, not vCards", hint=f"import it with 'hero calendar import {path}'")
        raise InvalidInput(f"{path} contains no vCard", hint="a vCard starts with BEGIN:VCARD")
    problems = [FieldProblem(position=c["position"], **p) for c in cards for p in c["problems"]]
    added = changed = same = 0
    with ctx.write() as tx:
        now = utcnow()
        by_uid, by_text = _matcher(tx.conn) if tx.execute("SELECT count(*) FROM contacts").fetchone()[0] else ({}, {})
        new_rows, changed_rows = [], []
        for c in cards:
            c["tags"] = clean_tags(c["tags"], lenient=True)
            candidates = by_uid.get(c["uid"]) if c["uid"] else by_text.get(c["vcard"])
            if candidates:
                row = next((r for r in candidates if r[-1] == c["vcard"]), None) or next(
                    (r for r in candidates if _same(r, c)), None)
                if row is not None:
                    candidates.remove(row)
                    same += 1
                    continue
                row = candidates.pop(0)
                changed_rows.append([row[0], *(c[k] for k in _STORE), now, tx.revision])
                continue
            new_rows.append([new_id(), *(c[k] for k in _STORE), now, now, tx.revision])
        store_rows(tx, "contacts", list(_STORE), new_rows, changed_rows)
        added, changed = len(new_rows), len(changed_rows)
    return ImportReport(path=str(file), imported=added, updated=changed, unchanged=same,
                        skipped=[ImportProblem(**p) for p in skipped], problems=problems, notes=[note] if note else [])


def _same(row, card: dict) -> bool:
    """The stored contact already says what the card says: the same fields, and the same card
    once exported (a file exported from Hero and imported back, or the same card written by
    another program with its lines in another order)."""
    from herotui.services import _vcard

    c = _row(row[:-1])
    if any(getattr(c, k) != card[k] for k in _STORE if k != "vcard"):
        return False
    d = c.model_dump()
    return _vcard.serialize(d, row[-1], edited=False) == _vcard.serialize(d, card["vcard"], edited=False)


@verb(examples=["hero contact export > contacts.vcf", "hero contact export --tag finance --output finance.vcf"])
def export(
    ctx,
    output: Annotated[str | None, P("Write to this file (default: print)", short="-o")] = None,
    tag: Annotated[str | None, P("Only contacts with this tag")] = None,
    version: Annotated[str, P("vCard version: 3.0 or 4.0")] = "4.0",
    force: Annotated[bool, P("Overwrite an existing file")] = False,
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
    parts = []
    for r in rows:
        c = _row(r[:-1])
        parts.append(_vcard.serialize(c.model_dump(), r[-1], version, edited=c.updated != c.created))
    text = "".join(parts)
    return export_text(text, len(rows), output, force=force)
