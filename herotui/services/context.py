"""Contexts as verbs: list, create, use, show, rename, delete."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel

from herotui import contexts
from herotui.registry import P, verb

SERVICE = "context"
Name = Annotated[str, P("Context name", positional=True)]


class ContextInfo(BaseModel):
    """A context and its profile."""

    name: str
    description: str = ""
    color: str = ""
    active: bool = False
    path: str = ""

    __columns__ = ("name", "active", "description", "color")


def _info(ctx: contexts.Context) -> ContextInfo:
    return ContextInfo(
        name=ctx.name,
        description=ctx.description,
        color=ctx.color,
        active=ctx.name == contexts.active_name(),
        path=str(ctx.path),
    )


@verb(examples=["hero context list"])
def list_(ctx) -> list[ContextInfo]:
    """List the contexts, marking the active one."""
    found = contexts.names()
    if contexts.DEFAULT not in found:
        contexts.load(contexts.DEFAULT)  # created on first use
        found = contexts.names()
    return [_info(contexts.load(n)) for n in found]


@verb(mutates=True, examples=["hero context create business --description 'Work' --color blue"])
def create(ctx, name: Name, description: Annotated[str | None, P("What the context is for")] = None,
           color: Annotated[str | None, P("Colour shown for it (name or #hex)")] = None) -> ContextInfo:
    """Create a context: its own database, index and files, isolated from the others."""
    return _info(contexts.create(name, description, color))


@verb(mutates=True, examples=["hero context use business"])
def use(ctx, name: Name) -> ContextInfo:
    """Make a context the active one for later commands (HERO_CONTEXT and --context still win)."""
    target = contexts.load(name)
    contexts.save_choice(target.name)
    return _info(target)


@verb(examples=["hero context show", "hero context show business"])
def show(ctx, name: Annotated[str | None, P("Context name (default: the active one)", positional=True)] = None) -> ContextInfo:
    """Show a context's profile and where its data lives."""
    return _info(contexts.load(name) if name else ctx or contexts.current())


@verb(mutates=True, examples=["hero context rename work business"])
def rename(ctx, name: Name, new_name: Annotated[str, P("New name", positional=True)]) -> ContextInfo:
    """Rename a context (its data moves with it)."""
    return _info(contexts.rename(name, new_name))


class Deleted(BaseModel):
    """What a delete removed."""

    id: str
    name: str


@verb(destructive=True, examples=["hero context delete old-project --yes"])
def delete(ctx, name: Name) -> Deleted:
    """Delete a context and all its data (contacts, events, files). Cannot be undone."""
    contexts.delete(name)
    return Deleted(id=name, name=name)
