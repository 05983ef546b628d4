"""Deterministic seed data for the HubSpot sandbox: owners, companies, contacts, deals, tickets.

Called by ``HubSpotBackend.reset()``. Same ``seed`` and same clock day -> same ids and data. Records are
inserted directly (no validation, no change events) so that 100,000 deals seed in a few seconds.

Conventions (documented in the sandbox README section of docs and relied on by tests and the demo):
- 8 owners: four sales reps (team "Sales", emails ``<name>.sales@example.test``) and four customer-success
  managers (team "Customer Success", emails ``<name>.cs@example.test``).
- Companies: about 0.6 per deal, each with a size tier: SMB (5-199 employees), mid-market (200-999),
  enterprise (1,000+); 1-3 contacts each (contact->company primary).
- Deals in the ``default`` pipeline: 20 % ``closedwon`` (closedate spread over the last 21 days), 10 %
  ``closedlost``, the rest in open stages. Amount follows the company's tier: SMB < 25,000,
  mid-market 25,000-99,999, enterprise >= 100,000. Each deal -> one company (types 5 + 341), 1-3 of its
  contacts (type 3), ``hubspot_owner_id`` = a sales rep.
- Tickets: about one per three won deals, on the deal's company and a contact.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from onboard_sync.sandbox.common import epoch_ms, iso_from_ms
from onboard_sync.sandbox.hubspot.models import CS_TEAM, SALES_TEAM, Owner, Record
from onboard_sync.sandbox.hubspot.schema import DEAL_STAGES
from onboard_sync.sandbox.hubspot.seed_words import FIRST, LAST, NOUNS, PLACES, PREFIXES, PRODUCTS, TITLES

if TYPE_CHECKING:
    from onboard_sync.sandbox.hubspot.backend import HubSpotBackend

OWNERS = [
    ("61000001", "Ana", "Souza", "ana.sales", SALES_TEAM),
    ("61000002", "Ben", "Okafor", "ben.sales", SALES_TEAM),
    ("61000003", "Chloe", "Martin", "chloe.sales", SALES_TEAM),
    ("61000004", "Dev", "Patel", "dev.sales", SALES_TEAM),
    ("61000005", "Erin", "Walsh", "erin.cs", CS_TEAM),
    ("61000006", "Farid", "Haddad", "farid.cs", CS_TEAM),
    ("61000007", "Grace", "Kim", "grace.cs", CS_TEAM),
    ("61000008", "Hugo", "Lindqvist", "hugo.cs", CS_TEAM),
]
SEGMENTS = ("smb", "mid", "ent")
_EMPLOYEES = {"smb": (5, 199), "mid": (200, 999), "ent": (1000, 25000)}
_OPEN_STAGES = [s[0] for s in DEAL_STAGES if s[0] not in ("closedwon", "closedlost")]
T = TypeVar("T")


DAY_MS = 86_400_000


class _Rand:
    """Fast draws from ``random.Random.random`` (randint/choice are ~10x slower per call)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.r = self.rng.random

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.r() * len(seq))]

    def between(self, low: int, high: int, step: int = 1) -> int:
        """An integer in [low, high], a multiple of ``step`` away from ``low``."""
        return low + step * int(self.r() * ((high - low) // step + 1))


def populate(backend: HubSpotBackend) -> None:
    """Fill an empty backend with the seeded portal."""
    rnd = _Rand(backend.seed)
    anchor = backend.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    anchor_ms = epoch_ms(anchor)
    for oid, first, last, local, team in OWNERS:
        backend.owners[oid] = Owner(
            oid,
            f"{local}@example.test",
            first,
            last,
            int(oid) + 9_000_000,
            team,
            anchor - timedelta(days=400),
        )
    sales = [o for o in backend.owners if backend.owners[o].team == SALES_TEAM]
    n_deals = backend.deal_count
    companies = _companies(backend, rnd, anchor_ms, math.ceil(n_deals * 0.6), sales)
    by_tier: dict[str, list[tuple[str, list[str]]]] = {s: [] for s in SEGMENTS}
    for cid, tier, contacts in companies:
        by_tier[tier].append((cid, contacts))
    won = _deals(backend, rnd, anchor_ms, n_deals, by_tier, sales)
    _tickets(backend, rnd, anchor_ms, won)


def _stratified(rnd: _Rand, total: int, shares: list[tuple[str, float]]) -> list[str]:
    out: list[str] = []
    for value, share in shares[1:]:
        out += [value] * (max(1, round(total * share)) if total >= len(shares) else round(total * share))
    out = out[:total]
    out += [shares[0][0]] * (total - len(out))
    rnd.rng.shuffle(out)
    return out


def _insert(backend: HubSpotBackend, kind: str, props: dict[str, str], created: int, modified: int) -> str:
    rid = backend.new_id(kind)
    props["hs_object_id"] = rid
    props["createdate"] = iso_from_ms(created)
    props["hs_lastmodifieddate"] = modified_s = iso_from_ms(modified)
    if kind == "contacts":
        props["lastmodifieddate"] = modified_s
    backend.objects[kind][rid] = Record(rid, kind, props, created, modified)
    return rid


def _companies(
    backend: HubSpotBackend, rnd: _Rand, anchor: int, count: int, sales: list[str]
) -> list[tuple[str, str, list[str]]]:
    tiers = _stratified(rnd, count, [("smb", 0.55), ("mid", 0.30), ("ent", 0.15)])
    nouns = list(NOUNS)
    seen: dict[str, int] = {}
    email_index = backend.unique_index("contacts", "email")
    out = []
    pick, between = rnd.pick, rnd.between
    for tier in tiers:
        noun = pick(nouns)
        base = f"{pick(PREFIXES)} {noun}"
        n = seen[base] = seen.get(base, 0) + 1
        name = base if n == 1 else f"{base} {n}"
        domain = name.lower().replace(" ", "") + ".example"
        city, country = pick(PLACES)
        employees = between(*_EMPLOYEES[tier])
        owner = pick(sales)
        created = anchor - between(30 * DAY_MS, 365 * DAY_MS, 60_000)
        props = {
            "name": name,
            "domain": domain,
            "website": f"https://www.{domain}",
            "numberofemployees": str(employees),
            "industry": NOUNS[noun],
            "annualrevenue": str(employees * between(80_000, 250_000, 5_000)),
            "city": city,
            "country": country,
            "hubspot_owner_id": owner,
            "lifecyclestage": "opportunity",
        }
        cid = _insert(backend, "companies", props, created, created + between(0, 20 * DAY_MS, 1000))
        contacts = []
        for _ in range(between(1, 3)):
            first, last = pick(FIRST), pick(LAST)
            local = f"{first}.{last}".lower().replace("ü", "ue")
            email = f"{local}@{domain}"
            k = 2
            while email in email_index:
                email, k = f"{local}{k}@{domain}", k + 1
            c_created = created + between(3_600_000, 500 * 3_600_000, 1000)
            cprops = {
                "firstname": first,
                "lastname": last,
                "email": email,
                "jobtitle": pick(TITLES),
                "company": name,
                "phone": f"+1 555 {between(1_000_000, 9_999_999)}",
                "hubspot_owner_id": owner,
                "lifecyclestage": "opportunity",
            }
            ct = _insert(backend, "contacts", cprops, c_created, c_created)
            email_index[email] = ct
            backend.seed_link("contacts", ct, "companies", cid, [1, 279], [2, 280])
            contacts.append(ct)
        out.append((cid, tier, contacts))
    return out


def _deals(
    backend: HubSpotBackend,
    rnd: _Rand,
    anchor: int,
    count: int,
    by_tier: dict[str, list[tuple[str, list[str]]]],
    sales: list[str],
) -> list[tuple[str, list[str]]]:
    stages = _stratified(rnd, count, [("open", 0.7), ("closedwon", 0.2), ("closedlost", 0.1)])
    won_segments = iter(_stratified(rnd, stages.count("closedwon"), [("smb", 0.55), ("mid", 0.30), ("ent", 0.15)]))
    every = [c for tier in SEGMENTS for c in by_tier[tier]]
    probability = {s: str(p) for s, _, p, _ in DEAL_STAGES}
    amounts = {"smb": (3_000, 24_500, 500), "mid": (25_000, 99_000, 1_000), "ent": (100_000, 600_000, 5_000)}
    companies = backend.objects["companies"]
    won: list[tuple[str, list[str]]] = []
    pick, between, r = rnd.pick, rnd.between, rnd.r
    for stage in stages:
        if stage == "closedwon":
            segment = next(won_segments)
        else:
            x = r()
            segment = "smb" if x < 0.55 else "mid" if x < 0.85 else "ent"
            stage = pick(_OPEN_STAGES) if stage == "open" else stage
        pool = by_tier[segment] or every
        cid, contacts = pick(pool)
        tier = segment if by_tier[segment] else "smb"
        if stage in ("closedwon", "closedlost"):
            closed = anchor - between(3_600_000, (21 if stage == "closedwon" else 60) * DAY_MS, 1000)
            created, modified = closed - between(10 * DAY_MS, 120 * DAY_MS, 60_000), closed
        else:
            closed = anchor + between(3, 90) * DAY_MS
            created = anchor - between(1 * DAY_MS, 120 * DAY_MS, 60_000)
            modified = created + int((anchor - created) * r()) // 1000 * 1000
        company = companies[cid].properties
        props = {
            "dealname": f"{company['name']} - {pick(PRODUCTS[tier])}",
            "amount": str(between(*amounts[tier])),
            "closedate": iso_from_ms(closed),
            "pipeline": "default",
            "dealstage": stage,
            "dealtype": "newbusiness",
            "hubspot_owner_id": pick(sales),
            "hs_is_closed_won": "true" if stage == "closedwon" else "false",
            "hs_is_closed": "true" if stage in ("closedwon", "closedlost") else "false",
            "hs_deal_stage_probability": probability[stage],
        }
        did = _insert(backend, "deals", props, created, modified)
        backend.seed_link("deals", did, "companies", cid, [5, 341], [6, 342])
        k = between(1, 3)
        for ct in contacts if k >= len(contacts) else rnd.rng.sample(contacts, k):
            backend.seed_link("deals", did, "contacts", ct, [3], [4])
        if stage == "closedwon":
            company["lifecyclestage"] = "customer"
            won.append((cid, contacts))
    return won


def _tickets(backend: HubSpotBackend, rnd: _Rand, anchor: int, won: list[tuple[str, list[str]]]) -> None:
    subjects = [
        "Cannot log in after SSO change",
        "Import fails on CSV upload",
        "Invoice shows wrong seats",
        "How do I add users?",
        "Integration sync delayed",
        "Feature request: export to PDF",
    ]
    pick = rnd.pick
    for cid, contacts in won[::3]:
        stage = pick(["1", "2", "3", "4"])
        created = anchor - rnd.between(3_600_000, 400 * 3_600_000, 1000)
        props = {
            "subject": pick(subjects),
            "content": "Reported by the customer during onboarding.",
            "hs_pipeline": "0",
            "hs_pipeline_stage": stage,
            "hs_ticket_priority": pick(["LOW", "MEDIUM", "MEDIUM", "HIGH", "URGENT"]),
            "hs_ticket_category": pick(["PRODUCT_ISSUE", "BILLING_ISSUE", "GENERAL_INQUIRY"]),
            "source_type": pick(["EMAIL", "CHAT", "PHONE"]),
        }
        if stage == "4":
            props["closed_date"] = iso_from_ms(created + rnd.between(3_600_000, 48 * 3_600_000, 1000))
        tid = _insert(backend, "tickets", props, created, created)
        backend.seed_link("tickets", tid, "companies", cid, [26, 339], [25, 340])
        backend.seed_link("tickets", tid, "contacts", contacts[0], [16], [15])


__all__ = ["OWNERS", "SEGMENTS", "populate"]
