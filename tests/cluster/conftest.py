"""Fixtures of the multi-host suite: hosts in network namespaces, a PostgreSQL they reach, many portals.

* ``network`` (session): three hosts (``onboard_sync.testing.hosts``) on a private /24; the suite is
  skipped, with the reason, only where namespaces cannot be created (not root, no ``ip``).
* ``pg_server`` (session): a throwaway PostgreSQL on the network's gateway address that a test may
  restart (``onboard_sync.testing.pgserver``).
* ``cluster`` (``make_cluster`` for other sizes): twelve HubSpot sandbox portals on the gateway
  address, each with its own rate limit and latency, their CRM properties set up, and a config
  folder whose store is a new database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cluster_support import Cluster

from onboard_sync.testing import hosts, pgserver
from onboard_sync.testing.portals import Portals

PORTALS = 12


@pytest.fixture(scope="session")
def network() -> Iterator[hosts.HostNetwork]:
    reason = hosts.unavailable() or pgserver.unavailable()
    if reason:
        pytest.skip(reason)
    with hosts.HostNetwork(hosts=3) as net:
        yield net


@pytest.fixture(scope="session")
def pg_server(network: hosts.HostNetwork) -> Iterator[pgserver.PostgresServer]:
    with pgserver.PostgresServer(listen=network.gateway, trust=str(network.subnet)) as server:
        yield server


@pytest.fixture
def make_cluster(
    network: hosts.HostNetwork, pg_server: pgserver.PostgresServer, tmp_path: Path
) -> Iterator[Callable[..., Cluster]]:
    """``make_cluster(portals=12, deals=16)``: portals set up, a config folder, a new store database."""
    made: list[Cluster] = []

    def make(portals: int = PORTALS, deals: int = 16) -> Cluster:
        started = Portals.start(portals, host=network.gateway, deals=deals)
        store_url = pg_server.create_database(f"cluster_{uuid.uuid4().hex[:10]}")
        config = started.write_config(tmp_path / f"project{len(made)}", store_url)
        cluster = Cluster(network, pg_server, started, config, store_url)
        made.append(cluster)
        cluster.setup_crm()
        return cluster

    yield make
    for host in network:
        host.kill_all()
        host.link_up()
    for cluster in made:
        cluster.portals.stop()


@pytest.fixture
def cluster(make_cluster: Callable[..., Cluster]) -> Cluster:
    """Twelve portals (each its own rate limit and latency), set up, and a config with a new store."""
    return make_cluster()
