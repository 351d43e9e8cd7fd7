"""The resident server: one process per user (per ``HERO_HOME``), every front-end its client.

It listens on the Unix socket of the runtime folder (see :mod:`herotui.server`), checks
each peer's uid (SO_PEERCRED: only the user's own processes are served), and speaks the
JSON-RPC 2.0 of ``hero rpc serve`` (newline-delimited; the same dispatcher,
:class:`herotui.frontends.rpc.Server`, so the same methods, parameters, limits and error
codes), plus a few methods of its own:

- ``hero.hello {version, actor, fingerprint}``: the first call of a connection; sets the
  actor the audit records for the connection's calls (cli, tui, mcp, python, voice...) and
  returns the server's version and fingerprint (the client leaves if they differ);
- ``hero.manifest``: the verb manifest the thin CLI parses arguments with;
- ``hero.cli {method, args, context, json, yes, term, raw}``: run a verb as ``hero`` on the
  command line would and return the text it prints, rendered for the client's terminal
  (``term``: tty or not, width, colour variables) as ``{out, err, code}``; with ``raw``
  (a UTF-8 stdout) ``{out_bytes, err, code}`` and the ``out_bytes`` bytes of UTF-8 text
  right after the response line;
- ``hero.voice {path, context, dry_run, session, json, term}``: ``hero voice --file`` with
  the speech model kept loaded (:mod:`herotui.server.voice`);
- ``hero.subscribe``: from then on the connection receives ``hero.changed {context,
  revision}`` notifications after every committed write;
- ``hero.status``, ``hero.stop``.

Every verb still runs through ``herotui.registry.call`` (validation, confirmation, audit).
The stores are resident (:mod:`herotui.store.resident`): opened once, writes serialised per
context, acknowledged after their commit.

Each connection is served by its own thread (calls of one connection in order; calls of
different connections at once). The server exits after ``HERO_SERVE_IDLE`` seconds
(default 900) with no connection and no call, on ``hero serve stop`` / SIGTERM, or when its
socket file is taken away (a newer server replaced it).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from herotui import server as wire

log = logging.getLogger("hero.serve")


def idle_timeout() -> float:
    from herotui import settings

    return settings.get().HERO_SERVE_IDLE


# -- per-thread standard streams (what a CLI call prints goes back to its client) ----------

_LOCAL = threading.local()


class _ThreadStream(io.TextIOBase):
    """Stands for sys.stdout / sys.stderr: a thread capturing a call writes to its buffer,
    and sees the client's terminal (isatty); other threads write to the real stream."""

    def __init__(self, real, which: str) -> None:
        self.real = real
        self.which = which

    def _buf(self):
        cap = getattr(_LOCAL, "capture", None)
        return cap[self.which] if cap else None

    def write(self, text: str) -> int:
        buf = self._buf()
        if buf is None:
            return self.real.write(text)
        buf.append(text)
        return len(text)

    def flush(self) -> None:
        if self._buf() is None:
            self.real.flush()

    def isatty(self) -> bool:
        cap = getattr(_LOCAL, "capture", None)
        if cap is not None:
            return bool(cap["tty"].get(self.which))
        return self.real.isatty()

    def fileno(self) -> int:
        if self._buf() is not None:
            raise io.UnsupportedOperation("captured")
        return self.real.fileno()

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def errors(self) -> str:
        return "backslashreplace"

    def writable(self) -> bool:
        return True


#: The server's own methods a served front-end's (confined) connection may call.
CONFINED_OWN = {"hero.tool", "hero.cancel", "hero.manifest"}

_RENDER = threading.Lock()  # rendering reads terminal variables from os.environ: one at a time
_TERM_VARS = ("COLUMNS", "LINES", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")


# -- the server -----------------------------------------------------------------------------


class HeroServer:
    def __init__(self, folder: str, expect_uid: int | None = None) -> None:
        from herotui import __version__  # noqa: F401

        from herotui import paths

        self.folder = folder
        self.home = str(paths.data_dir())  # removed (a test's temporary home): nothing left to serve
        self.home_existed = os.path.isdir(self.home)
        self.version = wire.server_version()
        self.fingerprint = wire.fingerprint()
        self.expect_uid = os.getuid() if expect_uid is None else expect_uid
        self.started = time.time()
        self.last_activity = time.monotonic()
        self.clients = 0
        self.calls = 0
        self.refused = 0
        self.subscribers: list[_Client] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sock: socket.socket | None = None
        self._wake_r, self._wake_w = os.pipe()  # stop() wakes the accept loop through it at once
        self.pid_fd: int | None = None
        self.resident = None
        self._manifest: dict | None = None

    # -- life -----------------------------------------------------------------------------

    def claim(self) -> bool:
        """Take the pid file's lock: False when another server holds it."""
        import fcntl

        fd = os.open(os.path.join(self.folder, wire.PID_FILE), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {self.version}\n".encode(), 0)
        self.pid_fd = fd
        return True

    def bind(self) -> None:
        path = wire.socket_path(self.folder)
        try:
            os.unlink(path)  # we hold the pid lock: a socket left here is stale
        except FileNotFoundError:
            pass
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)
        try:
            s.bind(path)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        s.listen(128)
        s.settimeout(0.5)
        self.sock = s
        self.sock_ino = os.stat(path).st_ino

    def warm(self) -> None:
        """Import what calls need, so the first call does not pay for it."""
        from herotui import logs, registry
        from herotui.frontends import render, rpc  # noqa: F401
        from herotui.store import db, resident

        logs.setup()
        registry.load()
        self.resident = resident.Resident(on_commit=self.notify)
        db.set_resident(self.resident)
        import rich.console  # noqa: F401  (the renderer's first use costs ~40 ms)
        import rich.table  # noqa: F401  (~15 ms more: the listings' tables)

        self.manifest()

    def serve_forever(self) -> None:
        import select

        threading.Thread(target=self._watch_idle, name="idle", daemon=True).start()
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        listening = self.sock.fileno()
        while not self.stopping.is_set():
            if not any(fd == listening for fd, _ in poller.poll()):
                continue  # woken by stop()
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stopping.is_set():
                    break
                raise
            threading.Thread(target=self._serve_client, args=(conn,), daemon=True).start()
        self.shutdown()

    def _watch_idle(self) -> None:
        limit = idle_timeout()
        path = wire.socket_path(self.folder)
        while not self.stopping.wait(0.2):
            with self.lock:
                idle = self.clients == 0 and time.monotonic() - self.last_activity > limit
            if idle:
                log.info("idle for %gs: exiting", limit)
                self.stop()
                return
            try:
                replaced = os.stat(path).st_ino != self.sock_ino
            except OSError:
                replaced = True
            if self.home_existed and not os.path.isdir(self.home):
                log.info("the data folder %s is gone: exiting", self.home)
                self.stop()
                return
            if replaced:
                log.info("socket %s removed or replaced: exiting", path)
                self.stop()
                return

    def stop(self) -> None:
        self.stopping.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def shutdown(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            if os.stat(wire.socket_path(self.folder)).st_ino == self.sock_ino:
                os.unlink(wire.socket_path(self.folder))
        except OSError:
            pass
        if self.resident is not None:
            self.resident.close_all()

    # -- clients ---------------------------------------------------------------------------

    def allowed(self, conn: socket.socket) -> bool:
        try:
            return wire.peer_uid(conn) == self.expect_uid
        except OSError:
            return False

    def _serve_client(self, conn: socket.socket) -> None:
        if not self.allowed(conn):
            with self.lock:
                self.refused += 1
            log.warning("refused a connection from another user")
            try:
                conn.sendall(json.dumps({"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32010, "message": "refused: this Hero server serves only its own user"}}).encode() + b"\n")
                # keep our end open until the client has sent its first request and read this:
                # closed at once, its send would fail (EPIPE) before it saw why
                conn.shutdown(socket.SHUT_WR)
                conn.settimeout(2.0)
                while conn.recv(4096):
                    pass
            except OSError:
                pass
            conn.close()
            return
        client = _Client(self, conn)
        with self.lock:
            self.clients += 1
            self.last_activity = time.monotonic()
        try:
            client.run()
        finally:
            client.cancel_all()
            with self.lock:
                self.clients -= 1
                self.last_activity = time.monotonic()
                if client in self.subscribers:
                    self.subscribers.remove(client)
            conn.close()

    def notify(self, context: str, revision: int) -> None:
        """Push ``hero.changed`` to every subscriber (called right after a commit)."""
        line = json.dumps({"jsonrpc": "2.0", "method": "hero.changed",
                           "params": {"context": context, "revision": revision}}).encode() + b"\n"
        with self.lock:
            subs = list(self.subscribers)
        for c in subs:
            c.write(line)

    def status(self) -> dict:
        rss = 0
        try:
            with open("/proc/self/statm") as fh:
                rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        return {
            "version": self.version,
            "pid": os.getpid(),
            "started": self.started,
            "uptime": round(time.time() - self.started, 3),
            "rss_bytes": rss,
            "clients": self.clients,
            "subscribers": len(self.subscribers),
            "calls": self.calls,
            "refused": self.refused,
            "open_contexts": self.resident.open_contexts() if self.resident else [],
            "idle_timeout": idle_timeout(),
            "socket": wire.socket_path(self.folder),
            "fingerprint": self.fingerprint,
        }

    def manifest(self) -> dict:
        if self._manifest is None:
            from herotui.server.manifest import build

            self._manifest = build(self.version)
        return self._manifest


class _Client:
    """One connection: its actor, its requests in order, notifications if subscribed."""

    def __init__(self, server: HeroServer, conn: socket.socket) -> None:
        from herotui.frontends import rpc

        self.server = server
        self.conn = conn
        self.wlock = threading.Lock()
        self.actor = "rpc"
        self.dispatch = rpc.Server(None)
        self.serve: dict | None = None  # a served front-end's connection (see herotui.server.bridge)
        self.inflight: dict[Any, threading.Event] = {}  # hero.tool calls running: their cancel events
        self.tail = b""  # raw bytes sent right after the response line (hero.cli with raw)

    def write(self, data: bytes) -> None:
        with self.wlock:
            try:
                self.conn.sendall(data)
            except OSError:
                pass

    def run(self) -> None:
        from herotui.frontends import rpc

        splitter = rpc.LineSplitter()
        while True:
            try:
                chunk = self.conn.recv(1 << 16)
            except OSError:
                return
            if not chunk:
                return
            for line in splitter.feed(chunk):
                out = self.handle_line(line)
                if out is not None:
                    tail, self.tail = self.tail, b""
                    self.write(out.encode("utf-8") + b"\n" + tail)
                if self.server.stopping.is_set():
                    return

    def cancel_all(self) -> None:
        """The front-end went away: its tool calls still running roll back their writes."""
        with self.server.lock:
            events = list(self.inflight.values())
        for event in events:
            event.set()

    def handle_line(self, line) -> str | None:

        srv = self.server
        with srv.lock:
            srv.last_activity = time.monotonic()
            srv.calls += 1
        if isinstance(line, (bytes, str)) and b'"hero.' in (line if isinstance(line, bytes) else line.encode()):
            try:
                req = json.loads(line)
            except ValueError:
                req = None
            if isinstance(req, dict) and isinstance(req.get("method"), str) and req["method"].startswith("hero.") \
                    and (self.serve is None or req["method"] in CONFINED_OWN):
                out = self.own(req)
                return None if out is None else json.dumps(out, ensure_ascii=False, default=str)
        self.dispatch.actor = self.actor  # the audit records who really called (hook in rpc.Server)
        try:
            return self.dispatch.handle_line(line)
        finally:
            with srv.lock:
                srv.last_activity = time.monotonic()

    def confine(self, serve: dict) -> None:
        """A served front-end (``hero rpc serve --stdio``, ``hero mcp serve``): every call of
        this connection runs with its file roots and its pinned context, and the server's own
        methods that run without them are no longer answered (see herotui.server.bridge)."""
        from pathlib import Path

        from herotui import paths
        from herotui.errors import InvalidInput
        from herotui.frontends import rpc

        def folders(key: str) -> list[Path]:
            value = serve.get(key) or []
            if not isinstance(value, list) or not all(isinstance(x, str) and os.path.isabs(x) for x in value):
                raise InvalidInput(f"hero.hello: serve.{key} must be a list of absolute paths")
            return [Path(x) for x in value]

        pinned, default = serve.get("context"), serve.get("default_context")
        if not all(x is None or isinstance(x, str) for x in (pinned, default)):
            raise InvalidInput("hero.hello: serve.context must be a context name")
        roots = paths.FileRoots(folders("roots"), folders("readable"))
        self.serve = {"context": pinned or None, "default_context": default or None, "roots": roots}
        self.dispatch = rpc.Server(pinned or None, roots)
        self.dispatch.fallback_context = default or None

    def start_tool(self, rid: Any, params: dict) -> None:
        """An MCP tool call (``hero.tool {name, arguments}``), run in its own thread so that a
        ``hero.cancel`` of it (and other calls) are read meanwhile."""
        if self.serve is None:
            raise RuntimeError("hero.tool is for served front-ends (hero.hello with serve)")
        event = threading.Event()
        with self.server.lock:
            self.inflight[rid] = event

        def run() -> None:
            from herotui.frontends import mcp

            srv = self.server
            try:
                ok, payload = mcp.run_tool(params.get("name") or "", params.get("arguments"), self.serve["context"],
                                           self.serve["roots"], event, fallback_context=self.serve["default_context"])
                response = {"jsonrpc": "2.0", "id": rid, "result": [ok, payload]}
            except Exception as exc:  # noqa: BLE001 - run_tool reports errors itself; a bug here
                log.exception("internal error in hero.tool")
                response = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": f"internal error: {type(exc).__name__}: {exc}"}}
            finally:
                with srv.lock:
                    self.inflight.pop(rid, None)
                    srv.last_activity = time.monotonic()
            self.write(json.dumps(response, ensure_ascii=False, default=str).encode("utf-8", "surrogateescape") + b"\n")

        threading.Thread(target=run, name="hero-tool", daemon=True).start()

    def own(self, req: dict) -> dict | None:
        """The answer to one of the server's own methods (``hero.*``), or None (answered later,
        or a notification)."""
        rid = req.get("id")
        params = req.get("params") or {}
        method = req["method"]
        handler = getattr(self, OWN_METHODS.get(method, "-"), None)
        if handler is None:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"method not found: '{method}'"}}
        try:
            result = handler(rid, params)
        except Exception as exc:  # noqa: BLE001 - a bug: say so, keep serving
            log.exception("internal error in %s", method)
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": f"internal error: {type(exc).__name__}: {exc}"}}
        if result is NO_ANSWER:
            return None
        return {"jsonrpc": "2.0", "id": rid, "result": result}

    def _hello(self, rid: Any, params: dict) -> Any:
        from herotui.registry import ACTORS

        srv = self.server
        actor = params.get("actor") or "rpc"
        self.actor = actor if actor in ACTORS else "rpc"
        result: Any = {"version": srv.version, "pid": os.getpid(), "fingerprint": srv.fingerprint,
                       "started": srv.started}
        if params.get("serve") is not None:
            self.confine(params["serve"])
            result["confined"] = True
        return result

    def _tool(self, rid: Any, params: dict) -> Any:
        self.start_tool(rid, params)
        return NO_ANSWER  # answered by the call's thread

    def _cancel(self, rid: Any, params: dict) -> Any:
        with self.server.lock:
            event = self.inflight.get(params.get("id"))
        if event is not None:
            event.set()
        return NO_ANSWER if rid is None else {"cancelled": event is not None}

    def _manifest(self, rid: Any, params: dict) -> Any:
        return self.server.manifest()

    def _cli(self, rid: Any, params: dict) -> Any:
        result = run_cli(params, self.actor)
        if params.get("raw"):
            # the printed text as UTF-8 bytes after the response line, not a JSON string
            # (10k contacts piped, 1.4 MB: no escaping here, no parsing in the client)
            text = result.pop("out")
            try:
                self.tail = text.encode("utf-8")
            except UnicodeEncodeError:  # as the client's own write falls back
                self.tail = text.encode("utf-8", "backslashreplace")
            result["out_bytes"] = len(self.tail)
        return result

    def _voice(self, rid: Any, params: dict) -> Any:  # hero voice --file: the speech model stays loaded here
        from herotui.server import voice

        return voice.run_voice(params)

    def _subscribe(self, rid: Any, params: dict) -> Any:
        srv = self.server
        with srv.lock:
            if self not in srv.subscribers:
                srv.subscribers.append(self)
        return {"subscribed": True}

    def _status(self, rid: Any, params: dict) -> Any:
        return self.server.status()

    def _stop(self, rid: Any, params: dict) -> Any:
        self.server.stop()
        return {"stopping": True, "pid": os.getpid()}

    def _release(self, rid: Any, params: dict) -> Any:
        srv = self.server
        return {"closed": srv.resident.release() if srv.resident else 0}


#: The server's own methods and the _Client method that answers each.
OWN_METHODS = {"hero.hello": "_hello", "hero.tool": "_tool", "hero.cancel": "_cancel", "hero.manifest": "_manifest",
               "hero.cli": "_cli", "hero.voice": "_voice", "hero.subscribe": "_subscribe", "hero.status": "_status",
               "hero.stop": "_stop", "hero.release": "_release"}
NO_ANSWER = object()  # a handler's result when no response is sent now


def run_cli(params: dict, actor: str = "cli") -> dict:
    """Run a verb as the CLI does (``frontends.cli._run``) and return what it would print.

    ``params``: ``method``, ``args``, ``context`` (the client's ``--context`` or
    ``HERO_CONTEXT``), ``json``, ``yes``, ``term`` ({"stdout": tty?, "stderr": tty?, "stdin":
    tty?, "env": {COLUMNS, TERM, NO_COLOR...}}). Destructive verbs need ``yes`` (the thin
    client asks in-process instead). Returns ``{"out", "err", "code"}``.
    """
    from herotui import contexts, registry
    from herotui.errors import HeroError
    from herotui.frontends import render
    from herotui.store import db

    term = params.get("term") or {}
    cap = start_capture(term)
    as_json = bool(params.get("json"))
    code = 0
    try:
        v = registry.get(params["method"])
        context = params.get("context") or None
        ctx = contexts.current(context)
        with render.planner_steps(v):  # hero agent run: a line per finished step, as the CLI says it
            result = registry.call(v.name, params.get("args") or {}, ctx, actor=actor,
                                   confirmed=bool(params.get("yes")), paged=True)
        notices = db.take_notices()
        with rendering(term):
            render.output(result, as_json, cross_context=bool((params.get("args") or {}).get("all_contexts")))
        for notice in notices:
            render.err(f"warning: {notice}")
        exit_code = getattr(result, "exit_code", 0)  # a result reporting a failure inside it ('hero ask')
        if isinstance(exit_code, int) and exit_code:
            code = exit_code
    except HeroError as exc:
        db.take_notices()
        with rendering(term):
            render.error(exc, as_json)
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: briefly, as the CLI says it
        log.exception("internal error in hero.cli %s", params.get("method"))
        cap["err"].append(f"error: internal error: {type(exc).__name__}: {exc}\n"
                          "hint: run again with HERO_DEBUG=1 for the traceback, and report it\n")
        code = 1
    finally:
        stop_capture()
    return {"out": "".join(cap["out"]), "err": "".join(cap["err"]), "code": code}


def start_capture(term: dict) -> dict:
    """What this thread prints goes to the returned buffers (``out``, ``err``), written as for
    the client's terminal (``term``: which of its streams are terminals)."""
    cap = {"out": [], "err": [], "tty": {"out": term.get("stdout"), "err": term.get("stderr"),  # _ThreadStream.which
                                         "stdin": term.get("stdin")}}
    _LOCAL.capture = cap
    return cap


def stop_capture() -> None:
    _LOCAL.capture = None


def rendering(term: dict):
    """Render for the client's terminal: its variables (width, colour) in os.environ, one
    rendering at a time (a context manager)."""
    return _Rendering(term.get("env") or {})


class _Rendering:
    """The client's terminal variables in os.environ while rendering (under _RENDER)."""

    def __init__(self, env: dict) -> None:
        self.env = env

    def __enter__(self):
        _RENDER.acquire()
        self.saved = {k: os.environ.get(k) for k in _TERM_VARS}
        for k in _TERM_VARS:
            value = self.env.get(k)
            if value is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(value)

    def __exit__(self, *exc):
        try:
            for k, value in self.saved.items():
                if value is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = value
        finally:
            _RENDER.release()


def main(foreground: bool = False) -> int:
    """Run the server (``python -m herotui.server``, ``hero serve --foreground``).

    Exit code 0 when it ran and stopped, or when another server already runs; 1 when the
    runtime folder cannot be had.
    """
    folder = wire.ensure_runtime_dir()
    if folder is None:
        print(f"error: cannot use the runtime folder {wire.runtime_dir()} (not creatable, not ours, or read-only)",
              file=sys.stderr)
        print("hint: set XDG_RUNTIME_DIR or HERO_HOME to a folder you own; Hero works without a server meanwhile",
              file=sys.stderr)
        return 1
    from herotui import settings

    srv = HeroServer(folder, expect_uid=settings.get().HERO_SERVE_EXPECT_UID)  # a test seam: another user
    if not srv.claim():
        if foreground:
            pid = wire.read_pid(folder)
            print(f"a Hero server is already running (PID {pid[0] if pid else '?'})", file=sys.stderr)
        return 0
    os.environ.pop("HERO_CONTEXT", None)  # each call names its context; the starter's is not everyone's
    sys.stdout = _ThreadStream(sys.stdout, "out")
    sys.stderr = _ThreadStream(sys.stderr, "err")
    srv.bind()

    def on_term(signum, frame):
        srv.stop()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGUSR1, lambda s, f: srv.resident and srv.resident.ask_release())
    srv.warm()
    log.info("serving on %s (PID %d, version %s)", wire.socket_path(folder), os.getpid(), srv.version)
    if foreground:
        print(f"hero serve: listening on {wire.socket_path(folder)} (PID {os.getpid()}, version {srv.version})",
              file=sys.__stderr__, flush=True)
    srv.serve_forever()
    return 0
