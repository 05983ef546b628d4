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

    incremental = max(1, ceil(deals modified since cursor − look-back / 200))
                + 2 × ceil(those deals / 1000) (0 when none)
                + ceil(companies of the won or tracked ones / 100)
                + max(1, ceil(keyed tasks modified since / 200))
                + the same write batches as above

**Rate-limit bound of wall time** (the calls sent as fast as the Starter limits allow):
``max(non-search calls ÷ 10 per s, search calls ÷ 5 per s)`` — 100 requests per rolling 10 s, and
search's separate 5 per second. Used by :mod:`bench.scenarios.hubspot`.
"""

from __future__ import annotations

from math import ceil
from typing import Any

BURST_PER_S = 100 / 10.0
SEARCH_PER_S = 5.0


def backfill_lower_bound(facts: dict[str, Any], writes: dict[str, int]) -> dict[str, int]:
    won = facts["won"]
    return _drop_zero(
        {
            "deals.search": max(1, ceil(won / 200)),
            "associations.batch_read": 2 * ceil(won / 1000),
            "companies.batch_read": ceil(facts["won_companies"] / 100),
            "owners.list": ceil(facts["owners"] / 100),
            "tasks.search": max(1, ceil(facts.get("tasks_with_key_before", 0) / 200)),
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
            **write_batches(writes),
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
