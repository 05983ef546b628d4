"""Deterministic seed data for the Zendesk sandbox, linked to a CRM's companies.

``populate(backend, seed, companies, orphans)`` creates one organization per CRM company
(``(id, name, domain)``): even positions carry the CRM company id in ``external_id``, odd
positions only the company's domain in ``domain_names`` (so both link keys are exercised),
plus ``orphans`` organizations that match no CRM company (to show the unlinked report). Each
organization gets one or two end-users and 0-2 low/normal tickets created over the last 20
days. ``companies_from_hubspot(hubspot_sandbox)`` lists the HubSpot sandbox's companies that
have a won deal.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from onboard_sync.sandbox.zendesk.backend import ZendeskBackend

Company = tuple[str, str, str | None]
SUBJECTS = (
    "How do I add users?",
    "Import fails on CSV upload",
    "SSO login loops",
    "Report export is slow",
    "Question about invoices",
)


def companies_from_hubspot(hubspot: Any) -> list[Company]:
    """``(company id, name, domain)`` of every HubSpot sandbox company with a won deal, by id."""
    backend = hubspot.backend
    ids: set[str] = set()
    for deal_id, deal in backend.deals.items():
        if deal.properties.get("dealstage") == "closedwon":
            ids.update(backend.associations("deals", deal_id, "companies")[:1])
    return [
        (
            cid,
            backend.companies[cid].properties.get("name") or cid,
            backend.companies[cid].properties.get("domain"),
        )
        for cid in sorted(ids, key=int)
    ]


def populate(backend: ZendeskBackend, seed: int, companies: Sequence[Company], orphans: int = 2) -> None:
    rnd = random.Random(f"zendesk-{seed}")
    now = backend.clock.now()
    backend.seeding = True
    try:
        _populate(backend, rnd, now, companies, orphans)
    finally:
        backend.seeding = False


def _populate(
    backend: ZendeskBackend, rnd: random.Random, now: Any, companies: Sequence[Company], orphans: int
) -> None:
    month = now - timedelta(days=30)
    orgs = []
    for i, (cid, name, domain) in enumerate(companies):
        if i % 2 == 0 or not domain:
            org = backend.add_organization(name, external_id=cid, created_at=month)
        else:
            org = backend.add_organization(name, domain_names=[domain], created_at=month)
        orgs.append(org)
    for n in range(1, orphans + 1):
        orgs.append(
            backend.add_organization(f"Unlinked Org {n}", domain_names=[f"unknown-{n}.example"], created_at=month)
        )
    for org in orgs:
        slug = org["name"].lower().replace(" ", ".")
        users = [
            backend.add_user(f"{org['name']} user {k}", f"user{k}@{slug}.example", org["id"], created_at=month)
            for k in range(1, rnd.randint(1, 2) + 1)
        ]
        for _ in range(rnd.randint(0, 2)):
            created = now - timedelta(days=rnd.randint(0, 20), hours=rnd.randint(0, 23))
            backend.add_ticket(
                rnd.choice(SUBJECTS),
                organization_id=org["id"],
                requester_id=users[0]["id"],
                priority=rnd.choice(("low", "normal", "normal")),
                status=rnd.choice(("open", "pending", "solved", "closed")),
                created_at=created,
            )
    backend.add_user("Agent Smith", "agent@sandbox.example", None, role="admin", created_at=month)


__all__ = ["Company", "companies_from_hubspot", "populate"]
