"""What the machine around the CLI gets wrong, each answered in one line (exit 2, no traceback): a busy
port for `serve` or `sandbox`, a Postgres store without psycopg, a CRM that cannot be reached, and a
store that `sync` has not created yet (`status` and `report` never show an empty one instead)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import Result, assert_no_secret, clean_env, run_cli, run_code, user_error

from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.cli.setup import init
from onboard_sync.errors import Unreachable


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 another socket is listening on."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: every connection to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


# -- busy ports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("simulator", ["hubspot", "zendesk", "salesforce"])
def test_sandbox_on_a_busy_port_names_host_and_port(busy_port: int, simulator: str) -> None:
    error = user_error(run_cli("sandbox", simulator, "--port", str(busy_port)))

    assert error.startswith(f"error: 127.0.0.1:{busy_port}: cannot listen: the port is already in use"), error
    assert "--port" in error, error


def test_serve_on_a_busy_port_names_host_and_port(sandbox_project: Any, busy_port: int) -> None:
    env = clean_env({TOKEN_ENV: sandbox_project.sandbox.token, "HUBSPOT_CLIENT_SECRET": "app-secret-0000"})

    result = run_cli(
        "serve", "--config", sandbox_project.config_path, "--host", "127.0.0.1", "--port", str(busy_port), env=env
    )
    error = user_error(result)

    assert error.startswith(f"error: 127.0.0.1:{busy_port}: cannot listen: the port is already in use"), error
    assert "[serve] port" in error, error
    assert_no_secret(result, sandbox_project.sandbox.token)


# -- the store ----------------------------------------------------------------------------------


def run_without_psycopg(*args: str | Path, cwd: Path) -> Result:
    """The real CLI in a process where ``import psycopg`` fails, as without the postgres extra."""
    code = "import sys; sys.modules['psycopg'] = None; from onboard_sync.cli import main; main(sys.argv[1:])"
    return run_code(code, *args, cwd=cwd)


@pytest.mark.parametrize("command", ["status", "sync", "report"])
def test_a_postgres_store_without_psycopg_names_the_extra(tmp_path: Path, command: str) -> None:
    init(directory=tmp_path, force=False)
    config = tmp_path / "config.toml"
    text = config.read_text(encoding="utf-8")
    store_line = next(line for line in text.splitlines() if line.startswith("store = "))
    password = "pg-Secret-5521"
    url = f"postgresql+psycopg://onboard:{password}@127.0.0.1:5432/test"
    config.write_text(text.replace(store_line, f'store = "{url}"'), encoding="utf-8")

    result = run_without_psycopg(command, "--config", config, cwd=tmp_path)
    error = user_error(result)

    assert "driver 'psycopg' is not installed" in error, error
    assert "pip install 'onboard-sync[postgres]'" in error, error
    assert "config.toml:" in error, "names the file and line of the store"
    assert password not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["status"], ["status", "--json"], ["report"]])
def test_status_and_report_before_the_first_sync_say_run_sync(tmp_path: Path, command: list[str]) -> None:
    init(directory=tmp_path, force=False)
    store = tmp_path / "onboard-sync.db"

    error = user_error(run_cli(*command, "--config", tmp_path / "config.toml", cwd=tmp_path))

    assert error.startswith(f"error: {store}: no store"), error
    assert "run `onboard-sync sync`" in error, error
    assert not store.exists(), "a read command must not create the store"
    assert not (tmp_path / "report.html").exists()


def test_report_on_a_mistyped_store_url_names_the_path(tmp_path: Path) -> None:
    init(directory=tmp_path, force=False)
    mistyped = tmp_path / "onbaord-sync.db"

    error = user_error(run_cli("report", "--store", f"sqlite:///{mistyped}", "--rules", tmp_path / "rules"))

    assert error.startswith(f"error: {mistyped}: no store"), error
    assert not mistyped.exists()


def test_status_after_a_sync_reads_the_store_it_created(sandbox_project: Any) -> None:
    sandbox_project.setup_crm()
    assert sandbox_project.sync().ok

    result = run_cli("status", "--json", "--config", sandbox_project.config_path)

    assert result.returncode == 0, result.stderr
    assert '"onboardings": [' in result.stdout


# -- a CRM that cannot be reached ----------------------------------------------------------------


def point_at(project: Any, url: str) -> None:
    config = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(config.replace(project.sandbox.base_url, url), encoding="utf-8")


def test_validate_remote_against_an_unreachable_crm_names_the_host(sandbox_project: Any, refusing_port: int) -> None:
    """Through the real CLI, with the gate's real back-off (six attempts, ~16 s)."""
    point_at(sandbox_project, f"http://127.0.0.1:{refusing_port}")
    token = sandbox_project.sandbox.token

    result = run_cli(
        "validate", "--remote", "--config", sandbox_project.config_path, env=clean_env({TOKEN_ENV: token}), timeout=120
    )
    error = user_error(result)

    assert error == (
        f"error: connectors.hubspot: cannot reach 127.0.0.1:{refusing_port} (connection refused) after 6 attempts "
        f"in {error.split(' in ', 1)[1].split(' s;')[0]} s; check the connector's URL setting and the network"
    )
    assert_no_secret(result, token)


def test_sync_against_an_unreachable_hubspot_stops_naming_the_host(sandbox_project: Any, refusing_port: int) -> None:
    point_at(sandbox_project, f"http://127.0.0.1:{refusing_port}")

    with pytest.raises(Unreachable) as caught:
        sandbox_project.sync(sleep=lambda seconds: None)

    assert caught.value.where == "connectors.hubspot"
    assert f"cannot reach 127.0.0.1:{refusing_port} (connection refused) after 6 attempts" in caught.value.message


def test_sync_against_an_unreachable_salesforce_stops_naming_the_host(
    salesforce_project: Any, refusing_port: int
) -> None:
    point_at(salesforce_project, f"https://127.0.0.1:{refusing_port}")

    with pytest.raises(Unreachable) as caught:
        salesforce_project.sync(sleep=lambda seconds: None)

    assert caught.value.where == "connectors.salesforce"
    assert f"cannot reach 127.0.0.1:{refusing_port} (connection refused)" in caught.value.message
