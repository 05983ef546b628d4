"""The set-up path as a user walks it, through the real CLI in a subprocess: `init` writes a starter
set that `validate` accepts, `connectors` lists the installed types, `setup` creates the CRM
properties once and only once, `validate --remote` then passes, and a DEBUG-logged `sync`
never prints the token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli_run import assert_no_secret, clean_env, run_cli, user_error

from onboard_sync.cli.demo import TOKEN_ENV
from onboard_sync.config import load_config


def property_writes(sandbox: Any) -> list[str]:
    """Requests the sandbox served that create or change property definitions or groups."""
    return [r.key for r in sandbox.requests.writes() if r.template.startswith("/crm/v3/properties/")]


def test_init_writes_a_starter_set_that_validates_and_is_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "onboarding"
    env = clean_env(drop=("HUBSPOT_TOKEN",))  # offline validation needs no token

    created = run_cli("init", folder, env=env)
    assert created.returncode == 0, created.stderr
    config = folder / "config.toml"
    assert config.is_file()
    assert (folder / "mappings" / "hubspot.toml").is_file()
    assert list((folder / "rules").glob("*.toml")), "the playbook rules"

    valid = run_cli("validate", "--config", config, env=env)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith(f"ok: {config}: 1 connector(s), playbook "), valid.stdout
    assert valid.stderr == ""
    # customers won before the install are not onboarded: the cutoff is 30 days back (UTC day;
    # a run across midnight may see either of two days)
    won_since = load_config(config).core.onboard_won_since
    today = datetime.now(UTC).date()
    assert won_since in {today - timedelta(days=30), today - timedelta(days=31)}, won_since

    edited = config.read_text(encoding="utf-8") + "# my edit\n"
    config.write_text(edited, encoding="utf-8")
    error = user_error(run_cli("init", folder, env=env))
    assert f"{config}: already exists" in error, error
    assert "--force" in error, error
    assert config.read_text(encoding="utf-8") == edited, "init without --force must not touch anything"

    forced = run_cli("init", folder, "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    assert "# my edit" not in config.read_text(encoding="utf-8")


def test_connectors_json_lists_hubspot_with_version_and_capabilities() -> None:
    result = run_cli("connectors", "--json")

    assert result.returncode == 0, result.stderr
    listed = {entry["type"]: entry for entry in json.loads(result.stdout)}
    hubspot = listed["hubspot"]
    assert hubspot["version"] not in ("", "unknown")
    assert hubspot["package"]
    assert {"deal-source", "task-sink", "field-sink"} <= set(hubspot["capabilities"])


def test_setup_creates_properties_once_then_validate_remote_passes(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    env = clean_env({TOKEN_ENV: hubspot_sandbox.token})
    schema = hubspot_sandbox.backend.schema
    assert "onboarding_phase" not in schema["deals"]

    first = run_cli("setup", "--config", sandbox_project.config_path, env=env)
    assert first.returncode == 0, first.stderr
    created = property_writes(hubspot_sandbox)
    assert created, "setup sent no property-create request"
    assert {"onboarding_phase", "onboarding_health_score", "onboarding_go_live_date"} <= set(schema["deals"])
    assert {"onboarding_phase", "onboarding_health_status"} <= set(schema["companies"])
    assert schema["tasks"]["onboard_sync_key"].get("hasUniqueValue"), "the idempotency key must be unique"
    assert schema["deals"]["onboarding_phase"]["type"] == "enumeration"
    assert f"hubspot: {len(created)} created, 0 already in place." in first.stdout, first.stdout
    assert "created created" not in first.stdout

    second = run_cli("setup", "--config", sandbox_project.config_path, env=env)
    assert second.returncode == 0, second.stderr
    assert property_writes(hubspot_sandbox) == created, "the second setup must create nothing"
    assert "hubspot: 0 created, " in second.stdout, second.stdout
    assert "hubspot: deals property onboarding_phase exists" in second.stdout, second.stdout

    remote = run_cli("validate", "--remote", "--config", sandbox_project.config_path, env=env)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert "ok: every mapped property exists in the CRM" in remote.stdout
    assert remote.stderr == ""


def test_debug_logged_sync_never_prints_the_token(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    sandbox_project.setup_crm()
    token = hubspot_sandbox.token

    result = run_cli(
        "sync",
        "--config",
        sandbox_project.config_path,
        env=clean_env({TOKEN_ENV: token, "ONBOARD_SYNC_LOG_LEVEL": "DEBUG"}),
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert " DEBUG " in result.stderr, "DEBUG logging was not on: the check below would prove nothing"
    assert hubspot_sandbox.backend.tasks, "the sync authenticated and created tasks"
    assert_no_secret(result, token)


def test_setup_dry_run_counts_what_it_would_create_and_setup_creates_exactly_that(
    sandbox_project: Any, hubspot_sandbox: Any
) -> None:
    env = clean_env({TOKEN_ENV: hubspot_sandbox.token})

    dry = run_cli("setup", "--dry-run", "--config", sandbox_project.config_path, env=env)

    assert dry.returncode == 0, dry.stderr
    assert property_writes(hubspot_sandbox) == [], "a dry run creates nothing"
    would = [line for line in dry.stdout.splitlines() if line.startswith("hubspot: would create ")]
    assert would
    assert dry.stdout.splitlines()[-1] == (
        f"hubspot: {len(would)} to create, 0 already in place; run `onboard-sync setup` to create them."
    )

    applied = run_cli("setup", "--config", sandbox_project.config_path, env=env)
    created = [line for line in applied.stdout.splitlines() if line.startswith("hubspot: created ")]
    assert [line.removeprefix("hubspot: created ") for line in created] == [
        line.removeprefix("hubspot: would create ").rsplit(" (", 1)[0] for line in would
    ], "setup creates what its dry run listed, in that order"
    assert len(property_writes(hubspot_sandbox)) == len(would)


def test_setup_tells_apart_what_an_admin_must_fix(sandbox_project: Any, hubspot_sandbox: Any) -> None:
    from onboard_sync.sandbox.hubspot.schema import property_definition

    made_by_hand = property_definition("deals", "onboarding_day", "Day", "string", None, "2026-11-01T00:00:00Z", 0)
    hubspot_sandbox.backend.add_property("deals", {**made_by_hand, "hubspotDefined": False})
    env = clean_env({TOKEN_ENV: hubspot_sandbox.token})

    dry = run_cli("setup", "--dry-run", "--config", sandbox_project.config_path, env=env)

    assert dry.returncode == 0, dry.stderr
    assert "hubspot: to do by hand: deals property onboarding_day has type string, onboard-sync needs number" in (
        dry.stdout
    ), dry.stdout
    would = sum(1 for line in dry.stdout.splitlines() if line.startswith("hubspot: would create "))
    assert f"hubspot: {would} to create, 0 already in place, 1 to do by hand (listed above); run " in dry.stdout
