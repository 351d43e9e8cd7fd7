"""The command palette's provider: every verb of the registry opens its form."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from herotui import registry
from herotui.tui.widgets.verb_form import VerbForm


class VerbCommands(Provider):
    """``contact.create — Create a contact …``: selecting one opens a :class:`VerbForm`."""

    def _verbs(self):
        return sorted(registry.verbs().values(), key=lambda v: v.name)

    async def startup(self) -> None:
        self._all = self._verbs()

    def _open(self, name: str) -> None:
        self.app.push_screen(VerbForm(name))

    async def discover(self) -> Hits:
        for v in getattr(self, "_all", None) or self._verbs():
            yield DiscoveryHit(v.name, partial(self._open, v.name), help=v.description)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for v in getattr(self, "_all", None) or self._verbs():
            text = f"{v.name} {v.description}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(v.name), partial(self._open, v.name), help=v.description)
