"""``hero config show``: every setting, its value and where it came from.

The settings are the ``HERO_*`` environment variables (:mod:`herotui.settings`, read with its
pydantic-settings model) and the model the active context resolves to (:mod:`herotui.config`:
environment, the context's profile, ``config.toml``, under that module's precedence rules).
No secret is shown: the model's key is named by the variable that holds it, never its value.

The values are those of the process that runs the call. Through the resident server that
is the server, whose environment is the caller's for every variable that changes what a
verb does (``server.fingerprint``); the server's own knobs (``HERO_SERVE_IDLE``,
``HERO_SERVE_HOLD``, ``HERO_INDEX_DELAY``, ``HERO_LOG_LEVEL``) are the server's, and
``HERO_CONTEXT`` is not there: the ``context`` row says which context the call ran in and why.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import BaseModel

from herotui import contexts, settings
from herotui import config
from herotui.errors import HeroError
from herotui.registry import P, verb

SERVICE = "config"
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Setting(BaseModel):
    """One setting: its value (as text, never a secret) and where it came from."""

    name: str
    """``HERO_LOCK_TIMEOUT``; ``context`` (the call's context); ``model.name`` ... (the model
    the context resolves to)."""

    value: str = ""
    """The value in effect (empty: unset)."""

    source: str
    """``env``, ``default``, ``env (invalid)`` (the default is used), or for the model:
    ``env``, ``profile``, ``config.toml``, ``default``."""

    default: str = ""
    """The default, for the ``HERO_*`` variables."""

    problem: str | None = None
    """What is wrong with the value, if anything."""

    description: str = ""
    """What the setting does (the field's docstring)."""

    __columns__ = ("name", "value", "source", "problem")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _key_name(name: str | None) -> str:
    """The key variable's name and whether it is set; a value that is no variable name (a key
    pasted by mistake) is not shown."""
    if not name:
        return ""
    if not _VARIABLE_NAME.fullmatch(name):
        return "(hidden: not a variable name; name the variable that holds the key)"
    return f"{name} ({'set' if os.environ.get(name) else 'not set'})"


def variables() -> list[Setting]:
    """Every ``HERO_*`` variable, read by the pydantic-settings model."""
    model, problems = settings.validated()
    light = settings.get()
    docs = settings.docs()
    rows = []
    for name in settings.NAMES:
        problem = problems.get(name)
        source = "env (invalid)" if problem else "env" if name in model.model_fields_set else "default"
        value = getattr(model, name)
        if name == "HERO_MODEL_API_KEY_ENV":
            value = _key_name(value)
        if problem:
            raw = light.raw(name) or ""
            shown = "(hidden)" if name == "HERO_MODEL_API_KEY_ENV" else repr(raw[:80])
            problem = f"{shown}: {problem}; the default is used"
        rows.append(Setting(name=name, value=_text(value), source=source, default=settings.default_text(name),
                            problem=problem, description=docs[name]))
    return rows


def _context_row(ctx: Any) -> Setting:
    s = settings.get()
    if s.HERO_CONTEXT == ctx.name:
        source = "env (HERO_CONTEXT)"
    elif contexts.saved_choice() == ctx.name:
        source = "saved choice (hero context use)"
    elif ctx.name == contexts.DEFAULT and not s.HERO_CONTEXT:
        source = "default"
    else:
        source = "--context (or the caller's HERO_CONTEXT)"
    return Setting(name="context", value=ctx.name, source=source, default=contexts.DEFAULT,
                   description="The context this call runs in: --context, else HERO_CONTEXT, else the saved choice.")


_MODEL_SOURCES = {"env": "env", "profile": "profile", "config": "config.toml", "default": "default",
                  "ollama default": "default (Ollama's)"}
_MODEL_FIELDS = (("name", "HERO_MODEL"), ("api_base", "HERO_MODEL_API_BASE"), ("api_key_env", "HERO_MODEL_API_KEY_ENV"),
                 ("timeout", "HERO_MODEL_TIMEOUT"), ("policy", None))


def model_rows(ctx: Any) -> list[Setting]:
    """The model ``ctx`` resolves to (:func:`herotui.config.model_for`), field by field."""
    try:
        resolved = config.model_for(ctx)
    except HeroError as exc:
        return [Setting(name="model", source="error", problem=f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""),
                        description="The language model this context uses.")]
    if resolved is None:
        return [Setting(name="model", value="", source="none configured (or off)",
                        description="The language model this context uses: HERO_MODEL, the profile's model, "
                                    "or config.toml's [model]; without one Hero works without a model.")]
    rows = []
    for field, variable in _MODEL_FIELDS:
        value = getattr(resolved, field)
        source = resolved.sources.get(field, "default")
        label = _MODEL_SOURCES.get(source, source)
        if source == "profile":
            label = f"profile ({ctx.name})"
        if field == "api_key_env":
            value = _key_name(value)
        about = f"{variable}, else the profile's or config.toml's [model] {field}" if variable else \
            "the profile's policy, else config.toml's [model] policy, else any"
        rows.append(Setting(name=f"model.{field}", value=_text(value), source=label,
                            description=f"The model of context '{ctx.name}': {about}."))
    return rows


@verb(examples=["hero config show", "hero config show --changed", "hero config show --json"],
      local=True)  # the settings of the process that asks, not the resident server's
def show(ctx, changed: Annotated[bool, P("Only the settings not at their default")] = False) -> list[Setting]:
    """List every setting (the HERO_* variables and the context's model), its value and where it came from.

    Values are never secrets: the model's key is shown by the name of the variable that holds
    it. Each variable is described in docs/settings.md.
    """
    rows = [_context_row(ctx), *model_rows(ctx), *variables()]
    if changed:
        rows = [r for r in rows if r.source not in ("default", "none configured (or off)")]
    return rows
