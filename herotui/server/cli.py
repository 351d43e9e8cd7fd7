"""``hero serve``: run, inspect and stop the resident server.

``hero serve``            start it in the background if it is not running, and show its status
``hero serve --foreground``  run it in this process (for systemd, launchd, a terminal)
``hero serve status``     is it running: version, PID, uptime, memory, clients (exit 1: not running)
``hero serve stop``       stop it (it also stops by itself after HERO_SERVE_IDLE seconds idle)
"""



import json
import os
import sys
import time

from herotui import server as wire
from herotui.errors import HeroError


def status(folder: str | None = None) -> dict | None:
    """The running server's status (``hero.status``), or None when none answers."""
    folder = folder or wire.runtime_dir()
    try:
        conn = wire.connect(folder)
    except wire.ServerGone:
        return None
    try:
        conn.call("hero.hello", {"version": wire.server_version(), "actor": "cli"}, timeout=10)
        resp = conn.call("hero.status", timeout=10)
    except (wire.ServerGone, OSError, ValueError):
        return None
    finally:
        conn.close()
    return resp.get("result") if isinstance(resp.get("result"), dict) else None


def stop(folder: str | None = None, timeout: float = 10.0) -> int | None:
    """Stop the running server; its PID, or None when none was running."""
    import signal

    folder = folder or wire.runtime_dir()
    pid_info = wire.read_pid(folder)
    if not wire.server_running(folder):
        return None
    try:
        conn = wire.connect(folder)
        try:
            reply = conn.call("hero.stop", timeout=5)
        finally:
            conn.close()
        if "error" in reply:  # it did not take the call (it refused this peer): the signal
            raise wire.ServerGone(reply["error"].get("message", ""))
    except (wire.ServerGone, OSError, ValueError):
        if pid_info:
            try:
                os.kill(pid_info[0], signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + timeout
    while wire.server_running(folder) and time.monotonic() < deadline:
        time.sleep(0.02)
    if wire.server_running(folder) and pid_info:
        os.kill(pid_info[0], signal.SIGKILL)
    return pid_info[0] if pid_info else 0


def _describe(info: dict) -> str:
    mb = info.get("rss_bytes", 0) / 1e6
    ctxs = ", ".join(info.get("open_contexts") or []) or "none"
    return (f"running: PID {info['pid']}, version {info['version']}, up {info['uptime']:.0f}s, {mb:.0f} MB, "
            f"{info['clients'] - 1} other client(s), stores open: {ctxs}, idle exit after {info['idle_timeout']:g}s\n"
            f"socket: {info['socket']}")


def cli(options=None):
    import typer  # ~40 ms: only when 'hero serve' is on the command line

    app = typer.Typer(rich_markup_mode=None, invoke_without_command=True,
                      help="The resident Hero: the stores open once, every front-end its client.")

    @app.callback()
    def serve(
        ctx: typer.Context,
        foreground: bool = typer.Option(False, "--foreground", help="Run the server in this process (systemd, launchd)."),
    ) -> None:
        """Start the resident server (in the background; it stops by itself when idle)."""
        if ctx.invoked_subcommand is not None:
            return
        if foreground:
            from herotui.server.core import main

            raise typer.Exit(main(foreground=True))
        folder = wire.ensure_runtime_dir()
        if folder is None:
            raise HeroError(f"no server can run here: the runtime folder {wire.runtime_dir()} cannot be used",
                            hint="set XDG_RUNTIME_DIR or HERO_HOME to a folder you own; Hero runs in-process meanwhile")
        if not wire.spawn(folder, wait=30):
            raise HeroError("the server did not start", hint=f"see {os.path.join(folder, wire.LOG_FILE)}")
        info = status(folder)
        print(_describe(info) if info else "started")

    @app.command("status")
    def status_cmd(json_: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Whether the server runs: version, PID, uptime, memory, clients (exit 1 when not)."""
        info = status()
        if json_:
            print(json.dumps(info or {"running": False}))
        elif info:
            print(_describe(info))
        else:
            print(f"not running (it starts on the next command; socket {wire.socket_path()})", file=sys.stderr)
        if not info:
            raise typer.Exit(1)

    @app.command("stop")
    def stop_cmd() -> None:
        """Stop the server (the next command starts a new one)."""
        pid = stop()
        print("not running" if pid is None else f"stopped (PID {pid})")

    return app
