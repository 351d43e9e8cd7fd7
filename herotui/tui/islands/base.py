"""The base of every island: a load worker in a thread, results posted back to the UI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events, work
from textual.containers import Container
from textual.message import Message

from herotui.tui import calls


class Island(Container):
    """A tab's content. Subclasses implement :meth:`fetch` (in a thread) and :meth:`show`.

    ``reload()`` re-runs the load worker (exclusive: a newer load cancels an older one); the
    app calls it on mount, on a context switch and when the revision file changes.
    """

    stale = False
    live = True  # reload when another process changes the context's data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._when_ready: list[Callable[[Any], Any]] = []

    class Failed(Message):
        """A verb call in a worker failed; the app shows the message in a notification."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    @property
    def ctx(self):
        return self.app.ctx  # type: ignore[attr-defined]

    def call(self, name: str, args: dict | None = None, confirmed: bool = False) -> Any:
        """A registry call in the active context (from a worker thread)."""
        return self.app.calls.call(name, args, self.ctx, confirmed=confirmed)  # type: ignore[attr-defined]

    def on_key(self, event: events.Key) -> None:
        """A key typed right after one that opened a form (or any modal screen) reached this
        island's focused widget before the screen changed: it belongs to the new screen, so it
        is sent there again, in order (a fast "n Lena Fischer <tab> lena@..." fills the form)."""
        if self.screen is not self.app.screen and self.is_attached:
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))

    def on_mount(self) -> None:
        self.reload()
        if self._when_ready:
            self.call_after_refresh(self._run_when_ready)

    def when_ready(self, fn: Callable[[Any], Any]) -> None:
        """Run ``fn(self)`` now, or once mounted (an island is mounted when first shown)."""
        if self.is_mounted:
            fn(self)
        else:
            self._when_ready.append(fn)

    def _run_when_ready(self) -> None:
        pending, self._when_ready = self._when_ready, []
        for fn in pending:
            fn(self)

    def focus_first(self) -> None:
        """Focus the island's first focusable widget (after a switch to it)."""
        for widget in self.query("*"):
            if widget.focusable:
                widget.focus()
                return

    def reload(self) -> None:
        self.stale = False
        self._load()

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        try:
            data = self.fetch()
        except Exception as exc:  # a HeroError, or a bug: shown, never raised into the UI
            self.post_message(self.Failed(calls.error_text(exc)))
            return
        self.app.call_from_thread(self.show, data)

    def fetch(self) -> Any:  # in a worker thread
        return None

    def show(self, data: Any) -> None:  # on the UI thread
        pass

    def run_verb(self, name: str, args: dict | None, then=None, confirmed: bool = False) -> None:
        """Run one verb in a worker; ``then(result)`` runs on the UI thread when it succeeds."""
        self._run_verb(name, args or {}, then, confirmed)

    @work(thread=True, group="verb")
    def _run_verb(self, name: str, args: dict, then, confirmed: bool) -> None:
        try:
            result = self.call(name, args, confirmed=confirmed)
        except Exception as exc:
            self.post_message(self.Failed(calls.error_text(exc)))
            return
        if then is not None:
            self.app.call_from_thread(then, result)
