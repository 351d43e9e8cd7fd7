"""The verb manifest: what the thin CLI needs to parse ``hero <service> <verb> ...`` alone.

Generated from the registry by the server (``hero.manifest``) and cached by the client in
the runtime folder under the server's version, so a new version never parses with an old
manifest. Plain JSON: services (and the verb a top-level command runs), and per verb its
CLI words and parameters as the Typer CLI (:mod:`herotui.frontends.cli`) declares them.
"""

from __future__ import annotations

from typing import Any

def build(version: str) -> dict[str, Any]:
    from herotui import registry
    from herotui.registry import base_type
    from herotui.services import SERVICES

    verbs: dict[str, Any] = {}
    for name, v in sorted(registry.verbs().items()):
        params = []
        for p in v.params:
            base = base_type(p.annotation)
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
            "terminal": v.terminal,
            # run in the caller's process (registry.Verb.in_caller): its screen, its settings,
            # or writes from its files (Ctrl-C or a kill stops them, progress on its terminal)
            "local": v.in_caller,
        }
    return {
        "version": version,
        "services": {n: {"command": s.command} for n, s in SERVICES.items()},
        "verbs": verbs,
    }
