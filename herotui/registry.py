"""The verb registry: one typed function, every front-end.

A verb is a plain function ``def create(ctx, name: str, ...) -> Contact`` decorated with
``@verb``. From the signature and docstring the registry derives the parameter model
(pydantic), its JSON Schema, the description, and the metadata the front-ends need (CLI
options, positional arguments, flags). Every call, whoever makes it, goes through
:func:`call`, which validates, enforces confirmation of destructive verbs, runs the verb and
writes one audit record.

This module imports no front-end, and pydantic models are built lazily (on first call or
schema request) so that ``hero --help`` does not pay for them.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import time
import types
import typing
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, get_args, get_origin

from herotui import contexts, paths
from herotui.errors import ConfirmationRequired, HeroError, InvalidInput, NotFound, UsageError
from herotui.services import SERVICES

ACTORS = ("cli", "tui", "voice", "planner", "mcp", "rpc", "python", "status", "demo", "test")


@dataclass(frozen=True)
class P:
    """Per-parameter metadata, used inside ``Annotated[T, P("help")]``.

    ``positional``: a CLI argument rather than an option. ``flag``: the CLI option name when
    it differs from the parameter (``emails`` -> ``--email``). ``short``: a one-letter alias.
    ``minimum`` / ``maximum``: the smallest / largest number allowed (checked by :func:`call`,
    and in the schema). Without a ``maximum`` an integer is still bounded by :data:`INT_MAX`
    (a 64-bit integer, what the database stores), so ``--days 99999999999999999999`` is a
    clear error rather than an overflow deep in a service. ``path``: the parameter names files
    (parameters called ``path``, ``paths`` or ``output`` are paths without saying so): such a
    string may hold bytes that are not UTF-8 (a Latin-1 file name, decoded with
    ``surrogateescape``), which any other text parameter refuses.
    """

    help: str = ""
    positional: bool = False
    flag: str | None = None
    short: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    path: bool = False


INT_MAX = 2**63 - 1
"""The largest integer (and ``-INT_MAX - 1`` the smallest) any verb parameter accepts."""

PATH_PARAMS = frozenset({"path", "paths", "output"})
"""Parameter names that are file paths by convention (see ``P.path``)."""


@dataclass
class Param:
    name: str
    annotation: Any  # the type without Annotated
    default: Any
    required: bool
    meta: P

    @property
    def is_list(self) -> bool:
        return base_type(self.annotation) is list

    @property
    def is_bool(self) -> bool:
        return base_type(self.annotation) is bool

    @property
    def flag(self) -> str:
        return self.meta.flag or "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """How a person names it in messages: ``--limit``, or ``PATHS`` for a positional."""
        return self.name.upper() if self.meta.positional else self.flag

    @property
    def is_path(self) -> bool:
        return self.meta.path or self.name in PATH_PARAMS


def base_type(annotation: Any) -> Any:
    """``list[str] | None`` -> ``list``; ``bool`` -> ``bool``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return base_type(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return base_type(args[0]) if len(args) == 1 else annotation
    return origin or annotation


@dataclass
class Verb:
    name: str  # "contact.create"
    func: Callable[..., Any]
    params: list[Param]
    returns: Any
    description: str  # first paragraph of the docstring
    doc: str  # whole docstring
    mutates: bool = False
    destructive: bool = False
    examples: list[str] = field(default_factory=list)
    cli_name: str | None = None  # "hero search" instead of "hero search query"
    scope: Callable[..., str | None] | None = None  # (ctx, args) -> what a confirmation covers
    pages: Callable[..., Any] | None = None  # (ctx, **args) -> iterator of lists: the result page by page
    terminal: bool = False  # its result is shown on the caller's own screen (a pager, a viewer): see verb()
    local: bool = False  # it reports on the caller's own process (its settings): see verb()

    @property
    def in_caller(self) -> bool:
        """Run in the caller's process, never handed to the resident server: it shows on the
        caller's screen (``terminal``), reports on the caller's environment (``local``), or
        writes what it reads from the caller's files (imports, ``document add``: long, with
        progress on the caller's terminal, stopped by its Ctrl-C)."""
        return self.terminal or self.local or (self.mutates and any(p.is_path for p in self.params))

    @property
    def service(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.name.split(".", 1)[1]

    @functools.cached_property
    def model(self):
        """A pydantic model of the parameters (built on first use)."""
        # ~55 ms: only validating a call or building a schema pays for it (not 'hero --help', not the thin entry)
        from pydantic import ConfigDict, Field, create_model

        fields = {}
        for p in self.params:
            default = ... if p.required else p.default
            number = base_type(p.annotation) in (int, float)
            extra = {"allow_inf_nan": False} if base_type(p.annotation) is float else {}
            fields[p.name] = (p.annotation, Field(default, description=p.meta.help or None, ge=p.meta.minimum,
                                                  le=p.meta.maximum if number else None, **extra))
        name = "".join(part.title() for part in self.name.replace("_", ".").split(".")) + "Params"
        return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)

    def schema(self) -> dict:
        """JSON Schema of the parameters (for the planner, MCP and OpenRPC)."""
        return self.model.model_json_schema()

    def validate(self, args: dict[str, Any]) -> dict[str, Any]:
        # ~55 ms: only validating a call or building a schema pays for it (not 'hero --help', not the thin entry)
        from pydantic import ValidationError

        try:
            parsed = self.model.model_validate(args)
        except ValidationError as exc:
            raise InvalidInput(_validation_message(self, exc), hint=f"see 'hero {self.cli_path} --help'") from None
        values = {p.name: getattr(parsed, p.name) for p in self.params}
        for p in self.params:
            problem = _bad_value(p, values[p.name])
            if problem:
                raise InvalidInput(f"invalid input: {p.label} {problem}", hint=f"see 'hero {self.cli_path} --help'")
        return values

    @property
    def cli_path(self) -> str:
        return self.cli_name or f"{self.service} {self.action.replace('_', '-')}"


def _bad_value(p: Param, value: Any) -> str | None:
    """What is wrong with a parsed value that its type lets through (None: nothing).

    Integers beyond 64 bits (an ``OverflowError`` in a date, a C call or the database);
    NUL characters in text (no file name, database string or terminal takes them); lone
    surrogates outside paths (bytes that are not UTF-8, which the database cannot store).
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            if item > INT_MAX:
                return f"is too large (at most {INT_MAX})"
            if item < -INT_MAX - 1:
                return f"is too small (at least {-INT_MAX - 1})"
        elif isinstance(item, str):
            if "\x00" in item:
                return "contains a NUL character"
            if not p.is_path:
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as exc:
                    bad = item[exc.start]
                    byte = f"byte \\x{ord(bad) - 0xDC00:02x}" if 0xDC80 <= ord(bad) <= 0xDCFF else f"U+{ord(bad):04X}"
                    return f"is not valid UTF-8 text ({byte} at position {exc.start})"
    return None


def _overflow_message(verb: Verb, args: dict[str, Any], exc: OverflowError) -> str:
    """Name the numbers a verb could not handle (``OverflowError``: a date out of range...)."""
    params = {p.name: p for p in verb.params}
    numbers = [f"{params[k].label if k in params else k} {v}" for k, v in args.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    what = ", ".join(numbers) if numbers else "a number"
    return f"invalid input: {what} is out of range ({exc})"


def _validation_message(verb: Verb, exc) -> str:
    params = {p.name: p for p in verb.params}
    parts = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else ""
        label = params[name].flag if name in params and not params[name].meta.positional else name.upper()
        msg = err.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err.get("type") == "missing":
            msg = "is required"
        elif err.get("type") == "greater_than_equal":
            msg = f"must be at least {err['ctx']['ge']}"
        elif err.get("type") == "less_than_equal":
            msg = f"must be at most {err['ctx']['le']}"
        elif err.get("type") == "finite_number":
            msg = "must be a finite number"
        elif err.get("type") == "extra_forbidden":
            label, msg = name, "is not a parameter of this command"
        parts.append(f"{label} {msg}" if label else msg)
    return "invalid input: " + "; ".join(parts)


_VERBS: dict[str, Verb] = {}


def verb(
    *,
    mutates: bool = False,
    destructive: bool = False,
    name: str | None = None,
    examples: list[str] | None = None,
    cli_name: str | None = None,
    scope: Callable[..., str | None] | None = None,
    pages: Callable[..., Any] | None = None,
    terminal: bool = False,
    local: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a verb; its service is the module's ``SERVICE``.

    The function's first parameter is the :class:`~herotui.contexts.Context`; the others
    become the verb's parameters. ``destructive`` implies ``mutates``. ``scope(ctx, args)``
    says in words what a call would change, for the question that asks for a yes
    ("'Standup': all 23 occurrences, from Mon 30 Nov"). ``pages(ctx, **args)``, for a
    listing, yields the same result as lists of at most a page of rows, so a front-end that
    prints as it goes (``call(..., paged=True)``) holds one page, not the whole set.
    ``terminal``: the verb returns something to show on the caller's own screen (a document
    for a pager or the desktop's viewer) that only a front-end with one can show (the CLI):
    MCP and RPC do not serve it, and the thin client runs it in-process. The one place that
    says "not over the network". ``local``: the verb reports on the process that runs it (its
    environment, ``config.show``): the thin client and the TUI run it in their own process,
    not in the resident server (see :attr:`Verb.in_caller`).
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        module = inspect.getmodule(func)
        service = getattr(module, "SERVICE", None) or func.__module__.rsplit(".", 1)[-1]
        full = name or f"{service}.{func.__name__.rstrip('_')}"
        hints = typing.get_type_hints(func, include_extras=True)
        sig = inspect.signature(func)
        params: list[Param] = []
        for i, (pname, p) in enumerate(sig.parameters.items()):
            if i == 0:
                continue  # ctx
            annotation = hints.get(pname, str)
            meta = P()
            if get_origin(annotation) is Annotated:
                inner, *extras = get_args(annotation)
                meta = next((e for e in extras if isinstance(e, P)), P())
                rest = [e for e in extras if not isinstance(e, P)]  # validators stay
                annotation = Annotated[tuple([inner, *rest])] if rest else inner
            required = p.default is inspect.Parameter.empty
            default = None if required else p.default
            params.append(Param(pname, annotation, default, required, meta))
        doc = inspect.cleandoc(func.__doc__ or "")
        if not doc:
            raise TypeError(f"verb {full} needs a docstring: it is the description")
        v = Verb(
            name=full,
            func=func,
            params=params,
            returns=hints.get("return"),
            description=doc.split("\n\n", 1)[0].replace("\n", " "),
            doc=doc,
            mutates=mutates or destructive,
            destructive=destructive,
            examples=examples or [],
            cli_name=cli_name,
            scope=scope,
            pages=pages,
            terminal=terminal,
            local=local,
        )
        if full in _VERBS:
            raise TypeError(f"verb {full} is registered twice")
        _VERBS[full] = v
        func.verb = v  # type: ignore[attr-defined]
        return func

    return decorate


def load(service: str | None = None) -> None:
    """Import the service modules (all, or one) so their verbs are registered."""
    names = [service] if service else list(SERVICES)
    for s in names:
        if s not in SERVICES:
            raise UsageError(f"unknown service '{s}'", hint="run 'hero --help' for the list")
        importlib.import_module(SERVICES[s].module)


def verbs() -> dict[str, Verb]:
    load()
    return dict(_VERBS)


def service_verbs(service: str) -> list[Verb]:
    """The verbs of one service, in declaration order (imports only that service)."""
    load(service)
    return [v for v in _VERBS.values() if v.service == service]


def get(name: str) -> Verb:
    service = name.split(".", 1)[0]
    if name not in _VERBS:
        if service in SERVICES:
            load(service)
    try:
        return _VERBS[name]
    except KeyError:
        raise NotFound(f"unknown verb '{name}'", hint="'hero --help' lists the services and their verbs") from None


def scope(name: str, args: dict[str, Any], ctx: Any) -> str | None:
    """What a call would change, in words, for a confirmation (None: nothing to add). A
    call the verb would refuse raises its error now, before anyone is asked; any other
    failure to describe it gives None (the question is still asked)."""
    v = get(name)
    if v.scope is None:
        return None
    args = v.validate(dict(args))
    try:
        return v.scope(ctx, args)
    except HeroError:
        raise
    except Exception:  # describing is a courtesy: never let it break the call
        return None


def confine(v: Verb, args: dict[str, Any], pinned: str | None, context: str | None) -> None:
    """A server started for one context (``hero mcp serve --context business``, RPC alike)
    serves only that context: no call in another, no search of every context, no history
    of another, no managing contexts. ``args`` may be narrowed in place (history)."""
    if not pinned:
        return
    hint = f"this server was started with --context {pinned}; start another for another context"
    if context not in (None, pinned):
        raise InvalidInput(f"this server serves only the context '{pinned}', not '{context}'", hint=hint)
    if v.service == "context" and v.name != "context.show":
        raise InvalidInput(f"{v.name} is not available on a server confined to the context '{pinned}'", hint=hint)
    if v.name == "context.show" and args.get("name") not in (None, pinned):
        raise InvalidInput(f"this server serves only the context '{pinned}'", hint=hint)
    if args.get("all_contexts"):
        raise InvalidInput(f"this server serves only the context '{pinned}': all_contexts is not available", hint=hint)
    if v.name == "history.list":
        if args.get("in_context") not in (None, pinned):
            raise InvalidInput(f"this server serves only the history of '{pinned}'", hint=hint)
        args["in_context"] = pinned


class Pages:
    """A listing's result page by page (``call(..., paged=True)`` on a verb with ``pages``):
    iterate it once for lists of rows. The pages are read as they are iterated; a read that
    fails then raises from the iteration."""

    __pages__ = True

    def __init__(self, pages: Any) -> None:
        self._pages = iter(pages)

    def __iter__(self):
        return self._pages


ACTOR: ContextVar[str] = ContextVar("hero_actor", default="python")
"""Who is calling the verb that runs now (cli, tui, voice, mcp, rpc, planner...): conversation
state (the assistant's pending plan) is kept per actor, so a "yes" over RPC never answers a
question the CLI asked."""

PROGRESS: ContextVar[Callable[[str, int, int], None] | None] = ContextVar("hero_progress", default=None)
"""Where a long verb reports how far it is, set by the front-end that shows it (the CLI's bar
on a terminal): ``report(what, done, total)``, e.g. ``("adding documents", 120, 3000)``. None
(the default): nobody is watching, and a verb does not even count its work. Services draw
nothing themselves."""


def call(
    name: str,
    args: dict[str, Any] | None = None,
    ctx: Any = None,
    actor: str = "python",
    confirmed: bool = False,
    paged: bool = False,
) -> Any:
    """Run verb ``name`` with ``args`` in context ``ctx``: the one entry point.

    Validates the arguments, refuses a destructive verb unless ``confirmed``, runs it and
    writes an audit record (time, actor, context, verb, arguments, ok or error).
    """
    v = get(name)
    args = dict(args or {})
    started = time.time()
    ctx_name = getattr(ctx, "name", None)
    token = ACTOR.set(actor)
    try:
        if ctx is None and (v.service != "context" or contexts.active_name() == contexts.DEFAULT
                            or contexts.exists(contexts.active_name())):
            ctx = contexts.current()  # the context verbs run without one ('context create x' with HERO_CONTEXT=x)
        ctx_name = getattr(ctx, "name", None)
        values = v.validate(args)
        if v.destructive and not confirmed:
            raise ConfirmationRequired(
                f"{name} deletes or overwrites data and needs confirmation",
                hint="pass --yes on the command line (or confirm: true)",
            )
        if values.get("force") and actor not in ("cli", "python", "test") and not confirmed:
            # over MCP/RPC a program may auto-approve 'harmless' tools: overwriting a file
            # takes the same explicit confirmation as a delete (on the CLI, --force is it)
            raise ConfirmationRequired(f"{name} with force overwrites a file and needs confirmation",
                                       hint="pass confirm: true with force")
        try:
            result = Pages(v.pages(ctx, **values)) if paged and v.pages is not None else v.func(ctx, **values)
        except OverflowError as exc:  # a number the verb's dates or C calls cannot hold
            raise InvalidInput(_overflow_message(v, args, exc), hint=f"see 'hero {v.cli_path} --help'") from None
    except HeroError as exc:
        _audit(started, actor, ctx_name, name, args, False, f"{exc.code}: {exc.message}")
        raise
    except BaseException as exc:
        _audit(started, actor, ctx_name, name, args, False, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        ACTOR.reset(token)
    _audit(started, actor, ctx_name, name, args, True, None)
    return result


AUDIT_MAX_BYTES = 5_000_000


def _audit(started: float, actor: str, context: str | None, verb_name: str, args: dict, ok: bool, error: str | None) -> None:
    """Append one JSON line to ``state/audit.jsonl`` (rotated once past 5 MB).

    A single ``write`` on an ``O_APPEND`` file is atomic for lines this short, so several
    processes can audit at once without a lock. Auditing never breaks the verb: text that is
    not UTF-8 (a lone surrogate from a Latin-1 file name) is written as a JSON ``\\udcxx``
    escape, and a value JSON cannot hold (NaN) as a string.
    """
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "ms": round((time.time() - started) * 1000, 1),
        "actor": actor,
        "context": context,
        "verb": verb_name,
        "args": redacted(args),
        "ok": ok,
        "error": error,
        "pid": os.getpid(),
    }
    try:
        folder = paths.ensure_private_dir(paths.state_dir())
        path = folder / "audit.jsonl"
        try:
            if path.stat().st_size > AUDIT_MAX_BYTES:
                os.replace(path, folder / "audit.jsonl.1")
        except FileNotFoundError:
            pass
        data = _audit_line(record)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:  # written before under a lax umask
                os.fchmod(fd, 0o600)
            os.write(fd, data)
        finally:
            os.close(fd)
    except (OSError, HeroError):
        pass


# What a person keeps about people and their days: the audit says a value was given, not
# what it was (the log is read by `hero history` in every context, and over MCP/RPC).
SENSITIVE = frozenset({"notes", "description", "emails", "email", "phones", "phone", "birthday", "address",
                       "text", "attendees", "body", "content"})


def redacted(args: dict) -> dict:
    """``args`` with the values of personal fields replaced by their size."""
    out = {}
    for key, value in args.items():
        if key in SENSITIVE and value not in (None, "", [], ()):
            size = len(value) if isinstance(value, (str, list, tuple)) else 1
            out[key] = f"<redacted: {size} {'characters' if isinstance(value, str) else 'values'}>"
        else:
            out[key] = value
    return out


def _audit_line(record: dict) -> bytes:
    """One JSON line, always valid UTF-8 and valid JSON, whatever the arguments hold."""
    try:
        line = json.dumps(record, default=str, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):  # NaN, keys JSON cannot hold, deep nesting
        record = {**record, "args": repr(record.get("args"))[:10_000]}
        line = json.dumps(record, default=str, ensure_ascii=False)
    # a lone surrogate becomes the JSON escape \udcxx (json.loads gives it back)
    return (line + "\n").encode("utf-8", errors="backslashreplace")
