"""The engine's bad inputs get one line naming what and where (exit 2, no traceback, no password),
and the engine also runs on one machine on a SQLite store."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from engine_support import running_worker, wait_result

from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import QUEUE, engine_client, request_reconcile
from onboard_sync.durable.worker import check_one_machine
from onboard_sync.errors import UserError
from onboard_sync.store import Store

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))  # the CLI tests' subprocess runner
from cli_run import clean_env, run_cli, user_error


@pytest.mark.parametrize("command", [["worker"], ["schedules"], ["serve", "--receiver-only"]])
def test_an_unreachable_postgres_is_named_by_host_and_port_without_its_password(sandbox_project, command) -> None:
    store = "postgresql+psycopg://sync:s3cret-pw@127.0.0.1:1/onboarding"
    result = run_cli(*command, "--config", sandbox_project.config_path, env=clean_env({"ONBOARD_SYNC_STORE": store}))
    error = user_error(result)
    assert "127.0.0.1:1" in error
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_a_sqlite_store_serves_one_machine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    system = system_database(url)
    assert system.url.endswith("state.db.dbos.sqlite")
    assert not system.distributed
    with Store.open(url) as store:
        now = datetime.now(UTC)
        store.beat_worker("box-a-1-abc", "box-a", 1, now, now)
        check_one_machine(store, system, "box-a", stale_after=30)  # the same machine: fine
        with pytest.raises(UserError, match="a SQLite store serves one machine, and a worker on box-a uses it"):
            check_one_machine(store, system, "box-b", stale_after=30)


def test_an_in_memory_store_cannot_carry_the_engine() -> None:
    with pytest.raises(UserError, match="needs a store file or PostgreSQL"):
        system_database("sqlite:///:memory:")


def test_a_worker_on_a_sqlite_store_reconciles_and_schedules_shows_its_schedule(sandbox_project) -> None:
    sandbox_project.setup_crm()
    config = sandbox_project.config_path
    config.write_text(config.read_text().replace('type = "hubspot"', 'type = "hubspot"\nschedule = "0 6 * * 1"', 1))
    system = system_database(sandbox_project.runtime().config.store_url)
    with running_worker(sandbox_project.runtime()):
        client = engine_client(system)
        result = wait_result(client, request_reconcile(client, "hubspot", "schedule"))
        client.destroy()
    assert result["outcome"] == "ok"
    assert result["created"] > 0
    env = clean_env()
    paused = run_cli("schedules", "--config", config, "--pause", "hubspot", env=env)
    assert paused.returncode == 0, paused.stderr
    assert "hubspot: schedule paused" in paused.stdout
    assert "hubspot            0 6 * * 1        PAUSED  -" in paused.stdout  # never fired, no next run
    listed = json.loads(run_cli("schedules", "--config", config, "--json", env=env).stdout)
    assert listed["schedules"] == [
        {"instance": "hubspot", "schedule": "0 6 * * 1", "status": "PAUSED", "last_run": None, "next_run": None}
    ]
    assert listed["configured"] == {"hubspot": "0 6 * * 1"}


def test_a_receiver_on_a_sqlite_store_persists_then_enqueues_every_delivery(tmp_path: Path) -> None:
    from onboard_sync.webhooks.engine_queue import EngineQueue

    url = f"sqlite:///{tmp_path / 'state.db'}"
    with Store.open(url) as store:
        queue = EngineQueue(store, system_database(url))
        try:
            received = datetime.now(UTC)
            assert queue.enqueue("hubspot", [("e1", b"{}"), ("e2", b"{}")], received) == 2
            assert queue.enqueue("hubspot", [("e1", b"{}")], received) == 0  # a redelivery: stored once...
            queued = queue.client.list_queued_workflows(queue_name=QUEUE, load_input=True)
        finally:
            queue.close()
        assert [e.event_id for e in store.inbox_pending()] == ["e1", "e2"]
    # ...but enqueued again: an enqueue lost after an earlier commit is made good by the retry
    assert [tuple(w.input["args"][:2]) for w in queued if w.input] == [("hubspot", "webhook")] * 2
