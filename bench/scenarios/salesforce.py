"""Salesforce scenarios: backfill, no-change and 1 %-changed incremental runs, and the naive script.

The HubSpot scenarios' shape on the Salesforce connector: one ``SalesforceSandbox`` (HTTPS on
loopback, 40 ms latency, ``ctx.deals`` Opportunities) in its own process serves every run in order;
each sync runs as ``onboard-sync sync --json`` in its own process. Rows carry the API calls by
endpoint against the lower bound of :mod:`bench.bounds` (reads of 2,000 records, Collections writes
of 200), the engine's time, and peak RSS. Salesforce limits requests per 24 hours, not per second:
there is no rate-limit bound; time is shown against ``latency × lower-bound calls`` (the connector
calls one at a time), as information. The naive script (:mod:`bench.naive_salesforce`) runs on a
sample and is extrapolated.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import bounds
from bench.measure import Measured, run_cli
from bench.naive import work_from_store
from bench.naive_salesforce import run_naive_salesforce
from bench.sandbox_proc import SandboxProcess, SandboxSpec
from bench.scenarios import Scenario
from bench.scenarios.hubspot import _store, _writes_by_kind

INSTANCE = "salesforce"
QUOTA_NOTE = "Salesforce: daily API quota, no per-second limit"


def _project(folder: Path, sb: SandboxProcess) -> dict[str, str]:
    from onboard_sync.cli.demo_crm import write_config

    table = "".join(f"{k} = {_toml(v)}\n" for k, v in sb.settings.items())
    write_config(folder, INSTANCE, table)
    setup = run_cli(folder, sb.secrets, "setup")
    if setup.returncode != 0:
        raise RuntimeError(f"onboard-sync setup failed: {setup.stderr}")
    sb("clear")
    return sb.secrets


def _toml(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _row(name: str, m: Measured, lower: dict[str, int], sandbox: dict[str, Any], latency: float) -> dict[str, Any]:
    calls = m.calls
    total = sum(calls.values())
    lb = sum(lower.values())
    floor = bounds.latency_bound_seconds(lower, latency)
    return {
        "scenario": name,
        "status": "ok" if m.returncode == 0 else f"exit {m.returncode}",
        "api_calls": total,
        "lower_bound": lb,
        "calls_ratio": round(total / lb, 3) if lb else None,
        "engine_s": round(m.engine_s, 2),
        "process_s": round(m.wall_s, 2),
        "process_cpu_s": round(m.cpu_s, 2),
        "latency_bound_s": round(floor, 2),
        "latency_ratio": round(m.engine_s / floor, 2) if floor else None,
        "note": QUOTA_NOTE,
        "writes": m.writes,
        "crm_write_requests": sandbox.get("writes"),
        "http_429": sandbox.get("status", {}).get("429", 0),
        "peak_rss_mb": round(m.peak_rss_mb, 1),
        "by_endpoint": calls,
        "lower_by_endpoint": lower,
        "vendor_usage": m.report.get("api_calls", {}).get("vendor_usage"),
        "retries": m.report.get("api_calls", {}).get("retries", 0),
        "stderr": m.stderr[-500:] if m.returncode else "",
    }


def _incremental(name: str, folder: Path, env: dict[str, str], sb: SandboxProcess, latency: float) -> dict[str, Any]:
    from onboard_sync.runtime import load_runtime

    with _store(folder) as store:
        cursor = store.get_cursor(INSTANCE, "deals")
        tickets = store.get_cursor(INSTANCE, "tickets")
        tracked = [o.deal_id for o in store.onboardings(source=INSTANCE)]
    lookback = load_runtime(folder / "config.toml").config.core.lookback_minutes
    since = (cursor - timedelta(minutes=lookback)).isoformat() if cursor else None
    cases_since = (tickets - timedelta(minutes=lookback)).isoformat() if tickets else None
    modified = sb("modified_since", since, tracked, cases_since)
    sb("clear")
    m = run_cli(folder, env, "sync", "--json")
    lower = bounds.salesforce_incremental_lower_bound(modified, _writes_by_kind(folder, m.report.get("run_id")))
    row = _row(name, m, lower, sb("summary"), latency)
    row["modified"] = modified
    return row


def salesforce_runs(ctx: Any) -> list[dict[str, Any]]:
    spec = SandboxSpec(deals=ctx.deals, latency=ctx.latency, crm="salesforce")
    rows: list[dict[str, Any]] = []
    with SandboxProcess(spec) as sb, tempfile.TemporaryDirectory(prefix="bench-salesforce-") as tmp:
        folder = Path(tmp)
        env = _project(folder, sb)
        facts = sb("facts")
        facts["tasks_with_key_before"] = facts["tasks_with_key"]
        ctx.log(f"salesforce backfill: {facts['deals']} opportunities, {facts['won']} won, {ctx.latency * 1000:.0f} ms")
        m = run_cli(folder, env, "sync", "--json")
        writes = _writes_by_kind(folder, m.report.get("run_id"))
        lower = bounds.salesforce_backfill_lower_bound(facts, writes)
        backfill = _row(f"salesforce backfill {facts['deals']:,} opps", m, lower, sb("summary"), ctx.latency)
        backfill["facts"] = facts
        rows.append(backfill)

        ctx.log("salesforce incremental, nothing changed")
        rows.append(_incremental("salesforce incremental, no change", folder, env, sb, ctx.latency))
        changed = sb("change", 0.01, 0.01, ctx.seed)
        ctx.log(f"salesforce incremental, 1 % changed: {changed}")
        row = _incremental("salesforce incremental, 1 % changed", folder, env, sb, ctx.latency)
        row["changed"] = changed
        rows.append(row)

        with _store(folder) as store:
            work = work_from_store(store, INSTANCE, ctx.naive_sample)
        sb("reset")
        _project(folder / "naive", sb)
        ctx.log(f"salesforce naive script on {len(work)} onboardings")
        naive = run_naive_salesforce(sb.settings, sb.secrets, work, facts["won"])
        rows.append(
            {
                "scenario": "salesforce naive (1 call per object)",
                "status": "ok",
                "api_calls": naive["calls"],
                "lower_bound": backfill["lower_bound"],
                "calls_ratio": round(naive["calls"] / backfill["lower_bound"], 2),
                "engine_s": naive["seconds"],
                "latency_bound_s": backfill["latency_bound_s"],
                "vs_onboard_sync": {
                    "calls": round(naive["calls"] / max(1, backfill["api_calls"]), 1),
                    "time": round(naive["seconds"] / max(0.001, backfill["engine_s"]), 1),
                },
                "naive": naive,
                "note": f"measured on {naive['sample_onboardings']} onboardings, extrapolated to {facts['won']}",
            }
        )
    return rows


SCENARIOS = [
    Scenario("salesforce-backfill", salesforce_runs, "backfill, incremental, naive script on the Salesforce sandbox")
]
