"""Many HubSpot sandbox portals in one child process, driven over a pipe: the scale-out bench's CRMs.

Like :mod:`bench.sandbox_proc` (whose per-sandbox commands it reuses: ``summary``, ``clear``,
``reset``, ``facts``, ``change`` ...), but the child serves ``count`` portals
(:class:`onboard_sync.testing.portals.Portals`) on one address, so that worker hosts in network
namespaces reach them and their CPU is not the bench's. ``procs("each", "summary")`` runs a command
on every portal and returns ``{instance: result}``; ``procs.cpu_seconds()`` is the child's CPU time.
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.sandbox_proc import _COMMANDS


@dataclass(frozen=True)
class PortalsSpec:
    count: int
    deals: int
    host: str
    latency: float
    rate_limit: tuple[int, float]
    seed: int = 100


def _serve(spec: PortalsSpec, conn: Connection) -> None:
    from onboard_sync.testing.portals import Portals

    portals = Portals.start(
        spec.count,
        host=spec.host,
        deals=spec.deals,
        seed=spec.seed,
        spread=False,
        latency=spec.latency,
        rate_limit=spec.rate_limit,
    )
    conn.send({"base_urls": {n: sb.base_url for n, sb in portals.items()}, "secrets": portals.secrets()})
    try:
        while True:
            command, args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            try:
                name, *rest = args
                result = {n: _COMMANDS[name](sb, *rest) for n, sb in portals.items()}
                conn.send(("ok", result))
            except Exception as exc:  # report it to the parent, keep serving
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        portals.stop()


class PortalsProcess:
    """The portals' child process; use as a context manager."""

    def __init__(self, spec: PortalsSpec) -> None:
        self.spec = spec
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(spec, child), name="bench-portals", daemon=True)
        self.base_urls: dict[str, str] = {}
        self.secrets: dict[str, str] = {}

    def __enter__(self) -> PortalsProcess:
        self._proc.start()
        if not self._conn.poll(600):
            raise RuntimeError("the portals process did not start within 600 s")
        hello = self._conn.recv()
        self.base_urls, self.secrets = hello["base_urls"], hello["secrets"]
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send(("stop", ()))
            self._conn.poll(10)
        finally:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()

    def each(self, command: str, *args: Any) -> dict[str, Any]:
        """Run the :mod:`bench.sandbox_proc` command ``command`` on every portal: ``{instance: result}``."""
        self._conn.send(("each", (command, *args)))
        status, value = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"portals command {command} failed: {value}")
        return dict(value)

    def cpu_seconds(self) -> float:
        """User + system CPU time the child has used so far."""
        assert self._proc.pid is not None
        return process_cpu_seconds(self._proc.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process, all its threads (``/proc/PID/stat``)."""
    import os

    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


__all__ = ["PortalsProcess", "PortalsSpec", "process_cpu_seconds"]
