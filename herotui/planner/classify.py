"""The intent model: which kind of request a sentence is, for sentences no template lists.

Design (measured against a sentence-embedding nearest-neighbour design; see the README's
decisions): a linear classifier (multinomial logistic regression) over word 1-2-grams and
character 3-5-grams of the *delexicalised* sentence — people, times, durations, emails,
phones, paths and companies the slot parsers recognise are replaced by the tokens
``PERSON``, ``WHEN``, ``DURATION``, ``EMAIL``, ``PHONE``, ``PATH``, ``COMPANY`` — so that
"what's marie's email" and "whats hugos numbr" are the same kind of sentence.

Training data (:func:`training_data`): sentences sampled from the hassil templates of
``commands/*.yaml`` (each intent mapped to a label below) and the paraphrases of
``commands/paraphrases.yaml`` (written by people who never saw the evaluation sets), with
placeholders filled. ``scripts/train_intents.py`` fits the model with scikit-learn and
writes ``commands/intent-model.json``: only the weights (pruned), the featuriser is the
function below, so inference needs no scikit-learn, no numpy, and costs a few dictionary
look-ups (well under a millisecond). The file records a hash of its training data; a test
fails when the templates or paraphrases changed and the model was not retrained.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
from collections import Counter
from typing import Any

from herotui import paths
from herotui.planner.intents import compiled

# hassil intent -> model label (the specials confirm/deny/help and the "... it" follow-ups
# are left to the exact templates)
TEMPLATE_LABELS = {
    "Status": "context_show",
    "CalendarToday": "calendar_view", "CalendarTomorrow": "calendar_view", "CalendarWeek": "calendar_view",
    "CalendarNextWeek": "calendar_view", "CalendarAgenda": "calendar_view", "CalendarNext": "calendar_next",
    "CalendarAdd": "calendar_add", "CalendarMove": "calendar_move", "CalendarCancel": "calendar_cancel",
    "CalendarSearch": "calendar_search", "ContactCreate": "contact_create", "ContactShow": "contact_show",
    "ContactSearch": "contact_find", "ContactList": "contact_list", "ContactListTag": "contact_list",
    "ContactListCompany": "contact_list", "ContactTag": "contact_tag", "ContactUntag": "contact_untag",
    "ContactDelete": "contact_delete", "ContextUse": "context_use", "ContextShow": "context_show",
    "ContextList": "context_list", "DocumentSearch": "document_find", "DocumentList": "document_list",
    "DocumentListTag": "document_list", "DocumentListContact": "document_list", "DocumentOpen": "document_read",
    "DocumentShow": "document_read", "DocumentText": "document_read", "DocumentSummarize": "document_summarize",
    "DocumentTag": "document_tag", "DocumentUntag": "document_untag", "DocumentDelete": "document_delete",
    "KnowledgeAsk": "knowledge_ask", "KnowledgeList": "knowledge_list", "SearchQuery": "search",
    "SearchAllContexts": "search", "SearchTag": "search", "SlidesList": "slides_list", "SlidesListTag": "slides_list",
    "SlidesBestContact": "slides_present", "SlidesBest": "slides_present",
}

# placeholder -> what fills it in training: a token (the delexicaliser's) or sample words
TOKENS = {"person": "PERSON", "when": "WHEN", "duration": "DURATION", "email": "EMAIL", "phone": "PHONE",
          "path": "PATH", "company": "COMPANY"}
SAMPLES = {
    "title": ["team sync", "dentist", "standup", "lunch with the team", "board meeting", "yoga class", "project review",
              "coffee", "the offsite", "budget review", "piano lesson", "client call", "retro", "vet appointment",
              "haircut", "onboarding session", "football practice", "interview", "design review", "dinner",
              "gym with PERSON", "lunch with PERSON", "the call with PERSON", "PERSON's birthday", "drinks",
              "the weekly review", "swimming lesson", "the kickoff meeting", "1:1 with PERSON", "the plumber"],
    "doc": ["the quarterly report", "budget notes", "the contract", "meeting minutes", "the proposal", "the invoice",
            "the research notes", "the handbook", "the brief", "the roadmap doc", "the spec", "the lease"],
    "deck": ["the sales deck", "the roadmap deck", "the kickoff slides", "the review presentation", "the pitch deck",
             "the training slides"],
    "tag": ["vip", "family", "finance", "urgent", "client", "friends", "q4", "legal", "hiring", "partner"],
    "place": ["room 4", "the office", "cafe central", "the main hall", "building b", "zoom"],
    "context": ["business", "personal", "work", "side-project", "home"],
    "field": ["email", "phone", "number", "phone number", "address", "birthday", "company", "role", "job title"],
    "page": ["getting started", "troubleshooting", "search", "contexts", "voice", "models"],
    "query": ["budget", "the roadmap", "invoices", "recurring events", "vcards", "the migration", "pricing", "hiring"],
    "value": ["head of sales", "new name", "cto", "room 2", "strategy day", "maria lopez"],
    "number": ["3", "2", "5", "10"],
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _paths():
    return paths.resource("commands")


NEW_NAMES = ["joe bloggs", "pawel", "noor hassan", "ana", "tim", "priya", "lukas meyer", "sam", "olu", "mia wong"]


def _fill(sentence: str, rng: random.Random) -> str:
    def one(m: re.Match) -> str:
        key = m.group(1)
        if key == "person" and rng.random() < 0.25:  # a name not in the contacts (said lowercase) stays a word
            return rng.choice(NEW_NAMES)
        if key in TOKENS:
            return TOKENS[key]
        return rng.choice(SAMPLES.get(key, ["thing"]))

    return PLACEHOLDER.sub(one, sentence)


def _template_sentences(rng: random.Random, per_intent: int = 120) -> list[tuple[str, str]]:
    """Sentences sampled from the hassil templates, wildcards filled like the paraphrases."""
    from hassil import TextSlotList  # ~85 ms: only understanding a typed request pays for it
    from hassil.sample import sample_intents  # ~85 ms: only understanding a typed request pays for it

    intents, _specs = compiled()
    lists = {
        "name": TextSlotList.from_strings(["PERSON", "PERSON from COMPANY"]),
        "contact": TextSlotList.from_strings(["PERSON"]),
        "company": TextSlotList.from_strings(["COMPANY"]),
        "email": TextSlotList.from_strings(["EMAIL"]),
        "when": TextSlotList.from_strings(["WHEN"]),
        "title": TextSlotList.from_strings(["team sync WHEN", "dentist", "lunch with PERSON WHEN"]),
        "q": TextSlotList.from_strings(["quarterly report", "budget review", "roadmap"]),
        "query": TextSlotList.from_strings(["budget", "roadmap", "invoices"]),
        "tags": TextSlotList.from_strings(["vip", "finance"]),
        "tag": TextSlotList.from_strings(["vip", "family"]),
        "question": TextSlotList.from_strings(["import contacts", "switch context"]),
        "book": TextSlotList.from_strings(["handbook"]),
        "context": TextSlotList.from_strings(["business", "personal"]),
    }
    by_intent: dict[str, list[str]] = {}
    for name, text in sample_intents(intents, slot_lists=lists, exclude_sentences_with_wildcards=False):
        if name in TEMPLATE_LABELS:
            by_intent.setdefault(name, []).append(text)
    out = []
    for name, texts in sorted(by_intent.items()):
        texts = sorted(set(texts))
        for t in rng.sample(texts, min(per_intent, len(texts))):
            out.append((re.sub(r"\s+", " ", t.replace(" 's", "'s")).strip(), TEMPLATE_LABELS[name]))
    return out


def paraphrases() -> dict[str, list[str]]:
    import yaml  # ~16 ms: only understanding a typed request pays for it

    return yaml.safe_load((_paths() / "paraphrases.yaml").read_text(encoding="utf-8")) or {}


def training_data(seed: int = 7) -> list[tuple[str, str]]:
    """(sentence, label) pairs: sampled templates plus paraphrases, placeholders filled twice."""
    rng = random.Random(seed)
    data = _template_sentences(rng)
    for label, sentences in sorted(paraphrases().items()):
        for s in sentences:
            for _ in range(2):
                data.append((_fill(s, rng), label))
    return [(prepare(t), label) for t, label in data]


def data_hash() -> str:
    """A hash of what the model is trained from (templates and paraphrases)."""
    h = hashlib.sha256()
    for f in sorted(_paths().glob("*.yaml")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(json.dumps([TEMPLATE_LABELS, TOKENS, SAMPLES, NEW_NAMES], sort_keys=True).encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------
# Features (shared by training and inference)
# ---------------------------------------------------------------------------------------


def prepare(text: str) -> str:
    """Lower case except the placeholder tokens; punctuation to spaces."""
    out = []
    for w in re.findall(r"[A-Za-z0-9']+", text):
        out.append(w if w.isupper() and w in _TOKEN_SET else w.lower())
    return " ".join(out)


_TOKEN_SET = frozenset(TOKENS.values())


def features(text: str) -> set[str]:
    """Word 1-2-grams (with sentence edges) and character 3-5-grams inside words."""
    ws = text.split()
    feats = {f"w:{w}" for w in ws}
    edged = ["<s>", *ws, "</s>"]
    feats |= {f"b:{a} {b}" for a, b in zip(edged, edged[1:])}
    for w in ws:
        if w in _TOKEN_SET:
            continue
        padded = f" {w} "
        for n in (3, 4, 5):
            for i in range(len(padded) - n + 1):
                feats.add(f"c:{padded[i:i + n]}")
    return feats


# ---------------------------------------------------------------------------------------
# Inference
# ---------------------------------------------------------------------------------------


class Model:
    """The shipped weights. The file keeps the features as one newline-joined string and each
    feature's weights as one "label:weight;..." string, parsed only when a sentence has that
    feature: loading takes a few milliseconds instead of the ~60 ms of a nested JSON."""

    def __init__(self, data: dict[str, Any]):
        self.labels: list[str] = data["labels"]
        self.bias: list[float] = data["bias"]
        self.index: dict[str, int] = {f: i for i, f in enumerate(data["features"].split("\n"))}
        self.raw: list[str] = data["weights"]
        self.hash: str = data.get("data_hash", "")
        self.vocabulary: frozenset[str] = frozenset(data.get("vocabulary", []))
        self._parsed: dict[int, list[tuple[int, float]]] = {}

    def _weights(self, i: int) -> list[tuple[int, float]]:
        w = self._parsed.get(i)
        if w is None:
            w = self._parsed[i] = [(int(a), float(b)) for a, b in (x.split(":") for x in self.raw[i].split(";"))]
        return w

    def scores(self, text: str) -> list[tuple[str, float]]:
        """(label, probability) for every label, best first."""
        feats = [self.index[f] for f in features(prepare(text)) if f in self.index]
        norm = 1 / math.sqrt(len(feats)) if feats else 0.0
        z = list(self.bias)
        for i in feats:
            for label, w in self._weights(i):
                z[label] += w * norm
        top = max(z)
        exp = [math.exp(v - top) for v in z]
        total = sum(exp)
        return sorted(((lab, e / total) for lab, e in zip(self.labels, exp)), key=lambda x: -x[1])


def vocabulary() -> frozenset[str]:
    """The command words people use (templates and paraphrases): what typos are corrected to.
    Computed when the model is trained and shipped with it (:func:`build_vocabulary`)."""
    model = load()
    return model.vocabulary if model is not None and model.vocabulary else build_vocabulary()


@functools.cache
def build_vocabulary() -> frozenset[str]:
    words: set[str] = set()
    folder = _paths()
    for f in folder.glob("*.yaml"):
        found = re.findall(r"[a-z]{3,}", f.read_text(encoding="utf-8").lower())
        if f.name == "paraphrases.yaml":  # its deliberate typos are rarer than the word they misspell
            from rapidfuzz.distance import DamerauLevenshtein  # ~17 ms: only understanding a typed request pays for it

            counts = Counter(found)
            common = [w for w, n in counts.items() if n >= 5]
            found = [w for w, n in counts.items() if n >= 2 and not any(
                c != w and counts[c] >= 3 * n and DamerauLevenshtein.distance(w, c, score_cutoff=1) <= 1 for c in common)]
        words.update(found)
    core = set(("monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
                "august september october november december tomorrow today tonight weekend morning afternoon evening "
                "birthday contacts calendar documents slides").split())
    from rapidfuzz.distance import DamerauLevenshtein  # ~17 ms: only understanding a typed request pays for it

    words = {w for w in words if w in core or f"{w}s" in core or not any(
        DamerauLevenshtein.distance(w, c, score_cutoff=1) <= 1 for c in core)}
    words |= core
    return frozenset(words - {"sentences", "intents", "data", "verb", "args", "hooks", "then", "special", "reply",
                              "language", "lists", "wildcard", "values", "expansion", "rules", "skip"})


@functools.cache
def load() -> Model | None:
    """The shipped model (None when the file is missing: then only the templates plan)."""
    try:
        data = json.loads((_paths() / "intent-model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Model(data)
