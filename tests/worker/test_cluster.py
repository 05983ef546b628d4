"""Seeing the cluster on real PostgreSQL and the HubSpot sandbox: ``onboard-sync cluster`` shows the
queue before a worker runs, the worker alive while it runs, each instance's last success and last
failure (with its message) after, and a worker whose heartbeat stopped as dead; a worker started
with ``--metrics-port`` answers ``/healthz`` and exports its reconciles and the queue on ``/metrics``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from engine_support import running_worker, wait_result

from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import engine_client, request_reconcile

pytestmark = pytest.mark.postgres

BROKEN = "hubspot_eu"
"""A second HubSpot instance whose token the portal refuses: its reconciles fail (at once: a 401 is
not retried)."""
WRONG_TOKEN_ENV = "HUBSPOT_EU_TOKEN"


def add_refused_instance(project: Any) -> None:
    config = project.config_path
    text = config.read_text(encoding="utf-8")
    table = text[text.index("[connectors.hubspot]") :].split("\n[", 1)[0]
    broken = re.sub(r'token_env = "[^"]*"', f'token_env = "{WRONG_TOKEN_ENV}"', table)
    broken = broken.replace("[connectors.hubspot]", f"[connectors.{BROKEN}]")
    assert WRONG_TOKEN_ENV in broken, table
    config.write_text(text + "\n" + broken + "\n", encoding="utf-8")
    project.monkeypatch.setenv(WRONG_TOKEN_ENV, "pat-na1-00000000-0000-0000-0000-000000000000")


def cluster(project: Any, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "onboard_sync.cli", "cluster", "--config", str(project.config_path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def cluster_json(project: Any) -> dict[str, Any]:
    """What ``cluster --json`` prints, read in this process (each CLI start costs seconds)."""
    from onboard_sync.cli.worker import open_engine_client
    from onboard_sync.durable.cluster import read_cluster
    from onboard_sync.store import Store

    rt = project.runtime()
    with Store.open(rt.config.store_url, read_only=True) as store:
        client = open_engine_client(system_database(rt.config.store_url), migrate=False)
        try:
            view = read_cluster(store, client, rt.config.connectors)
        finally:
            client.destroy()
    return json.loads(json.dumps(view.as_dict()))


def by_instance(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["instance"]: i for i in view["instances"]}


def test_cluster_shows_the_workers_each_instances_last_success_and_failure_and_the_queue(
    sandbox_project: Any, pg_store_url: str
) -> None:
    sandbox_project.setup_crm()
    add_refused_instance(sandbox_project)
    with sandbox_project.store():  # the store exists (as after `store migrate`), no worker ever ran
        pass
    before = cluster_json(sandbox_project)
    assert before["notes"] == ["no worker has started on this store yet: the engine's tables are made by the first one"]
    assert before["workers"] == []
    assert before["queue_depth"] == 0
    client = engine_client(system_database(pg_store_url))
    try:
        with running_worker(sandbox_project.runtime()):
            good = request_reconcile(client, "hubspot", "schedule")
            bad = request_reconcile(client, BROKEN, "schedule")
            assert wait_result(client, good)["outcome"] == "ok"
            assert wait_result(client, bad)["outcome"] == "error"
            during = cluster_json(sandbox_project)
            text = cluster(sandbox_project).stdout
        # no worker now: what is asked for waits in the queue
        waiting_ids = [request_reconcile(client, name, "schedule") for name in ("hubspot", BROKEN, BROKEN)]
        waiting = cluster_json(sandbox_project)
    finally:
        client.destroy()

    [worker] = during["workers"]
    assert worker["alive"] is True
    assert worker["heartbeat_age_s"] < 30
    assert during["queue_depth"] == 0
    instances = by_instance(during)
    success = instances["hubspot"]["last_success"]
    assert (success["trigger"], success["outcome"], success["workflow_id"]) == ("schedule", "ok", good)
    assert success["worker"] == worker["id"]
    assert instances["hubspot"]["last_failure"] is None
    failure = instances[BROKEN]["last_failure"]
    assert (failure["trigger"], failure["outcome"], failure["workflow_id"]) == ("schedule", "error", bad)
    assert "the CRM refused the credentials (HTTP 401" in failure["error"]
    assert instances[BROKEN]["last_success"] is None
    assert datetime.fromisoformat(failure["at"]) <= datetime.now(UTC)

    lines = text.splitlines()
    assert lines[0] == "workers: 1 alive"
    assert max(len(line) for line in lines) <= 80, text
    failures = " ".join(text.split(f"{BROKEN}: last failure ", 1)[1].split())  # wrapped at 80 columns
    assert f"connectors.{BROKEN}: the CRM refused the credentials (HTTP 401" in failures, text
    assert "queue: 0 waiting, 0 running" in lines

    assert waiting["workers"] == [], "a worker that stopped cleanly leaves no heartbeat row"
    assert waiting["queue_depth"] == len(waiting_ids)
    assert {name: i["queued"] for name, i in by_instance(waiting).items()} == {"hubspot": 1, BROKEN: 2}
    assert by_instance(waiting)["hubspot"]["last_success"]["workflow_id"] == good


def test_a_worker_whose_heartbeat_stopped_is_shown_dead(sandbox_project: Any, pg_store_url: str) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    with sandbox_project.store() as store:
        store.beat_worker("host-b-4242-dead00", "host-b", 4242, long_ago - timedelta(hours=1), long_ago)

    view = json.loads(cluster(sandbox_project, "--json").stdout)
    text = cluster(sandbox_project).stdout

    [worker] = view["workers"]
    assert (worker["id"], worker["host"], worker["alive"]) == ("host-b-4242-dead00", "host-b", False)
    assert 590 <= worker["heartbeat_age_s"] <= 900
    assert view["workers_alive"] == 0
    assert text.splitlines()[0] == "workers: 0 alive, 1 without a heartbeat for over 30 s"
    assert "10 min ago" in text


def test_a_worker_serves_healthz_and_metrics_on_its_metrics_port(sandbox_project: Any, pg_store_url: str) -> None:
    sandbox_project.setup_crm()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onboard_sync.cli",
            "worker",
            "--config",
            str(sandbox_project.config_path),
            "--metrics-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    client = engine_client(system_database(pg_store_url))
    printed: list[str] = []
    try:
        base = metrics_address(worker, printed)
        health = wait_healthy(base)
        assert health["status"] == "ok"
        assert health["worker"].startswith(os.uname().nodename)

        done = wait_result(client, request_reconcile(client, "hubspot", "schedule"))
        assert done["outcome"] == "ok"
        metrics = httpx.get(f"{base}/metrics", timeout=10).text

        assert 'onboard_sync_worker_reconciles_total{instance="hubspot",outcome="ok",trigger="schedule"} 1.0' in metrics
        assert 'onboard_sync_worker_reconcile_seconds_count{instance="hubspot"} 1.0' in metrics
        assert re.search(
            r'^onboard_sync_worker_last_success_timestamp_seconds\{instance="hubspot"\} 1\.\d+e\+09$', metrics, re.M
        )
        assert re.search(r"^onboard_sync_worker_heartbeat_age_seconds \d", metrics, re.M)
        assert "# TYPE onboard_sync_queue_depth gauge" in metrics
        assert httpx.get(f"{base}/nothing", timeout=10).status_code == 404
    finally:
        client.destroy()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=90)
    assert worker.returncode == 0, "".join(printed)


def metrics_address(worker: subprocess.Popen[str], printed: list[str]) -> str:
    """The ``http://HOST:PORT`` the worker prints when its metrics endpoint listens; the rest of
    what it prints is collected into ``printed`` by a thread (a full pipe would stop the worker)."""
    assert worker.stdout is not None
    stream = worker.stdout
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        printed.append(line)
        found = re.search(r"/healthz and /metrics on (http://[\d.]+:\d+)", line)
        if found:
            threading.Thread(target=lambda: printed.extend(stream), daemon=True).start()
            return found[1]
    raise AssertionError("the worker did not say where its metrics listen:\n" + "".join(printed))


def wait_healthy(base: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{base}/healthz", timeout=10)
        if answer.status_code == 200 or time.monotonic() > deadline:
            assert answer.status_code == 200, answer.text
            return answer.json()
        time.sleep(0.2)
