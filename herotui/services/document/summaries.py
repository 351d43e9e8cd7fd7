"""Summaries of a document: a model's when the context allows one, else extractive."""

from __future__ import annotations

from typing import Annotated, Literal

from herotui.config import ModelError
from herotui.errors import HeroError, InvalidInput
from herotui.registry import P, verb
from herotui.services import _summary
from herotui.services.document.lookup import resolve_document
from herotui.services.document.models import Id, Summary, SummaryPart

SERVICE = "document"


def summary_text(title: str, method: str, sentences: list[str], parts: list[SummaryPart], note: str | None) -> str:
    label = "extractive: the most representative sentences of the document, no model" if method == "extractive" else "model"
    lines = [f"Summary of \u201c{title}\u201d ({label})", ""]
    lines += [f"- {s}" for s in sentences] or ["(no sentences to summarise)"]
    if parts:
        lines += ["", "By part:"]
        for p in parts:
            lines.append(f"  {p.title}:")
            lines += [f"    - {s}" for s in p.sentences]
    if note:
        lines += ["", f"note: {note}"]
    return "\n".join(lines) + "\n"


@verb(examples=["hero document summarize 01JD3", "hero document summarize 01JD3 --sentences 8"])
def summarize(
    ctx,
    id: Id,
    sentences: Annotated[int, P("How many sentences", short="-n")] = 5,
    method: Annotated[Literal["auto", "extractive", "model"], P("auto: a model when the context allows one, else extractive")] = "auto",
) -> Summary:
    """Summarise a document: with no model configured, its most representative sentences (extractive).

    Long documents are summarised by parts (sections, or chunks when there are none), then
    the best sentences of the parts are combined.
    """
    if not 1 <= sentences <= 50:
        raise InvalidInput("--sentences must be between 1 and 50")
    with ctx.read() as conn:
        did = resolve_document(conn, id)
        title, body, note = conn.execute("SELECT title, text, note FROM documents WHERE id = ?", [did]).fetchone()
    if not body or not body.strip():
        raise InvalidInput(f"document {did} has no text to summarise" + (f" ({note})" if note else ""),
                           hint="only documents with extracted text can be summarised")
    fallback_note = None
    if method in ("auto", "model"):

        try:
            model = _summary.model_summarizer(ctx)
            out = model(title, body, sentences) if model is not None else None
        except ModelError as exc:
            if method == "model":
                raise
            model, out = None, None  # auto: say why, and summarise without the model
            fallback_note = f"the model failed ({exc.message}); extractive instead"
        if out:
            return Summary(id=did, title=title, method="model", text=out if out.endswith("\n") else out + "\n")
        if method == "model":
            raise HeroError(f"no model is configured for context '{ctx.name}'",
                            hint="use --method extractive (the default without a model), or configure a model for the context")
    result = _summary.extractive(body, sentences)
    parts = [SummaryPart(title=p.title, sentences=p.sentences) for p in result.parts]
    note_out = "; ".join(filter(None, [fallback_note, result.note]))
    if not result.sentences:
        note_out = "; ".join(filter(None, [note_out, "the text has no complete sentences to pick"]))
    return Summary(id=did, title=title, method="extractive", sentences=result.sentences, parts=parts,
                   note=note_out or None, text=summary_text(title, "extractive", result.sentences, parts, note_out))
