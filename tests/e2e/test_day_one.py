"""Day one on a live portal, as a new user meets it: the README's quick start against a sandbox with
customers won before install, through the real CLI. The first sync creates no task already overdue
and no alert task; the tasks of phases that ended before adoption are skipped (status --json says
why); a second sync writes nothing. Then a sync after a ten-day outage, and the same on Salesforce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_support import set_core_keys, tasks_by_key
from sf_support import KEY_FIELD

from onboard_sync.cli.demo_crm import write_salesforce_config
from onboard_sync.records import TaskStatus
from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.store import Store


def cli(folder: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``onboard-sync ARGS`` run in ``folder`` as a user would (a child process, no stdin)."""
    done = subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", *args],
        cwd=folder,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def hubspot_portal() -> Iterator[HubSpotSandbox]:
    """The issue's portal: seed 5, 300 deals, the won ones closed over the last three weeks."""
    with HubSpotSandbox(seed=5, deals=300) as sandbox:
        yield sandbox


def test_the_quick_start_first_sync_creates_nothing_overdue_and_no_alerts(
    hubspot_portal: HubSpotSandbox, tmp_path: Path
) -> None:
    env = {"HUBSPOT_TOKEN": hubspot_portal.token}
    assert cli(tmp_path, "init", "my-onboarding", env=env).returncode == 0
    folder = tmp_path / "my-onboarding"
    config = folder / "config.toml"
    config.write_text(
        config.read_text().replace('type = "hubspot"\n', f'type = "hubspot"\nbase_url = "{hubspot_portal.base_url}"\n')
    )
    assert cli(folder, "setup", env=env).returncode == 0

    first = as_json(cli(folder, "sync", "--json", env=env))["connectors"]["hubspot"]

    tasks = [t for t in hubspot_portal.backend.tasks.values() if t.properties.get("onboard_sync_key")]
    assert len(tasks) == first["writes"]["created"] > 50
    born_overdue = [
        (t.properties["onboard_sync_key"], t.properties["hs_timestamp"])
        for t in tasks
        if when(t.properties["hs_timestamp"]) <= when(t.properties["hs_createdate"])
    ]
    assert born_overdue == [], "no task is due before the moment it was created"
    assert not [t for t in tasks if ":alert." in t.properties["onboard_sync_key"]], "no alert task on day one"
    assert set(tasks_by_key(hubspot_portal).values()) == {1}

    status = as_json(cli(folder, "status", "--json", env=env))
    onboardings = status["onboardings"]
    assert len(onboardings) == first["onboardings_started"] == first["onboardings_adopted"]
    skipped = [s for o in onboardings for s in o["skipped_tasks"]]
    assert len(skipped) == first["tasks_skipped"] > 0
    assert all("before onboard-sync began following this customer on" in s["reason"] for s in skipped)
    assert not [o for o in onboardings if o["health_status"] != "healthy"], "nobody is at risk on day one"
    assert not [o for o in onboardings if o["overdue_tasks"]]

    second = as_json(cli(folder, "sync", "--json", env=env))["connectors"]["hubspot"]
    assert second["writes"] == {"created": 0, "updated": 0, "failed": 0}
    assert second["tasks_skipped"] == 0, "a skip is recorded once"


def test_a_sync_after_a_ten_day_outage_creates_no_overdue_task_without_a_reason(project: Any) -> None:
    """The people keep working while onboard-sync is down for ten days; when it comes back, the
    phases their completed tasks opened move the plan, and nothing is created overdue."""
    start = datetime.now(UTC)
    assert project.sync(clock=lambda: start).ok
    backend = project.sandbox.backend
    for task in list(backend.tasks.values()):
        if task.properties.get("onboard_sync_key") and ":alert." not in task.properties["onboard_sync_key"]:
            backend.complete_task(task.id)

    back = start + timedelta(days=10)
    report = project.sync(clock=lambda: back)
    assert report.ok, report.as_dict()
    with project.store() as store:
        audit = [a for a in store.audit(limit=100_000) if a.action == "create_task" and a.run_id == report.run_id]
        transitions = [t for o in store.onboardings(source="hubspot") for t in store.transitions(o.id)]
        owned = store.owned_tasks_for("hubspot")
    assert audit, "the phases the people finished during the outage open new tasks"
    late = [a for a in audit if when(str(a.after["due_at"])) <= a.at and not owned[a.key].note]
    assert late == [], "every task created overdue says why"
    assert all(when(str(a.after["due_at"])) > a.at for a in audit), "under adopt, none is created overdue"
    assert any("later than planned: the plan moves" in t.detail for t in transitions)


def test_replay_creates_overdue_tasks_only_with_the_reason_recorded(project: Any) -> None:
    set_core_keys(project.config_path, catch_up="replay")
    report = project.sync()
    assert report.ok
    with project.store() as store:
        audit = [a for a in store.audit(limit=100_000) if a.action == "create_task"]
        owned = store.owned_tasks_for("hubspot")
    overdue = [a for a in audit if when(str(a.after["due_at"])) <= a.at]
    assert overdue, "replaying customers won weeks ago creates overdue tasks"
    assert all('catch_up = "replay"' in (owned[a.key].note or "") for a in overdue)


@pytest.fixture(scope="module")
def salesforce_org() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(seed=5, deals=300) as sandbox:
        yield sandbox


def test_salesforce_first_sync_creates_nothing_overdue_and_no_alerts(
    salesforce_org: SalesforceSandbox, tmp_path: Path
) -> None:
    env = dict(salesforce_org.connector_secrets())
    config = write_salesforce_config(tmp_path, salesforce_org)
    set_core_keys(config, onboard_won_since=date.today() - timedelta(days=30))  # as `init` writes it
    assert cli(tmp_path, "setup", env=env).returncode == 0

    first = as_json(cli(tmp_path, "sync", "--json", env=env))["connectors"]["salesforce"]

    backend = salesforce_org.backend
    tasks = [t for t in backend.tasks.values() if t.get(KEY_FIELD)]
    assert len(tasks) == first["writes"]["created"] > 20
    overdue = [(t[KEY_FIELD], t["ActivityDate"]) for t in tasks if _day(t["ActivityDate"]) < _day(t["CreatedDate"])]
    assert overdue == [], "no task is due before the day it was created"
    assert not [t for t in tasks if ":alert." in t[KEY_FIELD]]
    assert first["onboardings_adopted"] > 0
    assert first["tasks_skipped"] > 0

    with Store.open(f"sqlite:///{tmp_path / 'onboard-sync.db'}", read_only=True) as store:
        assert {t.status for t in store.owned_tasks_for("salesforce").values()} == {TaskStatus.OPEN}

    second = as_json(cli(tmp_path, "sync", "--json", env=env))["connectors"]["salesforce"]
    assert second["writes"] == {"created": 0, "updated": 0, "failed": 0}


def _day(value: date | datetime | str) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value
