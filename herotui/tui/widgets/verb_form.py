"""A modal form generated from a verb's parameters; it runs the verb through the registry.

One input per parameter (required ones marked ``*``, defaults as placeholders), a checkbox
for booleans, lists typed comma-separated. A destructive verb needs its "confirm" box ticked.
An edit form is prefilled with ``values``: only the fields the user changed are sent (so an
untouched field never rewrites data), and a text field emptied by the user is sent as ``''``,
which the update verbs read as "clear it".
On success the form closes with the result; on error it stays open and shows the message
and hint (also as a notification).

Fast typing lands where it was typed. Textual hands each key to the widget focused when the
key arrives and runs bindings (tab = next field) only when the key comes back up, so in a
burst ("Lena Fischer<tab>lena@...") the keys after a tab were already queued for the name
field. A :class:`FormInput` therefore moves the focus itself on tab, at once, and passes a
character that was queued for it after the focus left to the field that has the focus now.
The first field is focused synchronously when the form is composed (the screen's
``AUTO_FOCUS``, never a deferred ``focus()`` that could pull the focus back after a tab), and
a character that reached the form itself goes into the focused field.
"""

from __future__ import annotations

from typing import Any

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from herotui import registry
from herotui.tui import calls


class FormInput(Input):
    """A form's text field: tab moves on at once; a key queued here after the focus moved on
    goes to the field that has the focus. No select-on-focus: the field's Focus event comes
    after the keys already passed on to it, and selecting then would let the next key replace
    them ("tmux@example.com" became "@example.com")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused
        if event.key in ("tab", "shift+tab"):
            event.stop()
            event.prevent_default()
            if event.key == "tab":
                self.screen.focus_next()
            else:
                self.screen.focus_previous()
            return
        if focused is not self and isinstance(focused, Input):
            if event.is_printable and event.character:
                event.stop()
                event.prevent_default()
                focused.insert_text_at_cursor(event.character)
            elif event.key == "backspace":
                event.stop()
                event.prevent_default()
                focused.action_delete_left()


class VerbForm(ModalScreen[Any]):
    """Fill in and run verb ``name``; ``fields`` limits the inputs, ``fixed`` presets args."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Run")]
    AUTO_FOCUS = "#fields Input, #fields Checkbox"
    DEFAULT_CSS = """
    VerbForm { align: center middle; }
    VerbForm > Vertical { width: 76; max-width: 98%; height: auto; max-height: 95%;
                          border: thick $accent; background: $surface; padding: 0 1; }
    VerbForm #fields { height: auto; max-height: 28; }
    VerbForm .field-label { margin-top: 1; color: $text-muted; }
    VerbForm .required { color: $text; text-style: bold; }
    VerbForm #error { color: $error; height: auto; }
    VerbForm #buttons { height: auto; align-horizontal: right; }
    VerbForm Button { margin-left: 1; }
    """

    def __init__(self, name: str, fields: list[str] | None = None, fixed: dict | None = None,
                 title: str | None = None, id: str | None = None, values: dict | None = None) -> None:
        super().__init__(id=id)
        self.verb = registry.get(name)
        self.fixed = dict(fixed or {})
        self.values = {k: _as_text(v) for k, v in (values or {}).items() if v not in (None, "", [], ())}
        wanted = fields or [p.name for p in self.verb.params]
        self.params = [p for p in self.verb.params if p.name in wanted and p.name not in self.fixed]
        self.heading = title or f"{self.verb.name} — {self.verb.description}"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.heading, id="heading", markup=False)  # it may quote a name
            with VerticalScroll(id="fields"):
                for p in self.params:
                    label = p.name + (" *" if p.required else "")
                    if p.meta.help:
                        label += f" — {p.meta.help}"
                    if p.is_list:
                        label += " (comma-separated)"
                    if p.is_bool:
                        yield Checkbox(label, value=bool(p.default), id=f"p-{p.name}")
                        continue
                    yield Label(label, classes="field-label" + (" required" if p.required else ""))
                    default = "" if p.default in (None, [], ()) else str(p.default)
                    yield FormInput(self.values.get(p.name, ""), placeholder=default or ("required" if p.required else ""),
                                id=f"p-{p.name}")
                if self.verb.destructive:
                    yield Checkbox("confirm: this deletes or overwrites data", id="confirm")
            yield Static("", id="error", markup=False)  # an error quotes what was typed: shown as written
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Run", id="run", variant="primary")

    def on_mount(self) -> None:
        # The first field is focused before the fields' height is settled; on a slow first
        # layout, scrolling it into view scrolled its label (and the margin) out of sight.
        # The first field is the focused one: show the fields from the top.
        self.call_after_refresh(self.query_one("#fields", VerticalScroll).scroll_home, animate=False)

    def on_key(self, event: events.Key) -> None:
        """A character that reached the form itself (typed before its fields were mounted or
        focused) goes into the focused field, not nowhere."""
        field = self.focused
        if isinstance(field, Input) and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            field.insert_text_at_cursor(event.character)

    def args(self) -> dict[str, Any]:
        out = dict(self.fixed)
        for p in self.params:
            widget = self.query_one(f"#p-{p.name}")
            if isinstance(widget, Checkbox):
                if widget.value != bool(p.default) or p.default is None and widget.value:
                    out[p.name] = widget.value
                continue
            text = widget.value.strip()
            before = self.values.get(p.name)
            if before is not None and text == before:
                continue  # untouched: not sent
            if not text:
                if before is not None and not p.is_list:
                    out[p.name] = ""  # emptied: cleared
                continue
            out[p.name] = [t.strip() for t in text.split(",") if t.strip()] if p.is_list else text
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "run":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        confirmed = bool(self.query("#confirm")) and self.query_one("#confirm", Checkbox).value
        self.query_one("#error", Static).update("running…")
        self._run(self.args(), confirmed)

    @work(thread=True, exclusive=True)
    def _run(self, args: dict, confirmed: bool) -> None:
        try:
            result = self.app.calls.call(self.verb.name, args, self.app.ctx, confirmed=confirmed)  # type: ignore[attr-defined]
        except Exception as exc:
            self.app.call_from_thread(self._failed, calls.error_text(exc))
            return
        self.app.call_from_thread(self._done, result)

    def _failed(self, text: str) -> None:
        self.query_one("#error", Static).update(text)
        self.app.notify(text, title=self.verb.name, severity="error", timeout=8, markup=False)

    def _done(self, result: Any) -> None:
        self.app.notify(calls.summary(result), title=self.verb.name, timeout=6, markup=False)
        self.dismiss(result)


def _as_text(value: Any) -> str:
    """A value as the form's text: lists comma-separated, dates ISO."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    return str(value)
