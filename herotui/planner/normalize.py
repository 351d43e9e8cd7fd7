"""Words before meaning: one canonical form for what people type and what speech-to-text writes.

The planner never sees raw text. :func:`clean` turns

    "Um, in business. What's on tomorow at ten am, pls?"

into ``in business, what is on tomorow at 10am`` (case is kept: names keep their capitals) so that the templates, the intent model and
the slot parsers each see one spelling of one thing. Steps, in order (each is a decision):

* Unicode quotes and dashes to ASCII; control characters dropped; runs of spaces collapsed.
* Sentence breaks that speech-to-text inserts ("In business. What's on?") become commas; a
  final ``.?!`` is dropped (questions are recognised by their words, not by ``?``).
* Fillers and politeness that carry no meaning are dropped at the edges and between words:
  "uh", "um", "hey", "hey hero", "ok so", "pls", "please", "can you", "could you", "would you
  mind", "i'd like you to", "just" (not "i need to", "i want": those carry intent).
* Contractions are expanded ("what's" -> "what is", "isn't" -> "is not", "i'm" -> "i am");
  the apostrophe-less forms people type ("whats", "dont", "im") too. A possessive stays
  (``marie's``) and is split by the slot parsers.
* Number words become digits (text2num: "ten am" -> "10 am", "march twenty third" ->
  "march 23rd", "two o'clock pm" -> "2:00 pm"), except in set phrases ("one on one", "that
  one", "the first one").
* Typos are corrected against a vocabulary (:func:`correct`): the command words of the
  templates and the training sentences, plus the context's live names, tags and titles.
  Only a word that is neither in the vocabulary nor a common English word
  (:func:`common_words`) is corrected, only to a unique nearest
  word within one edit (two for words of eight letters or more, transpositions count as
  one), so names the vocabulary does not know ("Pawel") are left alone.

Nothing here knows about verbs or contexts: it is text in, text out, and cheap (no import
beyond ``re`` until a number word or a typo is seen).
"""

from __future__ import annotations

import functools
import re
import unicodedata

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                         "\u00a0": " ", "\u2009": " ", "\u202f": " "})

# Words that say nothing about what to do. Longer phrases first.
_FILLERS = [
    "would you mind", "would you be so kind as to", "i would like you to", "i'd like you to", "i want you to",
    "do me a favour and", "do me a favor and", "if you can", "if you could", "for me", "real quick",
    "hey hero", "ok hero", "okay hero", "hi hero", "hello hero", "hero", "hey", "hi", "uh", "uhm", "um",
    "umm", "erm", "er", "ah", "hmm", "mm", "like", "please", "pls", "plz", "kindly", "can you", "could you",
    "would you", "will you", "can u", "could u", "just", "quickly", "actually", "so", "well", "okay so", "ok so",
    "alright", "right",
]
# Fillers that are only fillers at the very start ("like" and "so" mean something mid-sentence).
_EDGE_ONLY = {"like", "so", "well", "right", "alright", "okay so", "ok so", "hero", "hi", "actually"}
_FILLER_ANY = re.compile(
    r"(?<![\w'-])(?:" + "|".join(re.escape(f) for f in sorted(set(_FILLERS) - _EDGE_ONLY, key=len, reverse=True))
    + r")(?![\w'-])\s*,?", re.I)
_FILLER_START = re.compile(
    r"^(?:(?:" + "|".join(re.escape(f) for f in sorted(_FILLERS, key=len, reverse=True)) + r")(?![\w'-])[\s,.!]*)+", re.I)

_CONTRACTIONS = {
    "what's": "what is", "whats": "what is", "that's": "that is", "thats": "that is", "there's": "there is",
    "theres": "there is", "here's": "here is", "who's": "who is", "whos": "who is", "where's": "where is",
    "wheres": "where is", "when's": "when is", "whens": "when is", "how's": "how is", "it's": "it is",
    "let's": "let us", "lets": "let us", "isn't": "is not", "isnt": "is not", "aren't": "are not", "arent": "are not",
    "wasn't": "was not", "wasnt": "was not", "don't": "do not", "dont": "do not", "doesn't": "does not",
    "doesnt": "does not", "didn't": "did not", "didnt": "did not", "can't": "cannot", "cant": "cannot",
    "won't": "will not", "wont": "will not", "i'm": "i am", "im": "i am", "i've": "i have", "ive": "i have",
    "i'll": "i will", "i'd": "i would", "you're": "you are", "he's": "he is", "she's": "she is",
    "we're": "we are", "they're": "they are", "gonna": "going to", "wanna": "want to", "gotta": "have to",
    "gimme": "give me", "lemme": "let me", "whatre": "what are", "what're": "what are",
}
_CONTRACTION_RX = re.compile(r"(?<![\w'])(" + "|".join(re.escape(k) for k in sorted(_CONTRACTIONS, key=len, reverse=True)) + r")(?![\w'])", re.I)

_NUMBER_WORDS = re.compile(
    r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|first|second|third|"
    r"fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|"
    r"seventeenth|eighteenth|nineteenth|twentieth|thirtieth)\b", re.I)
# set phrases where a number word is not a number
_KEEP_WORDS = re.compile(r"\b(?:one on one|1 on 1|that one|this one|which one|the one|no one|anyone|someone|everyone|"
                         r"one of|the first one|the second one|the last one|first one|second one|at once)\b", re.I)


def _ascii_text(text: str) -> str:
    text = text.translate(_QUOTES)
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch)[0] != "C")


def _numbers(text: str) -> str:
    """Number words to digits, keeping set phrases."""
    if not _NUMBER_WORDS.search(text):
        return text
    from text_to_num import alpha2digit  # ~9 ms: only understanding a typed request pays for it

    kept: list[str] = []

    def keep(m: re.Match) -> str:
        kept.append(m.group(0))
        return f"\x00{len(kept) - 1}\x00"

    shielded = _KEEP_WORDS.sub(keep, text)
    try:
        converted = alpha2digit(shielded, "en", threshold=0)
    except Exception:  # text2num should never fail, but the planner must not fail on it
        converted = shielded
    converted = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], converted)
    return _ordinals_back(text, converted)


_MONTH_WORDS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_ORDINAL_WORD = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
                 9: "ninth", 10: "tenth"}


def _ordinals_back(original: str, converted: str) -> str:
    """An ordinal stays a word unless it is a day of a month ("march 23rd", "the 17th of", "the 17th at 7"):
    "the fourth quarter" is not "the 4th quarter"."""
    def back(m: re.Match) -> str:
        before = converted[max(0, m.start() - 12):m.start()].lower()
        after = converted[m.end():m.end() + 12].lower()
        if re.search(rf"(?:{_MONTH_WORDS})[a-z]*\.?\s*$", before) or re.match(rf"\s*(?:of\s+)?(?:{_MONTH_WORDS})", after) \
                or re.match(r"\s*(?:at|,|$|of the month|slide)", after) or int(m.group(1)) > 10:
            return m.group(0)
        return _ORDINAL_WORD.get(int(m.group(1)), m.group(0))

    if converted == original:
        return converted
    return re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b", back, converted)


def _clock(text: str) -> str:
    """Spoken clock forms tidied: "at 5 30 pm" -> "at 5:30pm", "2 o'clock" -> "2:00", "half past 2" -> "2:30"."""
    t = re.sub(r"(?<!\d )(?<![\d+])\b(\d{1,2}) ([0-5]\d)\b(?=\s*(?:[ap]m\b|in the|o'?clock|$|,|\s+(?:on|tomorrow|today)\b))",
               r"\1:\2", text)  # not inside a phone number ("+32 3 555 12 12")
    t = re.sub(r"\b(\d{1,2}) ?o'? ?clock\s*([ap]m)\b", r"\1\2", t, flags=re.I)  # "2 o'clock pm" -> "2pm"
    t = re.sub(r"\b(\d{1,2}) ?o'? ?clock\b", r"\1 oclock", t, flags=re.I)  # a daytime hour: "4 o'clock" is 16:00
    t = re.sub(r"\bhalf past (\d{1,2})\b", r"\1:30", t, flags=re.I)
    t = re.sub(r"\bquarter past (\d{1,2})\b", r"\1:15", t, flags=re.I)
    t = re.sub(r"\bquarter to (\d{1,2})\b", lambda m: f"{(int(m.group(1)) - 1) or 12}:45", t, flags=re.I)
    return re.sub(r"(\d)\s+([ap]m)\b", r"\1\2", t, flags=re.I)  # "10 am" -> "10am"


# an address said aloud ("jonas at lumen labs dot example", "eva dot p at mail dot com"): a
# local part, "at", a domain of one or more words, and at least one "dot" part after it
_SPOKEN_EMAIL = re.compile(r"\b(?!(?:me|us|him|her|them|you|it)\s+at\b)(?P<local>[a-z0-9][a-z0-9_+-]*(?:\s+dot\s+[a-z0-9_+-]+)*)\s+at\s+"
                           r"(?P<domain>[a-z0-9-]+(?:\s+[a-z0-9-]+)?(?:\s+dot\s+[a-z0-9-]+)+)\b", re.I)


def _spoken_email(m: re.Match) -> str:
    def joined(s: str) -> str:
        return re.sub(r"\s+dot\s+", ".", s).replace(" ", "")

    return f"{joined(m.group('local'))}@{joined(m.group('domain'))}".lower()


def clean(text: str) -> str:
    """The canonical form of a request (see the module docstring)."""
    t = _ascii_text(text).strip()
    t = re.sub(r"\s+", " ", t)
    # speech-to-text sentence breaks inside a request become commas; final punctuation goes
    t = re.sub(r"(?<=[A-Za-z0-9)'\"])[.!?]+\s+(?=\S)", ", ", t)
    t = re.sub(r"[\s.!?,;:]+$", "", t)
    t = re.sub(r"(\d)\s*([apAP])\.\s?[mM]\.?", lambda m: m.group(1) + m.group(2).lower() + "m", t)  # "10 a.m." -> "10am"
    t = _SPOKEN_EMAIL.sub(_spoken_email, t)
    for _ in range(2):
        t = _FILLER_START.sub("", t).strip()
    t = _FILLER_ANY.sub(" ", t)
    t = _CONTRACTION_RX.sub(lambda m: _CONTRACTIONS[m.group(1).lower()], t)
    t = _clock(_numbers(t))
    t = re.sub(r"\s+,", ",", t)
    t = re.sub(r",\s*,+", ",", t)
    t = re.sub(r"\s+", " ", t).strip(" ,")
    return t


# ---------------------------------------------------------------------------------------
# Typo correction against a vocabulary
# ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")


@functools.lru_cache(maxsize=64)
def _index(vocab: frozenset[str]) -> tuple[frozenset[str], dict[int, list[str]]]:
    by_len: dict[int, list[str]] = {}
    for w in vocab:
        by_len.setdefault(len(w), []).append(w)
    return vocab, by_len


COMMON_COUNT = 5_000_000  # seen this often in symspellpy's corpus: a word, not a typo (9,200 words)


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """English words common enough that whoever typed one meant it: "intro" is not a typo of
    the vocabulary's "into", nor "baker" of "bakker". From symspellpy's English frequency
    dictionary (82,765 words, most frequent first: only its head is read, ~10 ms)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("symspellpy")  # its data only: the package is not imported
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    words = set()
    path = os.path.join(spec.submodule_search_locations[0], "frequency_dictionary_en_82_765.txt")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            word, _, count = line.partition(" ")
            if int(count) < COMMON_COUNT:
                break
            words.add(word)
    return frozenset(words)


def correct_word(word: str, vocab: frozenset[str]) -> str:
    """``word``, or the unique vocabulary word within its edit budget (see the module docstring)."""
    if len(word) < 3 or word in vocab or not word.isalpha() or word in common_words():
        return word
    from rapidfuzz.distance import DamerauLevenshtein  # ~17 ms: only understanding a typed request pays for it

    budget = 2 if len(word) >= 8 else 1
    _v, by_len = _index(vocab)
    best: list[str] = []
    best_d = budget + 1
    for n in range(len(word) - budget, len(word) + budget + 1):
        for cand in by_len.get(n, ()):
            d = DamerauLevenshtein.distance(word, cand, score_cutoff=budget)
            if d <= budget:
                if d < best_d:
                    best, best_d = [cand], d
                elif d == best_d:
                    best.append(cand)
    # a word that only adds or drops letters at the end is another word, not a typo: "moved", "party"
    best = [b for b in best if not (word.startswith(b) or b.startswith(word))]
    if len(best) > 1:  # a tie: the candidates that keep the first letter ("seach" -> "search", not "each")
        best = [b for b in best if b[0] == word[0]] or best
    if len(best) == 1 and (len(word) > 4 or sorted(word) == sorted(best[0])):
        return best[0]  # short words only by a transposition ("tga"): "deep" must not become "keep"
    if len(best) > 1 and word.endswith("s") and word[:-1] in vocab:
        return word
    return word


_SHIELD = re.compile(r"\S*[/@~\\]\S*|\S+\.(?:[a-z]{2,4})\b|'[^']*'|\"[^\"]*\"", re.I)  # paths, emails, quotes


def correct(text: str, vocab: frozenset[str]) -> str:
    """``text`` with each unknown word corrected against ``vocab`` (possessives kept; paths,
    emails and quoted titles left as they are)."""
    parts, pos = [], 0
    for m in _SHIELD.finditer(text):
        parts.append(_correct_words(text[pos:m.start()], vocab))
        parts.append(m.group(0))
        pos = m.end()
    parts.append(_correct_words(text[pos:], vocab))
    return "".join(parts)


def _correct_words(text: str, vocab: frozenset[str]) -> str:

    def fix(m: re.Match) -> str:
        said = m.group(0)
        w = said.lower()
        base, poss = (w[:-2], "'s") if w.endswith("'s") else (w, "")
        if "'" in base or "-" in base:
            return said
        if not poss and base.endswith("s") and len(base) > 3 and base not in vocab and base[:-1] in vocab:
            return said[:-1]  # "hugos" -> "hugo": a possessive typed without its apostrophe
        fixed = correct_word(base, vocab)
        return said if fixed == base else fixed + poss

    return _WORD.sub(fix, text)
