"""An embedded terminal: a child process on a PTY, rendered in a Textual widget.

Hero's own wrapper around ``textual_tty.Terminal`` (a bittty emulator: xterm-256color,
true colour, alternate screen, mouse tracking, bracketed paste). Keep the library behind
this class: the rest of the TUI only uses :class:`HeroTerminal`, its ``Exited`` message,
``screen_text()``, ``pty_size()``, the scrollback methods and ``close()``.

Scrollback is ours (textual-tty keeps none): bittty's ``Blitter.scroll`` is the one place
lines leave the top of the screen (line feeds at the bottom margin and ``CSI S`` both go
through it), so :class:`_ScrollbackBlitter` copies the rows it is about to drop, on the
primary screen only, into a bounded deque (``HERO_TERMINAL_SCROLLBACK`` lines, 5,000 by
default, 0 for none). The widget renders that history above the live rows while scrolled
back (shift+pageup/pagedown, the mouse wheel); a key typed to the child returns to the live
view.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import struct
import sys
import termios
from collections import deque

from bittty import Parser
from bittty.devices.blitter import Blitter
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual_tty import Terminal
from textual_tty.widget import TerminalChrome

from herotui import settings

# Keys the app keeps even while a terminal has focus (island switching, quit, the palette).
# Everything else, space and escape included, goes to the child process.
PASSTHROUGH_KEYS = frozenset({"ctrl+q", "ctrl+p", "ctrl+o", *(f"alt+{i}" for i in range(1, 10)),
                              "ctrl+t", "ctrl+w", "ctrl+pageup", "ctrl+pagedown", "f2"})

# Keys that move the view through the scrollback (on the primary screen; on the alternate
# screen they go to the child, as in xterm).
SCROLL_KEYS = {"shift+pageup": -1, "shift+pagedown": 1}
WHEEL_LINES = 3

DEFAULT_SCROLLBACK = 5000
ERASE_SAVED_LINES = 3  # CSI 3 J (xterm): `clear` sends it to drop the scrollback


def scrollback_limit() -> tuple[int, str | None]:
    """Lines of history per terminal: ``HERO_TERMINAL_SCROLLBACK`` (0 = none), else 5,000.

    Returns the limit and, for a bad value, a one-line warning (the default is used).
    """
    s = settings.get()
    value = s.HERO_TERMINAL_SCROLLBACK
    if s.problem("HERO_TERMINAL_SCROLLBACK") or value < 0:
        raw = (s.raw("HERO_TERMINAL_SCROLLBACK") or "").strip()
        return DEFAULT_SCROLLBACK, (f"HERO_TERMINAL_SCROLLBACK='{raw}' is not a line count; using "
                                    f"{DEFAULT_SCROLLBACK} (e.g. HERO_TERMINAL_SCROLLBACK=10000, 0 for none)")
    return value, None


def default_shell() -> list[str]:
    return [os.environ.get("SHELL") or "/bin/sh"]


def hero_bin() -> str | None:
    """The folder of the running Hero's ``hero`` command (its virtual environment's ``bin``)."""
    for folder in (os.path.dirname(sys.executable), os.path.dirname(os.path.abspath(sys.argv[0] or ""))):
        if folder and os.access(os.path.join(folder, "hero"), os.X_OK):
            return folder
    return None


def hero_path(path: str) -> str:
    """``path`` with the running Hero's ``bin`` folder first (when it is not there already), so
    ``hero`` typed in an embedded shell is this Hero, installed in a venv or not on PATH."""
    folder = hero_bin()
    parts = [p for p in path.split(os.pathsep) if p]
    if folder is None or (parts and os.path.realpath(parts[0]) == os.path.realpath(folder)):
        return path
    return os.pathsep.join([folder, *(p for p in parts if os.path.realpath(p) != os.path.realpath(folder))])


def child_command(command: list[str]) -> list[str]:
    """``command`` behind ``env``, to fix the environment bittty gives the child.

    bittty spawns every child with a copy of ``os.environ`` taken when it was imported (later
    changes never reach the shells), with ``LC_ALL=en_US.UTF-8`` when Hero has no ``LC_ALL``
    (where that locale is not installed, as on Debian by default, bash warns and less, vim and
    htop fall back to ASCII) and with Hero's own ``COLUMNS``/``LINES`` (the size of Hero's
    terminal, not of the PTY). ``env`` execs the command (same pid, same session) with the
    environment as it is now: what changed since the import is passed as arguments of ``env``
    (gone as soon as it execs), then ``COLORTERM=truecolor`` (the emulator renders 24-bit colour).
    ``PATH`` starts with the running Hero's ``bin`` folder (:func:`hero_path`).
    """
    from bittty.pty import unix  # ~200 ms: only opening a terminal tab pays for it

    env = shutil.which("env")
    if env is None:
        return command
    spawned = getattr(unix, "UNIX_ENV", {})  # what bittty passes to every child
    now = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES", "TERM")}
    now["PATH"] = hero_path(now.get("PATH", ""))
    unset = [name for name in spawned if name not in now and name != "TERM"]  # TERM: bittty's xterm-256color
    changed = [f"{name}={value}" for name, value in now.items() if spawned.get(name) != value]
    return [env, *(arg for name in unset for arg in ("-u", name)), "--", *changed, "COLORTERM=truecolor", *command]


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


class _ScrollbackBlitter(Blitter):
    """bittty's blitter, keeping the rows that scroll off the top of the primary screen."""

    def __init__(self, board, limit: int) -> None:
        super().__init__(board)
        self.history: deque[tuple] = deque(maxlen=limit)
        self.pushed = 0  # rows ever kept (the view uses it to stay put while output arrives)

    def _keep(self, rows) -> None:
        if not self.history.maxlen:
            return
        # a copy (a full-width scroll with a background colour rewrites rows in place); about
        # 0.9 kB a 100-column row, so 4.5 MB for 5,000 rows. Trimming trailing blanks in Python
        # made a flood of output (100,000 lines) 3.6 times slower of a flood of output, so rows are kept whole.
        self.history.extend(map(tuple, rows))
        self.pushed += len(rows)

    def scroll(self, lines: int) -> None:
        if (lines > 0 and not self.in_alt_screen and self.scroll_top == 0
                and self.left_margin == 0 and self.right_margin == self.board.width - 1):
            self._keep(self.current_buffer.grid[: min(lines, self.scroll_bottom + 1)])
        super().scroll(lines)

    def clear_screen(self, mode: int = 0) -> None:
        if mode == ERASE_SAVED_LINES:
            self.history.clear()
            return
        super().clear_screen(mode)

    def resize(self, width: int, height: int) -> None:
        old_width = self.board.width
        self._resize(width, height)
        if width > old_width:
            # bittty sets tab stops once, for the width at creation (80), and only drops those
            # beyond a narrower width: a wider pane had none past column 80, so `ls` columns
            # ran together. As xterm does, the new columns get a stop every 8.
            cursor = self.board.cursor
            cursor.tab_stops |= set(range(-(-old_width // 8) * 8, width, 8)) - {0}

    def _resize(self, width: int, height: int) -> None:
        # Shrinking the primary screen under the cursor: the top rows go to the history (as in
        # xterm) instead of bittty cutting the bottom rows, the cursor's line among them.
        cursor = self.board.cursor
        excess = cursor.y + 1 - height
        if not self.in_alt_screen and 0 < height < self.board.height and excess > 0:
            self._keep(self.primary_buffer.grid[:excess])
            self.primary_buffer.scroll_up(excess)
            cursor.y -= excess
        super().resize(width, height)


def _install_scrollback(board, limit: int) -> _ScrollbackBlitter:
    """Swap a fresh board's blitter for ours; the handler table and the parser's cached
    view of it are rebuilt (both hold bound methods of the old blitter)."""
    blitter = _ScrollbackBlitter(board, limit)
    board.blitter = blitter
    board.devices["blitter"] = blitter
    board.registry = board._build_registry()
    board.parser = Parser(board)
    return blitter


class _Chrome(TerminalChrome):
    def on_mouse_capture(self, mode: str) -> None:
        """bittty 0.1.4 reports mouse capture here; textual-tty 0.4 listens on ``on_mouse_mode``,
        which nothing calls, so ``Terminal.mouse_mode`` stayed "off" and the wheel never reached
        a child that tracks the mouse (htop, vim with mouse=a). Mirror the child's protocol."""
        self.widget.mouse_mode = self.board.modes.mouse_protocol.value  # "off" unless it tracks


class HeroTerminal(Terminal):
    """A terminal running ``command`` (default ``$SHELL``, else ``/bin/sh``)."""

    CHROME = _Chrome

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

    def __init__(self, command: list[str] | None = None, id: str | None = None,
                 scrollback: int | None = None) -> None:
        super().__init__(command=child_command(command or default_shell()), id=id)
        self._child_ended = False
        self._limit_warning = None
        if scrollback is None:
            scrollback, self._limit_warning = scrollback_limit()
        self._blitter = _install_scrollback(self.board, max(0, scrollback))
        self._offset = 0  # rows scrolled back from the live view (0: live)
        self._intervals: dict = {}
        self._pushed_seen = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # --- keys: the focused terminal owns the keyboard, bar a few app keys ----------------

    # Textual runs the handler of every class in the MRO until one calls prevent_default(), so
    # Terminal's own handler runs after each of these unless it is prevented: never call it
    # through super() as well (a paste or a wheel notch would reach the child twice).

    def on_key(self, event: events.Key) -> None:
        if event.key in PASSTHROUGH_KEYS:
            event.prevent_default()  # not to the child; it bubbles on to the bindings
            return
        if event.key in SCROLL_KEYS and not self.board.blitter.in_alt_screen:
            event.stop()
            event.prevent_default()
            self.scroll_history(SCROLL_KEYS[event.key] * max(1, self.size.height - 1))
            return
        self.scroll_to_live()  # typing returns to the live view; Terminal.on_key sends the key

    def on_paste(self, event: events.Paste) -> None:
        self.scroll_to_live()  # Terminal.on_paste sends it

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._wheel_scrolls_history():
            event.stop()
            event.prevent_default()
            self.scroll_history(-WHEEL_LINES)
        # else Terminal's handler: to a mouse-tracking child, or arrows on the alternate screen

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._wheel_scrolls_history():
            event.stop()
            event.prevent_default()
            self.scroll_history(WHEEL_LINES)

    def _wheel_scrolls_history(self) -> bool:
        """The wheel is ours on the primary screen while the child does not track the mouse."""
        return self.mouse_mode == "off" and not self.board.blitter.in_alt_screen

    def on_terminal_process_exited(self, event: Terminal.ProcessExited) -> None:
        event.stop()
        if not self._child_ended:
            self.post_message(self.Exited(self, event.exit_code))

    # --- scrollback -----------------------------------------------------------------------

    @property
    def history_size(self) -> int:
        """Rows kept above the screen."""
        return len(self._blitter.history)

    @property
    def scrollback_limit(self) -> int:
        return self._blitter.history.maxlen or 0

    @property
    def scrolled_back(self) -> int:
        """How many rows the view is above the live screen (0: live)."""
        return self._offset

    def scroll_history(self, delta: int) -> None:
        """Move the view ``delta`` rows (negative: back into the history)."""
        self._follow_history()
        offset = max(0, min(self.history_size, self._offset - delta))
        if offset != self._offset:
            self._offset = offset
            self.refresh()

    def scroll_to_live(self) -> None:
        if self._offset:
            self._offset = 0
            self.refresh()

    def _follow_history(self) -> None:
        """Keep a scrolled-back view on the same rows while new ones are kept below them."""
        grown = self._blitter.pushed - self._pushed_seen
        self._pushed_seen = self._blitter.pushed
        if self.board.blitter.in_alt_screen:
            self._offset = 0  # the alternate screen has no history; show it live
        elif self._offset and grown:
            self._offset = min(self.history_size, self._offset + grown)
        elif self._offset > self.history_size:  # CSI 3 J emptied it
            self._offset = self.history_size

    def _tick(self) -> None:
        dirty = self._dirty
        before = self._offset
        self._follow_history()
        super()._tick()
        if self._offset and (dirty or before != self._offset):
            self.refresh()  # the rows are shifted by the offset: the per-row repaint misses them
        elif before and not self._offset:
            self.refresh()

    def _cursor_shown(self) -> bool:
        return super()._cursor_shown() and not self._offset

    def _view_row(self, y: int):
        """Row ``y`` of the view while scrolled back: history, then the live screen's top rows."""
        history = self._blitter.history
        index = len(history) - self._offset + y
        if index < len(history):
            return history[index]
        page = self.board.blitter.current_buffer
        return page.grid[index - len(history)] if index - len(history) < page.height else None

    def render_line(self, y: int) -> Strip:
        if not self._offset:
            return super().render_line(y)
        width = self.size.width
        if y == self.size.height - 1:
            text = f" scrollback {self._offset}/{self.history_size} · shift+pgdn, wheel or a key returns "
            return Strip([Segment(text.center(width, "─")[:width], RichStyle(reverse=True, bold=True))])
        row = self._view_row(y)
        if row is None:
            return Strip.blank(width)
        segments = []
        run: list[str] = []
        run_style = None
        for style, char in row[:width]:
            if style is not run_style and style != run_style:
                if run:
                    segments.append(Segment("".join(run), self._to_rich(run_style)))
                    run = []
                run_style = style
            run.append(char)
        if run:
            segments.append(Segment("".join(run), self._to_rich(run_style)))
        strip = Strip(segments).adjust_cell_length(width)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            start, end = span
            end = width if end == -1 else end
            before, selected, after = strip.divide([start, end, width])
            strip = Strip.join([before, selected.apply_style(self.screen.get_component_rich_style("screen--selection")),
                                after])
        return strip

    def get_selection(self, selection):
        if not self._offset:
            return super().get_selection(selection)
        rows = (self._view_row(y) for y in range(self.size.height - 1))
        text = "\n".join("".join(char for _style, char in row).rstrip() for row in rows if row is not None)
        return selection.extract(text), "\n"

    def history_text(self) -> str:
        """The kept history as plain text, oldest first (tests, a future search)."""
        return "\n".join("".join(char for _style, char in row).rstrip() for row in self._blitter.history)

    # --- lifecycle ------------------------------------------------------------------------

    focus_when_mounted = False
    """Set by the island that opens it: the focus, once mounted (a focus() asked for before
    the mount is lost, and the shell's prompt shows when it mounts: keys typed at it went
    nowhere)."""

    def on_mount(self) -> None:
        # Textual also calls Terminal.on_mount (it starts the child): each class's handler runs
        if self.focus_when_mounted:
            self.focus()
        if self._limit_warning:
            self.notify(self._limit_warning, severity="warning", markup=False)

    def set_interval(self, interval, callback=None, **kwargs):
        """One timer per (interval, callback): textual-tty's Terminal.on_mount calls
        Monitor.on_mount, which Textual's dispatch then calls again (every class's handler in
        the MRO runs), so without this the frame tick runs at 120 Hz and the cursor blink
        toggles twice (so never blinks)."""
        key = (interval, getattr(callback, "__func__", callback), kwargs.get("name"))
        timer = self._intervals.get(key)
        if timer is None:
            timer = self._intervals[key] = super().set_interval(interval, callback, **kwargs)
        return timer

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

    @property
    def alternate_screen(self) -> bool:
        """Whether the child (less, vim, htop...) is on the alternate screen."""
        return self.board.blitter.in_alt_screen

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
