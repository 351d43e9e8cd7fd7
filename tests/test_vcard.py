"""vCard 3.0/4.0 import and export: the demo files, round trips, unknown properties, bad cards."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from herotui import contexts, registry
from herotui.errors import InvalidInput, NotFound
from herotui.frontends.cli import _main

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "contexts" / "demo"
FIELDS = ("name", "emails", "phones", "company", "role", "tags", "notes", "birthday")
ALEX_UNKNOWN = (
    "ADR;TYPE=work:;;1 Harbour Street;Antwerp;;2000;Belgium",
    "URL:https://northwind.example/team/alex-smith",
    "X-SOCIALPROFILE;TYPE=linkedin:https://network.example/in/alexsmith",
    "X-HERO-TEST:roundtrip-alex",
)


def card(*lines: str, version: str = "4.0") -> str:
    return "BEGIN:VCARD\r\nVERSION:" + version + "\r\n" + "".join(line + "\r\n" for line in lines) + "END:VCARD\r\n"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = _main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


def import_json(capsys, path, *context: str) -> dict:
    code, out, err = cli(capsys, *context, "contact", "import", str(path), "--json")
    assert code == 0, err
    return json.loads(out)


def fields(contacts) -> dict[str, dict]:
    """Contacts by name -> the fields a round trip must keep."""
    out = {}
    for c in contacts:
        d = c.model_dump() if hasattr(c, "model_dump") else c
        out[d["name"]] = {k: d[k] for k in FIELDS}
    return out


def alex_card(text: str) -> str:
    i = text.index("FN:Alex Smith")
    return text[text.rindex("BEGIN:VCARD", 0, i): text.index("END:VCARD", i)]


# --- the demo files ------------------------------------------------------------------------


def test_import_the_demo_files(hero, hero_home):
    assert hero("context", "create", "business").code == 0
    r = hero("contact", "import", str(DEMO / "personal.vcf"), "--json")
    assert r.code == 0, r
    report = r.json()
    assert set(report) == {"path", "imported", "updated", "unchanged", "skipped", "problems", "notes"}
    assert report == {"path": str(DEMO / "personal.vcf"), "imported": 15, "updated": 0, "unchanged": 0, "skipped": [],
                      "problems": [], "notes": []}
    r = hero("--context", "business", "contact", "import", str(DEMO / "business.vcf"), "--json")
    assert r.json()["imported"] == 25 and r.json()["skipped"] == [], r
    assert len(hero("contact", "list", "--json").json()) == 15
    assert len(hero("--context", "business", "contact", "list", "--json").json()) == 25
    r = hero("--context", "business", "contact", "import", str(DEMO / "business.vcf"))
    assert r.code == 0 and "25" in r.out, r  # human output
    assert len(hero("--context", "business", "contact", "list", "--json").json()) == 25  # the same file again adds nothing
    assert "Traceback" not in r.err


def test_both_versions_are_read(ctx):
    registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
    text = (DEMO / "business.vcf").read_text()
    assert "VERSION:3.0" in text and "VERSION:4.0" in text
    by_name = fields(registry.call("contact.list", {}, ctx))
    # a 3.0 card
    assert by_name["Sophie Martens"] == {
        "name": "Sophie Martens", "emails": ["sophie.martens@brightline.example"], "phones": ["+1 555 0200", "+1 555 0201"],
        "company": "Brightline Studio", "role": "Managing Director", "tags": ["colleague", "management"],
        "notes": "My manager. Weekly 1:1 on Tuesdays.", "birthday": None}
    assert by_name["Priya Raman"]["birthday"] == date(1991, 1, 14)
    # a 4.0 card, with a tel: URI
    assert by_name["Tom Verhoeven"]["phones"] == ["+1-555-0202"]
    assert by_name["Tom Verhoeven"]["company"] == "Brightline Studio"
    # a folded NOTE, a year-less BDAY and two emails
    alex = by_name["Alex Smith"]
    assert alex["notes"] == "Main finance contact at Northwind. Wants the quarterly report figures 2 days before review."
    assert alex["birthday"] == date(1604, 4, 12)
    assert alex["emails"] == ["alex.smith@northwind.example", "alex.smith@example.com"]
    assert alex["tags"] == ["finance", "quarterly"]


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["4.0", "3.0"])
def test_export_and_reimport_round_trip(capsys, tmp_path, version):
    first = contexts.create("business")
    import_json(capsys, DEMO / "business.vcf", "--context", "business")
    out = tmp_path / f"export-{version}.vcf"
    code, stdout, err = cli(capsys, "--context", "business", "contact", "export", "--version", version, "-o", str(out),
                            "--json")
    assert code == 0, err
    assert json.loads(stdout) == {"count": 25, "path": str(out), "text": None}
    text = out.read_bytes().decode()  # CRLF as written
    assert text.count("BEGIN:VCARD") == 25 and text.count(f"VERSION:{version}") == 25
    alex = alex_card(text)
    for line in ALEX_UNKNOWN:
        assert alex.count(line) == 1, (line, alex)
    assert "UID:demo-biz-c06@hero" in alex and "BDAY:--0412" in alex
    assert text.count("X-HERO-TEST:") == (DEMO / "business.vcf").read_text().count("X-HERO-TEST:")

    second = contexts.create("again")
    report = import_json(capsys, out, "--context", "again")
    assert (report["imported"], report["skipped"]) == (25, [])
    assert fields(registry.call("contact.list", {}, second)) == fields(registry.call("contact.list", {}, first))

    # a second trip changes nothing more: no property is lost or doubled
    text2 = registry.call("contact.export", {"version": version}, second).text
    assert text2 == text


def test_export_keeps_types_structured_names_and_org_units(ctx):
    registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
    v4 = alex_card(registry.call("contact.export", {}, ctx).text)
    assert "EMAIL;PREF=1;TYPE=work:alex.smith@northwind.example" in v4
    assert "EMAIL;TYPE=home:alex.smith@example.com" in v4
    assert "TEL;TYPE=work:+1 555 0210" in v4 and "TEL;TYPE=cell:+1 555 0211" in v4
    assert "ORG:Northwind Traders;Finance" in v4
    v3 = alex_card(registry.call("contact.export", {"version": "3.0"}, ctx).text)
    assert "EMAIL;TYPE=work,pref:alex.smith@northwind.example" in v3  # 3.0 has no PREF parameter
    text = registry.call("contact.export", {}, ctx).text
    assert "N:El Amrani;Nadia;;;" in text  # a two-word family name survives
    # once changed in Hero, the field is Hero's: the old structure is not forced back
    nadia = next(c for c in registry.call("contact.list", {}, ctx) if c.name == "Nadia El Amrani")
    registry.call("contact.update", {"id": nadia.id, "name": "Nadia Smith", "company": "Initech"}, ctx)
    text = registry.call("contact.export", {}, ctx).text
    assert "N:El Amrani" not in text and "N:Smith;Nadia;;;" in text and "ORG:Initech\r\n" in text


def test_edits_in_hero_win_over_the_imported_card(ctx):
    registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
    alex = next(c for c in registry.call("contact.list", {}, ctx) if c.name == "Alex Smith")
    registry.call("contact.update", {"id": alex.id, "emails": ["alex@new.example"], "role": "CFO"}, ctx)
    registry.call("contact.untag", {"id": alex.id, "tags": ["quarterly"]}, ctx)
    card_text = alex_card(registry.call("contact.export", {}, ctx).text)
    assert "EMAIL:alex@new.example" in card_text and "northwind.example\r\n" not in card_text.split("URL")[0]
    assert "TITLE:CFO" in card_text and "CATEGORIES:finance\r\n" in card_text
    for line in ALEX_UNKNOWN:
        assert line in card_text  # still there


def test_contact_made_in_hero_round_trips(capsys, ctx):
    c = registry.call("contact.create", {"name": "Zoë Ångström-Ñúñez", "emails": ["zoe@example.org"],
                                         "phones": ["+49 30 1234567"], "company": "Café; Bar, & Co", "role": "Chef",
                                         "tags": ["food", "berlin"], "notes": "Line one\nLine two, with; punctuation",
                                         "birthday": "1985-12-31"}, ctx)
    for version in ("4.0", "3.0"):
        text = registry.call("contact.export", {"version": version}, ctx).text
        assert f"UID:urn:hero:{c.id}" in text
        other = contexts.create(f"v{version[0]}")
        path = Path(ctx.path) / f"zoe{version}.vcf"
        path.write_text(text)
        assert registry.call("contact.import", {"path": str(path)}, other).imported == 1
        assert fields(registry.call("contact.list", {}, other)) == fields([c])


def test_yearless_birthday_round_trips(ctx, tmp_path):
    path = tmp_path / "bday.vcf"
    path.write_text(card("FN:No Year", "BDAY:--0412") + card("FN:Old Style", "BDAY:--04-13", version="3.0")
                    + card("FN:Full Date", "BDAY:19800412"))
    assert registry.call("contact.import", {"path": str(path)}, ctx).imported == 3
    by_name = {c.name: c for c in registry.call("contact.list", {}, ctx)}
    assert by_name["No Year"].birthday == date(1604, 4, 12)
    assert by_name["Old Style"].birthday == date(1604, 4, 13)
    assert by_name["Full Date"].birthday == date(1980, 4, 12)
    for version in ("4.0", "3.0"):
        text = registry.call("contact.export", {"version": version}, ctx).text
        assert "BDAY:--0412" in text and "BDAY:--0413" in text
        again = tmp_path / f"again{version}.vcf"
        again.write_text(text)
        other = contexts.create(f"bday{version[0]}")
        registry.call("contact.import", {"path": str(again)}, other)
        assert {c.name: c.birthday for c in registry.call("contact.list", {}, other)} == {
            n: c.birthday for n, c in by_name.items()}


def test_export_to_stdout_and_by_tag(capsys, ctx, tmp_path):
    registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
    code, out, err = cli(capsys, "contact", "export")
    assert code == 0 and out.count("BEGIN:VCARD") == 25 and out.startswith("BEGIN:VCARD")
    target = tmp_path / "all.vcf"
    cli(capsys, "contact", "export", "--output", str(target))
    assert target.read_bytes().decode() == out
    code, out, _ = cli(capsys, "contact", "export", "--tag", "finance")
    finance = [c for c in registry.call("contact.list", {"tag": "finance"}, ctx)]
    assert out.count("BEGIN:VCARD") == len(finance) >= 3
    assert all(f"FN:{c.name}" in out for c in finance)
    code, _, err = cli(capsys, "contact", "export", "--version", "2.1")
    assert code == 1 and "3.0 or 4.0" in err
    code, _, err = cli(capsys, "contact", "export", "-o", str(tmp_path / "no" / "such" / "dir.vcf"))
    assert code == 3 and "cannot write" in err  # no such folder: exit 3, as a missing file


# --- bad files -----------------------------------------------------------------------------


def test_a_bad_field_is_reported_and_the_rest_of_its_card_kept(capsys, ctx, tmp_path):
    good = [card(f"FN:Good {i}", f"EMAIL:good{i}@example.com") for i in range(1, 7)]
    bad = {
        2: card("FN:Bad Email", "EMAIL:not an email", "TEL:+1 555 0100"),
        4: card("FN:Bad Birthday", "BDAY:31/12/1999", "ORG:Initech"),
        5: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\nthis line is not a property\r\nTITLE:Boss\r\nEND:VCARD\r\n",
        7: card("NOTE:nothing to call this card by", "X-FOO:bar"),
    }
    parts, position = [], 0
    for g in good:
        position += 1
        while position in bad:
            parts.append(bad[position])
            position += 1
        parts.append(g)
    path = tmp_path / "mixed.vcf"
    path.write_text("".join(parts))
    assert path.read_text().count("BEGIN:VCARD") == 10
    report = import_json(capsys, path)
    assert report["imported"] == 9
    # only the card with nothing to call it by is left out
    assert [(p["position"], p["message"]) for p in report["skipped"]] == [
        (7, "card has no name (FN, N, NICKNAME, ORG, EMAIL or TEL)")]
    lines = path.read_text().splitlines()
    assert lines[report["skipped"][0]["line"] - 1] == "BEGIN:VCARD"
    # the bad fields: card position, the exact line, the property
    problems = report["problems"]
    assert [(p["position"], p["field"]) for p in problems] == [(2, "EMAIL"), (4, "BDAY"), (5, "this line is not a property")]
    assert [lines[p["line"] - 1] for p in problems] == ["EMAIL:not an email", "BDAY:31/12/1999", "this line is not a property"]
    assert "not a valid email" in problems[0]["message"] and "not a date" in problems[1]["message"]
    by_name = {c.name: c for c in registry.call("contact.list", {}, ctx)}
    assert sorted(by_name) == sorted([f"Good {i}" for i in range(1, 7)] + ["Bad Email", "Bad Birthday", "Broken"])
    assert by_name["Bad Email"].emails == [] and by_name["Bad Email"].phones == ["+1 555 0100"]
    assert by_name["Bad Birthday"].birthday is None and by_name["Bad Birthday"].company == "Initech"
    assert by_name["Broken"].role == "Boss"
    # a field Hero could not read is still in the card, so an export gives it back
    text = registry.call("contact.export", {}, ctx).text
    assert "EMAIL:not an email\r\n" in text and "BDAY:31/12/1999\r\n" in text
    code, out, _err = cli(capsys, "contact", "import", str(tmp_path / "mixed.vcf"))
    assert code == 0 and "position=7" in out, out  # the human report lists them too


def test_unterminated_cards_and_stray_text(capsys, ctx, tmp_path):
    path = tmp_path / "ragged.vcf"
    path.write_text(card("FN:First") + "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Unterminated\r\n" + card("FN:Third")
                    + "garbage between cards\r\n" + card("FN:Fourth") + "BEGIN:VCARD\r\nFN:Cut Off At The End\r\n")
    report = import_json(capsys, path)
    assert report["imported"] == 3
    assert [(p["position"], p["message"]) for p in report["skipped"]] == [
        (2, "card has no END:VCARD"), (4, "text outside BEGIN:VCARD/END:VCARD"), (5, "card has no END:VCARD")]
    assert sorted(c.name for c in registry.call("contact.list", {}, ctx)) == ["First", "Fourth", "Third"]


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"hello, this is not a vCard\nat all\n",
                                     b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n"])
def test_a_file_without_vcards_is_an_error(capsys, ctx, tmp_path, content):
    path = tmp_path / "nothing.vcf"
    path.write_bytes(content)
    code, out, err = cli(capsys, "contact", "import", str(path))
    assert code == 1, (out, err)
    assert len(err.strip().splitlines()) <= 2 and "hint:" in err
    if b"VCALENDAR" in content:
        assert "is an iCalendar file" in err and "hero calendar import" in err
    else:
        assert "contains no vCard" in err
    assert registry.call("contact.list", {}, ctx) == []


def test_missing_file_and_folder(capsys, ctx, tmp_path):
    for path, expected in ((tmp_path / "missing.vcf", 3), (tmp_path, 1)):  # missing: 3 (not found); a folder: 1
        code, _, err = cli(capsys, "contact", "import", str(path))
        assert code == expected and "cannot read" in err, err
    with pytest.raises(NotFound):
        registry.call("contact.import", {"path": str(tmp_path / "missing.vcf")}, ctx)


def test_a_large_file_keeps_order_and_positions(ctx, tmp_path):
    from herotui.services import _vcard

    n = _vcard.PARALLEL_FROM + 500  # big enough for the parallel parser
    parts = [card(f"FN:Person {i:05d}", f"EMAIL:p{i}@example.com", "X-KEEP:yes") for i in range(1, n + 1)]
    parts[2099] = card("X-NO-NAME:at all", "X-KEEP:yes", "X-KEEP:no")
    parts[1999] = card("FN:Person 02000", "EMAIL:@@@", "X-KEEP:yes")
    path = tmp_path / "big.vcf"
    path.write_text("".join(parts))
    report = registry.call("contact.import", {"path": str(path)}, ctx)
    assert report.imported == n - 1
    assert [(p.position, p.line) for p in report.skipped] == [(2100, 2099 * 6 + 1)]  # 6 lines a card
    assert [(p.position, p.line, p.field) for p in report.problems] == [(2000, 1999 * 6 + 4, "EMAIL")]
    with ctx.read() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM contacts ORDER BY id").fetchall()]
    assert names == [f"Person {i:05d}" for i in range(1, n + 1) if i != 2100]  # ids follow file order
    assert len(registry.call("contact.search", {"query": "Person 02500"}, ctx)) >= 1


# --- real address books (tests/data/vcf: files from other projects' test data, see ORIGIN.tsv) ---

VCF = Path(__file__).resolve().parent / "data" / "vcf"
SAMPLES = sorted(p.name for p in VCF.glob("*.vcf"))
NAMELESS = {"blackberry-issue64.vcf"}  # a photo and nothing to call the card by: skipped, see below


def imported(ctx, name: str, **kw):
    report = registry.call("contact.import", {"path": str(VCF / name)}, ctx)
    return report, {c.name: c for c in registry.call("contact.list", {}, ctx)}


def card_of(text: str, fn: str) -> str:
    i = text.index(f"FN:{fn}\r\n")
    return text[text.rindex("BEGIN:VCARD", 0, i): text.index("END:VCARD", i)]


def test_every_sample_file_is_listed_in_origin():
    rows = [line.split("\t") for line in (VCF / "ORIGIN.tsv").read_text().splitlines()[1:]]
    assert sorted(r[0] for r in rows) == SAMPLES
    assert all(len(r) == 4 and "/" in r[1] and len(r[2]) == 40 for r in rows)


@pytest.mark.parametrize("name", sorted(set(SAMPLES) - NAMELESS))
def test_sample_files_import_and_round_trip(ctx, tmp_path, name):
    report = registry.call("contact.import", {"path": str(VCF / name)}, ctx)
    assert report.imported >= 1, report
    first = fields(registry.call("contact.list", {}, ctx))
    for version in ("4.0", "3.0"):
        text = registry.call("contact.export", {"version": version}, ctx).text
        assert text.count("BEGIN:VCARD") == report.imported
        path = tmp_path / f"{version}.vcf"
        path.write_bytes(text.encode())
        other = contexts.create(f"trip{version[0]}-{name[:20].replace('.', '-')}")
        again = registry.call("contact.import", {"path": str(path)}, other)
        assert (again.imported, again.skipped) == (report.imported, [])
        assert fields(registry.call("contact.list", {}, other)) == first
        assert registry.call("contact.export", {"version": version}, other).text == text  # stable from the first trip


def test_a_category_with_a_space_keeps_its_spelling_and_never_rejects_a_card(ctx):
    report, _ = imported(ctx, "android.vcf")  # Android: CATEGORIES:My Contacts
    assert (report.imported, report.skipped) == (6, [])
    tagged = registry.call("contact.list", {"tag": "my-contacts"}, ctx)
    assert len(tagged) == 5 and all(c.tags == ["my-contacts"] for c in tagged)
    text = registry.call("contact.export", {}, ctx).text
    assert text.count("CATEGORIES:My Contacts\r\n") == 5 and "my-contacts" not in text
    # tags changed in Hero: the ones still there keep the card's spelling, new ones are Hero's
    john = next(c for c in tagged if c.name == "john.doe@company.com")
    registry.call("contact.tag", {"id": john.id, "tags": ["vip"]}, ctx)
    text = registry.call("contact.export", {"tag": "vip"}, ctx).text
    assert "CATEGORIES:My Contacts,vip\r\n" in text
    registry.call("contact.untag", {"id": john.id, "tags": ["my-contacts"]}, ctx)
    text = registry.call("contact.export", {"tag": "vip"}, ctx).text
    assert "CATEGORIES:vip\r\n" in text and "My Contacts" not in text
    # a category with a comma inside (escaped) is one tag, and comes back escaped
    path = Path(ctx.path) / "comma.vcf"
    path.write_text(card("FN:Comma Person", r"CATEGORIES:Friends\, Family,Work  Mates,  ,VIP"))
    registry.call("contact.import", {"path": str(path)}, ctx)
    person = next(c for c in registry.call("contact.list", {}, ctx) if c.name == "Comma Person")
    assert person.tags == ["friends-family", "work-mates", "vip"]
    assert r"CATEGORIES:Friends\, Family,Work  Mates,VIP" in registry.call("contact.export", {}, ctx).text


def test_typed_tags_with_a_space_are_still_refused(ctx):
    from herotui.services.common import clean_tags

    with pytest.raises(InvalidInput, match="no spaces"):
        registry.call("contact.create", {"name": "X", "tags": ["my contacts"]}, ctx)
    assert clean_tags(["A,b", " c "]) == ["a", "b", "c"]
    assert clean_tags(["My Contacts", "a, b", "My  contacts"], lenient=True) == ["my-contacts", "a-b"]


def test_rev_and_unknown_properties_survive_and_rev_follows_an_edit(ctx, tmp_path):
    import time_machine

    _, by_name = imported(ctx, "outlook-2003.vcf")  # vCard 2.1 from Outlook
    john = by_name["John Doe III"]
    v4 = registry.call("contact.export", {}, ctx).text
    for line in ("REV:20121012T210525Z", "NICKNAME:Joey", "URL;TYPE=WORK:http://web-page-address.com",
                 "ROLE:TheProfession", "ADR;TYPE=WORK:;TheOffice;123 Main St;Austin;TX;12345;United States of Ameri",
                 "N:Doe;John;;Mr.;III", "TEL;TYPE=WORK,VOICE:BusinessPhone"):
        assert line + "\r\n" in v4, line
    assert "KEY:data:application/x509;base64,MIIDITCCAoqgAwIBAgIQT52W2" in v4  # 2.1 BASE64 -> 4.0 data: URI
    assert "KEY;ENCODING=b;TYPE=X509:MIIDITCC" in registry.call("contact.export", {"version": "3.0"}, ctx).text
    with time_machine.travel("2031-02-03 04:05:06Z", tick=False):
        registry.call("contact.update", {"id": john.id, "role": "Boss"}, ctx)
    v4 = registry.call("contact.export", {}, ctx).text
    assert "REV:20310203T040506Z\r\n" in v4 and "REV:2012" not in v4
    assert "NICKNAME:Joey" in v4  # still there after the edit


def test_quoted_printable_soft_line_breaks_and_charset(ctx):
    _, by_name = imported(ctx, "outlook-2003.vcf")
    assert by_name["John Doe III"].notes == "This is the note field!!\nSecond line\n\nThird line is empty"
    assert by_name["John Doe III"].birthday == date(1980, 3, 21)
    _, by_name = imported(ctx, "eds-12.vcf")  # N, FN, ADR with '=' soft breaks right after the colon
    michael = by_name["Michael Brüning"]
    assert michael.phones == ["+491622433834", "017623384942", "+4973117546691"]
    text = card_of(registry.call("contact.export", {}, ctx).text, "Michael Brüning")
    assert "ADR;TYPE=HOME:;;Münsterplatz 21;Ulm;Baden-Württemberg;89073;\r\n" in text
    assert "N:Brüning;Michael\r\n" in text and "CHARSET" not in text and "QUOTED-PRINTABLE" not in text
    _, by_name = imported(ctx, "kcontacts-vcard10.vcf")  # a soft break inside an ADR must not eat the next line
    assert by_name["Dr. med. Surname Name"].role == "Facharzt für Allgemeinmedizin"
    assert by_name["Dr. med. Surname Name"].notes.startswith("Sprechzeiten:\nMo   8–12, 15–18\n")
    assert by_name["Bike Shop"].company == "Bike Shop"  # no FN or N: named by its ORG
    text = registry.call("contact.export", {}, ctx).text
    assert card_of(text, "Field after Address broken").count("URL:http://some-webseite.com\r\n") == 1
    assert "ADR;TYPE=WORK:;;DDDDDDDDDDDDDDD-Staße 2\\n00000 DDDDDDDDDD;;;;" in text


def test_unescaped_commas_are_kept_whole(ctx, tmp_path):
    _, by_name = imported(ctx, "kcontacts-vcard10.vcf")
    note = by_name["Field after Address not broken"].notes
    assert note == ('this is identical to "Website broken", but with Note and URL swapped. '
                    "The Note field does not get truncated as the URL field does.")
    path = tmp_path / "commas.vcf"
    path.write_text(card("FN:Doe, John", "N:Doe;John;;;", "NOTE:one, two; three", "TITLE:Head, Sales"))
    registry.call("contact.import", {"path": str(path)}, ctx)
    doe = next(c for c in registry.call("contact.list", {}, ctx) if c.name == "Doe, John")
    assert (doe.notes, doe.role) == ("one, two; three", "Head, Sales")
    assert r"FN:Doe\, John" in registry.call("contact.export", {}, ctx).text


def test_tel_uris_extensions_and_vanity_numbers(ctx):
    _, by_name = imported(ctx, "rfc6350-example.vcf")
    simon = by_name["Simon Perreault"]
    assert simon.phones == ["+1-418-656-9254 ext. 102", "+1-418-262-6501"]
    v4 = registry.call("contact.export", {}, ctx).text
    assert "TEL;VALUE=uri;PREF=1;TYPE=work,voice:tel:+1-418-656-9254;ext=102\r\n" in v4  # unchanged: as it came
    v3 = registry.call("contact.export", {"version": "3.0"}, ctx).text
    assert "TEL;TYPE=work,voice,pref:+1-418-656-9254 ext. 102\r\n" in v3
    report, by_name = imported(ctx, "eds-custom-10.vcf")  # no FN: named from N
    assert report.problems == []
    assert by_name["Jim Morrison"].phones == ["1 800 ELEPHANT"]


@pytest.mark.parametrize("value", ["1-800-FLOWERS", "1 800 ELEPHANT", "1.800 E L E P H A N T", "+1 555 0100 x12",
                                   "+32 (0)2 555 01 00", "555-0100 ext. 7"])
def test_phone_numbers_accepted(value):
    from herotui.services.contact import normalize_phone

    assert normalize_phone(value) == value


@pytest.mark.parametrize("value", ["ask Jenny for Lisa's number", "call me 555", "12", "FLOWERS", "555 call me now"])
def test_phone_numbers_refused(value):
    from herotui.services.contact import normalize_phone

    with pytest.raises(ValueError, match="not a phone number"):
        normalize_phone(value)


def test_a_text_birthday_is_kept_not_rejected(ctx):
    report, by_name = imported(ctx, "khard-text-bday.vcf")
    assert (report.imported, report.skipped, report.problems) == (1, [], [])
    c = by_name["text birthday"]
    assert c.birthday is None
    assert "BDAY;VALUE=text:circa 1800\r\n" in registry.call("contact.export", {}, ctx).text
    registry.call("contact.update", {"id": c.id, "birthday": "1800-06-01"}, ctx)
    text = registry.call("contact.export", {}, ctx).text
    assert "BDAY:18000601\r\n" in text and "circa" not in text  # Hero's date replaces the text one


def test_a_second_org_title_and_n_are_kept(ctx, tmp_path):
    imported(ctx, "khard-altid.vcf")
    text = registry.call("contact.export", {}, ctx).text
    assert "N;ALTID=1:representation;one;;;\r\n" in text and "N;ALTID=1:representation;two;;;\r\n" in text
    path = tmp_path / "two.vcf"
    path.write_text(card("FN:Two Jobs", "ORG:First Co;Sales", "ORG:Second Co", "TITLE:Seller", "TITLE:Founder"))
    registry.call("contact.import", {"path": str(path)}, ctx)
    two = next(c for c in registry.call("contact.list", {}, ctx) if c.name == "Two Jobs")
    assert (two.company, two.role) == ("First Co", "Seller")
    text = card_of(registry.call("contact.export", {}, ctx).text, "Two Jobs")
    assert [line for line in text.splitlines() if line.startswith(("ORG", "TITLE"))] == [
        "ORG:First Co;Sales", "TITLE:Seller", "ORG:Second Co", "TITLE:Founder"]


def test_base64_photos_export_in_both_versions(ctx, tmp_path):
    report, _ = imported(ctx, "blackberry-issue64.vcf")  # BlackBerry: PHOTO;ENCODING=BASE64;JPEG and nothing else
    assert report.imported == 0 and "no name" in report.skipped[0].message
    text = (VCF / "blackberry-issue64.vcf").read_text().replace("VERSION:2.1\n", "VERSION:2.1\nFN:Black Berry\n")
    path = tmp_path / "bb.vcf"
    path.write_text(text)
    registry.call("contact.import", {"path": str(path)}, ctx)
    imported(ctx, "android.vcf")  # another 2.1 photo, not indented
    v4 = registry.call("contact.export", {}, ctx).text  # used to fail for every contact (TypeError)
    assert v4.count("PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/") == 2
    v3 = registry.call("contact.export", {"version": "3.0"}, ctx).text
    assert v3.count("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/") == 2
    import base64

    photo = card_of(v4, "Black Berry").split("PHOTO:data:image/jpeg;base64,")[1].split("\r\nEND")[0]
    original = "".join(text.split("JPEG:")[1].split("END:VCARD")[0].split())
    assert base64.b64decode(photo.replace("\r\n ", "")) == base64.b64decode(original)


def test_odd_but_readable_cards(ctx):
    report, by_name = imported(ctx, "lotus-notes.vcf")  # PROFILE, NAME, SOURCE... (vobject refused the card)
    assert (report.imported, report.skipped) == (1, [])
    john = by_name["Mr. Doe John I Johny"]
    assert john.emails == ["john.doe@ibm.com", "billy_bob@gmail.com"] and john.company == "IBM"
    text = registry.call("contact.export", {}, ctx).text
    assert "item1.ADR;TYPE=HOME,pref:" in text and "item2.X-ABLabel:_$!<HomePage>!$_" in text
    assert "PROFILE:VCard" in text and "X-LONG-STRING:1234567890" in text
    report, by_name = imported(ctx, "kcontacts-legacy-messaging.vcf")  # X-messaging/twitter-All
    assert "X-messaging/twitter-All:kdecommunity\r\n" in registry.call("contact.export", {}, ctx).text
    report, by_name = imported(ctx, "eds-11.vcf")  # empty parameters (NOPARAM;:...)
    assert "Invalid AttributeParam" in by_name and report.problems == []
    report, by_name = imported(ctx, "eds-7.vcf")  # the BEGIN:VCARD line is missing
    assert report.imported == 1 and [p.field for p in report.problems] == ["BEGIN"]
    assert by_name["Frank Dawson"].emails == ["Frank_Dawson@lotus.com", "fdawson@earthlink.net"]


def _encoded(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


ACCENTED = card("FN:Renée Müller-Ñúñez", "N:Müller-Ñúñez;Renée;;;", "ORG:Café Zürich", "NOTE:Grüße aus Köln, señor",
                version="3.0")


@pytest.mark.parametrize(("encoding", "data", "note"), [
    ("latin-1", ACCENTED.encode("latin-1"), "not UTF-8"),
    ("cp1252", ACCENTED.replace("señor", "“señor” – 5 €").encode("cp1252"), "not UTF-8"),
    ("utf-16 BOM", ACCENTED.encode("utf-16"), "UTF-16-LE (with a byte-order mark)"),
    ("utf-16-be no BOM", ACCENTED.encode("utf-16-be"), "UTF-16-BE (no byte-order mark)"),
    ("utf-8 BOM", b"\xef\xbb\xbf" + ACCENTED.encode(), None),
    ("utf-8", ACCENTED.encode(), None),
])
def test_files_not_in_utf8_are_detected_and_converted(ctx, tmp_path, encoding, data, note):
    report = registry.call("contact.import", {"path": str(_encoded(tmp_path, "enc.vcf", data))}, ctx)
    assert report.imported == 1
    assert (note in report.notes[0]) if note else report.notes == []
    c = registry.call("contact.list", {}, ctx)[0]
    assert (c.name, c.company) == ("Renée Müller-Ñúñez", "Café Zürich")
    assert c.notes.startswith("Grüße aus Köln, ")
    if encoding == "cp1252":
        assert c.notes == "Grüße aus Köln, “señor” – 5 €"


def test_utf8_folded_inside_a_character(ctx):
    report, by_name = imported(ctx, "kcontacts-vcard9.vcf")  # ownCloud folded at 75 bytes, inside characters
    assert report.notes == [] and report.problems == []
    (c,) = by_name.values()
    assert c.name.startswith("βγδεαβγδ1βγδεαβγδ1") and "\ufffd" not in c.name
    assert c.notes == "Длинный комментарий на русском языке, чтобы в результате получилась строка более 70 символов."


def test_reimporting_the_same_file_adds_nothing(ctx, tmp_path):
    first = registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
    android = registry.call("contact.import", {"path": str(VCF / "android.vcf")}, ctx)  # no UIDs at all
    assert (first.imported, android.imported) == (25, 6)
    for _ in range(2):
        again = registry.call("contact.import", {"path": str(DEMO / "business.vcf")}, ctx)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 25)
        again = registry.call("contact.import", {"path": str(VCF / "android.vcf")}, ctx)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 6)
    assert len(registry.call("contact.list", {}, ctx)) == 31
    # a contact made in Hero, exported and imported back into the same context: the same contact
    registry.call("contact.create", {"name": "Made Here", "emails": ["made@example.com"]}, ctx)
    out = tmp_path / "all.vcf"
    out.write_text(registry.call("contact.export", {}, ctx).text)
    back = registry.call("contact.import", {"path": str(out)}, ctx)
    assert (back.imported, back.updated, back.unchanged) == (0, 0, 32)
    assert len(registry.call("contact.list", {}, ctx)) == 32
    # the same UID with changed content updates the contact instead of adding one
    text = (DEMO / "business.vcf").read_text()
    changed = tmp_path / "changed.vcf"
    changed.write_text(text.replace("TITLE:Finance Director", "TITLE:Chief Financial Officer"))
    report = registry.call("contact.import", {"path": str(changed)}, ctx)
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 24)
    alex = [c for c in registry.call("contact.list", {}, ctx) if c.name == "Alex Smith"]
    assert len(alex) == 1 and alex[0].role == "Chief Financial Officer"
