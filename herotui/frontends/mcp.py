"""MCP front-end: every verb of the registry as an MCP tool (official ``mcp`` SDK 2.x).

``hero mcp serve`` speaks MCP over stdio; ``hero mcp serve --http [--port N]`` serves
streamable HTTP at ``http://127.0.0.1:N/mcp`` and requires ``Authorization: Bearer <token>``
(the token is generated on first use into ``config_dir()/mcp-token``, mode 0600, and shown by
``hero mcp token``). ``hero mcp config`` prints the lines that add Hero to Claude Code and
Claude Desktop, locally and over SSH.

Decisions (written down here, as DESIGN.md asks):

- Tools are registered programmatically through the SDK's *low-level* ``Server``
  (``on_list_tools`` / ``on_call_tool``): it takes each verb's JSON Schema as is, where
  ``MCPServer`` derives schemas from Python signatures. One generic handler serves every verb.
- Tool name: the verb name with ``.`` -> ``_`` (``contact.create`` -> ``contact_create``; MCP
  names allow ``[A-Za-z0-9_-]``). Input schema: the verb's schema, plus ``context`` (optional
  string; default: the active context, resolved at each call so ``hero context use`` is
  followed) and, for destructive verbs only, ``confirm`` (boolean). Annotations:
  ``readOnlyHint`` only for verbs that write nothing (not even a file), ``destructiveHint``
  for every write that is not purely additive (see ``annotations``).
- A destructive tool refuses to run unless ``confirm: true`` (the registry enforces it).
- Results: the verb's result made JSON (``render.jsonable``), returned both as structured
  content (objects as is; anything else wrapped as ``{"result": ...}``, since MCP structured
  content must be an object) and as one text block holding the JSON.
- Errors: a ``HeroError`` becomes a tool error (``isError``) whose text is the human message
  and hint; an unexpected exception becomes ``internal error: ...`` (logged with traceback).
- Every call runs ``registry.call(..., actor="mcp")`` in the resident server (``hero serve``,
  started in the background when none runs; :mod:`herotui.server.bridge`), which has the
  stores open: this process keeps the protocol, its limits and checks, and hands each tool
  call over with this server's file roots and ``--context``; a cancellation is passed on
  (``hero.cancel``). Until the resident server answers, and where none can run
  (``HERO_NO_SERVER=1``...), a call runs here in a worker thread (anyio), opening and closing
  the stores, as before. If the resident server dies during a call, a read runs again here; a
  write that may have committed is reported as such.
- Verbs left out (:func:`excluded`): those the registry marks ``terminal`` (``document.open``:
  what it returns is shown on the caller's own screen). ``document.add``
  stays, but its ``'-'`` (standard input) path is refused: over stdio, standard input *is* the
  protocol.
- Limits (hostile clients): an HTTP body over :data:`MAX_REQUEST_BYTES` (1 MiB) is answered
  413 before it is read further (the SDK's default is 4 MiB); over stdio, a line over 1 MiB is
  dropped as it arrives (never held in memory) and answered with JSON-RPC -32600, as is a
  message nested more than 64 levels deep, and the server keeps serving. Error texts are cut
  to 1,000 characters. An unknown tool name is a JSON-RPC error (-32602, as the MCP
  specification shows), not a tool result; a known verb that is not served (``document_open``)
  stays a tool error that says why. Tools are not paginated: any ``tools/list`` cursor is
  invalid (-32602).
- Files: tools that read or write files (imports, exports, ``document_add``, ``slides_create``,
  ``knowledge_add``) do so only in ``<data>/exports`` and the folders the user allows with
  ``--root DIR`` or ``HERO_FILE_ROOTS`` (``paths.FileRoots``, checked on the real path of
  what is opened); a relative path is taken in the first. The tools' descriptions say so.
- Cancellation (``notifications/cancelled``): the worker thread is let go and told; a write
  not yet committed rolls back, so a cancelled ``contact_create`` creates nothing (a commit
  that happened before the cancel stands; the specification allows either).
- HTTP: ``Authorization`` is checked first (scheme case-insensitive, 401 with
  ``WWW-Authenticate``), then the SDK checks Host and Origin against this machine's names
  whatever the bind address (421 / 403): a web page cannot reach the server through DNS
  rebinding. ``--allow-host NAME`` adds a name.
- The MCP SDK (~1 s to import) is imported only inside ``serve``; ``cli()`` only declares the
  Typer commands, and ``hero --help`` never imports this module's heavy parts.
"""

import hmac
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Optional

from herotui import settings

#: Why a verb marked ``terminal`` in the registry (``@verb(terminal=True)``) is not a tool.
TERMINAL_REASON = ("it shows its result on the caller's own screen (a pager or the desktop's viewer); "
                   "the tools return data instead (e.g. document_text, document_export)")


def excluded() -> dict[str, str]:
    """The verbs left out, with the reason: the registry's ``terminal`` verbs."""
    from herotui import registry

    return {name: TERMINAL_REASON for name, v in registry.verbs().items() if v.terminal}

DEFAULT_PORT = 8765
TOKEN_FILE = "mcp-token"
#: The largest HTTP request body and stdio line accepted (bytes).
MAX_REQUEST_BYTES = 1 << 20


# --------------------------------------------------------------------------- tools


def tool_name(verb_name: str) -> str:
    return verb_name.replace(".", "_")


def tool_verbs() -> dict[str, Any]:
    """``{tool name: Verb}`` for every verb served over MCP."""
    from herotui import registry

    out = {}
    for name, v in registry.verbs().items():
        if v.terminal:
            continue
        tname = tool_name(name)
        if tname in out:  # pragma: no cover - a registry invariant, checked loudly
            raise RuntimeError(f"two verbs map to the MCP tool name {tname}")
        out[tname] = v
    return out


def input_schema(v) -> dict:
    """The verb's JSON Schema plus ``context`` and, for destructive verbs, ``confirm``."""
    schema = json.loads(json.dumps(v.schema()))  # a private copy
    schema.setdefault("type", "object")
    props = schema.setdefault("properties", {})
    if "context" not in props:
        props["context"] = {"type": "string", "title": "Context",
                            "description": "Run in this context (default: the active context)."}
    if v.destructive and "confirm" not in props:
        props["confirm"] = {"type": "boolean", "title": "Confirm", "default": False,
                            "description": "Must be true: this tool deletes or overwrites data."}
    elif "force" in props and "confirm" not in props:
        props["confirm"] = {"type": "boolean", "title": "Confirm", "default": False,
                            "description": "Must be true with force: overwriting a file needs a confirmation."}
    return schema


def description(v, roots=None) -> str:
    text = v.doc or v.description
    if v.destructive:
        text += "\n\nDestructive: deletes or overwrites data; runs only with confirm: true."
    if roots is not None and any(p.is_path for p in v.params):
        text += (f"\n\nFiles: read and written only in the folders this server may use ({roots.describe()}); "
                 "a relative path is taken in the first. The user allows more with 'hero mcp serve --root DIR'.")
    if v.examples:
        text += "\n\nCLI equivalent: " + "; ".join(v.examples)
    return text


# Mutating verbs that only add (a new record, a tag, a link): everything else that writes may
# change or remove what is there (updates, untag, rename, imports that update, rebuild...).
ADDITIVE = {"create", "add", "tag", "link"}


def annotations(v):
    """The MCP hints, truthful: read-only only for verbs that write nothing (an export with
    an output file writes one), destructive for every write that is not purely additive."""
    import mcp_types as types  # ~352 ms cold: paid by 'hero mcp' only

    names = {p.name for p in v.params}
    writes_file = "output" in names
    if v.mutates:
        # ask.run / agent.run take their own 'confirm' and may then run destructive steps
        destructive = v.destructive or "confirm" in names or v.action not in ADDITIVE
    else:
        destructive = "force" in names if writes_file else None  # --force overwrites a file
    return types.ToolAnnotations(
        title=v.name,
        read_only_hint=not v.mutates and not writes_file,
        destructive_hint=destructive,
        idempotent_hint=True if not v.mutates and not writes_file else None,
        open_world_hint=False,
    )


def build_tools(roots=None) -> list:
    import mcp_types as types  # ~352 ms cold: paid by 'hero mcp' only

    tools = []
    for tname, v in tool_verbs().items():
        tools.append(types.Tool(
            name=tname,
            title=v.name,
            description=description(v, roots),
            input_schema=input_schema(v),
            annotations=annotations(v),
        ))
    return tools


def run_tool(name: str, arguments: dict | None, default_context: str | None = None, roots=None,
             cancelled=None, fallback_context: str | None = None) -> tuple[bool, Any]:
    """Run one tool call (blocking; called in a worker thread): ``(ok, payload)``.

    ``payload`` is the JSON-able result, or the human error text when ``ok`` is false.
    ``roots``: the folders files may be read from and written to (``paths.FileRoots``).
    ``cancelled`` (a ``threading.Event``): set when the client cancels the call; a write not
    yet committed then rolls back (see :class:`_Cancellable`). ``default_context`` pins the
    calls to one context (``--context``); ``fallback_context`` is only the default when a call
    names none (the front-end's ``HERO_CONTEXT``, when the resident server runs the call).
    """
    from herotui import contexts, logs, registry
    from herotui.errors import HeroError, NotFound, UsageError
    from herotui.frontends import render
    from herotui.frontends.rpc import clip, served_call, takes_confirm, tool_terms

    try:
        tools = _tool_index()
        v = tools.get(name)
        if v is None:
            left_out = excluded()
            hint = f"'{name.replace('_', '.', 1)}' is not served over MCP: {left_out[name.replace('_', '.', 1)]}" \
                if name.replace("_", ".", 1) in left_out else "list the tools to see the names"
            raise NotFound(f"unknown tool '{name}'", hint=hint)
        args = dict(arguments or {})
        context = args.pop("context", None)
        confirmed = False
        if takes_confirm(v):
            confirmed = args.pop("confirm", False) is True
        if context is not None and not isinstance(context, str):
            raise UsageError("context must be a string (a context name)")
        if v.name == "document.add" and "-" in (args.get("paths") or []):
            raise UsageError("'-' (standard input) cannot be used over MCP: standard input is the protocol",
                             hint="pass the path of a file the server can read")
        registry.confine(v, args, default_context, context)  # --context: that context only
        ctx = contexts.current(context or default_context or fallback_context)
        if cancelled is not None:
            ctx = _Cancellable(ctx, cancelled)
        result = served_call(v, args, ctx, "mcp", confirmed, roots)
        return True, render.jsonable(result)
    except HeroError as exc:
        from herotui.errors import ConfirmationRequired

        v = _tool_index().get(name)
        hint = tool_terms(exc.hint, v, confirm="confirm: true")
        if isinstance(exc, ConfirmationRequired):
            hint = "ask the user, then call again with confirm: true"
        elif hint == "see the parameters in the schema":
            hint = "see the tool's input schema"
        message = tool_terms(exc.message, v, confirm="confirm: true")
        return False, clip(message) + (f"\nhint: {clip(hint)}" if hint else "")
    except Cancelled:
        return False, "cancelled by the client: nothing was changed"
    except Exception as exc:  # never a traceback as the interface; keep it in the log
        try:
            logs.setup()
            import logging

            logging.getLogger("hero.mcp").exception("tool %s failed", name)
        except Exception:
            pass
        return False, clip(f"internal error: {type(exc).__name__}: {exc}")


class Cancelled(Exception):
    """The client cancelled the call before its write committed (rolled back)."""


class _Cancellable:
    """A context whose writes roll back once ``event`` is set (``notifications/cancelled``).

    Checked when a write starts and just before it commits: a call cancelled while it runs
    leaves nothing behind, unless its commit had already happened (then it stands, as the
    MCP specification allows; the response is not sent either way). A verb that commits in
    several batches (``document_add`` of a folder) keeps the batches committed before.
    """

    def __init__(self, ctx, event) -> None:
        self._ctx = ctx
        self._event = event

    def __getattr__(self, name: str):
        return getattr(self._ctx, name)

    def _check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the client")

    def write(self):
        from contextlib import contextmanager

        @contextmanager
        def cancellable():
            self._check()
            with self._ctx.write() as tx:
                yield tx
                self._check()  # raised inside the transaction: it rolls back

        return cancellable()


_TOOLS: dict[str, Any] | None = None


def _tool_index() -> dict[str, Any]:
    global _TOOLS
    if _TOOLS is None:
        _TOOLS = tool_verbs()
    return _TOOLS


def make_server(default_context: str | None = None, roots=None):
    """The low-level MCP server with one tool per verb (files only under ``roots``)."""

    import anyio  # ~32 ms cold: paid by 'hero mcp' only
    import mcp_types as types  # ~352 ms cold: paid by 'hero mcp' only
    from mcp.server.lowlevel import Server  # ~808 ms cold: paid by 'hero mcp' only

    from mcp.shared.exceptions import MCPError  # ~1027 ms cold: paid by 'hero mcp' only

    from herotui import __version__
    from herotui.frontends.rpc import clip

    tools = build_tools(roots)
    schemas = {t.name: t.input_schema for t in tools}
    from herotui.server import bridge as bridge_mod

    # the tool calls run in the resident server (with these roots and this pin) once it answers
    bridge = bridge_mod.Bridge("mcp", default_context, settings.get().HERO_CONTEXT, roots) \
        if bridge_mod.available() else None
    index = _tool_index()
    left_out = excluded()

    def run(name, arguments, cancelled):
        local = lambda: run_tool(name, arguments, default_context, roots, cancelled)  # noqa: E731
        v = index.get(name)
        if bridge is None or v is None:
            return local()
        return bridge.tool(name, arguments, v.mutates, cancelled, local)

    async def list_tools(ctx, params) -> types.ListToolsResult:
        if params is not None and getattr(params, "cursor", None) is not None:
            raise MCPError(types.INVALID_PARAMS, "invalid cursor: the tool list is not paginated",
                           {"hint": "call tools/list without a cursor"})
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        name = params.name
        if name not in schemas and name.replace("_", ".", 1) not in left_out:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool: {clip(name, 200)}",
                           {"hint": "tools/list gives the names"})
        cancelled = bridge_mod.CancelEvent()
        try:  # on the client's notifications/cancelled the SDK cancels this task: the thread
            # is let go at once and told (the server too: hero.cancel), so its write rolls back
            # (see _Cancellable)
            ok, payload = await anyio.to_thread.run_sync(run, params.name, params.arguments, cancelled,
                                                         abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise
        if not ok:
            return types.CallToolResult(content=[types.TextContent(type="text", text=payload)], is_error=True)
        structured = payload if isinstance(payload, dict) else {"result": payload}
        text = json.dumps(payload, ensure_ascii=False, default=str)
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                    structured_content=structured)

    return Server(
        "hero",
        version=__version__,
        title="Hero",
        instructions="Hero's verbs (contacts, calendar, documents, slides, knowledge, search) as tools. "
        "Every tool takes an optional 'context' (default: the active context). Destructive tools "
        "need confirm: true; ask the user first.",
        get_tool_input_schema=schemas.get,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


# --------------------------------------------------------------------------- token


def token_path() -> Path:
    from herotui import paths

    return paths.config_dir() / TOKEN_FILE


def token(rotate: bool = False) -> str:
    """The HTTP bearer token: read, or generated on first use (owner-only file)."""
    from herotui import paths

    paths.ensure_private_dir(paths.config_dir())
    path = token_path()
    if not rotate:
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            value = path.read_text().strip()
            if value:
                return value
        except FileNotFoundError:
            pass
    value = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (value + "\n").encode())
    finally:
        os.close(fd)
    if rotate:
        os.replace(tmp, path)
        return value
    try:
        os.link(tmp, path)  # first writer wins when two servers start at once
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


class BearerAuth:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>`` (else 401)."""

    def __init__(self, app, secret: str) -> None:
        self.app = app
        self.expected = secret.encode()

    def _token(self, header: bytes) -> bytes:
        """The credentials of ``Authorization: Bearer <token>``; the scheme is case-insensitive
        (RFC 9110 11.1), spaces around the token do not count."""
        scheme, _, credentials = header.strip().partition(b" ")
        return credentials.strip() if scheme.lower() == b"bearer" else b""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            given = self._token(dict(scope.get("headers") or []).get(b"authorization", b""))
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": "unauthorized",
                                   "hint": "send 'Authorization: Bearer <token>' ('hero mcp token' prints it)"}).encode()
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b'Bearer realm="hero"'),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- serving


class _StdoutLines:
    """The protocol's output: whole lines written under a lock (the SDK's writer and the
    refusals of :class:`_StdinLines` share it), UTF-8 with any lone surrogate escaped."""

    def __init__(self, fd: int) -> None:
        import anyio  # ~32 ms cold: paid by 'hero mcp' only

        self.fd = fd
        self.lock = anyio.Lock()

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    async def write(self, text: str) -> None:
        import anyio  # ~32 ms cold: paid by 'hero mcp' only

        data = text.encode("utf-8", "backslashreplace")
        async with self.lock:
            await anyio.to_thread.run_sync(self._write_all, data)

    async def flush(self) -> None:
        return None


class _StdinLines:
    """The protocol's input: newline-delimited lines, each at most :data:`MAX_REQUEST_BYTES`.

    A longer line is dropped as it arrives, and so is a line nested too deeply; each is
    answered with a JSON-RPC error (id null) and the next line is served.
    """

    def __init__(self, fd: int, out: _StdoutLines) -> None:
        from herotui.frontends.rpc import LineSplitter

        self.fd = fd
        self.out = out
        self.splitter = LineSplitter(MAX_REQUEST_BYTES)
        self.pending: list = []
        self.eof = False

    def __aiter__(self):
        return self

    async def __anext__(self) -> str:
        import anyio  # ~32 ms cold: paid by 'hero mcp' only

        from herotui.frontends import rpc

        while True:
            while self.pending:
                line = self.pending.pop(0)
                refusal = None
                if isinstance(line, rpc.LineTooLong):
                    refusal = (f"invalid request: the line is {line.size:,} bytes, over the limit of "
                               f"{MAX_REQUEST_BYTES:,}")
                elif rpc.too_deep(line):
                    refusal = f"invalid request: nested more than {rpc.MAX_DEPTH} levels deep"
                code = rpc.INVALID_REQUEST
                if refusal is None:
                    if not line.strip():
                        continue
                    text = line.decode("utf-8", "replace")
                    try:
                        json.loads(text)
                    except ValueError as exc:  # the SDK drops such lines silently; JSON-RPC answers
                        code, refusal = rpc.PARSE_ERROR, f"parse error: {exc}"
                    else:
                        return text
                error = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": refusal}}
                await self.out.write(json.dumps(error) + "\n")
            if self.eof:
                raise StopAsyncIteration
            chunk = await anyio.to_thread.run_sync(os.read, self.fd, 65536, abandon_on_cancel=True)
            if chunk:
                self.pending.extend(self.splitter.feed(chunk))
            else:
                self.eof = True
                self.pending.extend(self.splitter.end())


def serve_stdio(default_context: str | None = None, roots=None) -> None:
    """MCP over this process's stdin/stdout, lines capped (see :class:`_StdinLines`).

    As in ``hero rpc serve --stdio``, file descriptor 1 points at standard error and 0 at
    /dev/null while serving, so nothing a verb (or a child) prints corrupts the stream.
    """
    import anyio  # ~32 ms cold: paid by 'hero mcp' only
    from mcp.server.stdio import stdio_server  # ~837 ms cold: paid by 'hero mcp' only

    server = make_server(default_context, roots)
    sys.stdout.flush()
    out_fd, in_fd = os.dup(1), os.dup(0)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    out = _StdoutLines(out_fd)

    async def main() -> None:
        stdin = _StdinLines(in_fd, out)
        async with stdio_server(stdin=stdin, stdout=out) as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def allowed_hosts(host: str, extra: list[str] | None = None) -> list[str]:
    """The Host header values the HTTP server answers (``name:*``): loopback names always,
    the address it is bound to, this machine's names when bound to every address, and
    ``extra`` (``--allow-host``). A request naming another host (DNS rebinding: a web page's
    own name resolved to this machine) gets 421 before anything else is looked at."""
    import socket

    names = ["127.0.0.1", "localhost", "[::1]"]
    if not is_loopback(host):
        if host in ("0.0.0.0", "::", ""):
            names += [socket.gethostname(), socket.getfqdn()]
            try:
                names += sorted({info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)})
            except OSError:
                pass
        else:
            names.append(host)
    names += extra or []
    out = []
    for name in names:
        name = f"[{name}]" if ":" in name and not name.startswith("[") else name
        if name and f"{name}:*" not in out:
            out.append(f"{name}:*")
    return out


def transport_security(host: str, extra: list[str] | None = None):
    """Host and Origin checked whatever the bind address (the SDK checks them only for loopback)."""
    from mcp.server.transport_security import TransportSecuritySettings  # ~1043 ms cold: paid by 'hero mcp' only

    hosts = allowed_hosts(host, extra)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=[f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")])


def serve_http(host: str, port: int, default_context: str | None = None, roots=None,
               allow_hosts: list[str] | None = None) -> None:
    import uvicorn  # ~198 ms cold: paid by 'hero mcp' only

    secret = token()
    server = make_server(default_context, roots)
    app = BearerAuth(server.streamable_http_app(host=host, max_request_body_size=MAX_REQUEST_BYTES,
                                                transport_security=transport_security(host, allow_hosts)), secret)
    print(f"hero mcp: serving on http://{_url_host(host)}:{port}/mcp (bearer token: 'hero mcp token')",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def config_text(ssh: str | None = None, port: int = DEFAULT_PORT) -> str:
    import shutil

    exe = shutil.which("hero") or str(Path(sys.argv[0]).resolve())
    host = ssh or "HOST"
    desktop = {"mcpServers": {"hero": {"command": exe, "args": ["mcp", "serve"]}}}
    desktop_ssh = {"mcpServers": {"hero": {"command": "ssh", "args": ["-T", host, "hero", "mcp", "serve"]}}}
    lines = [
        "# Claude Code (stdio: Claude starts Hero itself)",
        "claude mcp add hero -- hero mcp serve",
        "# ... pinned to one context",
        "claude mcp add hero-business -- hero --context business mcp serve",
        "",
        "# Claude Desktop: add to claude_desktop_config.json",
        json.dumps(desktop, indent=2),
        "",
        f"# Hero on another machine, over SSH (stdio through ssh -T; key-based login){'' if ssh else ': replace HOST'}",
        f"claude mcp add hero -- ssh -T {host} hero mcp serve",
        json.dumps(desktop_ssh, indent=2),
        "",
        "# Streamable HTTP (127.0.0.1, bearer token)",
        f"hero mcp serve --http --port {port}",
        f"claude mcp add --transport http hero http://127.0.0.1:{port}/mcp "
        '--header "Authorization: Bearer $(hero mcp token)"',
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CLI


def cli(options=None):
    """``hero mcp ...``: cheap, only declares the commands (the SDK loads in ``serve``).
    ``options``: the root command's (``hero --context X mcp serve``)."""
    import typer  # ~42 ms cold: paid by 'hero mcp' only

    app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                      help="Serve every verb as an MCP tool (stdio or HTTP).")

    @app.command("serve")
    def serve_cmd(
        http: bool = typer.Option(False, "--http", help="Serve streamable HTTP instead of stdio."),
        port: int = typer.Option(DEFAULT_PORT, "--port", "-p", help="HTTP port."),
        host: str = typer.Option("127.0.0.1", "--host",
                                 help="HTTP address to bind (default loopback; anything else is reachable by others)."),
        context: Optional[str] = typer.Option(None, "--context", "-c",
                                              help="Serve only this context (calls in another, all_contexts and its history are refused)."),
        root: list[str] = typer.Option([], "--root", help="Let clients read and write files in this folder (repeat; also HERO_FILE_ROOTS)."
                                                         " Default: only <data>/exports."),
        allow_host: list[str] = typer.Option([], "--allow-host", help="HTTP: also answer requests for this host name (repeat); others get 421."),
    ) -> None:
        """Serve every verb as an MCP tool, over stdio (default) or streamable HTTP.

        Files (imports, exports, documents, decks, books) are read and written only in
        <data>/exports and the --root folders.
        """
        from herotui import logs, paths
        logs.setup()
        default_context = context or getattr(options, "context", None)
        if default_context:
            from herotui import contexts

            contexts.load(default_context)  # an unknown context is reported before serving
        roots = paths.served_roots(root)
        if not http:
            serve_stdio(default_context, roots)
            return
        if not is_loopback(host):
            print(f"warning: binding {host}: Hero's tools (your data) are reachable from other machines; "
                  "anyone with the token can use them, and HTTP is not encrypted (prefer SSH)",
                  file=sys.stderr, flush=True)
        serve_http(host, port, default_context, roots, allow_host)

    @app.command("token")
    def token_cmd(rotate: bool = typer.Option(False, "--rotate", help="Replace the token with a new one.")) -> None:
        """Print the bearer token for 'hero mcp serve --http' (created on first use, owner-only)."""
        print(token(rotate=rotate))

    @app.command("config")
    def config_cmd(
        ssh: Optional[str] = typer.Option(None, "--ssh", help="Host name for the SSH form."),
        port: int = typer.Option(DEFAULT_PORT, "--port", "-p", help="Port for the HTTP form."),
    ) -> None:
        """Print how to add Hero to Claude Code / Claude Desktop (local, SSH, HTTP)."""
        sys.stdout.write(config_text(ssh, port))

    @app.command("tools")
    def tools_cmd() -> None:
        """List the MCP tool names and the verbs left out."""
        for tname, v in tool_verbs().items():
            flag = " (destructive)" if v.destructive else ""
            print(f"{tname}{flag}")
        for name, why in excluded().items():
            print(f"# not served: {name}: {why}", file=sys.stderr)

    return app
