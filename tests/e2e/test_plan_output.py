"""``onboard-sync plan`` as people read it, and ``plan --json`` / ``sync --json`` as a user diffs them.

Run as a user would (the CLI in a child process) against the HubSpot sandbox over real HTTP.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e_support import run_cli


def test_plan_names_owners_shows_values_and_fits_80_columns(project: Any) -> None:
    result = run_cli(project, "plan", "--limit", "100", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, "every line fits 80 columns"
    assert re.match(r"hubspot: \d+ planned writes: \d+ tasks to create", lines[0])

    backend = project.sandbox.backend
    names = {f"{owner.first_name} {owner.last_name}" for owner in backend.owners.values()}
    assert any(f"for {name}, due " in out for name in names), "task owners by name"
    owner_ids = {str(owner_id) for owner_id in backend.owners}
    assert not any(f"for {owner_id}," in out for owner_id in owner_ids), "no owner shown as an id"
    assert "(empty) → " in out, "an empty CRM value reads (empty)"
    assert "None" not in out
    assert not re.search(r"→ '|' →", out), "values are not Python reprs"
    assert "['" not in out


def test_plan_limit_counts_the_onboardings_left_out(project: Any) -> None:
    result = run_cli(project, "plan", "--limit", "2", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    planned = json.loads(run_cli(project, "plan", "--json").stdout)
    onboardings = {row["onboarding"] for row in planned["changes"]}
    hidden = re.search(r"… and (\d+) writes for (\d+) more\s+onboardings", result.stdout)
    assert hidden, result.stdout
    assert int(hidden.group(2)) == len(onboardings) - 2
    shown = sum(1 for line in result.stdout.splitlines() if re.match(r"^\S.*\s(create|update)\s", line))
    assert int(hidden.group(1)) + shown <= planned["planned_writes"]


def test_plan_json_and_the_next_sync_json_list_the_same_writes(project: Any) -> None:
    day = datetime.now(UTC).date()
    planned = run_cli(project, "plan", "--json")
    synced = run_cli(project, "sync", "--json")
    assert planned.returncode == 0, planned.stderr
    assert synced.returncode == 0, synced.stderr
    if datetime.now(UTC).date() != day:
        pytest.skip("the two runs straddled midnight UTC: due days may differ by design")
    plan, sync = json.loads(planned.stdout), json.loads(synced.stdout)

    def keyed(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(row["action"], row["key"]): row for row in rows}

    assert plan["planned_writes"] + plan["planned_skips"] == len(plan["changes"])
    assert plan["planned_writes"] > 0
    assert keyed(plan["changes"]) == keyed(sync["changes"])
    writes = [row for row in sync["changes"] if row["action"] != "skip"]  # skips are recorded, not written
    assert len(writes) == sync["writes"]["created"] + sync["writes"]["updated"]
    assert len(sync["changes"]) - len(writes) == sync["connectors"]["hubspot"]["tasks_skipped"]
    creates = [row for row in sync["changes"] if row["action"] == "create"]
    assert all(row["owner"] and row["owner"] != row["owner_id"] for row in creates), "owners by name"

    again = json.loads(run_cli(project, "sync", "--json").stdout)
    assert again["changes"] == [], "a sync with nothing to do lists no change"


def test_plan_says_when_it_could_not_read_the_helpdesk(project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from plan_sync_support import ZENDESK_TOKEN_ENV, zendesk_tables

    from onboard_sync.sandbox.zendesk import ZendeskSandbox, companies_from_hubspot

    with ZendeskSandbox(seed=1, companies=companies_from_hubspot(project.sandbox)) as zendesk:
        monkeypatch.setenv(ZENDESK_TOKEN_ENV, zendesk.api_token)
        with project.config_path.open("a", encoding="utf-8") as fh:
            fh.write(zendesk_tables(zendesk, "hubspot"))
        zendesk.faults.fail_next(100, 503)
        result = run_cli(project, "plan", env={"COLUMNS": "80"})
    assert result.returncode == 1, "a plan made without the helpdesk's changes is not ok"
    assert re.search(r"^error reading zendesk: \S", result.stdout, flags=re.M), result.stdout
