"""A snappy CLI: the connector SDKs and HTTP libraries load only when a command builds a connector, so
`onboard-sync --help` and `onboard-sync status` (which makes no API call) do not import them; `--help`
loads no config, rules or store machinery at all, and `status` no migration tool. The start-up times
themselves are measured by `python -m bench --only cli`, not here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run_code

from onboard_sync.cli.setup import init
from onboard_sync.runtime import load_runtime
from onboard_sync.store import Store

CONNECTOR_LIBRARIES = ("hubspot", "simple_salesforce", "zeep", "requests", "urllib3", "jwt", "httpx")
"""What the built-in connectors are written on (hubspot-api-client, simple-salesforce and its
SOAP/HTTP stack, PyJWT, httpx for Zendesk)."""

RUN_LIBRARIES = ("sqlalchemy", "alembic", "celpy", "lark", "pydantic")
"""What loading the config, the playbook and the store imports (the store, its migrations, CEL and
the settings models): `--help` needs none of them."""

STATUS_SPARED = ("alembic", "sqlalchemy.dialects.postgresql", "rich.progress", "onboard_sync.sync.engine")
"""What `status` on a SQLite store at head does not need: the migration tool, the Postgres dialect,
the progress bars and the sync engine."""

REPORT_IMPORTS = """
import json, sys
from onboard_sync.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(sorted(name for name in {names} if name in sys.modules)), file=sys.stderr)
"""


def libraries_loaded(*args: str | Path, cwd: Path, names: tuple[str, ...] = CONNECTOR_LIBRARIES) -> list[str]:
    """Which of ``names`` (modules) a CLI process running ``onboard-sync ARGS`` imported."""
    result = run_code(REPORT_IMPORTS.format(names=names), *args, cwd=cwd, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.splitlines()[-1])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A starter project with its (empty) store created, as after a first `sync`."""
    init(directory=tmp_path, force=False)
    config = tmp_path / "config.toml"
    Store.open(load_runtime(config).config.store_url).close()
    return config


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["--version"]], ids=" ".join)
def test_help_and_version_load_no_connector_library(tmp_path: Path, args: list[str]) -> None:
    assert libraries_loaded(*args, cwd=tmp_path) == []


def test_help_loads_no_config_rules_or_store_machinery(tmp_path: Path) -> None:
    assert libraries_loaded("--help", cwd=tmp_path, names=RUN_LIBRARIES) == []


def test_status_loads_no_migration_tool_postgres_dialect_or_engine(project: Path) -> None:
    assert libraries_loaded("status", "--config", project, cwd=project.parent, names=STATUS_SPARED) == []


def test_the_spared_modules_are_real_module_names(project: Path) -> None:
    """The control for the two tests above: a sync-like process does import each of those names."""
    code = (
        "import sys, importlib; from pathlib import Path; from onboard_sync.runtime import load_runtime; "
        "from onboard_sync.store import Store, migrate; import onboard_sync.sync.engine, rich.progress; "
        "import sqlalchemy.dialects.postgresql; rt = load_runtime(Path(sys.argv[1])); migrate.alembic_config(); "
        "next(s.when for s in rt.playbook.segments if s.when).programs(); "  # evaluating compiles: CEL loads
        f"print(sorted({{n for n in {RUN_LIBRARIES + STATUS_SPARED} if n in sys.modules}}))"
    )
    result = run_code(code, project, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(sorted(set(RUN_LIBRARIES + STATUS_SPARED)))


def test_status_loads_no_connector_library(project: Path) -> None:
    assert libraries_loaded("status", "--config", project, cwd=project.parent) == []
    assert libraries_loaded("status", "--json", "--config", project, cwd=project.parent) == []


def test_a_built_connector_does_load_its_sdk(project: Path) -> None:
    """The control: the names above are what building a connector imports, so the checks can fail."""
    code = (
        "import sys; from pathlib import Path; from onboard_sync.runtime import load_runtime; "
        f"load_runtime(Path(sys.argv[1])).connector('hubspot'); print(sorted(n for n in {CONNECTOR_LIBRARIES} "
        "if n in sys.modules))"
    )
    result = run_code(code, project, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "'hubspot'" in result.stdout
    assert "'urllib3'" in result.stdout
