"""Handoff latency: how long after a rep marks a deal closed-won its tasks and phase field appear in the CRM.

The HubSpot sandbox (its own process, 2,000 deals, 40 ms latency, Starter limits: 100 requests per
rolling 10 s, search 5/s) is backfilled once by ``onboard-sync sync``; then ``onboard-sync serve``
runs (:class:`bench.webhook_ack.ServeProcess`: receiver plus worker process, as a user runs it) and
the sandbox delivers signed webhooks to it as HubSpot does (``deal.creation``, ``deal.deletion``,
``deal.propertyChange`` for ``dealstage`` and ``amount``: batches of up to 100, v1 and v3 signatures,
retries). The load (:mod:`bench.handoff_load`, inside the sandbox process): ``won_per_s`` open deals
a second move to closed-won, and ``other_per_s`` edits a second change the amount of other open
deals, for ``seconds`` (default 20 s; ``--handoff-seconds 60`` for the full minute of the issue).

Per won deal the sandbox stamps the stage change, the creation of its first task and the first
write of its phase field; the row reports p50/p95/p99/max of both latencies (deals still without
one ``drain`` seconds after the load count as that long, and are counted in ``missing``), the 429s
the sandbox answered, and the API calls per won deal against the lower bound of the reconciles the
worker ran (:func:`bench.bounds.webhook_reconcile_lower_bound`). Targets: p99 to first task < 5 s,
to phase field < 10 s, zero 429s, calls ≤ 1.2 × the lower bound.

``handoff-workers`` runs the same HubSpot load through the engine as a platform team deploys it
(docs/deploying.md, "Beyond one machine"): the store on PostgreSQL (a throwaway schema of the local
server), ``onboard-sync serve --receiver-only`` persisting each delivery and enqueueing its reconcile,
and ``WORKERS`` separate ``onboard-sync worker`` processes draining the queue. Same targets.
``ticket-health`` (``serve``) and ``ticket-health-workers`` (the same receiver + workers) time a
Zendesk ticket change to the HubSpot deal's health reasons written; target p99 < 15 s.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import bounds
from bench.sandbox_proc import SandboxProcess, SandboxSpec
from bench.scenarios import Scenario
from bench.scenarios.hubspot import _project, _store, _writes_by_kind
from bench.scenarios.salesforce import _project as salesforce_project
from bench.webhook_ack import SECRET_ENV, ServeProcess
from bench.workers import stop_workers, wait_for_heartbeats

SECRET = "bench-handoff-secret"
DEALS = 2_000
SUBSCRIBED = ["dealstage", "amount"]
DRAIN_S = 30.0
WORKERS = 2
"""``onboard-sync worker`` processes in ``handoff-workers`` (``--concurrency 2`` each)."""
FIRST_TASK_TARGET_S, PHASE_TARGET_S, CALLS_TARGET = 5.0, 10.0, 1.2


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def latency_summary(latencies: list[float | None], missing_as: float) -> dict[str, Any]:
    """p50/p95/p99/max of ``latencies`` in seconds; ``None`` (never happened) counts as ``missing_as``."""
    values = [missing_as if v is None else v for v in latencies]
    return {
        "p50_s": round(percentile(values, 0.50), 2),
        "p95_s": round(percentile(values, 0.95), 2),
        "p99_s": round(percentile(values, 0.99), 2),
        "max_s": round(max(values, default=0.0), 2),
        "missing": sum(1 for v in latencies if v is None),
    }


def _reconciles_since(folder: Path, since: datetime, crm: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The runs ``serve``'s worker recorded since ``since``, each with its lower bound; and their calls."""
    with _store(folder) as store:
        runs = [r for r in store.runs(limit=10_000) if r.started_at.replace(tzinfo=UTC) >= since]
    out, calls = [], {}
    bound = bounds.webhook_reconcile_lower_bound
    if crm == "salesforce":
        bound = bounds.salesforce_webhook_reconcile_lower_bound
    for run in runs:
        instance = run.report.get("connectors", {}).get(crm, {})
        evaluated = int(instance.get("onboardings_evaluated", 0))
        lower = bound(evaluated, _writes_by_kind(folder, run.id))
        for endpoint, count in instance.get("api_calls", {}).get("by_endpoint", {}).items():
            key = endpoint.split(":", 1)[-1]
            calls[key] = calls.get(key, 0) + int(count)
        out.append(
            {
                "run_id": run.id,
                "evaluated": evaluated,
                "calls": int(instance.get("api_calls", {}).get("total", 0)),
                "lower_bound": sum(lower.values()),
                "lower": lower,
            }
        )
    return out, calls


def handoff_hubspot(ctx: Any) -> list[dict[str, Any]]:
    return [handoff_run(ctx, "hubspot")]


def handoff_salesforce(ctx: Any) -> list[dict[str, Any]]:
    return [handoff_run(ctx, "salesforce")]


def _without_postgres(scenario: str) -> list[dict[str, Any]] | None:
    """The row of a receiver + workers scenario that cannot run here (no local PostgreSQL), else None."""
    from onboard_sync.testing.postgres import pg_unreachable

    reason = pg_unreachable()
    return [{"scenario": scenario, "status": "not available", "reason": reason}] if reason else None


def handoff_workers(ctx: Any) -> list[dict[str, Any]]:
    return _without_postgres("handoff, HubSpot, receiver + workers") or [handoff_run(ctx, "hubspot", workers=WORKERS)]


def handoff_run(ctx: Any, crm: str, workers: int = 0) -> dict[str, Any]:
    """One load on ``crm``'s sandbox (``hubspot`` or ``salesforce``) through ``serve``: the table row.
    With ``workers``, the store is on PostgreSQL and ``serve --receiver-only`` hands every reconcile to
    that many ``onboard-sync worker`` processes."""
    seconds, won_per_s, other_per_s = ctx.handoff_seconds, 5.0, 100.0
    spec = SandboxSpec(deals=DEALS, latency=ctx.latency, crm=crm)
    with ExitStack() as stack:
        sb = stack.enter_context(SandboxProcess(spec))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-handoff-{crm}-")))
        env = salesforce_project(folder, sb) if crm == "salesforce" else {**_project(folder, sb), SECRET_ENV: SECRET}
        if workers:
            _use_postgres(folder, stack)
        ctx.log(f"handoff, {crm}: backfill of {DEALS:,} deals before serve starts")
        from bench.measure import run_cli

        backfill = run_cli(folder, env, "sync", "--json")
        if backfill.returncode != 0:
            raise RuntimeError(f"backfill failed: {backfill.stderr}")
        worker_procs = stack.enter_context(_workers(folder, env, workers)) if workers else []
        serve_args = ["--receiver-only"] if workers else []
        with ServeProcess(folder, env, extra_args=serve_args) as serve:
            _wait_ready(serve.url, want="engine" if workers else "running")
            sb("handoff_subscribe", f"{serve.url}/webhooks/{crm}", SECRET, SUBSCRIBED)
            sb("clear")  # request log and rate-limit windows: the load starts on a fresh budget
            since = datetime.now(UTC)
            planned = sb("handoff_start", won_per_s, other_per_s, seconds, ctx.seed)
            ctx.log(f"handoff: {won_per_s:g} won/s and {other_per_s:g} amount edits/s for {seconds:g} s: {planned}")
            result = _wait(sb, seconds)
            elapsed = (datetime.now(UTC) - since).total_seconds()
            summary = sb("summary")
            sb("handoff_stop")
            sb("handoff_unsubscribe")
        reconciles, calls_by_endpoint = _reconciles_since(folder, since, crm)
        worker_exits = [p.poll() for p in worker_procs]
    deals = result["deals"]
    won = len(deals)
    lower = sum(r["lower_bound"] for r in reconciles)
    calls = summary["requests"]
    ok = serve.returncode in (0, -signal.SIGTERM) and result["finished"] and worker_exits.count(None) == workers
    first_task = latency_summary([d["first_task_s"] for d in deals.values()], DRAIN_S + seconds)
    phase = latency_summary([d["phase_s"] for d in deals.values()], DRAIN_S + seconds)
    row = {
        "scenario": f"handoff, {'Salesforce' if crm == 'salesforce' else 'HubSpot'}"
        + (", receiver + workers" if workers else ""),
        "status": "ok"
        if ok
        else f"serve exit {serve.returncode}, workers {worker_exits}, load finished {result['finished']}",
        "topology": f"serve --receiver-only + {workers} workers, PostgreSQL store" if workers else "serve",
        "won_deals": won,
        "other_changes": result["other_changes"],
        "load": f"{won_per_s:g} won/s + {other_per_s:g} edits/s for {seconds:g} s",
        "first_task": first_task,
        "phase_field": phase,
        "api_calls": calls,
        "lower_bound": lower,
        "calls_ratio": round(calls / lower, 3) if lower else None,
        "calls_per_won_deal": round(calls / won, 2) if won else None,
        "calls_per_s": round(calls / elapsed, 2) if elapsed else None,
        "http_429": summary.get("status", {}).get("429", 0),
        "reconciles": len(reconciles),
        "by_endpoint": calls_by_endpoint,
        "per_reconcile": reconciles,
        "first_task_in_win_order_s": [d["first_task_s"] for d in deals.values()],
        "deliveries": "Outbound Messages on stage changes" if crm == "salesforce" else "HubSpot webhooks",
        "peak_rss_mb": round(serve.peak_rss_mb, 1),
        "stderr": serve.stderr()[-800:] if not ok else "",
    }
    row["targets"] = {
        "first_task_p99": first_task["p99_s"] < FIRST_TASK_TARGET_S and not first_task["missing"],
        "phase_p99": phase["p99_s"] < PHASE_TARGET_S and not phase["missing"],
        "no_429": row["http_429"] == 0,
        "calls": row["calls_ratio"] is not None and row["calls_ratio"] <= CALLS_TARGET,
    }
    return row


def _wait_ready(url: str, want: str = "running", timeout: float = 120.0) -> None:
    """Until ``serve``'s ``/healthz`` reports its worker as ``want``: ``running`` once its embedded worker
    has warmed up, ``engine`` when a receiver hands reconciles to ``onboard-sync worker`` processes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/healthz", timeout=5).json().get("worker") == want:
            return
        time.sleep(0.1)
    raise RuntimeError(f"serve's worker did not report {want!r} within {timeout:g} s")


def _use_postgres(folder: Path, stack: ExitStack) -> None:
    """Point the project's store at a new schema of the local PostgreSQL (dropped when ``stack`` closes)."""
    from onboard_sync.testing.postgres import SchemaFactory

    schemas = SchemaFactory()
    stack.callback(schemas.close)
    config = folder / "config.toml"
    text = config.read_text(encoding="utf-8")
    line = 'store = "sqlite:///onboard-sync.db"\n'
    if line not in text:
        raise RuntimeError(f"{config}: no {line.strip()!r} line to point at PostgreSQL")
    config.write_text(text.replace(line, f'store = "{schemas()}"\n', 1), encoding="utf-8")


@contextmanager
def _workers(folder: Path, env: dict[str, str], count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``onboard-sync worker`` processes, yielded once each has beaten into the store; SIGTERM after."""
    import os

    from onboard_sync.runtime import load_runtime

    argv = [sys.executable, "-m", "onboard_sync.cli", "worker", "--config", str(folder / "config.toml")]
    argv += ["--concurrency", "2", "--grace", "5"]
    procs = []
    try:
        for n in range(count):
            log = (folder / f"worker{n}.log").open("ab")
            procs.append(
                subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=folder, env={**os.environ, **env})
            )
        wait_for_heartbeats(procs, load_runtime(folder / "config.toml").config.store_url, f"{folder}/worker*.log")
        yield procs
    finally:
        stop_workers(procs)


def _wait(sb: SandboxProcess, seconds: float) -> dict[str, Any]:
    """Poll until the load ended and every won deal has a task and a phase, or ``DRAIN_S`` after the end."""
    deadline = time.monotonic() + seconds + DRAIN_S
    while True:
        result = sb("handoff_result")
        done = result["finished"] and all(
            d["first_task_s"] is not None and d["phase_s"] is not None for d in result["deals"].values()
        )
        if done or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


ZD_TOKEN_ENV, ZD_SECRET_ENV, ZD_SECRET = "ZENDESK_API_TOKEN", "ZENDESK_WEBHOOK_SECRET", "bench-zendesk-secret"
HEALTH_TARGET_S = 15.0
TICKET_INTERVAL_S = 2.0


def _helpdesk_project(folder: Path, sb: SandboxProcess, stack: ExitStack | None = None) -> dict[str, str]:
    """The HubSpot demo project plus a ``[connectors.zendesk]`` linked to it; set up and backfilled.
    With ``stack``, its store is a throwaway PostgreSQL schema (dropped when ``stack`` closes)."""
    from bench.measure import run_cli
    from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config

    write_demo_config(folder, sb.base_url)
    config = folder / "config.toml"
    # tickets count from their creation (they are opened four days back), as for a customer watched since
    text = config.read_text(encoding="utf-8").replace("[onboard_sync]\n", '[onboard_sync]\ncatch_up = "replay"\n', 1)
    zd = sb.zendesk
    text += (
        f'\n[connectors.zendesk]\ntype = "zendesk"\nbase_url = "{zd["base_url"]}"\nemail = "{zd["email"]}"\n'
        f'token_env = "{ZD_TOKEN_ENV}"\n\n[connectors.zendesk.link]\ncrm = "hubspot"\nby = ["external_id", "domain"]\n'
    )
    config.write_text(text, encoding="utf-8")
    if stack is not None:
        _use_postgres(folder, stack)
    env = {TOKEN_ENV: sb.token, ZD_TOKEN_ENV: zd["token"], ZD_SECRET_ENV: ZD_SECRET, SECRET_ENV: SECRET}
    for step in (("setup",), ("sync", "--json")):
        done = run_cli(folder, env, *step)
        if done.returncode != 0:
            raise RuntimeError(f"onboard-sync {step[0]} failed: {done.stderr}")
    return env


def _healthy_linked_customers(folder: Path) -> list[tuple[str, int]]:
    """``(deal id, organization id)`` of each healthy onboarding whose company is linked to an organization."""
    with _store(folder) as store:
        links = {x.crm_account_id: int(x.remote_id) for x in store.account_links("zendesk") if x.crm_account_id}
        return sorted(
            (o.deal_id, links[o.account_id])
            for o in store.onboardings(source="hubspot")
            if o.health_status == "healthy" and o.account_id in links
        )


def ticket_health(ctx: Any) -> list[dict[str, Any]]:
    return [ticket_health_run(ctx)]


def ticket_health_workers(ctx: Any) -> list[dict[str, Any]]:
    unavailable = _without_postgres("ticket → health, Zendesk, receiver + workers")
    return unavailable or [ticket_health_run(ctx, workers=WORKERS)]


def ticket_health_run(ctx: Any, workers: int = 0) -> dict[str, Any]:
    """Ticket change → health field written, HubSpot + Zendesk through ``serve`` (the table row). With
    ``workers``, the store is on PostgreSQL and ``serve --receiver-only`` hands every reconcile to that many
    ``onboard-sync worker`` processes."""
    spec = SandboxSpec(deals=DEALS, latency=ctx.latency, helpdesk=True)
    with ExitStack() as stack:
        sb = stack.enter_context(SandboxProcess(spec))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-health-")))
        ctx.log(f"ticket health: HubSpot ({DEALS:,} deals) + Zendesk, backfill before serve starts")
        env = _helpdesk_project(folder, sb, stack if workers else None)
        wanted = max(1, round(ctx.handoff_seconds / TICKET_INTERVAL_S))
        customers = _healthy_linked_customers(folder)[:wanted]
        worker_procs = stack.enter_context(_workers(folder, env, workers)) if workers else []
        with ServeProcess(folder, env, extra_args=["--receiver-only"] if workers else []) as serve:
            _wait_ready(serve.url, want="engine" if workers else "running")
            sb("clear")
            sb("handoff_zendesk_clear")
            since = datetime.now(UTC)
            url = f"{serve.url}/webhooks/zendesk"
            sb("handoff_start_tickets", customers, TICKET_INTERVAL_S, url, ZD_SECRET)
            ctx.log(f"ticket health: 3 urgent tickets on one customer every {TICKET_INTERVAL_S:g} s, {len(customers)}")
            deadline = time.monotonic() + len(customers) * TICKET_INTERVAL_S + DRAIN_S
            while True:
                result = sb("handoff_result")
                done = result["finished"] and all(d["health_s"] is not None for d in result["deals"].values())
                if done or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            summary = sb("summary")
            zendesk = sb("handoff_zendesk_requests")
            sb("handoff_stop")
        reconciles, calls_by_endpoint = _reconciles_since(folder, since, "hubspot")
        worker_exits = [p.poll() for p in worker_procs]
    ok = serve.returncode in (0, -signal.SIGTERM) and result["finished"] and not result["webhook_failures"]
    ok = ok and worker_exits.count(None) == workers
    health = latency_summary([d["health_s"] for d in result["deals"].values()], DRAIN_S)
    row = {
        "scenario": "ticket → health, Zendesk" + (", receiver + workers" if workers else ""),
        "status": "ok"
        if ok
        else f"serve exit {serve.returncode}, workers {worker_exits}, {result['webhook_failures']} webhooks refused",
        "topology": f"serve --receiver-only + {workers} workers, PostgreSQL store" if workers else "serve",
        "customers": len(result["deals"]),
        "health_field": health,
        "hubspot_calls": summary["requests"],
        "zendesk_requests": zendesk,
        "http_429": summary.get("status", {}).get("429", 0),
        "reconciles": len(reconciles),
        "by_endpoint": calls_by_endpoint,
        "peak_rss_mb": round(serve.peak_rss_mb, 1),
        "stderr": serve.stderr()[-800:] if not ok else "",
    }
    row["targets"] = {
        "health_p99": health["p99_s"] < HEALTH_TARGET_S and not health["missing"],
        "no_429": not row["http_429"],
    }
    return row


SCENARIOS = [
    Scenario("handoff", handoff_hubspot, "stage change → first task and phase field under load, via serve"),
    Scenario("handoff-salesforce", handoff_salesforce, "the same on Salesforce, via Outbound Messages"),
    Scenario("handoff-workers", handoff_workers, "the HubSpot load via serve --receiver-only and 2 workers"),
    Scenario("ticket-health", ticket_health, "Zendesk ticket change → HubSpot health field, via serve"),
    Scenario("ticket-health-workers", ticket_health_workers, "the same via serve --receiver-only and 2 workers"),
]
