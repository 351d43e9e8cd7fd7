"""Deterministic test data for the benchmarks: a vCard file and an iCalendar file.

Written with plain string templates on purpose: this is test data, and the benchmark must
not depend on the code it measures to produce its input. The records look like a real
address book and calendar: international names (accents included), companies, work and
home emails, phones in several notations, tags, notes (some long enough to be folded),
birthdays with and without a year, unknown properties (ADR, URL, X-...) that an import
must keep; events in several time zones, all-day events, weekly/monthly recurrences,
attendees that are contacts of the address book.

Usage as a script (handy to inspect the data):
    python benchmarks/datagen.py --contacts 100 --events 100 --out /tmp/bench-data
"""

from __future__ import annotations

import argparse
import random
import unicodedata
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

FIRST = (
    "Alex Alexander Alexandra Alessandro Lena Lukas Sofia Mia Noah Emma Liam Olivia Jonas Lea "
    "Mateo Zoë Chloé José María Łukasz Agnieszka Søren Ingrid Björn Astrid Hiroshi Yuki Wei "
    "Mei Arjun Priya Kwame Amara Omar Layla Dmitri Anastasia Pieter Anouk Giulia Marco Nina "
    "Sam Jordan Taylor Chris Robin Kim Elif Mehmet Fatima Yusuf Ana João Inês Tomás Aoife Cian "
    "Sean Ciara Hannah Felix Clara Max Greta Oskar Ida Emil Frida Hugo Alice Louis Camille Jules"
).split()
LAST = (
    "Smith,Fischer,Müller,Schmidt,Schneider,Weber,Meyer,Wagner,Becker,Hoffmann,Johnson,Williams,"
    "Brown,Jones,García,Martínez,Rodríguez,López,Rossi,Russo,Bianchi,Dubois,Lefèvre,Moreau,"
    "Kowalski,Nowak,Wiśniewski,Jensen,Nielsen,Hansen,Andersson,Johansson,Virtanen,Tanaka,Suzuki,"
    "Sato,Wang,Li,Zhang,Chen,Patel,Sharma,Singh,Mensah,Okafor,Haddad,Khalil,Ivanov,Petrova,"
    "de Vries,van Dijk,Janssens,Peeters,O'Brien,Murphy,Kelly,Silva,Santos,Oliveira,Costa,Novak,"
    "Horvat,Papadopoulos,Yılmaz,Kaya,Alexander,Alexandrou"
).split(",")
COMPANIES = (
    ("Northwind Traders", "northwind.example.com"), ("Lumen Labs", "lumenlabs.example.org"),
    ("Contoso Ltd", "contoso.example.com"), ("Fabrikam, Inc.", "fabrikam.example.net"),
    ("Acme Corporation", "acme.example.com"), ("Globex", "globex.example.com"),
    ("Initech", "initech.example.com"), ("Umbrella Health", "umbrella-health.example.org"),
    ("Stark Industries", "stark.example.com"), ("Wayne Enterprises", "wayne.example.com"),
    ("Tyrell Systems", "tyrell.example.net"), ("Cyberdyne", "cyberdyne.example.com"),
    ("Soylent & Söhne GmbH", "soylent.example.de"), ("Vandelay Industries", "vandelay.example.com"),
    ("Hooli", "hooli.example.com"), ("Pied Piper", "piedpiper.example.com"),
    ("Blue Sun Corp", "bluesun.example.com"), ("Massive Dynamic", "massive.example.com"),
    ("Geomind", "geomind.example.io"), ("Threefold", "threefold.example.io"),
    ("Université Libre", "ulb.example.be"), ("Stadtwerke Köln", "stadtwerke-koeln.example.de"),
)
ROLES = (
    "CFO", "CEO", "CTO", "Head of Finance", "Account Manager", "Software Engineer",
    "Product Manager", "Designer", "Sales Director", "Research Scientist", "Consultant",
    "Office Manager", "Legal Counsel", "Data Analyst", "Procurement Lead", "Professor",
)
TAGS = (
    "finance", "vip", "family", "friends", "board", "investor", "supplier", "customer",
    "press", "school", "football", "neighbour", "quarterly-report", "recruiting", "legal",
    "design", "engineering", "sales", "conference", "berlin", "brussels", "remote",
)
NOTE_BITS = (
    "Met at the Brussels fintech summit.", "Prefers email over phone.",
    "Owns the quarterly report; send drafts by the 20th.", "Kids: Ella and Tom.",
    "Allergic to peanuts — remember for dinners.", "Introduced by Lena from Lumen Labs.",
    "Very responsive on Signal, slow on email.", "Former colleague at Northwind, 2016–2019.",
    "Wants a demo of the new dashboard; follow up in Q3.", "Speaks German, French and Dutch.",
    "Board observer; confidential topics only in person.", "Birthday dinner tradition in March.",
)
STREETS = ("Hauptstraße", "Rue de la Loi", "Baker Street", "Keizersgracht", "Via Roma", "Main St")
CITIES = (("Berlin", "10115", "Germany"), ("Brussels", "1000", "Belgium"), ("London", "NW1 6XE", "United Kingdom"),
          ("Amsterdam", "1016", "Netherlands"), ("Rome", "00184", "Italy"), ("Springfield", "62701", "USA"))
TOPICS = (
    "Quarterly report review", "1:1", "Budget planning", "Board meeting", "Design review",
    "Sprint planning", "Customer call", "Lunch", "Dentist", "Football practice",
    "Parents' evening", "Investor update", "Hiring panel", "Architecture sync", "Coffee",
    "Contract negotiation", "Team retro", "Product demo", "Travel to Berlin", "Yoga",
)
LOCATIONS = ("Room 4.12", "Zoom", "Café Central", "Northwind HQ, Berlin", "Lumen Labs, Brussels",
             "Home office", "Google Meet", "Client site", "Restaurant Da Marco", "")
ZONES = ("Europe/Berlin", "Europe/Brussels", "America/New_York", "UTC", "Asia/Tokyo")

VTIMEZONES = {
    "Europe/Berlin": ("+0100", "+0200", "CET", "CEST"),
    "Europe/Brussels": ("+0100", "+0200", "CET", "CEST"),
}
# zones with simple rules written out; others (America/New_York, Asia/Tokyo) below
VTIMEZONE_TEXT = {
    "America/New_York": (
        "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
        "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
        "DTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\n"
        "BEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n"
        "DTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
    ),
    "Asia/Tokyo": (
        "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\n"
        "BEGIN:STANDARD\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\n"
        "DTSTART:19700101T000000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    ),
}
for _tz, (_std, _dst, _sn, _dn) in VTIMEZONES.items():
    VTIMEZONE_TEXT[_tz] = (
        f"BEGIN:VTIMEZONE\r\nTZID:{_tz}\r\n"
        f"BEGIN:DAYLIGHT\r\nTZOFFSETFROM:{_std}\r\nTZOFFSETTO:{_dst}\r\nTZNAME:{_dn}\r\n"
        "DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
        f"BEGIN:STANDARD\r\nTZOFFSETFROM:{_dst}\r\nTZOFFSETTO:{_std}\r\nTZNAME:{_sn}\r\n"
        "DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
        "END:VTIMEZONE\r\n"
    )


def _esc(text: str) -> str:
    """Escape a TEXT value (RFC 6350 / 5545): backslash, comma, semicolon, newline."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _fold(line: str, width: int = 74) -> str:
    """One content line, folded (CRLF + space) when long, as real exporters do."""
    if len(line) <= width:
        return line + "\r\n"
    parts = [line[:width]]
    rest = line[width:]
    while rest:
        parts.append(" " + rest[: width - 1])
        rest = rest[width - 1 :]
    return "\r\n".join(parts) + "\r\n"


_SPECIAL = str.maketrans({"ß": "ss", "ł": "l", "ø": "o", "æ": "ae", "ı": "i", "'": ""})


def _ascii(text: str) -> str:
    text = text.lower().translate(_SPECIAL)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text if c.isalnum() or c in ".-")


def _phone(rnd: random.Random) -> str:
    style = rnd.randrange(5)
    if style == 0:
        return f"+49 30 {rnd.randrange(1000000, 9999999)}"
    if style == 1:
        return f"+1 ({rnd.randrange(200, 999)}) 555-{rnd.randrange(1000, 9999)}"
    if style == 2:
        return f"+32 2 {rnd.randrange(100, 999)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)}"
    if style == 3:
        return f"0{rnd.randrange(100, 999)}/{rnd.randrange(100000, 9999999)}"
    return f"+44 20 7946 {rnd.randrange(1000, 9999)} ext. {rnd.randrange(10, 999)}"


def contact_records(n: int, seed: int = 42) -> list[dict]:
    """``n`` contacts as plain dicts (also used to pick event attendees)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        given = rnd.choice(FIRST)
        family = rnd.choice(LAST)
        company, domain = rnd.choice(COMPANIES) if rnd.random() < 0.8 else (None, None)
        local = f"{_ascii(given)}.{_ascii(family)}" + (str(i) if rnd.random() < 0.5 else "")
        emails = []
        if domain:
            emails.append(f"{local}@{domain}")
        if rnd.random() < 0.5 or not emails:
            emails.append(f"{_ascii(given)}{i}@mail.example.org")
        phones = [_phone(rnd) for _ in range(rnd.choice((0, 1, 1, 2, 3)))]
        tags = rnd.sample(TAGS, rnd.choice((0, 1, 1, 2, 3, 4)))
        notes = " ".join(rnd.sample(NOTE_BITS, rnd.choice((0, 0, 1, 2, 3))))
        if notes and rnd.random() < 0.2:
            notes += "\nSecond line: " + rnd.choice(NOTE_BITS)
        bday = None
        r = rnd.random()
        if r < 0.4:
            bday = date(rnd.randrange(1950, 2005), rnd.randrange(1, 13), rnd.randrange(1, 29))
        elif r < 0.5:
            bday = (rnd.randrange(1, 13), rnd.randrange(1, 29))  # no year
        out.append(dict(
            i=i, given=given, family=family, name=f"{given} {family}", company=company,
            role=rnd.choice(ROLES) if company and rnd.random() < 0.7 else None,
            emails=emails, phones=phones, tags=tags, notes=notes or None, bday=bday,
            version="4.0" if rnd.random() < 0.5 else "3.0",
            adr=rnd.choice(CITIES) if rnd.random() < 0.3 else None,
            street=rnd.choice(STREETS), number=rnd.randrange(1, 200),
            url=f"https://{domain}/people/{local}" if domain and rnd.random() < 0.2 else None,
            x=rnd.random() < 0.15,
        ))
    return out


def vcard(c: dict) -> str:
    v4 = c["version"] == "4.0"
    lines = ["BEGIN:VCARD", f"VERSION:{c['version']}"]
    if v4:
        lines.append("KIND:individual")
    lines.append("PRODID:-//Bench Generator//hero-benchmarks//EN")
    lines.append(f"UID:urn:uuid:{uuid.UUID(int=c['i'] + 1)}")
    lines.append(f"FN:{_esc(c['name'])}")
    lines.append(f"N:{_esc(c['family'])};{_esc(c['given'])};;;")
    lines += _address_lines(c, v4)
    if c["company"]:
        lines.append(f"ORG:{_esc(c['company'])}")
    if c["role"]:
        lines.append(f"TITLE:{_esc(c['role'])}")
    if c["tags"]:
        lines.append("CATEGORIES:" + ",".join(_esc(t) for t in c["tags"]))
    if c["notes"]:
        lines.append(f"NOTE:{_esc(c['notes'])}")
    lines += _extra_lines(c, v4)
    lines.append(f"REV:{'20240517T093000Z' if v4 else '2024-05-17T09:30:00Z'}")
    lines.append("END:VCARD")
    return "".join(_fold(line) for line in lines)


def _address_lines(c: dict, v4: bool) -> list[str]:
    """EMAIL and TEL lines, typed as 4.0 (a tel: URI when it has no extension) or 3.0 writes them."""
    lines = []
    for k, e in enumerate(c["emails"]):
        kind = "work" if k == 0 and c["company"] else "home"
        if v4:
            lines.append(f"EMAIL;TYPE={kind}" + (";PREF=1" if k == 0 else "") + f":{e}")
        else:
            lines.append(f"EMAIL;TYPE=INTERNET,{kind.upper()}" + (",PREF" if k == 0 else "") + f":{e}")
    for k, p in enumerate(c["phones"]):
        kind = ("work", "cell", "home")[k % 3]
        if v4 and "ext" not in p:
            lines.append(f'TEL;VALUE=uri;TYPE="{kind},voice":tel:{p.replace(" ", "-").replace("(", "").replace(")", "")}')
        elif v4:
            lines.append(f"TEL;TYPE={kind}:{p}")
        else:
            lines.append(f"TEL;TYPE={kind.upper()},VOICE:{p}")
    return lines


def _extra_lines(c: dict, v4: bool) -> list[str]:
    """BDAY (a date, or a month and day without a year), ADR, URL and the X- lines."""
    lines = []
    b = c["bday"]
    if isinstance(b, date):
        lines.append(f"BDAY:{b:%Y%m%d}" if v4 else f"BDAY:{b.isoformat()}")
    elif b:
        lines.append(f"BDAY:--{b[0]:02d}{b[1]:02d}" if v4 else f"BDAY:--{b[0]:02d}-{b[1]:02d}")
    if c["adr"]:
        city, code, country = c["adr"]
        lines.append(f"ADR;TYPE=work:;;{c['number']} {_esc(c['street'])};{_esc(city)};;{code};{_esc(country)}")
    if c["url"]:
        lines.append(f"URL:{c['url']}")
    if c["x"]:
        lines.append(f"X-SOCIALPROFILE;TYPE=mastodon:https://mastodon.example/@{_ascii(c['given'])}{c['i']}")
        lines.append("X-ABLABEL:met at conference")
    return lines


def write_vcf(path: Path, n: int, seed: int = 42) -> list[dict]:
    contacts = contact_records(n, seed)
    path.write_text("".join(vcard(c) for c in contacts), encoding="utf-8", newline="")
    return contacts


def _dt(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%S")


def vevent(i: int, rnd: random.Random, contacts: list[dict], base: datetime) -> str:
    topic = rnd.choice(TOPICS)
    people = rnd.sample(contacts, min(len(contacts), rnd.choice((0, 1, 1, 2, 3, 5)))) if contacts else []
    summary = f"{topic} with {people[0]['name']}" if people and rnd.random() < 0.7 else topic
    start = base + timedelta(days=rnd.randrange(-365, 365), hours=rnd.randrange(7, 19), minutes=rnd.choice((0, 15, 30, 45)))
    lines = ["BEGIN:VEVENT", f"UID:bench-{i}-{uuid.UUID(int=i + 10**9)}@hero-benchmarks", "DTSTAMP:20240517T093000Z"]
    kind = rnd.random()
    if kind < 0.12:  # all-day (sometimes several days)
        day = start.date()
        lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{day + timedelta(days=rnd.choice((1, 1, 1, 2, 3))):%Y%m%d}"]
    else:
        zone = rnd.choice(ZONES)
        end = start + timedelta(minutes=rnd.choice((15, 30, 45, 60, 60, 90, 120)))
        if zone == "UTC":
            lines += [f"DTSTART:{_dt(start)}Z", f"DTEND:{_dt(end)}Z"]
        else:
            lines += [f"DTSTART;TZID={zone}:{_dt(start)}", f"DTEND;TZID={zone}:{_dt(end)}"]
    lines.append(f"SUMMARY:{_esc(summary)}")
    loc = rnd.choice(LOCATIONS)
    if loc:
        lines.append(f"LOCATION:{_esc(loc)}")
    if rnd.random() < 0.5:
        desc = " ".join(rnd.sample(NOTE_BITS, rnd.choice((1, 2, 3))))
        lines.append(f"DESCRIPTION:{_esc('Agenda: ' + desc + chr(10) + 'Bring the latest numbers.')}")
    r = rnd.random()
    if r < 0.08:
        lines.append(f"RRULE:FREQ=WEEKLY;COUNT={rnd.randrange(4, 30)}")
    elif r < 0.11:
        lines.append("RRULE:FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20261231T235959Z")
    elif r < 0.13:
        lines.append("RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;INTERVAL=2")
    if people:
        lines.append("ORGANIZER;CN=Hero User:mailto:me@hero.example.org")
        for p in people:
            lines.append(f'ATTENDEE;CN="{p["name"]}";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{p["emails"][0]}')
    if rnd.random() < 0.3:
        lines.append("CATEGORIES:" + ",".join(rnd.sample(TAGS, rnd.choice((1, 2)))))
    if rnd.random() < 0.1:
        lines.append("X-MICROSOFT-CDO-BUSYSTATUS:BUSY")
    lines.append("END:VEVENT")
    return "".join(_fold(line) for line in lines)


def write_ics(path: Path, n: int, contacts: list[dict], seed: int = 7) -> None:
    rnd = random.Random(seed)
    today = date.today()  # events around today, so today/week/agenda have something to show
    base = datetime(today.year, today.month, today.day)
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench Generator//hero-benchmarks//EN\r\nCALSCALE:GREGORIAN\r\n"]
    parts += [VTIMEZONE_TEXT[z] for z in ZONES if z in VTIMEZONE_TEXT]
    parts += [vevent(i, rnd, contacts, base) for i in range(n)]
    parts.append("END:VCALENDAR\r\n")
    path.write_text("".join(parts), encoding="utf-8", newline="")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=100)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--out", type=Path, required=True, help="folder for contacts.vcf and events.ics")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    contacts = write_vcf(a.out / "contacts.vcf", a.contacts)
    write_ics(a.out / "events.ics", a.events, contacts)
    print(f"wrote {a.out / 'contacts.vcf'} and {a.out / 'events.ics'}")


if __name__ == "__main__":
    main()
