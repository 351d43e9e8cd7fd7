"""An embedded terminal: a child process on a PTY, rendered in a Textual widget.

Hero's own wrapper around ``textual_tty.Terminal`` (a bittty emulator: xterm-256color,
true colour, alternate screen, mouse tracking, bracketed paste). Keep the library behind
this class: the rest of the TUI only uses :class:`HeroTerminal`, its ``Exited`` message,
``screen_text()``, ``pty_size()`` and ``close()``.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import termios

from textual import events
from textual.message import Message
from textual_tty import Terminal

# Keys the app keeps even while a terminal has focus (island switching, quit, the palette).
# Everything else, space and escape included, goes to the child process.
PASSTHROUGH_KEYS = frozenset({"ctrl+q", "ctrl+p", "ctrl+o", *(f"alt+{i}" for i in range(1, 10)),
                              "ctrl+t", "ctrl+w", "ctrl+pageup", "ctrl+pagedown", "f2"})


def default_shell() -> list[str]:
    return [os.environ.get("SHELL") or "/bin/sh"]


def session_members(sid: int) -> list[int]:
    """Pids in session ``sid`` (Linux /proc; empty elsewhere)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry))
    return found


class HeroTerminal(Terminal):
    """A terminal running ``command`` (default ``$SHELL``, else ``/bin/sh``)."""

    DEFAULT_CSS = """
    HeroTerminal {
        width: 1fr;
        height: 1fr;
    }
    """

    class Exited(Message):
        """The child process ended (by itself; not sent when we close it)."""

        def __init__(self, terminal: "HeroTerminal", exit_code: int | None) -> None:
            super().__init__()
            self.terminal = terminal
            self.exit_code = exit_code

    def __init__(self, command: list[str] | None = None, id: str | None = None) -> None:
        super().__init__(command=command or default_shell(), id=id)
        self._child_ended = False

    # no on_mount here: Textual calls every class's on_mount in the MRO (Terminal's starts the child)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # --- keys: the focused terminal owns the keyboard, bar a few app keys ----------------

    def on_key(self, event: events.Key) -> None:
        if event.key in PASSTHROUGH_KEYS:
            event.prevent_default()  # not to the child; it bubbles on to the bindings
            return
        super().on_key(event)  # to the child; stops the event

    def on_terminal_process_exited(self, event: Terminal.ProcessExited) -> None:
        event.stop()
        if not self._child_ended:
            self.post_message(self.Exited(self, event.exit_code))

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """End the child: SIGHUP to its process group, SIGKILL if anything lingers, then reap it.

        The PTY itself is closed by the library when the widget unmounts (closing it here,
        before the removal, hangs the widget's message loop).
        """
        if self._child_ended:
            return
        self._child_ended = True
        process = self._process
        if process is None:
            return
        for sig, wait in ((signal.SIGHUP, 0.5), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(process.pid, sig)  # the child leads its own session (setsid)
            except OSError:
                pass
            try:
                process.wait(timeout=wait)
            except Exception:
                continue
            if sig == signal.SIGHUP:  # the leader is gone; sweep what it left in its group
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except OSError:
                    pass
            break
        for pid in session_members(process.pid):  # jobs the shell put in other process groups
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def on_unmount(self) -> None:
        self.close()  # then Terminal.on_unmount (next in the MRO) closes the PTY

    # --- inspection (tests, titles) -------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def screen_text(self) -> str:
        """The visible screen as plain text, one line a row."""
        return "\n".join(self.render_line(y).text.rstrip() for y in range(self.size.height))

    def pty_size(self) -> tuple[int, int] | None:
        """(rows, columns) of the PTY as the kernel sees them."""
        pty = self.board.pty
        if pty is None or not isinstance(getattr(pty, "master_fd", None), int):
            return None
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(pty.master_fd, termios.TIOCGWINSZ, b"\0" * 8))
        return rows, cols
