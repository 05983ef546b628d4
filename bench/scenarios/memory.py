"""Memory: peak RSS of a backfill that pulls and evaluates N deals, for N = 10,000 and 100,000.

The sandbox runs in its own process without latency or rate limits (memory, not speed, is
measured here) and the sync in another (``ru_maxrss`` of that process alone, via ``os.wait4``).
The client's own rate limit is lifted in the bench's config so the run is CPU-bound.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.measure import run_cli
from bench.sandbox_proc import SandboxProcess, SandboxSpec
from bench.scenarios import Scenario


def memory_runs(ctx: Any) -> list[dict[str, Any]]:
    from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config

    rows = []
    for deals in ctx.memory_sizes:
        spec = SandboxSpec(deals=deals, latency=0.0, rate_limit=None, search_rate=None)
        ctx.log(f"memory: backfill of {deals:,} deals, no limits")
        with SandboxProcess(spec) as sb, tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            folder = Path(tmp)
            config = write_demo_config(folder, sb.base_url)
            config.write_text(
                config.read_text() + "requests_per_second = 100000\nsearch_requests_per_second = 100000\n"
            )
            env = {TOKEN_ENV: sb.token}
            run_cli(folder, env, "setup")
            facts = sb("facts")
            m = run_cli(folder, env, "sync", "--json")
            rows.append(
                {
                    "scenario": f"memory {deals:,} deals",
                    "status": "ok" if m.returncode == 0 else f"exit {m.returncode}",
                    "deals": deals,
                    "won": facts["won"],
                    "api_calls": sum(m.calls.values()),
                    "engine_s": round(m.engine_s, 2),
                    "process_s": round(m.wall_s, 2),
                    "peak_rss_mb": round(m.peak_rss_mb, 1),
                    "writes": m.writes,
                    "stderr": m.stderr[-500:] if m.returncode else "",
                }
            )
    if len(rows) >= 2:
        small, large = rows[0], rows[-1]
        growth = large["peak_rss_mb"] / max(small["peak_rss_mb"], 1)
        large["rss_growth_vs_smallest"] = round(growth, 2)
        large["deals_growth_vs_smallest"] = round(large["deals"] / small["deals"], 1)
    return rows


SCENARIOS = [Scenario("memory", memory_runs, "peak RSS, 10,000 vs 100,000 deals")]
