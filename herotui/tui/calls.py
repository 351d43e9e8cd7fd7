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
    """One or a few lines describing a verb's result."""
    if result is None:
        return "done"
    if isinstance(result, list):
        head = ", ".join(_label(r) for r in result[:5])
        more = f" (+{len(result) - 5} more)" if len(result) > 5 else ""
        return f"{len(result)} result{'s' if len(result) != 1 else ''}" + (f": {head}{more}" if head else "")
    if hasattr(result, "reply") and getattr(result, "reply"):
        return result.reply
    return _label(result)


def _label(item: Any) -> str:
    for attr in ("name", "title", "book", "citation", "path"):
        value = getattr(item, attr, None)
        if value:
            ident = getattr(item, "id", None)
            return f"{value} ({ident})" if ident and ident != value else str(value)
    if hasattr(item, "model_dump"):
        data = item.model_dump(mode="json")
        return ", ".join(f"{k}={v}" for k, v in list(data.items())[:4])
    return str(item)
