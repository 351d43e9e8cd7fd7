"""One table of errors (issue 16, item 2): every HeroError kind, with its exit code and
JSON-RPC code, in herotui/errors.py; a remote error comes back to the client as its class."""

from __future__ import annotations

import importlib
import json
import pkgutil

import herotui
from herotui import client, errors
from herotui.frontends import rpc


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_error_class_is_in_the_table():
    # load every module that may declare an error (the heavy optional ones may be missing)
    for mod in pkgutil.walk_packages(herotui.__path__, "herotui."):
        if mod.name.startswith(("herotui.tui", "herotui.server.__main__", "herotui.__main__")):
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:
            pass
    classes = {errors.HeroError, *_subclasses(errors.HeroError)}
    classes = {c for c in classes if c.__module__.startswith("herotui.")}
    assert classes == {row[0] for row in errors.TABLE}, "declare every HeroError in errors.TABLE"
    assert len(errors.KINDS) == len(errors.TABLE)  # kinds are unique


def test_wire_codes_unchanged():
    assert rpc.APP_CODES == {"error": -32000, "confirm": -32001, "usage": -32002, "not_found": -32003,
                             "ambiguous": -32004, "busy": -32005, "unavailable": -32006, "invalid": -32602,
                             "duplicate": -32000, "model": -32000, "model_policy": -32000,
                             "voice_unavailable": -32000, "no_tts": -32000, "no_microphone": -32000,
                             "playback_failed": -32000, "remote": -32000}
    assert (errors.NotFound.exit_code, errors.UsageError.exit_code, errors.InvalidInput.exit_code) == (3, 2, 1)


def test_every_error_round_trips_through_rpc():
    for cls, kind, exit_code, rpc_code in errors.TABLE:
        exc = cls.from_wire(f"a {kind} failure", hint=f"fix the {kind}")
        err = rpc.error_from_hero(exc)
        wire = json.loads(json.dumps({"code": err.code, "message": err.message, "data": err.data}))
        assert wire["code"] == rpc_code and wire["data"]["kind"] == kind
        back = client._error_from_rpc(wire)
        assert type(back) is cls, (kind, type(back))
        assert (back.message, back.hint, back.exit_code) == (f"a {kind} failure", f"fix the {kind}", exit_code)


def test_errors_with_own_constructors_are_raised_as_before():
    dup = errors.DuplicateContact("01ABC", "Ada Lovelace", "Analytical")
    assert dup.message == "Ada Lovelace at Analytical is already a contact (01ABC)" and dup.existing_id == "01ABC"
    from herotui.config import ModelError
    from herotui.services.contact import DuplicateContact
    from herotui.voice.stt import VoiceUnavailable
    assert (ModelError, DuplicateContact, VoiceUnavailable) == (errors.ModelError, errors.DuplicateContact,
                                                                errors.VoiceUnavailable)


def test_protocol_failures_stay_remote_errors():
    assert type(client._error_from_rpc({"code": -32700, "message": "parse error"})) is errors.RemoteError
    assert type(client._error_from_rpc({"code": -32601, "message": "no such method"})) is errors.NotFound
    assert type(client._error_from_rpc({"code": -32602, "message": "bad params"})) is errors.InvalidInput
    assert client.RemoteError is errors.RemoteError
