"""Store part for health: what it is judged from (helpdesk tickets, account links) and what it judged.

* ``tickets``: every ticket a ticket source reported (Zendesk, HubSpot tickets …), keyed by
  (source, id); a put never replaces a newer version (by ``updated_at``).
* ``account_links``: which helpdesk organization is which CRM account, and which could not
  be linked (with the reason), as the last run decided; ``status --json`` reports it.
* ``health_history``: one row per onboarding per UTC day (the day's last assessment) with its
  components, so the score can be explained and charted.
* ``alert_episodes``: each alert rule's episodes per onboarding (opened, cleared, task key).

Mixed into ``Store``; called by ``sync.tickets``, ``sync.health``, ``sync.alerts`` and the status view.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from onboard_sync.records import Ticket
from onboard_sync.store import codec
from onboard_sync.store import schema as t
from onboard_sync.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class AccountLink:
    """A helpdesk organization (``source``/``remote_id``) and the CRM account it is, if any."""

    source: str
    remote_id: str
    crm_source: str
    crm_account_id: str | None
    method: str | None
    name: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """One day's health of an onboarding, with every component's outcome."""

    onboarding_id: str
    day: str
    score: int
    status: str
    reasons: tuple[str, ...]
    components: tuple[dict[str, Any], ...]
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class AlertEpisode:
    """One episode of an alert on an onboarding: open while ``cleared_at`` is None."""

    onboarding_id: str
    alert: str
    episode: int
    source: str
    task_key: str
    opened_at: datetime
    cleared_at: datetime | None = None
    detail: str = ""


class HealthMixin(StoreBase):
    """Tickets, account links, health history and alert episodes."""

    # -- tickets ------------------------------------------------------------------------
    def put_tickets(self, tickets: Sequence[Ticket]) -> None:
        """Upsert tickets; an older ``updated_at`` never replaces a newer one."""
        self._check_writable()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for ticket in tickets:
            current = rows.get((ticket.source, ticket.id))
            if current is not None and current["updated_at"] > ticket.updated_at:
                continue
            rows[(ticket.source, ticket.id)] = {
                "source": ticket.source,
                "id": ticket.id,
                "account_id": ticket.account_id,
                "status": ticket.status,
                "priority": ticket.priority,
                "created_at": ticket.created_at,
                "updated_at": ticket.updated_at,
                "data": codec.dumps(ticket),
            }
        with self._write() as conn:
            self._upsert(
                conn,
                t.tickets,
                list(rows.values()),
                keys=["source", "id"],
                where=lambda stmt: stmt.excluded.updated_at >= t.tickets.c.updated_at,
            )

    def tickets_for_accounts(self, source: str, account_ids: Collection[str]) -> dict[str, list[Ticket]]:
        """Tickets of ``source`` by the account id they carry (in that source's id space)."""
        c = t.tickets.c
        base = sa.select(c.data).where(c.source == source)
        with self._read() as conn:
            rows = self._select_in(conn, base, c.account_id, account_ids)
        out: dict[str, list[Ticket]] = {}
        for row in rows:
            ticket = codec.loads(Ticket, row.data)
            out.setdefault(ticket.account_id or "", []).append(ticket)
        for group in out.values():
            group.sort(key=lambda tk: (tk.created_at, tk.id))
        return out

    # -- account links ------------------------------------------------------------------
    def put_account_links(self, source: str, links: Sequence[AccountLink]) -> None:
        """Replace the links recorded for helpdesk ``source`` with ``links``."""
        self._check_writable()
        now = self._now()
        rows = [
            {
                "source": link.source,
                "remote_id": link.remote_id,
                "crm_source": link.crm_source,
                "crm_account_id": link.crm_account_id,
                "method": link.method,
                "name": link.name,
                "detail": link.detail,
                "updated_at": now,
            }
            for link in links
        ]
        with self._write() as conn:
            self._upsert(conn, t.account_links, rows, keys=["source", "remote_id"])

    def account_links(self, source: str | None = None, *, crm_source: str | None = None) -> list[AccountLink]:
        """Recorded links (linked and unlinked), optionally of one helpdesk or one CRM instance."""
        c = t.account_links.c
        query = sa.select(t.account_links).order_by(c.source, c.remote_id)
        if source is not None:
            query = query.where(c.source == source)
        if crm_source is not None:
            query = query.where(c.crm_source == crm_source)
        with self._read() as conn:
            return [
                AccountLink(r.source, r.remote_id, r.crm_source, r.crm_account_id, r.method, r.name, r.detail)
                for r in conn.execute(query)
            ]

    # -- health history -----------------------------------------------------------------
    def record_health(self, records: Sequence[HealthRecord]) -> None:
        """Upsert each onboarding's health for its day (the day's last assessment wins)."""
        self._check_writable()
        rows = [
            {
                "onboarding_id": r.onboarding_id,
                "day": r.day,
                "score": r.score,
                "status": r.status,
                "reasons": list(r.reasons),
                "components": list(r.components),
                "computed_at": r.computed_at,
            }
            for r in records
        ]
        with self._write() as conn:
            self._upsert(conn, t.health_history, rows, keys=["onboarding_id", "day"])

    def health_history(self, onboarding_id: str) -> list[HealthRecord]:
        """Every recorded day of one onboarding, oldest first."""
        c = t.health_history.c
        query = sa.select(t.health_history).where(c.onboarding_id == onboarding_id).order_by(c.day)
        with self._read() as conn:
            return [_health(r) for r in conn.execute(query)]

    def latest_health(self, onboarding_ids: Collection[str]) -> dict[str, HealthRecord]:
        """The newest health record of each onboarding that has one."""
        c = t.health_history.c
        with self._read() as conn:
            rows = self._select_in(conn, sa.select(t.health_history), c.onboarding_id, onboarding_ids)
        latest: dict[str, HealthRecord] = {}
        for row in rows:
            rec = _health(row)
            if rec.onboarding_id not in latest or rec.day > latest[rec.onboarding_id].day:
                latest[rec.onboarding_id] = rec
        return latest

    # -- alert episodes -----------------------------------------------------------------
    def alert_episodes(self, source: str, *, onboarding_id: str | None = None) -> list[AlertEpisode]:
        """Episodes of a CRM instance's onboardings (all, or one onboarding's), oldest first."""
        c = t.alert_episodes.c
        query = sa.select(t.alert_episodes).where(c.source == source)
        if onboarding_id is not None:
            query = query.where(c.onboarding_id == onboarding_id)
        query = query.order_by(c.onboarding_id, c.alert, c.episode)
        with self._read() as conn:
            return [
                AlertEpisode(
                    r.onboarding_id,
                    r.alert,
                    r.episode,
                    r.source,
                    r.task_key,
                    r.opened_at,
                    r.cleared_at,
                    r.detail,
                )
                for r in conn.execute(query)
            ]

    def alert_episodes_of(self, onboarding_ids: Collection[str]) -> list[AlertEpisode]:
        """Episodes of onboardings ``onboarding_ids`` (one chunk of a run), oldest first per alert."""
        c = t.alert_episodes.c
        with self._read() as conn:
            rows = self._select_in(conn, sa.select(t.alert_episodes), c.onboarding_id, onboarding_ids)
        episodes = [
            AlertEpisode(r.onboarding_id, r.alert, r.episode, r.source, r.task_key, r.opened_at, r.cleared_at, r.detail)
            for r in rows
        ]
        return sorted(episodes, key=lambda e: (e.onboarding_id, e.alert, e.episode))

    def put_alert_episodes(self, episodes: Sequence[AlertEpisode]) -> None:
        """Record opened or cleared episodes (upsert by onboarding, alert, episode)."""
        self._check_writable()
        rows = [
            {
                "onboarding_id": e.onboarding_id,
                "alert": e.alert,
                "episode": e.episode,
                "source": e.source,
                "task_key": e.task_key,
                "opened_at": e.opened_at,
                "cleared_at": e.cleared_at,
                "detail": e.detail,
            }
            for e in episodes
        ]
        with self._write() as conn:
            self._upsert(conn, t.alert_episodes, rows, keys=["onboarding_id", "alert", "episode"])


def _health(row: Any) -> HealthRecord:
    return HealthRecord(
        onboarding_id=row.onboarding_id,
        day=row.day,
        score=row.score,
        status=row.status,
        reasons=tuple(row.reasons),
        components=tuple(row.components),
        computed_at=row.computed_at,
    )


__all__ = ["AccountLink", "AlertEpisode", "HealthMixin", "HealthRecord"]
