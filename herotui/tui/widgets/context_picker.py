"""A modal list of the contexts; selecting one dismisses with its name."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from herotui import contexts


class ContextPicker(ModalScreen[str | None]):
    """Pick the active context (Enter) or cancel (Escape)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]
    DEFAULT_CSS = """
    ContextPicker { align: center middle; }
    ContextPicker > Vertical { width: 60; max-width: 95%; height: auto; max-height: 80%;
                               border: thick $accent; background: $surface; padding: 0 1; }
    ContextPicker OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        options = []
        for name in contexts.names() or [self.current]:
            try:
                ctx = contexts.load(name)
                color, desc = ctx.color, ctx.description
            except Exception:
                color, desc = "", ""
            label = Text("● ", style=_safe(color)) + Text(name, style="bold")
            if name == self.current:
                label.append("  (active)", style="dim")
            if desc:
                label.append(f"\n  {desc}", style="dim")
            options.append(Option(label, id=name))
        with Vertical():
            yield Label("Switch context (Enter) · Escape cancels")
            yield OptionList(*options, id="contexts")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        try:
            ol.highlighted = ol.get_option_index(self.current)
        except Exception:
            pass
        ol.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def _safe(color: str) -> str:
    try:
        Style.parse(color)
        return color
    except Exception:
        return ""
