"""The Python client: every verb as a method, in-process or on a remote Hero.

    from herotui.client import Hero

    hero = Hero(context="business")                 # in this process
    ada = hero.contact.create(name="Ada Lovelace")  # -> herotui.services.contact.Contact
    hero.contact.delete(ada.id, confirm=True)       # destructive verbs need confirm=True

    with Hero.connect_stdio(["ssh", "box", "hero", "rpc", "serve", "--stdio"]) as remote:
        remote.calendar.today()                     # -> list[Occurrence], same models

Services are attributes (``hero.contact``), verbs their methods (``hero.contact.create``),
generated from the registry with real signatures and docstrings, so ``help(hero.contact)``
and tab completion show them. Required parameters may be given by position, the others by
name; every method also takes ``context=`` (run this one call elsewhere). A verb whose name is
a Python keyword gets a trailing underscore (``hero.contact.import_(path)``).

Results are the verb's pydantic models. In-process they are the objects the verb returned;
remotely the JSON result is validated back into the same return type
(``TypeAdapter(verb.returns)``), so both transports give equal values. Failures raise the
same ``HeroError`` subclasses (``NotFound``, ``InvalidInput``, ``ConfirmationRequired``...).

The signatures come from the *local* registry: a remote Hero of another version may accept
other parameters; the server validates every call anyway.

Importing this module is cheap: services load when first touched, and the database
(DuckDB) only when a verb runs in-process.
"""

from __future__ import annotations

import collections
import inspect
import itertools
import json
import keyword
import os
import subprocess
import threading
import types
import typing
from typing import Any, Sequence

from herotui import errors
from herotui.errors import HeroError, RemoteError

__all__ = ["Hero", "RemoteError"]


def _error_from_rpc(err: dict) -> HeroError:
    """A JSON-RPC error object back to the HeroError class the server raised (errors.py's
    table, by ``data.kind``); a failure of none of Hero's kinds is a :class:`RemoteError`."""
    data = err.get("data") if isinstance(err.get("data"), dict) else {}
    message = str(err.get("message", "remote error"))
    hint = data.get("hint")
    kind = data.get("kind")
    code = err.get("code")
    if kind == "remote" or kind not in errors.KINDS:
        if code == errors.INVALID_PARAMS:
            return errors.InvalidInput(message, hint)
        if code == -32601:  # method not found: no such verb
            return errors.NotFound(message, hint)
        return RemoteError(message, hint, rpc_code=code)
    return errors.KINDS[kind].from_wire(message, hint)


class _InProcess:
    def __init__(self, context: str | None) -> None:
        self.context = context

    def call(self, v, args: dict, context: str | None, confirm: bool) -> Any:
        from herotui import contexts, registry  # lazy: 'import herotui.client' (a start-up path) loads none of this

        ctx = contexts.current(context or self.context)
        return registry.call(v.name, args, ctx, actor="python", confirmed=confirm)

    def close(self) -> None:
        pass


class _Stdio:
    """Newline-delimited JSON-RPC 2.0 with a child process (``hero rpc serve --stdio``, maybe over ssh)."""

    def __init__(self, argv: Sequence[str], context: str | None, env: dict | None) -> None:
        self.argv = list(argv)
        self.context = context
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=env, bufsize=0)
        except OSError as exc:
            raise RemoteError(f"cannot start {self.argv[0]}: {exc.strerror or exc}", hint="check the command line") from None
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            self._stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _dead(self) -> RemoteError:
        try:
            self.proc.wait(timeout=2)  # it closed its end: let it exit, and its last stderr lines arrive
        except subprocess.TimeoutExpired:
            pass
        self._drain.join(timeout=1)
        tail = " | ".join(list(self._stderr)[-3:])
        status = f" (exit {self.proc.returncode})" if self.proc.returncode is not None else ""
        return RemoteError(f"the remote Hero closed the connection{status}", hint=tail or "run the command by hand to see why")

    def request(self, method: str, params: Any) -> Any:
        rid = next(self._ids)
        line = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}, ensure_ascii=False)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            try:
                self.proc.stdin.write(line.encode("utf-8") + b"\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                raise self._dead() from None
            raw = self.proc.stdout.readline()
        if not raw:
            raise self._dead()
        try:
            response = json.loads(raw)
        except ValueError:
            raise RemoteError(f"the remote sent something that is not JSON: {raw[:200]!r}",
                              hint="is something printing on the remote's standard output (a shell profile)?") from None
        if response.get("id") != rid:
            raise RemoteError(f"response for id {response.get('id')!r}, expected {rid}")
        if "error" in response:
            raise _error_from_rpc(response["error"])
        return response.get("result")

    def call(self, v, args: dict, context: str | None, confirm: bool) -> Any:
        from herotui.results import jsonable  # lazy: 'import herotui.client' (a start-up path) loads none of this

        params = jsonable(dict(args))
        if context or self.context:
            params["context"] = context or self.context
        if confirm:
            params["confirm"] = True
        result = self.request(v.name, params)
        return _adapter(v).validate_python(result)

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is None or proc.poll() is not None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()


class ServerTransport(_Stdio):
    """JSON-RPC 2.0 with the resident server (``hero serve``) over its Unix socket.

    The server is started when none runs (``start``). If it dies, a read is sent again to a
    new one (transparently, once); a write that may have committed is not: it raises
    :class:`RemoteError` saying so. Relative paths are made absolute (the server's working
    folder is not the caller's)."""

    def __init__(self, context: str | None, start: bool = True, actor: str = "python") -> None:
        from herotui import server as wire  # lazy: 'import herotui.client' (a start-up path) loads none of this

        self.context = context
        self.actor = actor
        self.start = start
        self.argv = ["hero", "serve"]
        self._lock = threading.Lock()
        self._wire = wire
        self.conn = self._connect()

    def _connect(self):
        wire = self._wire
        folder = wire.ensure_runtime_dir()
        if folder is None:
            raise RemoteError(f"no Hero server can run here (runtime folder {wire.runtime_dir()} unusable)",
                              hint="use Hero() (in-process) instead")
        try:
            conn = wire.connect(folder)
        except wire.ServerGone:
            if not self.start or not wire.spawn(folder, wait=60):
                raise RemoteError("no Hero server is running", hint="start one with 'hero serve'") from None
            conn = wire.connect(folder)
        hello = conn.call("hero.hello", {"version": wire.server_version(), "actor": self.actor}, timeout=60)
        info = hello.get("result")
        if not isinstance(info, dict):
            conn.close()
            raise _error_from_rpc(hello.get("error") or {})
        if info.get("version") != wire.server_version():
            conn.close()
            raise RemoteError(f"the running Hero server is version {info.get('version')}, this client "
                              f"{wire.server_version()}", hint="'hero serve stop' and try again")
        return conn

    def request(self, method: str, params: Any, retry: bool = True) -> Any:
        wire = self._wire
        with self._lock:
            try:
                response = self.conn.call(method, params)
            except (wire.ServerGone, OSError, ValueError):
                self.conn.close()
                if not retry:
                    raise RemoteError("the Hero server stopped during the call: the change may or may not have been saved",
                                      hint="check before running it again") from None
                self.conn = self._connect()
                response = self.conn.call(method, params)
        if "error" in response:
            raise _error_from_rpc(response["error"])
        return response.get("result")

    def call(self, v, args: dict, context: str | None, confirm: bool) -> Any:
        from herotui.results import jsonable  # lazy: 'import herotui.client' (a start-up path) loads none of this

        params = jsonable(dict(args))
        for p in v.params:
            value = params.get(p.name)
            if p.is_path and isinstance(value, str) and value not in ("", "-"):
                params[p.name] = os.path.abspath(value)
            elif p.is_path and isinstance(value, list):
                params[p.name] = [os.path.abspath(x) if isinstance(x, str) and x not in ("", "-") else x for x in value]
        if context or self.context:
            params["context"] = context or self.context
        if confirm:
            params["confirm"] = True
        result = self.request(v.name, params, retry=not v.mutates)
        return _adapter(v).validate_python(result)

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()


_ADAPTERS: dict[str, Any] = {}


def _adapter(v):
    if v.name not in _ADAPTERS:
        from pydantic import TypeAdapter  # ~55 ms: only decoding a verb's result pays for it

        _ADAPTERS[v.name] = TypeAdapter(Any if v.returns is None else v.returns)
    return _ADAPTERS[v.name]


def _attr_name(action: str) -> str:
    return action + "_" if keyword.iskeyword(action) else action


def _plain(annotation: Any) -> Any:
    """``list[Annotated[str, validator]]`` -> ``list[str]``: what help() should show."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _plain(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if not args or origin is typing.Literal:
        return annotation
    plain = tuple(_plain(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        out = plain[0]
        for a in plain[1:]:
            out = out | a
        return out
    try:
        return origin[plain]  # list[...], dict[...]
    except TypeError:
        return annotation


def _method_for(v):
    """A function with the verb's signature: required params positional-or-keyword, the rest keyword-only."""
    ctx_extra = "context" not in {p.name for p in v.params}
    confirm_extra = v.destructive and "confirm" not in {p.name for p in v.params}
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for p in v.params:
        if p.required:
            params.append(inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_plain(p.annotation)))
    for p in v.params:
        if not p.required:
            params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=_plain(p.annotation)))
    if ctx_extra:
        params.append(inspect.Parameter("context", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None))
    if confirm_extra:
        params.append(inspect.Parameter("confirm", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=bool))
    sig = inspect.Signature(params, return_annotation=v.returns)
    verb_names = {p.name for p in v.params}

    def method(self, *args: Any, **kwargs: Any) -> Any:
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise errors.InvalidInput(f"{v.name}: {exc}", hint=f"help(hero.{v.service}.{_attr_name(v.action)})") from None
        given = dict(bound.arguments)
        given.pop("self")
        context = given.pop("context", None) if ctx_extra else None
        confirm = bool(given.pop("confirm", False)) if confirm_extra else False
        values = {k: val for k, val in given.items() if k in verb_names}
        return self._hero._transport.call(v, values, context, confirm)

    method.__signature__ = sig  # type: ignore[attr-defined]
    method.__name__ = _attr_name(v.action)
    method.__qualname__ = f"{v.service.title()}Verbs.{method.__name__}"
    extra = []
    if confirm_extra:
        extra.append("Destructive: pass confirm=True.")
    if ctx_extra:
        extra.append("context= runs this one call in another context.")
    method.__doc__ = v.doc + ("\n\n" + " ".join(extra) if extra else "")
    return method


_SERVICE_CLASSES: dict[str, type] = {}


class _ServiceBase:
    _service = ""

    def __init__(self, hero: Hero) -> None:
        self._hero = hero

    def __repr__(self) -> str:
        return f"<hero.{self._service}: {', '.join(n for n in dir(type(self)) if not n.startswith('_'))}>"

    def __getattr__(self, name: str) -> Any:
        # "import" (a keyword) is reachable as getattr(hero.contact, "import") too
        if not name.startswith("_") and hasattr(type(self), _attr_name(name)):
            return getattr(self, _attr_name(name))
        raise AttributeError(f"hero.{self._service} has no verb '{name}'")


def _service_class(service: str) -> type:
    if service not in _SERVICE_CLASSES:
        from herotui import registry  # lazy: 'import herotui.client' (a start-up path) loads none of this
        from herotui.services import SERVICES  # lazy: 'import herotui.client' (a start-up path) loads none of this

        verbs = registry.service_verbs(service)
        ns: dict[str, Any] = {"_service": service, "__module__": __name__,
                              "__doc__": f"{SERVICES[service].help}\n\nVerbs: " + ", ".join(_attr_name(v.action) for v in verbs)}
        for v in verbs:
            ns[_attr_name(v.action)] = _method_for(v)
        _SERVICE_CLASSES[service] = type(service.title().replace("_", "") + "Verbs", (_ServiceBase,), ns)
    return _SERVICE_CLASSES[service]


class Hero:
    """Hero's verbs as Python methods: ``Hero(context="business").contact.create(name="Ada")``.

    ``Hero(context=None)`` runs verbs in this process (the active context when ``None``);
    :meth:`connect_stdio` talks JSON-RPC to ``hero rpc serve --stdio`` (locally, or over ssh).
    """

    def __init__(self, context: str | None = None) -> None:
        self._context = context  # not 'context': hero.context is the context service
        self._transport: Any = _InProcess(context)
        self._services: dict[str, Any] = {}

    @classmethod
    def connect_stdio(cls, argv: Sequence[str], context: str | None = None, env: dict | None = None) -> Hero:
        """Start ``argv`` (e.g. ``["ssh", "box", "hero", "rpc", "serve", "--stdio"]``) and talk to it."""
        hero = cls.__new__(cls)
        hero._context = context
        hero._services = {}
        hero._transport = _Stdio(argv, context, env)
        return hero

    @classmethod
    def connect_server(cls, context: str | None = None, start: bool = True) -> Hero:
        """Talk to the resident server of this user (``hero serve``), starting it if needed.

        Calls are audited with the actor ``python``; results are the same models as in-process.
        """
        hero = cls.__new__(cls)
        hero._context = context
        hero._services = {}
        hero._transport = ServerTransport(context, start=start)
        return hero

    @property
    def context_name(self) -> str | None:
        """The context this client runs verbs in (None: the active one). ``hero.context`` is the service."""
        return self._context

    @property
    def remote(self) -> bool:
        return isinstance(self._transport, _Stdio)

    def call(self, verb_name: str, args: dict | None = None, *, context: str | None = None, confirm: bool = False) -> Any:
        """Run a verb by name with a dict of arguments (what the generated methods do)."""
        from herotui import registry  # lazy: 'import herotui.client' (a start-up path) loads none of this

        return self._transport.call(registry.get(verb_name), dict(args or {}), context, confirm)

    def discover(self) -> dict:
        """The OpenRPC document (of the remote server, or generated locally)."""
        if isinstance(self._transport, _Stdio):
            return self._transport.request("rpc.discover", None)
        from herotui.frontends import rpc  # lazy: 'import herotui.client' (a start-up path) loads none of this

        return rpc.spec()

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Hero:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __getattr__(self, name: str) -> Any:
        from herotui.services import SERVICES  # lazy: 'import herotui.client' (a start-up path) loads none of this

        if name.startswith("_") or name not in SERVICES:
            raise AttributeError(f"Hero has no service '{name}' (services: {', '.join(SERVICES)})")
        services = self.__dict__.setdefault("_services", {})
        if name not in services:
            services[name] = _service_class(name)(self)
        return services[name]

    def __dir__(self) -> list[str]:
        from herotui.services import SERVICES  # lazy: 'import herotui.client' (a start-up path) loads none of this

        return sorted(set(super().__dir__()) | set(SERVICES))

    def __repr__(self) -> str:
        where = "stdio " + " ".join(self._transport.argv) if self.remote else "in-process"
        return f"<Hero {where}, context={self._context or '(active)'}>"
