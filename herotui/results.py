"""A verb's result as JSON data: the one conversion every front-end, the client, the planner
(results fed to the next step) and the voice loop share.

It lives below the front-ends so that the planner and voice, which import no front-end
(import-linter contracts in pyproject.toml), need not reach into ``frontends/render.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def jsonable(value: Any) -> Any:
    """Pydantic models dumped in JSON mode, lists, tuples and dicts walked, dates in ISO 8601."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
