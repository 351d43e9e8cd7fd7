"""Small text helpers shared by the islands (dates in the user's zone, assistant results)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text


def local(dt: datetime) -> datetime:
    from herotui import timeparse

    try:
        return dt.astimezone(timeparse.local_zone())
    except Exception:
        return dt


def when(dt: datetime, all_day: bool = False, time_only: bool = False) -> str:
    d = local(dt) if not all_day else dt
    if time_only:
        return "all day" if all_day else d.strftime("%H:%M")
    return d.strftime("%a %d %b") + ("" if all_day else d.strftime(" %H:%M"))


def birthday(d: Any) -> str:
    """A birthday; one stored without a year (vCard ``--MMDD``, kept as year 1604) shows none."""
    if d is None:
        return ""
    return d.strftime("%d %B") if getattr(d, "year", None) == 1604 else str(d)


def ask_text(result: Any) -> Text:
    """An AskResult as the CLI shows it: ``$ hero …`` lines, step status, results, the reply."""
    out = Text()
    done = {s.index: s for s in result.steps}
    for i, step in enumerate(result.plan.steps, 1):
        ran = done.get(i)
        out.append("$ " + (ran.cli if ran else step.cli), style="dim")
        if ran is not None and ran.status != "ok":
            out.append(f"  [{ran.status}]", style="red" if ran.status == "error" else "yellow")
        out.append("\n")
        if ran is not None and ran.status == "ok" and ran.result is not None:
            from herotui.tui.calls import summary

            out.append("  " + summary(ran.result)[:300] + "\n", style="green")
        if ran is not None and ran.error:
            out.append(f"  {ran.error}\n", style="red")
    if result.reply:
        out.append(result.reply.strip() + "\n", style="bold")
    if result.pending:
        out.append("press y to confirm, n to cancel (or type yes / no)\n", style="yellow")
    return out
