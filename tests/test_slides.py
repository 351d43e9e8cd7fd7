"""Slides: parsing, the verbs (registry and CLI), the presenter (pipe fallback and tmux)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from herotui import registry
from herotui.errors import InvalidInput, NotFound
from herotui.frontends import present as presenter
from herotui.services import slides
from herotui.services.slides import parse

ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "contexts" / "demo" / "decks"

DECK = """\
---
title: Q4 Review
tags: [Alex, quarterly]
---

# Welcome

Opening words

---

## Numbers

| Region | Revenue |
|--------|--------:|
| North  |   1,200 |

---

## Code

```python
print("hello")
```
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def create(ctx, path: Path, **args):
    return registry.call("slides.create", {"path": str(path), **args}, ctx, actor="test")


def deck_rows(ctx) -> list[tuple]:
    with ctx.read() as conn:
        return conn.execute("SELECT id, title, kind, pages, tags FROM documents ORDER BY id").fetchall()


# --- parsing -------------------------------------------------------------------------------------


def test_parse_front_matter_title_tags_and_slides():
    d = parse(DECK)
    assert d.meta == {"title": "Q4 Review", "tags": ["Alex", "quarterly"]}
    assert d.title == "Q4 Review"
    assert d.tags == ["Alex", "quarterly"]
    assert [s.splitlines()[0] for s in d.slides] == ["# Welcome", "## Numbers", "## Code"]
    assert d.slides[2].endswith("```")  # slides are trimmed, the code block is whole
    assert not any(s.startswith("\n") or s.endswith("\n") for s in d.slides)


def test_separator_inside_fenced_code_is_code():
    text = "# One\n\n```yaml\nfirst: 1\n---\nsecond: 2\n```\n\n---\n\n# Two\n\n~~~~\n---\n~~~\n---\n~~~~\n"
    d = parse(text)
    assert len(d.slides) == 2
    assert "---\nsecond: 2" in d.slides[0]
    # a ~~~ line shorter than the ~~~~ fence does not close it: both '---' stay code
    assert d.slides[1] == "# Two\n\n~~~~\n---\n~~~\n---\n~~~~"


def test_leading_separator_that_is_not_front_matter_is_a_slide_and_empty_slides_are_dropped():
    d = parse("---\n# Intro\nhello\n---\n\n---\n# Two\n---\n")
    assert d.meta == {}
    assert d.slides == ["# Intro\nhello", "# Two"]
    assert d.title == "Intro"  # no front matter: the first heading


def test_front_matter_tags_as_string_and_crlf_and_bom():
    d = parse("\ufeff---\r\ntitle: 'Plan: 2027'\r\ntags: roadmap, quarterly report\r\n---\r\n# A\r\n---\r\n# B\r\n")
    assert d.title == "Plan: 2027"
    assert d.tags == ["roadmap", "quarterly-report"]
    assert d.slides == ["# A", "# B"]


def test_invalid_front_matter_is_an_error_not_a_slide():
    with pytest.raises(InvalidInput, match="front matter is not valid YAML"):
        parse("---\ntitle: [unclosed\ntags: a\n---\n# Slide\n")


def test_slide_titles():
    assert slides.slide_title("intro\n\n## The **plan** ##") == "The plan"
    assert slides.slide_title("```\n# not a heading\n```\n- [Point one](http://x) here") == "Point one here"
    assert slides.slide_title("   \n") == ""


# --- create, list, show ----------------------------------------------------------------------------


def test_create_stores_blob_row_and_index(ctx, tmp_path):
    from herotui.store import blobs, index

    path = write(tmp_path, "review.md", DECK)
    d = create(ctx, path, tags=["Finance", "alex"])
    assert (d.title, d.slides, d.filename, d.duplicate) == ("Q4 Review", 3, "review.md", False)
    assert d.tags == ["alex", "quarterly", "finance"]  # front matter, then --tag; lowercase, no duplicates
    assert blobs.read(ctx, d.sha256) == path.read_bytes()
    with ctx.read() as conn:
        row = conn.execute("SELECT kind, mime, pages, size, text, source FROM documents WHERE id = ?", [d.id]).fetchone()
    assert row == ("deck", "text/markdown", 3, len(DECK.encode()), DECK, str(path.resolve()))
    hits = index.search(ctx, "welcome", kinds=["deck"])
    assert [h.id for h in hits] == [d.id]


def test_title_falls_back_to_heading_then_file_stem_and_title_option_wins(ctx, tmp_path):
    assert create(ctx, write(tmp_path, "a.md", "intro text\n---\n## Real title\n")).title == "Real title"
    assert create(ctx, write(tmp_path, "board-update.md", "just text\n---\nmore text\n")).title == "board-update"
    assert create(ctx, write(tmp_path, "c.md", DECK.replace("Q4", "Q3")), title="  Custom  ").title == "Custom"


def test_duplicate_content_is_reported_not_added(ctx, tmp_path):
    first = create(ctx, write(tmp_path, "one.md", DECK))
    with ctx.read() as conn:
        rev = conn.execute("SELECT revision FROM state").fetchone()[0]
    again = create(ctx, write(tmp_path, "copy.md", DECK), tags=["other"])
    assert again.duplicate is True and again.id == first.id
    assert len(deck_rows(ctx)) == 1
    with ctx.read() as conn:
        assert conn.execute("SELECT revision FROM state").fetchone()[0] == rev  # nothing written


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.md", None, "cannot read"),
        ("empty.md", "", "has no slides"),
        ("blank.md", "\n---\n   \n---\n", "has no slides"),
        ("only-meta.md", "---\ntitle: X\ntags: [a]\n---\n", "has no slides"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        ("latin1.md", "# Caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_input_is_a_clear_error_and_stores_nothing(ctx, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        write(tmp_path, name, content)
    with pytest.raises(NotFound if content is None else InvalidInput, match=message):  # a missing file: NotFound (exit 3)
        create(ctx, path)
    assert deck_rows(ctx) == []
    assert not any(p.is_file() for p in ctx.blobs_path.rglob("*"))


def test_a_folder_is_not_a_deck(ctx, tmp_path):
    with pytest.raises(InvalidInput, match="is a folder"):
        create(ctx, tmp_path)


def test_list_filters_by_tag_and_ignores_other_documents(ctx, tmp_path):
    a = create(ctx, write(tmp_path, "a.md", DECK))
    b = create(ctx, write(tmp_path, "b.md", "# Roadmap\n---\n# Later\n"), tags=["roadmap"])
    with ctx.write() as tx:  # a document of another kind, as the document service stores it
        tx.execute("INSERT INTO documents (id, sha256, title, kind, filename, size, text, created, updated, revision)"
                   " VALUES ('01NOTADECK000000000000000', 'x', 'Notes', 'markdown', 'n.md', 1, 'n', now(), now(), ?)",
                   [tx.revision])
    assert [d.title for d in registry.call("slides.list", {}, ctx)] == ["Q4 Review", "Roadmap"]
    assert [d.id for d in registry.call("slides.list", {"tag": "Roadmap"}, ctx)] == [b.id]
    assert [d.id for d in registry.call("slides.list", {"tag": "alex"}, ctx)] == [a.id]
    with pytest.raises(NotFound, match="not a deck"):
        registry.call("slides.show", {"id": "01NOTADECK"}, ctx)


def test_show_all_one_and_out_of_range(ctx, tmp_path):
    d = create(ctx, write(tmp_path, "a.md", DECK))
    every = registry.call("slides.show", {"id": d.id[:8].lower()}, ctx)
    assert every.total == 3 and [s.index for s in every.slides] == [1, 2, 3]
    assert [s.title for s in every.slides] == ["Welcome", "Numbers", "Code"]
    assert every.markdown == "\n\n---\n\n".join(parse(DECK).slides) + "\n"
    assert parse(every.markdown).slides == parse(DECK).slides  # the output is itself a deck
    one = registry.call("slides.show", {"id": d.id, "slide": 2}, ctx)
    assert one.total == 3 and [s.index for s in one.slides] == [2]
    assert one.markdown.startswith("## Numbers\n") and "| North  |   1,200 |" in one.markdown
    for bad in (0, 4):
        with pytest.raises(InvalidInput, match="deck has 3 slides"):
            registry.call("slides.show", {"id": d.id, "slide": bad}, ctx)
    with pytest.raises(NotFound):
        registry.call("slides.show", {"id": "0000000"}, ctx)


def test_delete_removes_row_blob_and_index_entry(ctx, tmp_path):
    from herotui.store import blobs

    d = create(ctx, write(tmp_path, "a.md", DECK))
    gone = registry.call("slides.delete", {"id": d.id}, ctx, confirmed=True)
    assert gone.id == d.id
    assert deck_rows(ctx) == []
    assert not blobs.path_for(ctx, d.sha256).exists()
    with pytest.raises(NotFound):
        registry.call("slides.present", {"best": "welcome"}, ctx)


# --- present (the verb) -------------------------------------------------------------------------


@pytest.fixture
def three_decks(ctx, tmp_path):
    """Three decks; only the first is about Alex, and only through its tags."""
    q = create(ctx, write(tmp_path, "q.md", "---\ntitle: Quarterly review\n---\n# Revenue\n---\n# Costs\n"), tags=["alex", "finance"])
    r = create(ctx, write(tmp_path, "r.md", "# Product roadmap 2027\n---\n# Themes\n---\n# Next steps\n"), tags=["roadmap"])
    h = create(ctx, write(tmp_path, "h.md", "# Hiring plan\n---\n# Open roles in finance\n"))
    return q, r, h


def test_present_best_picks_the_matching_deck(ctx, three_decks):
    q, r, h = three_decks
    for words, expected in (("alex", q), ("Alex", q), ("roadmap", r), ("hiring", h), ("roadmpa", r)):
        p = registry.call("slides.present", {"best": words}, ctx)
        assert p.deck_id == expected.id, words
    p = registry.call("slides.present", {"best": "alex"}, ctx)
    assert (p.title, p.total, p.start) == ("Quarterly review", 2, 1)
    assert [s.title for s in p.slides] == ["Revenue", "Costs"]
    with pytest.raises(NotFound, match="no deck matches"):
        registry.call("slides.present", {"best": "zanzibar"}, ctx)


def test_present_best_finds_a_deck_linked_to_a_matching_contact(ctx, three_decks):
    q, r, h = three_decks
    lena = registry.call("contact.create", {"name": "Lena Fischer", "company": "Lumen Labs"}, ctx)
    with pytest.raises(NotFound):
        registry.call("slides.present", {"best": "fischer"}, ctx)
    with ctx.write() as tx:  # linking is the document service's job; here the row is linked directly
        tx.execute("UPDATE documents SET contacts = [?], revision = ? WHERE id = ?", [lena.id, tx.revision, h.id])
    assert registry.call("slides.present", {"best": "fischer"}, ctx).deck_id == h.id


def test_present_by_id_with_start_slide_and_bad_arguments(ctx, three_decks):
    q, r, h = three_decks
    p = registry.call("slides.present", {"id": r.id[:10], "slide": 3}, ctx)
    assert (p.deck_id, p.start, p.total) == (r.id, 3, 3)
    with pytest.raises(InvalidInput, match="deck has 3 slides"):
        registry.call("slides.present", {"id": r.id, "slide": 4}, ctx)
    with pytest.raises(InvalidInput, match="one of them"):
        registry.call("slides.present", {}, ctx)
    with pytest.raises(InvalidInput, match="one of them"):
        registry.call("slides.present", {"id": r.id, "best": "alex"}, ctx)


def test_presenter_without_a_terminal_prints_every_slide(ctx, tmp_path, capsys):
    d = create(ctx, write(tmp_path, "a.md", DECK))
    presenter.run(registry.call("slides.present", {"id": d.id}, ctx))
    out = capsys.readouterr().out
    for i, title in enumerate(["Welcome", "Numbers", "Code"], 1):
        assert f"slide {i} of 3 · {title}" in out
    assert out.index("Welcome") < out.index("Numbers") < out.index("Code")
    assert "print(\"hello\")" in out and "1,200" in out and "# Welcome" not in out  # rendered, not raw


# --- keys and navigation (pure) -------------------------------------------------------------------


def test_decode_keys():
    assert presenter.decode(b"\x1b[C\x1b[D\x1bOA\x1b[B") == ["right", "left", "up", "down"]
    assert presenter.decode(b"\x1b[H\x1b[4~\x1b[5~\x1b[6~") == ["home", "end", "pageup", "pagedown"]
    assert presenter.decode(b" \r\x7fq\x1b\x03") == ["space", "enter", "backspace", "q", "escape", "ctrl-c"]
    assert presenter.decode(b"\x1b[1;5Cj") == ["j"]  # an unknown sequence is skipped whole


def test_navigator():
    nav = presenter.Navigator(total=4)
    for key, expected in (("right", 1), ("space", 2), ("l", 3), ("right", 3), ("left", 2), ("h", 1),
                          ("backspace", 0), ("left", 0), ("end", 3), ("home", 0), ("enter", 1), ("k", 0)):
        nav.press(key)
        assert nav.index == expected, key
    nav.press("3")
    nav.press("enter")
    assert nav.index == 2
    nav.height, nav.lines = 10, 25  # a slide taller than the screen: j scrolls before moving on
    nav.press("j")
    assert (nav.index, nav.offset) == (2, 5)
    nav.press("j"), nav.press("j"), nav.press("j")
    assert (nav.index, nav.offset) == (3, 0)
    assert not nav.done
    nav.press("q")
    assert nav.done


# --- the CLI (a real process) --------------------------------------------------------------------


def test_cli_create_list_show_present(hero, tmp_path):
    path = write(tmp_path, "review.md", DECK)
    r = hero("slides", "create", str(path), "--tag", "finance", "--json")
    assert r.code == 0, r
    created = r.json()
    assert created["slides"] == 3 and created["duplicate"] is False and created["tags"] == ["alex", "quarterly", "finance"]
    r = hero("slides", "create", str(path))
    assert r.code == 0 and "already stored" in r.out and created["id"] in r.out, r
    r = hero("slides", "list")
    assert r.code == 0 and r.out.splitlines() == [f"{created['id']}\tQ4 Review\t3\talex, quarterly, finance\treview.md"], r
    r = hero("slides", "show", created["id"][:8], "--slide", "3")
    assert r.code == 0 and r.out == '## Code\n\n```python\nprint("hello")\n```\n', r
    r = hero("slides", "present", "--best", "quarterly")
    assert r.code == 0, r
    assert "slide 1 of 3 · Welcome" in r.out and "slide 3 of 3 · Code" in r.out


def test_cli_errors(hero, tmp_path):
    r = hero("slides", "create", str(tmp_path / "nope.md"))
    assert r.code == 3 and r.err.startswith("error: cannot read") and "Traceback" not in r.err, r
    r = hero("slides", "create", str(write(tmp_path, "x.bin", b"\x00\x01\x02")))
    assert r.code == 1 and "binary file" in r.err, r
    r = hero("slides", "create", str(write(tmp_path, "a.md", DECK)), "--json")
    deck_id = r.json()["id"]
    r = hero("slides", "show", deck_id, "--slide", "9")
    assert r.code == 1 and "deck has 3 slides" in r.err, r
    r = hero("slides", "present", "--best", "zanzibar")
    assert r.code == 3 and "no deck matches" in r.err, r


def test_demo_decks_parse_and_manifest_matches():
    import tomllib

    manifest = tomllib.loads((DECKS / "manifest.toml").read_text())
    files = {d["file"]: d for d in manifest["deck"]}
    assert set(files) == {p.name for p in DECKS.glob("*.md")}
    review = parse((DECKS / "northwind-quarterly-review.md").read_text())
    assert 6 <= len(review.slides) <= 8
    assert {"alex", "quarterly", "finance"} <= set(review.tags)
    assert any("|---" in s or "|--" in s for s in review.slides)  # a table
    assert not any("```" in s for s in review.slides)
    assert files["northwind-quarterly-review.md"]["contacts"] == ["alex.smith@northwind.example"]
    for d in manifest["deck"]:
        assert d["context"] in ("business", "personal")
        ics = (DECKS.parent / f"{d['context']}.ics").read_text()
        vcf = (DECKS.parent / f"{d['context']}.vcf").read_text().lower()
        assert all(f"UID:{uid}" in ics for uid in d.get("events", []))
        assert all(email.lower() in vcf for email in d.get("contacts", []))
    for name in files:
        assert parse((DECKS / name).read_text()).title


# --- the real terminal (tmux) --------------------------------------------------------------------

HERO = str(Path(sys.executable).parent / "hero")  # the installed console script (as conftest.hero_exe)


def present_argv(deck_id: str) -> list[str]:
    """The command under test: the real CLI, which hands a presentation to the presenter."""
    return [HERO, "slides", "present", deck_id]


class Tmux:
    """A private tmux server (its own socket) running one command in a detached session."""

    def __init__(self, command: str, width: int = 100, height: int = 30):
        self.socket = f"hero-test-{uuid.uuid4().hex[:10]}"
        self.run("new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height), command)

    def run(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20)
        if proc.returncode:
            raise AssertionError(f"tmux {' '.join(args[:1])} failed: {proc.stderr.strip()}")
        return proc.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "main", *keys)

    def wait_for(self, predicate, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched:\n{text}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20)


@pytest.fixture
def tmux_present(ctx, tmp_path, hero_home):
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed")
    d = create(ctx, write(tmp_path, "review.md", DECK))
    inner = shlex.join(["env", f"HERO_HOME={hero_home}", *present_argv(d.id)])
    # the shell records the tty settings before and after, so a broken restore shows
    script = (f'trap "true" INT; before=$(stty -g); {inner}; code=$?; '
              f'if [ "$(stty -g)" = "$before" ]; then echo TTY-RESTORED; else echo TTY-BROKEN; fi; '
              f'echo "EXIT=$code"; sleep 120')
    t = Tmux(shlex.join(["sh", "-c", script]))
    yield t
    t.close()


def footer(screen: str) -> str:
    lines = [ln for ln in screen.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def test_tmux_present_navigates_redraws_and_restores_the_terminal(tmux_present):
    t = tmux_present
    screen = t.wait_for(lambda s: "slide 1 of 3" in s)
    assert "Welcome" in screen and "Opening words" in screen and "# Welcome" not in screen
    assert "slide 1 of 3 · ←/→ space q" in footer(screen)
    t.keys("Right")
    screen = t.wait_for(lambda s: "slide 2 of 3" in s)
    assert "Numbers" in screen and "1,200" in screen and "Opening words" not in screen
    t.keys("Space")
    t.wait_for(lambda s: "slide 3 of 3" in s and 'print("hello")' in s)
    t.keys("Left")
    t.wait_for(lambda s: "slide 2 of 3" in s)
    t.keys("Home")
    t.wait_for(lambda s: "slide 1 of 3" in s)
    t.keys("End")
    t.wait_for(lambda s: "slide 3 of 3" in s)
    t.run("resize-window", "-t", "main", "-x", "60", "-y", "20")  # the footer is right-aligned: only a redraw keeps it
    screen = t.wait_for(lambda s: "slide 3 of 3 · ←/→ space q" in footer(s))
    assert max(len(ln) for ln in screen.splitlines()) <= 60
    t.keys("q")
    screen = t.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=0" in screen and "TTY-RESTORED" in screen
    assert "slide 3 of 3" not in screen  # back on the main screen


def test_tmux_ctrl_c_quits_and_restores_the_terminal(tmux_present):
    t = tmux_present
    t.wait_for(lambda s: "slide 1 of 3" in s)
    t.keys("C-c")
    screen = t.wait_for(lambda s: "EXIT=" in s)
    assert "TTY-RESTORED" in screen and "Traceback" not in screen
    assert "EXIT=0" in screen
