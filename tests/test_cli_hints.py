"""Every ``hero ...`` command named in Hero's own texts (hints, messages, help) exists.

The test reads every string in ``herotui/`` (with ``ast``: string constants, and f-strings
with their fields as a placeholder), finds each mention of ``hero <group> <command>``, and
checks it against the real CLI: the group exists, the command exists in the group, and
every ``--option`` the mention names is an option of that command. So a hint such as
``'hero event list'`` (there is no ``event`` group: it is ``hero calendar list``) fails here
instead of sending a person to a command that does not exist.

Prose that merely contains the word ("the hero command it runs") is not a mention: a word
after ``hero`` that is not a command counts only when the mention is quoted ('hero x',
`hero x`, "hero x"), which is how Hero's texts name commands.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOBAL_WITH_VALUE = {"--context", "-c"}
GLOBAL_FLAGS = {"--json", "--help", "-h", "--version", "--yes", "-y"}
END = re.compile(r"['`\"·;\n)#|]")  # where a mention ends inside a text
MENTION = re.compile(r"(?:^|(?<=[\s'\"`(]))hero\s+")


def strings(tree: ast.AST):
    """(line, text) of every string: constants, and f-strings with 'X' for each field."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)


def mentions() -> list[tuple[str, bool, list[str]]]:
    """(where, quoted, words after 'hero') for every mention in herotui/."""
    found = []
    for path in sorted((ROOT / "herotui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, text in strings(tree):
            for m in MENTION.finditer(text):
                quoted = m.start() > 0 and text[m.start() - 1] in "'`\""
                words = END.split(text[m.end():], 1)[0].split()
                found.append((f"{path.relative_to(ROOT)}:{line}: {text[m.start():m.end() + 60]!r}", quoted, words))
    return found


@cache
def top_level():
    """The CLI's top-level commands and groups, each loaded (as when named on the command line)."""
    import typer

    from herotui.frontends import cli
    from herotui.services import SERVICES

    names = list(SERVICES) + list(cli.FRONTEND_GROUPS)
    tree = {}
    for name in names:
        root = typer.main.get_command(cli.build_app([name]))
        tree[name] = root.commands[name]
    return tree


def options_of(command) -> set[str]:
    out = set()
    for p in command.params:
        for opt in list(getattr(p, "opts", [])) + list(getattr(p, "secondary_opts", [])):
            out.update(opt.split("/"))
    return out


def check(words: list[str], quoted: bool) -> str | None:
    """Why this mention does not name a real command (None when it does or is no mention)."""
    words = [w.rstrip(".,:") if not w.endswith(":") else w for w in words]
    i = 0
    while i < len(words) and (words[i] in GLOBAL_WITH_VALUE or words[i] in GLOBAL_FLAGS or words[i].startswith("--context=")):
        i += 2 if words[i] in GLOBAL_WITH_VALUE else 1
    if i >= len(words):
        return None
    first = words[i]
    if first.endswith(":") or not re.fullmatch(r"[a-z][a-z-]*", first):
        return None  # a label ("hero mcp: serving on ..."), a placeholder (<service>, X) or an option
    tree = top_level()
    if first not in tree:
        return f"no command 'hero {first}'" if quoted else None
    command = tree[first]
    rest = words[i + 1:]
    sub = getattr(command, "commands", None)
    if sub is not None and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
        if rest[0] not in sub:
            return f"no command 'hero {first} {rest[0]}' (the commands of 'hero {first}': {', '.join(sorted(sub))})"
        command = sub[rest[0]]
        rest = rest[1:]
    known = options_of(command) | GLOBAL_FLAGS | GLOBAL_WITH_VALUE
    for w in rest:
        for opt in w.split("/"):
            opt = opt.split("=", 1)[0].strip("[]")
            if re.fullmatch(r"--[a-z][a-z-]*", opt) and opt not in known:
                return f"'hero {first}{' ' + words[i + 1] if sub is not None else ''}' has no option {opt}"
    return None


def test_the_scan_finds_the_mentions_it_should():
    """The extraction itself: real mentions are found, prose is not a mention, a bad one fails."""
    found = mentions()
    assert len(found) > 100
    joined = [" ".join(w) for _, _, w in found]
    assert any(j.startswith("document list") for j in joined) and any(j.startswith("slides present") for j in joined)
    assert check(["event", "list"], quoted=True) == "no command 'hero event'"
    assert check(["command", "it", "runs"], quoted=False) is None  # "the hero command it runs": prose
    assert "no command 'hero calendar lst'" in check(["calendar", "lst"], quoted=True)
    assert check(["calendar", "list", "--frm", "monday"], quoted=True) == "'hero calendar list' has no option --frm"
    assert check(["--context", "business", "calendar", "today"], quoted=True) is None
    assert check(["search", "budget", "--all-contexts"], quoted=True) is None  # a command, not a group
    assert check(["mcp:", "serving", "on"], quoted=False) is None


def test_every_command_named_in_a_hint_or_message_exists():
    bad = [f"{where}\n    {why}" for where, quoted, words in mentions() if (why := check(words, quoted))]
    assert not bad, "commands named in texts that the CLI does not have:\n" + "\n".join(bad)


def test_hints_made_at_run_time_name_real_commands(ctx):
    """Hints built from data ('hero {kind} list' made 'hero event list'): every verb that takes
    an id, called with an id that does not exist and with one that is not an id."""
    from herotui import registry
    from herotui.errors import HeroError

    registry.load()
    texts = []
    for v in registry.verbs().values():
        if not any(p.name == "id" for p in v.params):
            continue
        for bad in ("0000", "x y"):
            try:
                registry.call(v.name, {"id": bad}, ctx, actor="test", confirmed=True)
            except HeroError as exc:
                texts.append((v.name, f"{exc.message} {exc.hint or ''}"))
    assert len(texts) > 20
    assert any("'hero calendar list'" in t for _, t in texts) and any("'hero slides list'" in t for _, t in texts)
    bad = []
    for verb, text in texts:
        for m in MENTION.finditer(text):
            quoted = m.start() > 0 and text[m.start() - 1] in "'`\""
            why = check(END.split(text[m.end():], 1)[0].split(), quoted)
            if why:
                bad.append(f"{verb}: {text!r}: {why}")
    assert not bad, "\n".join(bad)
