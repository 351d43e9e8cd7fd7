"""Small text helpers shared by the islands (dates in the user's zone, assistant results).

Results of a plan's steps arrive as JSON-like dicts (a plan is saved between turns) or as
models; :func:`result_lines` turns either into readable lines: one per event, contact,
document or hit, never a raw dict cut in the middle of a string.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from rich.text import Text

from herotui import timeparse

MAX_ITEMS = 8  # lines of a list result in the Assistant; the rest is counted


def local(dt: datetime) -> datetime:
    try:
        return dt.astimezone(timeparse.local_zone())
    except Exception:
        return dt


def when(dt: datetime, all_day: bool = False, time_only: bool = False) -> str:
    """"Wed 07 Jan 10:00" in the user's zone; an all-day event shows no time ("all day")."""
    d = local(dt) if not all_day else dt
    if time_only:
        return "all day" if all_day else d.strftime("%H:%M")
    return d.strftime("%a %d %b") + ("" if all_day else d.strftime(" %H:%M"))


def span(start: datetime, end: datetime, all_day: bool = False) -> str:
    """An event's time span: "Wed 07 Jan 10:00–11:00", "Wed 07 Jan, all day",
    "Wed 07 Jan – Fri 09 Jan, all day" (an all-day end is exclusive: the last day is shown)."""
    if all_day:
        last = end - timedelta(days=1) if end > start else start
        if _day(last) == _day(start):
            return start.strftime("%a %d %b") + ", all day"
        return f"{start.strftime('%a %d %b')} – {last.strftime('%a %d %b')}, all day"
    s, e = local(start), local(end)
    if s.date() == e.date():
        return f"{s.strftime('%a %d %b %H:%M')}–{e.strftime('%H:%M')}"
    return f"{s.strftime('%a %d %b %H:%M')} – {e.strftime('%a %d %b %H:%M')}"


def _day(d: datetime | date) -> date:
    return d.date() if isinstance(d, datetime) else d


def birthday(d: Any) -> str:
    """A birthday; one stored without a year (vCard ``--MMDD``, kept as year 1604) shows none."""
    if d is None:
        return ""
    return d.strftime("%d %B") if getattr(d, "year", None) == 1604 else str(d)


# --- results of verbs, as lines ---------------------------------------------------------------


def _get(item: Any, key: str, default: Any = None) -> Any:
    if isinstance(item, dict):
        return item.get(key, default)
    return getattr(item, key, default)


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def clip(text: Any, width: int) -> str:
    """One line of at most ``width`` characters, cut at a word with "…" when longer."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:·-") + "…"


def item_line(item: Any) -> str:
    """One readable line for one record (event, contact, document, deck, hit, …)."""
    if isinstance(item, (str, int, float)):
        return clip(item, 200)
    start = _as_time(_get(item, "start"))
    title = _get(item, "title")
    if start is not None and title:  # an event or an occurrence
        end = _as_time(_get(item, "end")) or start
        bits = [span(start, end, bool(_get(item, "all_day"))), str(title)]
        if _get(item, "location"):
            bits.append(str(_get(item, "location")))
        return clip(" · ".join(bits), 200)
    if _get(item, "deck_id"):
        slides = _get(item, "slides") or []
        count = len(slides) if isinstance(slides, list) else slides
        return f"deck “{_get(item, 'title')}” ({count} slides)" if count else f"deck “{_get(item, 'title')}”"
    if _get(item, "sentences") is not None or _get(item, "method") and title:
        return f"summary of “{title}” ({_get(item, 'method') or 'summary'})"
    name = _get(item, "name")
    if name:  # a contact, a context, a book…
        bits = [str(name)]
        for key in ("company", "role"):
            if _get(item, key):
                bits.append(str(_get(item, key)))
        for key in ("emails", "phones"):
            values = _get(item, key)
            if values:
                bits.append(str(values[0]))
        return clip(" · ".join(bits), 200)
    if title:  # a document, a hit, a page
        kind = _get(item, "kind")
        head = f"{kind}  {title}" if kind else str(title)
        snippet = _get(item, "snippet")
        return clip(head + (f" — {snippet}" if snippet else ""), 200)
    for key in ("reply", "answer", "text", "path", "citation", "message"):
        value = _get(item, key)
        if isinstance(value, str) and value:
            return clip(value, 200)
    data = item.model_dump(mode="json") if hasattr(item, "model_dump") else item
    if isinstance(data, dict):
        shown = [f"{k}: {clip(v, 40)}" for k, v in data.items()
                 if isinstance(v, (str, int, float, bool)) and v not in ("", None)][:4]
        return clip(", ".join(shown), 200) or "done"
    return clip(data, 200)


def _mentioned(item: Any, reply: str) -> bool:
    label = _get(item, "title") or _get(item, "name")
    return bool(label) and str(label) in reply


def result_lines(result: Any, reply: str = "") -> list[str]:
    """Lines for a step's result; what the reply already says in full is not repeated
    (a list whose every item the reply names, a summary whose document it names)."""
    if result is None:
        return []
    if isinstance(result, list):
        if not result:
            return ["nothing found"]
        if reply and all(_mentioned(item, reply) for item in result):
            return []
        lines = [item_line(item) for item in result[:MAX_ITEMS]]
        if len(result) > MAX_ITEMS:
            lines.append(f"… and {len(result) - MAX_ITEMS} more")
        return lines
    if isinstance(result, dict) and "reply" in result and isinstance(result.get("reply"), str):
        return [] if result["reply"] and result["reply"] in reply else [clip(result["reply"], 200)]
    if reply and (_get(result, "sentences") is not None or _get(result, "deck_id")) and _mentioned(result, reply):
        return []
    return [item_line(result)]


def ask_text(result: Any) -> Text:
    """An AskResult as the CLI shows it: ``$ hero …`` lines, step status, results, the reply."""
    out = Text()
    done = {s.index: s for s in result.steps}
    reply = (result.reply or "").strip()
    for i, step in enumerate(result.plan.steps, 1):
        ran = done.get(i)
        out.append("$ " + (ran.cli if ran else step.cli), style="dim")
        if ran is not None and ran.status != "ok":
            out.append(f"  [{ran.status}]", style="red" if ran.status == "error" else "yellow")
        out.append("\n")
        if ran is not None and ran.status == "ok":
            for line in result_lines(ran.result, reply):
                out.append("  " + line + "\n", style="green")
        if ran is not None and ran.error:
            out.append(f"  {ran.error}\n", style="red")
            if ran.hint:
                out.append(f"  hint: {ran.hint}\n", style="dim")
    if reply:
        out.append(reply + "\n", style="bold")
    if result.pending:
        out.append("y to confirm, n to cancel (or type yes / no)\n", style="yellow")
    return out


def presented_deck(result: Any) -> tuple[str, int] | None:
    """(deck id, slide) of a plan's ``slides.present`` step that ran, if any."""
    for step in getattr(result, "steps", None) or []:
        if step.verb == "slides.present" and step.status == "ok" and step.result is not None:
            deck = _get(step.result, "deck_id")
            if deck:
                return deck, int(_get(step.result, "start") or 1)
    return None
