"""Many HubSpot sandbox portals in one child process, driven over a pipe: the scale-out bench's CRMs.

Like :mod:`bench.sandbox_proc` (whose per-sandbox commands it reuses: ``summary``, ``clear``,
``reset``, ``facts``, ``change`` ...; and ``enforce_limits``, ``tickets``), but the child serves ``count`` portals
(:class:`onboard_sync.testing.portals.Portals`) on one address, so that worker hosts in network
namespaces reach them and their CPU is not the bench's. ``procs("each", "summary")`` runs a command
on every portal and returns ``{instance: result}``; ``procs.cpu_seconds()`` is the child's CPU time.
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from bench.sandbox_proc import _COMMANDS, SandboxProcess, answer_commands


def _enforce_limits(sb: Any, enforce: bool) -> None:
    """Switch the portal's rate limit on or off (off while the bench sets the CRM up)."""
    sb.limits.burst.enforce = enforce
    sb.limits.reset()


def _tickets(sb: Any) -> int:
    """Tickets in the portal: the reconcile of a HubSpot instance pulls them too (health)."""
    return sum(1 for t in sb.backend.tickets.values() if not t.archived)


COMMANDS: dict[str, Any] = {**_COMMANDS, "enforce_limits": _enforce_limits, "tickets": _tickets}


@dataclass(frozen=True)
class PortalsSpec:
    count: int
    deals: int
    host: str
    latency: float
    rate_limit: tuple[int, float]
    seed: int = 100


def _on_every_portal(portals: Any, name: str, *args: Any) -> dict[str, Any]:
    """Command ``name`` run on every portal, by portal name."""
    return {n: COMMANDS[name](sb, *args) for n, sb in portals.items()}


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
        answer_commands(conn, lambda _command, args: _on_every_portal(portals, *args))
    finally:
        portals.stop()


class PortalsProcess(SandboxProcess):
    """The portals' child process; use as a context manager."""

    serve = staticmethod(_serve)

    def __init__(self, spec: PortalsSpec) -> None:
        super().__init__(spec)
        self.base_urls: dict[str, str] = {}

    def greeted(self, hello: dict[str, Any]) -> None:
        self.base_urls, self.secrets = hello["base_urls"], hello["secrets"]

    def each(self, command: str, *args: Any) -> dict[str, Any]:
        """Run the :mod:`bench.sandbox_proc` command ``command`` on every portal: ``{instance: result}``."""
        return dict(self("each", command, *args))

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
