"""The CLI: ``hero <service> <verb>``, generated from the registry with Typer.

Only the service named on the command line is imported (``hero contact list`` does not pay
for the calendar or the index); ``hero --help`` lists the services from the manifest without
importing any. Every command gets ``--context``, ``--json`` and, for destructive verbs,
``--yes``. Errors are one or two lines on stderr with a hint; ``HERO_DEBUG=1`` shows the
traceback. Exit codes: 0 ok, 1 error, 2 usage, 3 not found (also a missing file). Usage
errors (Click's, raised before the command runs) honour ``--json`` like any other error.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import TYPE_CHECKING, Any, Optional

from herotui import __version__
from herotui.errors import HeroError
from herotui.services import SERVICES

if TYPE_CHECKING:
    import typer

    from herotui.registry import Verb

GLOBAL_OPTIONS_WITH_VALUE = {"--context", "-c"}


class RootOptions:
    """The root command's options (``hero --context X --json ...``): one per call, filled by
    the root callback and handed to every command and front-end group built for that call."""

    __slots__ = ("context", "json")

    def __init__(self) -> None:
        self.context: str | None = None
        self.json = False


def _target_service(argv: list[str]) -> str | None:
    """The service named in argv (skipping global options), if any."""
    it = iter(argv)
    for tok in it:
        if tok in GLOBAL_OPTIONS_WITH_VALUE:
            next(it, None)
        elif tok.startswith("-"):
            continue
        else:
            return tok
    return None


def _cli_type(annotation: Any, param) -> Any:
    if param.is_bool:
        return Optional[bool] if param.default is None else bool
    if param.is_list:
        return list[str]
    from herotui.registry import base_type

    base = base_type(annotation)
    if base in (int, float):
        return Optional[base] if not param.required else base
    return Optional[str] if not param.required else str


def _make_command(v: Verb, options: RootOptions):
    """A Typer callback for verb ``v``: its signature is derived from the verb's parameters."""
    import typer  # ~40 ms: not paid by 'hero --help'

    params = []
    sentinel_defaults = {}
    for p in v.params:
        typ = _cli_type(p.annotation, p)
        help_text = p.meta.help or None
        if p.meta.positional:
            default = ... if p.required else (None if not p.is_list else None)
            info = typer.Argument(default, help=help_text, show_default=False)
        else:
            names = [p.flag] + ([p.meta.short] if p.meta.short else [])
            if p.is_bool:
                # a None default means "unchanged unless given" (update verbs): --x / --no-x
                default = None if p.default is None else bool(p.default)
                names = [f"{p.flag}/--no-{p.flag[2:]}"] + ([p.meta.short] if p.meta.short else [])
                info = typer.Option(default, *names, help=help_text, show_default=False)
            else:
                default = ... if p.required else None
                shown = p.default if p.default not in (None, [], ()) else False
                info = typer.Option(default, *names, help=help_text, show_default=shown if shown is not False else False)
        sentinel_defaults[p.name] = p.default
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=typ))
    params.append(inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY,
                                    default=typer.Option(None, "--context", "-c", help="Run in this context."),
                                    annotation=Optional[str]))
    params.append(inspect.Parameter("json_", inspect.Parameter.KEYWORD_ONLY,
                                    default=typer.Option(False, "--json", help="Print JSON (stable shape) instead of text."),
                                    annotation=bool))
    if v.destructive:
        params.append(inspect.Parameter("yes", inspect.Parameter.KEYWORD_ONLY,
                                        default=typer.Option(False, "--yes", "-y", help="Do it without asking."),
                                        annotation=bool))

    def command(**kwargs: Any) -> None:
        context = kwargs.pop("context") or options.context
        as_json = kwargs.pop("json_") or options.json
        yes = kwargs.pop("yes", False)
        args = {}
        for p in v.params:
            value = kwargs[p.name]
            if p.is_list:
                value = list(value or [])
                if not value and not p.required:
                    continue
            elif value is None and not p.required:
                continue
            elif p.is_bool and p.default is not None and value == bool(p.default):
                continue
            args[p.name] = value
        _run(v, args, context, as_json, yes)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = v.doc + ("\n\n\b\nExamples:\n" + "\n".join(f"  {e}" for e in v.examples) if v.examples else "")
    command.__name__ = v.action
    return command


def _confirm(v: Verb, args: dict, ctx) -> bool:
    import typer  # ~40 ms: not paid by 'hero --help'

    from herotui import registry

    scope = registry.scope(v.name, args, ctx)  # what it covers: "'Standup': all 23 occurrences, from ..."
    if not sys.stdin.isatty():
        raise HeroError(
            f"'{v.cli_path}' deletes data and needs confirmation" + (f" ({scope})" if scope else ""),
            hint="add --yes to confirm",
        )
    if scope:
        return typer.confirm(f"{v.action.replace('_', ' ').capitalize()} {scope}?", default=False, err=True)
    target = " ".join(str(a) for a in args.values())
    return typer.confirm(f"{v.description.rstrip('.')}: {target}?", default=False, err=True)


def _run(v: Verb, args: dict, context: str | None, as_json: bool, yes: bool) -> None:
    import typer  # ~40 ms: not paid by 'hero --help'

    from herotui import contexts, logs, registry
    from herotui.frontends import render

    logs.setup()
    active = contexts.active_name(context)
    if v.service == "context" and active != contexts.DEFAULT and not contexts.exists(active):
        ctx = None  # 'context create x' with HERO_CONTEXT=x: x cannot exist yet
    else:
        ctx = contexts.current(context)
    confirmed = yes
    if v.destructive and not yes:
        # validate first, so a typo is reported before the question
        v.validate(args)
        if not _confirm(v, args, ctx):
            render.err("cancelled, nothing changed")
            raise typer.Exit(1)
        confirmed = True
    bar = render.progress_bar()  # a long verb's progress (document add), drawn on a terminal
    token = registry.PROGRESS.set(bar)
    try:
        with render.planner_steps(v):  # hero agent run: a line per finished step
            result = registry.call(v.name, args, ctx, actor="cli", confirmed=confirmed, paged=True)  # listings as they come
    finally:
        registry.PROGRESS.reset(token)
        if bar is not None:
            bar.close()  # also on Ctrl+C: the bar is erased before "interrupted"
    if v.terminal:  # shown on this screen (document open: the pager or the viewer), then said how
        from herotui.frontends import present

        result = present.show(result)
    render.output(result, as_json, cross_context=bool(args.get("all_contexts")))
    from herotui.store import db

    for notice in db.take_notices():  # done, with something to know (e.g. the index lags)
        render.err(f"warning: {notice}")
    code = getattr(result, "exit_code", 0)  # a result that reports a failure inside it ('hero ask': a step failed)
    if isinstance(code, int) and code:
        raise typer.Exit(code)


def build_app(argv: list[str], options: RootOptions | None = None) -> typer.Typer:
    import typer  # ~40 ms: not paid by 'hero --help'

    options = RootOptions() if options is None else options
    app = typer.Typer(
        name="hero",
        help=APP_HELP,
        rich_markup_mode=None,
        add_completion=False,
        pretty_exceptions_enable=False,
        no_args_is_help=False,
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        context: Optional[str] = typer.Option(None, "--context", "-c", help=ROOT_OPTIONS[0][1]),
        json_: bool = typer.Option(False, "--json", help=ROOT_OPTIONS[1][1]),
        version: bool = typer.Option(False, "--version", help=ROOT_OPTIONS[2][1]),
    ) -> None:
        options.context = context
        options.json = json_
        if version:
            typer.echo(f"hero {__version__}")
            raise typer.Exit()
        if ctx.invoked_subcommand is None:
            if sys.stdin.isatty() and sys.stdout.isatty() and not json_:
                from herotui.tui import app as tui_app  # light: Textual is imported inside run()

                if tui_app.available():
                    tui_app.run(context=context)
                    return
            from herotui import registry

            _run(registry.get("status.show"), {}, context, json_, False)

    # this module's annotations are strings (``from __future__``): "typer.Context" is given
    # as the class, so Typer need not find ``typer`` among this module's globals
    root.__annotations__["ctx"] = typer.Context

    wanted = _target_service(argv)
    everything = "_HERO_COMPLETE" in os.environ  # completing: every service is needed
    if everything:
        from typer.completion import completion_init  # ~0 ms: Typer is loaded (~44 ms, above)

        completion_init()  # Typer registers its bash/zsh/fish shims only with add_completion
    _add_services(app, wanted, everything, options)
    _add_frontends(app, wanted, everything, options)
    return app


def _add_services(app: typer.Typer, wanted: str | None, everything: bool, options: RootOptions) -> None:
    """A command per verb of the service named on the command line (all when completing); the
    other services as placeholders (their help line only)."""
    import typer  # ~0 ms: build_app loaded it (~44 ms)

    for name, svc in SERVICES.items():
        load = everything or name == wanted
        if load:
            from herotui import registry

            registry.load(name)
        if svc.command:
            if load:
                v = registry.get(svc.command)
                app.command(name, help=v.doc)(_make_command(v, options))
            else:
                app.command(name, help=svc.help)(lambda: None)
            continue
        group = typer.Typer(help=svc.help, rich_markup_mode=None, no_args_is_help=True)
        if load:
            for v in registry.service_verbs(name):
                if not v.cli_name:
                    group.command(v.action.replace("_", "-"), help=v.doc)(_make_command(v, options))
        else:
            group.command("_")(lambda: None)  # placeholder, never shown: the group is loaded when used
        app.add_typer(group, name=name)


def _add_frontends(app: typer.Typer, wanted: str | None, everything: bool, options: RootOptions) -> None:
    """Front-ends that are commands but not verbs (servers): each module's cli(options) builds
    its Typer group, imported only when named on the command line."""
    import importlib

    import typer  # ~0 ms: build_app loaded it (~44 ms)

    for name, (module, help_text) in FRONTEND_GROUPS.items():
        if everything or name == wanted:
            app.add_typer(importlib.import_module(module).cli(options), name=name, help=help_text)
        else:
            placeholder = typer.Typer(help=help_text, rich_markup_mode=None)
            placeholder.command("_")(lambda: None)
            app.add_typer(placeholder, name=name)


FRONTEND_GROUPS: dict[str, tuple[str, str]] = {
    "mcp": ("herotui.frontends.mcp", "Serve every verb as an MCP tool (stdio or HTTP)."),
    "rpc": ("herotui.frontends.rpc", "Serve every verb over JSON-RPC 2.0 (stdio); OpenRPC spec."),
    "tui": ("herotui.tui.app", "Open the terminal UI (what 'hero' opens in a terminal)."),
    "voice": ("herotui.frontends.voice", "Talk to Hero: push-to-talk, transcribe, speak replies."),
    "serve": ("herotui.server.cli", "The resident server: start, status, stop."),
    "doctor": ("herotui.server.doctor", "Health report: server, stores, disk, voice, model."),
}

APP_HELP = (
    "Hero: your terminal-first, sovereign personal operating environment.\n\n"
    "Every command is also a verb of the registry (MCP tool, RPC method, planner tool)."
)
ROOT_OPTIONS = [
    ("-c, --context <str>", "Run in this context (default: HERO_CONTEXT, then 'hero context use')."),
    ("--json", "Print JSON instead of text."),
    ("--version", "Print the version and exit."),
    ("-h, --help", "Show this message and exit."),
]


def fast_help() -> str:
    """``hero --help`` without importing Typer (40 ms): the same text Typer prints.

    A test compares the two, so this cannot drift from the real CLI.
    """
    import textwrap

    def rows(items: list[tuple[str, str]]) -> list[str]:
        width = max(len(k) for k, _ in items) + 2
        out = []
        for key, text in items:
            lines = textwrap.wrap(text, 78 - width) or [""]
            out.append(f"  {key.ljust(width)}{lines[0]}".rstrip())
            out.extend(" " * (width + 2) + line for line in lines[1:])
        return out

    commands = [(n, s.help) for n, s in SERVICES.items() if s.command] + [(n, s.help) for n, s in SERVICES.items() if not s.command]
    commands += [(n, h) for n, (_, h) in FRONTEND_GROUPS.items()]
    paragraphs = [textwrap.fill(p, 78, initial_indent="  ", subsequent_indent="  ") for p in APP_HELP.split("\n\n")]
    parts = ["Usage: hero [OPTIONS] COMMAND [ARGS]...", "", "\n\n".join(paragraphs), "", "Options:", *rows(ROOT_OPTIONS), "",
             "Commands:", *rows(commands)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # arguments that are not UTF-8 (a Latin-1 file name arrives as lone surrogates) are
        # echoed back escaped (\\udce9) instead of failing the print of a result or an error
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    if argv in (["--help"], ["-h"]) and "_HERO_COMPLETE" not in os.environ:
        sys.stdout.write(fast_help())
        sys.exit(0)
    sys.exit(_main(argv))


def _main(argv: list[str]) -> int:
    import typer  # ~40 ms: not paid by 'hero --help'

    from herotui import settings

    debug = settings.get().HERO_DEBUG
    options = RootOptions()  # this call's (tests call _main more than once in a process)
    from typer import exceptions as typer_exc  # ~42 ms cold: paid by commands, not by 'hero --help'

    try:
        app = build_app(argv, options)
        command = typer.main.get_command(app)
        code = command.main(args=argv, prog_name="hero", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except HeroError as exc:
        if debug:
            raise
        from herotui.frontends import render

        render.error(exc, options.json or "--json" in argv)
        return exc.exit_code
    except typer_exc.Abort:
        print("\naborted, nothing changed", file=sys.stderr)
        return 130
    except typer_exc.Exit as exc:
        return exc.exit_code
    except typer_exc.TyperException as exc:  # Click's errors (ClickException and its usage errors)
        # a usage error (missing argument, unknown option, bad value) is raised by Click
        # before the command runs: with --json it is the same error object as any other
        if options.json or _wants_json(argv):
            from herotui.frontends import render

            render.error(_usage_error(exc), True)
        else:
            exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except Exception as exc:  # a bug: say so briefly, show the traceback only on request
        if debug:
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: run again with HERO_DEBUG=1 for the traceback, and report it", file=sys.stderr)
        return 1


def _wants_json(argv: list[str]) -> bool:
    """--json was given (as an option: not after ``--``)."""
    for tok in argv:
        if tok == "--":
            return False
        if tok == "--json":
            return True
    return False


def _usage_error(exc) -> HeroError:
    """A Click usage error as a HeroError (code ``usage``, exit 2), with the help to read."""
    from herotui.errors import UsageError

    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "hero"
    message, hint = exc.format_message(), f"'{path} --help' shows the usage"
    if type(exc).__name__ == "NoArgsIsHelpError":  # 'hero contact': the message would be the whole help
        names = ctx.command.list_commands(ctx) if hasattr(ctx.command, "list_commands") else []
        message = f"'{path}' needs a command" + (f": {', '.join(names)}" if names else "")
    err = UsageError(message, hint=hint)
    err.exit_code = exc.exit_code  # Click's own code (2 for usage errors), as without --json
    return err
