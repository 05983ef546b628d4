"""A throwaway PostgreSQL server in a temp folder, reachable from the test hosts, that a test can restart.

Used by the multi-host tests (tests/cluster) and the scale-out bench: the machine's own PostgreSQL
listens on 127.0.0.1 only, which the network-namespace hosts of :mod:`onboard_sync.testing.hosts`
cannot reach, and a test must not restart a server others share. ::

    with PostgresServer(listen="10.213.4.1", trust="10.213.4.0/24") as pg:
        url = pg.create_database("cluster")  # postgresql+psycopg://postgres@10.213.4.1:PORT/cluster
        pg.restart()                          # every client connection is cut

It runs Debian's ``initdb``/``pg_ctl`` (``/usr/lib/postgresql/<version>/bin``, the newest) as the
``postgres`` user when started by root (PostgreSQL refuses to run as root), trust authentication for
the given network, durability off (``fsync``; a test server loses nothing to a process restart), and
short TCP keepalives so that the server notices within seconds a client whose host dropped off the
network and releases its session's advisory locks. Why our own rather than pytest-postgresql: that
plugin runs the server as the current user and cannot run it as ``postgres`` under root, which is
how CI runs; the lifecycle is four commands.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Self

import sqlalchemy as sa

SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "300",
    "tcp_keepalives_idle": "2",
    "tcp_keepalives_interval": "1",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "5000",
    "log_min_messages": "warning",
}


def bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb``, or ``None``."""
    found = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def unavailable() -> str | None:
    """Why a throwaway server cannot be started here, or ``None`` when it can."""
    if bin_dir() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a `postgres` user to run the server as"
    return None


class PostgresServer:
    """One PostgreSQL cluster listening on ``listen`` (a free port), trusting clients from ``trust``."""

    def __init__(self, listen: str = "127.0.0.1", trust: str = "127.0.0.1/32") -> None:
        self.listen = listen
        self.trust = trust
        self.port = 0
        self.folder: Path | None = None
        binaries = bin_dir()
        if binaries is None:
            raise RuntimeError(unavailable() or "no PostgreSQL binaries")
        self.bin = binaries

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            self._as_owner([str(self.bin / tool), *args]), capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            log = self.folder / "server.log" if self.folder else None
            tail = log.read_text(errors="replace")[-600:] if log and log.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stderr.strip()[-400:]}\n{tail}")
        return done.stdout

    def start(self) -> Self:
        self.folder = Path(tempfile.mkdtemp(prefix="onboard-sync-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N")
        self.port = _free_port(self.listen)
        conf = {**SETTINGS, "listen_addresses": f"'{self.listen}'", "port": str(self.port)}
        conf["unix_socket_directories"] = f"'{self.folder}'"
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as f:
            f.writelines(f"{k} = {v}\n" for k, v in conf.items())
        (self.data / "pg_hba.conf").write_text(
            f"local all all trust\nhost all all {self.trust} trust\nhost all all 127.0.0.1/32 trust\n",
            encoding="utf-8",
        )
        self._start()
        return self

    def _start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clients are disconnected) or ``immediate`` (as if it crashed)."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stop (``mode`` as in :meth:`stop`) and start again on the same port; every connection is cut."""
        self.stop(mode)
        self._start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{self.listen}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def close(self) -> None:
        """Stop the server (immediately) and delete its folder. Safe to call twice."""
        if self.folder is None:
            return
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


__all__ = ["PostgresServer", "bin_dir", "unavailable"]
