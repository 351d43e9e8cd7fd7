"""The resident Hero (``hero serve``): where it lives and how a client reaches it.

This module is imported by the thin CLI entry, so it stays light: the standard library's
``os``, ``socket``, ``json`` and ``hashlib`` only (no Typer, pydantic, DuckDB or Rich).

Layout of the runtime folder (0700, owned by the user; see :func:`runtime_dir`):

- ``hero.sock``   the Unix socket the server listens on (JSON-RPC 2.0, one JSON per line);
- ``serve.pid``   held locked (flock) by the running server for its whole life: whoever
                  holds it is *the* server; it contains ``PID VERSION``;
- ``spawn.lock``  taken by a client while it starts a server, so ten clients starting at
                  once start one;
- ``serve.log``   the server's standard error (its log goes to the usual log file);
- ``manifest-<version>-<hash>.json``  the verb manifest the thin CLI parses arguments with.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import time

from herotui import __version__

PROTOCOL = 2
"""Bumped when the client/server messages change; part of :func:`server_version`."""

SOCKET = "hero.sock"
PID_FILE = "serve.pid"
SPAWN_LOCK = "spawn.lock"
LOG_FILE = "serve.log"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes; leave room


_SOURCE_STAMP: str | None = None


def _source_stamp() -> str:
    """In a source checkout (an editable install: code that changes under a running server),
    a stamp of the code: the newest modification time and the number of the ``.py`` files
    of the package and of the shipped ``commands/`` templates. Empty for an installed wheel,
    whose version number changes when its code does. About 1 ms (a stat per file)."""
    global _SOURCE_STAMP
    if _SOURCE_STAMP is None:
        pkg = os.path.dirname(os.path.abspath(__file__))
        pkg = os.path.dirname(pkg)  # herotui/
        if "site-packages" in pkg or "dist-packages" in pkg:
            _SOURCE_STAMP = ""
        else:
            newest, count = 0, 0
            stack = [pkg, os.path.join(os.path.dirname(pkg), "commands")]
            while stack:
                try:
                    entries = os.scandir(stack.pop())
                except OSError:
                    continue
                with entries:
                    for e in entries:
                        if e.is_dir(follow_symlinks=False):
                            if e.name != "__pycache__" and not e.name.startswith("."):
                                stack.append(e.path)
                        elif e.name.endswith((".py", ".yaml")):
                            count += 1
                            newest = max(newest, e.stat().st_mtime_ns)
            _SOURCE_STAMP = f"+src{_hash(f'{newest}:{count}')[:8]}"
    return _SOURCE_STAMP


def server_version() -> str:
    """What client and server compare: they talk only when these are equal (a client
    replaces a server of another version; in a source checkout, one started before the code
    changed).

    ``HERO_SERVE_VERSION`` overrides it (a test seam: a server "of another version").
    """
    return os.environ.get("HERO_SERVE_VERSION") or f"{__version__}+p{PROTOCOL}{_source_stamp()}"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def runtime_dir() -> str:
    """The runtime folder of this user's (or this ``HERO_HOME``'s) server.

    With ``HERO_HOME``: ``$HERO_HOME/run`` (each home its own server: tests, several data
    sets), or, when that path is too long for a socket, ``$XDG_RUNTIME_DIR/hero/h-<hash>``
    (``/tmp/hero-<uid>/h-<hash>`` without it). Without ``HERO_HOME``: ``$XDG_RUNTIME_DIR/hero``,
    else ``<data folder>/run`` (``~/.local/share/hero/run``).
    """
    home = os.environ.get("HERO_HOME")
    if home:
        home = os.path.abspath(os.path.expanduser(home))
        folder = os.path.join(home, "run")
        if len(os.path.join(folder, SOCKET)) <= MAX_SOCKET_PATH:
            return folder
        base = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/hero-{os.getuid()}"
        return os.path.join(base, "hero", "h-" + _hash(home))
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "hero")
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "hero", "run")


def ensure_runtime_dir() -> str | None:
    """Create the runtime folder (0700, owner-only); None when it cannot be had safely.

    Refused (None): a folder (or a parent this creates) that cannot be created, is not a
    real folder, belongs to someone else, or cannot be written. The callers then run
    in-process (no server).
    """
    folder = runtime_dir()
    try:
        missing = []
        f = folder
        while not os.path.lexists(f):
            missing.append(f)
            parent = os.path.dirname(f)
            if parent == f:
                break
            f = parent
        for f in reversed(missing):
            try:
                os.mkdir(f, 0o700)
            except FileExistsError:
                pass
        st = os.lstat(folder)
        import stat

        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            return None
        if st.st_mode & 0o077:
            os.chmod(folder, 0o700)
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
        if len(os.path.join(folder, SOCKET)) > MAX_SOCKET_PATH + 7:
            return None
        return folder
    except OSError:
        return None


def socket_path(folder: str | None = None) -> str:
    return os.path.join(folder or runtime_dir(), SOCKET)


# Environment that changes what a verb does: a server started under other values must not
# answer for this client (it falls back to running in-process).
_CLIENT_ONLY = {"HERO_CONTEXT", "HERO_DEBUG", "HERO_NO_SERVER", "HERO_SERVE_IDLE", "HERO_SERVE_HOLD",
                "HERO_SERVE_VERSION", "HERO_SERVE_EXPECT_UID", "HERO_INDEX_DELAY", "HERO_LOG_LEVEL"}
_MODEL_PREFIXES = ("OPENAI_", "ANTHROPIC_", "OLLAMA_", "LITELLM_", "AZURE_", "GEMINI_", "MISTRAL_", "GROQ_",
                   "OPENROUTER_", "TOGETHER_", "DEEPSEEK_")


def fingerprint(env: dict | None = None) -> str:
    """A hash of the environment a server's answers depend on (time zone, data folders,
    model settings and keys...): client and server talk only when theirs are equal."""
    env = os.environ if env is None else env
    keys = [k for k in env if (k.startswith("HERO_") and k not in _CLIENT_ONLY) or k.startswith(_MODEL_PREFIXES)
            or k in ("TZ", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME")]
    named = env.get("HERO_MODEL_API_KEY_ENV")
    if named:
        keys.append(named)
    text = "\0".join(f"{k}={env.get(k, '')}" for k in sorted(set(keys)))
    return _hash(text)


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a Unix socket (SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class Connection:
    """One client connection: newline-delimited JSON-RPC 2.0 requests and responses.

    Notifications the server pushes (``hero.changed``) arriving while a response is awaited
    are kept in :attr:`notifications`.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.next_id = 0
        self.notifications: list[dict] = []

    def send(self, method: str, params=None) -> int:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.sock.sendall(json.dumps(msg, ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n")
        return self.next_id

    def read_message(self, timeout: float | None = None) -> dict | None:
        """The next message, or None at end of stream (the server went away)."""
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def read_raw(self, n: int, timeout: float | None = None) -> bytes:
        """``n`` bytes that follow a response (``hero.cli`` with ``raw``)."""
        self.sock.settimeout(timeout)
        parts = [self.buf[:n]]
        got = len(parts[0])
        self.buf = self.buf[n:]
        while got < n:
            chunk = self.sock.recv(min(1 << 20, n - got))
            if not chunk:
                raise ServerGone("the Hero server closed the connection")
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def call(self, method: str, params=None, timeout: float | None = None) -> dict:
        """The response object (``result`` or ``error``) of one call; raises
        :class:`ServerGone` if the connection ends before it comes."""
        rid = self.send(method, params)
        while True:
            msg = self.read_message(timeout)
            if msg is None:
                raise ServerGone("the Hero server closed the connection")
            if msg.get("id") == rid and ("result" in msg or "error" in msg):
                return msg
            if msg.get("id") is None and "error" in msg:
                return msg  # the server refused the connection (another user) or the line
            if "method" in msg and "id" not in msg:
                self.notifications.append(msg)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class ServerGone(Exception):
    """The server is not there (any more)."""


def connect(folder: str | None = None, timeout: float = 2.0) -> Connection:
    """A connection to the running server; :class:`ServerGone` when none answers."""
    path = socket_path(folder)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except (FileNotFoundError, ConnectionRefusedError, socket.timeout, OSError) as exc:
        s.close()
        raise ServerGone(f"no Hero server at {path} ({exc.__class__.__name__})") from None
    s.settimeout(None)
    return Connection(s)


def read_pid(folder: str | None = None) -> tuple[int, str] | None:
    """(PID, version) from the server's pid file, whether or not it is still running."""
    try:
        with open(os.path.join(folder or runtime_dir(), PID_FILE)) as fh:
            words = fh.read().split()
        return int(words[0]), words[1] if len(words) > 1 else ""
    except (OSError, ValueError, IndexError):
        return None


def server_running(folder: str | None = None) -> bool:
    """Whether a server holds the pid file's lock (alive, maybe still starting)."""
    import fcntl

    try:
        fd = os.open(os.path.join(folder or runtime_dir(), PID_FILE), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def spawn(folder: str, wait: float = 0.0) -> bool:
    """Start a server in the background unless one is running or being started.

    Returns at once when ``wait`` is 0 (the caller goes on in-process); else waits up to
    ``wait`` seconds for the socket to answer. True when a server was started here or is
    answering. Ten clients calling this at once start one server: the spawn lock is taken
    without blocking, and the server itself refuses to run twice (its pid file's lock).
    """
    import fcntl
    import subprocess
    import sys

    lock_path = os.path.join(folder, SPAWN_LOCK)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    started = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another client is starting it
        else:
            if not server_running(folder):
                sock = socket_path(folder)
                try:
                    os.unlink(sock)  # stale: nobody holds the pid lock
                except FileNotFoundError:
                    pass
                try:
                    log = os.open(os.path.join(folder, LOG_FILE), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
                except OSError:
                    return False
                try:
                    subprocess.Popen([sys.executable, "-m", "herotui.server", "--daemon"], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True, close_fds=True,
                                     cwd="/")
                    started = True
                except OSError:
                    return False
                finally:
                    os.close(log)
                # keep the spawn lock until the server holds its pid lock (or gives up)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not server_running(folder):
                    time.sleep(0.005)
            else:
                started = True
    finally:
        os.close(fd)
    if wait <= 0:
        return started
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            connect(folder).close()
            return True
        except ServerGone:
            time.sleep(0.01)
    return False
