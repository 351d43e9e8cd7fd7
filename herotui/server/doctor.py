"""``hero doctor``: one truthful health report, exit code 1 when something is broken.

Each check says ``ok``, ``warn`` (works, but worth knowing: no server running yet, voice not
installed, little disk left) or ``FAIL`` (a part is down: a database that cannot be read,
an index behind its database that cannot catch up, a folder others can read, a server that
holds its lock but does not answer, a configured model endpoint nobody listens on). The
report is never green when a check failed: the exit code is 1 then, else 0.

Checks: the server (up, version, uptime, memory), every context's database (readable,
schema, revision, size) and index (current or not, size), free disk, permissions of the
data, state and runtime folders, the voice stack (``hero voice doctor``'s checks), and the
model endpoint each context would use (a TCP connect to its host and port, nothing sent).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import sys
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from herotui import server as wire

OK, WARN, FAIL = "ok", "warn", "FAIL"
LOW_DISK = 1_000_000_000  # warn under 1 GB free
NO_DISK = 100_000_000  # fail under 100 MB free


@dataclass
class Check:
    part: str
    status: str
    detail: str


def _size(path) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def check_server() -> Check:
    from herotui.server import cli as serve_cli

    folder = wire.ensure_runtime_dir()
    if folder is None:
        return Check("server", WARN, f"no server possible: runtime folder {wire.runtime_dir()} unusable; "
                                     "every command runs in-process")
    from herotui import settings

    if settings.get().HERO_NO_SERVER:
        return Check("server", WARN, "HERO_NO_SERVER is set: every command runs in-process")
    info = serve_cli.status(folder)
    if info is None:
        if wire.server_running(folder):
            pid = wire.read_pid(folder)
            return Check("server", FAIL, f"PID {pid[0] if pid else '?'} holds the server lock but does not answer on "
                                         f"{wire.socket_path(folder)}; 'hero serve stop' replaces it")
        return Check("server", WARN, "not running (it starts on the next command)")
    detail = (f"up {info['uptime']:.0f}s, PID {info['pid']}, version {info['version']}, "
              f"{info['rss_bytes'] / 1e6:.0f} MB, stores open: {', '.join(info['open_contexts']) or 'none'}")
    if info["version"] != wire.server_version():
        return Check("server", WARN, detail + f" (this client is {wire.server_version()}: it will be replaced)")
    return Check("server", OK, detail)


def check_context(name: str) -> list[Check]:
    from herotui import contexts
    from herotui.store import db, index
    from herotui.store.schema import MIGRATIONS

    part = f"context {name}"
    try:
        ctx = contexts.load(name)
    except Exception as exc:  # noqa: BLE001
        return [Check(part, FAIL, f"profile unreadable: {getattr(exc, 'message', exc)}")]
    if not ctx.db_path.exists():
        return [Check(part, OK, "no database yet (created on first use)")]
    out = []
    try:
        with db.read(ctx) as conn:  # the server hands the stores over (SIGUSR1) for this
            version, revision = db.state(conn)
            counts = []
            for table in ("contacts", "events", "documents"):
                try:
                    counts.append(f"{conn.execute(f'SELECT count(*) FROM {table}').fetchone()[0]} {table}")
                except Exception:  # noqa: BLE001 - a table of a later schema
                    pass
        schema = "current" if version >= len(MIGRATIONS) else f"{version}/{len(MIGRATIONS)} migrations"
        out.append(Check(part + " database", OK, f"readable, schema {schema}, revision {revision}, "
                                                  f"{_mb(_size(ctx.db_path))}, {', '.join(counts)}"))
    except Exception as exc:  # noqa: BLE001
        return [Check(part + " database", FAIL, f"cannot be read: {getattr(exc, 'message', exc)}")]
    irev = index.revision(ctx)
    pending = (ctx.index_path / index.PENDING_FILE).exists()
    isize = _mb(_size(ctx.index_path)) if ctx.index_path.exists() else "0 MB"
    if irev == revision and not pending:
        out.append(Check(part + " index", OK, f"current (revision {irev}), {isize}"))
    elif irev < 0:
        out.append(Check(part + " index", FAIL, "missing or of another version; 'hero index rebuild' recreates it"))
    else:
        out.append(Check(part + " index", FAIL, f"behind the database (index {irev}, database {revision}) after a "
                                                "catch-up; 'hero index rebuild' recreates it"))
    return out


def check_disk() -> Check:
    from herotui import paths

    folder = paths.data_dir()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    status = FAIL if free < NO_DISK else WARN if free < LOW_DISK else OK
    return Check("disk", status, f"{free / 1e9:.1f} GB free on {folder}")


def check_permissions() -> Check:
    from herotui import paths

    problems = []
    folders = [paths.data_dir(), paths.contexts_dir(), paths.state_dir(), paths.config_dir()]
    if wire.ensure_runtime_dir():
        folders.append(wire.runtime_dir())
    for f in folders:
        try:
            st = os.stat(f)
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"{f}: {exc.strerror}")
            continue
        if st.st_uid != os.getuid():
            problems.append(f"{f} belongs to uid {st.st_uid}")
        elif stat.S_IMODE(st.st_mode) & 0o077:
            problems.append(f"{f} is readable by others ({oct(stat.S_IMODE(st.st_mode))})")
        elif not os.access(f, os.W_OK):
            problems.append(f"{f} is not writable")
    for ctx_dir in (paths.contexts_dir().iterdir() if paths.contexts_dir().is_dir() else []):
        for name in ("hero.duckdb", "context.toml"):
            p = ctx_dir / name
            if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077:
                problems.append(f"{p} is readable by others")
    if problems:
        return Check("permissions", FAIL, "; ".join(problems))
    return Check("permissions", OK, "data, state, config and runtime folders owner-only")


def check_voice() -> Check:
    try:
        from herotui.frontends.voice import diagnose

        report = diagnose()
    except Exception as exc:  # noqa: BLE001 - the optional extra is missing or broken
        return Check("voice", WARN, f"not available ({type(exc).__name__}: {exc}); pip install 'herotui[voice]'")
    works = report.get("works", "")
    status = WARN if works.startswith("nothing") else OK
    return Check("voice", status, f"works: {works}; stt {report.get('stt')}; tts {report.get('tts')}")


def _endpoint(settings) -> tuple[str, int] | None:
    if not settings.api_base:
        return None
    parts = urlsplit(settings.api_base if "//" in settings.api_base else "http://" + settings.api_base)
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port


def check_models(names: list[str]) -> list[Check]:
    from herotui import config, contexts

    out = []
    seen: dict[tuple, Check] = {}
    for name in names:
        try:
            settings = config.model_for(contexts.load(name))
        except Exception as exc:  # noqa: BLE001 - a policy refusal or bad settings
            out.append(Check(f"model ({name})", FAIL, getattr(exc, "message", str(exc))))
            continue
        if settings is None:
            continue
        where = _endpoint(settings)
        if where is None:
            out.append(Check(f"model ({name})", OK, f"{settings.name} (provider's endpoint; not contacted)"))
            continue
        if where not in seen:
            try:
                with socket.create_connection(where, timeout=2.0):
                    pass  # connected: nothing is sent
                seen[where] = Check("", OK, f"{settings.describe()}: reachable")
            except OSError as exc:
                seen[where] = Check("", FAIL, f"{settings.describe()}: not reachable ({exc.strerror or exc})")
        c = seen[where]
        out.append(Check(f"model ({name})", c.status, c.detail))
    if not out:
        out.append(Check("model", OK, "none configured (the planner works offline)"))
    return out


def diagnose() -> list[Check]:
    from herotui import contexts

    checks = [check_server()]
    names = contexts.names()
    for name in names:
        checks.extend(check_context(name))
    checks.append(check_disk())
    checks.append(check_permissions())
    checks.append(check_voice())
    checks.extend(check_models(names))
    return checks


def cli(options=None):
    import typer  # ~40 ms: only when 'hero doctor' is on the command line

    app = typer.Typer(rich_markup_mode=None, invoke_without_command=True)

    @app.callback()
    def doctor(json_: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """Health report: server, databases and indexes, disk, permissions, voice, model endpoint.

        Exit code 1 when a part is broken (FAIL), 0 otherwise (ok or warn).
        """
        from herotui import logs

        logs.setup()
        checks = diagnose()
        broken = any(c.status == FAIL for c in checks)
        if json_:
            print(json.dumps({"ok": not broken, "checks": [asdict(c) for c in checks]}, indent=2))
        else:
            width = max(len(c.part) for c in checks)
            for c in checks:
                print(f"{c.status:4}  {c.part.ljust(width)}  {c.detail}")
            print("broken: see FAIL above" if broken else "healthy", file=sys.stderr)
        if broken:
            raise typer.Exit(1)

    return app
