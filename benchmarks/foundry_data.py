"""Deterministic documents for the foundry benchmark: Markdown pages and small PDFs.

Like ``datagen.py``, written without Hero's code (the benchmark must not depend on what it
measures). The text is generated, seeded, from a hand-written vocabulary of office and
project language (finance, engineering, research, legal, operations, travel, ...) plus a few
thousand synthetic rare words (code names, product names, surnames), drawn with a Zipf-like
bias so a few words are everywhere and most are rare, as in real prose. Sentences come from
a small grammar (subject, verb, object, prepositional phrase, clause), and each document
keeps to one or two topics, so its words hang together the way a page's do. Pages are
400-900 words with headings, paragraphs, bullet and numbered lists, the odd table, code
span, link and date; PDFs are 1-3 pages of the same kind of text with a title in their
metadata.

Usage as a script (to look at the data):
    python benchmarks/foundry_data.py --docs 20 --pdfs 5 --out /tmp/foundry-data
"""

from __future__ import annotations

import argparse
import io
import random
from datetime import date, timedelta
from pathlib import Path

COMMON_NOUNS = (
    "team meeting project report budget plan review decision question customer partner "
    "contract deadline schedule milestone risk issue goal result number forecast estimate "
    "proposal draft version release feature change request process policy document summary "
    "week month quarter year morning afternoon office call email message note list agenda "
    "process system service tool platform account invoice payment order delivery supplier "
    "market price cost revenue margin growth target audience campaign launch story idea "
    "problem solution option trade-off priority scope requirement constraint assumption "
    "feedback survey interview workshop presentation deck slide chart figure table appendix"
).split()
COMMON_VERBS = (
    "reviewed prepared discussed approved shared updated moved postponed finished started "
    "checked compared measured estimated planned agreed proposed questioned clarified "
    "documented tested shipped fixed merged rejected accepted summarised presented drafted "
    "explained confirmed scheduled cancelled negotiated improved simplified replaced"
).split()
COMMON_ADJ = (
    "new final early late quick careful detailed rough clear open small large main next "
    "previous current quarterly annual weekly internal external shared critical minor "
    "important urgent realistic ambitious conservative revised initial formal informal"
).split()
FUNCTION = (
    "the the the the a a an and and and of of of to to to in in in for for on on with with "
    "that that this this is is was was it it as as by by at from we we they our their be "
    "have has had not but or which will would can could should also more most some any all"
).split()
PREPS = "for about after before during with without under over across into within since until".split()
SUBJECTS = ("we", "the team", "our partners", "the board", "finance", "the client", "everyone",
            "the working group", "engineering", "legal", "the steering committee", "marketing",
            "the auditors", "our supplier", "the new hire", "product")
CONNECT = ("because", "although", "so that", "while", "unless", "once", "as soon as", "even though",
           "which means", "given that")

TOPICS: dict[str, str] = {
    "finance": "revenue forecast cashflow invoice ledger accrual depreciation EBITDA audit "
               "balance sheet liquidity payroll expenses reconciliation tax VAT dividend "
               "capital expenditure variance spreadsheet treasury bank loan interest",
    "engineering": "deployment latency database cache regression pipeline container cluster "
                   "rollback migration schema endpoint throughput benchmark refactor library "
                   "dependency compiler kernel thread memory index query tokenizer parser",
    "research": "hypothesis experiment sample dataset baseline significance correlation "
                "methodology literature citation appendix replication variance protocol "
                "observation measurement instrument calibration analysis model parameter",
    "legal": "clause liability indemnity warranty jurisdiction arbitration compliance GDPR "
             "consent retention licence trademark patent confidentiality termination "
             "amendment signature counterparty obligation breach remedy notice",
    "operations": "warehouse inventory logistics shipment forklift procurement vendor SLA "
                  "maintenance outage shift rota checklist incident escalation capacity "
                  "utilisation downtime spare parts safety inspection facility",
    "travel": "flight hotel itinerary visa passport layover conference venue train taxi "
              "reimbursement per diem booking airport luggage timezone jetlag agenda "
              "Brussels Berlin Lisbon Vienna Ghent Zurich Amsterdam Copenhagen",
    "hr": "onboarding recruiting candidate interview offer salary appraisal mentoring "
          "training holiday leave wellbeing retention promotion feedback handbook contract "
          "probation benefits pension headcount",
    "product": "roadmap backlog persona prototype wireframe usability onboarding retention "
               "churn activation funnel experiment pricing tier subscription feature flag "
               "release notes beta customer interview dashboard",
    "sales": "pipeline prospect lead quota territory renewal discount proposal procurement "
             "champion objection demo pilot contract upsell forecast CRM account executive "
             "deal stage closing",
    "kitchen": "recipe sourdough fermentation oven temperature flour hydration starter "
               "crumb crust proofing basil tomato garlic olive reduction stock simmer "
               "seasoning knife cutting board",
    "garden": "compost seedling greenhouse pruning mulch irrigation tomato courgette "
              "raised bed frost perennial hedge soil nitrogen aphids pollinator harvest "
              "wheelbarrow trellis",
    "energy": "solar inverter battery grid tariff kilowatt heat pump insulation meter "
              "consumption peak load feed-in subsidy retrofit boiler thermostat efficiency "
              "carbon emissions",
}
PEOPLE = ("Alex Smith", "Lena Fischer", "Jonas Weber", "Sofia Rossi", "Priya Patel", "Kwame Mensah",
          "Chloé Dubois", "Søren Jensen", "Yuki Tanaka", "María García", "Omar Haddad", "Ingrid Andersson",
          "Łukasz Nowak", "Aoife Murphy", "Hiroshi Sato", "Giulia Bianchi", "Pieter de Vries", "Emma Brown")
COMPANIES = ("Lumen Labs", "Northwind Traders", "Contoso", "Fabrikam", "Geomind", "Threefold",
             "Acme Corporation", "Globex", "Initech", "Stadtwerke Köln", "Université Libre")
SYLLABLES = ("ka ra to mi ne lo va pe su di an or el is ur om ax ber lin dor vex tal mor qui zen "
             "fal gor hel jor kel mar nor pol sar tor vel wyn yar zor bri cla dra fre gla pra tri").split()


def _synthetic(rnd: random.Random, n: int) -> list[str]:
    """Rare words: code names, product names, surnames (2-4 syllables, unique)."""
    out, seen = [], set()
    while len(out) < n:
        w = "".join(rnd.choice(SYLLABLES) for _ in range(rnd.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


class Writer:
    """A seeded text generator; one instance makes a whole corpus deterministically."""

    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        self.rare = _synthetic(random.Random(seed + 1), 4000)
        self.topic_words = {t: w.split() for t, w in TOPICS.items()}
        self.topics = list(TOPICS)
        # Zipf-like weights over the rare words: a few code names recur, most appear rarely
        self.rare_w = [1.0 / (i + 1) ** 0.9 for i in range(len(self.rare))]

    # -- words --------------------------------------------------------------------------

    def _pick(self, words: list[str]) -> str:
        # square of a uniform: biased to the front of each list (common words more often)
        return words[int(len(words) * self.rnd.random() ** 2)]

    def noun(self, topics: list[str]) -> str:
        r = self.rnd.random()
        if r < 0.55:
            return self._pick(self.topic_words[self.rnd.choice(topics)])
        if r < 0.93:
            return self._pick(COMMON_NOUNS)
        return self.rnd.choices(self.rare, self.rare_w)[0].capitalize()

    def phrase(self, topics: list[str]) -> str:
        adj = self._pick(COMMON_ADJ) + " " if self.rnd.random() < 0.45 else ""
        det = self.rnd.choice(("the", "the", "our", "a", "this", "their"))
        if det == "a" and (adj or "x")[0] in "aeiou":
            det = "an"
        return f"{det} {adj}{self.noun(topics)}"

    def sentence(self, topics: list[str]) -> str:
        rnd = self.rnd
        subj = rnd.choice(SUBJECTS) if rnd.random() < 0.6 else self.phrase(topics)
        parts = [subj, self._pick(COMMON_VERBS), self.phrase(topics)]
        if rnd.random() < 0.6:
            parts += [rnd.choice(PREPS), self.phrase(topics)]
        if rnd.random() < 0.35:
            parts += [rnd.choice(CONNECT), rnd.choice(SUBJECTS), self._pick(COMMON_VERBS), self.phrase(topics)]
        if rnd.random() < 0.12:
            parts.append(f"with {rnd.choice(PEOPLE)}")
        if rnd.random() < 0.08:
            parts.append(f"at {rnd.choice(COMPANIES)}")
        if rnd.random() < 0.07:
            parts.append(f"by {(date(2025, 1, 1) + timedelta(days=rnd.randint(0, 700))).isoformat()}")
        if rnd.random() < 0.06:
            parts.append(f"({rnd.randint(2, 98)}% {rnd.choice(('up', 'down', 'of the total', 'done'))})")
        s = " ".join(parts)
        return s[0].upper() + s[1:] + rnd.choice(".......?!")

    def paragraph(self, topics: list[str], sentences: tuple[int, int] = (3, 7)) -> str:
        return " ".join(self.sentence(topics) for _ in range(self.rnd.randint(*sentences)))

    def title(self, topics: list[str]) -> str:
        rnd = self.rnd
        forms = (
            lambda: f"{self._pick(COMMON_ADJ).capitalize()} {self.noun(topics)} {self._pick(COMMON_NOUNS)}",
            lambda: f"{self.noun(topics).capitalize()} {rnd.choice(('review', 'notes', 'plan', 'report', 'proposal', 'minutes'))}",
            lambda: f"{rnd.choice(COMPANIES)}: {self.noun(topics)} {self._pick(COMMON_NOUNS)}",
            lambda: f"Q{rnd.randint(1, 4)} {rnd.randint(2023, 2026)} {self.noun(topics)} {rnd.choice(('report', 'forecast', 'update'))}",
            lambda: f"{self.rnd.choices(self.rare, self.rare_w)[0].capitalize()} project {self._pick(COMMON_NOUNS)}",
        )
        return rnd.choice(forms)()

    # -- documents ----------------------------------------------------------------------

    def markdown(self, words: tuple[int, int] = (400, 900)) -> tuple[str, str]:
        """(title, Markdown text) of one page of ``words`` words."""
        rnd = self.rnd
        topics = rnd.sample(self.topics, rnd.choice((1, 1, 2)))
        goal = rnd.randint(*words)
        title = self.title(topics)
        out = [f"# {title}", ""]
        if rnd.random() < 0.5:
            out += [f"*{rnd.choice(PEOPLE)} · {(date(2025, 1, 1) + timedelta(days=rnd.randint(0, 700))).isoformat()}*", ""]
        n = 0
        while n < goal:
            r = rnd.random()
            if r < 0.18 and n:
                h = self.title(topics)
                out += [f"{'##' if rnd.random() < 0.75 else '###'} {h}", ""]
                n += len(h.split())
            elif r < 0.33:
                items = [self.sentence(topics).rstrip(".?!") for _ in range(rnd.randint(3, 6))]
                numbered = rnd.random() < 0.3
                out += [f"{i + 1}. {s}" if numbered else f"- {s}" for i, s in enumerate(items)] + [""]
                n += sum(len(s.split()) for s in items)
            elif r < 0.36:
                rows = [f"| {self.noun(topics)} | {rnd.randint(1, 999):,} | {rnd.choice(('ok', 'late', 'open', 'done'))} |"
                        for _ in range(rnd.randint(2, 5))]
                out += ["| item | amount | status |", "| --- | ---: | --- |", *rows, ""]
                n += 3 * len(rows)
            elif r < 0.38:
                out += [f"> {self.sentence(topics)}", ""]
                n += 12
            else:
                p = self.paragraph(topics)
                if rnd.random() < 0.15:
                    p += (f" See [{self.noun(topics)}](https://example.com/{rnd.choice(self.rare)})"
                          f" and `{rnd.choice(self.rare)}.{rnd.choice(('md', 'py', 'csv'))}`.")
                out += [p, ""]
                n += len(p.split())
        return title, "\n".join(out)

    def pdf_pages(self, pages: int) -> tuple[str, list[list[str]]]:
        """(title, pages of lines) for a PDF: ~45 lines of ~90 characters per page."""
        topics = self.rnd.sample(self.topics, self.rnd.choice((1, 2)))
        title = self.title(topics)
        out = []
        for p in range(pages):
            lines: list[str] = [title, ""] if p == 0 else []
            while len(lines) < 46:
                if self.rnd.random() < 0.12:
                    lines += ["", self.title(topics), ""]
                words = self.paragraph(topics).split()
                line = ""
                for w in words:
                    if len(line) + len(w) + 1 > 90:
                        lines.append(line)
                        line = w
                    else:
                        line = f"{line} {w}" if line else w
                lines += [line, ""]
            out.append(lines[:46])
        return title, out


def _latin1(text: str) -> str:
    """PDF WinAnsi (cp1252) only: replace what it cannot encode."""
    return text.encode("cp1252", errors="replace").decode("cp1252")


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A real PDF with a text layer (Helvetica, WinAnsi), made with pypdf (as in
    ``tests/test_documents.py``)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    w = PdfWriter()
    font = w._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }))
    for lines in pages:
        page = w.add_blank_page(595, 842)
        ops = ["BT", "/F1 10 Tf", "15 TL", "50 800 Td"]
        for line in lines:
            line = _latin1(line)
            ops.append("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("cp1252"))
        page[NameObject("/Contents")] = w._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    if title:
        w.add_metadata({"/Title": _latin1(title)})
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def write_markdown(folder: Path, n: int, seed: int = 7) -> int:
    """``n`` Markdown pages in ``folder`` (sub-folders of 250, like a real notes tree);
    returns the total bytes written."""
    w = Writer(seed)
    total = 0
    for i in range(n):
        title, text = w.markdown()
        sub = folder / f"area-{i // 250:03d}"
        if i % 250 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        slug = "-".join("".join(c for c in title.lower() if c.isalnum() or c == " ").split()[:6]) or "page"
        data = (text + "\n").encode("utf-8")
        (sub / f"{i:05d}-{slug}.md").write_bytes(data)
        total += len(data)
    return total


def write_pdfs(folder: Path, n: int, seed: int = 11) -> int:
    """``n`` PDFs of 1-3 pages in ``folder``; returns the total bytes written."""
    w = Writer(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(n):
        title, pages = w.pdf_pages(w.rnd.choice((1, 1, 2, 2, 3)))
        data = make_pdf(pages, title=title)
        (folder / f"scan-{i:04d}.pdf").write_bytes(data)
        total += len(data)
    return total


def queries(n: int = 200, seed: int = 3) -> list[str]:
    """Varied search queries over the corpus: common and rare words, two-word queries,
    names, a phrase, a typo, an exclusion, and words that match nothing."""
    w = Writer(seed)
    rnd = random.Random(seed)
    topic_words = [x for t in TOPICS.values() for x in t.split()]
    out = []
    for i in range(n):
        k = i % 10
        if k in (0, 1, 2):
            out.append(rnd.choice(topic_words).lower())
        elif k == 3:
            out.append(rnd.choice(COMMON_NOUNS))
        elif k == 4:
            out.append(f"{rnd.choice(topic_words).lower()} {rnd.choice(COMMON_NOUNS)}")
        elif k == 5:
            out.append(rnd.choice(w.rare[:400]))  # a code name that appears somewhere
        elif k == 6:
            out.append(rnd.choice(PEOPLE).split()[0].lower())
        elif k == 7:
            word = rnd.choice([x for x in topic_words if len(x) >= 6]).lower()
            j = rnd.randrange(1, len(word) - 1)
            out.append(word[:j] + word[j + 1] + word[j] + word[j + 2:])  # a transposition typo
        elif k == 8:
            out.append(f'"{rnd.choice(COMMON_ADJ)} {rnd.choice(COMMON_NOUNS)}"')
        else:
            out.append(f"{rnd.choice(topic_words).lower()} -{rnd.choice(COMMON_NOUNS)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--pdfs", type=int, default=5)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    md = write_markdown(a.out / "markdown", a.docs)
    pdf = write_pdfs(a.out / "pdf", a.pdfs)
    print(f"{a.docs} Markdown pages ({md / 1e6:.1f} MB), {a.pdfs} PDFs ({pdf / 1e6:.1f} MB) in {a.out}")


if __name__ == "__main__":
    main()
