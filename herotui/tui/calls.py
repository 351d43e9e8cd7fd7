"""Registry calls from the UI: one at a time, from worker threads, and short result texts.

Every call goes through :func:`call` with actor ``tui``. Calls are serialised by a lock:
DuckDB refuses two connections with different settings to one file in one process, and the
UI's workers (island loads, forms, the assistant) may overlap.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.Lock()


def call(name: str, args: dict[str, Any] | None = None, ctx: Any = None, confirmed: bool = False) -> Any:
    from herotui import registry

    with _LOCK:
        return registry.call(name, args or {}, ctx, actor="tui", confirmed=confirmed)


def error_text(exc: BaseException) -> str:
    """A HeroError's message and hint (never a traceback)."""
    from herotui.errors import HeroError

    if isinstance(exc, HeroError):
        hint = getattr(exc, "hint", None)
        return exc.message + (f"\nhint: {hint}" if hint else "")
    return f"internal error: {type(exc).__name__}: {exc}"


def summary(result: Any) -> str:
    """One or a few lines describing a verb's result (a notification's text)."""
    from herotui.tui.format import item_line

    if result is None:
        return "done"
    if isinstance(result, list):
        if not result:
            return "nothing found"
        head = [item_line(r) for r in result[:5]]
        more = [f"… and {len(result) - 5} more"] if len(result) > 5 else []
        return f"{len(result)} result{'s' if len(result) != 1 else ''}:\n" + "\n".join(head + more)
    reply = getattr(result, "reply", None)
    if isinstance(reply, str) and reply:
        return reply
    return item_line(result)
