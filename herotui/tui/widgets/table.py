"""The islands' record table: a DataTable refilled whole, its cells shown as written, its
cursor kept on the same record across reloads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist


class Table(DataTable):
    """One row per record, keyed by the record's id; the cursor selects whole rows."""

    def __init__(self, *columns: str, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.add_columns(*columns)

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, or None (no rows)."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor is outside the rows
            return None

    def refill(self, rows: Iterable[tuple[str, Sequence[Any]]], keep: str | None = None, *,
               stay: bool = True) -> None:
        """Replace every row by ``rows`` (key, cells). The cursor goes to the row of key
        ``keep``, or (``stay``) back to the row it is on, when that row is still there, else to
        the first: a reload after a write, here or in another process, leaves the user where
        they were.

        A cell is shown as written: a string is plain text, never Rich markup (a contact named
        "[/]" made the table raise, a document "Budget [draft]" lost its bracket).

        Each column takes the width of its widest cell now, before a frame can be drawn.
        Textual measures new rows at the table's next idle, but keys its drawn rows on changes
        that measuring does not count, so a frame drawn in between kept the columns at the
        width of their labels until the next change (seen under load, and after a cursor
        move right after a refill)."""
        if keep is None and stay:
            keep = self.current_key
        self.clear()
        console = self.app.console
        widths = [measure(console, column.label, 1) for column in self.ordered_columns]
        for key, cells in rows:
            texts = [Text(str(cell), end="") for cell in cells]
            widths = [max(w, measure(console, t, 1)) for w, t in zip(widths, texts)] + widths[len(texts):]
            self.add_row(*texts, key=key)
        for column, width in zip(self.ordered_columns, widths):
            column.content_width = width
        if keep is None:
            return
        try:
            self.move_cursor(row=self.get_row_index(keep))
        except RowDoesNotExist:
            pass
