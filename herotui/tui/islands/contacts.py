"""Contacts: a searchable table, a detail pane, a create form and tagging."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Input, Static

from herotui.tui.format import birthday
from herotui.tui.islands.base import Island
from herotui.tui.widgets.table import Table
from herotui.tui.widgets.verb_form import VerbForm


class ContactsIsland(Island):
    BINDINGS = [
        Binding("n", "new", "New contact"),
        Binding("e", "edit", "Edit"),
        Binding("t", "tag", "Tag"),
        Binding("slash", "find", "Search", show=False),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.contacts: dict[str, Any] = {}
        self.query_text = ""
        self.select_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search contacts (typos are forgiven) · n new · e edit · t tag", id="contacts-search")
        with Horizontal():
            yield Table("Name", "Email", "Company", "Tags", id="contacts-table")
            with VerticalScroll(id="contacts-detail", classes="pane"):
                yield Static("", id="contacts-card")

    def fetch(self) -> Any:
        if self.query_text:
            return self.call("contact.search", {"query": self.query_text, "limit": 200})
        return self.call("contact.list")

    def show(self, data: Any) -> None:
        self.contacts = {c.id: c for c in data}
        self.query_one("#contacts-table", Table).refill(
            ((c.id, (c.name, ", ".join(c.emails), c.company or "", ", ".join(c.tags))) for c in data), keep=self.select_id)
        self.select_id = None
        self._show_card(self._current_id())

    def _current_id(self) -> str | None:
        return self.query_one("#contacts-table", Table).current_key

    def _show_card(self, cid: str | None) -> None:
        card = self.query_one("#contacts-card", Static)
        c = self.contacts.get(cid or "")
        if c is None:
            card.update(Text("no contact selected", style="dim"))
            return
        t = Text(c.name + "\n", style="bold")
        for label, value in (("email", ", ".join(c.emails)), ("phone", ", ".join(c.phones)), ("company", c.company),
                             ("role", c.role), ("tags", ", ".join(c.tags)), ("birthday", birthday(c.birthday)),
                             ("notes", c.notes), ("id", c.id)):
            if value:
                t.append(f"{label:>9}  ", style="dim")
                t.append(f"{value}\n")
        card.update(t)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_card(event.row_key.value if event.row_key else None)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "contacts-search":
            self.query_text = event.value.strip()
            self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "contacts-search":
            self.query_one("#contacts-table", DataTable).focus()

    def select(self, cid: str) -> None:
        """Show contact ``cid`` (from search): clear the filter, reload, put the cursor on it."""
        self.select_id = cid
        search = self.query_one("#contacts-search", Input)
        if search.value:
            search.value = ""  # its Changed message reloads
        self.query_text = ""
        self.reload()

    def action_find(self) -> None:
        self.query_one("#contacts-search", Input).focus()

    def action_new(self) -> None:
        def created(result: Any) -> None:
            if result is not None:
                self.select_id = result.id
                self.reload()

        self.app.push_screen(VerbForm("contact.create", fields=["name", "emails", "company", "tags"],
                                      title="New contact", id="contact-form"), created)

    def action_edit(self) -> None:
        fields = ["name", "emails", "phones", "company", "role", "birthday", "notes"]
        self._form_on_current("contact.update", "Edit {name}", fields=fields, id="contact-edit",
                              values=lambda c: {f: getattr(c, f, None) for f in fields})

    def action_tag(self) -> None:
        self._form_on_current("contact.tag", "Tag {name}")

    def _form_on_current(self, verb: str, title: str, values=None, **form: Any) -> None:
        """Run ``verb`` on the contact under the cursor through its form; then show it again."""
        cid = self._current_id()
        if cid is None:
            self.app.notify("select a contact first", severity="warning", markup=False)
            return
        contact = self.contacts[cid]

        def done(result: Any) -> None:
            if result is not None:
                self.select_id = result.id
                self.reload()

        self.app.push_screen(VerbForm(verb, fixed={"id": cid}, title=title.format(name=contact.name),
                                      values=values(contact) if values else None, **form), done)
