"""vCard 2.1/3.0/4.0 <-> contact fields, with a tolerant reader of our own.

Why not vobject: on real address books it rejects whole cards for one odd line (vCard 2.1
quoted-printable soft line breaks, a second PROFILE, a property name with '/', an empty
parameter), cuts ``FN:Doe, John`` at the comma, and cannot serialise a 2.1 ``ENCODING=BASE64``
photo (a TypeError that made every export fail). It also costs ~0.3 ms a card. This reader
is ~10x faster and keeps every line it does not understand.

Reading a file:

- ``split`` cuts the text into cards (nested ``BEGIN:VCARD``, e.g. a 2.1 AGENT, stays inside
  its card); stray text and a card without ``END:VCARD`` are problems by position.
- ``properties`` unfolds a card into content lines: folded lines (a leading space or tab),
  quoted-printable soft line breaks (a value ending with ``=``), 2.1 base64 lines that are
  not indented. Parameters: ``NAME=a,b``, quoted values, 2.1 bare values (``TEL;CELL;PREF``
  is ``TYPE=CELL,PREF``; ``QUOTED-PRINTABLE`` is an ``ENCODING``), empty ones ignored.
  Quoted-printable values are decoded with their ``CHARSET``. A line that is not a property
  is reported as a problem of that field; the card keeps everything else.
- ``card_to_fields`` maps the properties to Hero's fields. A field that does not fit (an
  email that is not one, a BDAY that is not a date) is reported with its line and name, and
  its line is kept so that an export writes it back; only a card with nothing to call it by
  (no FN, N, NICKNAME, ORG, EMAIL or TEL) is rejected.

Writing (``serialize``): Hero's fields, plus, from the imported card, everything Hero does
not model (ADR, URL, PHOTO, UID, REV, X-..., a second ORG/TITLE/N, a text BDAY), converted
to the version written (2.1 quoted-printable becomes escaped text, 2.1/3.0 base64 becomes
``ENCODING=b`` in 3.0 and a ``data:`` URI in 4.0), and the original spelling of categories
("My Contacts") for tags that still stand for them.
"""

from __future__ import annotations

import binascii
import os
import re
from datetime import date

from herotui.services.common import parse_pool, tag_of
from herotui.services.contact import normalize_email, normalize_phone

PARALLEL_FROM = 2000  # cards; below this a process pool costs more than it saves

CARD_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)  # contact import: is there any card at all?
_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_NAME_OK = re.compile(r"^[^\s\"]+$")
_BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
_MANAGED = {"VERSION", "PRODID", "REV", "UID", "CATEGORIES", "NOTE"}  # written by serialize from Hero's data


class Prop:
    """One content line: group, NAME (upper case), params {NAME: [values]}, value, and how it came.

    ``value`` is the raw (still escaped) text, except for a quoted-printable value, which is
    decoded text (``qp`` True: 2.1 has no escapes), and base64, which is the bare base64
    (``b64`` True).
    """

    __slots__ = ("b64", "group", "key", "line", "name", "params", "qp", "value")

    def __init__(self, group, name, params, value, line, qp=False, b64=False):
        self.group, self.name, self.key, self.params = group, name, name.upper(), params
        self.value, self.line, self.qp, self.b64 = value, line, qp, b64

    def text(self) -> str:
        """The value as plain text (escapes resolved)."""
        return self.value.strip() if self.qp else unescape(self.value).strip()

    def parts(self, sep: str = ";") -> list[str]:
        """A structured value (N, ORG, ADR) or a list (CATEGORIES, sep=','), unescaped."""
        return [p.strip() if self.qp else unescape(p).strip() for p in split_unescaped(self.value, sep)]


# --- reading -----------------------------------------------------------------------------


_NEWLINE = re.compile(r"\r\n|\r|\n")


def lines_of(text: str) -> list[str]:
    """The physical lines of a file: cut at CRLF, CR or LF only (``str.splitlines`` also cuts
    at form feeds, U+0085 and U+2028, which may sit inside a value)."""
    return _NEWLINE.split(text)


_BLOCK = re.compile(r"^BEGIN:VCARD[ \t]*\n.*?^END:VCARD[ \t]*$", re.IGNORECASE | re.MULTILINE | re.DOTALL)
_BEGIN_ANY = re.compile(r"^BEGIN:VCARD", re.IGNORECASE | re.MULTILINE)


def split(text: str) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """Cards as (position, first line, text with CRLF endings); stray or unterminated blocks as problems.

    The usual file (cards one after the other, nothing between them but blank lines) is cut
    with one regular expression; any other goes through ``split_lines``.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = []
    last, line = 0, 1
    for position, m in enumerate(_BLOCK.finditer(text), 1):
        start = m.start()
        gap = text[last:start]
        if gap.strip():
            return split_lines(text)
        block = m.group()
        if _BEGIN_ANY.search(block, 1):  # an embedded or unterminated card
            return split_lines(text)
        line += gap.count("\n")
        blocks.append((position, line, block.replace("\n", "\r\n") + "\r\n"))
        line += block.count("\n")
        last = m.end()
    if text[last:].strip():
        return split_lines(text)
    return blocks, []


def split_lines(text: str) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """Cards as (position, first line, text with CRLF endings); stray or unterminated blocks as problems.

    A BEGIN:VCARD right after an ``AGENT:`` line is an embedded card and stays inside its
    card. Lines that end with END:VCARD but never had a BEGIN:VCARD (a file cut at the top)
    are a card too: ``properties`` reports the missing BEGIN.
    """
    blocks: list[tuple[int, int, str]] = []
    problems: list[dict] = []
    current: list[str] | None = None
    stray: list[str] = []
    stray_start = 0
    depth = start = position = 0
    for lineno, line in enumerate(lines_of(text), 1):
        up = line.strip().upper() if len(line) < 16 else ""
        if up == "BEGIN:VCARD":
            stray = []
            if current is None:
                position += 1
                current, start, depth = [line], lineno, 1
            elif current[-1].rstrip().endswith(":") and current[-1].upper().startswith("AGENT"):
                depth += 1
                current.append(line)
            else:
                problems.append({"position": position, "line": start, "message": "card has no END:VCARD"})
                position += 1
                current, start, depth = [line], lineno, 1
        elif current is not None:
            current.append(line)
            if up == "END:VCARD":
                depth -= 1
                if depth == 0:
                    blocks.append((position, start, "\r\n".join(current) + "\r\n"))
                    current = None
        elif up == "END:VCARD" and any(":" in s for s in stray):
            position += 1
            first = next(i for i, s in enumerate(stray) if s.strip())
            blocks.append((position, stray_start + first, "\r\n".join([*stray[first:], line]) + "\r\n"))
            problems = [p for p in problems if p.get("stray") is not stray]
            stray = []
        elif line.strip():
            if not stray:
                stray_start = lineno
                problems.append({"position": position + 1, "line": lineno,
                                 "message": "text outside BEGIN:VCARD/END:VCARD", "stray": stray})
            stray.append(line)
        elif stray:
            stray.append(line)
    if current is not None:
        problems.append({"position": position, "line": start, "message": "card has no END:VCARD"})
    for p in problems:
        p.pop("stray", None)
    return blocks, problems


_FOLDED = re.compile(r"\r\n(?![ \t])")
# The properties an import maps; the others are only checked to be content lines (an export reads them all).
MAPPED = frozenset({"FN", "N", "NICKNAME", "EMAIL", "TEL", "ORG", "TITLE", "ROLE", "CATEGORIES", "NOTE", "BDAY", "UID"})


def properties(card: str, first_line: int = 1, only: frozenset | None = None) -> tuple[list[Prop], list[dict]]:
    """The content lines of one card (BEGIN/END left out) and the lines that are not properties.

    ``only``: parse just these properties (by upper-case name); the others are checked, not kept.
    """
    props: list[Prop] = []
    bad: list[dict] = []
    chunks = _FOLDED.split(card)
    if chunks and chunks[-1] == "":
        chunks.pop()
    if chunks and chunks[0].strip().upper() != "BEGIN:VCARD":
        bad.append({"line": first_line, "field": "BEGIN", "message": "card has no BEGIN:VCARD: read up to its END:VCARD"})
        chunks.insert(0, "BEGIN:VCARD")
        first_line -= 1
    for no, line in _logical_lines(chunks, first_line):
        if not line or (only is not None and _left_aside(line, only)):
            continue
        prop = _content_line(line, no)
        if prop is None:
            bad.append({"line": no, "field": line.split(":", 1)[0][:40] if ":" in line else line[:40],
                        "message": "line is not a property (NAME:value)"})
        elif prop.key not in ("BEGIN", "END"):
            props.append(prop)
    return props, bad


def _logical_lines(chunks: list[str], first_line: int) -> list[list]:
    """[line number, text] of each logical line: folds undone, quoted-printable soft breaks
    and 2.1's unindented base64 joined, an embedded card (2.1 AGENT) made its AGENT's value;
    an empty line ends a quoted-printable or base64 value."""
    logical: list[list] = []  # [line number, text]
    no = first_line
    depth = 0
    for chunk in chunks:
        at = no
        if "\r\n" in chunk:
            no += chunk.count("\r\n") + 1
            chunk = chunk.replace("\r\n ", "").replace("\r\n\t", "").replace("\r\n", "")
        else:
            no += 1
        if depth:  # an embedded card (2.1 AGENT): its lines are the AGENT's value, as 3.0 text
            up = chunk.strip().upper()
            depth += (up == "BEGIN:VCARD") - (up == "END:VCARD")
            logical[-1][1] += "\\n" + escape(chunk.strip())
            continue
        if not chunk.strip():
            logical.append([at, ""])  # ends a quoted-printable or base64 value
            continue
        if logical:
            prev = logical[-1][1]
            if prev.endswith("=") and _is_qp(prev):  # a quoted-printable soft line break
                logical[-1][1] = prev[:-1] + chunk
                continue
            if ":" not in chunk and _is_b64(prev):  # 2.1 base64 lines, not indented
                logical[-1][1] = prev + chunk.strip()
                continue
            if chunk.strip().upper() == "BEGIN:VCARD" and prev.upper().startswith("AGENT"):
                depth = 1
                logical[-1][1] = prev + escape(chunk.strip())
                continue
        logical.append([at, chunk])
    return logical


def _left_aside(line: str, only: frozenset) -> bool:
    """Whether a line is a well-named property outside ``only`` (checked no further)."""
    colon = line.find(":")
    if colon <= 0:
        return False
    semi = line.find(";", 0, colon)
    name = line[:semi] if 0 <= semi else line[:colon]
    if "." in name:
        name = name.rpartition(".")[2]
    return name.upper() not in only and bool(_NAME_OK.match(name))


_NAMES = "FN|N|NICKNAME|EMAIL|TEL|ORG|TITLE|ROLE|CATEGORIES|NOTE|BDAY|UID"
_ODD = re.compile(r"^(?![ \t]|(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_/-]+[;:])", re.MULTILINE)
_MAPPED_START = re.compile(rf"^(?:[A-Za-z0-9_-]+\.)?(?:{_NAMES})[;:]", re.IGNORECASE | re.MULTILINE)
_MAPPED_LINE = re.compile(rf"(?:([A-Za-z0-9_-]+)\.)?({_NAMES})((?:;(?:[^:\r\n\"]|\"[^\"\r\n]*\"|\r\n[ \t])*)?):"
                          r"([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", re.IGNORECASE)


def mapped_properties(card: str, first_line: int = 1) -> tuple[list[Prop], list[dict]]:
    """``properties(card, first_line, MAPPED)``, fast for the usual card.

    The usual card: every line a property or a folded continuation, no quoted-printable,
    base64 or AGENT. Its mapped properties are found with one regular expression (the
    other lines are not looked at); any other card goes through ``properties``.
    """
    up = card.upper()
    if (not up.startswith("BEGIN:VCARD") or "QUOTED-PRINTABLE" in up or "BASE64" in up or "ENCODING=B" in up
            or "\nAGENT" in up or _ODD.search(card, 0, len(card) - 2)):
        return properties(card, first_line, MAPPED)
    props = []
    for m in _MAPPED_START.finditer(card):
        start = m.start()
        full = _MAPPED_LINE.match(card, start)
        line = first_line + card.count("\r\n", 0, start)
        if full is None:  # a quoted parameter value: the careful way
            end = _FOLDED.search(card, start)
            text = card[start:end.start() if end else len(card)]
            prop = _content_line(text.replace("\r\n ", "").replace("\r\n\t", ""), line)
            if prop is None:
                return properties(card, first_line, MAPPED)
            props.append(prop)
            continue
        group, name, head, value = full.groups()
        if "\r\n" in value:
            value = value.replace("\r\n ", "").replace("\r\n\t", "")
        if head:
            if "\r\n" in head:
                head = head.replace("\r\n ", "").replace("\r\n\t", "")
            params: dict[str, list[str]] = {}
            for p in (head[1:].split(";") if '"' not in head else _split_quoted(head[1:])):
                k, eq, v = p.partition("=")
                if eq:
                    k = k.strip().upper()
                    params.setdefault(k, []).extend(_param_values(k, v))
                elif k.strip():
                    params.setdefault("ENCODING" if k.strip().upper() in _ENCODINGS else "TYPE", []).append(k.strip())
            props.append(Prop(group, name, params, value, line))
        else:
            props.append(Prop(group, name, {}, value, line))
    return props, []


def _is_qp(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _is_b64(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "BASE64" in head or "ENCODING=B" in head


def _content_line(line: str, no: int) -> Prop | None:
    colon = line.find(":")
    if colon <= 0:
        return None
    head = line[:colon]
    if '"' in head:  # a quoted parameter value may hold ':' and ';'
        colon = _unquoted_colon(line)
        if colon <= 0:
            return None
        head = line[:colon]
        parts = _split_quoted(head)
    else:
        parts = head.split(";")
    value = line[colon + 1:]
    name = parts[0].strip()
    group = None
    if "." in name:
        group, _, name = name.rpartition(".")
    if not name or not _NAME_OK.match(name):
        return None
    params: dict[str, list[str]] = {}
    for p in parts[1:]:
        p = p.strip()
        if not p:
            continue
        k, eq, v = p.partition("=")
        if eq:
            k = k.strip().upper()
            vals = _param_values(k, v)
        else:  # vCard 2.1 bare parameter
            up = k.upper()
            k, vals = ("ENCODING" if up in _ENCODINGS else "TYPE"), [k]
        params.setdefault(k, []).extend(vals)
    prop = Prop(group, name, params, value, no)
    enc = params.get("ENCODING")
    if enc:
        e = enc[0].upper()
        if e == "QUOTED-PRINTABLE":
            prop.value = _qp_decode(value, (params.get("CHARSET") or ["utf-8"])[0])
            prop.qp = True
        elif e in ("BASE64", "B"):
            prop.value = "".join(value.split())
            prop.b64 = True
    return prop


def _param_values(key: str, v: str) -> list[str]:
    """A parameter's values: comma-separated; a quoted value is one value (TYPE="work,voice" is two)."""
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        return v[1:-1].split(",") if key == "TYPE" else [v[1:-1]]
    return [x.strip('"') for x in v.split(",")]


def _unquoted_colon(line: str) -> int:
    quoted = False
    for i, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c == ":" and not quoted:
            return i
    return -1


def _split_quoted(head: str) -> list[str]:
    parts, cur, quoted = [], [], False
    for c in head:
        if c == '"':
            quoted = not quoted
            cur.append(c)
        elif c == ";" and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    return parts


def _qp_decode(value: str, charset: str) -> str:
    data = binascii.a2b_qp(value.encode("utf-8", "surrogateescape"))
    for enc in (charset, "utf-8", "cp1252"):
        try:
            return data.decode(enc).replace("\r\n", "\n")
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", "replace")  # pragma: no cover - cp1252 decodes almost anything


_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape_one(m: re.Match) -> str:
    c = m.group(1)
    return "\n" if c in "nN" else c


def unescape(value: str) -> str:
    """vCard text escapes: \\n, \\N, \\, \\; \\\\ (any other backslash pair: the character)."""
    return _UNESCAPE.sub(_unescape_one, value) if "\\" in value else value


def split_unescaped(value: str, sep: str) -> list[str]:
    """``value`` cut at each ``sep`` not preceded by a backslash (parts still escaped)."""
    if "\\" not in value:
        return value.split(sep)
    parts, cur, i, n = [], [], 0, len(value)
    while i < n:
        c = value[i]
        if c == "\\" and i + 1 < n:
            cur.append(value[i:i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape(text: str, structured: bool = False) -> str:
    """Text as a vCard 3.0/4.0 value (``structured``: ';' is the caller's separator, not escaped).

    Control characters (a form feed from a quoted-printable ``=0C``) are not allowed in a
    value and are dropped; line breaks become ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,")
    return text if structured else text.replace(";", "\\;")


# --- mapping -----------------------------------------------------------------------------


_BDAY_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")
_BDAY_NOYEAR = re.compile(r"^--(\d{2})-?(\d{2})$")


def _birthday(raw: str) -> date | None:
    v = raw.strip()
    if not v:
        return None
    m = _BDAY_NOYEAR.match(v)  # no year: stored with the 1604 convention
    if m:
        return date(1604, int(m.group(1)), int(m.group(2)))
    m = _BDAY_DATE.match(v.split("T")[0])
    if not m:
        raise ValueError(v)
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def tel_text(prop: Prop) -> str:
    """A TEL value as the text Hero keeps: a ``tel:`` URI's number, its extension as ' ext. N'."""
    v = prop.text()
    if v[:4].lower() == "tel:":
        number, *params = v[4:].split(";")
        ext = next((p.split("=", 1)[1] for p in params if p.lower().startswith("ext=")), None)
        v = number + (f" ext. {ext}" if ext else "")
    return v


def name_of(props: list[Prop]) -> tuple[str, str | None]:
    """The name to call a card by, and which property it came from (None: FN)."""
    for p in props:
        if p.key == "FN":
            name = " ".join(p.text().split())
            if name:
                return name, None
    for p in props:
        if p.key == "N":
            parts = p.parts()
            parts += [""] * (5 - len(parts))
            family, given, additional, prefix, suffix = parts[:5]
            name = " ".join(x for x in (prefix, given, additional, family, suffix) if x)
            if name:
                return " ".join(name.replace(",", " ").split()), "N"
    for key in ("NICKNAME", "ORG", "EMAIL", "TEL"):
        for p in props:
            if p.key == key:
                v = (p.parts()[0] if key == "ORG" else tel_text(p) if key == "TEL" else p.text())
                v = " ".join(v.split())
                if v:
                    return v, key
    return "", None


def card_to_fields(card_text: str, first_line: int = 1) -> dict:
    """One card's text -> contact fields, and ``problems`` (fields left out, by line).

    Raises ValueError only when the card has nothing to call it by.
    """
    props, problems = mapped_properties(card_text, first_line)
    return fields_of(props, problems, card_text)


def fields_of(props: list[Prop], problems: list[dict], card_text: str) -> dict:
    name, _ = name_of(props)
    if not name:
        raise ValueError("card has no name (FN, N, NICKNAME, ORG, EMAIL or TEL)")
    r = _Read(problems)
    for p in props:
        reader = _READERS.get(p.key)
        if reader is not None:
            reader(p, r)
    return {"name": name, "emails": r.emails, "phones": r.phones, "company": r.company, "role": r.title or r.role,
            "tags": r.categories, "notes": "\n".join(r.notes) or None, "birthday": r.birthday, "vcard": card_text,
            "uid": r.uid, "problems": problems}


class _Read:
    """What a card's mapped properties say, read in the card's order (the first ORG, TITLE,
    ROLE, BDAY and UID count); a value that cannot be used is a problem (line, field, message)."""

    __slots__ = ("birthday", "categories", "company", "emails", "notes", "phones", "problems", "role", "title", "uid")

    def __init__(self, problems: list[dict]):
        self.problems = problems
        self.emails: list[str] = []
        self.phones: list[str] = []
        self.categories: list[str] = []
        self.notes: list[str] = []
        self.company = self.title = self.role = self.uid = None
        self.birthday: date | None = None


def _read_email(p: Prop, r: _Read) -> None:
    v = p.text()
    if not v:
        return
    try:
        e = normalize_email(v[7:] if v[:7].lower() == "mailto:" else v)
    except ValueError as exc:
        r.problems.append({"line": p.line, "field": "EMAIL", "message": str(exc)})
        return
    if e not in r.emails:
        r.emails.append(e)


def _read_tel(p: Prop, r: _Read) -> None:
    v = tel_text(p)
    if not v:
        return
    try:
        ph = normalize_phone(v)
    except ValueError as exc:
        r.problems.append({"line": p.line, "field": "TEL", "message": str(exc)})
        return
    if ph not in r.phones:
        r.phones.append(ph)


def _read_bday(p: Prop, r: _Read) -> None:
    """The first BDAY that is a date (a VALUE=text one is kept in the card only)."""
    if r.birthday is not None:
        return
    value_type = (p.params.get("VALUE") or [""])[0].lower()
    v = p.text()
    if value_type != "text" and v:
        try:
            r.birthday = _birthday(v)
        except ValueError:
            r.problems.append({"line": p.line, "field": "BDAY", "message": f"BDAY '{v}' is not a date (kept as it is in the card)"})


def _read_note(p: Prop, r: _Read) -> None:
    t = p.text()
    if t:
        r.notes.append(t)


def _read_first(attr: str, value):
    """A reader that keeps the first non-empty value of a property."""
    def read(p: Prop, r: _Read) -> None:
        if getattr(r, attr) is None:
            setattr(r, attr, value(p) or None)
    return read


_READERS = {
    "EMAIL": _read_email, "TEL": _read_tel, "BDAY": _read_bday, "NOTE": _read_note,
    "ORG": _read_first("company", lambda p: p.parts()[0]), "TITLE": _read_first("title", Prop.text),
    "ROLE": _read_first("role", Prop.text), "UID": _read_first("uid", Prop.text),
    "CATEGORIES": lambda p, r: r.categories.extend(c for c in p.parts(",") if c),
}


def _parse_batch(batch: list[tuple[int, int, str]], keep_text: bool = True) -> list[tuple[int, int, dict | None, str | None]]:
    out = []
    for position, line, text in batch:
        try:
            fields = card_to_fields(text, line)
            if not keep_text:
                fields["vcard"] = None  # the parent has it: not pickled back from a worker
            out.append((position, line, fields, None))
        except ValueError as exc:
            out.append((position, line, None, str(exc)))
    return out


def _parse_batch_pooled(batch: list[tuple[int, int, str]]) -> list[tuple[int, int, dict | None, str | None]]:
    return _parse_batch(batch, keep_text=False)


def parse(text: str) -> tuple[list[dict], list[dict]]:
    """All cards of a file -> (contacts' fields in file order, problems by position).

    Each card's fields carry ``position``, ``line`` and ``problems`` (fields that were left
    out: line, field, message); a problem of the second list is a card that was left out.
    """
    cards, problems = split(text)
    workers = min(os.cpu_count() or 1, 4)
    if len(cards) >= PARALLEL_FROM and workers > 1:
        size = -(-len(cards) // (workers * 4))
        batches = [cards[i : i + size] for i in range(0, len(cards), size)]
        with parse_pool(workers) as pool:
            results = [r for batch in pool.map(_parse_batch_pooled, batches) for r in batch]
        for (_, _, card), r in zip(cards, results, strict=True):
            if r[2] is not None:
                r[2]["vcard"] = card
    else:
        results = _parse_batch(cards)
    good = []
    for position, line, fields, error in results:
        if error:
            problems.append({"position": position, "line": line, "message": error})
        else:
            fields["position"], fields["line"] = position, line
            good.append(fields)
    problems.sort(key=lambda p: p["position"])
    return good, problems


# --- writing -----------------------------------------------------------------------------


def serialize(contact: dict, original: str | None, version: str = "4.0", edited: bool = True) -> str:
    """A contact as one vCard; what Hero does not model is carried over from ``original``.

    From ``original`` (the imported card) the export also keeps what Hero's fields do not
    hold but a phone or address book cares about: the TYPE (work, cell, home...), group and
    preference of each email and phone that is still there, the structured N when the name
    is unchanged, the ORG units when the company is unchanged, the categories' spelling, the
    REV when the contact was not ``edited`` in Hero, and every other line (converted to
    ``version``).
    """
    props = properties(original)[0] if original else []
    try:
        src = fields_of(props, [], original or "") if props else None
    except ValueError:
        src = None
    used = _used(props, src)
    out = ["BEGIN:VCARD", f"VERSION:{version}", "PRODID:-//Hero//herotui//EN"]
    uid = next((p for p in props if p.key == "UID"), None)
    out.append(_line(uid, version) if uid is not None else f"UID:urn:hero:{contact['id']}")
    name = contact["name"]
    out.append("FN:" + escape(name))
    out += _n_lines(name, props, src, used, version)
    for key, values, normal in (("EMAIL", contact.get("emails") or [], _normal_email),
                                ("TEL", contact.get("phones") or [], _normal_phone)):
        out += _address_lines(key, values, normal, props, used, version)
    if contact.get("company"):
        out.append(_org_line(contact["company"], props, src, used))
    if contact.get("role"):
        out.append("TITLE:" + escape(contact["role"]))
    tags = contact.get("tags") or []
    if tags:
        spelled = _category_spelling(src)
        out.append("CATEGORIES:" + ",".join(escape(spelled.get(t, t)) for t in tags))
    if contact.get("notes"):
        out.append("NOTE:" + escape(contact["notes"]))
    b = contact.get("birthday")
    if b:
        out.append("BDAY:" + (f"--{b:%m%d}" if b.year == 1604 else (f"{b:%Y%m%d}" if version == "4.0" else b.isoformat())))
    rev = next((p for p in props if p.key == "REV"), None)
    if rev is not None and not edited:
        out.append(_line(rev, version))
    elif contact.get("updated") is not None:
        out.append(f"REV:{contact['updated']:%Y%m%dT%H%M%SZ}")
    # every other line of the card (Hero's birthday replaces a text one)
    out += [_line(p, version) for p in props if not (id(p) in used or p.key in _MANAGED or (p.key == "BDAY" and b))]
    out.append("END:VCARD")
    return "".join(_fold(line) for line in out)


def _n_lines(name: str, props: list[Prop], src: dict | None, used: set[int], version: str) -> list[str]:
    """The N line: the card's own while the name is unchanged (none in 4.0 when the card had
    none), else the name split into family and given names."""
    n = next((p for p in props if p.key == "N"), None)
    unchanged = src is not None and src["name"] == name
    if n is not None and unchanged:
        used.add(id(n))
        return [_line(n, version)]
    if unchanged and n is None:
        return [] if version == "4.0" else ["N:;;;;"]  # its name came from ORG, EMAIL...: 4.0 does not need an N
    given, _, family = name.rpartition(" ")
    return [f"N:{escape(family if given else name)};{escape(given) if given else ''};;;"]


def _address_lines(key: str, values: list[str], normal, props: list[Prop], used: set[int], version: str) -> list[str]:
    """EMAIL or TEL lines, each with the TYPE, group and preference of the card's line for the
    same address."""
    by_value = {}
    for p in props:
        if p.key == key and id(p) in used:
            by_value.setdefault(normal(tel_text(p) if key == "TEL" else p.text()), p)
    return [_field_line(key, v, by_value.get(normal(v)), version) for v in values]


def _org_line(company: str, props: list[Prop], src: dict | None, used: set[int]) -> str:
    """ORG, with the card's units while the company is unchanged."""
    org = next((p for p in props if p.key == "ORG"), None)
    if org is not None and src is not None and org.parts()[0] == company:
        used.add(id(org))
        return "ORG:" + ";".join(escape(x) for x in org.parts())
    return "ORG:" + escape(company)


def _used(props: list[Prop], src: dict | None) -> set[int]:
    """The properties Hero's fields stand for (written from Hero's data, not copied)."""
    used: set[int] = set()
    if src is None:
        return used
    emails, phones = set(src["emails"]), {_normal_phone(p) for p in src["phones"]}
    firsts = {"FN", "N", "ORG", "TITLE"}
    bday = src["birthday"] is not None
    for p in props:
        k = p.key
        if k in firsts:
            firsts.discard(k)
            used.add(id(p))
        elif k == "EMAIL":

            try:
                v = p.text()
                if normalize_email(v[7:] if v[:7].lower() == "mailto:" else v) in emails:
                    used.add(id(p))
            except ValueError:
                pass
        elif k == "TEL" and _normal_phone(tel_text(p)) in phones:
            used.add(id(p))
        elif k == "BDAY" and bday:
            bday = False
            used.add(id(p))
    return used


def _category_spelling(src: dict | None) -> dict[str, str]:
    """Tag -> the category as the card spelled it ('my-contacts' -> 'My Contacts')."""
    if not src:
        return {}
    out: dict[str, str] = {}
    for c in src["tags"]:
        out.setdefault(tag_of(c), c)
    return out


def _field_line(key: str, value: str, source: Prop | None, version: str) -> str:
    """An EMAIL or TEL line, with the TYPE, preference and group of its original line."""
    head = key
    params: list[str] = []
    if source is not None:
        if source.group:
            head = f"{source.group}.{key}"
        types = [t for t in source.params.get("TYPE", []) if t]
        pref = bool(source.params.get("PREF")) or any(t.lower() == "pref" for t in types)
        types = [t for t in types if t.lower() != "pref"]
        if version == "4.0":
            types = [t for t in types if t.lower() != "internet"]  # a 3.0-only type
            if pref:
                params.append("PREF=" + ",".join(source.params.get("PREF") or ["1"]))
        elif pref:
            types.append("pref")  # 3.0 has no PREF parameter
        if types:
            params.append("TYPE=" + ",".join(types))
        if key == "TEL" and version == "4.0" and source.text()[:4].lower() == "tel:" and tel_text(source) == value:
            return ";".join([head, "VALUE=uri", *params]) + ":" + source.text()
    return ";".join([head, *params]) + ":" + (value if key == "TEL" else escape(value))


def _line(p: Prop, version: str) -> str:
    """A property of the original card as a content line of ``version``."""
    params = {k: v for k, v in p.params.items() if k not in ("CHARSET", "ENCODING")}
    value = p.value
    if p.qp:  # decoded 2.1 text: escape it as 3.0/4.0 text (';' stays a separator)
        value = escape(value, structured=True)
    elif p.b64:
        types = params.pop("TYPE", [])
        if version == "4.0" and p.key in _BINARY:
            kind = next((t for t in types if t.lower() not in ("pref",)), "")
            media = _media_type(p.key, kind)
            value = f"data:{media};base64,{value}"
            if types[1:]:
                params["TYPE"] = types[1:]
        else:
            params = {"ENCODING": ["b"], **params}
            if types:
                params["TYPE"] = types
    name = f"{p.group}.{p.name}" if p.group else p.name
    parts = [name]
    for k, vals in params.items():
        if k == "TYPE" and version != "2.1":
            parts.append("TYPE=" + ",".join(_quote(v) for v in vals))
        else:
            parts.append(f"{k}=" + ",".join(_quote(v) for v in vals))
    return ";".join(parts) + ":" + value


def _quote(v: str) -> str:
    return f'"{v}"' if any(c in v for c in ":;,") else v


def _media_type(key: str, kind: str) -> str:
    k = kind.lower()
    if "/" in k:
        return k
    top = {"PHOTO": "image", "LOGO": "image", "SOUND": "audio"}.get(key, "application")
    return f"{top}/{k or 'octet-stream'}" if k else "application/octet-stream"


def _fold(line: str) -> str:
    """One content line, folded at 75 octets without cutting a character, CRLF-terminated."""
    if len(line) <= 75 and line.isascii():
        return line + "\r\n"
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    out, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # not inside a character
            end -= 1
        out.append(data[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines start with a space
    return "\r\n ".join(out) + "\r\n"


def _normal_email(value: str) -> str:
    return value.strip().lower()


def _normal_phone(value: str) -> str:
    v = value.strip()
    if v.lower().startswith("tel:"):
        v = v[4:]
    return "".join(c for c in v if c.isdigit() or c == "+")
