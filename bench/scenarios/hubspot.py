"""HubSpot scenarios: backfill, no-change and 1 %-changed incremental runs, and the naive script.

One sandbox process (Starter limits: 100 requests per rolling 10 s, search 5/s, 40 ms latency)
serves every run in order; each sync runs as ``onboard-sync sync --json`` in its own process.
Each row carries the API calls by endpoint against the lower bound and the engine's wall time
against the rate-limit bound (:mod:`bench.bounds`), and the run's peak RSS.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import bounds
from bench.measure import Measured, run_cli
from bench.naive import run_naive, work_from_store
from bench.sandbox_proc import SandboxProcess, SandboxSpec
from bench.scenarios import Scenario


def _project(folder: Path, sb: SandboxProcess) -> dict[str, str]:
    from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config

    write_demo_config(folder, sb.base_url)
    env = {TOKEN_ENV: sb.token}
    setup = run_cli(folder, env, "setup")
    if setup.returncode != 0:
        raise RuntimeError(f"onboard-sync setup failed: {setup.stderr}")
    sb("clear")
    return env


def _store(folder: Path) -> Any:
    from onboard_sync.runtime import load_runtime
    from onboard_sync.store import Store

    rt = load_runtime(folder / "config.toml")
    url = rt.config.store_url
    return Store.open(url)


def _writes_by_kind(folder: Path, run_id: int | None) -> dict[str, int]:
    """Tasks created and fields updated by run ``run_id``, from its audit rows (counted by the
    database: a million-deal backfill writes over a million of them)."""
    import sqlalchemy as sa

    from onboard_sync.runtime import load_runtime

    engine = sa.create_engine(load_runtime(folder / "config.toml").config.store_url)
    run = "run_id IS NULL" if run_id is None else "run_id = :run"  # SQLite and PostgreSQL alike
    query = sa.text(
        f"SELECT action, object_kind, count(*) FROM audit WHERE {run} AND outcome = 'ok' GROUP BY action, object_kind"
    )
    out = {"tasks": 0, "deals": 0, "companies": 0}
    try:
        with engine.connect() as conn:
            for action, kind, count in conn.execute(query, {"run": run_id}):
                if action == "create_task":
                    out["tasks"] += count
                elif action == "update_fields":
                    out["deals" if kind == "deal" else "companies"] += count
    finally:
        engine.dispose()
    return out


def _row(name: str, m: Measured, lower: dict[str, int], sandbox: dict[str, Any]) -> dict[str, Any]:
    calls = m.calls
    total = sum(calls.values())
    lb = sum(lower.values())
    rate_bound = bounds.rate_bound_seconds(lower)
    return {
        "scenario": name,
        "status": "ok" if m.returncode == 0 else f"exit {m.returncode}",
        "api_calls": total,
        "lower_bound": lb,
        "calls_ratio": round(total / lb, 3) if lb else None,
        "engine_s": round(m.engine_s, 2),
        "process_s": round(m.wall_s, 2),
        "rate_bound_s": round(rate_bound, 2),
        "time_ratio": round(m.engine_s / rate_bound, 3) if rate_bound else None,
        "writes": m.writes,
        "crm_write_requests": sandbox.get("writes"),
        "http_429": sandbox.get("status", {}).get("429", 0),
        "peak_rss_mb": round(m.peak_rss_mb, 1),
        "by_endpoint": calls,
        "lower_by_endpoint": lower,
        "retries": m.report.get("api_calls", {}).get("retries", 0),
        "stderr": m.stderr[-500:] if m.returncode else "",
    }


def _incremental(name: str, folder: Path, env: dict[str, str], sb: SandboxProcess) -> dict[str, Any]:
    with _store(folder) as store:
        cursor = store.get_cursor("hubspot", "deals")
        tracked = [o.deal_id for o in store.onboardings(source="hubspot")]
    from onboard_sync.runtime import load_runtime

    lookback = load_runtime(folder / "config.toml").config.core.lookback_minutes
    since_ms = int((cursor - timedelta(minutes=lookback)).timestamp() * 1000) if cursor else 0
    modified = sb("modified_since", since_ms, tracked)
    sb("clear")
    m = run_cli(folder, env, "sync", "--json")
    lower = bounds.incremental_lower_bound(modified, _writes_by_kind(folder, m.report.get("run_id")))
    row = _row(name, m, lower, sb("summary"))
    row["modified_deals_read"] = modified["deals"]
    return row


def hubspot_runs(ctx: Any) -> list[dict[str, Any]]:
    spec = SandboxSpec(deals=ctx.deals, latency=ctx.latency)
    rows: list[dict[str, Any]] = []
    with SandboxProcess(spec) as sb, tempfile.TemporaryDirectory(prefix="bench-hubspot-") as tmp:
        folder = Path(tmp)
        env = _project(folder, sb)
        facts = sb("facts")
        facts["tasks_with_key_before"] = facts["tasks_with_key"]
        ctx.log(f"backfill: {facts['deals']} deals, {facts['won']} won, latency {spec.latency * 1000:.0f} ms")
        m = run_cli(folder, env, "sync", "--json")
        writes = _writes_by_kind(folder, m.report.get("run_id"))
        lower = bounds.backfill_lower_bound(facts, writes)
        backfill = _row(f"backfill {facts['deals']:,} deals", m, lower, sb("summary"))
        backfill["facts"] = facts
        rows.append(backfill)

        ctx.log("incremental, nothing changed")
        rows.append(_incremental("incremental, no change", folder, env, sb))
        changed = sb("change", 0.01, 0.01, ctx.seed)
        ctx.log(f"incremental, 1 % changed: {changed}")
        row = _incremental("incremental, 1 % changed", folder, env, sb)
        row["changed"] = changed
        rows.append(row)

        # the naive script: same work, same sandbox settings, on a sample, extrapolated to every won deal
        with _store(folder) as store:
            work = work_from_store(store, "hubspot", ctx.naive_sample)
        sb("reset")
        _project(folder / "naive", sb)
        ctx.log(f"naive script on {len(work)} onboardings")
        naive = run_naive(sb.base_url, sb.token, work, facts["won"])
        summary = sb("summary")
        rows.append(
            {
                "scenario": "naive script (1 call per object)",
                "status": "ok",
                "api_calls": naive["calls"],
                "lower_bound": backfill["lower_bound"],
                "calls_ratio": round(naive["calls"] / backfill["lower_bound"], 2),
                "engine_s": naive["seconds"],
                "rate_bound_s": backfill["rate_bound_s"],
                "time_ratio": round(naive["seconds"] / backfill["rate_bound_s"], 2),
                "http_429": summary.get("status", {}).get("429", 0),
                "vs_onboard_sync": {
                    "calls": round(naive["calls"] / max(1, backfill["api_calls"]), 1),
                    "time": round(naive["seconds"] / max(0.001, backfill["engine_s"]), 1),
                },
                "naive": naive,
                "note": f"measured on {naive['sample_onboardings']} onboardings, extrapolated to {facts['won']}",
            }
        )
    return rows


SCENARIOS = [Scenario("hubspot", hubspot_runs, "backfill, incremental, naive script on the HubSpot sandbox")]
