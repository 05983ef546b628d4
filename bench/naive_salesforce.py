"""The Salesforce work done as a hand-written script would: simple-salesforce, one REST call per object and Task.

Given what onboard-sync wrote for some onboardings (:func:`bench.naive.work_from_store`),
:func:`run_naive_salesforce` does it again on a freshly reset sandbox: log in, list the won
Opportunities (SOQL, followed through ``nextRecordsUrl``), list the active Users, then per
onboarding get the Opportunity, query its contact roles, get its Account, create each Task
(``sobjects/Task``, one call each), update the Opportunity and update the Account. Used by
:mod:`bench.scenarios.salesforce`; the cost per onboarding is extrapolated to every won deal.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import requests
from simple_salesforce import Salesforce, format_soql

from bench.naive import NaiveWork


class _Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return fn(*args, **kwargs)


def _login(session: requests.Session, settings: dict[str, Any], secrets: dict[str, str]) -> tuple[str, str]:
    answer = session.post(
        f"{settings['login_url']}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": settings["client_id"],
            "client_secret": secrets[settings["client_secret_env"]],
        },
        timeout=30,
    )
    answer.raise_for_status()
    body = answer.json()
    return body["access_token"], body["instance_url"]


def run_naive_salesforce(
    settings: dict[str, Any], secrets: dict[str, str], work: list[NaiveWork], won: int
) -> dict[str, Any]:
    """Do ``work`` one call per object; list the won Opportunities and the Users first, as a script would."""
    session = requests.Session()
    session.trust_env = False
    session.verify = settings["ca_bundle"]
    call = _Counting()
    start = time.perf_counter()
    token, instance_url = call(_login, session, settings, secrets)
    sf = Salesforce(instance_url=instance_url, session_id=token, session=session, version=settings["api_version"])
    page = call(sf.query, "SELECT Id, Name, AccountId, OwnerId, Amount FROM Opportunity WHERE IsWon = true")
    listed = len(page["records"])
    while not page.get("done", True):
        page = call(sf.query_more, page["nextRecordsUrl"], identifier_is_url=True)
        listed += len(page["records"])
    call(sf.query, "SELECT Id, Email FROM User WHERE IsActive = true")
    listing_calls = call.calls
    per_start = time.perf_counter()
    for item in work:
        call(sf.Opportunity.get, item.deal_id)
        soql = "SELECT ContactId, IsPrimary FROM OpportunityContactRole WHERE OpportunityId = {}"
        roles = call(sf.query, format_soql(soql, item.deal_id))["records"]
        primary = next((r["ContactId"] for r in sorted(roles, key=lambda r: not r["IsPrimary"])), None)
        if item.account_id:
            call(sf.Account.get, item.account_id)
        for task in item.tasks:
            fields = {
                "Subject": task["subject"][:255],
                "ActivityDate": _date(task["due_at"]),
                "Status": "Not Started",
                "Priority": "Normal",
                "WhatId": item.deal_id,
                **({"WhoId": primary} if primary else {}),
                **({"OwnerId": task["owner_id"]} if task["owner_id"] else {}),
            }
            call(sf.Task.create, fields)
        if item.deal_fields:
            call(sf.Opportunity.update, item.deal_id, dict(item.deal_fields))
        if item.account_id and item.company_fields:
            call(sf.Account.update, item.account_id, dict(item.company_fields))
    end = time.perf_counter()
    session.close()
    n = max(1, len(work))
    per_calls = (call.calls - listing_calls) / n
    per_seconds = (end - per_start) / n
    return {
        "sample_onboardings": len(work),
        "won_listed": listed,
        "measured_calls": call.calls,
        "measured_seconds": round(end - start, 2),
        "calls_per_onboarding": round(per_calls, 2),
        "seconds_per_onboarding": round(per_seconds, 3),
        # extrapolated to every won deal: the listing as measured, plus the per-onboarding cost
        "calls": round(listing_calls + per_calls * won),
        "seconds": round((per_start - start) + per_seconds * won, 1),
    }


def _date(value: datetime | None) -> str | None:
    return value.date().isoformat() if value else None
