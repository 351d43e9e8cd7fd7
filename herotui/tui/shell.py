"""The Hero application: header, islands as tabs, footer, command palette, live refresh.

Decisions:

* Islands are tabs of one ``TabbedContent``; each is a thin view whose data comes from
  registry verbs run in ``@work(thread=True, exclusive=True)`` workers (never on the UI thread).
* Live refresh polls the active context's ``index/hero-revision`` file every 0.5 s (a stat
  and a small read, no database or index lock). When it changes, the visible island reloads
  and the others are marked stale and reload when shown.
* ``ctrl+o`` picks the context (``context.use``: saved as the active context); every island
  reloads. ``ctrl+p`` is the command palette: every verb, each opening a form.
* Space is push-to-talk (an app-wide priority binding, off while a text field has focus or a
  modal screen is up): the first press listens in a ``@work(thread=True)`` worker, VAD or a
  second press ends the utterance, Esc cancels. The header shows the voice state; the
  transcript and plan go to the Assistant's log and the island the plan touches comes to the
  front. No microphone or no voice extra: a one-line notification, nothing else changes.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, TabbedContent, TabPane, TextArea

from herotui import contexts, settings
from herotui.store.index import REVISION_FILE
from herotui.tui import calls
from herotui.tui.app import ISLANDS
from herotui.tui.calls import Calls, error_text
from herotui.tui.commands import VerbCommands
from herotui.tui.format import presented_deck
from herotui.tui.islands.base import Island
from herotui.tui.widgets.context_picker import ContextPicker
from herotui.tui.widgets.header import HeroHeader
from herotui.voice import INSTALL_HINT, silent_by_env

POLL_SECONDS = 0.5


def _alt_digits_as_alt() -> None:
    """Read ESC+digit as alt+digit (the island keys), as xterm, tmux and SSH sessions send them.

    Textual maps ESC+digit to the characters macOS's Option key types (ESC 2 -> "™", for
    WezTerm on macOS), so alt+1..9 never reach a binding on Linux terminals, and in a text
    field they typed "™" or "£". Dropping those ten entries of its sequence table makes the
    parser fall back to ESC-prefix = alt. Typing "£" itself (a keyboard layout) is unaffected.

    Textual has no public way to change its key parser: this edits its (private) table, once,
    when the first app is built (not when the module is imported); tests/e2e/test_tui_tmux.py
    sends ESC+digit through a real terminal and fails if a Textual upgrade moves the table.
    """
    from textual import _ansi_sequences  # ~0 ms (loaded with Textual): kept next to the one edit of its private table

    for digit in "1234567890":
        _ansi_sequences.ANSI_SEQUENCES_KEYS.pop("\x1b" + digit, None)  # type: ignore[attr-defined]


# the voice indicator: listen_once's states -> the header's status text ("" is idle)
VOICE_STATUS = {
    "listening": "● listening  (space: stop · esc: cancel)",
    "transcribing": "◌ transcribing…",
    "thinking": "◌ thinking…",
    "speaking": "♪ speaking…",
}
NO_MICROPHONE = "no microphone here: type in the Assistant"

# the service of a plan's first step -> the island that shows it
SERVICE_ISLAND = {"contact": "contacts", "calendar": "calendar", "document": "documents", "slides": "slides",
                  "knowledge": "knowledge", "search": "search"}


def island_class(key: str) -> type[Island]:
    """The island class for ``key``, imported now (islands load when first shown)."""
    module, name = ISLANDS[key][1].split(":")
    return getattr(importlib.import_module(f"herotui.tui.islands.{module}"), name)


class HeroApp(App):
    """Hero's terminal UI."""

    TITLE = "Hero"
    CSS_PATH = "hero.tcss"
    COMMANDS = App.COMMANDS | {VerbCommands}
    BINDINGS = [
        Binding("ctrl+o", "pick_context", "Context"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),  # the footer docks it right
        Binding("ctrl+r", "reload", "Reload", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("space", "talk", "Talk", priority=True),
        Binding("escape", "cancel_talk", "Cancel", show=False, priority=True),
        # priority: alt+digit switches islands even while a text field has focus (never typed into it)
        *[Binding(f"alt+{i}", f"island({i})", show=False, priority=True) for i in range(1, 10)],
    ]

    def __init__(self, island: str | None = None, context: str | None = None, served: bool = False) -> None:
        super().__init__()
        _alt_digits_as_alt()
        self.ctx = contexts.current(context)
        # how verbs run: through the resident server when ``served`` (hero, hero tui), else here
        self.calls = Calls(served=served)
        self.initial_island = island or "home"
        self._revision: str | None = None
        self.voice_state = ""  # "" idle, else a VOICE_STATUS key
        self.voice_history: list[str] = []  # the last states shown (newest last)
        self._voice_stop: threading.Event | None = None
        self._voice_cancel: threading.Event | None = None
        # one conversation for what is typed and what is said in this app (a spoken question
        # takes a typed "yes" and the other way round), apart from every other front-end
        self.conversation = f"tui-{os.getpid()}-{id(self):x}"

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeroHeader(id="header")
        with TabbedContent(initial=self.initial_island, id="islands"):
            for key, (title, _) in ISLANDS.items():
                with TabPane(title, id=key):
                    if key == self.initial_island:  # the others are mounted when first shown
                        yield island_class(key)(id=f"island-{key}")
        yield Footer()

    def on_mount(self) -> None:
        # the first island's own focus (the Assistant's input; elsewhere no text field, so
        # space talks), not the tab bar's
        self.island(self.initial_island).when_ready(lambda i: i.focus_first())  # at once: keys typed next land there
        self._show_context()
        self._revision = self._read_revision()
        self.set_interval(POLL_SECONDS, self._poll_revision)

    def _show_context(self) -> None:
        header = self.query_one(HeroHeader)
        header.set_context(self.ctx.name, self.ctx.color)
        header.set_island(ISLANDS[self.active_key()][0])
        self.sub_title = self.ctx.name

    # --- islands --------------------------------------------------------------------------

    def islands(self) -> list[Island]:
        return list(self.query(Island))

    def island(self, key: str) -> Island:
        """The island ``key``, mounted in its tab now if it was not yet."""
        pane = self.query_one("#islands", TabbedContent).get_pane(key)
        found = pane.query_children(Island)
        if found:
            return found.first()
        island = island_class(key)(id=f"island-{key}")
        pane.mount(island)
        return island

    def active_key(self) -> str:
        return self.query_one("#islands", TabbedContent).active or self.initial_island

    def active_island(self) -> Island:
        return self.island(self.active_key())

    def show_island(self, key: str, then: Callable[[Any], Any] | None = None) -> Island:
        """Bring island ``key`` to the front; ``then(island)`` runs once it is mounted."""
        # drop the focus first: a focused widget in the old pane would pull its tab back
        self.set_focus(None)
        self.query_one("#islands", TabbedContent).active = key
        island = self.island(key)
        island.when_ready(lambda i: self.call_after_refresh(i.focus_first))
        if then is not None:
            island.when_ready(then)
        return island

    def action_island(self, number: int) -> None:
        keys = list(ISLANDS)
        if 1 <= number <= len(keys):
            self.show_island(keys[number - 1])

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id != "islands":  # the Terminals island's own tabs
            return
        try:
            island = self.active_island()  # mounted (and loading) on its first showing
            self.query_one(HeroHeader).set_island(ISLANDS[self.active_key()][0])
        except NoMatches:  # a late message while the app is closing: nothing left to show it in
            return
        if island.stale:
            island.reload()

    def on_island_failed(self, message: Island.Failed) -> None:
        self.notify(message.text, title="error", severity="error", timeout=8, markup=False)

    def action_reload(self) -> None:
        for island in self.islands():
            island.reload()

    # --- contexts -------------------------------------------------------------------------

    def action_pick_context(self) -> None:
        def chosen(name: str | None) -> None:
            if name and name != self.ctx.name:
                self.switch_context(name)

        self.push_screen(ContextPicker(self.ctx.name), chosen)

    def switch_context(self, name: str) -> None:
        try:
            self.calls.call("context.use", {"name": name}, self.ctx)
            self.ctx = contexts.load(name)
        except Exception as exc:
            self.notify(calls.error_text(exc), title="context", severity="error", markup=False)
            return
        self._show_context()
        self._revision = self._read_revision()
        self.notify(f"context: {name}", timeout=3, markup=False)
        self.action_reload()

    # --- live refresh ---------------------------------------------------------------------

    def _revision_file(self) -> Path:
        return self.ctx.index_path / REVISION_FILE

    def _read_revision(self) -> str | None:
        """The index revision, read without any lock (a tiny file replaced atomically)."""
        path = self._revision_file()
        try:
            st = os.stat(path)
            return f"{st.st_mtime_ns}:{path.read_text().strip()}"
        except OSError:
            return None

    def _poll_revision(self) -> None:
        rev = self._read_revision()
        if rev == self._revision:
            return
        self._revision = rev
        try:
            active = self.active_island()
        except NoMatches:  # the app is closing: its tabs are already gone
            return
        for island in self.islands():
            if island is active:
                island.reload()
            elif island.live:
                island.stale = True

    # --- voice (push-to-talk) -------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "talk":
            if isinstance(self.screen, ModalScreen):
                return False
            from herotui.tui.widgets.terminal import HeroTerminal  # lazy: the terminal widget (~75 modules) loads with the first terminal tab

            return not isinstance(self.focused, (Input, TextArea, HeroTerminal))  # a space typed into the field
        if action == "cancel_talk":  # Esc belongs to a modal screen (the palette, a picker) when one is up
            return self.voice_state == "listening" and not isinstance(self.screen, ModalScreen)
        return True

    def action_talk(self) -> None:
        if self.voice_state == "listening" and self._voice_stop is not None:
            self._voice_stop.set()  # the second press ends the utterance
            self.set_voice_state("transcribing")
            return
        if self.voice_state:  # transcribing, thinking or speaking: one turn at a time
            return
        missing = _voice_missing()
        if missing:
            self.notify(missing, title="voice", severity="warning", timeout=8, markup=False)
            return
        self._voice_stop, self._voice_cancel = threading.Event(), threading.Event()
        self.set_voice_state("listening")
        self._listen(self._voice_stop, self._voice_cancel)

    def action_cancel_talk(self) -> None:
        if self._voice_cancel is not None:
            self._voice_cancel.set()
        self.set_voice_state("")

    def set_voice_state(self, state: str) -> None:
        self.voice_state = state if state in VOICE_STATUS else ""
        self.voice_history.append(self.voice_state)
        del self.voice_history[:-20]
        self.query_one(HeroHeader).set_status(VOICE_STATUS.get(self.voice_state, ""))
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="voice")
    def _listen(self, stop: threading.Event, cancel: threading.Event) -> None:
        held = threading.Event()

        def state(name: str) -> None:  # in this worker thread
            # After recording: "transcribing" (the vocabulary hint reads the database), then
            # "thinking" (plan and run). From the first of them the worker holds the UI's call
            # lock, as every UI call does (one DuckDB connection at a time); the UI thread is
            # never waited on while the lock is held, so no deadlock.
            if name in VOICE_STATUS and not cancel.is_set():
                self.call_from_thread(self.set_voice_state, name)
            if name in ("transcribing", "thinking") and not held.is_set():
                self.calls.lock.acquire()
                held.set()
            elif name == "done" and held.is_set():
                held.clear()
                self.calls.lock.release()

        try:
            from herotui.voice import loop  # lazy: the voice loop (~35 modules) loads on the first push-to-talk
            from herotui.voice.capture import NoMicrophone  # lazy: as the loop
        except ImportError:
            self.call_from_thread(self._voice_failed, _install_text(), "warning")
            return
        try:
            try:
                turn = loop.listen_once(self.ctx, cancel=cancel, stop=stop, on_state=state, session=self.conversation)
            finally:
                if held.is_set():
                    held.clear()
                    self.calls.lock.release()
        except NoMicrophone:
            self.call_from_thread(self._voice_failed, NO_MICROPHONE, "warning")
            return
        except ImportError:
            self.call_from_thread(self._voice_failed, _install_text(), "warning")
            return
        except Exception as exc:  # a HeroError (no speech model, ...) or a bug: shown, never raised
            self.call_from_thread(self._voice_failed, error_text(exc), "error")
            return
        if turn is None or cancel.is_set():
            self.call_from_thread(self.set_voice_state, "")
            return
        self.call_from_thread(self.show_turn, turn)
        if turn.heard and _can_speak():
            self.call_from_thread(self.set_voice_state, "speaking")
            try:
                loop.speak_reply(turn)
            except Exception:
                pass  # speaking is a bonus: the reply is on screen
        self.call_from_thread(self.set_voice_state, "")

    def _voice_failed(self, text: str, severity: str) -> None:
        self.set_voice_state("")
        self.notify(text, title="voice", severity=severity, timeout=8, markup=False)  # type: ignore[arg-type]

    def show_turn(self, turn: Any) -> None:
        """A voice turn on screen: the Assistant's log, then the island its plan touches."""
        self.island("assistant").when_ready(lambda assistant: assistant.show_turn(turn))
        key = island_for(turn)
        if turn.transcript:
            self.notify(f"“{turn.transcript}”\n{turn.reply}", title="voice", timeout=6, markup=False)
        deck = presented_deck(turn.result) if key == "slides" else None
        if deck is not None:
            self.open_deck(*deck)
        elif key == "assistant" and turn.waiting_for_yes:
            self.show_island(key, then=lambda assistant: self.call_after_refresh(assistant.focus_log))
        elif key != "assistant":  # space talks again there: not its search field (it takes a space as text)
            self.show_island(key, then=lambda island: self.call_after_refresh(_focus_past_text_fields, island))
        else:
            self.show_island(key)


    def open_deck(self, deck_id: str, start: int = 1) -> None:
        """The Slides island on deck ``deck_id`` at slide ``start`` (what "open it" opens)."""
        self.show_island("slides", then=lambda slides: slides.present(deck_id, start))


def _focus_past_text_fields(island: Any) -> None:
    """After a voice turn: when the island's first focusable widget (what ``focus_first`` just
    focused) is a text field, focus its first other one (a table), so the next space talks."""
    focusable = [w for w in island.query("*") if w.focusable]
    if not focusable or not isinstance(focusable[0], (Input, TextArea)):
        return
    other = next((w for w in focusable if not isinstance(w, (Input, TextArea))), None)
    if other is not None:
        other.focus()  # queued after focus_first's (Widget.focus defers to call_later)


def island_for(turn: Any) -> str:
    """The island a voice turn's plan touches (the first step's service), else the Assistant."""
    result = getattr(turn, "result", None)
    if result is None or result.pending or not result.plan.steps:
        return "assistant"
    return SERVICE_ISLAND.get(result.plan.steps[0].verb.split(".", 1)[0], "assistant")


def _install_text() -> str:
    return f"voice is not installed: {INSTALL_HINT}"


def _voice_missing() -> str | None:
    """Why push-to-talk cannot work at all here (the voice extra missing), else None."""
    stt_ok = find_spec("faster_whisper") is not None or (
        settings.get().HERO_WHISPER_MODEL is not None and find_spec("pywhispercpp") is not None)
    if not stt_ok or find_spec("numpy") is None:
        return _install_text()
    return None


def _can_speak() -> bool:
    """Speak the reply only when it would be heard (an output device, voice not silenced)."""
    if silent_by_env():
        return False
    try:
        from herotui.voice import tts  # lazy: tts probes the audio output; only the voice indicator asks

        return tts.output_available()[0]
    except Exception:
        return False
