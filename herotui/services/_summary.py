"""Summaries of documents: extractive now, model-based through the same seam later.

Extractive (no model, no network, no downloaded data): the text is cut into sentences
(Markdown syntax, code blocks and tables are left out; headings mark sections); every
sentence becomes a TF-IDF vector of its content words (lowercased, English stop words
dropped, a light plural stemming); the *centroid* of all sentence vectors stands for what the
document is about, and the sentences closest to it (cosine similarity) are the most
representative. A small bonus goes to the first sentence of a section, very short and very
long sentences are left out, and a sentence too similar to one already picked is skipped
(so the summary does not say the same thing twice). The picked sentences are given in the
document's order. This is the centroid method of Radev et al. (2004), kept small.

Long documents (over ``LONG_CHARS``) are summarised by parts: the sections (Markdown
headings), or chunks of about ``PART_CHARS`` at paragraph boundaries when there are none,
each get their own best sentences (against the part's centroid, with the document-wide IDF);
the summary then takes the best of those picks against the whole document's centroid. So
every part is read, and one long section cannot crowd out the others.

The model-based summary arrives with the planner issue: :func:`model_summarizer` returns
the summariser allowed for the context (its profile says which model may see its data), or
``None``; ``document summarize`` uses extractive when it is ``None``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from herotui import config, model

LONG_CHARS = 20_000  # longer than this: summarised by parts
PART_CHARS = 8_000  # size of a chunk when a long text has no headings
MAX_CHARS = 3_000_000  # only the beginning of a huger text is read (a note says so)
MIN_WORDS, MAX_WORDS = 5, 70
REDUNDANT = 0.55  # cosine above which a candidate repeats a picked sentence
MMR_LAMBDA = 0.8  # weight of relevance against novelty when picking
PER_PART = 2

STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just let me
more most my myself no nor not now of off on once only or other our ours ourselves out over own same
she should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves may might must shall us per via within without across
upon onto one two three new also however therefore thus yet still well much many get got make made
""".split())

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_ABBREV = frozenset(("e.g i.e etc vs mr mrs ms dr prof inc ltd no approx fig st jr sr co corp dept est"
                     " jan feb mar apr jun jul aug sep sept oct nov dec").split())
_BOUNDARY = re.compile(r"""([.!?…]+)(["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9À-ÖØ-Þ])""")


@dataclass
class Section:
    title: str | None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.paragraphs)


@dataclass
class Part:
    """The picked sentences of one part of a long document."""

    title: str
    sentences: list[str]


@dataclass
class Extractive:
    sentences: list[str]
    parts: list[Part]
    note: str | None = None


# --- the model seam --------------------------------------------------------------------------


def model_summarizer(ctx: Any) -> Callable[[str, str, int], str] | None:
    """The model-based summariser this context may use, or ``None`` (then: extractive).

    The context's model settings (``herotui.config``: HERO_MODEL, the profile's ``model``
    and ``policy``) decide; a model the policy forbids raises ``ModelPolicyError``. The model
    client (litellm) is imported only when a model is configured.
    """
    if config.model_for(ctx) is None:
        return None
    return lambda title, text, n: model.summarize(ctx, f"{title}\n\n{text}", max_words=max(40, 25 * n)) or ""


# --- sentences -------------------------------------------------------------------------------


def _inline(text: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links: their text
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return text


def sections(text: str) -> list[Section]:
    """Paragraphs of plain prose, grouped by heading; code, tables and rules left out."""
    out = [Section(None)]
    para: list[str] = []
    fenced = False

    def flush() -> None:
        if para:
            joined = " ".join(" ".join(para).split())
            if joined:
                out[-1].paragraphs.append(_inline(joined))
            para.clear()

    lines = text.split("\n")
    if lines and lines[0].strip() == "---":  # YAML front matter: metadata, not prose
        end = next((i for i, line in enumerate(lines[1:200], 1) if line.strip() in ("---", "...")), None)
        if end is not None:
            lines = lines[end + 1:]
    for raw in lines:
        line = raw.rstrip()
        if _FENCE.match(line):
            flush()
            fenced = not fenced
            continue
        if fenced:
            continue
        m = _ATX.match(line)
        if m:
            flush()
            out.append(Section(_inline(m.group(2)).strip()))
            continue
        stripped = line.strip()
        if not stripped or stripped == "\f" or _RULE.match(stripped) or stripped.startswith("|") or set(stripped) <= set("=-"):
            flush()
            continue
        if _BULLET.match(line):
            flush()
            line = _BULLET.sub("", line)
        para.append(line.lstrip("> ").strip())
    flush()
    return [s for s in out if s.paragraphs]


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph; abbreviations (e.g., Dr., Inc.) and initials do not end one."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(paragraph):
        before = paragraph[start:m.start()].rsplit(None, 1)
        last = before[-1].lower().rstrip(".") if before else ""
        if m.group(1) == "." and (last in _ABBREV or (len(last) == 1 and last.isalpha())):
            continue
        out.append(paragraph[start:m.end(2)].strip())
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def _tokens(sentence: str) -> list[str]:
    words = []
    for w in _WORD.findall(sentence.lower()):
        w = w.replace("’", "'")
        if w in STOP or len(w) < 2 or w.isdigit():
            continue
        if w.endswith("'s"):
            w = w[:-2]
        if len(w) > 4 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]  # light stemming: plurals meet their singular
        words.append(w)
    return words


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class _Sent:
    text: str
    position: int  # in the document
    part: int
    first: bool  # first sentence of its section
    vec: dict[str, float] = field(default_factory=dict)


def _normalise(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm else {}


def _cos(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def _centroid(sents: list[_Sent]) -> dict[str, float]:
    total: Counter = Counter()
    for s in sents:
        total.update(s.vec)
    return _normalise(dict(total))


def _pick(cands: list[_Sent], centroid: dict[str, float], n: int) -> list[_Sent]:
    """Maximal marginal relevance: close to the centroid, far from what is already picked."""
    relevance = {id(s): _cos(s.vec, centroid) + (0.05 if s.first else 0.0) for s in cands}
    pool = sorted(cands, key=lambda s: -relevance[id(s)])[: max(50, 10 * n)]
    picked: list[_Sent] = []
    while pool and len(picked) < n:
        best = max(pool, key=lambda s: MMR_LAMBDA * relevance[id(s)]
                   - (1 - MMR_LAMBDA) * max((_cos(s.vec, p.vec) for p in picked), default=0.0))
        pool.remove(best)
        if all(_cos(best.vec, p.vec) < REDUNDANT for p in picked):
            picked.append(best)
    return sorted(picked, key=lambda s: s.position)


def _part_title(titles: list[str]) -> str:
    return " / ".join(titles) if len(titles) <= 3 else f"{titles[0]} ... {titles[-1]}"


def _parts(secs: list[Section], total: int) -> list[tuple[str, list[list[str]]]]:
    """(title, paragraphs per section) groups of the document: one group unless it is long."""
    if total <= LONG_CHARS:
        return [("", [s.paragraphs for s in secs])]
    groups: list[tuple[str, list[list[str]]]] = []
    titled = sum(1 for s in secs if s.title) >= 2
    if titled:
        # consecutive sections are grouped until a part holds about half a chunk
        titles: list[str] = []
        members: list[list[str]] = []
        size = 0
        for s in secs:
            titles.append(s.title or "Introduction")
            members.append(s.paragraphs)
            size += s.size
            if size >= PART_CHARS // 2:
                groups.append((_part_title(titles), members))
                titles, members, size = [], [], 0
        if members:
            if groups and size < PART_CHARS // 8:
                last_title, last_members = groups.pop()
                groups.append((last_title + " / " + _part_title(titles), last_members + members))
            else:
                groups.append((_part_title(titles), members))
        return groups
    paras = [p for s in secs for p in s.paragraphs]
    chunk: list[str] = []
    size = 0
    for p in paras:
        chunk.append(p)
        size += len(p)
        if size >= PART_CHARS:
            groups.append((f"Part {len(groups) + 1}", [chunk]))
            chunk, size = [], 0
    if chunk:
        groups.append((f"Part {len(groups) + 1}", [chunk]))
    return groups


def extractive(text: str, sentences: int = 5) -> Extractive:
    """The ``sentences`` most representative sentences of ``text`` (see the module doc)."""
    note = None
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        note = f"only the first {MAX_CHARS:,} characters were read"
    secs = sections(text)
    total = sum(s.size for s in secs)
    groups = _parts(secs, total)
    sents: list[_Sent] = []
    df: Counter = Counter()
    tfs: list[Counter] = []
    for gi, (_title, group) in enumerate(groups):
        for paragraphs in group:
            for pi, para in enumerate(paragraphs):
                for si, sentence in enumerate(split_sentences(para)):
                    words = sentence.split()
                    if not (MIN_WORDS <= len(words) <= MAX_WORDS) or sentence.endswith(":"):
                        continue
                    toks = _tokens(sentence)
                    if len(toks) < 3:
                        continue
                    tf = Counter(toks)
                    df.update(tf.keys())
                    tfs.append(tf)
                    sents.append(_Sent(sentence, len(sents), gi, pi == 0 and si == 0))
    if not sents:
        return Extractive([], [], note)
    n_docs = len(sents)
    for s, tf in zip(sents, tfs):
        s.vec = _normalise({w: (1 + math.log(c)) * (math.log((1 + n_docs) / (1 + df[w])) + 1) for w, c in tf.items()})
    centroid = _centroid(sents)
    if len(groups) == 1:
        return Extractive([s.text for s in _pick(sents, centroid, sentences)], [], note)
    parts, pool = [], []
    for gi, (title, _group) in enumerate(groups):
        mine = [s for s in sents if s.part == gi]
        if not mine:
            continue
        picked = _pick(mine, _centroid(mine), PER_PART)
        pool.extend(picked)
        parts.append(Part(title, [s.text for s in picked]))
    chosen = _pick(pool, centroid, sentences)
    return Extractive([s.text for s in chosen], parts, note)
