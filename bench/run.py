"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print a table, write JSON.

Full run (default): HubSpot sandbox with 10,000 deals (~2,000 won), 40 ms latency, Starter
limits; the Salesforce sandbox with 10,000 Opportunities, 40 ms latency; naive scripts on 100
onboardings; memory at 10,000 and 100,000 deals (``--memory-deals N`` sets the larger size, and
above 100,000 adds it as a third);
webhook ingest of 200 batches of 100 events; CLI start-up (``--help``, ``status`` on the demo
store) over 9 runs each; handoff latency through ``serve`` on HubSpot and Salesforce (5 wins/s
plus 100 amount edits/s) and Zendesk ticket → health latency, for ``--handoff-seconds`` (default
20; the issue's run: 60), also through ``serve --receiver-only`` and two ``worker`` processes on
PostgreSQL (``handoff-workers``, ``ticket-health-workers``); scale-out over 1, 2 and 4 worker hosts
and one worker's capacity.
``--quick`` (CI): 2,000 deals, naive on 20, memory at 2,000 and 10,000, 50 webhook batches, 3 CLI
runs. Results go to ``bench/results/`` (git-ignored) as ``<UTC time>.json`` and ``latest.json``.

Targets checked (exit code 1 if one is missed): API calls ≤ 1.10 × lower bound (HubSpot and
Salesforce, and the memory runs), engine time ≤ 1.15 × rate-limit bound for the backfill and
≤ 1.10 × for the incremental runs (HubSpot; Salesforce has a daily quota, no per-second bound),
zero writes when nothing changed, peak RSS of the larger memory run ≤ 1.5× the smaller's (flat
beyond the working set) and under 250 MB, webhook ingest at concurrency 1 ≥ 1,000 events/s,
p99 ack < 100 ms at concurrency 1 and 10, every event sent in the inbox at the end (both
concurrencies), a median start of ``--help`` and ``status`` under 0.3 s, 4 worker hosts ≥ 3.2×
faster than 1 and ≥ 1,000 portals kept current per worker (:mod:`bench.scenarios.scale_out`),
handoff p99 stage change → first task < 5 s and → phase field < 10 s, zero 429s, calls ≤ 1.2 ×
the lower bound of the reconciles run, and ticket → health field p99 < 15 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
CALLS_TARGET, TIME_TARGET, RSS_TARGET = 1.10, 1.15, 1.5
INCREMENTAL_TIME_TARGET = 1.10
"""Issue 16: HubSpot incremental runs (no change, 1 % changed) within 1.10× their rate-limit bound."""
EVENTS_PER_S_TARGET, ACK_P99_MS_TARGET = 1_000, 100.0
SPEEDUP_TARGET, CAPACITY_TARGET = 3.2, 1_000
"""scale-out: 4 worker hosts in ≤ 1/3.2 of the time of 1; one worker keeps ≥ 1,000 portals current."""


@dataclass
class Context:
    deals: int
    latency: float
    naive_sample: int
    memory_sizes: tuple[int, ...]
    webhook_batches: int = 200
    cli_runs: int = 9
    handoff_seconds: float = 20.0
    quick: bool = False
    seed: int = 6
    quiet: bool = False
    started: float = field(default_factory=time.perf_counter)

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.started:7.1f}s] {message}", file=sys.stderr, flush=True)


def memory_sizes(quick: bool, largest: int | None) -> tuple[int, ...]:
    """Deals of the memory runs: 10,000 (quick 2,000) and ``largest`` (default 100,000, quick 10,000),
    with 100,000 between them when ``largest`` is more (issue 16's million-deal run shows three sizes)."""
    smallest, largest = (2_000, largest or 10_000) if quick else (10_000, largest or 100_000)
    return (smallest, 100_000, largest) if largest > 100_000 else (smallest, largest)


def check_targets(rows: list[dict[str, Any]]) -> list[str]:
    """The targets each row is held to; returns the misses."""
    misses = []
    memory_rows = [row for row in rows if "rss_limit_mb" in row]
    for row in rows:
        name = row["scenario"]
        if row.get("status") not in ("ok", "not available"):
            misses.append(f"{name}: {row.get('status')}")
        if "events_per_s" in row:
            row["targets"] = {"durable": row["inbox_rows"] == row["events_sent"]}
            row["targets"]["p99"] = row["ack_p99_ms"] < ACK_P99_MS_TARGET  # at 1 and at 10 (issue 16)
            if row.get("concurrency") == 1:  # events/s at concurrency 10 is reported as information
                row["targets"]["events_per_s"] = row["events_per_s"] >= EVENTS_PER_S_TARGET
            misses += [f"{name}: {k}" for k, ok in row["targets"].items() if not ok]
        if name.removeprefix("salesforce ").startswith(("backfill", "incremental")):
            row["targets"] = {}
            if row.get("calls_ratio") is not None:
                row["targets"]["calls"] = row["calls_ratio"] <= CALLS_TARGET
            if name.startswith("backfill") and row.get("time_ratio") is not None:
                row["targets"]["time"] = row["time_ratio"] <= TIME_TARGET
            if name.startswith("incremental") and row.get("time_ratio") is not None:
                row["targets"]["time"] = row["time_ratio"] <= INCREMENTAL_TIME_TARGET
            if name.endswith("no change"):
                row["targets"]["zero_writes"] = sum(row["writes"].values()) == 0 and row["crm_write_requests"] == 0
            misses += [f"{name}: {k}" for k, ok in row["targets"].items() if not ok]
        if "target_s" in row:
            row["targets"] = {"start": row["startup_s"] < row["target_s"]}
            if not row["targets"]["start"]:
                misses.append(f"{name}: median start {row['startup_s']} s (target < {row['target_s']} s)")
        if "first_task" in row or "health_field" in row:  # handoff, ticket health: the scenario sets its targets
            misses += [f"{name}: {k}" for k, ok in row["targets"].items() if not ok]
        if "speedup" in row:
            row["targets"] = {"speedup": row["speedup"] >= SPEEDUP_TARGET}
            misses += [f"{name}: {row['speedup']}× < {SPEEDUP_TARGET}×"] if row["speedup"] < SPEEDUP_TARGET else []
        if "capacity_portals" in row:
            row["targets"] = {"capacity": row["capacity_portals"] >= CAPACITY_TARGET}
            if row["capacity_portals"] < CAPACITY_TARGET:
                misses.append(f"{name}: {row['capacity_portals']} portals < {CAPACITY_TARGET}")
        if "rss_limit_mb" in row:
            row["targets"] = {"calls": row["calls_ratio"] <= CALLS_TARGET}
            if row is memory_rows[-1]:
                row["targets"]["rss_limit"] = row["peak_rss_mb"] < row["rss_limit_mb"]
                if not row["targets"]["rss_limit"]:
                    misses.append(f"{name}: peak RSS {row['peak_rss_mb']} MB (target < {row['rss_limit_mb']} MB)")
            if not row["targets"]["calls"]:
                misses.append(f"{name}: calls")
        if "rss_growth_vs_smallest" in row:
            ok = row["rss_growth_vs_smallest"] <= RSS_TARGET
            row.setdefault("targets", {})["rss_flat"] = ok
            if not ok:
                grew, deals = row["rss_growth_vs_smallest"], row["deals_growth_vs_smallest"]
                misses.append(f"{name}: peak RSS grew {grew}× for {deals}× deals")
    return misses


def table(rows: list[dict[str, Any]]) -> str:
    head = ("scenario", "API calls", "lower bd", "×", "time s", "rate bd s", "×", "writes", "429s", "RSS MB", "targets")
    lines = [head]
    for r in rows:
        if r.get("status") == "not available":
            lines.append((r["scenario"], "—", "", "", "", "", "", "", "", "", f"not available: {r.get('note', '')}"))
            continue
        writes = r.get("writes")
        w = f"{writes.get('created', 0)}+{writes.get('updated', 0)}" if isinstance(writes, dict) else ""
        targets = r.get("targets") or {}
        mark = " ".join(f"{k}:{'ok' if v else 'MISS'}" for k, v in targets.items())
        if "latency_bound_s" in r and "vs_onboard_sync" not in r:
            mark += f" ({r['note']}; time {r['latency_ratio']}× latency × calls = {r['latency_bound_s']} s)"
        if "events_per_s" in r:
            mark = (
                f"{r['events_per_s']:,.0f} events/s, ack p50 {r['ack_p50_ms']} ms, p99 {r['ack_p99_ms']} ms, "
                f"{r['inbox_rows']:,}/{r['events_sent']:,} in inbox; {mark}"
            )
        if "startup_s" in r:
            mark = (
                f"start {r['startup_s']} s median ({r['fastest_s']} fastest, CPU {r['cpu_s']} s), "
                f"{r['vs_python']}× python -c pass ({r['baseline_s']} s); {mark}"
            )
        if "first_task" in r:
            t, p = r["first_task"], r["phase_field"]
            mark = (
                f"{r['won_deals']} won; first task p50/p95/p99 {t['p50_s']}/{t['p95_s']}/{t['p99_s']} s, "
                f"phase {p['p50_s']}/{p['p95_s']}/{p['p99_s']} s; {mark}"
            )
        if "health_field" in r:
            h = r["health_field"]
            quantiles = f"{h['p50_s']}/{h['p95_s']}/{h['p99_s']}"
            mark = f"{r['customers']} customers; health field p50/p95/p99 {quantiles} s; {mark}"
        if "speedup" in r or "capacity_portals" in r or "hosts" in r:
            mark = f"{mark} ({r['note']})" if mark else r["note"]
        if "speedup" in r:
            mark = f"{r['speedup']}× faster, {r['time_fraction']} of the time; {mark}"
        if "capacity_portals" in r:
            mark = f"{r['capacity_portals']:,} portals per worker; {mark}"
        if "vs_onboard_sync" in r:
            v = r["vs_onboard_sync"]
            mark = f"{v['calls']}× calls, {v['time']}× time of onboard-sync ({r['note']})"
        lines.append(
            (
                r["scenario"],
                _fmt(r.get("api_calls")),
                _fmt(r.get("lower_bound")),
                _fmt(r.get("calls_ratio")),
                _fmt(r.get("engine_s")),
                _fmt(r.get("rate_bound_s")),
                _fmt(r.get("time_ratio")),
                w,
                _fmt(r.get("http_429")),
                _fmt(r.get("peak_rss_mb")),
                mark,
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head) - 1)]
    out = []
    for n, line in enumerate(lines):
        cells = [str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(line[:-1])]
        out.append("  ".join(cells) + "  " + str(line[-1]))
        if n == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized run (a few minutes)")
    parser.add_argument(
        "--only",
        nargs="*",
        help="scenario names (hubspot, memory, webhook-ingest, salesforce-backfill, cli, handoff, scale-out)",
    )
    parser.add_argument(
        "--deals", type=int, help="deals in the HubSpot and Salesforce sandboxes (default 10,000; quick 2,000)"
    )
    parser.add_argument(
        "--handoff-seconds", type=float, default=20.0, help="length of the handoff load (the issue's full run: 60)"
    )
    parser.add_argument(
        "--memory-deals",
        type=int,
        help="deals in the largest memory run (default 100,000; quick 10,000; issue 16's figure: 1000000, "
        "which takes long and about 8 GB for the sandbox)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)

    from bench.scenarios import all_scenarios

    ctx = Context(
        deals=args.deals or (2_000 if args.quick else 10_000),
        latency=0.04,
        naive_sample=20 if args.quick else 100,
        memory_sizes=memory_sizes(args.quick, args.memory_deals),
        webhook_batches=50 if args.quick else 200,
        cli_runs=3 if args.quick else 9,
        handoff_seconds=args.handoff_seconds,
        quick=args.quick,
    )
    rows: list[dict[str, Any]] = []
    for scenario in all_scenarios():
        if args.only and scenario.name not in args.only:
            continue
        ctx.log(f"scenario {scenario.name}: {scenario.description}")
        rows += scenario.run(ctx)
    misses = check_targets(rows)
    text = table(rows)
    print(text)
    print("\ntargets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "command": "python -m bench" + (" --quick" if args.quick else ""),
        "at": stamp,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": _cpus()},
        "settings": {
            "deals": ctx.deals,
            "latency_s": ctx.latency,
            "rate_limit": "HubSpot 100 per 10 s, search 5/s; Salesforce daily quota only",
            "webhook_batches": ctx.webhook_batches,
        },
        "rows": rows,
        "targets_missed": misses,
        "table": text,
    }
    for name in (f"{stamp}.json", "latest.json"):
        (args.out / name).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(f"results: {args.out / (stamp + '.json')}", file=sys.stderr)
    return 1 if misses else 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    raise SystemExit(main())
