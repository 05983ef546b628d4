"""Memory: peak RSS of a backfill that pulls and evaluates N deals (20 % won), and its API calls.

Sizes: ``ctx.memory_sizes``: 10,000 and 100,000 (``--quick`` 2,000 and 10,000);
``python -m bench --only memory --memory-deals 1000000`` is issue 16's million-deal run (10,000,
100,000 and 1,000,000), which takes long: the sandbox seeds for a minute or two and holds about
8 GB. The sandbox runs in its own
process without latency or rate limits (memory, not speed, is measured here) and the sync in
another (``ru_maxrss`` of that process alone, via ``os.wait4``). The client's own rate limit is
lifted in the bench's config so the run is CPU-bound. Each row also carries the run's API calls
against the backfill's lower bound (:mod:`bench.bounds`): holding memory flat must not cost calls.
Targets: peak RSS of the largest run < 250 MB and ≤ 1.5× the smallest's; calls ≤ 1.10× the bound.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench import bounds
from bench.measure import run_cli
from bench.sandbox_proc import SandboxProcess, SandboxSpec
from bench.scenarios import Scenario
from bench.scenarios.hubspot import _writes_by_kind

UNLIMITED = 10_000
"""Requests per second the config allows at most: the client's own limit, lifted."""
RSS_LIMIT_MB = 250.0
"""Issue 16: peak RSS of a backfill of any size stays under this."""


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
                config.read_text() + f"requests_per_second = {UNLIMITED}\nsearch_requests_per_second = {UNLIMITED}\n"
            )
            env = {TOKEN_ENV: sb.token}
            run_cli(folder, env, "setup")
            sb("clear")
            facts = sb("facts")
            facts["tasks_with_key_before"] = facts["tasks_with_key"]
            ctx.log(f"memory: {facts['won']:,} won; syncing")
            m = run_cli(folder, env, "sync", "--json")
            lower = bounds.backfill_lower_bound(facts, _writes_by_kind(folder, m.report.get("run_id")))
            calls = sum(m.calls.values())
            rows.append(
                {
                    "scenario": f"memory {deals:,} deals",
                    "status": "ok" if m.returncode == 0 else f"exit {m.returncode}",
                    "deals": deals,
                    "won": facts["won"],
                    "api_calls": calls,
                    "lower_bound": sum(lower.values()),
                    "calls_ratio": round(calls / sum(lower.values()), 3),
                    "by_endpoint": m.calls,
                    "lower_by_endpoint": lower,
                    "engine_s": round(m.engine_s, 2),
                    "process_s": round(m.wall_s, 2),
                    "peak_rss_mb": round(m.peak_rss_mb, 1),
                    "rss_limit_mb": RSS_LIMIT_MB,
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


SCENARIOS = [Scenario("memory", memory_runs, "peak RSS and API calls, 10,000 deals vs --memory-deals (100,000)")]
