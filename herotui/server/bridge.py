"""Served front-ends (``hero rpc serve --stdio``, ``hero mcp serve``) as clients of the resident server.

A served front-end keeps speaking its protocol (JSON-RPC on stdio, MCP on stdio or HTTP)
with its own limits and checks (line length, nesting, ids, Host/Origin, bearer token), and
hands each *call* to the resident server, which has the stores open and the planner warm.

What the server must know to run the call as the front-end would, it is told once, in the
connection's ``hero.hello``, under ``serve``:

- ``roots`` / ``readable``: the folders the front-end's clients may have files read from and
  written to (``paths.FileRoots``, from ``--root`` and ``HERO_FILE_ROOTS``); the server sets
  ``paths.FILE_ROOTS`` for every call of that connection and takes relative paths under the
  first root, exactly as :func:`herotui.frontends.rpc.served_call` does in-process;
- ``context``: the context the front-end was pinned to (``--context``; ``registry.confine``
  refuses calls in another), and ``default_context`` (the front-end's ``HERO_CONTEXT``, used
  when a call names none, not a pin).

Such a connection is *confined*: from then on it may call the verbs (as JSON-RPC methods),
``hero.tool`` (an MCP tool call, run by :func:`herotui.frontends.mcp.run_tool`) and
``hero.cancel`` (cancel an in-flight ``hero.tool``: its uncommitted write rolls back, as
``notifications/cancelled`` does in-process). None of the server's own methods that run
without file roots (``hero.cli``, ``hero.stop``...) is answered on it, and a second
``hero.hello`` cannot widen it. When the front-end's connection drops, its in-flight tool
calls are cancelled (a killed front-end leaves no half-made write behind, as before).

The link is opened in the background when the front-end starts (starting the server when
none runs); calls made before it is up, or where no server can run (``HERO_NO_SERVER``, a
runtime folder that cannot be used, a server started under other settings), run in-process
as before. If the server dies during a call, a read is run again in-process; a write that may
have committed is not: the client gets an error saying to check before calling again.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from herotui import server as wire

#: What a call gets when the server died while it ran a write.
UNCERTAIN = "the Hero server stopped during the call: the change may or may not have been saved"
UNCERTAIN_HINT = "check (e.g. with a list or show call) before calling it again"


class CancelEvent(threading.Event):
    """A ``threading.Event`` that also runs hooks when set (cancellation crosses to the server)."""

    def __init__(self) -> None:
        super().__init__()
        self._hooks: list[Callable[[], None]] = []
        self._hooks_lock = threading.Lock()

    def on_set(self, fn: Callable[[], None]) -> None:
        with self._hooks_lock:
            if not self.is_set():
                self._hooks.append(fn)
                return
        fn()

    def set(self) -> None:
        with self._hooks_lock:
            super().set()
            hooks, self._hooks = self._hooks, []
        for fn in hooks:
            try:
                fn()
            except Exception:  # noqa: BLE001 - a hook never breaks the cancellation
                pass


class Uncertain(Exception):
    """The server went away during a call that may have written."""


class NotSendable(ValueError):
    """The call's arguments cannot be sent as UTF-8 (a lone surrogate): run it in-process,
    where the checks answer it with a clear error."""


class Link:
    """One connection to the resident server, shared by a front-end's calls (multiplexed by id)."""

    def __init__(self, conn: wire.Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()  # sending, ids, pending
        self.pending: dict[int, list] = {}  # id -> [threading.Event, response]
        self.next_id = 1_000_000
        self.dead = False
        self.mutating: dict[str, bool] = {}
        self.reader = threading.Thread(target=self._read, name="hero-link", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            while True:
                msg = self.conn.read_message(timeout=None)
                if msg is None:
                    break
                slot = self.pending.get(msg.get("id")) if isinstance(msg, dict) else None
                if slot is not None:
                    slot[1] = msg
                    slot[0].set()
        except (OSError, ValueError):
            pass
        with self.lock:
            self.dead = True
            slots = list(self.pending.values())
        for slot in slots:
            slot[0].set()  # no response: the caller sees the server gone

    def send(self, method: str, params: Any) -> tuple[int, list]:
        import json

        with self.lock:
            if self.dead:
                raise wire.ServerGone("the Hero server closed the connection")
            self.next_id += 1
            rid = self.next_id
            try:  # strict: bytes that are not UTF-8 would get a parse error with no id, never our answer
                data = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params},
                                  ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"
            except ValueError as exc:  # a lone surrogate, NaN
                raise NotSendable(str(exc)) from None
            slot: list = [threading.Event(), None]
            self.pending[rid] = slot
            try:
                self.conn.sock.sendall(data)
            except OSError:
                self.pending.pop(rid, None)
                self.dead = True
                raise wire.ServerGone("the Hero server closed the connection") from None
        return rid, slot

    def wait(self, rid: int, slot: list) -> dict:
        slot[0].wait()
        with self.lock:
            self.pending.pop(rid, None)
        if slot[1] is None:
            raise wire.ServerGone("the Hero server closed the connection")
        return slot[1]

    def call(self, method: str, params: Any) -> dict:
        rid, slot = self.send(method, params)
        return self.wait(rid, slot)

    def notify(self, method: str, params: Any) -> None:
        import json

        with self.lock:
            if self.dead:
                return
            try:
                self.conn.sock.sendall(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode() + b"\n")
            except OSError:
                pass

    def close(self) -> None:
        self.dead = True
        self.conn.close()


def available() -> bool:
    from herotui import settings

    s = settings.get()
    return not (s.HERO_NO_SERVER or s.HERO_DEBUG)


def open_link(actor: str, serve: dict, replace: bool = True, wait: float = 30.0) -> Link | None:
    """A confined connection to a server of this version and settings (started when none
    runs, replaced when of another version and ``replace``), or None."""
    folder = wire.ensure_runtime_dir()
    if folder is None:
        return None
    for _attempt in range(3):
        try:
            conn = wire.connect(folder)
        except wire.ServerGone:
            if not wire.spawn(folder, wait=wait):
                return None
            continue
        try:
            hello = conn.call("hero.hello", {"version": wire.server_version(), "actor": actor, "serve": serve},
                              timeout=60)
        except (wire.ServerGone, OSError, ValueError):
            conn.close()
            time.sleep(0.1)
            continue
        info = hello.get("result")
        if not isinstance(info, dict):
            conn.close()
            return None
        if info.get("version") != wire.server_version():
            if not replace:
                conn.close()
                return None
            from herotui.server.entry import replace as replace_server

            replace_server(conn, folder, info)
            replace = False
            continue
        if info.get("fingerprint") != wire.fingerprint() or not info.get("confined"):
            conn.close()
            return None
        try:
            from herotui.server.entry import Fallback, manifest

            man = manifest(conn, folder)  # which methods write (cached in the runtime folder)
        except (Fallback, wire.ServerGone, OSError, ValueError):
            conn.close()
            return None
        conn.sock.settimeout(None)
        link = Link(conn)
        link.mutating = {name: bool(m.get("mutates", True)) for name, m in man["verbs"].items()}
        return link
    return None


class Bridge:
    """A served front-end's way to the server: :meth:`link` is the open link or None (run the
    call in-process). The link is (re)opened in the background, so no call waits for a server
    to start."""

    def __init__(self, actor: str, pinned: str | None, default_context: str | None, roots: Any) -> None:
        self.actor = actor
        self.serve = {
            "context": pinned,
            "default_context": default_context,
            "roots": list(getattr(roots, "folders", ()) or ()),
            "readable": list(getattr(roots, "readable", ()) or ()),
        }
        self._link: Link | None = None
        self._opening = False
        self._lock = threading.Lock()
        self._first = True
        self._last_try = 0.0
        self.opened = threading.Event()  # set once the first attempt ended (tests, benchmarks)
        self._start()

    def _start(self) -> None:
        with self._lock:
            if self._opening:
                return
            self._opening = True
            self._last_try = time.monotonic()
        threading.Thread(target=self._open, name="hero-bridge", daemon=True).start()

    def _open(self) -> None:
        link = None
        try:
            link = open_link(self.actor, self.serve, replace=self._first)
        except Exception:  # noqa: BLE001 - no server: in-process, as before
            link = None
        finally:
            with self._lock:
                self._link = link
                self._opening = False
                self._first = False
            self.opened.set()

    def link(self) -> Link | None:
        link = self._link
        if link is not None and not link.dead:
            return link
        if link is not None or time.monotonic() - self._last_try > 10:
            with self._lock:
                self._link = None
            self._start()  # the server went away (or none could be had): try again, later calls use it
        return None

    def close(self) -> None:
        link = self._link
        if link is not None:
            link.close()

    # -- JSON-RPC (hero rpc serve --stdio) ---------------------------------------------------

    @staticmethod
    def mutates(link: Link, method: str) -> bool:
        """Whether a method may write (from the verb manifest; unknown names: reads)."""
        return link.mutating.get(method, False)

    def rpc(self, rid: Any, method: str, params: Any) -> dict | None:
        """The response to one JSON-RPC request run in the server (with the client's id), or
        None to run it in-process (no server, or a read the dying server did not answer)."""
        if method.startswith("hero."):
            return None  # the server's own methods are not the client's: 'method not found' in-process
        link = self.link()
        if link is None:
            return None
        try:
            response = link.call(method, params)
        except NotSendable:
            return None
        except (wire.ServerGone, OSError, ValueError):
            if not self.mutates(link, method):
                return None
            return {"jsonrpc": "2.0", "id": rid,
                    "error": {"code": -32000, "message": UNCERTAIN, "data": {"kind": "error", "hint": UNCERTAIN_HINT}}}
        response["id"] = rid
        return response

    # -- MCP (hero mcp serve) ----------------------------------------------------------------

    def tool(self, name: str, arguments: dict | None, mutates: bool, cancelled: threading.Event | None,
             local: Callable[[], tuple[bool, Any]]) -> tuple[bool, Any]:
        """Run one MCP tool call in the server (``local()`` runs it in-process instead)."""
        link = self.link()
        if link is None or (cancelled is not None and cancelled.is_set()):
            return local()
        try:
            rid, slot = link.send("hero.tool", {"name": name, "arguments": arguments})
        except (wire.ServerGone, OSError, ValueError):
            return local()
        if isinstance(cancelled, CancelEvent):
            cancelled.on_set(lambda: link.notify("hero.cancel", {"id": rid}))
        try:
            response = link.wait(rid, slot)
        except wire.ServerGone:
            if not mutates:
                return local()
            return False, f"{UNCERTAIN}\nhint: {UNCERTAIN_HINT}"
        result = response.get("result")
        if isinstance(result, list) and len(result) == 2:
            return bool(result[0]), result[1]
        err = response.get("error") or {}
        return False, f"internal error: {err.get('message', 'no answer from the Hero server')}"
