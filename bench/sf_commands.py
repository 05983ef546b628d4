"""The Salesforce sandbox's commands in the bench's sandbox process: counts the bounds need, people's edits.

:class:`bench.sandbox_proc.SandboxProcess` runs these in the child that holds the
``SalesforceSandbox`` when ``SandboxSpec(crm="salesforce")``; :mod:`bench.scenarios.salesforce`
calls them by name (``sb("facts")``). Counts are computed from the org's data, never from what
the engine did, so the lower bounds of :mod:`bench.bounds` are independent of the engine.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from bench.handoff_load import COMMANDS as HANDOFF_COMMANDS
from bench.sandbox_proc import _summary

KEY_FIELD = "OnboardSync_Key__c"
"""The Task key field of the default Salesforce settings (``task_key_field``)."""


def _clear(sb: Any) -> None:
    sb.requests.clear()  # no per-second windows: Salesforce counts requests per 24 hours


def _reset(sb: Any) -> None:
    sb.reset()


def _roles_of(sb: Any, opportunity_ids: set[str]) -> int:
    roles = sb.backend.records["OpportunityContactRole"].values()
    return sum(1 for r in roles if r.get("OpportunityId") in opportunity_ids)


def _without_roles(sb: Any, opportunity_ids: set[str]) -> int:
    with_roles = {r.get("OpportunityId") for r in sb.backend.records["OpportunityContactRole"].values()}
    return len(opportunity_ids - with_roles)


def _accounts_of(opportunities: list[dict[str, Any]]) -> int:
    return len({o["AccountId"] for o in opportunities if o.get("AccountId")})


def _facts(sb: Any) -> dict[str, Any]:
    """What a backfill must read: won Opportunities, their contact roles (and how many have none) and
    Accounts, active Users."""
    opportunities = sb.backend.opportunities
    won = [o for o in opportunities.values() if o.get("IsWon")]
    won_ids = {o["Id"] for o in won}
    return {
        "deals": len(opportunities),
        "won": len(won),
        "won_accounts": _accounts_of(won),
        "contact_roles": _roles_of(sb, won_ids),
        "won_without_roles": _without_roles(sb, won_ids),
        "users": sum(1 for u in sb.backend.users.values() if u.get("IsActive", True)),
        "tasks_with_key": sum(1 for t in sb.backend.tasks.values() if t.get(KEY_FIELD)),
        "cases": len(sb.backend.records.get("Case", {})),
    }


def _modified_since(
    sb: Any, since_iso: str | None, tracked: list[str], cases_since_iso: str | None = None
) -> dict[str, int]:
    """What an incremental run must read: Opportunities with ``SystemModstamp`` ≥ ``since``, their
    contact roles (and how many have none), the Accounts of the won or ``tracked`` ones, keyed Tasks
    modified since, and the Cases modified since ``cases_since`` (the tickets cursor)."""
    since = datetime.fromisoformat(since_iso) if since_iso else None
    cases_since = datetime.fromisoformat(cases_since_iso) if cases_since_iso else None

    def modified(record: dict[str, Any], after: datetime | None = since) -> bool:
        stamp = record.get("SystemModstamp")
        return after is None or (stamp is not None and stamp >= after)

    opportunities = [o for o in sb.backend.opportunities.values() if modified(o)]
    watched = set(tracked)
    relevant = [o for o in opportunities if o.get("IsWon") or o["Id"] in watched]
    ids = {o["Id"] for o in opportunities}
    return {
        "deals": len(opportunities),
        "relevant_deals": len(relevant),
        "contact_roles": _roles_of(sb, ids),
        "without_roles": _without_roles(sb, ids),
        "accounts": _accounts_of(relevant),
        "tasks": sum(1 for t in sb.backend.tasks.values() if t.get(KEY_FIELD) and modified(t)),
        "cases": sum(1 for c in sb.backend.records.get("Case", {}).values() if modified(c, cases_since)),
    }


def _change(sb: Any, deal_fraction: float, onboarding_fraction: float, seed: int) -> dict[str, int]:
    """People at work: edit ``deal_fraction`` of all Opportunities (Amount) and complete the open
    Tasks of ``onboarding_fraction`` of the Opportunities that carry onboard-sync Tasks."""
    rnd = random.Random(seed)
    ids = sorted(sb.backend.opportunities)
    edited = rnd.sample(ids, max(1, round(len(ids) * deal_fraction))) if deal_fraction else []
    for opportunity_id in edited:
        amount = float(sb.backend.opportunities[opportunity_id].get("Amount") or 0)
        sb.backend.update("Opportunity", opportunity_id, {"Amount": amount + 1})
    by_deal: dict[str, list[str]] = {}
    for task in sb.backend.tasks.values():
        key = task.get(KEY_FIELD)
        if key and not task.get("IsClosed"):
            by_deal.setdefault(key.split(":")[1], []).append(task["Id"])
    chosen = rnd.sample(sorted(by_deal), round(len(by_deal) * onboarding_fraction)) if by_deal else []
    completed = 0
    for deal_id in chosen:
        for task_id in by_deal[deal_id]:
            sb.backend.complete_task(task_id)
            completed += 1
    return {"deals_edited": len(edited), "onboardings_progressed": len(chosen), "tasks_completed": completed}


COMMANDS: dict[str, Any] = {
    **HANDOFF_COMMANDS,
    "summary": _summary,
    "clear": _clear,
    "reset": _reset,
    "facts": _facts,
    "modified_since": _modified_since,
    "change": _change,
}
