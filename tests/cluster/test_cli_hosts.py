"""Today's ``onboard-sync sync`` from cron on several hosts against one PostgreSQL store.

Every host starts a sync at the same moment, twice (a second trigger after people worked in the CRM):
the store's advisory run lock lets one through at a time, the others stop with the lock error (exit 2),
so in each round every portal is called by one host per sync that ran, never by two at overlapping
times, and the CRM ends with exactly one task per key. This proves the harness (hosts, their addresses
in the portals' request logs, the PostgreSQL they share) on the path that needs no worker.
"""

from __future__ import annotations

from collections.abc import Callable

from cluster_support import Cluster, check_exactly_once, check_no_overlap, finish, summary


def trigger_every_host(cluster: Cluster) -> int:
    """Start ``sync`` on every host at once; check the portals' logs; return how many syncs ran."""
    cluster.portals.clear_logs()
    results = finish([cluster.cli(host, "sync") for host in cluster.network])
    ran = [code for code, _ in results if code == 0]
    refused = [err for code, err in results if code == 2 and "lock" in err]
    assert len(ran) + len(refused) == len(results), summary(results)
    assert ran, summary(results)
    hosts = {h.address for h in cluster.network}
    for name, blocks in check_no_overlap(cluster.portals).items():
        assert {b.client for b in blocks} <= hosts, f"{name} was called from outside the hosts: {blocks}"
        assert 1 <= len(blocks) <= len(ran), f"{name}: {len(blocks)} runs of calls for {len(ran)} sync(s)"
    return len(ran)


def test_cron_syncs_on_three_hosts_take_turns_on_every_portal(make_cluster: Callable[..., Cluster]) -> None:
    cluster = make_cluster(portals=4)
    syncs = trigger_every_host(cluster)
    for _, sb in list(cluster.portals.items())[:2]:  # people at work between the triggers
        task = next(t for t in sb.backend.tasks.values() if t.properties.get("onboard_sync_key"))
        sb.backend.complete_task(task.id)
    syncs += trigger_every_host(cluster)
    check_exactly_once(cluster)
    with cluster.store() as store:
        assert len(store.runs(limit=100)) == syncs

    trigger_every_host(cluster)
    assert cluster.crm_writes() == 0, "a further round wrote to the CRM"
