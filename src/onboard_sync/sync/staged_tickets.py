"""Helpdesk records a run pulled: tickets and organizations, in the store (sync) or in memory (plan).

Called by ``sync.tickets``: the ticket pull puts each page here, and ``TicketIndex`` (linking,
each chunk's tickets) and ``sync.writeback`` (organization fields) read through it. In ``sync``
every call goes straight to the store. In ``plan`` the store is read-only, so the pulled records
are held in memory and laid over the store's cache with the store's own rule (a record never
replaces a newer one by ``updated_at``): plan reads the same tickets and organizations sync
would, and so predicts the same health, alerts and write-back. ``Staged`` in ``sync.chunks`` does
the same for deals, accounts and task statuses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TypeVar

from onboard_sync.records import Account, Deal, Ticket
from onboard_sync.store import Store

R = TypeVar("R", Account, Deal, Ticket)


def newest(stored: R | None, pulled: R) -> R:
    """The record the store would keep: the pulled one unless the cached one is newer."""
    return stored if stored is not None and stored.updated_at > pulled.updated_at else pulled


class StagedTickets:
    """Tickets and helpdesk organizations pulled this run, keyed by source."""

    def __init__(self, store: Store, *, in_memory: bool) -> None:
        self.store = store
        self.in_memory = in_memory
        self._tickets: dict[str, dict[str, Ticket]] = {}
        self._accounts: dict[str, dict[str, Account]] = {}
        self._lock = threading.Lock()  # the ticket pull runs on its own thread

    def put_tickets(self, tickets: Sequence[Ticket]) -> None:
        self._put(tickets, self._tickets, self.store.put_tickets)

    def put_accounts(self, accounts: Sequence[Account]) -> None:
        self._put(accounts, self._accounts, self.store.put_accounts)

    def _put(self, records: Sequence[R], held: dict[str, dict[str, R]], store: Callable[[Sequence[R]], None]) -> None:
        if not self.in_memory:
            with self.store.transaction():
                store(records)
            return
        with self._lock:
            for record in records:
                mine = held.setdefault(record.source, {})
                mine[record.id] = newest(mine.get(record.id), record)

    def all_accounts(self, source: str) -> dict[str, Account]:
        """Every cached organization (or CRM account) of ``source``, pulled ones laid over."""
        return _laid_over(self.store.all_accounts(source), self._accounts.get(source, {}), None)

    def get_accounts(self, source: str, ids: Collection[str]) -> dict[str, Account]:
        return _laid_over(self.store.get_accounts(source, ids), self._accounts.get(source, {}), set(ids))

    def tickets_for_accounts(self, source: str, account_ids: Collection[str]) -> dict[str, list[Ticket]]:
        """Tickets of ``source`` by the account id they carry, as ``Store.tickets_for_accounts``."""
        stored = self.store.tickets_for_accounts(source, account_ids)
        pulled = self._tickets.get(source)
        if not pulled:
            return stored
        wanted = set(account_ids)
        by_id = {ticket.id: ticket for group in stored.values() for ticket in group}
        for ticket_id, ticket in pulled.items():
            kept = newest(by_id.get(ticket_id), ticket)
            if kept is ticket:
                by_id[ticket_id] = ticket  # may have moved to another account, or out of the wanted ones
        out: dict[str, list[Ticket]] = {}
        for ticket in by_id.values():
            if (ticket.account_id or "") in wanted:
                out.setdefault(ticket.account_id or "", []).append(ticket)
        for group in out.values():
            group.sort(key=lambda tk: (tk.created_at, tk.id))
        return out


def _laid_over(stored: dict[str, Account], pulled: Mapping[str, Account], ids: set[str] | None) -> dict[str, Account]:
    for account_id, account in pulled.items():
        if ids is None or account_id in ids:
            stored[account_id] = newest(stored.get(account_id), account)
    return stored
