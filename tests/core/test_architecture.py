"""House rules checked in CI: the layers hold, no package-level cycle, no private cross-module use,
built-in connectors come from entry points, every module opens with a docstring.

The layer, no-cycle and connector contracts live in pyproject.toml (``[tool.importlinter]``) and
run here through import-linter; each rule is also shown to fail on a seeded violation in a small
package written to a temporary folder.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

import onboard_sync
from onboard_sync.plugins import connector_types

PACKAGE = Path(onboard_sync.__file__).parent
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

#: Underscore names that are public API of the library that owns them.
PUBLIC_UNDERSCORE_NAMES = {
    "_asdict",  # namedtuple
    "_replace",  # namedtuple
    "_fields",  # namedtuple
    "_make",  # namedtuple
    "_from",  # hubspot-api-client's name for the reserved word ``from`` in its models
}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name a module defines itself: functions, classes, assignments, attributes set, parameters."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.id if isinstance(node, ast.Name) else node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _foreign_names(tree: ast.AST, root: str) -> set[str]:
    """Local names bound to other libraries' modules and objects (``import os``, ``from dbos import DBOS``):
    ``os._exit`` is theirs to allow, not a private of ours."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] != root)
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] != root:
            names.update(a.asname or a.name for a in node.names)
    return names


def private_uses(package: Path) -> Iterator[str]:
    """``file:line: what`` for each private name used from another module of ``package``: a ``_name``
    imported from it, or ``obj._name`` read on anything but ``self``/``cls``/``super()`` when the module
    does not define ``_name`` itself (so it must be another module's private)."""
    root = package.name
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own, foreign = _bound_names(tree), _foreign_names(tree, root)
        where = path.relative_to(package.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == root):
                for alias in node.names:
                    if _private(alias.name):
                        yield f"{where}:{node.lineno}: imports {alias.name} from {node.module or '.'}"
            elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in PUBLIC_UNDERSCORE_NAMES:
                owner = node.value
                if isinstance(owner, ast.Name) and (owner.id in ("self", "cls") or owner.id in foreign):
                    continue
                if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                    continue
                if node.attr not in own:
                    yield f"{where}:{node.lineno}: {ast.unparse(node)}"


def _write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_layer_and_cycle_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def test_every_top_level_module_has_a_layer() -> None:
    """A new module must be placed (pyproject.toml [tool.importlinter]), or the layers say nothing of it."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    placed = {name.strip(" ()") for row in layers for name in row.replace(":", "|").split("|")}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert sorted((modules | packages) - placed) == []


def test_contracts_fail_on_seeded_violations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_package(
        tmp_path,
        {
            "seeded/__init__.py": '"""A package breaking each contract once."""\n',
            "seeded/high.py": "from seeded import low\n",
            "seeded/low.py": "import seeded.high  # a lower layer reaching up, and a cycle\n",
            "seeded/plugin/__init__.py": "",
            "seeded/core.py": "import seeded.plugin\n",
            "contracts.toml": """
                [tool.importlinter]
                root_package = "seeded"

                [[tool.importlinter.contracts]]
                id = "layers"
                name = "layers"
                type = "layers"
                containers = ["seeded"]
                layers = ["high", "low"]

                [[tool.importlinter.contracts]]
                id = "cycles"
                name = "cycles"
                type = "acyclic_siblings"
                ancestors = ["seeded"]
                depth = 1

                [[tool.importlinter.contracts]]
                id = "plugins"
                name = "plugins"
                type = "forbidden"
                source_modules = ["seeded.*"]
                forbidden_modules = ["seeded.plugin"]
            """,
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    status = lint_imports(config_filename=str(tmp_path / "contracts.toml"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    for contract in ("layers", "cycles", "plugins"):
        assert f"{contract} BROKEN" in out, out
    assert status == 1
    assert "seeded.low -> seeded.high" in out
    sys.modules.pop("seeded", None)


def test_no_private_name_is_used_from_another_module() -> None:
    assert list(private_uses(PACKAGE)) == []


def test_private_uses_are_found_in_a_seeded_package(tmp_path: Path) -> None:
    _write_package(
        tmp_path,
        {
            "seeded/engine.py": """
                import os
                from threading import Thread

                class Engine:
                    def _pages(self):
                        return [self._size(), Thread._bootstrap]

                    def _size(self):
                        os._exit(0)  # other libraries' privates: not ours to judge
            """,
            "seeded/signals.py": """
                from seeded.engine import Engine, _helper

                def pull(engine: Engine) -> list:
                    return engine._pages()
            """,
        },
    )
    found = list(private_uses(tmp_path / "seeded"))
    assert found == [
        "seeded/signals.py:2: imports _helper from seeded.engine",
        "seeded/signals.py:5: engine._pages",
    ]


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
