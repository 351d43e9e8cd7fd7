"""Hero's settings: every ``HERO_*`` environment variable, declared once in :class:`Settings`.

One field per variable, each with its type, default and a docstring (the reference in
``docs/settings.md`` is generated from them, and ``hero config show`` lists them with their
values and where each came from). A test fails when code reads a ``HERO_*`` name that is not
a field here, or a field has no docstring.

Reading: ``settings.get().HERO_LOCK_TIMEOUT``. :func:`get` parses the environment once and
keeps the result; it parses again only when a ``HERO_*`` variable of this model changed
since (the test suite sets ``HERO_HOME`` per test, ``hero voice --silence-ms`` sets
``HERO_VAD_SILENCE_MS``): the check is one dictionary look-up per field, a few microseconds.

Where a value comes from: the environment, else the field's default (there is no settings
file for these). A value that cannot be parsed (``HERO_LOCK_TIMEOUT=soon``) is not fatal to
the others: that field keeps its default, :meth:`Settings.problem` says what was wrong, and
the code that reads it decides whether that is an error (``HERO_MAX_IMPORT_MB``, ``HERO_TZ``
are; a bad ``HERO_TERMINAL_SCROLLBACK`` is a warning; a bad number for the voice is ignored).
The model settings (``HERO_MODEL*``) are the environment's layer of :mod:`herotui.config`,
which adds the context's profile and ``config.toml`` under its own precedence rules;
``hero config show`` shows both.

Two readers, one declaration. Reading a setting must stay cheap: it happens on paths that
never import pydantic (``import herotui.paths``, the thin ``hero`` entry's voice hand-off,
``hero --help``), and pydantic-settings costs ~40-120 ms and ~80 modules (asyncio, argparse,
ssl) even where pydantic is loaded already. So :func:`get` parses with the few rules below
(standard library only), and :func:`model` builds the pydantic-settings model
(``BaseSettings``) from the same class, on demand: ``hero config show`` validates with it,
and a test checks that both read every field alike (valid, invalid and blank values).

Types, and how a value is read (the same in both readers):

- ``str``: as given; ``Path``: as given (callers expand ``~`` where they did before);
- ``float`` / ``int``: a number; anything else is a problem (the default is used);
- ``bool``: ``1/true/yes/on`` or ``0/false/no/off`` (any case); ``Flag``: any non-empty
  value turns it on (``HERO_DEBUG=1``, and also ``HERO_DEBUG=0``: as the thin entry reads it);
- an empty value is unset; for numbers and booleans a blank one too.

Not read through this model, by design: ``herotui/server/__init__.py`` and
``herotui/server/entry.py`` (the thin ``hero`` entry and what it imports must not import
pydantic: they read ``HERO_HOME``, ``HERO_NO_SERVER``, ``HERO_DEBUG``, ``HERO_CONTEXT``,
``HERO_SERVE_VERSION``, ``HERO_AUDIO_BACKEND`` and ``HERO_MODEL_API_KEY_ENV`` with
``os.environ``, with the same meaning as the fields below); and the variables of others
(``XDG_*``, ``TZ``, ``SHELL``, ``PAGER``, ``DISPLAY``, the key a ``HERO_MODEL_API_KEY_ENV``
names), read where they are used. ``_HERO_COMPLETE`` is Click's shell-completion protocol.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing (or pathlib, below) would cost the light importers ms
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Mapping

    from pydantic_settings import BaseSettings

Flag = bool
"""A switch that any non-empty value turns on (``HERO_DEBUG=1``)."""


class Settings:
    """Hero's settings, from the environment: one attribute per ``HERO_*`` variable.

    The class attributes are the defaults; an instance (:func:`get`) holds the values of one
    environment. Sections (the comments) become the sections of ``docs/settings.md``.
    """

    # --- Data, time and logs

    HERO_HOME: Path | None = None
    """One folder for everything Hero keeps: contexts in it, ``config/`` and ``state/`` (logs,
    audit) under it, the resident server's socket in ``run/``. Unset: the XDG folders
    (``~/.local/share/hero``, ``~/.config/hero``, ``~/.local/state/hero``)."""

    HERO_CONTEXT: str | None = None
    """The active context for this shell: wins over the choice saved by ``hero context use``;
    ``--context`` wins over it."""

    HERO_TZ: str | None = None
    """The time zone of the times you type and read (an IANA name: ``Europe/Brussels``).
    Unset: ``TZ``, then the system's zone (``/etc/localtime``), then UTC. An unknown name is
    an error."""

    HERO_LOCK_TIMEOUT: float = 20.0
    """Seconds a command waits for another Hero process that holds a context's database or
    index before it says the context is busy."""

    HERO_LOG_LEVEL: str = "INFO"
    """The level of the log file (``state/hero.log``): ``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``."""

    HERO_DEBUG: Flag = False
    """Show tracebacks instead of the one-line error; every command then runs in this process
    (not in the resident server)."""

    # --- Files

    HERO_MAX_IMPORT_MB: float = 50.0
    """The largest vCard or iCalendar file an import reads, in MB (above 0)."""

    HERO_MAX_DOCUMENT_MB: float = 50.0
    """The largest file ``document add`` takes, in MB (``--max-mb`` wins); bigger files are
    skipped with a note."""

    HERO_FILE_ROOTS: str | None = None
    """Folders MCP and RPC clients may read files from and write them to, besides
    ``<data>/exports`` (separated by ``:``); also ``--root DIR`` on those servers."""

    HERO_OPENER: str | None = None
    """The program ``hero document open`` hands a file to (default: ``xdg-open``, ``open`` on
    macOS; text is paged with ``$PAGER``)."""

    HERO_PROGRESS: bool = True
    """Show a progress bar while ``document add`` walks folders on a terminal (``0``: never)."""

    # --- Model (the environment's layer: the context's profile and config.toml add theirs)

    HERO_MODEL: str | None = None
    """The language model for the planner, summaries and answers, as litellm names it
    (``ollama_chat/llama3.2``, ``openai/NAME`` with an OpenAI-compatible address,
    ``gpt-4o-mini``); ``off`` switches the model off everywhere. Wins over the context's
    profile and ``config.toml``."""

    HERO_MODEL_API_BASE: str | None = None
    """Where the model is served (``http://127.0.0.1:11434`` for Ollama, its default;
    ``http://127.0.0.1:8080/v1`` for an OpenAI-compatible server)."""

    HERO_MODEL_API_KEY_ENV: str | None = None
    """The *name* of the environment variable that holds the model's API key
    (``OPENAI_API_KEY``); the key itself is never stored, shown or logged."""

    HERO_MODEL_TIMEOUT: float | None = None
    """Seconds to wait for the model (connect and answer), above 0 and at most 3600. Unset:
    the profile's or ``config.toml``'s, else 30."""

    # --- Terminal UI

    HERO_TERMINAL_SCROLLBACK: int = 5000
    """Lines of history kept per terminal in the TUI (``0``: none). A bad value warns and
    uses the default."""

    # --- Voice

    HERO_VOICE: str | None = None
    """``silent`` (or ``off``, ``mute``): speak nothing, replies are printed only."""

    HERO_TTS: str | None = None
    """The voice that speaks: ``piper``, ``espeak`` or ``silent``. Unset: piper when it is
    installed, else espeak-ng."""

    HERO_PIPER_VOICE: Path | None = None
    """A piper voice (``.onnx`` file) to speak with. Unset: the packaged ``joe`` voice."""

    HERO_STT_MODEL: Path | None = None
    """A faster-whisper (CTranslate2) model folder for speech to text. Unset: the packaged
    ``tiny.en``."""

    HERO_WHISPER_MODEL: Path | None = None
    """A whisper.cpp ``ggml-*.bin`` model file: speech to text through pywhispercpp instead
    (``pip install 'herotui[whispercpp]'``)."""

    HERO_STT_THREADS: int | None = None
    """CPU threads for speech to text. Unset: the number of cores, at most 4."""

    HERO_AUDIO_BACKEND: str | None = None
    """The microphone library: ``pyaudio`` or ``sounddevice`` (``auto`` or unset: pyaudio,
    else sounddevice). Anything else is an error for the voice commands."""

    HERO_VAD_SILENCE_MS: float = 700.0
    """Milliseconds of silence that end what you say (``--silence-ms`` sets it)."""

    HERO_VOICE_MAX_SECONDS: float = 15.0
    """The longest utterance recorded, in seconds; also the part of a file ``hero voice
    --file`` listens to (``--max-seconds`` sets it)."""

    HERO_VOICE_CONFIRM_TIMEOUT: float = 8.0
    """Seconds of silence after a spoken question that count as "no"."""

    HERO_VOICE_UNSURE: float = 0.5
    """Words heard with a probability below this (0 to 1) are read back to be confirmed."""

    HERO_VOICE_INPUT: Path | None = None
    """A WAV file played as if spoken into the microphone (tests and demonstrations)."""

    # --- Resident server (`hero serve`)

    HERO_NO_SERVER: Flag = False
    """Run every command in its own process: no resident server is started or used."""

    HERO_SERVE_IDLE: float = 900.0
    """Seconds without a client after which the resident server exits."""

    HERO_SERVE_HOLD: float = 30.0
    """Seconds the server keeps a context's stores open after its last use (``0``: it closes
    them after every call, as the test suite wants)."""

    HERO_INDEX_DELAY: float = 0.2
    """Seconds the server waits after a write before it updates the search index, so that a
    burst of writes costs one index commit."""

    HERO_SERVE_VERSION: str | None = None
    """Test seam: the version the server claims (a server "of another version")."""

    HERO_SERVE_EXPECT_UID: int | None = None
    """Test seam: the user id the server expects its clients to have (pretend to be another
    user)."""

    # ------------------------------------------------------------------------------ values

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._raw: dict[str, str] = {}
        self._problems: dict[str, str] = {}
        for name in NAMES:
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            kind, optional = KINDS[name]
            self._raw[name] = raw
            if kind not in ("str", "Path") and not raw.strip():
                continue  # blank: unset
            try:
                setattr(self, name, _PARSE[kind](raw))
            except ValueError as exc:
                self._problems[name] = str(exc)

    def source(self, name: str) -> str:
        """Where ``name``'s value comes from: ``env``, ``default``, or ``env (invalid)``
        (the value could not be read: the default is used)."""
        if name in self._problems:
            return "env (invalid)"
        return "env" if name in self.__dict__ else "default"

    def raw(self, name: str) -> str | None:
        """The text the environment gave ``name`` (None: unset or empty)."""
        return self._raw.get(name)

    def problem(self, name: str) -> str | None:
        """Why ``name``'s value could not be read (its default is used), else None."""
        return self._problems.get(name)

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in NAMES if n in self.__dict__)
        return f"Settings({shown})"


# ------------------------------------------------------------------------------ parsing

_TRUE = frozenset({"1", "true", "yes", "on", "t", "y"})
_FALSE = frozenset({"0", "false", "no", "off", "f", "n"})


def _number(kind: type) -> Any:
    def parse(raw: str):
        try:
            return kind(raw.strip())
        except ValueError:
            raise ValueError(f"not a{'n integer' if kind is int else ' number'}: {raw!r}") from None

    return parse


def _bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"not a yes/no value (1/0, true/false, yes/no, on/off): {raw!r}")


def _path(raw: str) -> Path:
    from pathlib import Path  # here: timeparse and the store import this module, and pathlib otherwise not

    return Path(raw)


_PARSE = {"str": str, "Path": _path, "float": _number(float), "int": _number(int), "bool": _bool, "Flag": bool}


def _kind(annotation: str) -> tuple[str, bool]:
    """``"Path | None"`` -> ``("Path", True)``; a type the readers do not know is an error."""
    parts = [p.strip() for p in str(annotation).split("|")]
    optional = "None" in parts
    rest = [p for p in parts if p != "None"]
    if len(rest) != 1 or rest[0] not in _PARSE:
        raise TypeError(f"settings: unsupported type {annotation!r} (use one of {', '.join(_PARSE)}, optionally | None)")
    return rest[0], optional


KINDS: dict[str, tuple[str, bool]] = {name: _kind(a) for name, a in Settings.__annotations__.items()}
NAMES: tuple[str, ...] = tuple(KINDS)
"""Every setting, in declaration order."""

_cache: tuple[tuple, Settings] | None = None


def _key() -> tuple:
    """The values of the ``HERO_*`` variables, as cheaply as they can be had: CPython keeps
    the environment encoded in ``os.environ._data`` (bytes on POSIX), and 34 look-ups there
    take ~2 us, against ~40 us through ``os.environ.get`` (a ``KeyError`` per unset name)."""
    env = os.environ
    data = getattr(env, "_data", None)
    if isinstance(data, dict):
        try:
            return tuple(map(data.get, _encoded(env)))
        except Exception:  # an environment of another kind: the portable way
            pass
    return tuple(map(env.get, NAMES))


_ENCODED: tuple = ()


def _encoded(env: Any) -> tuple:
    global _ENCODED
    if not _ENCODED:
        _ENCODED = tuple(env.encodekey(n) for n in NAMES)
    return _ENCODED


def get() -> Settings:
    """The settings of this process's environment: parsed once, again only after a change."""
    global _cache
    key = _key()
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    settings = Settings()  # reads os.environ
    _cache = (key, settings)
    return settings


# ------------------------------------------------------------------------------ documentation


def docs() -> dict[str, str]:
    """Each field's docstring (the source is read: attribute docstrings are not kept)."""
    return {name: doc for name, (doc, _section) in _declared().items()}


def sections() -> dict[str, str]:
    """Each field's section (the ``# ---`` comment above it)."""
    return {name: section for name, (_doc, section) in _declared().items()}


_DECLARED: dict[str, tuple[str, str]] | None = None


def _declared() -> dict[str, tuple[str, str]]:
    global _DECLARED
    if _DECLARED is None:
        import ast
        import inspect

        with open(__file__, encoding="utf-8") as fh:
            source = fh.read()
        lines = source.splitlines()
        tree = ast.parse(source)
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings")
        out: dict[str, tuple[str, str]] = {}
        section = ""
        body = cls.body
        for i, node in enumerate(body):
            if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
                continue
            start = body[i - 1].end_lineno if i else cls.lineno
            for line in lines[start:node.lineno - 1]:
                if line.strip().startswith("# ---"):
                    section = line.strip().lstrip("#- ").strip()
            nxt = body[i + 1] if i + 1 < len(body) else None
            doc = ""
            if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str):
                doc = inspect.cleandoc(nxt.value.value)
            out[node.target.id] = (doc, section)
        _DECLARED = out
    return _DECLARED


def default_text(name: str) -> str:
    """The default as ``docs/settings.md`` and ``hero config show`` write it."""
    value = getattr(Settings, name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def markdown() -> str:
    """``docs/settings.md``: every variable with its type, default and docstring."""
    docs_ = _declared()
    out = [
        "# Settings",
        "",
        "<!-- Generated from herotui/settings.py by `python -m herotui.settings --write`; do not edit. -->",
        "",
        "Hero reads these environment variables (and no other `HERO_*`). `hero config show` lists",
        "each with its value and where it came from (`env` or `default`), and the model settings",
        "of the active context with theirs (environment, the context's profile, `config.toml`).",
        "An empty value counts as unset. A value that cannot be read keeps the default (commands",
        "for which it matters say so).",
        "",
        "The thin `hero` entry (`herotui/server/entry.py`, `herotui/server/__init__.py`) reads",
        "`HERO_HOME`, `HERO_NO_SERVER`, `HERO_DEBUG`, `HERO_CONTEXT`, `HERO_SERVE_VERSION`,",
        "`HERO_AUDIO_BACKEND` and `HERO_MODEL_API_KEY_ENV` directly, with the same meaning: it must",
        "start without pydantic.",
        "",
        "Types: a `flag` is on with any non-empty value (`HERO_DEBUG=1`); a `bool` takes `1/0`,",
        "`true/false`, `yes/no`, `on/off`; a `path` is used as given (`HERO_HOME` and `HERO_FILE_ROOTS`",
        "expand `~`).",
    ]
    section = None
    for name in NAMES:
        doc, sec = docs_[name]
        if sec != section:
            section = sec
            out += ["", f"## {sec}", "", "| variable | type | default | what it does |", "| --- | --- | --- | --- |"]
        kind, optional = KINDS[name]
        typ = {"Flag": "flag", "Path": "path"}.get(kind, kind)
        default = default_text(name)
        text = " ".join(doc.split()).replace("``", "`").replace("|", "\\|")
        out.append(f"| `{name}` | {typ} | {f'`{default}`' if default else '—'} | {text} |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ pydantic-settings

_MODEL: Any = None


def model() -> type[BaseSettings]:
    """The pydantic-settings model of :class:`Settings` (built on first use: see the module
    docstring for why the everyday reader is not this)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = _build_model()
    return _MODEL


def _build_model() -> Any:
    from pathlib import Path
    from typing import Annotated, Optional

    from pydantic import BeforeValidator, Field, create_model  # ~55 ms: get() never needs it
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict  # ~195 ms: config show only

    class _NotBlank(PydanticBaseSettingsSource):
        """The environment, less the blank values of numbers and booleans (unset, as in :func:`get`)."""

        def __init__(self, settings_cls: Any, env: Any) -> None:
            super().__init__(settings_cls)
            self.env = env

        def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
            return None, field_name, False  # __call__ does the work

        def __call__(self) -> dict[str, Any]:
            return {k: v for k, v in self.env().items()
                    if not (isinstance(v, str) and not v.strip() and KINDS[k][0] not in ("str", "Path"))}

    class _Base(BaseSettings):
        model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", validate_default=False)

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
            return init_settings, _NotBlank(settings_cls, env_settings)  # no .env file, no secrets folder

    types = {"str": str, "Path": Path, "float": float, "int": int,
             "bool": Annotated[bool, BeforeValidator(lambda v: _bool(v) if isinstance(v, str) else v)],
             "Flag": Annotated[bool, BeforeValidator(lambda v: bool(v) if isinstance(v, str) else v)]}
    docs_ = docs()
    fields = {}
    for name in NAMES:
        kind, optional = KINDS[name]
        typ = Optional[types[kind]] if optional else types[kind]
        fields[name] = (typ, Field(getattr(Settings, name), description=docs_[name]))
    return create_model("HeroSettings", __base__=_Base, __doc__=Settings.__doc__, **fields)


def validated() -> tuple[Any, dict[str, str]]:
    """This environment read by the pydantic-settings model, and the fields it refused, with
    pydantic's message (those keep their default, as :func:`get` does)."""
    from pydantic import ValidationError  # ~55 ms (already loaded by the model above)

    cls = model()
    problems: dict[str, str] = {}
    while True:
        try:
            return cls(**{n: getattr(Settings, n) for n in problems}), problems  # given values win over the environment
        except ValidationError as exc:
            bad = {str(e["loc"][0]): e["msg"] for e in exc.errors() if e.get("loc")}
            if not bad or set(bad) <= set(problems):
                raise
            problems.update(bad)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    target = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
    if sys.argv[1:] == ["--write"]:
        target.parent.mkdir(exist_ok=True)
        target.write_text(markdown(), encoding="utf-8")
        print(f"wrote {target}")
    elif sys.argv[1:] == ["--check"]:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        sys.exit(0 if current == markdown() else f"{target} is out of date: python -m herotui.settings --write")
    else:
        sys.stdout.write(markdown())
