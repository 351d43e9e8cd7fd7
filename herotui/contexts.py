"""Contexts: named, isolated workspaces, each with its own stores.

``$HERO_HOME/contexts/<name>/`` holds ``hero.duckdb`` (source of truth), ``index/`` (Tantivy,
derived), ``blobs/`` and ``context.toml`` (the profile). The active context comes from the
explicit ``--context``, then ``HERO_CONTEXT``, then the saved choice (``hero context use``),
then ``personal``, which is created on first use.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from herotui import paths, settings
from herotui.errors import HeroError, InvalidInput, NotFound
from herotui.store import db

DEFAULT = "personal"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PROFILE_KEYS = {"description": str, "color": str}


def validate_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise InvalidInput(
            f"invalid context name '{name}'",
            hint="use 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    return name


def shipped_profiles() -> dict[str, dict]:
    """Profiles shipped with Hero in the top-level ``contexts/`` folder."""
    out = {}
    folder = paths.resource("contexts")
    for f in sorted(folder.glob("*.toml")):
        with f.open("rb") as fh:
            out[f.stem] = tomllib.load(fh)
    return out


@dataclass
class Context:
    """One context: its name, folder and profile; opens its stores for one verb call."""

    name: str
    path: Path
    profile: dict = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.path / "hero.duckdb"

    @property
    def index_path(self) -> Path:
        return self.path / "index"

    @property
    def blobs_path(self) -> Path:
        return self.path / "blobs"

    @property
    def description(self) -> str:
        return self.profile.get("description", "")

    @property
    def color(self) -> str:
        return self.profile.get("color", "")

    @contextmanager
    def read(self) -> Iterator:
        """A read-only DuckDB connection for one verb call (index brought up to date)."""
        with db.read(self) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator:
        """A write transaction: commits, bumps the revision, then updates the index."""
        with db.write(self) as tx:
            yield tx


def context_path(name: str) -> Path:
    return paths.contexts_dir() / name


def exists(name: str) -> bool:
    return (context_path(name) / "context.toml").is_file()


def names() -> list[str]:
    folder = paths.contexts_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "context.toml").is_file())


def load(name: str) -> Context:
    validate_name(name)
    path = context_path(name)
    toml = path / "context.toml"
    if not toml.is_file():
        if name == DEFAULT:
            return create(name)
        known = ", ".join(names()) or "none yet"
        raise NotFound(f"unknown context '{name}' (known: {known})", hint=f"create it with 'hero context create {name}'")
    try:
        with toml.open("rb") as fh:
            profile = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise HeroError(f"cannot read {toml}: {exc}", hint="fix or delete the file") from None
    return Context(name, path, profile)


def write_profile(path: Path, profile: dict) -> None:
    import tomli_w  # ~3 ms: only writing a profile pays for it

    clean = {k: v for k, v in profile.items() if v is not None}
    paths.write_private(path / "context.toml", tomli_w.dumps(clean))  # owner-only whatever the umask


def create(name: str, description: str | None = None, color: str | None = None) -> Context:
    validate_name(name)
    path = context_path(name)
    if (path / "context.toml").is_file():
        raise InvalidInput(f"context '{name}' already exists", hint="pick another name, or 'hero context show " + name + "'")
    profile = dict(shipped_profiles().get(name, {}))
    profile.setdefault("description", "")
    profile.setdefault("color", "")
    if description is not None:
        profile["description"] = description
    if color is not None:
        profile["color"] = color
    paths.ensure_private_dir(paths.contexts_dir())
    paths.ensure_private_dir(path)
    paths.ensure_private_dir(path / "blobs")
    write_profile(path, profile)
    ctx = Context(name, path, profile)
    db.initialise(ctx)
    return ctx


def saved_choice_file() -> Path:
    return paths.config_dir() / "active-context"


def saved_choice() -> str | None:
    try:
        value = saved_choice_file().read_text().strip()
    except OSError:
        return None
    return value or None


def save_choice(name: str) -> None:
    folder = paths.ensure_private_dir(paths.config_dir())
    paths.write_private(folder / "active-context", name + "\n")


def active_name(explicit: str | None = None) -> str:
    """The active context's name: ``--context``, ``HERO_CONTEXT``, saved choice, ``personal``."""
    return explicit or settings.get().HERO_CONTEXT or saved_choice() or DEFAULT


def current(explicit: str | None = None) -> Context:
    return load(active_name(explicit))


def rename(old: str, new: str) -> Context:
    load(old)
    validate_name(new)
    if exists(new):
        raise InvalidInput(f"context '{new}' already exists", hint="pick another name")
    with db.exclusive(load(old)):  # nobody may hold the stores while the folder moves
        os.rename(context_path(old), context_path(new))
    if saved_choice() == old:
        save_choice(new)
    return load(new)


def delete(name: str) -> None:
    ctx = load(name)
    with db.exclusive(ctx):
        trash = ctx.path.with_name(f".{name}.deleting")
        os.rename(ctx.path, trash)
    shutil.rmtree(trash, ignore_errors=True)
    if saved_choice() == name:
        saved_choice_file().unlink(missing_ok=True)
