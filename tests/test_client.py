"""The Python client: in-process, and over ``hero rpc serve --stdio`` in a subprocess."""

from __future__ import annotations

import inspect
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

from herotui.client import Hero, RemoteError
from herotui.errors import ConfirmationRequired, InvalidInput, NotFound


def hero_argv() -> list[str]:
    return [str(Path(sys.executable).parent / "hero"), "rpc", "serve", "--stdio"]


@pytest.fixture
def remote(hero_home):
    with Hero.connect_stdio(hero_argv()) as h:
        yield h


def test_import_is_light():
    code = ("import sys, herotui.client; from herotui.client import Hero; h = Hero(); dir(h); h.contact; "
            "bad = [m for m in ('duckdb', 'tantivy', 'typer', 'textual') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_attributes_signatures_and_help():
    hero = Hero()
    assert {"contact", "calendar", "document", "search", "status"} <= set(dir(hero))
    assert {"create", "show", "list", "delete", "import_"} <= set(dir(hero.contact))
    sig = inspect.signature(hero.contact.create)
    assert list(sig.parameters)[:2] == ["name", "emails"]
    assert sig.parameters["name"].default is inspect.Parameter.empty
    assert str(sig.parameters["emails"].annotation) == "list[str]"
    assert sig.parameters["context"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "confirm" in inspect.signature(hero.contact.delete).parameters
    assert "confirm" not in sig.parameters
    text = pydoc.render_doc(hero.contact, renderer=pydoc.plaintext)
    assert "Create a contact in the active context" in text and "delete(self, id: str" in text and "ContactVerbs" in text
    assert hero.contact.create.__doc__.startswith("Create a contact")
    with pytest.raises(AttributeError):
        hero.nosuch
    with pytest.raises(AttributeError):
        hero.contact.nosuch
    assert getattr(hero.contact, "import") == hero.contact.import_


def test_in_process(tmp_path):
    from herotui.services.contact import Contact

    hero = Hero()
    ada = hero.contact.create(name="Ada Lovelace", emails=["ada@example.com"], tags=["math"])
    assert isinstance(ada, Contact) and ada.emails == ["ada@example.com"]
    assert hero.contact.show(ada.id) == ada  # required parameters by position
    assert [c.id for c in hero.contact.list()] == [ada.id]
    assert hero.contact.tag(ada.id, ["x"]).tags == ["math", "x"]
    with pytest.raises(InvalidInput, match="--email"):
        hero.contact.create(name="Bob", emails=["nope"])
    with pytest.raises(InvalidInput):
        hero.contact.create()  # missing required argument
    with pytest.raises(NotFound):
        hero.contact.show("01ZZZZ")
    with pytest.raises(ConfirmationRequired):
        hero.contact.delete(ada.id)
    assert hero.contact.delete(ada.id, confirm=True).id == ada.id
    # context: the client's, and per call
    Hero().context.create(name="business")
    lena = Hero(context="business").contact.create(name="Lena Fischer", company="Lumen Labs")
    assert hero.contact.list() == []
    assert hero.contact.list(context="business") == [lena]
    assert hero.call("contact.search", {"query": "Lena"}, context="business")[0].id == lena.id
    history = hero.history.list(limit=100)
    assert "python" in {h.actor for h in history}


def test_stdio_gives_the_same_models(remote):
    from herotui.services.calendar import Event
    from herotui.services.contact import Contact

    local = Hero()
    assert remote.remote and not local.remote
    ada = remote.contact.create(name="Ada Lovelace", emails=["ada@example.com"], birthday="1815-12-10")
    assert isinstance(ada, Contact)
    assert local.contact.show(ada.id) == ada == remote.contact.show(ada.id)
    ev = remote.calendar.add("Quarterly", "tomorrow 10am", attendees=[ada.id])
    assert isinstance(ev, Event) and ev.start.tzinfo is not None
    assert local.calendar.today() == remote.calendar.today()
    assert local.calendar.agenda(days=3) == remote.calendar.agenda(days=3)
    assert local.knowledge.list() == remote.knowledge.list()
    assert local.status.show().model_dump() == remote.status.show().model_dump()
    assert remote.discover()["info"]["title"] == "Hero"


def test_stdio_errors_and_context(remote):
    ada = remote.contact.create(name="Ada")
    with pytest.raises(InvalidInput) as exc:
        remote.contact.create(name="")
    assert "must not be empty" in exc.value.message and exc.value.hint
    with pytest.raises(NotFound):
        remote.contact.show("01ZZZZ")
    with pytest.raises(NotFound):
        remote.contact.list(context="nowhere")
    with pytest.raises(ConfirmationRequired):
        remote.contact.delete(ada.id)
    assert remote.contact.delete(ada.id, confirm=True).id == ada.id
    remote.context.create(name="business")
    remote.contact.create(name="Lena", context="business")
    assert [c.name for c in Hero(context="business").contact.list()] == ["Lena"]
    assert remote.contact.list() == []


def test_stdio_through_fake_ssh_and_dead_server(tmp_path, hero_home):
    fake_ssh = tmp_path / "ssh"
    fake_ssh.write_text("#!/bin/sh\nshift\nexec \"$@\"\n")  # stands in for 'ssh box CMD...'
    fake_ssh.chmod(0o755)
    with Hero.connect_stdio([str(fake_ssh), "box", *hero_argv()], context="personal") as h:
        assert h.contact.create(name="Remote Ada").name == "Remote Ada"
        assert [c.name for c in Hero().contact.list()] == ["Remote Ada"]
    dead = Hero.connect_stdio([sys.executable, "-c", "import sys; print('boom', file=sys.stderr)"])
    with pytest.raises(RemoteError, match="closed the connection") as exc:
        dead.status.show()
    dead.close()
    assert "boom" in (exc.value.hint or "")
    with pytest.raises(RemoteError, match="cannot start"):
        Hero.connect_stdio([str(tmp_path / "no-such-program")])
