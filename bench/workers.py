"""``onboard-sync worker`` processes in benchmarks: wait for their first heartbeats, stop them.

Shared by the scale-out scenario (workers on network-namespace hosts) and ``handoff-workers``
(workers on this host).
"""

from __future__ import annotations

import signal
import subprocess


def wait_for_heartbeats(procs: list[subprocess.Popen[bytes]], store_url: str, logs: str) -> None:
    """Until every worker of ``procs`` has beaten into the store at ``store_url`` (180 s at most);
    a worker that exits first raises, pointing at ``logs``."""
    from onboard_sync.store import Store
    from onboard_sync.testing.hosts import wait_for

    def beating() -> bool:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited {proc.returncode}; see {logs}")
        with Store.open(store_url, read_only=True) as store:
            return len(store.workers()) >= len(procs)

    wait_for(beating, 180, f"{len(procs)} workers' first heartbeats", interval=0.2)


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each worker, then wait for it (killed after 30 s)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
