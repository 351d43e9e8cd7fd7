"""No module uses another module's private names (issue 16 item 4): a helper shared across
modules gets a public name where it lives. A private *module* (``services/_ical.py``) may be
imported inside the package that holds it. Read from the source (AST), so it fails on the
first new ``from herotui.x import _y`` or ``module._y``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module_file(dotted: str) -> Path | None:
    p = ROOT.joinpath(*dotted.split("."))
    if (p / "__init__.py").exists():
        return p / "__init__.py"
    return p.with_suffix(".py") if p.with_suffix(".py").exists() else None


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def findings(root: Path = ROOT / "herotui") -> list[str]:
    out = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root.parent)
        me = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(f.read_text(encoding="utf-8"))
        modules: set[str] = set()  # names bound to Hero modules in this file
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("herotui"):
                for a in node.names:
                    if _module_file(f"{node.module}.{a.name}"):
                        modules.add(a.asname or a.name)
                        if _private(a.name) and not me.startswith(node.module + "."):
                            out.append(f"{rel}:{node.lineno} imports the private module {node.module}.{a.name}")
                    elif _private(a.name):
                        out.append(f"{rel}:{node.lineno} imports {node.module}.{a.name}")
            elif isinstance(node, ast.Import):
                modules.update(a.asname for a in node.names if a.name.startswith("herotui") and a.asname)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules \
                    and _private(node.attr):
                out.append(f"{rel}:{node.lineno} uses {node.value.id}.{node.attr}")
    return out


def test_no_module_uses_another_modules_private_names():
    assert findings() == []


def test_the_check_finds_a_private_name(tmp_path):
    pkg = tmp_path / "herotui"
    pkg.mkdir()
    (pkg / "a.py").write_text("from herotui.registry import _hidden\nfrom herotui import registry\nregistry._x()\n")
    found = findings(pkg)
    assert len(found) == 2 and "herotui.registry._hidden" in found[0] and "registry._x" in found[1], found
