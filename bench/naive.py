"""The same work done the way a hand-written script would: one SDK call per object and per task.

Given what onboard-sync wrote for some onboardings (its tasks and field values, read from its
store after the backfill), :func:`run_naive` does that work again on a freshly reset sandbox
with the official SDK and no batching: list the won deals (search, 100 per page), list the
owners, then per onboarding get the deal with its associations, get its company, create each
task (with its associations), update the deal and update the company. Like a typical script it
retries a 429 after the server's Retry-After (or 1 s). Used by :mod:`bench.scenarios.hubspot`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubspot import HubSpot
from urllib3.util.retry import Retry

from onboard_sync.records import ObjectKind


@dataclass
class NaiveWork:
    """One onboarding's work: its deal, company, tasks and field values."""

    deal_id: str
    account_id: str | None
    contact_ids: list[str]
    tasks: list[dict[str, Any]]
    deal_fields: dict[str, str | None]
    company_fields: dict[str, str | None]


def work_from_store(store: Any, source: str, limit: int) -> list[NaiveWork]:
    """The first ``limit`` onboardings (by id) and what onboard-sync wrote for them."""
    onboardings = sorted(store.onboardings(source=source), key=lambda o: o.id)[:limit]
    written = store.written_fields_for(source)
    owned = store.owned_tasks_for(source)
    out = []
    for state in onboardings:
        fields = written.get(state.id, {})
        deal_fields = {p: v for (k, _rid, p), v in fields.items() if k is ObjectKind.DEAL}
        company_fields = {p: v for (k, _rid, p), v in fields.items() if k is ObjectKind.ACCOUNT}
        deal = store.get_deals(source, [state.deal_id]).get(state.deal_id)
        tasks = [
            {"key": t.key, "subject": t.subject, "owner_id": t.owner_id, "due_at": t.due_at}
            for t in owned.values()
            if t.onboarding_id == state.id
        ]
        out.append(
            NaiveWork(
                deal_id=state.deal_id,
                account_id=state.account_id,
                contact_ids=list(deal.contact_ids) if deal else [],
                tasks=tasks,
                deal_fields=deal_fields,
                company_fields=company_fields,
            )
        )
    return out


class _Counting:
    def __init__(self) -> None:
        self.calls = 0
        self.rate_limited = 0

    def __call__(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        while True:
            self.calls += 1
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # every SDK module has its own ApiException class
                if getattr(exc, "status", None) != 429:
                    raise
                self.rate_limited += 1
                headers = getattr(exc, "headers", None) or {}
                time.sleep(float(headers.get("Retry-After") or 1.0))


def run_naive(base_url: str, token: str, work: list[NaiveWork], won: int) -> dict[str, Any]:
    """Do ``work`` one call per object; list all ``won`` deals first as the script would."""
    client = HubSpot(access_token=token, host=base_url, retry=Retry(total=0, raise_on_status=False))
    call = _Counting()
    start = time.perf_counter()
    after = None
    listed = 0
    while True:  # the script finds the won deals: search, 100 per page (HubSpot's default max in examples)
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]}],
            "limit": 100,
        }
        if after:
            body["after"] = after
        page = call(client.crm.deals.search_api.do_search, public_object_search_request=body)
        listed += len(page.results or [])
        after = page.paging.next.after if page.paging and page.paging.next else None
        time.sleep(0.2)  # the script knows search allows 5/s
        if not after:
            break
    call(client.crm.owners.owners_api.get_page, limit=100)
    listing_calls = call.calls
    per_start = time.perf_counter()
    for item in work:
        call(client.crm.deals.basic_api.get_by_id, item.deal_id, associations=["companies", "contacts"])
        if item.account_id:
            call(client.crm.companies.basic_api.get_by_id, item.account_id)
        for task in item.tasks:
            associations = [
                {"to": {"id": item.deal_id}, "types": [_type(216)]},
                *([{"to": {"id": item.account_id}, "types": [_type(192)]}] if item.account_id else []),
                *({"to": {"id": c}, "types": [_type(204)]} for c in item.contact_ids),
            ]
            props = {
                "hs_task_subject": task["subject"],
                "hs_timestamp": _iso(task["due_at"]),
                "hs_task_status": "NOT_STARTED",
            }
            if task["owner_id"]:
                props["hubspot_owner_id"] = task["owner_id"]
            call(
                client.crm.objects.tasks.basic_api.create,
                simple_public_object_input_for_create={"properties": props, "associations": associations},
            )
        if item.deal_fields:
            call(
                client.crm.deals.basic_api.update,
                item.deal_id,
                simple_public_object_input={"properties": _clean(item.deal_fields)},
            )
        if item.account_id and item.company_fields:
            call(
                client.crm.companies.basic_api.update,
                item.account_id,
                simple_public_object_input={"properties": _clean(item.company_fields)},
            )
    end = time.perf_counter()
    n = max(1, len(work))
    per_calls = (call.calls - listing_calls) / n
    per_seconds = (end - per_start) / n
    return {
        "sample_onboardings": len(work),
        "won_listed": listed,
        "measured_calls": call.calls,
        "measured_seconds": round(end - start, 2),
        "rate_limited": call.rate_limited,
        "calls_per_onboarding": round(per_calls, 2),
        "seconds_per_onboarding": round(per_seconds, 3),
        # extrapolated to every won deal: the listing as measured, plus the per-onboarding cost
        "calls": round(listing_calls + per_calls * won),
        "seconds": round((per_start - start) + per_seconds * won, 1),
    }


def _type(type_id: int) -> dict[str, Any]:
    return {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _clean(values: dict[str, str | None]) -> dict[str, str]:
    return {k: "" if v is None else v for k, v in values.items()}
