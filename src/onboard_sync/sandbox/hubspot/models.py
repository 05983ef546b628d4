"""Record types of the HubSpot sandbox: CRM objects, owners, change events, prepared writes.

Plain dataclasses shared by the backend, the seeder and the wire layer; tests read them through
``sb.backend.deals[...]`` and friends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboard_sync.sandbox.common import epoch_ms, from_ms

CS_TEAM, SALES_TEAM = "Customer Success", "Sales"


@dataclass(slots=True, eq=False)
class Record:
    """A CRM object. ``properties`` holds strings only; an unset property is absent."""

    id: str
    kind: str
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_at: datetime | None = None
    indexed: dict[str, str] | None = None  # what search sees until ``visible_at`` (search lag)
    visible_at: datetime | None = None

    @property
    def created_at(self) -> datetime:
        return from_ms(self.created_ms)

    @property
    def updated_at(self) -> datetime:
        return from_ms(self.updated_ms)


@dataclass(slots=True)
class Owner:
    """A HubSpot user who can own records. ``team`` is ``"Sales"`` or ``"Customer Success"``."""

    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    team: str
    created_at: datetime
    archived: bool = False

    @property
    def properties(self) -> dict[str, str]:
        return {
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": str(self.user_id),
            "team": self.team,
        }

    @property
    def is_cs(self) -> bool:
        return self.team == CS_TEAM


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """Something that changed, in HubSpot webhook terms (``deal.propertyChange`` ...)."""

    event_id: int
    occurred_at: datetime
    subscription_type: str
    object_type: str
    object_id: str
    property_name: str | None = None
    property_value: str | None = None
    change_source: str = "CRM_UI"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def occurred_at_ms(self) -> int:
        return epoch_ms(self.occurred_at)


@dataclass(slots=True)
class PreparedWrite:
    """A validated write, not yet applied (lets batches validate everything before writing)."""

    kind: str
    clean: dict[str, str | None]
    links: list[tuple[str, str, int]]
    record_id: str | None = None


__all__ = ["CS_TEAM", "SALES_TEAM", "ChangeEvent", "Owner", "PreparedWrite", "Record"]
