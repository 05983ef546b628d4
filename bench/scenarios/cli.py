"""CLI start-up: ``onboard-sync --help`` and ``onboard-sync status`` on the demo store, as whole processes.

The demo (``onboard-sync demo --dir``: 400 deals on the HubSpot sandbox, a few syncs) writes the
store once; then each command runs ``ctx.cli_runs`` times (``--quick``: 3) in a fresh process,
alternating with ``python -c pass`` measured in the same run (the interpreter's own start, the
baseline the figures are read against). The console script is what runs (``onboard-sync`` next to
the interpreter; ``python -m onboard_sync.cli`` without one). One warm-up run of each comes first
and ``PYTHONDONTWRITEBYTECODE`` is dropped from the children's environment, so modules load from
bytecode as in an installed package (an editable checkout compiles every module from source on
each start otherwise). Rows: median and fastest wall time, median CPU time (user + system, via
``os.wait4``: less sensitive to a busy machine than wall time), and the ratio to ``python -c
pass``. Target: median wall time < 0.3 s for each command.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scenarios import Scenario

START_TARGET_S = 0.3


def _command() -> list[str]:
    script = Path(sys.executable).with_name("onboard-sync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "onboard_sync.cli"]


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` (which must exit 0)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}: {stderr[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def cli_runs(ctx: Any) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["COLUMNS"] = "100"
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        folder = Path(tmp) / "demo"
        ctx.log("cli: writing the demo store (onboard-sync demo)")
        demo = subprocess.run(
            [*_command(), "demo", "--dir", str(folder)], env=env, cwd=tmp, capture_output=True, text=True
        )
        if demo.returncode != 0:
            raise RuntimeError(f"onboard-sync demo failed: {demo.stderr[-2000:]}")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "onboard-sync --help": [*_command(), "--help"],
            "onboard-sync status (demo store)": [*_command(), "status", "--config", str(folder / "config.toml")],
        }
        for cmd in commands.values():  # warm-up: bytecode written, the CEL parser tables cached
            timed(cmd, env, folder)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        ctx.log(f"cli: {ctx.cli_runs} runs of each command, interleaved")
        for _ in range(ctx.cli_runs):
            for name, cmd in commands.items():
                samples[name].append(timed(cmd, env, folder))
    baseline = statistics.median(wall for wall, _ in samples["python -c pass"])
    rows = []
    for name, runs in samples.items():
        walls = [wall for wall, _ in runs]
        median = statistics.median(walls)
        row: dict[str, Any] = {
            "scenario": f"cli: {name}",
            "status": "ok",
            "runs": len(runs),
            "startup_s": round(median, 3),
            "fastest_s": round(min(walls), 3),
            "cpu_s": round(statistics.median(cpu for _, cpu in runs), 3),
            "baseline_s": round(baseline, 3),
            "vs_python": round(median / baseline, 1) if baseline else None,
        }
        if name != "python -c pass":
            row["target_s"] = START_TARGET_S
        rows.append(row)
    return rows


SCENARIOS = [Scenario("cli", cli_runs, "start-up of `--help` and `status` against `python -c pass`")]
