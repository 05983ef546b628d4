"""Webhook ingest: ``onboard-sync serve`` acking signed HubSpot batches of 100 events on loopback.

For each concurrency (1, then 10 — HubSpot sends up to 10 requests at once) a fresh project
is set up against the HubSpot sandbox (its own process, 2,000 deals, 40 ms latency, Starter
limits) and ``onboard-sync serve`` is started on it in a child process
(:class:`bench.webhook_ack.ServeProcess`) with its worker running, so the reconciles the
events trigger compete with the receiver as they do in production. One warm-up batch, then
``ctx.webhook_batches`` batches (``--quick``: 50) are POSTed; the row reports events/s
accepted (the 200s over the sending time), p50/p99 ack latency, and the inbox rows after
``serve`` stopped, which must equal the events sent (persisted before the 200). Targets
p99 < 100 ms at both concurrencies (issue 16), ≥ 1,000 events/s at concurrency 1 (at 10: information).
"""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path
from typing import Any

from bench.sandbox_proc import SandboxProcess, SandboxSpec
from bench.scenarios import Scenario
from bench.scenarios.hubspot import _project
from bench.webhook_ack import SECRET_ENV, ServeProcess, hubspot_batches, inbox_rows, send_batches

SECRET = "bench-webhook-secret"
DEALS = 2_000


def webhook_runs(ctx: Any, concurrencies: tuple[int, ...] = (1, 10)) -> list[dict[str, Any]]:
    rows = []
    spec = SandboxSpec(deals=DEALS, latency=ctx.latency)
    with SandboxProcess(spec) as sb:
        deal_ids = sb("deal_ids")
        for concurrency in concurrencies:
            with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
                folder = Path(tmp)
                env = {**_project(folder, sb), SECRET_ENV: SECRET}
                ctx.log(f"webhook ingest: {ctx.webhook_batches} batches of 100 events, concurrency {concurrency}")
                with ServeProcess(folder, env) as serve:
                    url = f"{serve.url}/webhooks/hubspot"
                    warm = send_batches(url, SECRET, hubspot_batches(1, deal_ids, first=ctx.webhook_batches), 1)
                    result = send_batches(url, SECRET, hubspot_batches(ctx.webhook_batches, deal_ids), concurrency)
                total, processed = inbox_rows(folder / "onboard-sync.db")
                failures = warm["failures"] + result["failures"]
                sent = warm["events"] + result["events"]
                # uvicorn re-raises SIGTERM after its graceful shutdown: -15 is serve's normal end here
                ok = not failures and serve.returncode in (0, -signal.SIGTERM)
                rows.append(
                    {
                        "scenario": f"webhook-ingest, concurrency {concurrency}",
                        "status": "ok" if ok else f"{len(failures)} failed, serve exit {serve.returncode}",
                        "concurrency": concurrency,
                        "batches": result["batches"],
                        "events_sent": sent,
                        "inbox_rows": total,
                        "processed_at_stop": processed,
                        "events_per_s": round(result["events"] / result["elapsed_s"], 1),
                        "ack_p50_ms": round(result["p50_ms"], 1),
                        "ack_p99_ms": round(result["p99_ms"], 1),
                        "ack_max_ms": round(result["max_ms"], 1),
                        "engine_s": round(result["elapsed_s"], 2),
                        "peak_rss_mb": round(serve.peak_rss_mb, 1),
                        "failures": failures[:5],
                        "stderr": serve.stderr()[-500:] if not ok else "",
                    }
                )
    return rows


SCENARIOS = [Scenario("webhook-ingest", webhook_runs, "events/s and p50/p99 ack of `serve`, concurrency 1 and 10")]
