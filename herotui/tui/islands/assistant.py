"""Assistant: type a request; see the plan as CLI lines, what ran, and the reply.

The input has the focus whenever the island is shown, so what is typed goes into it (space
included: push-to-talk is for the other islands, where no text field has the focus). A
request that presents a deck ("find the deck about Alex and open it") opens it in the Slides
island, as the same request spoken does.

A plan that waits for a yes (a destructive step, an offer to summarise) keeps the input
focused: ``y`` or ``n`` typed into the empty input answers at once (one key, as the design
asks of the TUI), and the rest of a typed "yes" / "no" and its Enter are taken as part of that
answer, not sent again; "Yes" or any other text typed and sent goes to the planner as it is.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual import events
from textual.binding import Binding
from textual.widgets import Input, RichLog

from herotui.tui.format import ask_text, presented_deck
from herotui.tui.islands.base import Island


class AskInput(Input):
    """The Assistant's input: while a plan waits, a lone y / n in the empty field answers."""

    _rest = ""  # what is left of "yes" / "no" after its first key answered

    async def _on_key(self, event: events.Key) -> None:
        island = self.query_ancestor(AssistantIsland)
        char = event.character or ""
        if self._rest:
            if event.key == "enter" or (char and self._rest.startswith(char.lower())):
                event.stop()
                event.prevent_default()
                self._rest = "" if event.key == "enter" else self._rest[1:] or "\r"
                return
            self._rest = ""
        if island.pending and not self.value and char in ("y", "n"):
            event.stop()
            event.prevent_default()
            self._rest = "es" if char == "y" else "o"
            island.action_answer("yes" if char == "y" else "no")


class AssistantIsland(Island):
    live = False
    BINDINGS = [
        Binding("y", "answer('yes')", "Confirm"),
        Binding("n", "answer('no')", "Cancel"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pending = False

    def compose(self) -> ComposeResult:
        yield RichLog(id="assistant-log", wrap=True, markup=False, highlight=False)
        yield AskInput(placeholder="Ask Hero: what's on today? · add Lena Fischer as a contact · help", id="assistant-input")

    def on_mount(self) -> None:
        self.query_one(RichLog).write(Text("Type a request; every step is shown as the hero command it runs.", style="dim"))

    def focus_first(self) -> None:
        """On arrival: the input (a yes / no awaited is answered there too)."""
        self.query_one(Input).focus()

    def reload(self) -> None:  # the conversation is not reloaded
        self.stale = False

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "answer":
            return self.pending
        return True

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            event.input.value = ""
            self.send(text)

    def send(self, text: str) -> None:
        self.query_one(RichLog).write(Text("> " + text, style="bold cyan"))
        self.run_verb("ask.run", {"text": text, "session": getattr(self.app, "conversation", None)}, self._replied)

    def show_turn(self, turn: Any) -> None:
        """A voice turn (``herotui.voice.loop.VoiceTurn``): what was heard, then the plan and reply."""
        log = self.query_one(RichLog)
        if not turn.heard or turn.result is None:
            log.write(Text("🎤 " + turn.reply, style="dim"))
            return
        heard = Text("🎤 " + turn.transcript, style="bold cyan")
        if getattr(turn, "heard_as", None):
            heard.append(f"  (heard as: {turn.heard_as})", style="dim")
        log.write(heard)
        self._replied(turn.result, focus=False)

    def focus_log(self) -> None:
        self.query_one(RichLog).focus()

    def action_answer(self, word: str) -> None:
        self.send(word)

    def _replied(self, result: Any, focus: bool = True) -> None:
        log = self.query_one(RichLog)
        log.write(ask_text(result))
        self.pending = bool(result.pending)
        self.refresh_bindings()
        if not focus:
            return
        deck = presented_deck(result)
        if deck is not None:  # "... and open it": the deck on screen
            self.app.open_deck(*deck)  # type: ignore[attr-defined]
            return
        self.query_one(Input).focus()  # y / n answer from there too (AskInput)
