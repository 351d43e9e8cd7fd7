"""The terminal presenter: a deck full-screen, slide by slide (``hero slides present``); a
document in the pager or the desktop's viewer (``hero document open``: :func:`show`).

``run(presentation)`` takes the :class:`~herotui.services.slides.Presentation` the
``slides.present`` verb returns. In a terminal (stdin and stdout both TTYs) it switches to
the alternate screen, renders each slide's Markdown with Rich (headings, lists, tables,
code with syntax highlighting), shows a footer "slide n of m · ←/→ space q" and reads keys
in cbreak mode (stdlib termios/tty). Anywhere else (a pipe, a file, a test) it prints every
slide, rendered, with a rule between them.

Keys: → l n space Enter PageDown = next; ← h p Backspace PageUp = previous; ↓ j / ↑ k scroll a
slide taller than the screen, else next / previous; Home g = first; End G = last; a number
then Enter = that slide; q Esc Ctrl+C = quit. The terminal is restored on every exit path
(quit, Ctrl+C, an exception); a resize redraws.

The key decoding (:func:`decode`) and the navigation (:class:`Navigator`) are plain functions
of their input, so they are tested without a terminal; the loop only wires them to the tty.
"""

from __future__ import annotations

import os
import select
import shlex
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from herotui.services.slides import Presentation

FOOTER_KEYS = "←/→ space q"
MAX_WIDTH = 100  # slide text wider than this is hard to read; wider terminals get margins
CODE_THEME = "monokai"
POLL = 0.25  # seconds between checks for a resize while no key arrives
ESC_WAIT = 0.05  # how long after ESC to wait for the rest of an escape sequence

# --- keys --------------------------------------------------------------------------------------

_SEQUENCES = {
    b"\x1b[A": "up", b"\x1b[B": "down", b"\x1b[C": "right", b"\x1b[D": "left",
    b"\x1bOA": "up", b"\x1bOB": "down", b"\x1bOC": "right", b"\x1bOD": "left",
    b"\x1b[H": "home", b"\x1b[F": "end", b"\x1bOH": "home", b"\x1bOF": "end",
    b"\x1b[1~": "home", b"\x1b[7~": "home", b"\x1b[4~": "end", b"\x1b[8~": "end",
    b"\x1b[5~": "pageup", b"\x1b[6~": "pagedown",
}
_SINGLE = {b" ": "space", b"\r": "enter", b"\n": "enter", b"\x7f": "backspace", b"\x08": "backspace",
           b"\x03": "ctrl-c", b"\x04": "ctrl-d", b"\x1b": "escape", b"\x0c": "ctrl-l"}


def decode(data: bytes) -> list[str]:
    """Key names for the bytes a terminal sent: arrows, Home/End, PageUp/Down, letters...

    Unknown escape sequences are skipped whole (they never turn into letters).
    """
    keys: list[str] = []
    i = 0
    while i < len(data):
        if data[i : i + 1] == b"\x1b" and i + 1 < len(data) and data[i + 1 : i + 2] in (b"[", b"O"):
            for seq, name in _SEQUENCES.items():
                if data.startswith(seq, i):
                    keys.append(name)
                    i += len(seq)
                    break
            else:  # unknown CSI/SS3 sequence: skip to its final byte
                j = i + 2
                while j < len(data) and not (0x40 <= data[j] <= 0x7E):
                    j += 1
                i = j + 1
            continue
        ch = data[i : i + 1]
        if ch in _SINGLE:
            keys.append(_SINGLE[ch])
        elif 0x20 < data[i] < 0x7F:
            keys.append(ch.decode())
        i += 1
    return keys


NEXT = {"right", "l", "n", "space", "pagedown"}
PREVIOUS = {"left", "h", "p", "backspace", "pageup"}
QUIT = {"q", "Q", "escape", "ctrl-c", "ctrl-d"}


@dataclass
class Navigator:
    """Where the presentation is: the slide (0-based) and the scroll offset within it.

    ``height`` (lines the slide area shows) and ``lines`` (lines the current slide needs)
    are set by the drawing code; scrolling only happens when the slide does not fit.
    """

    total: int
    index: int = 0
    offset: int = 0
    height: int = 0
    lines: int = 0
    number: str = ""  # digits typed so far (a number then Enter jumps to that slide)
    done: bool = False

    def go(self, index: int) -> None:
        index = max(0, min(self.total - 1, index))
        if index != self.index:
            self.index, self.offset = index, 0

    @property
    def max_offset(self) -> int:
        return max(0, self.lines - self.height)

    def press(self, key: str) -> None:
        if key.isdigit():
            self.number += key
            return
        if key == "enter" and self.number:
            self.go(int(self.number) - 1)
            self.number = ""
            return
        self.number = ""
        if key in QUIT:
            self.done = True
        elif key in NEXT or key == "enter":
            self.go(self.index + 1)
        elif key in PREVIOUS:
            self.go(self.index - 1)
        elif key in ("down", "j"):
            if self.offset < self.max_offset:
                self.offset = min(self.max_offset, self.offset + max(1, self.height // 2))
            else:
                self.go(self.index + 1)
        elif key in ("up", "k"):
            if self.offset > 0:
                self.offset = max(0, self.offset - max(1, self.height // 2))
            else:
                self.go(self.index - 1)
        elif key in ("home", "g"):
            self.go(0)
        elif key in ("end", "G"):
            self.go(self.total - 1)


# --- drawing -----------------------------------------------------------------------------------


def slide_renderable(markdown: str):
    from rich.markdown import Markdown  # ~68 ms cold: paid when a deck or an answer is shown

    return Markdown(markdown, code_theme=CODE_THEME, hyperlinks=False)


def footer_text(presentation: Presentation, nav: Navigator, width: int):
    """The footer line: deck title on the left, 'slide n of m · keys' on the right."""
    from rich.text import Text  # ~20 ms cold: paid when a deck or an answer is shown

    right = f"slide {nav.index + 1} of {nav.total} · {FOOTER_KEYS} "
    if nav.number:
        right = f"go to {nav.number}… " + right
    if nav.offset < nav.max_offset:
        right = "↓ more  " + right
    left = f" {presentation.title}"
    room = width - len(right) - 1
    if room < 4:
        left = ""
    elif len(left) > room:
        left = left[: room - 1] + "…"
    t = Text(left, style="bold")
    t.append(" " * max(1, width - len(left) - len(right)))
    t.append(right, style="dim")
    t.truncate(width)
    return t


def frame(console, presentation: Presentation, nav: Navigator) -> list:
    """The whole screen as lines of segments (the slide, padded and scrolled, then the footer)."""
    from rich.segment import Segment  # ~18 ms cold: paid when a deck or an answer is shown
    from rich.style import Style  # ~30 ms cold: paid when a deck or an answer is shown

    width, height = console.size
    body_h = max(1, height - 2)  # a blank line and the footer below the slide
    content_w = max(10, min(MAX_WIDTH, width - 4))
    margin = max(0, (width - content_w) // 2)
    slide = presentation.slides[nav.index]
    options = console.options.update(width=content_w, height=None)
    lines = console.render_lines(slide_renderable(slide.markdown), options.update(height=None), pad=True)
    lines = [[]] + lines  # one blank line above the slide
    nav.height, nav.lines = body_h, len(lines)
    nav.offset = min(nav.offset, nav.max_offset)
    visible = lines[nav.offset : nav.offset + body_h]
    out = []
    pad = Segment(" " * margin)
    for line in visible:
        out.append(Segment.adjust_line_length([pad, *line], width))
    while len(out) < body_h:
        out.append([Segment(" " * width)])
    out.append([Segment(" " * width)])
    footer = console.render_lines(footer_text(presentation, nav, width), console.options.update(width=width), pad=True)
    out.append(Segment.adjust_line_length([*footer[0]], width, style=Style()))
    return out[:height]


# --- the loop ----------------------------------------------------------------------------------


def interactive() -> bool:
    """True when keys can be read and the screen drawn (both ends are terminals)."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def print_all(presentation: Presentation, console: Any = None) -> None:
    """Every slide, rendered, with a rule between them (no terminal needed)."""
    from rich.console import Console  # ~54 ms cold: paid when a deck or an answer is shown

    from herotui.frontends import views

    (console or Console(highlight=False)).print(views.view(presentation))


def run(presentation: Any) -> None:
    """Present the deck: interactively in a terminal, else print every slide.

    ``presentation`` may also be an answer of the assistant (``hero ask "find the deck about
    Alex and open it"``, an ``AskResult``): its plan and reply are printed, then the deck its
    ``slides.present`` step opened is presented the same way.
    """
    from herotui.frontends import views

    if views.find(presentation) is views.ask_result:  # an AskResult
        from rich.console import Console  # ~54 ms cold: paid when a deck or an answer is shown

        deck = presentation.presentation()
        Console(highlight=False).print(views.ask_result(presentation, False, opening=deck is not None and interactive()))
        _show_opened(presentation)
        if deck is None:
            return
        presentation = deck
        if interactive():
            _loop(presentation)
        return  # not in a terminal: the reply says which command presents it
    if not presentation.slides:
        return
    if not interactive():
        print_all(presentation)
        return
    _loop(presentation)


def _show_opened(answer: Any) -> None:
    """The documents an assistant's ``document.open`` steps returned, shown here (the pager or
    the viewer), as ``hero document open`` shows them; a failure is said, the answer stands."""
    from herotui.errors import HeroError
    from herotui.frontends import render
    from herotui.services.document import Opened

    for step in getattr(answer, "steps", []):
        if step.verb == "document.open" and step.status == "ok" and isinstance(step.result, dict):
            try:
                shown = show(Opened.model_validate(step.result))
            except HeroError as exc:
                render.error(exc, False)
                continue
            if shown.message:
                sys.stdout.write(shown.message)


def _read_keys(fd: int, timeout: float) -> list[str]:
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return []
    data = os.read(fd, 1024)
    if data == b"":
        return ["ctrl-d"]  # end of input: the terminal went away
    if data.endswith(b"\x1b"):  # a lone ESC, or the first byte of a sequence still coming
        more, _, _ = select.select([fd], [], [], ESC_WAIT)
        if more:
            data += os.read(fd, 1024)
    return decode(data)


def _terminal_size(console) -> tuple[int, int]:
    """The terminal's size; a terminal that reports none (0 x 0: a bare pseudo-terminal, a
    serial line) is taken as COLUMNS x LINES, else 80 x 24."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
        columns, lines = size.columns, size.lines
    except OSError:
        columns, lines = console.size
    if columns < 1 or lines < 1:
        def env(name: str, default: int) -> int:
            try:
                return max(1, int(os.environ.get(name, "")))
            except ValueError:
                return default

        columns, lines = env("COLUMNS", 80), env("LINES", 24)
    return max(columns, 20), max(lines, 3)


def _loop(presentation: Presentation) -> None:
    import termios
    import tty

    from rich.console import Console  # ~54 ms cold: paid when a deck or an answer is shown

    console = Console(highlight=False)
    nav = Navigator(total=len(presentation.slides), index=max(0, min(len(presentation.slides), presentation.start) - 1))
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)  # keys one by one, no echo; output processing stays on
        with console.screen(hide_cursor=True):
            drawn: tuple | None = None
            while not nav.done:
                size = _terminal_size(console)
                console.size = size  # the real size: COLUMNS/LINES in the environment go stale on resize
                state = (size, nav.index, nav.offset, nav.number)
                if state != drawn:
                    console.update_screen_lines(frame(console, presentation, nav))
                    drawn = (size, nav.index, nav.offset, nav.number)
                for key in _read_keys(fd, POLL):
                    if key == "ctrl-l":
                        drawn = None
                        continue
                    nav.press(key)
                    if nav.done:
                        break
    except KeyboardInterrupt:
        pass  # Ctrl+C with ISIG on: quit like q
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# --- documents: the pager or the desktop's viewer ----------------------------------------------
#
# ``document open`` (a verb marked ``terminal`` in the registry) returns what to show: the text
# of Markdown and text documents, the stored file of the others. Showing it is done here, by
# the front-end that has a screen: the CLI calls :func:`show` after the verb ran.


def show(result: Any) -> Any:
    """Show a ``terminal`` verb's result on this screen; returns it as shown (``Opened`` with
    ``command``, ``path`` and ``message`` filled in)."""
    from herotui.services.document import Opened

    if isinstance(result, Opened):
        return page(result) if result.how == "pager" else view_file(result)
    return result


def page(doc: Any) -> Any:
    """The document's text in ``$PAGER`` (default ``less``, with ``LESS=FRX`` unless set)."""
    import subprocess

    from herotui.errors import HeroError

    pager = os.environ.get("PAGER", "").strip() or "less"
    argv = shlex.split(pager)
    if not argv or shutil.which(argv[0]) is None:
        raise HeroError(f"the pager '{pager}' was not found", hint=f"set PAGER (e.g. PAGER=more), or print it: hero document text {doc.id}")
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # quit at once if it fits, keep colours, leave the screen as is
    try:
        subprocess.run(argv, input=(doc.text or "").encode(), env=env, check=False)
    except OSError as exc:
        raise HeroError(f"cannot run the pager '{pager}': {exc.strerror or exc}", hint=f"print it instead: hero document text {doc.id}") from None
    return doc.model_copy(update={"command": pager, "text": None})


def opener() -> list[str] | None:
    """The program that opens files on this desktop: ``$HERO_OPENER``, else ``open`` (macOS)
    or ``xdg-open`` (only with a graphical session); None when there is none."""
    from herotui import settings

    custom = (settings.get().HERO_OPENER or "").strip()
    if custom:
        return shlex.split(custom)
    if sys.platform == "darwin":
        return ["open"] if shutil.which("open") else None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None
    exe = shutil.which("xdg-open")
    return [exe] if exe else None


def view_file(doc: Any) -> Any:
    """A private copy of the document's file (a new 0700 temporary folder, under its safe
    name) handed to the system's viewer, which reads it after we return."""
    import tempfile
    from pathlib import Path

    from herotui.errors import HeroError

    from herotui import settings

    argv = opener()
    if argv is None or shutil.which(argv[0]) is None:
        what = "no graphical session (DISPLAY is not set)" if sys.platform != "darwin" and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and not settings.get().HERO_OPENER else \
            "no program to open files was found (xdg-open)"
        extra = f", or read its text: hero document text {doc.id}" if doc.chars else ""
        raise HeroError(f"cannot open '{doc.title}' ({doc.kind}) here: {what}",
                        hint=f"write it out with 'hero document export {doc.id} -o DIR'{extra}; HERO_OPENER sets the program")
    folder = Path(tempfile.mkdtemp(prefix="hero-open-"))
    path = folder / doc.filename
    try:
        shutil.copyfile(doc.file, path)
    except FileNotFoundError:
        shutil.rmtree(folder, ignore_errors=True)
        raise HeroError(f"the file of document {doc.id} is missing from the store",
                        hint="add the file again ('hero document add PATH') to restore it") from None
    _run_opener(argv, path, doc.id)
    return doc.model_copy(update={"command": shlex.join(argv), "path": str(path),
                                  "message": f"opened {doc.title} with {argv[0]} ({path})\n"})


def _run_opener(argv: list[str], path: Any, did: str) -> None:
    import subprocess

    from herotui.errors import HeroError

    try:
        proc = subprocess.Popen([*argv, str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise HeroError(f"cannot run '{argv[0]}': {exc.strerror or exc}", hint="set HERO_OPENER to a program that opens files") from None
    try:
        _out, err = proc.communicate(timeout=10)  # xdg-open hands over and returns at once
        if proc.returncode:
            msg = (err or b"").decode(errors="replace").strip().splitlines()
            raise HeroError(f"'{shlex.join(argv)}' could not open {path.name}" + (f": {msg[-1]}" if msg else ""),
                            hint=f"write it out with 'hero document export {did} -o DIR'")
    except subprocess.TimeoutExpired:
        pass  # a viewer that stays in the foreground: leave it running
