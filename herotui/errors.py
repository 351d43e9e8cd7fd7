"""Errors a person can act on.

Every failure that reaches a front-end is a ``HeroError``: a one-line message, an optional
hint, and an exit code (0 ok, 1 user error, 2 usage, 3 not found). Front-ends print
``message`` and ``hint``; the traceback is shown only with ``HERO_DEBUG=1``.

Every kind of error is declared here, in one table (``TABLE`` below): its class, its kind
(``code``, the word carried in JSON: ``{"error": {"code": ...}}`` on the CLI,
``error.data.kind`` over JSON-RPC), its exit code and its JSON-RPC error code. The RPC server
(``frontends/rpc.py``) and the Python client (``client.py``) both read it, so an error raised
in a remote Hero arrives in the client as the same class.
"""

from __future__ import annotations

class HeroError(Exception):
    """Base class: ``message`` (what went wrong) and ``hint`` (what to do)."""

    exit_code = 1
    code = "error"
    rpc_code = -32000

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "hint": self.hint}

    @classmethod
    def from_wire(cls, message: str, hint: str | None = None) -> "HeroError":
        """The error rebuilt from its message and hint (as received over JSON-RPC), whatever
        arguments the class's own constructor takes."""
        exc = cls.__new__(cls)
        HeroError.__init__(exc, message, hint)
        return exc


class InvalidInput(HeroError):
    """Arguments that fail validation (bad email, unparseable date, end before start...)."""


class UsageError(HeroError):
    """A command line or call that does not make sense (a missing argument, options that clash)."""


class NotFound(HeroError):
    """No such record, context or book, and also no such file or folder (a path given to
    read, or the folder to write into): every command exits 3 for a missing path."""


class Ambiguous(HeroError):
    """An id prefix that matches several records; the message lists them."""


class ContextBusy(HeroError):
    """Another process held the context's database or index for longer than the bound."""


class ConfirmationRequired(HeroError):
    """A destructive verb was called without confirmation."""


class Unavailable(HeroError):
    """A verb (or an argument of it) that needs the caller's own terminal or standard input,
    called over RPC or MCP."""


class DuplicateContact(HeroError):
    """``contact create`` for a name and company that are already a contact."""

    def __init__(self, existing_id: str, name: str, company: str | None) -> None:
        at = f" at {company}" if company else ""
        super().__init__(f"{name}{at} is already a contact ({existing_id})",
                         hint="add --duplicate to create a second one, or 'hero contact update' to change it")
        self.existing_id = existing_id


class ModelError(HeroError):
    """A model is configured but cannot be used (policy, settings, endpoint, key, timeout)."""


class ModelPolicyError(ModelError):
    """The context's policy forbids the configured model (e.g. a cloud model under local-only)."""


class VoiceUnavailable(HeroError):
    """No speech-to-text model can be loaded (voice extra missing, bad model file)."""


class NoSpeechEngine(HeroError):
    """No text-to-speech engine (neither piper nor espeak-ng)."""


class NoMicrophone(HeroError):
    """No input device to record from (SSH, CI): a normal situation, text input still works."""


class PlaybackFailed(HeroError):
    """Audio did not play to the end (no output device, a device that stopped)."""


class RemoteError(HeroError):
    """Client side: a JSON-RPC failure that is not one of Hero's own kinds (protocol,
    transport, a server that went away)."""

    def __init__(self, message: str, hint: str | None = None, rpc_code: int | None = None) -> None:
        super().__init__(message, hint)
        self.rpc_code = rpc_code


# JSON-RPC 2.0's own code for invalid params: Hero's ``invalid`` kind uses it.
INVALID_PARAMS = -32602

#: Every kind of error: (class, kind, exit code, JSON-RPC error code). The wire codes are a
#: public interface (OpenRPC spec, tests/e2e/test_rpc.py): change none, add new ones only.
TABLE: tuple[tuple[type[HeroError], str, int, int], ...] = (
    # class                  kind                 exit  JSON-RPC
    (HeroError,              "error",             1,    -32000),
    (ConfirmationRequired,   "confirm",           1,    -32001),
    (UsageError,             "usage",             2,    -32002),
    (NotFound,               "not_found",         3,    -32003),
    (Ambiguous,              "ambiguous",         1,    -32004),
    (ContextBusy,            "busy",              1,    -32005),
    (Unavailable,            "unavailable",       1,    -32006),
    (InvalidInput,           "invalid",           1,    INVALID_PARAMS),
    (DuplicateContact,       "duplicate",         1,    -32000),
    (ModelError,             "model",             1,    -32000),
    (ModelPolicyError,       "model_policy",      1,    -32000),
    (VoiceUnavailable,       "voice_unavailable", 1,    -32000),
    (NoSpeechEngine,         "no_tts",            1,    -32000),
    (NoMicrophone,           "no_microphone",     1,    -32000),
    (PlaybackFailed,         "playback_failed",   1,    -32000),
    (RemoteError,            "remote",            1,    -32000),
)

for _cls, _kind, _exit, _rpc in TABLE:
    _cls.code, _cls.exit_code, _cls.rpc_code = _kind, _exit, _rpc
del _cls, _kind, _exit, _rpc

#: kind -> class: what a client rebuilds from ``error.data.kind``.
KINDS: dict[str, type[HeroError]] = {row[1]: row[0] for row in TABLE}
#: kind -> JSON-RPC error code.
RPC_CODES: dict[str, int] = {row[1]: row[3] for row in TABLE}
