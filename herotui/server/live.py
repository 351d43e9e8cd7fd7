"""Live refresh from the server's change notifications (the TUI's ``hero.changed`` follower).

:func:`follow` runs a daemon thread that subscribes to the resident server (starting it when
none runs) and, for every committed write in the context the app shows, calls the app's
refresh on its own thread (``app.call_from_thread``). A TUI then refreshes within
milliseconds of a write made anywhere (the CLI in its terminal tab, MCP, a script), instead
of waiting for its 0.5 s poll of the index revision, which stays as the fallback where no
server can run.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from herotui import server as wire


def follow(app: Any, context: Callable[[], str], on_change: Callable[[], None],
           stopped: Callable[[], bool] = lambda: False) -> threading.Thread | None:
    """Follow the server's notifications for ``context()``; None when no server can run."""
    folder = wire.ensure_runtime_dir()
    if folder is None:
        return None

    def loop() -> None:
        spawned = False
        while not stopped():
            try:
                conn = wire.connect(folder)
            except wire.ServerGone:
                if not spawned:
                    wire.spawn(folder)
                    spawned = True
                time.sleep(0.5)
                continue
            try:
                hello = conn.call("hero.hello", {"version": wire.server_version(), "actor": "tui"}, timeout=60)
                if (hello.get("result") or {}).get("version") != wire.server_version():
                    conn.close()
                    time.sleep(2)  # another version: a CLI call replaces it; the poll covers meanwhile
                    continue
                conn.call("hero.subscribe", timeout=30)
                for msg in conn.notifications:
                    _deliver(app, msg, context, on_change)
                conn.notifications.clear()
                while not stopped():
                    msg = conn.read_message(timeout=None)
                    if msg is None:
                        break
                    _deliver(app, msg, context, on_change)
            except (wire.ServerGone, OSError, ValueError):
                pass
            finally:
                conn.close()
            spawned = False
            time.sleep(0.2)

    t = threading.Thread(target=loop, name="hero-live", daemon=True)
    t.start()
    return t


def _deliver(app: Any, msg: dict, context: Callable[[], str], on_change: Callable[[], None]) -> None:
    if msg.get("method") != "hero.changed":
        return
    if (msg.get("params") or {}).get("context") != context():
        return
    try:
        app.call_from_thread(on_change)
    except RuntimeError:
        pass  # the app is not running (any more)
