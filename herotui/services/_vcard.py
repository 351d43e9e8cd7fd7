"""vCard 3.0/4.0 <-> contact fields, with vobject.

``parse`` splits a file into cards (so one malformed card does not stop the others: each is
reported with its position and line) and maps each to contact fields, keeping the card's
text so that properties Hero does not model survive an export. Large files are parsed on
all cores (vobject is ~0.2 ms a card).
"""

from __future__ import annotations

import os
import re
from datetime import date

KNOWN = {"VERSION", "FN", "N", "EMAIL", "TEL", "ORG", "TITLE", "CATEGORIES", "NOTE", "BDAY", "PRODID", "REV"}
PARALLEL_FROM = 2000  # cards; below this a process pool costs more than it saves


_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.I)  # contact import: is there any card at all?


def split(text: str) -> tuple[list[tuple[int, int, str]], list[dict]]:
    """Cards as (position, first line, text); stray or unterminated blocks as problems."""
    from herotui.services.common import split_blocks

    return split_blocks(enumerate(text.splitlines(), 1), "VCARD", stray="text outside BEGIN:VCARD/END:VCARD")


def _text(value) -> str:
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return str(value).strip()


def _birthday(raw: str) -> date | None:
    v = raw.strip()
    if not v:
        return None
    m = re.fullmatch(r"--(\d{2})-?(\d{2})", v)  # no year: stored with the 1604 convention
    if m:
        return date(1604, int(m.group(1)), int(m.group(2)))
    v = v.split("T")[0]
    if re.fullmatch(r"\d{8}", v):
        v = f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return date.fromisoformat(v)


def card_to_fields(card_text: str) -> dict:
    """One card's text -> contact fields. Raises ValueError with a readable reason."""
    import vobject

    from herotui.services.contact import _email, _phone

    try:
        card = vobject.readOne(card_text)
    except Exception as exc:  # vobject raises ParseError and assorted others
        raise ValueError(f"malformed vCard: {str(exc).splitlines()[0][:120]}") from None
    contents = card.contents
    name = _text(contents["fn"][0].value) if "fn" in contents else ""
    if not name and "n" in contents:
        n = contents["n"][0].value
        name = " ".join(_text(x) for x in (getattr(n, "given", ""), getattr(n, "family", "")) if _text(x))
    if not name:
        raise ValueError("card has no name (FN or N)")
    emails = [_email(_text(e.value)) for e in contents.get("email", []) if _text(e.value)]
    phones = [_phone(_text(t.value)) for t in contents.get("tel", []) if _text(t.value)]
    org = contents["org"][0].value if "org" in contents else None
    company = (_text(org[0] if isinstance(org, list) and org else org) or None) if org else None
    role = _text(contents["title"][0].value) or None if "title" in contents else None
    if role is None and "role" in contents:
        role = _text(contents["role"][0].value) or None
    tags = []
    for c in contents.get("categories", []):
        values = c.value if isinstance(c.value, list) else re.split(r"\s*,\s*", str(c.value))
        tags.extend(t.strip() for t in values if t.strip())
    notes = "\n".join(_text(n.value) for n in contents.get("note", [])) or None
    try:
        birthday = _birthday(_text(contents["bday"][0].value)) if "bday" in contents else None
    except ValueError:
        raise ValueError(f"BDAY '{_text(contents['bday'][0].value)}' is not a date") from None
    return dict(name=name, emails=emails, phones=phones, company=company, role=role, tags=tags,
                notes=notes, birthday=birthday, vcard=card_text)


def _parse_batch(batch: list[tuple[int, int, str]]) -> list[tuple[int, int, dict | None, str | None]]:
    out = []
    for position, line, text in batch:
        try:
            out.append((position, line, card_to_fields(text), None))
        except ValueError as exc:
            out.append((position, line, None, str(exc)))
    return out


def parse(text: str) -> tuple[list[dict], list[dict]]:
    """All cards of a file -> (contacts' fields in file order, problems by position)."""
    cards, problems = split(text)
    workers = min(os.cpu_count() or 1, 4)
    if len(cards) >= PARALLEL_FROM and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(cards) // (workers * 4))
        batches = [cards[i : i + size] for i in range(0, len(cards), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = [r for batch in pool.map(_parse_batch, batches) for r in batch]
    else:
        results = _parse_batch(cards)
    good = []
    for position, line, fields, error in results:
        if error:
            problems.append({"position": position, "line": line, "message": error})
        else:
            good.append(fields)
    problems.sort(key=lambda p: p["position"])
    return good, problems


def serialize(contact: dict, original: str | None, version: str = "4.0") -> str:
    """A contact as one vCard; properties Hero does not model are copied from ``original``.

    From ``original`` (the imported card) the export also keeps what Hero's fields do not
    hold but a phone or address book cares about: the TYPE (work, cell, home...) and
    preference of each email and phone that is still there, the structured N when the name
    is unchanged, and the ORG units when the company is unchanged.
    """
    import vobject

    source = _read(original)
    card = vobject.vCard()
    card.add("version").value = version
    card.add("prodid").value = "-//Hero//herotui//EN"
    name = contact["name"]
    given, _, family = name.rpartition(" ")
    card.add("fn").value = name
    n = _original_n(source, name)
    card.add("n").value = n if n is not None else vobject.vcard.Name(family=family if given else name, given=given)
    email_params = _params_by_value(source, "email", _normal_email)
    for e in contact.get("emails") or []:
        line = card.add("email")
        line.value = e
        _copy_params(line, email_params.get(_normal_email(e)), version)
    phone_params = _params_by_value(source, "tel", _normal_phone)
    for p in contact.get("phones") or []:
        line = card.add("tel")
        line.value = p
        _copy_params(line, phone_params.get(_normal_phone(p)), version)
    if contact.get("company"):
        card.add("org").value = _original_org(source, contact["company"]) or [contact["company"]]
    if contact.get("role"):
        card.add("title").value = contact["role"]
    if contact.get("tags"):
        card.add("categories").value = list(contact["tags"])
    if contact.get("notes"):
        card.add("note").value = contact["notes"]
    b = contact.get("birthday")
    if b:
        card.add("bday").value = f"--{b:%m%d}" if b.year == 1604 else (f"{b:%Y%m%d}" if version == "4.0" else b.isoformat())
    for line in _unknown_properties(source):
        card.add(line)
    if "uid" not in card.contents:
        card.add("uid").value = f"urn:hero:{contact['id']}"
    return card.serialize()


def _read(original: str | None):
    if not original:
        return None
    import vobject

    try:
        return vobject.readOne(original)
    except Exception:  # it parsed on import; if vobject changed its mind, export what we model
        return None


def _normal_email(value: str) -> str:
    return _text(value).lower()


def _normal_phone(value: str) -> str:
    v = _text(value)
    if v.lower().startswith("tel:"):
        v = v[4:]
    return "".join(c for c in v if c.isdigit() or c == "+")


def _params_by_value(source, key: str, normal) -> dict[str, dict]:
    if source is None:
        return {}
    out: dict[str, dict] = {}
    for line in source.contents.get(key, []):
        out.setdefault(normal(line.value), line.params)
    return out


def _copy_params(line, params: dict | None, version: str) -> None:
    """TYPE and preference of the original line (VALUE and the rest described its old form)."""
    if not params:
        return
    types = [t for t in params.get("TYPE", []) if t]
    pref = bool(params.get("PREF")) or any(t.lower() == "pref" for t in types)
    types = [t for t in types if t.lower() != "pref"]
    if version == "4.0":
        types = [t for t in types if t.lower() != "internet"]  # a 3.0-only type
        if pref:
            line.params["PREF"] = list(params.get("PREF") or ["1"])
    elif pref:
        types.append("pref")  # 3.0 has no PREF parameter
    if types:
        line.params["TYPE"] = types


def _original_n(source, name: str):
    if source is None or "n" not in source.contents:
        return None
    fn = _text(source.contents["fn"][0].value) if "fn" in source.contents else ""
    return source.contents["n"][0].value if fn == name else None


def _original_org(source, company: str) -> list[str] | None:
    if source is None or "org" not in source.contents:
        return None
    value = source.contents["org"][0].value
    parts = [_text(v) for v in value] if isinstance(value, list) else [_text(value)]
    return parts if parts and parts[0] == company else None


def _unknown_properties(source) -> list:
    """The content lines of the original card whose property Hero does not model."""
    if source is None:
        return []
    return [line for key, lines in source.contents.items() if key.upper() not in KNOWN for line in lines]
