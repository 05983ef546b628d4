"""Fixtures of the multi-host suite: hosts in network namespaces, a PostgreSQL they reach, many portals.

* ``network`` (session): three hosts (``onboard_sync.testing.hosts``) on a private /24; the suite is
  skipped, with the reason, only where namespaces cannot be created (not root, no ``ip``).
* ``pg_server`` (session): a throwaway PostgreSQL on the network's gateway address that a test may
  restart (``onboard_sync.testing.pgserver``).
* ``cluster``: twelve HubSpot sandbox portals on the gateway address, each with its own rate limit
  and latency, their CRM properties set up, and a config folder whose store is a new database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
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
def cluster(network: hosts.HostNetwork, pg_server: pgserver.PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    portals = Portals.start(PORTALS, host=network.gateway, deals=16)
    try:
        store_url = pg_server.create_database(f"cluster_{uuid.uuid4().hex[:10]}")
        config = portals.write_config(tmp_path / "project", store_url)
        made = Cluster(network, pg_server, portals, config, store_url)
        made.setup_crm()
        yield made
    finally:
        for host in network:
            host.kill_all()
            host.link_up()
        portals.stop()
