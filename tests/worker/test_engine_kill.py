"""A worker SIGKILLed mid-reconcile on PostgreSQL: another worker takes its work over, and the
write-ahead task intents keep CRM writes exactly-once (one task per key, nothing lost, and a further
round writes nothing). Workers run as real ``onboard-sync worker`` processes.

The fault suite's crash points on the engine path: CI kills the worker at one (a CRM batch created,
not yet recorded); ``ONBOARD_SYNC_SOAK=1`` runs every one listed in ``SOAK_POINTS``."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import wait_result

from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import engine_client, enqueue_options, request_reconcile, trigger_args

sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))  # the fault suite's invariants
from invariants import check_all

pytestmark = pytest.mark.postgres
SOAK_POINTS = [
    "after-intents",
    "after-task-create",
    "after-task-record",
    "after-state-record",
    "after-field-write",
    "before-cursor",
]
POINTS = SOAK_POINTS if os.environ.get("ONBOARD_SYNC_SOAK") == "1" else ["after-task-create"]


def start_worker(project: Any, log: Path, *extra_env: tuple[str, str], grace: int = 10) -> subprocess.Popen[bytes]:
    """An ``onboard-sync worker`` process, once its heartbeat row shows it serving the queue."""
    env = {**os.environ, **dict(extra_env)}
    command = [sys.executable, "-m", "onboard_sync.cli", "worker", "--config", str(project.config_path)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*command, "--stale-after", "5", "--grace", str(grace), "--concurrency", "2"],
            env=env,
            stdout=out,
            stderr=out,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with project.store() as store:
            if any(w.pid == proc.pid for w in store.workers()):
                return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"worker did not start: {log.read_text()[-2000:]}")


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_worker_is_taken_over_and_writes_stay_exactly_once(sandbox_project, pg_store_url, point) -> None:
    sandbox_project.setup_crm()
    client = engine_client(system_database(pg_store_url))
    log = sandbox_project.path / "workers.log"
    doomed = start_worker(sandbox_project, log, ("ONBOARD_SYNC_CRASH_AT", point))
    workflow_id = request_reconcile(client, "hubspot", "schedule")
    assert doomed.wait(60) == -signal.SIGKILL, log.read_text()[
        -2000:
    ]  # the CRM has a batch of tasks, the store does not
    with sandbox_project.store() as store:
        assert len(store.workers()) == 1  # its heartbeat row, going stale
    survivor = start_worker(sandbox_project, log)
    try:
        started = time.monotonic()
        result = wait_result(client, workflow_id, timeout=90)
        assert result["outcome"] == "ok"
        assert time.monotonic() - started < 60
        check_all(sandbox_project)  # one task per key, none lost, none left pending, all audited
        again = wait_result(client, request_reconcile(client, "hubspot", "schedule"))
        assert again["outcome"] == "ok"
        assert again["created"] == again["updated"] == 0
        with sandbox_project.store() as store:
            assert [w.pid for w in store.workers()] == [survivor.pid]  # the dead one was recovered and removed
    finally:
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(60) == 0  # graceful: it finished and left
    with sandbox_project.store() as store:
        assert store.workers() == []
    client.destroy()


def test_sigterm_lets_the_running_reconcile_finish(sandbox_project, pg_store_url) -> None:
    sandbox_project.setup_crm()
    client = engine_client(system_database(pg_store_url))
    worker = start_worker(sandbox_project, sandbox_project.path / "worker.log", grace=120)
    sandbox_project.sandbox.latency = 0.15  # a reconcile of a few seconds
    workflow_id = request_reconcile(client, "hubspot", "schedule")
    deadline = time.monotonic() + 30
    while client.retrieve_workflow(workflow_id).get_status().status != "PENDING":
        assert time.monotonic() < deadline, "the reconcile never started"
        time.sleep(0.1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(150) == 0
    assert client.retrieve_workflow(workflow_id).get_status().status == "SUCCESS"
    assert client.retrieve_workflow(workflow_id).get_result()["outcome"] == "ok"
    with sandbox_project.store() as store:
        assert store.workers() == []
    client.destroy()


def test_two_workers_never_reconcile_one_instance_at_the_same_time(sandbox_project, pg_store_url) -> None:
    sandbox_project.setup_crm()
    client = engine_client(system_database(pg_store_url))
    log = sandbox_project.path / "workers.log"
    workers = [start_worker(sandbox_project, log), start_worker(sandbox_project, log)]
    sandbox_project.sandbox.latency = 0.03
    try:
        later = datetime.now(UTC) + timedelta(hours=1)  # asked for "later": no run covers another
        ids = [
            client.enqueue(enqueue_options("hubspot"), *trigger_args("hubspot", "schedule", later)).get_workflow_id()
            for _ in range(3)
        ]
        results = [wait_result(client, workflow_id, timeout=120) for workflow_id in ids]
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert worker.wait(60) == 0
    assert [r["outcome"] for r in results] == ["ok"] * 3
    # the queue serialized them: none had to wait for the instance's run lock (the second guard)
    for workflow_id in ids:
        steps = [s["function_name"] for s in client.list_workflow_steps(workflow_id)]
        assert steps.count("onboard_sync.reconcile_step") == 1, steps
    with sandbox_project.store() as store:
        runs = sorted(store.runs(limit=10), key=lambda run: run.started_at)
    assert len(runs) == 3
    for earlier, next_run in itertools.pairwise(runs):
        assert earlier.finished_at is not None
        assert earlier.finished_at <= next_run.started_at, "two reconciles of one instance overlapped"
    client.destroy()
