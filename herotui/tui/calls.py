"""How the UI runs verbs: through the resident server, else in-process; short result texts.

Every call goes through :meth:`Calls.call` with actor ``tui``. The app owns one
:class:`Calls` (``app.calls``):

- ``served`` (what ``hero`` and ``hero tui`` open, issue 15): a connection to the resident
  server (``hero serve``, started when none runs) is opened in the background, and from then
  on the verbs run there, where the stores are open and the planner is warm; the results come
  back as the same models (``herotui.client``'s typed transport). Until it is up, and where no
  server can run, calls run in-process. If the server dies, a read is run again in-process; a
  write that may have committed is not (its error says to check).
- Not served (an app built directly, as the tests do): every call in-process.

In-process calls are serialised by :attr:`Calls.lock`: DuckDB refuses two connections with
different settings to one file in one process, and the UI's workers (island loads, forms,
the assistant, the voice turn: :meth:`Calls.exclusive`) may overlap.

Verbs that read the caller's files (imports, ``document add``: long, with progress) and the
context verbs (this terminal's active context) always run in-process, as the thin CLI does.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator


class Calls:
    def __init__(self, served: bool = False) -> None:
        self.lock = threading.Lock()
        self.served = served
        self._remote: Any = None  # herotui.client's server transport, once connected
        self._opening = False
        self._guard = threading.Lock()
        self.opened = threading.Event()  # set when the first attempt to connect ended
        if served:
            self._open()
        else:
            self.opened.set()

    # -- the server ------------------------------------------------------------------------

    def _open(self) -> None:
        with self._guard:
            if self._opening:
                return
            self._opening = True
        threading.Thread(target=self._connect, name="hero-tui-link", daemon=True).start()

    def _connect(self) -> None:
        remote = None
        try:
            from herotui.client import ServerTransport

            remote = ServerTransport(None, start=True, actor="tui")
        except Exception:  # noqa: BLE001 - no server here: in-process, as before
            remote = None
        finally:
            with self._guard:
                self._remote = remote
                self._opening = False
            self.opened.set()

    @property
    def remote(self) -> bool:
        """Whether calls go to the server now."""
        return self._remote is not None

    def close(self) -> None:
        remote, self._remote = self._remote, None
        if remote is not None:
            remote.close()

    # -- calls -----------------------------------------------------------------------------

    def call(self, name: str, args: dict[str, Any] | None = None, ctx: Any = None, confirmed: bool = False) -> Any:
        from herotui import registry

        v = registry.get(name)
        remote = self._remote
        if remote is not None and runs_in_server(v):
            from herotui.errors import RemoteError

            try:
                return remote.call(v, dict(args or {}), getattr(ctx, "name", None), confirmed)
            except RemoteError as exc:
                if exc.rpc_code is not None or v.mutates:
                    raise  # the server's answer, or a write that may have committed: shown as is
                self._lost(remote)
            except (OSError, ValueError):
                if v.mutates:
                    raise
                self._lost(remote)
        with self.lock:
            return registry.call(name, args or {}, ctx, actor="tui", confirmed=confirmed)

    def _lost(self, remote: Any) -> None:
        """The server went away (a read falls back here): reconnect in the background."""
        with self._guard:
            if self._remote is remote:
                self._remote = None
        remote.close()
        self._open()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the in-process lock (a voice turn plans and runs verbs in this process)."""
        with self.lock:
            yield


def runs_in_server(v: Any) -> bool:
    """Whether a served UI sends this verb to the server (see the module's docstring)."""
    return not (v.service == "context" or v.in_caller)


def error_text(exc: BaseException) -> str:
    """A HeroError's message and hint (never a traceback)."""
    from herotui.errors import HeroError

    if isinstance(exc, HeroError):
        hint = getattr(exc, "hint", None)
        return exc.message + (f"\nhint: {hint}" if hint else "")
    return f"internal error: {type(exc).__name__}: {exc}"


def summary(result: Any) -> str:
    """One or a few lines describing a verb's result (a notification's text)."""
    from herotui.tui.format import item_line

    if result is None:
        return "done"
    if isinstance(result, list):
        if not result:
            return "nothing found"
        head = [item_line(r) for r in result[:5]]
        more = [f"… and {len(result) - 5} more"] if len(result) > 5 else []
        return f"{len(result)} result{'s' if len(result) != 1 else ''}:\n" + "\n".join(head + more)
    reply = getattr(result, "reply", None)
    if isinstance(reply, str) and reply:
        return reply
    return item_line(result)
