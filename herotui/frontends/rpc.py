"""JSON-RPC 2.0 over stdio, and the OpenRPC document: every verb is a method.

``hero rpc serve --stdio`` reads requests from standard input and writes responses to
standard output, so ``ssh box hero rpc serve --stdio`` drives a remote Hero with no daemon,
no port and no extra authentication (ssh's). ``hero rpc spec`` prints the OpenRPC 1.3
document, which ``rpc.discover`` also returns.

Framing: **newline-delimited JSON**. Each line of input is one request object or one batch
(an array); each response (object or array) is written as one line of UTF-8 JSON. Blank
lines are ignored. Notifications (requests without ``id``) get no line back; a batch made
only of notifications gets none either. Content-Length framing (LSP style) is not spoken.
Standard output carries only responses: the server points file descriptor 1 at standard
error for the verbs (and any child process they start), and standard input at /dev/null, so
a stray ``print`` or a pager cannot corrupt the stream. Logs go to the log file.

Methods are the verb names (``contact.create``). Parameters go by name (an object) or by
position (an array, in the order the OpenRPC document lists them: the verb's parameters, then
the extras below). Two extra parameters:

- ``context`` (string): run the call in this context (default: the server's context, from
  ``hero --context``/``HERO_CONTEXT``/the saved choice);
- ``confirm`` (boolean): required ``true`` for destructive verbs (``contact.delete``...) and
  with ``force`` (an export replacing a file), else the call fails with code -32001.
  (``ask.run`` and ``agent.run`` have a ``confirm`` parameter of their own, which is passed
  through.)

Files: imports, exports, ``document.add``, ``slides.create`` and ``knowledge.add`` read and
write only under the folders the server allows: ``<data>/exports`` and those given with
``--root DIR`` or ``HERO_FILE_ROOTS`` (``paths.FileRoots``); a relative path is taken in the
first. A link inside an allowed folder that points out of it is not followed out.

Error codes (``data`` carries ``{"kind", "hint"}`` for application errors):

=========  ====================================================================
 -32700    parse error (the line is not JSON)
 -32600    invalid request (not a JSON-RPC 2.0 request object; empty batch)
 -32601    method not found (no such verb)
 -32602    invalid params (validation message, as the CLI prints it)
 -32603    internal error (an unexpected exception; no traceback is sent)
 -32000    application error (HeroError, kind ``error``)
 -32001    confirmation required (destructive verb without ``confirm: true``)
 -32002    usage error
 -32003    not found (no such record, context, book...)
 -32004    ambiguous id prefix
 -32005    context busy (another process held the stores past the bound)
 -32006    not available over RPC (the verb needs the server's terminal)
=========  ====================================================================

Not available over RPC: the verbs the registry marks ``terminal`` (``document.open``: what
it returns is for a pager or a viewer on the caller's own screen) and ``document.add`` with
``-`` (reads the server's standard input).

Limits (hostile clients): a line longer than :data:`MAX_LINE_BYTES` (1 MiB) is skipped without
being kept in memory and answered with -32600 (id null); JSON nested deeper than
:data:`MAX_DEPTH` (64) levels is answered with -32600; an id that is not a finite number, a
string or null is -32600. The server keeps serving after each. Error messages are cut to
:data:`MAX_ERROR_CHARS`, so an error never echoes megabytes of input.

Concurrency: requests are served one after another. Each valid request is run by the
resident server (``hero serve``, started in the background when none runs; see
:mod:`herotui.server.bridge`), which has the stores open and serialises the writes of every
client; the limits above, the framing and the ids are handled here, and the server runs the
call with this server's file roots and ``--context``. Until the resident server answers, and
where none can run (``HERO_NO_SERVER=1``, a runtime folder that cannot be used), a call
opens the context's stores in this process and closes them before the response is written.
If the resident server dies during a call, a read is run again here; a write that may have
committed gets -32000 saying to check before sending it again.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

from herotui import settings
from herotui.errors import RPC_CODES, HeroError, InvalidInput, Unavailable

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

#: The longest input line served (bytes, newline excluded); longer lines get -32600.
MAX_LINE_BYTES = 1 << 20
#: The deepest nesting of arrays and objects accepted in one line (a request needs ~5).
MAX_DEPTH = 64
#: Error messages and hints are cut to this many characters (no echo of huge input).
MAX_ERROR_CHARS = 1000

#: HeroError kind (``HeroError.code``) -> JSON-RPC error code: errors.py's table.
APP_CODES: dict[str, int] = RPC_CODES

#: Why a verb marked ``terminal`` in the registry (``@verb(terminal=True)``) is not served.
TERMINAL_REASON = "what it returns is shown on the caller's own screen (a pager or a viewer)"


def refused() -> dict[str, str]:
    """The verbs that cannot run over RPC at all, with the reason: the registry's ``terminal`` verbs."""
    from herotui import registry

    return {name: TERMINAL_REASON for name, v in registry.verbs().items() if v.terminal}

OPENRPC_VERSION = "1.3.2"
DISCOVER = "rpc.discover"


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "message": clip(self.message)}
        if self.data is not None:
            data = self.data
            if isinstance(data, dict):
                data = {k: clip(val) if isinstance(val, str) else val for k, val in data.items()}
            out["data"] = data
        return out


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


class LineTooLong:
    """What :func:`_lines` yields in place of a line over :data:`MAX_LINE_BYTES`."""

    def __init__(self, size: int) -> None:
        self.size = size


def too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit`` (strings skipped).

    A cheap scan before parsing: ``json.loads`` of 100,000 nested arrays raises
    RecursionError, and a value a little under the interpreter's limit can still overflow
    later (validation, audit, the response).
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # the common case: no scan needed
    depth, i, n = 0, 0, len(data)
    find = data.find
    while i < n:
        c = data[i]
        if c == 0x22:  # a string: skip to its closing quote (escapes included)
            j = i + 1
            while True:
                j = find(b'"', j)
                if j < 0:
                    return False  # unterminated: the parser reports it
                k = j - 1
                while data[k] == 0x5C:  # count the backslashes before the quote
                    k -= 1
                if (j - 1 - k) % 2 == 0:
                    break
                j += 1
            i = j + 1
            continue
        if c == 0x5B or c == 0x7B:
            depth += 1
            if depth > limit:
                return True
        elif c == 0x5D or c == 0x7D:
            depth -= 1
        i += 1
    return False


def error_from_hero(exc: HeroError, v: Any = None) -> RpcError:
    message, hint = tool_terms(exc.message, v), tool_terms(exc.hint, v)
    return RpcError(exc.rpc_code, message, {"kind": exc.code, "hint": hint})


_FLAG = None


def tool_terms(text: str | None, v: Any = None, confirm: str = '"confirm": true') -> str | None:
    """An error text in the terms of a method or tool rather than the CLI's: the verb's option
    names (``--limit``, ``--email``) become its parameter names (``limit``, ``emails``),
    ``--yes`` becomes ``confirm``, and "see 'hero ... --help'" points at the schema."""
    import re

    global _FLAG
    if not text:
        return text
    if _FLAG is None:
        _FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
    names = {}
    if v is not None:
        for p in v.params:
            names[p.flag] = p.name
            names["--" + p.name.replace("_", "-")] = p.name
    text = re.sub(r"pass --yes on the command line \(or confirm: true\)|pass --yes", f"pass {confirm}", text)
    text = re.sub(r"see 'hero [^']* --help'", "see the parameters in the schema", text)
    return _FLAG.sub(lambda m: names.get(m.group(0), m.group(0)), text)


def _verb_for(name: str):
    from herotui import registry

    try:
        v = registry.get(name)
    except HeroError:
        raise RpcError(METHOD_NOT_FOUND, f"method not found: '{name}'",
                       {"kind": "not_found", "hint": "rpc.discover lists the methods"}) from None
    if v.terminal:
        raise RpcError(APP_CODES["unavailable"], f"{name} is not available over RPC: {TERMINAL_REASON}",
                       {"kind": "unavailable", "hint": "run it with the CLI on that machine"})
    return v


def _extra_names(v) -> tuple[bool, bool]:
    """Whether ``context`` / ``confirm`` are RPC extras for verb ``v`` (not its own parameters)."""
    own = {p.name for p in v.params}
    return "context" not in own, "confirm" not in own


def takes_confirm(v) -> bool:
    """Whether ``confirm`` is asked of this verb's callers: destructive, or able to overwrite a file."""
    return v.destructive or any(p.name == "force" for p in v.params)


def positional_names(v) -> list[str]:
    """The parameters by position: the verb's own, then the extras ``context`` and ``confirm``
    (as the OpenRPC document lists them, so a generated client can pass every one)."""
    ctx_extra, confirm_extra = _extra_names(v)
    names = [p.name for p in v.params]
    if ctx_extra:
        names.append("context")
    if confirm_extra and takes_confirm(v):
        names.append("confirm")
    return names


def split_params(v, params: Any) -> tuple[dict, str | None, bool]:
    """JSON-RPC ``params`` -> (verb arguments, context name, confirmed)."""
    if params is None:
        return {}, None, False
    if isinstance(params, list):  # by position: the order of the OpenRPC document's params
        names = positional_names(v)
        if len(params) > len(names):
            raise RpcError(INVALID_PARAMS, f"invalid input: {v.name} takes at most {len(names)} positional "
                           f"parameters ({', '.join(names) or 'none'}), got {len(params)}")
        params = dict(zip(names, params))
    args = dict(params)
    ctx_extra, confirm_extra = _extra_names(v)
    context = args.pop("context", None) if ctx_extra else None
    confirm = args.pop("confirm", False) if confirm_extra else False
    if context is not None and not isinstance(context, str):
        raise RpcError(INVALID_PARAMS, "invalid input: context must be a string (a context name)")
    if not isinstance(confirm, bool):
        raise RpcError(INVALID_PARAMS, "invalid input: confirm must be true or false")
    return args, context, confirm


def served_call(v, args: dict, ctx, actor: str, confirmed: bool, roots) -> Any:
    """``registry.call`` for a remote client: with ``roots`` (a ``paths.FileRoots``), files are
    read and written only under those folders, and a relative path is taken under the first."""
    from herotui import paths, registry

    if roots is None:
        return registry.call(v.name, args, ctx, actor=actor, confirmed=confirmed)
    for p in v.params:
        value = args.get(p.name)
        if p.is_path and isinstance(value, str):
            args[p.name] = roots.place(value)
        elif p.is_path and isinstance(value, list):
            args[p.name] = [roots.place(x) for x in value]
    token = paths.FILE_ROOTS.set(roots)
    try:
        return registry.call(v.name, args, ctx, actor=actor, confirmed=confirmed)
    finally:
        paths.FILE_ROOTS.reset(token)


def call_method(method: str, params: Any, default_context: str | None = None, actor: str = "rpc",
                roots: Any = None, fallback_context: str | None = None) -> Any:
    """Run one method; returns a JSON-able result or raises :class:`RpcError`.

    ``roots`` (a ``paths.FileRoots``): the folders the client may have files read from and
    written to (``hero rpc serve`` passes them; in-process callers pass none).
    ``default_context`` pins the calls to one context (``--context``); ``fallback_context``
    is only the default when a call names none (the front-end's ``HERO_CONTEXT``, when the
    resident server runs the call)."""
    from herotui import contexts, registry
    from herotui.frontends import render

    if method == DISCOVER:
        return spec()
    v = _verb_for(method)
    args, context, confirmed = split_params(v, params)
    if v.name == "document.add":
        paths = args.get("paths")
        if paths == "-" or (isinstance(paths, list) and "-" in paths):
            raise error_from_hero(Unavailable("document.add '-' reads standard input, which is not available over RPC",
                                              hint="send the files' paths on the server, or copy them there first"))
    try:
        registry.confine(v, args, default_context, context)  # serve --context: that context only
        ctx = contexts.current(context or default_context or fallback_context)
        result = served_call(v, args, ctx, actor, confirmed, roots)
    except InvalidInput as exc:
        raise RpcError(INVALID_PARAMS, tool_terms(exc.message, v), {"kind": exc.code, "hint": tool_terms(exc.hint, v)}) from None
    except HeroError as exc:
        raise error_from_hero(exc, v) from None
    return render.jsonable(result)


class Server:
    """The JSON-RPC 2.0 dispatcher, independent of the transport: one line in, one line out."""

    #: the context of calls that name none when not pinned (set by the resident server)
    fallback_context: str | None = None
    #: a ``herotui.server.bridge.Bridge``: valid requests are run by the resident server
    bridge: Any = None

    def __init__(self, context: str | None = None, roots: Any = None) -> None:
        self.context = context
        self.roots = roots  # paths.FileRoots for remote clients (see served_call)

    def handle_line(self, line: str | bytes | LineTooLong) -> str | None:
        """The response line (without newline) for one input line, or None (notifications)."""
        if isinstance(line, LineTooLong):
            return json.dumps(_error_response(None, RpcError(
                INVALID_REQUEST, f"invalid request: the line is {line.size:,} bytes, over the limit of "
                f"{MAX_LINE_BYTES:,}", {"kind": "invalid", "hint": "send smaller requests (one request per line)"})))
        if len(line) > MAX_LINE_BYTES:
            return self.handle_line(LineTooLong(len(line)))
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError:
                return json.dumps(_error_response(None, RpcError(PARSE_ERROR, "parse error: the line is not UTF-8")))
        if not line.strip():
            return None
        deep = RpcError(INVALID_REQUEST, f"invalid request: nested more than {MAX_DEPTH} levels deep")
        if too_deep(line):
            return json.dumps(_error_response(None, deep))
        try:
            message = json.loads(line)
        except ValueError as exc:
            return json.dumps(_error_response(None, RpcError(PARSE_ERROR, f"parse error: {exc}")))
        except RecursionError:  # pragma: no cover - too_deep catches it first
            return json.dumps(_error_response(None, deep))
        response = self.handle(message)
        if response is None:
            return None
        try:
            return json.dumps(response, ensure_ascii=False, allow_nan=False).encode("utf-8").decode("utf-8")
        except (UnicodeEncodeError, ValueError):
            # a lone surrogate (in an id or a result) cannot be UTF-8: escape it; NaN is no JSON
            return json.dumps(response, default=str)

    def handle(self, message: Any) -> Any:
        if isinstance(message, list):
            if not message:
                return _error_response(None, RpcError(INVALID_REQUEST, "invalid request: empty batch"))
            out = [r for r in (self.handle_one(m) for m in message) if r is not None]
            return out or None
        return self.handle_one(message)

    def handle_one(self, req: Any) -> dict | None:
        if not isinstance(req, dict):
            return _error_response(None, RpcError(INVALID_REQUEST, "invalid request: expected an object"))
        rid = req.get("id")
        valid_id = "id" not in req or rid is None or (isinstance(rid, (str, int, float)) and not isinstance(rid, bool))
        if isinstance(rid, float) and not math.isfinite(rid):
            valid_id = False  # NaN / Infinity: Python reads them, JSON has no such numbers
        if isinstance(rid, str) and not _utf8(rid):
            valid_id = False  # a lone surrogate (\ud800): cannot be sent back as UTF-8
        if not valid_id:
            return _error_response(None, RpcError(INVALID_REQUEST, "invalid request: id must be a string, a number or null"))
        if req.get("jsonrpc") != "2.0":
            return _error_response(rid, RpcError(INVALID_REQUEST, "invalid request: \"jsonrpc\" must be \"2.0\""))
        method = req.get("method")
        if not isinstance(method, str):
            return _error_response(rid, RpcError(INVALID_REQUEST, "invalid request: \"method\" must be a string"))
        params = req.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            return _error_response(rid, RpcError(INVALID_REQUEST, "invalid request: \"params\" must be an object or an array"))
        notification = "id" not in req
        if self.bridge is not None:  # checked here, run by the resident server (None: run here)
            response = self.bridge.rpc(rid, method, params)
            if response is not None:
                return None if notification else response
        try:
            result = call_method(method, params, self.context, actor=getattr(self, "actor", "rpc"), roots=self.roots,
                                 fallback_context=self.fallback_context)
            response = {"jsonrpc": "2.0", "id": rid, "result": result}
        except RpcError as exc:
            response = _error_response(rid, exc)
        except Exception as exc:  # a bug: reported as -32603, logged with its traceback
            import logging

            logging.getLogger("hero.rpc").exception("internal error in %s", method)
            if settings.get().HERO_DEBUG:
                import traceback

                traceback.print_exc(file=sys.stderr)
            response = _error_response(rid, RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}",
                                                     {"kind": "internal", "hint": "see the log file; HERO_DEBUG=1 prints the traceback on stderr"}))
        return None if notification else response


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _error_response(rid: Any, exc: RpcError) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "error": exc.to_dict()}


def serve_stdio(context: str | None = None, roots: list[str] | None = None) -> None:
    """Serve on this process's stdin/stdout until end of input (newline-delimited JSON).

    Files are read and written only under ``<data>/exports``, ``HERO_FILE_ROOTS`` and
    ``roots`` (see ``paths.FileRoots``)."""
    from herotui import logs, paths

    logs.setup()
    sys.stdout.flush()
    out_fd = os.dup(1)
    in_fd = os.dup(0)
    os.dup2(2, 1)  # anything a verb prints (or a child it runs) goes to stderr, never the stream
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    server = Server(context, paths.served_roots(roots))
    from herotui.server import bridge

    if bridge.available():  # the calls run in the resident server, with these roots and this pin
        server.bridge = bridge.Bridge("rpc", context, settings.get().HERO_CONTEXT, server.roots)
    with os.fdopen(in_fd, "rb", buffering=0) as raw_in, os.fdopen(out_fd, "wb") as out:
        reader = _lines(raw_in)
        for line in reader:
            response = server.handle_line(line)
            if response is not None:
                out.write(response.encode("utf-8") + b"\n")
                out.flush()


class LineSplitter:
    """Newline-delimited framing with a cap: feed bytes, get whole lines.

    A line longer than ``limit`` bytes (default :data:`MAX_LINE_BYTES`) is not kept: its
    bytes are dropped as they arrive and one :class:`LineTooLong` stands for it. Shared by
    the RPC and MCP stdio transports.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_LINE_BYTES if limit is None else limit
        self.buf = bytearray()
        self.skipping = 0  # > 0: inside an over-long line, this many bytes seen so far

    def feed(self, chunk: bytes) -> list[bytes | LineTooLong]:
        out: list[bytes | LineTooLong] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            if self.skipping:
                self.skipping += len(piece)
            elif len(self.buf) + len(piece) > self.limit:
                self.skipping = len(self.buf) + len(piece)
                self.buf.clear()
            else:
                self.buf += piece
            if end < 0:
                return out
            if self.skipping:
                out.append(LineTooLong(self.skipping))
                self.skipping = 0
            else:
                out.append(bytes(self.buf))
                self.buf.clear()
            start = end + 1

    def end(self) -> list[bytes | LineTooLong]:
        """What is left at end of input (a last line without newline)."""
        if self.skipping:
            out: list[bytes | LineTooLong] = [LineTooLong(self.skipping)]
        else:
            out = [bytes(self.buf)] if self.buf else []
        self.buf.clear()
        self.skipping = 0
        return out


def _lines(raw, limit: int | None = None):
    """Lines from an unbuffered binary stream, yielded as soon as each is complete (capped:
    see :class:`LineSplitter`)."""
    splitter = LineSplitter(limit)
    while True:
        chunk = raw.read(65536)
        if not chunk:
            yield from splitter.end()
            return
        yield from splitter.feed(chunk)


# -- OpenRPC --------------------------------------------------------------------------------

_SPEC: dict | None = None


def _hoist(schema: dict, prefix: str, components: dict) -> dict:
    """Move ``$defs`` of ``schema`` into ``components`` and point the refs there.

    A name already taken by a different schema gets the service as prefix (``SlidesDeleted``).
    """
    defs = schema.pop("$defs", {})
    renames: dict[str, str] = {}
    for name, sub in defs.items():
        target = name
        if target in components and components[target] != sub:
            target = prefix + name
            n = 2
            while target in components and components[target] != sub:
                target, n = f"{prefix}{name}{n}", n + 1
        renames[name] = target

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, val in node.items():
                if k == "$ref" and isinstance(val, str) and val.startswith("#/$defs/"):
                    out[k] = "#/components/schemas/" + renames.get(val[len("#/$defs/"):], val[len("#/$defs/"):])
                else:
                    out[k] = rewrite(val)
            return out
        if isinstance(node, list):
            return [rewrite(x) for x in node]
        return node

    for name, sub in defs.items():
        components[renames[name]] = rewrite(sub)
    return rewrite(schema)


def _result_schema(v, prefix: str, components: dict) -> dict:
    from pydantic import TypeAdapter  # ~118 ms cold: paid by the OpenRPC spec only (rpc.discover, 'hero rpc spec')

    if v.returns is None:
        return {"type": "null"}
    try:
        schema = TypeAdapter(v.returns).json_schema(mode="serialization")
    except Exception:  # a return type pydantic cannot describe: say "any JSON"
        return {}
    name = getattr(v.returns, "__name__", None)
    if isinstance(v.returns, type) and schema.get("type") == "object" and name:
        # a model: a named component, like the models it contains
        defs = schema.pop("$defs", {})
        schema = {"$defs": {**defs, name: schema}, "$ref": f"#/$defs/{name}"}
    return _hoist(schema, prefix, components)


def _method(v, components: dict) -> dict:
    prefix = v.service.title().replace("_", "")
    schema = _hoist(v.schema(), prefix, components)
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    params = []
    for p in v.params:
        desc = {"name": p.name, "required": p.name in required, "schema": props.get(p.name, {})}
        if p.meta.help:
            desc["description"] = p.meta.help
        params.append(desc)
    ctx_extra, confirm_extra = _extra_names(v)
    if ctx_extra:
        params.append({"name": "context", "required": False, "description": "Run in this context (default: the server's).",
                       "schema": {"type": "string"}})
    if takes_confirm(v) and confirm_extra:
        params.append({"name": "confirm", "required": False,
                       "description": "Must be true: this method deletes or overwrites data." if v.destructive
                       else "Must be true with force: overwriting a file needs a confirmation.",
                       "schema": {"type": "boolean", "default": False}})
    doc = v.doc
    if v.name == "document.add":
        doc += "\n\nOver RPC, '-' (standard input) is not available."
    if any(p.is_path for p in v.params):
        doc += ("\n\nFiles: over RPC, read and written only in the folders the server allows (<data>/exports, "
                "and those given with 'hero rpc serve --root DIR' or HERO_FILE_ROOTS); a relative path is taken "
                "in the first of them.")
    method: dict[str, Any] = {
        "name": v.name,
        "summary": v.description,
        "description": doc,
        "tags": [{"name": v.service}],
        "paramStructure": "either",
        "params": params,
        "result": {"name": f"{v.action}Result", "schema": _result_schema(v, prefix, components)},
        "x-mutates": v.mutates,
        "x-destructive": v.destructive,
    }
    if v.examples:
        method["x-cli-examples"] = list(v.examples)
    errors = [{"code": INVALID_PARAMS, "message": "invalid params"}, {"code": APP_CODES["not_found"], "message": "not found"}]
    if v.destructive:
        errors.append({"code": APP_CODES["confirm"], "message": "confirmation required: pass confirm: true"})
    method["errors"] = errors
    return method


def spec() -> dict:
    """The OpenRPC 1.3 document of every verb (cached for the life of the process)."""
    global _SPEC
    if _SPEC is not None:
        return _SPEC
    from herotui import __version__, registry

    components: dict[str, Any] = {}
    methods = [_method(v, components) for name, v in sorted(registry.verbs().items()) if not v.terminal]
    methods.append({
        "name": DISCOVER,
        "summary": "This OpenRPC document.",
        "description": "Returns the OpenRPC document describing every method of this server.",
        "params": [],
        "result": {"name": "OpenRPC Schema", "schema": {"type": "object"}},
    })
    _SPEC = {
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": "Hero",
            "version": __version__,
            "description": "Every verb of the Hero registry as a JSON-RPC 2.0 method. Transport: "
                           "'hero rpc serve --stdio' (newline-delimited JSON), locally or over ssh.",
        },
        "methods": methods,
        "components": {"schemas": components},
    }
    return _SPEC


# -- CLI -----------------------------------------------------------------------------------

def cli(options=None):
    """``hero rpc ...``; ``options``: the root command's (``hero --context X rpc serve``)."""
    import typer  # ~40 ms: only when 'hero rpc' is on the command line

    app = typer.Typer(rich_markup_mode=None, no_args_is_help=True)

    @app.command("serve")
    def serve(
        stdio: bool = typer.Option(False, "--stdio", help="Speak JSON-RPC 2.0 on stdin/stdout (newline-delimited JSON)."),
        context: str | None = typer.Option(None, "--context", "-c", help="Serve only this context "
                                           "(calls in another, all_contexts and its history are refused)."),
        root: list[str] = typer.Option([], "--root", help="Let clients read and write files in this folder "
                                       "(repeat; also HERO_FILE_ROOTS). Default: only <data>/exports."),
    ) -> None:
        """Serve every verb as a JSON-RPC 2.0 method on stdin/stdout (one JSON message per line).

        Remote use: ssh box hero rpc serve --stdio. Destructive methods need "confirm": true;
        "context" selects the context of one call. Files (imports, exports, documents) are read
        and written only in <data>/exports and the --root folders.
        """
        if not stdio:
            raise HeroError("only the stdio transport exists", hint="run 'hero rpc serve --stdio' (over ssh for a remote Hero)")
        serve_stdio(context or getattr(options, "context", None), root)

    @app.command("spec")
    def spec_cmd(
        indent: int = typer.Option(2, "--indent", help="Indentation of the JSON (0: one line)."),
    ) -> None:
        """Print the OpenRPC 1.3 document of every method (what rpc.discover returns)."""
        print(json.dumps(spec(), indent=indent or None, ensure_ascii=False))

    return app
