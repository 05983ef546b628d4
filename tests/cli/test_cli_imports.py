"""A snappy CLI: the connector SDKs and HTTP libraries load only when a command builds a connector, so
`onboard-sync --help` and `onboard-sync status` (which makes no API call) do not import them."""

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

REPORT_IMPORTS = """
import json, sys
from onboard_sync.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    assert not exit.code, exit.code
print(json.dumps(sorted(name for name in {names} if name in sys.modules)), file=sys.stderr)
"""


def libraries_loaded(*args: str | Path, cwd: Path) -> list[str]:
    """Which of ``CONNECTOR_LIBRARIES`` a CLI process running ``onboard-sync ARGS`` imported."""
    result = run_code(REPORT_IMPORTS.format(names=CONNECTOR_LIBRARIES), *args, cwd=cwd, timeout=120)
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
