"""Knowledge: splitting pages into passages, the built-in book, user books, ask with citations."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
from herotui import paths, registry
from herotui.errors import ConfirmationRequired, InvalidInput, NotFound
from herotui.services import knowledge as kn
from herotui.store import index

BOOK = ROOT / "knowledge"


def call(ctx, verb: str, confirmed: bool = False, **args):
    return registry.call(f"knowledge.{verb}", args, ctx, actor="test", confirmed=confirmed)


def revision(ctx) -> int:
    with ctx.read() as conn:
        return conn.execute("SELECT revision FROM state").fetchone()[0]


def indexed_texts(ctx, words: str, book: str) -> list[str]:
    """The stored text of every passage the index returns for ``words`` in ``book``."""
    with ctx.read() as conn:
        hits = index.search(ctx, words, kinds=["knowledge"], tags=[book], limit=50, fuzzy=False)
        ids = [h.id for h in hits]
        rows = conn.execute("SELECT id, text FROM knowledge_passages WHERE list_contains(?, id)", [ids]).fetchall()
    assert len(rows) == len(ids), "the index returned passages that are no longer in the database"
    return [t for _i, t in rows]


@pytest.fixture
def notes(tmp_path):
    """A small user book: two pages, one in a subfolder, and a hidden file that is ignored."""
    folder = tmp_path / "notes"
    (folder / "garden").mkdir(parents=True)
    (folder / "bread.md").write_text(
        "# Sourdough bread\n\nMy notes on baking.\n\n## Starter\n\nFeed the starter with rye flour every morning.\n\n"
        "## Baking\n\nBake at 250 degrees in a cast iron pot for 45 minutes.\n")
    (folder / "garden" / "tomatoes.md").write_text(
        "# Tomatoes\n\n## Watering\n\nWater the tomatoes at the roots, never on the leaves.\n")
    (folder / ".hidden.md").write_text("# Secret\n\nzanzibar\n")
    (folder / "readme.txt").write_text("not markdown: quetzal\n")
    return folder


# ---------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------


def test_split_by_headings_builds_heading_paths():
    text = ("# Contexts\n\nIntro text.\n\n## Switching\n\nUse it.\n\n### With a variable\n\nHERO_CONTEXT.\n\n"
            "## Creating\n\nCreate one.\n\n#### Deep\n\nfour\n\n##### Five is not a split\n\nstill deep\n")
    parsed = kn.split_page(text, "contexts.md")
    assert parsed.title == "Contexts"
    got = [(s.heading, s.text) for s in parsed.passages]
    assert got == [
        ("Contexts", "Intro text."),
        ("Contexts › Switching", "Use it."),
        ("Contexts › Switching › With a variable", "HERO_CONTEXT."),
        ("Contexts › Creating", "Create one."),
        ("Contexts › Creating › Deep", "four\n\n##### Five is not a split\n\nstill deep"),
    ]


def test_hash_inside_fenced_code_is_not_a_heading():
    text = "# Shell\n\n## Comments\n\n```sh\n# this is a comment\nls\n## also a comment\n```\n\nAfter the code.\n"
    parsed = kn.split_page(text, "shell.md")
    assert [s.heading for s in parsed.passages] == ["Shell › Comments"]
    assert "# this is a comment" in parsed.passages[0].text and "After the code." in parsed.passages[0].text


def test_title_falls_back_to_the_file_name_and_setext_headings_count():
    parsed = kn.split_page("Intro\n\nSection\n-------\n\nbody\n", "dir/getting-started.md")
    assert parsed.title == "Getting started"
    assert [(s.heading, s.text) for s in parsed.passages] == [("Getting started", "Intro"),
                                                                ("Getting started › Section", "body")]


def test_comment_only_passages_are_dropped():
    parsed = kn.split_page("<!-- generated, do not edit -->\n# Ref\n\n## verb\n\ntext\n", "ref.md")
    assert [s.heading for s in parsed.passages] == ["Ref › verb"]


def test_long_sections_are_split_between_blocks_and_code_stays_whole():
    paragraphs = [f"Paragraph {i} " + "word " * 70 for i in range(8)]  # ~370 characters each
    code = "```python\n" + "\n".join(f"# line {i} of the code" + " x" * 20 for i in range(20)) + "\n```"
    body = "\n\n".join(paragraphs[:4] + [code] + paragraphs[4:])
    parsed = kn.split_page(f"# Long\n\n## Section\n\n{body}\n", "long.md")
    texts = [s.text for s in parsed.passages]
    assert len(texts) >= 3
    assert all(s.heading == "Long › Section" for s in parsed.passages)
    for t in texts:
        assert t.count("```") % 2 == 0, "a code block was cut"
        assert len(t) <= kn.MAX_PASSAGE or t.startswith("```"), len(t)
    assert sum(code in t for t in texts) == 1
    for p in paragraphs:
        assert sum(p.strip() in t for t in texts) == 1


# ---------------------------------------------------------------------------------------
# The built-in book
# ---------------------------------------------------------------------------------------


def test_the_shipped_book_has_the_required_pages():
    assert paths.resource("knowledge") == BOOK
    pages = {p.relative_to(BOOK).as_posix() for p in BOOK.rglob("*.md")}
    required = {"index.md", "getting-started.md", "contexts.md", "search.md", "cli.md", "troubleshooting.md",
                "services/contact.md", "services/calendar.md", "services/document.md", "services/slides.md",
                "services/knowledge.md", "reference/index.md"}
    assert required <= pages
    for service in {v.service for v in registry.verbs().values()}:
        assert f"reference/{service}.md" in pages, service
    for page in sorted(pages):
        parsed = kn.split_page((BOOK / page).read_text(encoding="utf-8"), page)
        assert parsed.passages, f"{page} has no passage"


def test_builtin_book_is_there_on_first_use(ctx):
    books = call(ctx, "list")
    hero = next(b for b in books if b.book == "hero")
    assert hero.builtin and hero.pages == len(list(BOOK.rglob("*.md")))
    pages = {p.path for p in call(ctx, "list", book="hero")}
    assert {"contexts.md", "services/contact.md", "reference/contact.md"} <= pages
    rev = revision(ctx)
    assert kn.ensure_builtin(ctx) is False  # up to date: nothing written
    assert revision(ctx) == rev


def test_builtin_book_is_refreshed_when_a_shipped_page_changes(ctx, tmp_path):
    src = tmp_path / "shipped"
    shutil.copytree(BOOK, src)
    assert kn.ensure_builtin(ctx, src) is True
    rev = revision(ctx)
    assert kn.ensure_builtin(ctx, src) is False
    assert revision(ctx) == rev
    kn._UP_TO_DATE.clear()  # a new process: the check reads the stored hashes
    assert kn.ensure_builtin(ctx, src) is False
    assert revision(ctx) == rev

    page = src / "contexts.md"
    page.write_text(page.read_text().replace("## Switching contexts", "## Switching contexts\n\nxylophone drill.\n\n## Moving on"))
    (src / "troubleshooting.md").unlink()
    (src / "new-page.md").write_text("# New page\n\n## Fresh\n\nmarimba practice.\n")
    assert kn.ensure_builtin(ctx, src) is True
    assert revision(ctx) == rev + 1

    assert any("xylophone" in t for t in indexed_texts(ctx, "xylophone", "hero"))
    assert any("marimba" in t for t in indexed_texts(ctx, "marimba", "hero"))
    assert indexed_texts(ctx, "HERO_LOCK_TIMEOUT busy", "hero")  # still in cli.md
    gone = indexed_texts(ctx, '"context is busy"', "hero")
    assert not any("stayed locked" in t for t in gone), "passages of a removed page are still indexed"
    pages = {p.path for p in call(ctx, "list", book="hero")}
    assert "new-page.md" in pages and "troubleshooting.md" not in pages
    with ctx.read() as conn:
        n = conn.execute("SELECT count(*) FROM knowledge_pages p JOIN knowledge_passages s ON s.page_id = p.id "
                         "WHERE p.book = 'hero' AND p.path = 'contexts.md' AND s.heading LIKE '%Moving on'").fetchone()[0]
    assert n == 1


# ---------------------------------------------------------------------------------------
# User books through the registry
# ---------------------------------------------------------------------------------------


def test_add_list_show_search_ask_delete_a_user_book(ctx, notes):
    report = call(ctx, "add", path=str(notes), book="kitchen")
    assert (report.book, report.pages, report.added, report.skipped) == ("kitchen", 2, 2, [])
    assert report.passages == 4  # bread: intro, Starter, Baking; tomatoes: Watering

    books = {b.book: b for b in call(ctx, "list")}
    assert books["kitchen"].pages == 2 and not books["kitchen"].builtin and books["hero"].builtin
    pages = call(ctx, "list", book="kitchen")
    assert [(p.path, p.title, p.passages) for p in pages] == [("bread.md", "Sourdough bread", 3),
                                                            ("garden/tomatoes.md", "Tomatoes", 1)]

    page = call(ctx, "show", page="kitchen/bread.md")
    assert page.text == (notes / "bread.md").read_text() and page.title == "Sourdough bread"
    assert call(ctx, "show", page="tomatoes").path == "garden/tomatoes.md"
    assert call(ctx, "show", page="Sourdough bread").path == "bread.md"
    assert call(ctx, "show", page="kitchen/garden/tomatoes").path == "garden/tomatoes.md"
    with pytest.raises(NotFound):
        call(ctx, "show", page="zanzibar")

    hits = call(ctx, "search", query="rye flour")
    assert hits[0].citation == "[kitchen: bread.md › Starter]" and hits[0].book == "kitchen"
    assert call(ctx, "search", query="rye", book="hero") == []
    assert call(ctx, "search", query="zanzibar") == [] and call(ctx, "search", query="quetzal") == []

    answer = call(ctx, "ask", question="what temperature do I bake the bread at?", book="kitchen", limit=1)
    assert answer.method == "passages" and answer.answer is None
    assert [(p.book, p.page, p.heading) for p in answer.passages] == [("kitchen", "bread.md", "Sourdough bread › Baking")]
    assert "250 degrees" in answer.passages[0].text

    with pytest.raises(ConfirmationRequired):
        call(ctx, "delete", book="kitchen")
    assert "kitchen" in {b.book for b in call(ctx, "list")}
    gone = call(ctx, "delete", book="kitchen", confirmed=True)
    assert (gone.book, gone.pages, gone.passages) == ("kitchen", 2, 4)
    assert "kitchen" not in {b.book for b in call(ctx, "list")}
    assert [h for h in call(ctx, "search", query="rye flour") if h.book == "kitchen"] == []
    assert indexed_texts(ctx, "rye", "kitchen") == []
    with pytest.raises(NotFound):
        call(ctx, "delete", book="kitchen", confirmed=True)
    with pytest.raises(NotFound):
        call(ctx, "list", book="kitchen")


def test_adding_a_book_again_replaces_it(ctx, notes):
    call(ctx, "add", path=str(notes), book="kitchen")
    (notes / "bread.md").write_text("# Sourdough bread\n\n## Baking\n\nBake at 230 degrees with steam.\n")
    (notes / "garden" / "tomatoes.md").unlink()
    (notes / "pasta.md").write_text("# Pasta\n\nSalt the water generously.\n")
    report = call(ctx, "add", path=str(notes), book="kitchen")
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 0)
    assert (report.pages, report.passages) == (2, 2)
    assert [p.path for p in call(ctx, "list", book="kitchen")] == ["bread.md", "pasta.md"]
    assert indexed_texts(ctx, "rye", "kitchen") == []  # the old Starter passage is gone from the index
    assert indexed_texts(ctx, "roots leaves", "kitchen") == []  # so is the removed page
    assert any("230 degrees" in t for t in indexed_texts(ctx, "steam", "kitchen"))
    again = call(ctx, "add", path=str(notes), book="kitchen")
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 2)


def test_the_builtin_name_is_reserved(ctx, notes):
    with pytest.raises(InvalidInput, match="built-in"):
        call(ctx, "add", path=str(notes), book="hero")
    with pytest.raises(InvalidInput, match="built-in"):
        call(ctx, "delete", book="hero", confirmed=True)
    hero = next(b for b in call(ctx, "list") if b.book == "hero")
    assert hero.pages == len(list(BOOK.rglob("*.md")))


@pytest.mark.parametrize("name", ["My Notes", "UPPER", "", "-dash", "a" * 33, "../x"])
def test_book_names_are_validated(ctx, notes, name):
    with pytest.raises(InvalidInput, match="book name"):
        call(ctx, "add", path=str(notes), book=name)


def test_bad_inputs_are_reported(ctx, tmp_path, notes):
    with pytest.raises(NotFound, match="no such folder"):
        call(ctx, "add", path=str(tmp_path / "missing"), book="x")
    with pytest.raises(InvalidInput, match="not a folder"):
        call(ctx, "add", path=str(notes / "bread.md"), book="x")
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "a.txt").write_text("text, not markdown")
    with pytest.raises(InvalidInput, match="no Markdown pages"):
        call(ctx, "add", path=str(empty), book="x")

    (notes / "latin1.md").write_bytes("# Café\n\nCrème brûlée\n".encode("latin-1"))
    (notes / "blank.md").write_text("  \n\n")
    report = call(ctx, "add", path=str(notes), book="mixed")
    assert report.pages == 2 and report.added == 2
    skipped = {p.page: p.message for p in report.skipped}
    assert set(skipped) == {"latin1.md", "blank.md"}
    assert "UTF-8" in skipped["latin1.md"] and "empty" in skipped["blank.md"]

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "only.md").write_bytes(b"\xff\xfe\x00bad")
    rev = revision(ctx)
    with pytest.raises(InvalidInput, match="could be read"):
        call(ctx, "add", path=str(bad), book="bad")
    assert revision(ctx) == rev  # nothing was written
    assert "bad" not in {b.book for b in call(ctx, "list")}


def test_show_reports_ambiguous_pages(ctx, notes):
    call(ctx, "add", path=str(notes), book="kitchen")
    call(ctx, "add", path=str(notes), book="kitchen2")
    from herotui.errors import Ambiguous

    with pytest.raises(Ambiguous, match="kitchen/bread.md"):
        call(ctx, "show", page="bread")
    assert call(ctx, "show", page="bread", book="kitchen2").book == "kitchen2"


# ---------------------------------------------------------------------------------------
# Ask: answers cite real passages that contain the answer
# ---------------------------------------------------------------------------------------

QUESTIONS = [
    ("how do I switch context", "contexts.md", "Switching", ["hero context use"]),
    ("how do I import vcard", "services/contact.md", "Import", ["hero contact import", ".vcf"]),
    ("what does exit code 3 mean", "cli.md", "Exit codes", ["| 3 |", "not found"]),
    ("how do I make an event repeat every week", "services/calendar.md", "Recurring", ["--repeat", "weekly"]),
    ("how do I rebuild the search index", "troubleshooting.md", "rebuild the index", ["hero index rebuild"]),
    ("how can I see the traceback of an error", None, "traceback", ["HERO_DEBUG=1"]),
    ("which environment variables does hero read", "cli.md", "Environment variables", ["HERO_TZ", "HERO_HOME"]),
    ("context is busy", "troubleshooting.md", "busy", ["HERO_LOCK_TIMEOUT"]),
    ("how do I add my own notes to the knowledge base", "services/knowledge.md", "own book", ["hero knowledge add"]),
]


@pytest.mark.parametrize("question,page,heading,answer_words", QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_ask_cites_the_passage_that_holds_the_answer(ctx, question, page, heading, answer_words):
    answer = call(ctx, "ask", question=question)
    assert answer.question == question and 1 <= len(answer.passages) <= 3
    best = answer.passages[0]
    assert best.book == "hero"
    if page:
        assert best.page == page, [p.citation for p in answer.passages]
    assert heading.lower() in best.heading.lower(), [p.citation for p in answer.passages]
    for word in answer_words:
        assert word in best.text, (word, best.citation)
    section = best.heading.split(" › ", 1)[1]
    assert best.citation == f"[hero: {best.page} › {section}]"
    with ctx.read() as conn:  # the cited passage is a real passage of that page, word for word
        n = conn.execute("SELECT count(*) FROM knowledge_passages s JOIN knowledge_pages p ON p.id = s.page_id "
                         "WHERE p.book = ? AND p.path = ? AND s.heading = ? AND s.text = ?",
                         [best.book, best.page, best.heading, best.text]).fetchone()[0]
    assert n == 1
    assert best.text in (BOOK / best.page).read_text(encoding="utf-8")


def test_ask_words_and_variants():
    assert kn.content_words("How do I switch to the business context?") == ["switch", "business", "context"]
    assert kn.content_words("what does exit code 3 mean") == ["exit", "code", "3", "mean"]
    assert {"switching", "switches"} <= set(kn.variants("switch"))
    assert "store" in kn.variants("stored") and "note" in kn.variants("notes") and "not" not in kn.variants("notes")


def test_ask_with_nothing_to_find_and_bad_input(ctx):
    answer = call(ctx, "ask", question="zyxwvut qqqqq")
    assert answer.passages == [] and answer.answer is None
    with pytest.raises(InvalidInput):
        call(ctx, "ask", question="   ")
    with pytest.raises(InvalidInput):
        call(ctx, "ask", question="contexts", limit=0)


def test_the_answerer_seam_writes_an_answer_from_the_passages(ctx, monkeypatch):
    seen = {}

    def fake_model(c, question, passages):
        seen["passages"] = passages
        return f"Run {passages[0].citation}"

    monkeypatch.setattr(kn, "answerer", fake_model)
    answer = call(ctx, "ask", question="how do I switch context", limit=2)
    assert answer.method == "model" and answer.answer.startswith("Run [hero: contexts.md")
    assert len(seen["passages"]) == 2


# ---------------------------------------------------------------------------------------
# The CLI, as a real process
# ---------------------------------------------------------------------------------------


def test_cli_add_list_show_search_ask_delete(hero, notes):
    r = hero("knowledge", "add", str(notes), "--book", "kitchen", "--json")
    assert r.code == 0, r
    assert r.json()["pages"] == 2 and r.json()["passages"] == 4

    r = hero("knowledge", "list", "--json")
    assert r.code == 0, r
    assert {b["book"] for b in r.json()} == {"hero", "kitchen"}
    r = hero("knowledge", "list", "--book", "kitchen")
    assert r.code == 0 and "garden/tomatoes.md" in r.out, r

    r = hero("knowledge", "show", "kitchen/bread.md")
    assert r.code == 0 and r.out == (notes / "bread.md").read_text(), r

    r = hero("knowledge", "search", "rye")
    assert r.code == 0 and "[kitchen: bread.md › Starter]" in r.out, r

    r = hero("knowledge", "ask", "how do I switch context")
    assert r.code == 0, r
    assert r.out.startswith("[hero: contexts.md › Switching contexts]\n"), r
    assert "hero context use business" in r.out
    r = hero("knowledge", "ask", "how do I switch context", "--json", "--limit", "1")
    data = r.json()
    assert data["method"] == "passages" and data["answer"] is None and len(data["passages"]) == 1
    assert set(data["passages"][0]) >= {"book", "page", "heading", "text", "score", "citation"}

    r = hero("knowledge", "delete", "--book", "kitchen")
    assert r.code == 1 and "--yes" in r.err, r
    r = hero("knowledge", "delete", "--book", "kitchen", "--yes")
    assert r.code == 0, r
    r = hero("knowledge", "show", "kitchen/bread.md")
    assert r.code == 3 and r.err.startswith("error: "), r


def test_cli_errors_are_short(hero, notes, tmp_path):
    r = hero("knowledge", "add", str(notes), "--book", "hero")
    assert r.code == 1 and "built-in" in r.err and "Traceback" not in r.err, r
    r = hero("knowledge", "add", str(tmp_path / "nope"), "--book", "x")
    assert r.code == 3 and r.err.startswith("error: no such folder"), r  # a missing path: 3, as everywhere
    r = hero("knowledge", "delete", "--book", "hero", "--yes")
    assert r.code == 1 and "built-in" in r.err, r
    r = hero("knowledge", "add", str(notes))
    assert r.code == 2, r  # --book is required


# ---------------------------------------------------------------------------------------
# The generated reference
# ---------------------------------------------------------------------------------------


def _gen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_knowledge.py"), *args],
                          capture_output=True, text=True, timeout=120)


def test_reference_pages_are_up_to_date():
    proc = _gen("--check")
    assert proc.returncode == 0, proc.stderr


def test_the_staleness_check_fails_on_stale_pages(tmp_path):
    out = tmp_path / "reference"
    assert _gen("--out", str(out)).returncode == 0
    assert _gen("--check", "--out", str(out)).returncode == 0
    page = out / "contact.md"
    page.write_text(page.read_text().replace("Create a contact", "Make a contact"))
    (out / "gone.md").write_text("# a service that no longer exists\n")
    proc = _gen("--check", "--out", str(out))
    assert proc.returncode == 1 and "contact.md" in proc.stderr and "gone.md" in proc.stderr
    assert _gen("--out", str(out)).returncode == 0
    assert _gen("--check", "--out", str(out)).returncode == 0
    assert not (out / "gone.md").exists()


def test_reference_pages_describe_every_verb():
    text = (BOOK / "reference" / "contact.md").read_text(encoding="utf-8")
    assert text.startswith("<!-- generated by scripts/gen_knowledge.py — do not edit -->\n")
    for v in registry.service_verbs("contact"):
        assert f"## hero {v.cli_path}\n" in text and v.description in text
        for p in v.params:
            assert (p.name.upper() if p.meta.positional else f"`{p.flag}`") in text
        for e in v.examples:
            assert e in text
    assert "hero contact create --name NAME [--email EMAIL]..." in text
    delete = text.split("## hero contact delete", 1)[1].split("\n## ", 1)[0]
    assert "confirmation" in delete and "[--yes]" in delete
