"""Helpdesk tickets for the engine: pull ticket sources, link accounts, hand tickets to evaluation.

Called by :class:`onboard_sync.sync.engine.Engine`:

* :func:`pull_ticket_sources` runs first in a run, once per connector instance with the
  ``TICKET_SOURCE`` capability (Zendesk, HubSpot tickets, Salesforce Cases): it reads
  tickets (and, for a helpdesk with its own organizations, those organizations) changed since
  that instance's own cursors and stages them (``sync.staged_tickets``): ``sync`` stores them
  and advances the cursors; ``plan`` reads the same and holds them in memory over the store (it
  writes nothing, the store included), so it evaluates with the tickets sync will see. It does
  not depend on a deal source.
* :class:`TicketIndex` is built per deal-source instance, after the pull: it links each helpdesk
  organization to a CRM account (``onboard_sync.linking``), records the links and the
  organizations that did not link, and keeps only the link ids (CRM account → organizations).
  Each chunk of a run then loads (``load``) the tickets of its accounts from the store, by id, from
  every ticket source, and lets them go with the next chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from onboard_sync.connector import Capability, Connector
from onboard_sync.errors import ApiError, OnboardSyncError, RateLimitExhausted, UserError
from onboard_sync.linking import LinkSettings, link_accounts
from onboard_sync.records import Account, Ticket
from onboard_sync.store import AccountLink
from onboard_sync.sync.overlap import read_batches
from onboard_sync.sync.staged_tickets import newest

if TYPE_CHECKING:
    from onboard_sync.sync.engine import Engine


def pull_ticket_sources(
    engine: Engine,
    summary: dict[str, Any],
    *,
    min_age: timedelta = timedelta(0),
    busy: tuple[str, Callable[[], object]] | None = None,
    named: Mapping[str, Collection[str]] | None = None,
) -> None:
    """Pull every ticket-source instance into ``engine.staged_tickets``; record counts in ``summary``.

    ``min_age`` skips an instance pulled less than that long ago (webhook-driven partial runs come
    in bursts, and Zendesk allows 10 export calls a minute). ``busy`` is ``(instance, wait)``: an
    instance whose deal pull is running meanwhile; it is pulled last, after ``wait()`` returns.
    ``named`` (instance → ticket ids, from ``serve``'s webhooks) are read by id first, whatever
    ``min_age`` says: a helpdesk's export leaves out the last minute, a read by id does not."""
    names = list(engine.runtime.instances_with(Capability.TICKET_SOURCE))
    if engine.ticket_sources is not None:
        names = [name for name in names if name in engine.ticket_sources]
    if busy is not None and busy[0] in names:
        names.remove(busy[0])
        names.append(busy[0])
    for name in names:
        if busy is not None and name == busy[0]:
            busy[1]()
        ids = sorted(set((named or {}).get(name, ())))
        pulled = engine.store.get_cursor(name, "tickets")
        export = not (min_age and pulled is not None and engine.clock() - pulled < min_age)
        if not export and not ids:
            continue
        entry: dict[str, Any] = {"tickets_pulled": 0, "organizations_pulled": 0}
        summary[name] = entry
        connector = engine.runtime.connector(
            name, plan_mode=engine.plan_mode, sleep=engine.sleep, limiters=engine.limiters
        )
        try:
            if ids:
                entry["tickets_read_by_id"] = _read_named(engine, connector, ids)
            if export:
                _pull(engine, name, connector, entry)
        except RateLimitExhausted as exc:
            entry["error"] = f"stopped: API quota exhausted ({exc}); the next run resumes from the cursor"
        except UserError:
            raise
        except (ApiError, OnboardSyncError) as exc:
            entry["error"] = str(exc)
        finally:
            entry["api_calls"] = connector.call.summary()  # type: ignore[attr-defined]
            connector.close()


def _pull(engine: Engine, name: str, connector: Connector, entry: dict[str, Any]) -> None:
    store, staged = engine.store, engine.staged_tickets
    started = engine.clock()
    lookback = timedelta(minutes=engine.runtime.config.core.lookback_minutes)
    for stream, read in (
        ("ticket_accounts", connector.read_ticket_accounts),
        ("tickets", connector.read_tickets),
    ):
        cursor = None if engine.full else store.get_cursor(name, stream)
        since = cursor - lookback if cursor else None
        pulled = 0
        try:
            for page in engine.read_pages(name, stream, lambda token, r=read, s=since: r(since=s, page_token=token)):
                pulled += len(page.records)
                if stream == "tickets":
                    staged.put_tickets(page.records)
                else:
                    staged.put_accounts(page.records)
        except NotImplementedError:
            continue  # e.g. a CRM's own tickets have no separate organizations
        entry["tickets_pulled" if stream == "tickets" else "organizations_pulled"] = pulled
        if not engine.plan_mode:
            with store.transaction():
                store.set_cursor(name, stream, started)


def _read_named(engine: Engine, connector: Connector, ids: Sequence[str]) -> int:
    """Stage the tickets ``ids`` read by id; how many the helpdesk returned (0 if it cannot read by id)."""
    read = 0
    try:
        for _, tickets in read_batches(connector, ids, connector.read_tickets_by_id):
            engine.staged_tickets.put_tickets(tickets)
            read += len(tickets)
    except NotImplementedError:
        return 0  # the export pull, or the follow-up run, brings them
    return read


def link_settings(engine: Engine, ticket_source: str) -> LinkSettings:
    settings = engine.runtime.config.connectors[ticket_source]
    link = getattr(settings, "link", None)
    return link if isinstance(link, LinkSettings) else LinkSettings()


class TicketIndex:
    """Every ticket source's tickets for the CRM accounts of one chunk of a deal-source instance."""

    def __init__(self, engine: Engine, crm: str, pulled_accounts: Mapping[str, Account]) -> None:
        self.crm = crm
        self.store = engine.store
        self.records = engine.staged_tickets
        self.own_tickets = False
        """Whether the CRM is itself a ticket source (its tickets carry its account ids)."""
        self.by_account: dict[str, list[Ticket]] = {}
        self.links: dict[str, dict[str, int]] = {}
        self.linked: dict[str, dict[str, str]] = {}
        """Per helpdesk instance: organization id → CRM account id (for write-back)."""
        self.orgs_of: dict[str, dict[str, list[str]]] = {}
        """Per helpdesk instance: CRM account id → its organization ids."""
        self.unlinked: list[dict[str, str]] = []
        self.counted: set[str] = set()
        self.matched = 0
        deal_sources = engine.runtime.instances_with(Capability.DEAL_SOURCE)
        for source in engine.runtime.instances_with(Capability.TICKET_SOURCE):
            if source == crm:
                self.own_tickets = True
                continue
            if source in deal_sources:
                continue  # another CRM's tickets belong to that CRM's onboardings
            settings = link_settings(engine, source)
            if (settings.crm or (deal_sources[0] if deal_sources else None)) != crm:
                continue
            self._link(engine, source, settings, pulled_accounts)

    def _link(
        self, engine: Engine, source: str, settings: LinkSettings, pulled_accounts: Mapping[str, Account]
    ) -> None:
        store = self.store
        crm_accounts = self.records.all_accounts(self.crm)
        crm_accounts.update((i, newest(crm_accounts.get(i), a)) for i, a in pulled_accounts.items())
        results = link_accounts(self.records.all_accounts(source).values(), crm_accounts, settings)
        if not engine.plan_mode:
            with store.transaction():
                store.put_account_links(
                    source,
                    [
                        AccountLink(source, r.remote_id, self.crm, r.crm_account_id, r.method, r.name, r.detail)
                        for r in results
                    ],
                )
        linked = {r.remote_id: r.crm_account_id for r in results if r.crm_account_id}
        self.linked[source] = linked
        orgs_of: dict[str, list[str]] = {}
        for org_id, crm_id in linked.items():
            orgs_of.setdefault(crm_id, []).append(org_id)
        self.orgs_of[source] = orgs_of
        self.links[source] = {"linked": len(linked), "unlinked": len(results) - len(linked)}
        self.unlinked += [
            {"source": source, "organization_id": r.remote_id, "name": r.name, "reason": r.detail}
            for r in results
            if r.crm_account_id is None
        ]

    def load(self, account_ids: Collection[str]) -> None:
        """Hold the tickets of CRM accounts ``account_ids`` (one chunk's), read by id; drop the last chunk's."""
        self.by_account = {}
        wanted = sorted(set(account_ids))
        if self.own_tickets:
            self._add(self.records.tickets_for_accounts(self.crm, wanted), {a: a for a in wanted})
        for source, orgs_of in self.orgs_of.items():
            to_crm = {org: crm_id for crm_id in wanted for org in orgs_of.get(crm_id, ())}
            if to_crm:
                self._add(self.records.tickets_for_accounts(source, sorted(to_crm)), to_crm)
        for crm_id, group in self.by_account.items():
            if crm_id not in self.counted:
                self.counted.add(crm_id)
                self.matched += len(group)

    def _add(self, tickets: Mapping[str, list[Ticket]], to_crm: Mapping[str, str | None]) -> None:
        for remote, group in tickets.items():
            crm_id = to_crm.get(remote)
            if crm_id:
                self.by_account.setdefault(crm_id, []).extend(group)

    def tickets_of(self, account_id: str | None) -> tuple[Ticket, ...]:
        return tuple(self.by_account.get(account_id, ())) if account_id else ()

    def summary(self) -> dict[str, Any]:
        """For the run report: tickets matched to onboardings' accounts, links per helpdesk, unlinked ones."""
        return {
            "tickets_for_onboardings": self.matched,
            "links": self.links,
            "unlinked": self.unlinked,
        }
