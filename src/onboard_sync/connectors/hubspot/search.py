"""CRM search for incremental reads: request bodies, the opaque page token, and pacing.

HubSpot search pages with an integer ``after`` offset but refuses to go past 10,000 results.
The page token therefore carries two things: the offset, and a *floor*, a modification time
(ms epoch) the query restarts from once the offset would cross 10,000. Restarting with
``hs_lastmodifieddate GTE <last seen>`` re-reads the records sharing that last timestamp;
the core deduplicates by ``(id, updated_at)``. Search has its own 5 requests/s limit, so
Search calls count against the connector's named ``search`` limit (5/s), not the ten-secondly bucket.
Since the offset is an integer and each answer carries the ``total``, the cursors of the later pages
are known after the first (``ahead_cursors``), so their reads need not wait for one another.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onboard_sync.errors import ApiError

MAX_SEARCH_RESULTS = 10_000
"""HubSpot answers 400 when paging reaches past this many results."""
MODIFIED = "hs_lastmodifieddate"


@dataclass(frozen=True, slots=True)
class SearchCursor:
    """Where the next search page starts: ``after`` within the query restarted at ``floor_ms``."""

    after: int = 0
    floor_ms: int | None = None

    def encode(self) -> str:
        """The opaque token handed to the core."""
        raw = json.dumps({"a": self.after, "f": self.floor_ms}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> SearchCursor:
        """Parse a token made by ``encode`` (``None``: the first page)."""
        if not token:
            return cls()
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            return cls(after=int(data["a"]), floor_ms=None if data["f"] is None else int(data["f"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a HubSpot search page token: {token!r}") from exc


def next_cursor(
    cursor: SearchCursor, next_after: str | None, last_modified_ms: int | None, limit: int
) -> SearchCursor | None:
    """The cursor after a page: ``None`` when it was the last, a restart before 10,000 is crossed."""
    if next_after is None:
        return None
    after = int(next_after)
    if after + limit <= MAX_SEARCH_RESULTS:
        return SearchCursor(after=after, floor_ms=cursor.floor_ms)
    if last_modified_ms is None or (cursor.floor_ms is not None and last_modified_ms <= cursor.floor_ms):
        raise ApiError(
            f"more than {MAX_SEARCH_RESULTS} HubSpot records share the modification time "
            f"{last_modified_ms}; cannot page past them with search"
        )
    return SearchCursor(after=0, floor_ms=last_modified_ms)


def ahead_cursors(cursor: SearchCursor, total: int | None, limit: int) -> list[SearchCursor]:
    """The cursors of the pages after the next one, known from the answer's ``total`` before they
    are read: offsets within the same query (same floor) below ``total`` and the 10,000 cap. The
    engine may read them while the next page is in flight; the pages still chain by ``next_cursor``."""
    if not total:
        return []
    end = min(total, MAX_SEARCH_RESULTS)
    return [
        SearchCursor(after=after, floor_ms=cursor.floor_ms)
        for after in range(cursor.after + 2 * limit, end, limit)
        if after + limit <= MAX_SEARCH_RESULTS
    ]


def to_ms(value: datetime) -> int:
    """A datetime as HubSpot's ms-epoch filter value (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def search_body(
    filters: Sequence[dict[str, Any]],
    cursor: SearchCursor,
    since: datetime | None,
    properties: Sequence[str],
    limit: int,
) -> dict[str, Any]:
    """A search request: ``filters`` ANDed with ``modified >= max(since, floor)``, oldest first."""
    floor = max(x for x in (cursor.floor_ms, to_ms(since) if since else None, -1) if x is not None)
    group = list(filters)
    if floor >= 0:
        group.append({"propertyName": MODIFIED, "operator": "GTE", "value": str(floor)})
    body: dict[str, Any] = {
        "filterGroups": [{"filters": group}] if group else [],
        "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
        "properties": list(dict.fromkeys(properties)),
        "limit": limit,
    }
    if cursor.after:
        body["after"] = str(cursor.after)
    return body
