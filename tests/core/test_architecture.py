"""House rules checked in CI: the core never imports a connector; built-ins use entry points."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import onboard_sync
from onboard_sync.plugins import connector_types

PACKAGE = Path(onboard_sync.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_a_connector() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "connectors":
            continue
        for name in _imports(path):
            if name.startswith("onboard_sync.connectors.") or name == "onboard_sync.connectors":
                offenders.append(f"{relative}: {name}")
    assert offenders == []


def test_builtin_connectors_come_from_entry_points() -> None:
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="onboard_sync")}
    assert points.get("hubspot") == "onboard_sync.connectors.hubspot.plugin"
    types = connector_types()
    assert "hubspot" in types
    assert types["hubspot"].cls.__module__.startswith("onboard_sync.connectors.hubspot")


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "migrations/versions" not in str(path) and ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert missing == []
