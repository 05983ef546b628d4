"""``onboard-sync worker`` on three hosts sharing one PostgreSQL store and twelve portals.

* Every trigger reconciles every portal exactly once, by one host, and the work spreads over hosts.
* Faults mid-reconcile: a worker killed with SIGKILL, a host whose cable is pulled, the PostgreSQL
  server restarted. Afterwards: exactly one CRM task per (onboarding, template, episode) key, no
  onboarding lost, no two hosts ever called one portal at overlapping times, and a further round
  makes zero writes.

The fault tests run six portals that answer slowly (latency), so that a reconcile is surely under
way when the fault strikes; the worker takes over a silent worker's work after 5 s without a heartbeat.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from cluster_engine import outcome_of, start_workers, trigger, wait_outcomes
from cluster_support import Block, Cluster, check_exactly_once, check_no_overlap

from onboard_sync.testing.hosts import Host, wait_for

FAULT_PORTALS = 6
"""Portals in the fault tests (each fault hits one portal's reconcile; fewer portals keep CI's budget)."""


def one_round(cluster: Cluster, timeout: float = 90) -> dict[str, int]:
    """Trigger every portal, wait for the reconciles, check they were all fine; blocks per portal."""
    cluster.portals.clear_logs()
    outcomes = wait_outcomes(cluster, trigger(cluster), timeout)
    bad = {name: r for name, r in outcomes.items() if outcome_of(r) not in ("ok", "nothing-new")}
    assert not bad, f"reconciles that did not end well: {bad}"
    return {name: len(blocks) for name, blocks in check_no_overlap(cluster.portals).items()}


def test_every_trigger_reconciles_every_portal_once_by_one_host(cluster: Cluster) -> None:
    start_workers(cluster, cluster.network.hosts)
    blocks = one_round(cluster)
    assert set(blocks.values()) == {1}, f"portals not called by exactly one host: {blocks}"
    clients = {sb.requests[0].client for _, sb in cluster.portals.items()}
    assert len(clients) >= 2, f"one host did all the work: {clients}"
    for _, sb in list(cluster.portals.items())[:6]:  # people at work between the triggers
        task = next(t for t in sb.backend.tasks.values() if t.properties.get("onboard_sync_key"))
        sb.backend.complete_task(task.id)
    blocks = one_round(cluster)
    assert set(blocks.values()) == {1}, f"portals not called by exactly one host: {blocks}"
    check_exactly_once(cluster)
    one_round(cluster)
    assert cluster.crm_writes() == 0, "a further round wrote to the CRM"


def slow_portals(cluster: Cluster, latency: float = 0.15) -> None:
    for _, sb in cluster.portals.items():
        sb.latency = latency


def busy_host(cluster: Cluster, hosts: list[Host], calls: int = 3) -> tuple[Host, str]:
    """Wait until one of ``hosts`` is mid-reconcile (``calls`` answered to it by one portal whose
    reconcile has not ended); return that host and portal."""
    found: list[tuple[Host, str]] = []

    def mid_reconcile() -> bool:
        for host in hosts:
            for name, sb in cluster.portals.items():
                if sum(1 for r in list(sb.requests) if r.client == host.address) >= calls:
                    found.append((host, name))
                    return True
        return False

    wait_for(mid_reconcile, 60, "a reconcile under way")
    return found[0]


def after_the_fault(
    cluster: Cluster, workflows: dict[str, str], *, tolerate: tuple[str, ...] = ()
) -> dict[str, list[Block]]:
    """Wait for the round's reconciles (outcomes in ``tolerate`` allowed too); check the invariants that
    hold whatever the outcome; return the client blocks per portal."""
    outcomes = wait_outcomes(cluster, workflows, timeout=120)
    bad = {name: r for name, r in outcomes.items() if outcome_of(r) not in ("ok", "nothing-new", *tolerate)}
    assert not bad, f"reconciles that did not end well: {bad}"
    blocks = check_no_overlap(cluster.portals)
    interleaved = {name: b for name, b in blocks.items() if len(b) > 2}
    assert not interleaved, f"more runs of calls than the interrupted run and its resumption: {interleaved}"
    return blocks


def taken_over(blocks: list[Block], origin: Host) -> bool:
    """The portal's calls began from ``origin`` and ended from another host."""
    return blocks[0].client == origin.address and blocks[-1].client != origin.address


def test_a_worker_killed_mid_reconcile_has_its_work_finished_by_another(make_cluster: Callable[..., Cluster]) -> None:
    cluster = make_cluster(portals=FAULT_PORTALS)
    workers = start_workers(cluster, cluster.network.hosts[:2])
    slow_portals(cluster)
    cluster.portals.clear_logs()
    workflows = trigger(cluster)
    victim, portal = busy_host(cluster, cluster.network.hosts[:2])
    workers[victim.name].send_signal(signal.SIGKILL)
    blocks = after_the_fault(cluster, workflows)
    assert taken_over(blocks[portal], victim), f"{portal}: {blocks[portal]}"
    check_exactly_once(cluster)
    slow_portals(cluster, 0.0)
    one_round(cluster)
    assert cluster.crm_writes() == 0, "a further round wrote to the CRM"


def test_a_host_cut_off_mid_reconcile_has_its_work_finished_by_another(make_cluster: Callable[..., Cluster]) -> None:
    cluster = make_cluster(portals=FAULT_PORTALS)
    start_workers(cluster, cluster.network.hosts[:2])
    slow_portals(cluster)
    cluster.portals.clear_logs()
    workflows = trigger(cluster)
    cut, portal = busy_host(cluster, cluster.network.hosts[:2])
    cut.link_down()
    blocks = after_the_fault(cluster, workflows)
    assert taken_over(blocks[portal], cut), f"{portal}: {blocks[portal]}"
    check_exactly_once(cluster)
    cut.link_up()  # the cut-off worker comes back: it must not write what the others already wrote
    time.sleep(5)
    slow_portals(cluster, 0.0)
    one_round(cluster)
    assert cluster.crm_writes() == 0, "a further round wrote to the CRM"
    check_exactly_once(cluster)


def test_a_postgres_restart_mid_run_loses_and_duplicates_nothing(make_cluster: Callable[..., Cluster]) -> None:
    cluster = make_cluster(portals=FAULT_PORTALS)
    workers = start_workers(cluster, cluster.network.hosts[:2])
    slow_portals(cluster)
    cluster.portals.clear_logs()
    workflows = trigger(cluster)
    busy_host(cluster, cluster.network.hosts[:2])
    cluster.pg.restart()
    # a reconcile whose store connection the restart cut may end in error; the next trigger completes it
    after_the_fault(cluster, workflows, tolerate=("error",))
    assert all(w.poll() is None for w in workers.values()), "a worker died with the restart"
    slow_portals(cluster, 0.0)
    one_round(cluster)
    check_exactly_once(cluster)
    one_round(cluster)
    assert cluster.crm_writes() == 0, "a further round wrote to the CRM"
