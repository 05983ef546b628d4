"""State and behaviour of the Zendesk sandbox: organizations, users, tickets, ticket metrics, exports.

Records are plain dicts in Zendesk's wire shape (integer ids, ISO-8601 ``Z`` timestamps) plus
an internal ``generated_timestamp`` (epoch seconds) bumped on every change, which is what the
incremental exports compare ``start_time`` with. Time comes from the injectable sandbox clock.
Used by the ASGI app (``app.py``), the seeder (``seed.py``) and tests that act like agents
(``add_ticket``, ``update_ticket``, ``solve_ticket``).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from onboard_sync.sandbox.clock import Clock

KINDS = ("tickets", "users", "organizations")
SOLVED = ("solved", "closed")


def iso(dt: datetime) -> str:
    """``2026-01-05T09:30:00Z`` (Zendesk's timestamp format)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def encode_cursor(gts: int, rid: int) -> str:
    """An opaque export cursor (Zendesk's look like base64 of ``"<ts>.0||<id>|"``)."""
    return base64.b64encode(f"{gts}.0||{rid}|".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int] | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        ts, rest = text.split("||", 1)
        return int(float(ts)), int(rest.rstrip("|") or 0)
    except (ValueError, UnicodeDecodeError):
        return None


class ZendeskBackend:
    """An in-memory Zendesk account. Thread-safe; the app serves it from uvicorn's thread."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.records: dict[str, dict[int, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self.metrics: dict[int, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.org_fields: dict[str, dict[str, Any]] = {}
        self._next = {"tickets": 1001, "users": 5_000_001, "organizations": 360_000_001}
        self.seeding = False
        """While seeding, records are stamped at their creation time (older than the export horizon);
        afterwards every change is stamped "now", as in Zendesk."""

    organizations = property(lambda self: self.records["organizations"])
    users = property(lambda self: self.records["users"])
    tickets = property(lambda self: self.records["tickets"])

    def reset(self) -> None:
        with self.lock:
            for kind in KINDS:
                self.records[kind].clear()
            self.metrics.clear()
            self.jobs.clear()
            self.org_fields.clear()

    # -- writes ---------------------------------------------------------------------------------
    def _new_id(self, kind: str) -> int:
        rid = self._next[kind]
        self._next[kind] += 1
        return rid

    def _stamp(self, record: dict[str, Any], at: datetime | None = None) -> None:
        now = self.clock.now()
        record["updated_at"] = iso(at or now)
        record["generated_timestamp"] = epoch(at if (self.seeding and at is not None) else now)

    def add_organization(
        self,
        name: str,
        *,
        domain_names: Iterable[str] = (),
        external_id: str | None = None,
        fields: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            rid = self._new_id("organizations")
            created = created_at or self.clock.now()
            org: dict[str, Any] = {
                "id": rid,
                "url": f"/api/v2/organizations/{rid}.json",
                "name": name,
                "domain_names": list(domain_names),
                "external_id": external_id,
                "details": "",
                "notes": "",
                "group_id": None,
                "shared_tickets": False,
                "shared_comments": False,
                "tags": [],
                "organization_fields": dict(fields or {}),
                "created_at": iso(created),
            }
            self._stamp(org, created)
            self.organizations[rid] = org
            return org

    def update_organization(self, rid: int, changes: dict[str, Any]) -> dict[str, Any]:
        """PUT semantics: ``organization_fields`` merged per key, anything else replaced."""
        with self.lock:
            org = self.organizations[rid]
            for key, value in changes.items():
                if key == "organization_fields" and isinstance(value, dict):
                    org["organization_fields"] = {**org["organization_fields"], **value}
                elif key not in ("id", "url", "created_at", "updated_at"):
                    org[key] = value
            self._stamp(org)
            return org

    def add_user(
        self,
        name: str,
        email: str,
        organization_id: int | None,
        role: str = "end-user",
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            rid = self._new_id("users")
            created = created_at or self.clock.now()
            user = {
                "id": rid,
                "name": name,
                "email": email,
                "role": role,
                "organization_id": organization_id,
                "external_id": None,
                "active": True,
                "suspended": False,
                "created_at": iso(created),
                "user_fields": {},
            }
            self._stamp(user, created)
            self.users[rid] = user
            return user

    def add_ticket(
        self,
        subject: str,
        *,
        organization_id: int | None,
        requester_id: int | None = None,
        priority: str | None = "normal",
        status: str = "open",
        created_at: datetime | None = None,
        type: str | None = "incident",
    ) -> dict[str, Any]:
        with self.lock:
            rid = self._new_id("tickets")
            created = created_at or self.clock.now()
            ticket = {
                "id": rid,
                "url": f"/api/v2/tickets/{rid}.json",
                "subject": subject,
                "raw_subject": subject,
                "description": subject,
                "status": status,
                "priority": priority,
                "type": type,
                "organization_id": organization_id,
                "requester_id": requester_id,
                "assignee_id": None,
                "tags": [],
                "custom_fields": [],
                "created_at": iso(created),
            }
            self._stamp(ticket, created if created_at else None)
            self.tickets[rid] = ticket
            self.metrics[rid] = {
                "id": rid + 70_000_000,
                "ticket_id": rid,
                "created_at": iso(created),
                "updated_at": ticket["updated_at"],
                "solved_at": None,
                "reopens": 0,
                "replies": 0,
                "reply_time_in_minutes": {"calendar": 30, "business": 30},
                "full_resolution_time_in_minutes": {"calendar": None, "business": None},
            }
            if status in SOLVED:
                self._solved(rid)
            return ticket

    def update_ticket(self, rid: int, **changes: Any) -> dict[str, Any]:
        """An agent's update (status, priority, organization …): bumps ``updated_at`` and exports."""
        with self.lock:
            ticket = self.tickets[rid]
            ticket.update(changes)
            self._stamp(ticket)
            metric = self.metrics[rid]
            metric["updated_at"] = ticket["updated_at"]
            if ticket["status"] in SOLVED and metric["solved_at"] is None:
                self._solved(rid)
            elif ticket["status"] not in SOLVED and metric["solved_at"] is not None:
                metric["solved_at"] = None
                metric["reopens"] += 1
            return ticket

    def solve_ticket(self, rid: int) -> dict[str, Any]:
        return self.update_ticket(rid, status="solved")

    def _solved(self, rid: int) -> None:
        metric = self.metrics[rid]
        now = self.clock.now()
        metric["solved_at"] = iso(now)
        created = datetime.fromisoformat(metric["created_at"].replace("Z", "+00:00"))
        minutes = max(0, int((now - created).total_seconds() // 60))
        metric["full_resolution_time_in_minutes"] = {"calendar": minutes, "business": minutes}

    # -- reads ----------------------------------------------------------------------------------
    def export_window(self, kind: str, after: tuple[int, int]) -> list[dict[str, Any]]:
        """Records changed at or after ``after`` (gts, id exclusive of that id) and before the last
        minute (Zendesk leaves out the most recent minute), oldest first."""
        horizon = epoch(self.clock.now() - timedelta(seconds=60))
        with self.lock:
            rows = [
                r
                for r in self.records[kind].values()
                if (r["generated_timestamp"], r["id"]) > after and r["generated_timestamp"] < horizon
            ]
        return sorted(rows, key=lambda r: (r["generated_timestamp"], r["id"]))

    def listing(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            source = self.metrics if kind == "ticket_metrics" else self.records[kind]
            return [dict(r) for _, r in sorted(source.items())]


__all__ = ["KINDS", "ZendeskBackend", "decode_cursor", "encode_cursor", "epoch", "iso"]
