"""The verb manifest: what the thin CLI needs to parse ``hero <service> <verb> ...`` alone.

Generated from the registry by the server (``hero.manifest``) and cached by the client in
the runtime folder under the server's version, so a new version never parses with an old
manifest. Plain JSON: services (and the verb a top-level command runs), and per verb its
CLI words and parameters as the Typer CLI (:mod:`herotui.frontends.cli`) declares them.
"""

from __future__ import annotations

from typing import Any

#: Verbs the thin client never forwards: they need the client's own terminal or stdin.
TERMINAL_VERBS = {"document.open"}


def build(version: str) -> dict[str, Any]:
    from herotui import registry
    from herotui.registry import _base_type
    from herotui.services import SERVICES

    verbs: dict[str, Any] = {}
    for name, v in sorted(registry.verbs().items()):
        params = []
        for p in v.params:
            base = _base_type(p.annotation)
            kind = "int" if base is int else "float" if base is float else "str"
            default = p.default if isinstance(p.default, (str, int, float, bool, type(None))) else None
            params.append({"name": p.name, "flag": p.flag, "short": p.meta.short, "positional": p.meta.positional,
                           "bool": p.is_bool, "list": p.is_list, "required": p.required, "type": kind,
                           "default": default, "path": p.is_path})
        verbs[name] = {
            "cli": v.cli_path,
            "params": params,
            "mutates": v.mutates,
            "destructive": v.destructive,
            "present": bool(getattr(v.returns, "__present__", False)),
            "terminal": name in TERMINAL_VERBS,
            # writes that read the caller's files (imports, document add): long and
            # interruptible; they run in the caller's process, so Ctrl-C (or a kill) stops
            # them and their progress shows on its terminal, as before
            "local": v.mutates and any(p.is_path for p in v.params),
        }
    return {
        "version": version,
        "services": {n: {"command": s.command} for n, s in SERVICES.items()},
        "verbs": verbs,
    }
