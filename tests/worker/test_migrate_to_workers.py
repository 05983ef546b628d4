"""The whole way from one machine to many: a project synced from cron on SQLite is moved with
``onboard-sync store migrate`` into PostgreSQL, and a worker's first reconcile there makes zero
CRM writes and keeps every task key (the write-ahead ledger came along)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from engine_support import running_worker, wait_result

from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import engine_client, request_reconcile
from onboard_sync.store import Store

pytestmark = pytest.mark.postgres


def test_a_worker_on_the_migrated_store_reconciles_with_zero_writes(sandbox_project: Any, pg_store_url: str) -> None:
    sqlite_url = f"sqlite:///{sandbox_project.path / 'onboard-sync.db'}"
    sandbox_project.monkeypatch.setenv("ONBOARD_SYNC_STORE", sqlite_url)  # one machine: cron's SQLite
    sandbox_project.setup_crm()
    assert sandbox_project.sync().totals()["created"] > 0
    with Store.open(sqlite_url) as store:
        keys = {k: (t.remote_id, t.state) for k, t in store.owned_tasks_for("hubspot").items()}

    moved = subprocess.run(
        [
            sys.executable,
            "-m",
            "onboard_sync.cli",
            "store",
            "migrate",
            "--to",
            pg_store_url,
            "--config",
            str(sandbox_project.config_path),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=180,
        check=False,
    )
    assert moved.returncode == 0, moved.stderr
    assert f"{len(keys)} task key(s) verified" in moved.stdout

    sandbox_project.monkeypatch.setenv("ONBOARD_SYNC_STORE", pg_store_url)  # many machines from now on
    sandbox_project.sandbox.requests.clear()
    client = engine_client(system_database(pg_store_url))
    try:
        with running_worker(sandbox_project.runtime()):
            result = wait_result(client, request_reconcile(client, "hubspot", "schedule"))
    finally:
        client.destroy()

    assert result["outcome"] == "ok"
    assert (result["created"], result["updated"], result["failed"]) == (0, 0, 0)
    assert sandbox_project.sandbox.requests.writes() == []
    with Store.open(pg_store_url) as store:
        assert {k: (t.remote_id, t.state) for k, t in store.owned_tasks_for("hubspot").items()} == keys
