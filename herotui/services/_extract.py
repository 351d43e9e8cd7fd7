"""Text extraction for documents: a file's bytes -> kind, title, text, pages and a note.

Kinds: ``markdown``, ``text``, ``pdf``, ``html`` and ``other``. The kind comes from the file
name's extension, then from the content (``%PDF-``, an HTML doctype, NUL bytes). Nothing here
touches a store; :func:`extract` is pure, so it can run outside any database lock.

* PDF: ``pypdf`` (pure Python, no system library). An encrypted PDF that opens with the
  empty password (owner-password only, the common case) is read normally; one that needs a
  password is kept with the note "encrypted PDF: no text extracted". A PDF pypdf cannot parse
  at all raises :class:`Unreadable` (the caller skips the file: nothing is stored).
* HTML: the standard library's ``html.parser`` (tolerant of broken markup, no dependency):
  text of the body with block elements on their own lines, ``<script>``/``<style>`` dropped,
  the title from ``<title>`` or the first ``<h1>``.
* Text that is not UTF-8: ``charset-normalizer`` guesses the encoding (the note says which);
  without a plausible guess, Latin-1 (which decodes any bytes) with a note. Never a crash.
* Anything else (images, archives, binaries): kind ``other``, no text, and the note
  "no text extracted (<mime type>)".
"""

from __future__ import annotations

import io
import logging
import mimetypes
import re
from dataclasses import dataclass
from html.parser import HTMLParser

MARKDOWN_EXT = {".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn"}
HTML_EXT = {".html", ".htm", ".xhtml", ".shtml"}
PDF_EXT = {".pdf"}
TEXT_EXT = {
    ".txt", ".text", ".log", ".csv", ".tsv", ".rst", ".org", ".adoc", ".asciidoc", ".tex", ".bib",
    ".json", ".jsonl", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".ics", ".vcf",
    ".py", ".sh", ".js", ".ts", ".c", ".h", ".cpp", ".rs", ".go", ".java", ".rb", ".sql", ".css",
    ".srt", ".vtt", ".eml", ".diff", ".patch",
}
KIND_MIME = {"markdown": "text/markdown", "text": "text/plain", "pdf": "application/pdf", "html": "text/html"}
KIND_EXT = {"markdown": ".md", "text": ".txt", "pdf": ".pdf", "html": ".html", "other": ".bin"}
SNIFF = 8192  # bytes looked at to tell text from binary


@dataclass
class Extracted:
    """What extraction found in one file."""

    kind: str  # markdown, text, pdf, html, other
    mime: str
    title: str | None  # from the content (heading, <title>, PDF metadata); None: use the name
    text: str | None  # None: no text could be extracted (``note`` says why)
    pages: int | None = None
    note: str | None = None


class Unreadable(Exception):
    """The file is not what it claims to be (a damaged PDF): it is not stored."""


def extract(data: bytes, filename: str, sniff_markdown: bool = False) -> Extracted:
    """Extract the text of a file given its bytes and its name.

    ``sniff_markdown``: when the name says nothing (standard input), text with Markdown
    headings is taken as Markdown.
    """
    ext = _ext(filename)
    head = data[:1024]
    if ext in PDF_EXT or head.lstrip().startswith(b"%PDF-"):
        return _pdf(data)
    if ext in HTML_EXT or (ext not in MARKDOWN_EXT | TEXT_EXT and _looks_html(head)):
        return _html(data)
    if ext in MARKDOWN_EXT:
        text, note = decode(data, force=True)
        if text is None:
            return _other("application/octet-stream")
        return Extracted("markdown", "text/markdown", markdown_title(text), text, note=note)
    guessed = mimetypes.guess_type(filename)[0] if ext else None
    if ext not in TEXT_EXT and guessed and not _textual_mime(guessed):
        return _other(guessed)
    text, note = decode(data, force=ext in TEXT_EXT)
    if text is None:
        return _other(guessed or "application/octet-stream")
    if sniff_markdown and _looks_markdown(text):
        return Extracted("markdown", "text/markdown", markdown_title(text), text, note=note)
    return Extracted("text", guessed if guessed and _textual_mime(guessed) else "text/plain", None, text, note=note)


def _ext(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def _textual_mime(mime: str) -> bool:
    return mime.startswith("text/") or mime in {
        "application/json", "application/xml", "application/x-sh", "application/javascript",
        "application/x-tex", "application/toml", "application/yaml", "application/x-yaml",
        "application/sql", "message/rfc822", "application/x-subrip",
    }


def _other(mime: str) -> Extracted:
    return Extracted("other", mime, None, None, note=f"no text extracted ({mime})")


# --- text ------------------------------------------------------------------------------------

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode(data: bytes, force: bool = False) -> tuple[str | None, str | None]:
    """Bytes -> (text, note). ``None`` text: the bytes do not look like text.

    UTF-8 first (with or without BOM, and UTF-16/32 with a BOM), then charset-normalizer's
    guess, then Latin-1 when ``force`` (the name says it is text): a note says which.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return _clean(data.decode(codec)), None
            except UnicodeDecodeError:
                break
    if b"\x00" in data[:SNIFF]:
        return None, None  # NUL bytes: binary, whatever the name says (UTF-16 has a BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        return (_clean(text), None) if force or _plausible(text) else (None, None)
    guess = None
    try:
        from charset_normalizer import from_bytes  # ~26 ms: only reading a file of that kind pays for it

        matches = list(from_bytes(data[:1_000_000]))  # the guess from the first MB is plenty
        if matches:
            best = matches[0]
            guess = best.encoding
            # Candidates that fit equally well (common for short Western text: cp1250,
            # cp1252 and others tie): prefer Windows-1252, by far the most common of them.
            for m in matches:
                if m.encoding in _WESTERN and m.chaos <= best.chaos and m.coherence >= best.coherence - 0.01:
                    guess = m.encoding
                    break
    except ImportError:  # optional: Latin-1 below still gives text
        pass
    if guess:
        try:
            text = data.decode(guess)
            if force or _plausible(text):
                return _clean(text), f"not UTF-8: decoded as {guess}"
        except (UnicodeDecodeError, LookupError):
            pass
    if not force:
        return None, None
    return _clean(data.decode("latin-1")), "not UTF-8 and no encoding recognised: decoded as Latin-1 (some characters may be wrong)"


def _plausible(text: str) -> bool:
    """Few control characters: text, not a binary that happens to decode."""
    sample = text[:SNIFF]
    return not sample or len(_CONTROL.findall(sample)) <= max(1, len(sample) // 100)


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# --- Markdown --------------------------------------------------------------------------------

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_title(text: str) -> str | None:
    """The front matter's ``title:``, else the first level-1 heading, else the first heading."""
    lines = text.split("\n", 2000)[:2000]
    start = 0
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:200], 1):
            if line.strip() in ("---", "..."):
                start = i + 1
                break
            m = re.match(r"^title:\s*(.+?)\s*$", line)
            if m:
                value = m.group(1).strip("'\"").strip()
                if value:
                    return value
    first_any = None
    fenced = False
    for i in range(start, len(lines)):
        line = lines[i]
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = _ATX.match(line)
        level, title = (len(m.group(1)), m.group(2)) if m else (0, None)
        if not m and i + 1 < len(lines) and line.strip() and _SETEXT.match(lines[i + 1]) and not line.startswith(("-", "*", ">")):
            level, title = (1 if lines[i + 1].strip().startswith("=") else 2), line.strip()
        if title:
            title = _strip_inline(title)
            if level == 1:
                return title
            first_any = first_any or title
    return first_any


def _strip_inline(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    return re.sub(r"[*_`]+", "", text).strip()


def _looks_markdown(text: str) -> bool:
    return any(_ATX.match(line) for line in text.split("\n", 200)[:200])


# --- HTML ------------------------------------------------------------------------------------

_PARAGRAPH = {"p", "div", "table", "ul", "ol", "dl", "section", "article", "header", "footer", "h1", "h2", "h3",
              "h4", "h5", "h6", "blockquote", "pre", "hr", "figure", "nav", "main", "aside", "form", "title"}
_LINE = {"br", "li", "tr", "dt", "dd"}
_SKIP = {"script", "style", "noscript", "template", "svg", "head", "iframe", "object"}


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title: str | None = None
        self.h1: str | None = None
        self._in: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "h1") and self._in is None:
            self._in, self._buf = tag, []
        if tag in _SKIP and tag != "head":
            self.skip += 1
        self._break(tag)

    def handle_endtag(self, tag):
        if tag == self._in:
            value = " ".join("".join(self._buf).split())
            if tag == "title" and not self.title:
                self.title = value or None
            elif tag == "h1" and not self.h1:
                self.h1 = value or None
            self._in = None
        if tag in _SKIP and tag != "head" and self.skip:
            self.skip -= 1
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def _break(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in _LINE:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)
        if self.skip or self._in == "title":
            return
        self.parts.append(data)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.I)


def _looks_html(head: bytes) -> bool:
    h = head.lstrip()[:200].lower()
    return h.startswith((b"<!doctype html", b"<html")) or (h.startswith(b"<?xml") and b"<html" in head.lower())


def _html(data: bytes) -> Extracted:
    text, note = None, None
    m = _META_CHARSET.search(data[:4096])
    if m:
        try:
            text = data.decode(m.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        text, note = decode(data, force=True)
    if text is None:
        return _other("application/octet-stream")
    parser = _HtmlText()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # html.parser is tolerant; keep whatever it got
        pass
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not body:
        return Extracted("html", "text/html", parser.title or parser.h1, None, note="no text extracted (the page has no visible text)")
    return Extracted("html", "text/html", parser.title or parser.h1, body + "\n", note=note)


# --- PDF -------------------------------------------------------------------------------------


def _pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader  # ~83 ms: only reading a file of that kind pays for it

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns about every repaired xref
    if not data.lstrip()[:1024].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise Unreadable("not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise Unreadable(f"damaged PDF ({_short(exc)})") from None
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))
        except Exception:  # e.g. AES without a crypto library: treated like a password
            opened = False
        if not opened:
            return Extracted("pdf", "application/pdf", None, None, None,
                             note="encrypted PDF: no text extracted (it needs a password)")
    try:
        pages = len(reader.pages)
    except Exception as exc:
        raise Unreadable(f"damaged PDF ({_short(exc)})") from None
    if pages == 0:
        raise Unreadable("damaged PDF (no pages)")
    title = None
    try:
        meta = reader.metadata
        title = (str(meta.title).strip() or None) if meta and meta.title else None
    except Exception:
        pass
    texts, failed = [], 0
    for i in range(pages):
        try:
            texts.append((reader.pages[i].extract_text() or "").strip())
        except Exception:
            failed += 1
    if failed == pages:
        raise Unreadable("damaged PDF (no page could be read)")
    text = _clean("\n\n".join(t for t in texts if t))
    note = f"the text of {failed} of {pages} pages could not be extracted" if failed else None
    if not text.strip():
        return Extracted("pdf", "application/pdf", title, None, pages,
                         note="no text extracted (the PDF has no text layer: scanned pages?)")
    return Extracted("pdf", "application/pdf", title, text + "\n", pages, note)


def _short(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return msg[:120]
