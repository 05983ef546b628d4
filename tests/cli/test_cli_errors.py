"""Bad input, as a user meets it: the real CLI in a subprocess answers with exactly one line
``error: WHERE: WHAT`` on stderr (the file and line, or the key path / connector), exit code 2,
no traceback, and never a token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cli_run import assert_no_secret, clean_env, run_cli, user_error

from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.cli.setup import init
from onboard_sync.runtime import load_runtime
from onboard_sync.store import Store


def starter(folder: Path) -> Path:
    """The files `onboard-sync init` writes (written in-process: the subprocess is the case under test)."""
    init(directory=folder, force=False)
    return folder / "config.toml"


def line_of(path: Path, text: str) -> int:
    """The 1-based number of the first line of ``path`` containing ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def insert_after(path: Path, anchor: str, new_line: str) -> int:
    """Insert ``new_line`` after the first line equal to ``anchor``; its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index(anchor) + 1
    lines.insert(at, new_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return at + 1


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- config.toml --------------------------------------------------------------------------------


def test_broken_toml_names_file_line_and_column(tmp_path: Path) -> None:
    config = starter(tmp_path)
    replace_once(config, 'timezone = "UTC"', 'timezone = "UTC')  # unterminated string
    line = line_of(config, 'timezone = "UTC')

    error = user_error(run_cli("validate", "--config", config))

    assert re.search(rf"config\.toml:{line}:\d+: invalid TOML: ", error), error


@pytest.mark.parametrize(
    ("table", "key"),
    [("[onboard_sync]", "lookbak"), ("[connectors.hubspot]", "pipline")],
    ids=["core", "connector"],
)
def test_unknown_config_key_names_file_line_and_key(tmp_path: Path, table: str, key: str) -> None:
    config = starter(tmp_path)
    line = insert_after(config, table, f"{key} = 3")
    key_path = f"{table.strip('[]')}.{key}"

    error = user_error(run_cli("validate", "--config", config))

    assert f"config.toml:{line} ({key_path}): unknown key '{key}'" in error, error


def test_a_won_since_that_is_not_a_date_names_file_line_and_key(tmp_path: Path) -> None:
    config = starter(tmp_path)
    replace_once(config, "onboard_won_since = ", 'onboard_won_since = "last month" # ')
    line = line_of(config, "onboard_won_since = ")

    error = user_error(run_cli("validate", "--config", config))

    where = f"config.toml:{line} (onboard_sync.onboard_won_since)"
    assert f"{where}: expected a day such as 2026-11-01, got 'last month'" in error, error


def test_unknown_connector_type_lists_installed_ones(tmp_path: Path) -> None:
    config = starter(tmp_path)
    replace_once(config, 'type = "hubspot"', 'type = "hubspott"')
    line = line_of(config, 'type = "hubspott"')

    error = user_error(run_cli("validate", "--config", config))

    assert f"config.toml:{line} (connectors.hubspot.type): unknown connector type 'hubspott'" in error, error
    installed = error.split("(installed: ", 1)[1].split(")", 1)[0].split(", ")
    assert "hubspot" in installed, error


def test_no_config_file_says_run_init(tmp_path: Path) -> None:
    error = user_error(run_cli("sync", cwd=tmp_path))

    assert "config.toml" in error, error
    assert "onboard-sync init" in error, error
    assert not list(tmp_path.iterdir()), "a failed start must not leave files (e.g. a store) behind"


# -- mappings and rules -------------------------------------------------------------------------


def test_unknown_mapping_field_names_file_line_and_key_path(tmp_path: Path) -> None:
    config = starter(tmp_path)
    mapping = tmp_path / "mappings" / "hubspot.toml"
    line = insert_after(mapping, "[deal.write]", 'helth_score = "x"')

    error = user_error(run_cli("validate", "--config", config))

    assert f"mappings/hubspot.toml:{line} (deal.write.helth_score): unknown onboarding field 'helth_score'" in error
    assert "health_score" in error.split("helth_score", 2)[-1], "the known fields are listed"


def test_cel_condition_with_unknown_name_names_rules_file_and_line(tmp_path: Path) -> None:
    config = starter(tmp_path)
    rules = tmp_path / "rules" / "playbook.toml"
    line = line_of(rules, 'when = "deal.amount > 0.0')
    replace_once(rules, 'when = "deal.amount > 0.0', 'when = "dael.amount > 0.0')

    error = user_error(run_cli("validate", "--config", config))

    assert re.search(rf"rules/playbook\.toml:{line} \(segments\[\d+\]\.when\): unknown name 'dael'", error), error


# -- against the CRM ----------------------------------------------------------------------------


def test_validate_remote_before_setup_names_mapping_line_and_suggests_setup(
    sandbox_project: Any, hubspot_sandbox: Any
) -> None:
    mapping = sandbox_project.path / "mappings" / "hubspot.toml"
    line = line_of(mapping, 'phase = "onboarding_phase"')  # the first entry of [deal.write]

    result = run_cli(
        "validate",
        "--remote",
        "--config",
        sandbox_project.config_path,
        env=clean_env({TOKEN_ENV: hubspot_sandbox.token}),
    )
    error = user_error(result)

    assert f"mappings/hubspot.toml:{line} (deal.write.phase): CRM property 'onboarding_phase' does not exist" in error
    assert "onboard-sync setup" in error, error
    problems = [p for p in result.stdout.splitlines() if p.startswith("problem: ")]
    assert len(problems) > 1, result.stdout
    assert f"and {len(problems) - 1} more problems: listed on stdout" in error, error
    assert hubspot_sandbox.requests.writes() == [], "validate must not change the CRM"
    assert_no_secret(result, hubspot_sandbox.token)


@pytest.mark.parametrize("command", [["validate", "--remote"], ["sync"]], ids=["validate-remote", "sync"])
def test_missing_token_env_names_connector_and_variable(
    sandbox_project: Any, hubspot_sandbox: Any, command: list[str]
) -> None:
    result = run_cli(*command, "--config", sandbox_project.config_path, env=clean_env())
    error = user_error(result)

    assert "hubspot" in error, error
    assert f"{TOKEN_ENV} is not set" in error, error
    assert hubspot_sandbox.requests.writes() == []
    assert_no_secret(result, hubspot_sandbox.token)


def test_revoked_token_stops_sync_naming_the_connector(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    hubspot_sandbox.faults.revoke_token()

    result = run_cli("sync", "--config", sandbox_project.config_path, env=clean_env({TOKEN_ENV: hubspot_sandbox.token}))
    error = user_error(result)

    assert "hubspot" in error, error
    assert "refused" in error, error
    assert "revoked" in error, error
    assert hubspot_sandbox.requests.writes() == [], "nothing reaches the CRM with a refused token"
    assert_no_secret(result, hubspot_sandbox.token)


def test_sync_while_another_process_holds_the_run_lock(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    url = load_runtime(sandbox_project.config_path).config.store_url
    with Store.open(url) as store, store.run_lock("sync"):
        result = run_cli(
            "sync", "--config", sandbox_project.config_path, env=clean_env({TOKEN_ENV: hubspot_sandbox.token})
        )
    error = user_error(result)

    assert "another onboard-sync process holds the 'sync' lock" in error, error
    assert len(hubspot_sandbox.requests) == 0, "a locked-out sync must not call the CRM"
