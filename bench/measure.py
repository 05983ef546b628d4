"""Running ``onboard-sync`` as a user does, in a child process, and measuring it.

``run_sync`` starts ``python -m onboard_sync.cli sync --json`` on a project folder and waits
for it with ``os.wait4`` so the peak RSS is that process's own (``ru_maxrss``), not the bench's
nor the sandbox's. Wall time is measured around the process (imports included) and the engine's
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
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **env}, cwd=project)
        deadline = start + timeout
        while True:
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
    return Measured(report, wall, engine, usage.ru_maxrss / 1024, proc.returncode, stderr[-4000:], cpu)


def _engine_seconds(report: dict[str, Any]) -> float:
    from datetime import datetime

    started, finished = report.get("started_at"), report.get("finished_at")
    if not started or not finished:
        return 0.0
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
