"""`validate` refuses, offline, what `sync` and `serve` would refuse or crash on, with the same one line.

The real CLI in a subprocess: each bad config makes `validate`, `sync` and `serve` exit 2 with one
line naming file:line and key, no traceback; several problems are all listed by `validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_run import clean_env, run_cli, user_error

from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.cli.setup import init
from onboard_sync.rules import default_playbook_path


def starter(folder: Path) -> Path:
    init(directory=folder, force=False)
    return folder / "config.toml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


CASES = {
    "webhook-table-for-no-instance": (
        "config.toml",
        "[owners]",
        "[serve.webhooks.hubspto]\nenabled = false\n\n[owners]",
        "[serve.webhooks.hubspto]",
        "(serve.webhooks.hubspto): [serve.webhooks.hubspto] names no connector instance (did you mean 'hubspot'?)",
    ),
    "unsupported-store-scheme": (
        "config.toml",
        'store = "sqlite:///onboard-sync.db"',
        'store = "mysql://sync@db/onboarding"',
        "store = ",
        "(onboard_sync.store): unsupported store backend 'mysql'",
    ),
    "store-folder-missing": (
        "config.toml",
        'store = "sqlite:///onboard-sync.db"',
        'store = "sqlite:///var/onbaord/state.db"',
        "store = ",
        "(onboard_sync.store): the store's folder does not exist: ",
    ),
    "mistyped-key": (
        "config.toml",
        "lookback_minutes = 10",
        "lookback_minute = 10",
        "lookback_minute",
        "(onboard_sync.lookback_minute): unknown key 'lookback_minute' (did you mean 'lookback_minutes'?)",
    ),
    "non-finite-rate": (
        "config.toml",
        'token_env = "HUBSPOT_TOKEN"',
        'token_env = "HUBSPOT_TOKEN"\nrequests_per_second = inf',
        "requests_per_second",
        "(connectors.hubspot.requests_per_second): 'requests_per_second' must be a finite number, not inf",
    ),
    "schedule-not-cron": (
        "config.toml",
        'token_env = "HUBSPOT_TOKEN"',
        'token_env = "HUBSPOT_TOKEN"\nschedule = "every 15 minutes"',
        "schedule = ",
        "(connectors.hubspot.schedule): schedule 'every 15 minutes' is not a five-field cron expression",
    ),
    "schedule-out-of-range": (
        "config.toml",
        'token_env = "HUBSPOT_TOKEN"',
        'token_env = "HUBSPOT_TOKEN"\nschedule = "*/15 25 * * *"',
        "schedule = ",
        "(connectors.hubspot.schedule): schedule '*/15 25 * * *' is not a valid cron expression",
    ),
    "non-finite-due-hours": (
        "rules/playbook.toml",
        "due_day = 2\n",
        "due_hours = nan\n",
        "due_hours = nan",
        ".due_hours): 'due_hours' must be a finite number, not nan",
    ),
    "mistyped-rules-key": (
        "rules/playbook.toml",
        "due_day = 2\n",
        "due_days = 2\n",
        "due_days = 2",
        ".due_days): unknown key 'due_days' (did you mean 'due_day'?)",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("command", ["validate", "sync", "serve"])
def test_validate_sync_and_serve_refuse_the_same_config_with_the_same_line(
    tmp_path: Path, command: str, case: tuple[str, str, str, str, str]
) -> None:
    file, old, new, anchor, message = case
    config = starter(tmp_path)
    edit(tmp_path / file, old, new)
    line = line_of(tmp_path / file, anchor)

    error = user_error(run_cli(command, "--config", config, env=clean_env({TOKEN_ENV: "pat-na1-not-used"})))

    assert f"{file}:{line} " in error, error
    assert message in error, error


def test_validate_lists_every_problem_and_stops_on_the_first(tmp_path: Path) -> None:
    config = starter(tmp_path)
    edit(config, 'csm = "deal_owner"', 'cms = "deal_owner"')
    edit(config, 'store = "sqlite:///onboard-sync.db"', 'store = "sqlite:///nowhere/state.db"')

    result = run_cli("validate", "--config", config)
    error = user_error(result)

    problems = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2, result.stdout
    assert "(owners.cms)" in problems[0]
    assert "(onboard_sync.store)" in problems[1]
    assert "(owners.cms): unknown owner role 'cms'" in error
    assert error.endswith("(and 1 more problem: listed on stdout)"), error


def test_validate_says_which_webhook_routes_serve_would_open(tmp_path: Path) -> None:
    config = starter(tmp_path)

    without = run_cli("validate", "--config", config)
    with_secret = run_cli("validate", "--config", config, env=clean_env({"HUBSPOT_CLIENT_SECRET": "s3cr3t-value"}))

    assert without.returncode == 0, without.stderr
    assert "note: `onboard-sync serve` would not start here" in without.stdout
    assert "export HUBSPOT_CLIENT_SECRET" in without.stdout
    assert with_secret.returncode == 0, with_secret.stderr
    assert "serve: webhook routes /webhooks/hubspot (hubspot)" in with_secret.stdout
    assert "s3cr3t-value" not in with_secret.stdout + with_secret.stderr


def test_a_nan_due_date_never_reaches_the_crm(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    """Before: validate passed and sync died with a traceback (timedelta(hours=nan)) after reading the CRM."""
    rules = sandbox_project.path / "rules"
    rules.mkdir(exist_ok=True)
    source = default_playbook_path() / "playbook.toml"
    text = source.read_text(encoding="utf-8").replace("due_day = 2\n", "due_hours = nan\n", 1)
    (rules / "playbook.toml").write_text(text, encoding="utf-8")
    env = clean_env({TOKEN_ENV: hubspot_sandbox.token})

    for command in ("validate", "sync"):
        error = user_error(run_cli(command, "--config", sandbox_project.config_path, env=env))
        assert "rules/playbook.toml:" in error, error
        assert "'due_hours' must be a finite number, not nan" in error, error
    assert len(hubspot_sandbox.requests) == 0, "nothing is read from or written to the CRM"
