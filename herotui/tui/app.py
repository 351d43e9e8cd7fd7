"""Entry points of the terminal UI: ``hero tui`` (Typer group) and :func:`run`.

This module stays free of Textual at import time (textual.app costs ~330 ms): the CLI
imports it only when ``tui`` is named on the command line, and Textual itself is imported
inside :func:`run`. The application lives in :mod:`herotui.tui.shell`.
"""

from __future__ import annotations

from typing import Optional  # Typer evaluates the callback's string annotations here

# key -> (tab title, "module:Class" under herotui.tui.islands). An island is imported and
# mounted when it is first shown (only the first one at start-up: a faster first paint).
ISLANDS = {
    "home": ("Home", "home:HomeIsland"),
    "contacts": ("Contacts", "contacts:ContactsIsland"),
    "calendar": ("Calendar", "calendar:CalendarIsland"),
    "documents": ("Documents", "documents:DocumentsIsland"),
    "slides": ("Slides", "slides:SlidesIsland"),
    "knowledge": ("Knowledge", "knowledge:KnowledgeIsland"),
    "search": ("Search", "search:SearchIsland"),
    "assistant": ("Assistant", "assistant:AssistantIsland"),
    "terminals": ("Terminals", "terminals:TerminalsIsland"),
}


def available() -> bool:
    """Whether Textual can be imported (without importing it)."""
    import importlib.util  # lazy: 'import herotui.tui.app' (the island table) stays light

    return importlib.util.find_spec("textual") is not None


def run(island: str | None = None, context: str | None = None) -> None:
    """Open the terminal UI on ``island`` (default: home) in ``context`` (default: the active one)."""
    from herotui import contexts, logs  # lazy: 'import herotui.tui.app' (the island table) stays light
    from herotui.errors import UsageError  # lazy: 'import herotui.tui.app' (the island table) stays light

    if island is not None and island not in ISLANDS:
        raise UsageError(f"unknown island '{island}'", hint="one of: " + ", ".join(ISLANDS))
    if not available():
        raise UsageError("the terminal UI needs Textual", hint="pip install 'textual==8.*'")
    logs.setup()
    ctx = contexts.current(context)  # fails early, before the screen switches, on a bad name
    from herotui.tui.shell import HeroApp  # ~330 ms: Textual

    from herotui.server import bridge, live  # lazy: 'import herotui.tui.app' (the island table) stays light

    # verbs run in the resident server (started when none runs); in-process where none can
    app = HeroApp(island=island, context=ctx.name, served=bridge.available())

    live.follow(app, lambda: app.ctx.name, lambda: (setattr(app, "_revision", None), app._poll_revision()))
    try:
        app.run()
    finally:
        app.calls.close()


def cli(options=None):
    """The ``hero tui`` command (a Typer app whose callback runs the UI); ``options``: the
    root command's (``hero --context X tui``)."""
    import typer  # ~44 ms: only 'hero tui' on the command line pays for it (not 'import herotui.tui.app')

    app = typer.Typer(rich_markup_mode=None, add_completion=False, invoke_without_command=True)

    @app.callback(invoke_without_command=True)
    def tui(
        island: Optional[str] = typer.Option(None, "--island", "-i", help="Open on this island: " + ", ".join(ISLANDS) + "."),
        context: Optional[str] = typer.Option(None, "--context", "-c", help="Open in this context."),
    ) -> None:
        """Open the terminal UI (what 'hero' opens in a terminal)."""
        run(island=island, context=context or getattr(options, "context", None))  # hero --context X tui

    return app
