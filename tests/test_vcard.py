"""vCard 3.0/4.0 import and export: the demo files, round trips, unknown properties, bad cards."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from herotui import contexts, registry
from herotui.errors import InvalidInput
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
    assert code == 1 and "cannot write" in err


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
    code, out, err = cli(capsys, "contact", "import", str(tmp_path / "mixed.vcf"))
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
    for path in (tmp_path / "missing.vcf", tmp_path):
        code, _, err = cli(capsys, "contact", "import", str(path))
        assert code == 1 and "cannot read" in err, err
    with pytest.raises(InvalidInput):
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
