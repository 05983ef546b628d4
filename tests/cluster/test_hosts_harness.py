"""The hosts harness itself: own addresses, a pulled cable, stale namespaces of dead runs removed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from onboard_sync.testing import hosts, pgserver
from onboard_sync.testing.pgserver import PostgresServer

ASK_ADDRESS = """
import sys, psycopg
try:
    with psycopg.connect(sys.argv[1], connect_timeout=2) as conn:
        print(conn.execute("select inet_client_addr()").fetchone()[0])
except psycopg.OperationalError:
    print("unreachable")
"""


def client_address(host: hosts.Host, pg: PostgresServer) -> str:
    dsn = pg.url().replace("postgresql+psycopg", "postgresql")
    done = host.run([sys.executable, "-c", ASK_ADDRESS, dsn], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_each_host_reaches_the_gateway_from_its_own_address_until_its_link_is_down(
    network: hosts.HostNetwork, pg_server: PostgresServer
) -> None:
    first, second = network.hosts[:2]
    assert client_address(first, pg_server) == first.address
    assert client_address(second, pg_server) == second.address
    second.link_down()
    try:
        assert client_address(second, pg_server) == "unreachable"
    finally:
        second.link_up()
    assert client_address(second, pg_server) == second.address


def test_namespaces_left_by_a_dead_run_are_removed() -> None:
    reason = hosts.unavailable()
    if reason:
        pytest.skip(reason)
    dead = subprocess.Popen(["true"])
    dead.wait()
    name = f"{hosts.PREFIX}{dead.pid:06x}0h1"
    hosts.ip("netns", "add", name)
    assert name in hosts.remove_stale()
    assert name not in hosts.ip("netns", "list")


def test_a_server_folder_left_by_a_dead_run_is_removed(pg_server: PostgresServer) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = Path(tempfile.mkdtemp(prefix=pgserver.FOLDER_PREFIX))
    (left / pgserver.OWNER_FILE).write_text(str(dead.pid), encoding="ascii")
    removed = pg_server.remove_stale()
    assert left in removed
    assert not left.exists()
    assert pg_server.folder is not None
    assert pg_server.folder.exists(), "the live run's own server was left alone"
