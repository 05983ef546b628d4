"""Driving ``onboard-sync worker`` processes on the test hosts: start them, trigger every portal, wait.

A trigger enqueues one ``schedule`` reconcile per connector instance through the engine's client
(what a schedule tick does), from the root namespace; :func:`wait_outcomes` waits for every one of
those workflows to end, wherever it ran. Workers write their output to ``<project>/hostN.log``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from cluster_support import Cluster

from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import engine_client, request_reconcile
from onboard_sync.testing.hosts import Host, wait_for


@contextmanager
def engine(cluster: Cluster) -> Iterator[Any]:
    """A DBOS client on the cluster's system database."""
    client = engine_client(system_database(cluster.store_url))
    try:
        yield client
    finally:
        client.destroy()


def start_workers(
    cluster: Cluster, hosts: Iterable[Host], *, concurrency: int = 4, stale_after: float = 5.0
) -> dict[str, subprocess.Popen[bytes]]:
    """One worker per host; returns them by host name once each has sent its first heartbeat."""
    started: dict[str, subprocess.Popen[bytes]] = {}
    for host in hosts:
        log = cluster.log_path(host).open("ab")
        argv = [sys.executable, "-m", "onboard_sync.cli", "worker", "--config", str(cluster.config)]
        argv += ["--concurrency", str(concurrency), "--stale-after", f"{stale_after:g}", "--grace", "1"]
        started[host.name] = host.popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cluster.config.parent)

    def all_beating() -> bool:
        for name, proc in started.items():
            assert proc.poll() is None, (
                f"worker on {name} exited {proc.returncode}: {cluster.host_log(_host(cluster, name))}"
            )
        with cluster.store() as store:
            return {w.host for w in store.workers()} >= set(started)

    wait_for(all_beating, 90, "every worker's first heartbeat", interval=0.2)
    return started


def _host(cluster: Cluster, name: str) -> Host:
    return next(h for h in cluster.network if h.name == name)


def trigger(cluster: Cluster) -> dict[str, str]:
    """Ask for one reconcile of every portal's instance; their workflow ids by instance."""
    with engine(cluster) as client:
        return {name: request_reconcile(client, name, "schedule") for name in cluster.portals}


def wait_outcomes(cluster: Cluster, workflows: dict[str, str], timeout: float = 90) -> dict[str, Any]:
    """Each workflow's result once all have ended (fails naming the unfinished after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    ended: dict[str, Any] = {}
    with engine(cluster) as client:
        while len(ended) < len(workflows):
            for instance, workflow_id in workflows.items():
                if instance in ended:
                    continue
                try:
                    handle = client.retrieve_workflow(workflow_id)
                    status = handle.get_status()
                except Exception:  # the system database restarting: ask again
                    continue
                if status.status in ("SUCCESS", "ERROR"):
                    ended[instance] = handle.get_result() if status.status == "SUCCESS" else status.status
            if time.monotonic() > deadline:
                late = sorted(set(workflows) - set(ended))
                raise AssertionError(f"reconciles not finished within {timeout:g} s: {late}")
            time.sleep(0.2)
    return ended


def outcome_of(result: Any) -> str:
    return str(result.get("outcome")) if isinstance(result, dict) else str(result)
