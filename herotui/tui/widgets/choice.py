"""A modal question with a few answers: Enter (or an answer's key) picks, Escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option


class Choice(ModalScreen[str | None]):
    """Ask ``question``; dismiss with the id of the answer picked, or None (Escape).

    ``answers`` are (id, label, key): the key (one letter) picks the answer directly."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]
    DEFAULT_CSS = """
    Choice { align: center middle; }
    Choice > Vertical { width: 72; max-width: 95%; height: auto; max-height: 80%;
                        border: thick $accent; background: $surface; padding: 0 1; }
    Choice OptionList { height: auto; max-height: 12; }
    """

    def __init__(self, question: str, answers: list[tuple[str, str, str]], id: str | None = None) -> None:
        super().__init__(id=id)
        self.question = question
        self.answers = answers

    def compose(self) -> ComposeResult:
        options = [Option(Text.assemble((f"{key}  ", "bold cyan"), label), id=aid) for aid, label, key in self.answers]
        with Vertical():
            yield Static(Text(self.question, style="bold"), id="choice-question")  # wraps
            yield OptionList(*options, id="choice-answers")
            yield Label(Text("Enter or the letter picks · Escape cancels", style="dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event) -> None:
        for aid, _label, key in self.answers:
            if event.character and event.character.lower() == key:
                event.stop()
                self.dismiss(aid)
                return

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
