"""Extension points: scenarios that exist as soon as their feature does. No numbers are made up.

* ``webhook-ingest`` — HubSpot-style batches of 100 events POSTed over loopback to ``onboard-sync
  serve``; events/s accepted durably, p50/p99 latency (targets ≥ 1,000 events/s, p99 < 100 ms).
  Becomes real when a ``serve`` command is registered: replace ``_webhook`` with the measurement.
* ``salesforce-backfill`` — the HubSpot backfill scenario on the Salesforce connector and its
  sandbox (Bulk/Composite API lower bound, daily-quota bound). Becomes real when a connector
  plugin of type ``salesforce`` is installed: write ``bench/scenarios/salesforce.py`` on the model
  of ``hubspot.py`` and add it to ``bench.scenarios.MODULES``.
Both report a row with ``status = "not available"`` and the reason until then.
"""

from __future__ import annotations

from typing import Any

from bench.scenarios import Scenario


def _webhook(ctx: Any) -> list[dict[str, Any]]:
    from onboard_sync.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    reason = "no `serve` command yet (webhook ingest is being built on another branch)"
    if "serve" in names:
        reason = "`serve` exists: implement the webhook-ingest measurement in bench/scenarios/extensions.py"
    return [{"scenario": "webhook-ingest", "status": "not available", "note": reason}]


def _salesforce(ctx: Any) -> list[dict[str, Any]]:
    from onboard_sync.plugins import connector_types

    have = "salesforce" in connector_types()
    reason = (
        "the salesforce connector is installed: add bench/scenarios/salesforce.py"
        if have
        else "no salesforce connector yet (being built on another branch)"
    )
    return [{"scenario": "salesforce-backfill", "status": "not available", "note": reason}]


SCENARIOS = [
    Scenario("webhook-ingest", _webhook, "events/s and p50/p99 of serve (extension point)"),
    Scenario("salesforce-backfill", _salesforce, "backfill on Salesforce (extension point)"),
]
