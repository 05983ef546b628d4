"""A snappy CLI: the connector SDKs and HTTP libraries load only when a command builds a connector, so
`onboard-sync --help` and `onboard-sync status` (which makes no API call) do not import them; `--help`
loads no config, rules or store machinery and no rich at all (click's plain help), and `status` on a
SQLite store neither SQLAlchemy nor a migration tool nor cel-python (its playbook's conditions were
checked before), nor Typer, click or rich (its own options are read without Typer, its table printed
without rich); once it has loaded a configuration in full, `status` on the same files imports no
pydantic, no configuration, playbook or connector module and no other command's module. The start-up
times themselves are measured by `python -m bench --only cli`, not here."""

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

HELP_SPARED = ("rich", "markdown_it", "typer.rich_utils", "typer._adapters", "onboard_sync.sandbox")
"""What `--help` does not need either: rich (Typer's rich help formatter, and the consoles that are
made on first use), Typer's pydantic adapters (built when an option's value is parsed) and the CRM
sandboxes (the demo's module named the sandbox clock at import: --help took 70 ms longer)."""

STATUS_SPARED = (
    "alembic",
    "sqlalchemy",
    "celpy",
    "lark",
    "pendulum",
    "tenacity",
    "rich.progress",
    "onboard_sync.sync.engine",
)
"""What `status` on a SQLite store at head does not need: SQLAlchemy (its table is read with sqlite3),
the migration tool, cel-python and what it brings (the playbook's conditions passed their check
before and compile only when evaluated), the call gate's retry library, the progress bars and the
sync engine."""

STATUS_ALONE_SPARED = ("typer", "click", "rich")
"""What `status` with only its own options does not need, on a SQLite store: Typer and click (the
arguments are read by cli/status_argv.py) and rich (the table is cli/text_table.py's)."""

STATUS_REMEMBERED_SPARED = (
    "pydantic",
    "importlib.metadata",
    "typer._adapters",
    "onboard_sync.runtime",
    "onboard_sync.config",
    "onboard_sync.calendar_config",
    "onboard_sync.checks",
    "onboard_sync.connector",
    "onboard_sync.mappings",
    "onboard_sync.rules.model",
    "onboard_sync.onboarding.health",
    "onboard_sync.connectors.hubspot.connector",
    "onboard_sync.cli.run",
    "onboard_sync.cli.demo",
    "onboard_sync.cli.setup",
)
"""What `status` does not need once it remembers the settings of the same files (status_settings):
pydantic (neither the config models nor Typer's option conversions, cli/plain_options.py), the scan of
the installed distributions for plugins (their entry points are remembered, plugins.ENTRY_POINTS), loading and
checking the configuration, the playbook and the mappings, the connector modules the checks looked
types up in, health scoring, and the other commands' modules (cli.COMMAND_MODULES)."""

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


def test_help_loads_no_rich_and_no_option_parsing_machinery(tmp_path: Path) -> None:
    assert libraries_loaded("--help", cwd=tmp_path, names=HELP_SPARED) == []


def test_status_loads_no_sqlalchemy_cel_migration_tool_or_engine(project: Path) -> None:
    assert libraries_loaded("status", "--config", project, cwd=project.parent, names=STATUS_SPARED) == []


@pytest.mark.parametrize(
    "options", [[], ["--limit", "3", "--at-risk"], ["--owner=erin", "--segment", "smb"]], ids=" ".join
)
def test_status_on_a_sqlite_store_loads_no_typer_click_or_rich(project: Path, options: list[str]) -> None:
    first = libraries_loaded("status", "--config", project, *options, cwd=project.parent, names=STATUS_ALONE_SPARED)
    remembered = libraries_loaded("status", "-c", project, *options, cwd=project.parent, names=STATUS_ALONE_SPARED)

    assert first == remembered == []


def test_status_with_remembered_settings_loads_no_configuration_pydantic_or_other_command(project: Path) -> None:
    libraries_loaded("status", "--config", project, cwd=project.parent)  # loads in full, remembers

    spared = libraries_loaded("status", "--config", project, cwd=project.parent, names=STATUS_REMEMBERED_SPARED)

    assert spared == []


def test_checked_conditions_written_side_by_side_are_all_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that read the cache before another wrote its pass keeps that pass when it writes its own."""
    import json as json_module

    from onboard_sync.rules import verified
    from onboard_sync.usercache import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    verified.PASSES.forget()
    try:
        assert verified.PASSES.get("anything") is None  # this process read the (missing) file first
        section = {"written": 1.0, "answers": {'["b > 2",["b"],[]]': [["b"], []]}}
        other = {"fingerprints": {verified._fingerprint(): section}}
        (tmp_path / "onboard-sync" / verified.FILE_NAME).write_text(json_module.dumps(other), encoding="utf-8")
        passed = frozenset({"a"})
        verified.remember("a > 1", names=passed, metrics=frozenset(), used_names=passed, used_metrics=frozenset())
        assert sorted(verified.PASSES.read_answers()) == ['["a > 1",["a"],[]]', '["b > 2",["b"],[]]']
    finally:
        verified.PASSES.forget()


def test_the_spared_modules_are_real_module_names(project: Path) -> None:
    """The control for the tests above: a sync-like process that also prints Typer's rich help does
    import each of those names."""
    names = RUN_LIBRARIES + HELP_SPARED + STATUS_SPARED + STATUS_REMEMBERED_SPARED + STATUS_ALONE_SPARED
    code = (
        "import sys, importlib; from pathlib import Path; from onboard_sync.runtime import load_runtime; "
        "from onboard_sync.store import Store, migrate; import onboard_sync.sync.engine, rich.progress; "
        "import typer.rich_utils, typer._adapters, onboard_sync.calls.gate, onboard_sync.onboarding.health; "
        "import onboard_sync.connectors.hubspot.connector, onboard_sync.cli.run, onboard_sync.cli.demo; "
        "import onboard_sync.cli.setup, onboard_sync.sandbox.clock, importlib.metadata, click; "
        "rt = load_runtime(Path(sys.argv[1])); migrate.alembic_config(); "
        "next(s.when for s in rt.playbook.segments if s.when).programs(); "  # evaluating compiles: CEL loads
        f"print(sorted({{n for n in {names} if n in sys.modules}}))"
    )
    result = run_code(code, project, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(sorted(set(names)))


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
