"""Scoring the planner on the development set (``tests/data/understanding-dev.tsv``).

Plain functions, shared by ``tests/test_understanding.py`` and ``benchmarks/bench_planner.py``
(no test module imports another; this one imports no test module either). The columns and
the rules are described in ``tests/data/understanding-README.md``; in short, a row is right
when:

* ``none`` is yes: the plan has no steps (nothing else counts);
* the plan has no steps and ``NONE`` is one of the acceptable verbs: right (``must`` does not
  apply); no steps otherwise: wrong;
* every step's verb is one of the acceptable verbs (``a/b``: either; ``a&b``: the plan holds
  both); the short names ``search``, ``history`` and ``status`` stand for ``search.query``,
  ``history.list`` and ``status.show``;
* every ``must`` group (``|``) has an alternative (``~``) that occurs, case-insensitively, in
  the plan's CLI lines joined; ``@id:KIND:TITLE`` is the id of that demo record in the row's
  context (a reference that finds nothing never matches and is reported as a data problem);
* the plan asks for confirmation when the row is destructive, and whenever a step is;
* run confirmed in a fresh copy of the demo home, every step is "ok", and a read-only plan
  (no step's verb mutates) leaves the data as it was.

Everything runs under the reference clock, Sunday 2026-12-06 12:00 Europe/Brussels
(:func:`frozen_clock`): the demo data sits in the current week and relative dates count from
now. The plans run with ``HOME`` (and the working folder) pointing at a sandbox folder holding
the files the request names (``~/Downloads/contacts.vcf`` and the like, see
:func:`sandbox_home`), so an import finds its file and an export never writes into the real
home folder or the repository.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from support import restore_env, snapshot  # noqa: F401  (snapshot: used by the tests through this module)

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT / "tests" / "data" / "understanding-dev.tsv"
TZ = "Europe/Brussels"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo(TZ))
COLUMNS = ("id", "service", "tags", "ctx", "utterance", "verbs", "must", "destructive", "none")
NONE = "NONE"
SHORT_VERBS = {"search": "search.query", "history": "history.list", "status": "status.show"}
ID_REF = re.compile(r"^@id:(contact|calendar|document|slides):(.+)$", re.S)
HOME_PATH = re.compile(r"~/[^\s'\",;]+")


# ---------------------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: str
    service: str
    tags: tuple[str, ...]
    ctx: str
    utterance: str
    verbs: str
    must: str
    destructive: bool
    none: bool
    line: int = 0


@dataclass
class Outcome:
    """How the planner did on one row."""

    id: str
    tags: tuple[str, ...]
    right: bool
    why: str  # "" when right; else every reason, "; "-separated
    cli: list[str]
    ms: float  # wall time of make_plan (the median when planned several times)
    service: str = ""
    utterance: str = ""
    reply: str = ""


def _yes(value: str) -> bool:
    return value.strip().lower() in ("yes", "y", "true", "1")


def load_rows(path: Path = DEV_SET) -> list[Row]:
    """The rows of the set (``#`` lines and blank lines skipped); a malformed line raises."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) > len(COLUMNS) or len(cells) < 6:
            raise ValueError(f"{path.name}:{n}: {len(cells)} columns, expected {len(COLUMNS)}")
        cells += [""] * (len(COLUMNS) - len(cells))
        c = dict(zip(COLUMNS, (x.strip() for x in cells)))
        rows.append(Row(id=c["id"], service=c["service"], tags=tuple(t for t in c["tags"].split(",") if t.strip()),
                        ctx=c["ctx"], utterance=c["utterance"], verbs=c["verbs"], must=c["must"],
                        destructive=_yes(c["destructive"]), none=_yes(c["none"]), line=n))
    return rows


def full_verb(name: str) -> str:
    name = name.strip()
    return SHORT_VERBS.get(name, name)


def parse_verbs(spec: str) -> list[frozenset[str]]:
    """``a/b&c`` -> [{a}, {b, c}]: the plan must hold every verb of one option; the empty set is NONE."""
    options = []
    for option in spec.split("/"):
        names = frozenset(full_verb(v) for v in option.split("&") if v.strip())
        options.append(frozenset() if names == {NONE} else names - {NONE})
    return options


def parse_must(spec: str) -> list[list[str]]:
    """``a~b|c`` -> [[a, b], [c]] (empty groups dropped)."""
    groups = []
    for group in spec.split("|"):
        alts = [a.strip() for a in group.split("~") if a.strip()]
        if alts:
            groups.append(alts)
    return groups


# ---------------------------------------------------------------------------------------
# Clock, homes, data
# ---------------------------------------------------------------------------------------


def frozen_clock(tick: bool = False):
    """time-machine at the reference time (a context manager; perf_counter is not affected)."""
    import time_machine

    return time_machine.travel(NOW, tick=tick)


_ENV_KEYS = ("HERO_HOME", "HERO_TZ", "HERO_CONTEXT", "PAGER", "HERO_OPENER", "HOME")


@contextlib.contextmanager
def hero_home(home: Path, active: str | None = None, user_home: Path | None = None) -> Iterator[None]:
    """HERO_HOME=``home`` (and HOME=``user_home`` when given) for the block; the environment restored after.

    ``active`` becomes the saved context choice. Documents open in a pager that reads and
    prints nothing, other files with ``true``: nothing pops up, nothing floods the output.
    """
    from herotui import contexts

    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    os.environ.update(HERO_HOME=str(home), HERO_TZ=TZ, PAGER="sh -c 'cat >/dev/null'", HERO_OPENER="true")
    os.environ.pop("HERO_CONTEXT", None)
    if user_home is not None:
        os.environ["HOME"] = str(user_home)
    _forget_live_data()
    try:
        if active:
            contexts.save_choice(active)
        yield
    finally:
        restore_env(saved)
        _forget_live_data()


def _forget_live_data() -> None:
    """Drop the planner's cache of names read from the stores (as support.use_home does), if it has one."""
    try:
        from herotui.planner import intents
    except ImportError:
        return
    live = getattr(intents, "_LIVE", None)
    if isinstance(live, dict):
        live.clear()


def resolve_id(ctx, kind: str, title: str) -> list[str]:
    """The ids of the ``kind`` records titled ``title`` in ``ctx`` (exact title; none: [])."""
    queries = {
        "contact": "SELECT id FROM contacts WHERE name = ?",
        "calendar": "SELECT id FROM events WHERE title = ? AND recurrence_id IS NULL",
        "document": "SELECT id FROM documents WHERE kind <> 'deck' AND title = ?",
        "slides": "SELECT id FROM documents WHERE kind = 'deck' AND title = ?",
    }
    with ctx.read() as conn:
        return [str(r[0]) for r in conn.execute(queries[kind], [title]).fetchall()]


def _pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (valid xref offsets, Helvetica)."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _sample_file(path: Path) -> None:
    stem = path.stem.replace("-", " ").replace("_", " ")
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".vcf":
        path.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Noor Visser\r\nN:Visser;Noor;;;\r\n"
                        "EMAIL:noor.visser@example.com\r\nTEL:+31 6 1234 5678\r\nEND:VCARD\r\n")
    elif suffix == ".ics":
        path.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//devset//EN\r\nBEGIN:VEVENT\r\n"
                        "UID:devset-1@example.com\r\nDTSTAMP:20261206T110000Z\r\nDTSTART:20261210T090000Z\r\n"
                        "DTEND:20261210T100000Z\r\nSUMMARY:Sample event\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    elif suffix == ".pdf":
        path.write_bytes(_pdf(f"{stem.title()}: sample file for the development set"))
    elif suffix in (".md", ".markdown"):  # a document, or a deck: slides split on '---'
        path.write_text(f"# {stem.title()}\n\nA sample file for the development set.\n\n---\n\n"
                        f"## Agenda\n\n- goals\n- next steps\n")
    else:
        path.write_text(f"{stem.title()}\n\nA sample file for the development set.\n")


def sandbox_home(folder: Path, utterance: str) -> Path:
    """A stand-in for the user's home folder holding every ``~/...`` path the request names.

    A name with a suffix becomes a small file of that kind (vCard, PDF, Markdown, text); one
    without becomes a folder with two small files in it (for "add all the files in ~/x", or
    an export target).
    """
    folder.mkdir(parents=True, exist_ok=True)
    for raw in HOME_PATH.findall(utterance):
        rel = raw[2:].rstrip(".!?:)")
        if not rel:
            continue
        target = folder / rel
        if target.suffix:
            _sample_file(target)
        else:
            target.mkdir(parents=True, exist_ok=True)
            _sample_file(target / "sample-notes.md")
            _sample_file(target / "sample-terms.txt")
    return folder


def data_problems(rows: list[Row]) -> list[str]:
    """With HERO_HOME at a demo home: ``@id`` references that find no record (or several), unknown verbs."""
    from herotui import contexts, registry
    from herotui.errors import HeroError

    out = []
    seen_ids = {}
    for row in rows:
        if row.id in seen_ids:
            out.append(f"{row.id}: duplicate id (lines {seen_ids[row.id]} and {row.line})")
        seen_ids[row.id] = row.line
        if row.ctx not in contexts.names():
            out.append(f"{row.id}: unknown context {row.ctx!r}")
            continue
        for option in parse_verbs(row.verbs):
            for verb in option:
                try:
                    registry.get(verb)
                except HeroError:
                    out.append(f"{row.id}: unknown verb {verb!r}")
        ctx = contexts.load(row.ctx)
        for group in parse_must(row.must):
            for alt in group:
                m = ID_REF.match(alt)
                if m:
                    ids = resolve_id(ctx, m.group(1), m.group(2))
                    if len(ids) != 1:
                        out.append(f"{row.id}: {alt} matches {len(ids)} records in {row.ctx}")
    return out


# ---------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------


def _is(verb: str, flag: str) -> bool:
    from herotui import registry
    from herotui.errors import HeroError

    try:
        return bool(getattr(registry.get(verb), flag))
    except HeroError:
        return False


def check_plan(row: Row, plan, ctx) -> list[str]:
    """Why ``plan`` is wrong for ``row`` without running it (empty: right so far).

    ``ctx`` is the row's context (``@id`` references are looked up there).
    """
    steps = list(plan.steps)
    verbs = [s.verb for s in steps]
    if row.none:
        return [f"should plan nothing, planned {', '.join(verbs)}"] if steps else []
    options = parse_verbs(row.verbs)
    if not steps:
        if frozenset() in options:
            return []
        reply = " ".join((plan.reply or "").split())[:100]
        return [f"no steps ({plan.source}: {reply!r})" if reply else f"no steps ({plan.source})"]
    why = []
    allowed = frozenset().union(*options)
    stray = [v for v in verbs if v not in allowed]
    if stray:
        why.append(f"verb {', '.join(stray)} not in {row.verbs}")
    elif not any(option and option <= set(verbs) for option in options):
        why.append(f"verbs {' & '.join(verbs)} do not hold one of {row.verbs}")
    text = "\n".join(s.cli for s in steps).lower()
    for group in parse_must(row.must):
        wanted = []
        for alt in group:
            m = ID_REF.match(alt)
            wanted += resolve_id(ctx, m.group(1), m.group(2)) if m else [alt]
        if not any(w.lower() in text for w in wanted):
            why.append(f"missing {'~'.join(group)}")
    destructive = [s.verb for s in steps if s.destructive or _is(s.verb, "destructive")]
    if row.destructive and not plan.needs_confirmation:
        why.append("destructive, but no confirmation asked")
    elif destructive and not plan.needs_confirmation:
        why.append(f"{', '.join(destructive)} is destructive, but no confirmation asked")
    return why


def check_effect(row: Row, plan, template: Path, folder: Path) -> list[str]:
    """Run ``plan`` confirmed in a fresh copy of ``template`` (under ``folder``): why it went wrong."""
    from herotui.planner import execute

    home = folder / "home"
    shutil.copytree(template, home)
    user = sandbox_home(folder / "user", row.utterance)
    with hero_home(home, row.ctx, user), contextlib.chdir(user):  # an export to '.' lands in the sandbox
        read_only = not any(_is(s.verb, "mutates") for s in plan.steps)
        before = snapshot() if read_only else None
        try:
            results = execute.run(plan, confirmed=True, actor="test")
        except Exception as exc:  # noqa: BLE001  (a crash is a wrong row, not a broken scorer)
            return [f"run crashed: {type(exc).__name__}: {exc}"]
        why = []
        for r in results:
            if r.status != "ok":
                detail = f": {r.error}" if r.error else ""
                why.append(f"step {r.index} {r.verb} {r.status}{detail}")
        if len(results) < len(plan.steps):
            why.append(f"ran {len(results)} of {len(plan.steps)} steps")
        if read_only and not why and snapshot() != before:
            why.append("a read-only plan changed the data")
    return why


def make_plan(row: Row, rounds: int = 1) -> tuple[Any, float]:
    """With HERO_HOME at a demo home: the plan for ``row`` in its context, and make_plan's ms (median)."""
    from herotui import contexts
    from herotui.planner import execute

    contexts.save_choice(row.ctx)
    ctx = contexts.load(row.ctx)
    samples, plan = [], None
    for _ in range(max(1, rounds)):
        t = time.perf_counter()
        plan = execute.make_plan(ctx, row.utterance, use_model=False)
        samples.append((time.perf_counter() - t) * 1000)
    return plan, statistics.median(samples)


def score_plan(row: Row, plan, template: Path, folder: Path, *, home: Path | None = None, effect: bool = True,
               ms: float = 0.0) -> Outcome:
    """Score ``plan`` for ``row``: the static checks, then, if it has steps, the run in a copy of ``template``.

    ``home`` is the demo home the ``@id`` references are read from (default: the current
    HERO_HOME; the template's copies hold the same records with the same ids).
    """
    from herotui import contexts

    with hero_home(home) if home else contextlib.nullcontext():
        why = check_plan(row, plan, contexts.load(row.ctx))
    if effect and plan.steps and not row.none:
        why += check_effect(row, plan, template, folder)
    return Outcome(id=row.id, tags=row.tags, right=not why, why="; ".join(why), cli=[s.cli for s in plan.steps],
                   ms=ms, service=row.service, utterance=row.utterance, reply=plan.reply or "")


def score(rows: list[Row], template: Path, workdir: Path, *, rounds: int = 1, warm: bool = False,
          effect: bool = True, progress=None) -> list[Outcome]:
    """Plan every row in one copy of ``template`` (a demo home), then check it (run it in a fresh copy).

    Call it under :func:`frozen_clock`. ``workdir`` receives the copies (one per row that
    plans something); ``rounds`` plans each row that many times (the latency is the median);
    ``warm`` plans every row once, unmeasured, first (templates compiled, names cached).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    planning = workdir / "planning"
    shutil.copytree(template, planning)
    plans = []
    with hero_home(planning):
        if warm:
            for row in rows:
                make_plan(row)
        for row in rows:
            plans.append(make_plan(row, rounds))
    out = []
    for row, (plan, ms) in zip(rows, plans):
        outcome = score_plan(row, plan, template, workdir / row.id, home=planning, effect=effect, ms=ms)
        shutil.rmtree(workdir / row.id, ignore_errors=True)
        out.append(outcome)
        if progress:
            progress(outcome)
    return out


# ---------------------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    right: int = 0
    total: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.right}/{self.total} = {100 * self.share:.1f}%"


def overall(outcomes: list[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0


def tally(outcomes: list[Outcome], key) -> dict[str, Tally]:
    """``key(outcome)`` -> names (a row counts for each): name -> Tally, sorted by name."""
    out: dict[str, Tally] = {}
    for o in outcomes:
        names = key(o)
        for name in ([names] if isinstance(names, str) else names) or ["(untagged)"]:
            t = out.setdefault(name, Tally())
            t.total += 1
            t.right += o.right
            if not o.right:
                t.wrong.append(o.id)
    return dict(sorted(out.items()))


def by_tag(outcomes: list[Outcome]) -> dict[str, Tally]:
    return tally(outcomes, lambda o: o.tags)


def by_service(outcomes: list[Outcome]) -> dict[str, Tally]:
    return tally(outcomes, lambda o: o.service)


def table(tallies: dict[str, Tally], title: str) -> str:
    width = max([len(title), *map(len, tallies)])
    lines = [f"{title:<{width}}  right/total"]
    lines += [f"{name:<{width}}  {t}" for name, t in tallies.items()]
    return "\n".join(lines)


def report(outcomes: list[Outcome], problems: list[str] | None = None) -> str:
    """Score, per tag and per service, every wrong row (id, request, why, CLI lines), data problems."""
    right = sum(o.right for o in outcomes)
    lines = [f"dev set: {right}/{len(outcomes)} right = {100 * overall(outcomes):.1f}%", "",
             table(by_tag(outcomes), "tag"), "", table(by_service(outcomes), "service"), ""]
    wrong = [o for o in outcomes if not o.right]
    if wrong:
        lines.append(f"wrong ({len(wrong)}):")
    for o in wrong:
        lines.append(f"  {o.id} [{o.service}; {','.join(o.tags)}] {o.utterance!r}")
        lines.append(f"      why: {o.why}")
        for cli in o.cli or ["(no steps)"]:
            lines.append(f"      {cli}")
    if problems:
        lines += ["", f"data problems ({len(problems)}):", *(f"  {p}" for p in problems)]
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0
