"""Running ``onboard-sync`` as a user does, in a child process, and measuring it.

``run_sync`` starts ``python -m onboard_sync.cli sync --json`` on a project folder and waits
for it, reading its ``VmHWM`` (peak RSS since its ``exec``) from ``/proc`` every 10 ms: that
process's own peak, not the bench's nor the sandbox's. Not ``ru_maxrss`` from ``os.wait4``: on
Linux a child's ``ru_maxrss`` also counts the memory of the parent it was forked from, before its
``exec`` (with ``vfork`` the parent's peak): after the bench had parsed a 100,000-deal run's JSON,
the million-deal sync "peaked" at 724-727 MB while its own high-water mark stayed under 200 MB.
Wall time is measured around the process (imports included) and the engine's
own time is read from the JSON report. Used by every scenario.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measured:
    """One measured run of the CLI."""

    report: dict[str, Any]
    wall_s: float
    engine_s: float
    peak_rss_mb: float
    returncode: int
    stderr: str = ""
    cpu_s: float = 0.0
    """User + system CPU time of the CLI process alone."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def calls(self) -> dict[str, int]:
        by_endpoint = self.report.get("api_calls", {}).get("by_endpoint", {})
        return {k.split(":", 1)[-1]: int(v) for k, v in by_endpoint.items()}

    @property
    def writes(self) -> dict[str, int]:
        return dict(self.report.get("writes", {}))


def run_cli(project: Path, env: dict[str, str], *args: str, timeout: float = 3600) -> Measured:
    """Run ``onboard-sync ARGS --config project/config.toml`` and measure it."""
    cmd = [sys.executable, "-m", "onboard_sync.cli", *args, "--config", str(project / "config.toml")]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        own_peak = 0
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **env}, cwd=project)
        deadline = start + timeout
        while True:
            own_peak = max(own_peak, vm_hwm_kib(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    report: dict[str, Any] = {}
    if "--json" in args and stdout.strip():
        try:
            report = json.loads(stdout)
        except json.JSONDecodeError:
            report = {"raw": stdout[-2000:]}
    engine = _engine_seconds(report)
    # Linux reports ru_maxrss in KiB
    cpu = usage.ru_utime + usage.ru_stime
    peak_kib = own_peak or usage.ru_maxrss  # no /proc (not Linux): the rusage figure
    return Measured(report, wall, engine, peak_kib / 1024, proc.returncode, stderr[-4000:], cpu)


def vm_hwm_kib(pid: int) -> int:
    """``VmHWM`` of process ``pid`` in KiB (0 if it cannot be read: gone, or no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _engine_seconds(report: dict[str, Any]) -> float:
    from datetime import datetime

    started, finished = report.get("started_at"), report.get("finished_at")
    if not started or not finished:
        return 0.0
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
