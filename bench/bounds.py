"""The two yardsticks every HubSpot figure is reported against.

**Lower bound of API calls** (the fewest calls that can do the work with HubSpot's batch and
search endpoints, computed from the data, not from what the engine did)::

    backfill  = ceil(won / 200)                 deals.search pages (200 per page)
              + 2 × ceil(won / 1000)            v4 association reads, companies + contacts (1,000 ids each)
              + ceil(won companies / 100)       companies.batch_read
              + ceil(owners / 100)              owners.list pages
              + max(1, ceil(keyed tasks / 200)) tasks.search (at least one, to see none exist yet)
              + ceil(tasks created / 100)       tasks.batch_create
              + ceil(deal updates / 100) + ceil(company updates / 100)   *.batch_update
              + 2                               properties.list of deals and companies: the check of the
                                                mapping at the start of every run (the default mapping)

    incremental = max(1, ceil(deals modified since cursor − look-back / 200))
                + 2 × ceil(those deals / 1000) (0 when none)
                + ceil(companies of the won or tracked ones / 100)
                + max(1, ceil(keyed tasks modified since / 200))
                + the same write batches and the 2 properties.list of the check as above

**Rate-limit bound of wall time** (the calls sent as fast as the Starter limits allow):
``max(non-search calls ÷ 10 per s, search calls ÷ 5 per s)`` — 100 requests per rolling 10 s, and
search's separate 5 per second. Used by :mod:`bench.scenarios.hubspot`.

**Salesforce lower bound of API calls** (REST API; a SOQL page holds at most 2,000 records, the
child records of a parent-to-child subquery counted among them, while child-to-parent fields such as
``Account.Name`` are columns of a row and count nothing; a write takes at most 200 records per sObject
Collections call)::

    backfill  = 1                                    login (one token request per run)
              + opportunity pages(won, their contact roles R, won ones without a role N0)
              + 0                                    Accounts: ``Account.*`` fields of the rows read anyway
              + ceil(active Users / 2000)            User query (the owners)
              + max(1, ceil(keyed tasks / 2000))     Task query (at least one, to see none exist yet)
              + max(1, ceil(Cases / 2000))           Case query (the ticket source; every Case on the first run)
              + 2                                    Opportunity and Account describes: the check of the
                                                     mapping at the start of every run (also the field types)
              + 1 describe of Task when tasks are written (upsert by key?)
              + ceil(tasks created / 200) + ceil(Opportunity updates / 200) + ceil(Account updates / 200)

    opportunity pages(W, R, N0) = min(max(1, ceil((W + R) / 2000)),                 (a)
                                      max(1, ceil(R / 2000)) + max(1, ceil(N0 / 2000)))   (b)

    incremental = 1 + opportunity pages(Opportunities with SystemModstamp ≥ cursor − look-back,
                                        their contact roles, those without a role)
                + max(1, ceil(keyed Tasks modified since / 2000)) + max(1, ceil(Cases modified since / 2000))
                + the 2 describes of the check, and the Task describe and write batches above when written

Every Opportunity and every contact role must be read, and two query shapes read them in the fewest
pages: (a) Opportunities as rows, their roles as subquery children (W + R records in one query: what
the connector does); (b) the roles as rows with their Opportunity's fields as parent fields (R records:
an Opportunity with a role costs nothing more), plus an anti-join query for the Opportunities without a
role (N0 rows) — fewer records, but two queries. The Accounts come as parent fields in either shape;
reading roles or Accounts by id (``… IN (…)``) only adds calls. Reads by id (the webhook worker's
path) are not part of these runs.

**Lower bound of a webhook reconcile** (the handoff benchmark): each reconcile the worker ran while
deals were being won reads the deals it must evaluate (won or tracked among those the events named)
by id, with their companies and contacts, and writes what it planned, in batches::

    per reconcile = ceil(deals evaluated / 100)       deals.batch_read (0 when it evaluated none)
                  + 2 × ceil(deals evaluated / 1000)  v4 association reads, companies + contacts
                  + ceil(deals evaluated / 100)       companies.batch_read (each deal has at most one)
                  + the write batches of its writes (``write_batches``)

Deals the events named that are neither won nor tracked cost nothing in the bound (an event that
cannot start or move an onboarding need not be read), nor does the mapping check, which a long-running
worker repeats only every ten minutes. How many reconciles there are is the worker's choice between
latency and calls; the benchmark's latency targets and its zero-429 target hold that choice to
account, this bound only measures waste within each reconcile.

**No rate-limit bound for Salesforce**: it limits API requests per rolling 24 hours (100,000 in
the sandbox, by edition and licences in an org), not per second, so wall time has no rate
floor. The connector calls one at a time, so ``latency × lower-bound calls`` is the network
floor its time is reported against (information, not a target; CPU time is not in it). Used by
:mod:`bench.scenarios.salesforce`.
"""

from __future__ import annotations

from math import ceil
from typing import Any

BURST_PER_S = 100 / 10.0
SEARCH_PER_S = 5.0
CHECKED_KINDS = 2
"""Object kinds the default mapping names (deals and companies, Opportunity and Account): each run reads
their properties once to check the mapping before it writes (``sync.preflight``)."""


def backfill_lower_bound(facts: dict[str, Any], writes: dict[str, int]) -> dict[str, int]:
    won = facts["won"]
    return _drop_zero(
        {
            "deals.search": max(1, ceil(won / 200)),
            "associations.batch_read": 2 * ceil(won / 1000),
            "companies.batch_read": ceil(facts["won_companies"] / 100),
            "owners.list": ceil(facts["owners"] / 100),
            "tasks.search": max(1, ceil(facts.get("tasks_with_key_before", 0) / 200)),
            "properties.list": CHECKED_KINDS,
            **write_batches(writes),
        }
    )


def incremental_lower_bound(modified: dict[str, int], writes: dict[str, int]) -> dict[str, int]:
    deals = modified["deals"]
    return _drop_zero(
        {
            "deals.search": max(1, ceil(deals / 200)),
            "associations.batch_read": 2 * ceil(deals / 1000),
            "companies.batch_read": ceil(modified["companies"] / 100),
            "tasks.search": max(1, ceil(modified["tasks"] / 200)),
            "properties.list": CHECKED_KINDS,
            **write_batches(writes),
        }
    )


def webhook_reconcile_lower_bound(deals_evaluated: int, writes: dict[str, int]) -> dict[str, int]:
    """The fewest HubSpot calls of one webhook reconcile that evaluated ``deals_evaluated`` deals."""
    if not deals_evaluated:
        return _drop_zero(write_batches(writes))
    return _drop_zero(
        {
            "deals.batch_read": ceil(deals_evaluated / 100),
            "associations.batch_read": 2 * ceil(deals_evaluated / 1000),
            "companies.batch_read": ceil(deals_evaluated / 100),
            **write_batches(writes),
        }
    )


def salesforce_webhook_reconcile_lower_bound(deals_evaluated: int, writes: dict[str, int]) -> dict[str, int]:
    """The fewest Salesforce calls of one webhook reconcile: one SOQL read of the evaluated Opportunities
    by id (their roles and Account fields in the same rows), and the Collections writes."""
    reads = {"opportunities.query": ceil(deals_evaluated / SF_READ_PAGE)} if deals_evaluated else {}
    tasks, deals, companies = writes.get("tasks", 0), writes.get("deals", 0), writes.get("companies", 0)
    return _drop_zero(
        {
            **reads,
            "tasks.upsert": ceil(tasks / SF_WRITE_BATCH),
            "opportunities.update": ceil(deals / SF_WRITE_BATCH),
            "accounts.update": ceil(companies / SF_WRITE_BATCH),
        }
    )


def write_batches(writes: dict[str, int]) -> dict[str, int]:
    """``writes``: tasks created and field updates per object type → batch calls of 100."""
    return {
        "tasks.batch_create": ceil(writes.get("tasks", 0) / 100),
        "deals.batch_update": ceil(writes.get("deals", 0) / 100),
        "companies.batch_update": ceil(writes.get("companies", 0) / 100),
    }


def rate_bound_seconds(calls: dict[str, int]) -> float:
    search = sum(v for k, v in calls.items() if k.endswith(".search"))
    other = sum(v for k, v in calls.items() if not k.endswith(".search"))
    return max(other / BURST_PER_S, search / SEARCH_PER_S)


def _drop_zero(calls: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in calls.items() if v}


# --- Salesforce -----------------------------------------------------------------------------------
SF_READ_PAGE = 2000
SF_WRITE_BATCH = 200


def salesforce_opportunity_pages(deals: int, roles: int, without_roles: int) -> int:
    """The fewer pages of the two query shapes that read ``deals`` Opportunities and their ``roles``."""
    nested = max(1, ceil((deals + roles) / SF_READ_PAGE))
    role_rows = max(1, ceil(roles / SF_READ_PAGE)) + max(1, ceil(without_roles / SF_READ_PAGE))
    return min(nested, role_rows)


def salesforce_backfill_lower_bound(facts: dict[str, Any], writes: dict[str, int]) -> dict[str, int]:
    pages = salesforce_opportunity_pages(facts["won"], facts["contact_roles"], facts["won_without_roles"])
    return _drop_zero(
        {
            "oauth.token": 1,
            "opportunities.query": pages,
            "users.query": ceil(facts["users"] / SF_READ_PAGE),
            "tasks.query": max(1, ceil(facts.get("tasks_with_key_before", 0) / SF_READ_PAGE)),
            "cases.query": max(1, ceil(facts.get("cases", 0) / SF_READ_PAGE)),
            **salesforce_writes(writes),
        }
    )


def salesforce_incremental_lower_bound(modified: dict[str, int], writes: dict[str, int]) -> dict[str, int]:
    pages = salesforce_opportunity_pages(modified["deals"], modified["contact_roles"], modified["without_roles"])
    return _drop_zero(
        {
            "oauth.token": 1,
            "opportunities.query": pages,
            "tasks.query": max(1, ceil(modified["tasks"] / SF_READ_PAGE)),
            "cases.query": max(1, ceil(modified.get("cases", 0) / SF_READ_PAGE)),
            **salesforce_writes(writes),
        }
    )


def salesforce_writes(writes: dict[str, int]) -> dict[str, int]:
    """The describes of the run-start check (Opportunity and Account, which also give the field types
    written) and of Task when tasks are written, and Collections calls of 200 (``writes`` as in
    :func:`write_batches`)."""
    tasks, deals, companies = writes.get("tasks", 0), writes.get("deals", 0), writes.get("companies", 0)
    return {
        "task.describe": int(tasks > 0),
        "opportunity.describe": 1,
        "account.describe": 1,
        "tasks.upsert": ceil(tasks / SF_WRITE_BATCH),
        "opportunities.update": ceil(deals / SF_WRITE_BATCH),
        "accounts.update": ceil(companies / SF_WRITE_BATCH),
    }


def latency_bound_seconds(calls: dict[str, int], latency: float) -> float:
    """Sequential calls at ``latency`` each: the network floor of a one-call-at-a-time client."""
    return sum(calls.values()) * latency
