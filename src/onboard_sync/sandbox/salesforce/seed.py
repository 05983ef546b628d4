"""Deterministic seed data for the Salesforce sandbox: Users, Accounts, Contacts, Opportunities, contact roles.

Called by ``SalesforceBackend.reset()``. Same ``seed`` and same clock day -> same ids and data.

Conventions (relied on by tests and the demo, and the same people as the HubSpot sandbox so one
``[owners]`` table fits both):
- 8 active Users: four sales reps (``<name>.sales@example.test``, Department "Sales") and four
  customer-success managers (``<name>.cs@example.test``, Department "Customer Success").
- Accounts: about 0.6 per opportunity, each with a size tier (NumberOfEmployees): SMB 5-199,
  mid-market 200-999, enterprise 1,000+; 1-3 Contacts each.
- Opportunities: 20 % ``Closed Won`` (CloseDate within the last 21 days) cycling through the three
  tiers so every segment has won deals, 10 % ``Closed Lost``, the rest open. Amount follows the tier:
  SMB 3,000-14,000, mid-market 25,000-99,000, enterprise 100,000-400,000. OwnerId is a sales rep;
  1-2 OpportunityContactRole rows (the first primary) link the account's contacts.
- Cases: 1-3 on every Account with a won Opportunity (CaseNumber from 00001001, own random stream so the
  rows above do not change): mostly closed (opened 10-60 days ago, closed 1-5 days later, any priority),
  some open with Medium/Low priority opened 1-6 days ago; never an open High case, so seeded health is
  untouched by tickets until a test opens some (``SalesforceBackend.open_case``).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING

from onboard_sync.sandbox.salesforce.schema import CASE_PRIORITIES, LOST_STAGE, STAGES, WON_STAGE

if TYPE_CHECKING:
    from onboard_sync.sandbox.salesforce.backend import SalesforceBackend

USERS = [
    ("Ana", "Souza", "ana.sales", "Sales"),
    ("Ben", "Okafor", "ben.sales", "Sales"),
    ("Chloe", "Martin", "chloe.sales", "Sales"),
    ("Dev", "Patel", "dev.sales", "Sales"),
    ("Erin", "Walsh", "erin.cs", "Customer Success"),
    ("Farid", "Haddad", "farid.cs", "Customer Success"),
    ("Grace", "Kim", "grace.cs", "Customer Success"),
    ("Hugo", "Lindqvist", "hugo.cs", "Customer Success"),
]
TIERS = {
    "smb": ((5, 199), (3_000, 14_000)),
    "mid": ((200, 999), (25_000, 99_000)),
    "ent": ((1_000, 25_000), (100_000, 400_000)),
}
FIRST = ("Maya", "Liam", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vera", "Wen")
LAST = ("Adams", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen")
WORDS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Nakatomi",
)
CASE_SUBJECTS = (
    "Cannot log in after SSO change",
    "CSV import fails on date column",
    "Question about user roles",
    "Report export times out",
    "Webhook deliveries delayed",
    "Need help configuring alerts",
)
SUFFIX = ("Labs", "Systems", "Group", "Analytics", "Logistics", "Health", "Foods", "Energy", "Media", "Works")
OPEN_STAGES = [s for s in STAGES if s not in (WON_STAGE, LOST_STAGE)]


def populate(backend: SalesforceBackend) -> None:
    """Fill an empty backend with the seeded org."""
    rng = random.Random(f"salesforce-{backend.seed}")
    now = backend.clock.now()
    anchor = now.replace(hour=0, minute=0, second=0, microsecond=0)
    users = []
    for first, last, local, dept in USERS:
        uid = backend.insert(
            "User",
            {
                "FirstName": first,
                "LastName": last,
                "Email": f"{local}@example.test",
                "Username": f"{local}@example.test.sandbox",
                "IsActive": True,
                "Department": dept,
            },
        )
        users.append((uid, dept))
    sales = [u for u, d in users if d == "Sales"]
    cs = [u for u, d in users if d != "Sales"]
    n = backend.deal_count
    accounts: list[tuple[str, str, list[str]]] = []
    for i in range(max(1, (n * 3 + 4) // 5) if n else 0):
        tier = ("smb", "mid", "ent")[i % 3]
        (low, high), _ = TIERS[tier]
        name = f"{WORDS[i % len(WORDS)]} {SUFFIX[(i // len(WORDS)) % len(SUFFIX)]}" + (
            f" {i // (len(WORDS) * len(SUFFIX)) + 1}" if i >= len(WORDS) * len(SUFFIX) else ""
        )
        domain = name.lower().replace(" ", "") + ".example"
        aid = backend.insert(
            "Account",
            {
                "Name": name,
                "Website": f"https://{domain}",
                "NumberOfEmployees": rng.randint(low, high),
                "OwnerId": rng.choice(cs),
                "Industry": rng.choice(("Technology", "Finance", "Healthcare", "Retail")),
            },
        )
        contacts = []
        for _ in range(rng.randint(1, 3)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            contacts.append(
                backend.insert(
                    "Contact",
                    {
                        "FirstName": first,
                        "LastName": last,
                        "Email": f"{first}.{last}@{domain}".lower(),
                        "AccountId": aid,
                        "Title": rng.choice(("CTO", "Head of Ops", "VP Sales", "Admin")),
                        "OwnerId": rng.choice(sales),
                    },
                )
            )
        accounts.append((aid, tier, contacts))
    by_tier = {t: [a for a in accounts if a[1] == t] for t in TIERS}
    won_index = 0
    for i in range(n):
        roll = rng.random()
        if roll < 0.2 or (i < 3 and won_index < 3):
            stage = WON_STAGE
            tier = ("smb", "mid", "ent")[won_index % 3]
            won_index += 1
            close = (anchor - timedelta(days=rng.randint(0, 20))).date()
        else:
            stage = LOST_STAGE if roll < 0.3 else rng.choice(OPEN_STAGES)
            tier = rng.choice(("smb", "mid", "ent"))
            close = (anchor + timedelta(days=rng.randint(-30, 60))).date()
        aid, _, contacts = rng.choice(by_tier[tier] or accounts)
        _, (low, high) = TIERS[tier]
        amount = float(rng.randint(low // 500, high // 500) * 500)
        oid = backend.insert(
            "Opportunity",
            {
                "Name": f"{backend.records['Account'][aid]['Name']} - {rng.choice(('Platform', 'Expansion', 'Pilot'))}",
                "StageName": stage,
                "CloseDate": close.isoformat(),
                "Amount": amount,
                "AccountId": aid,
                "OwnerId": rng.choice(sales),
            },
        )
        for k, cid in enumerate(contacts[: rng.randint(1, 2)]):
            backend.insert(
                "OpportunityContactRole",
                {
                    "OpportunityId": oid,
                    "ContactId": cid,
                    "Role": "Decision Maker" if k == 0 else "User",
                    "IsPrimary": k == 0,
                },
            )
    # seeded rows look like they were last touched a while ago, in creation order
    stamp = now - timedelta(hours=6)
    for sobject in ("User", "Account", "Contact", "Opportunity", "OpportunityContactRole"):
        for record in backend.records[sobject].values():
            stamp += timedelta(milliseconds=10)
            record["CreatedDate"] = record["LastModifiedDate"] = record["SystemModstamp"] = stamp
    populate_cases(backend)


def populate_cases(backend: SalesforceBackend) -> None:
    """1-3 Cases on each Account with a won Opportunity (see the module docstring)."""
    rng = random.Random(f"salesforce-cases-{backend.seed}")
    now = backend.clock.now()
    won_accounts = dict.fromkeys(
        o["AccountId"] for o in backend.records["Opportunity"].values() if o["IsWon"] and o["AccountId"]
    )
    contacts: dict[str, list[str]] = {}
    for cid, contact in backend.records["Contact"].items():
        contacts.setdefault(str(contact["AccountId"]), []).append(cid)
    for aid in won_accounts:
        for _ in range(rng.randint(1, 3)):
            closed = rng.random() < 0.6
            case_id = backend.insert(
                "Case",
                {
                    "Subject": rng.choice(CASE_SUBJECTS),
                    "Priority": rng.choice(CASE_PRIORITIES if closed else CASE_PRIORITIES[1:]),
                    "Status": rng.choice(("New", "Working")),
                    "Origin": rng.choice(("Phone", "Email", "Web")),
                    "AccountId": aid,
                    "ContactId": rng.choice(contacts.get(aid) or [None]),
                },
            )
            record = backend.records["Case"][case_id]
            if closed:
                created = now - timedelta(days=rng.randint(10, 60), minutes=rng.randint(0, 600))
                record.update(Status="Closed", IsClosed=True, ClosedDate=created + timedelta(days=rng.randint(1, 5)))
                modified = record["ClosedDate"]
            else:
                created = now - timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600))
                modified = created
            record["CreatedDate"] = created
            record["LastModifiedDate"] = record["SystemModstamp"] = modified
