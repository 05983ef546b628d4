"""The ticket-source contract suite: what every helpdesk (or CRM ticket/case) source must do.

Subclass :class:`TicketSourceContract` and provide a ``ticket_harness`` fixture yielding a
:class:`TicketHarness` (a connector factory and its simulator's controls), as for
:class:`onboard_sync.testing.contract.ConnectorContract`. The connector runs behind the core's real
``ApiGate`` on a simulated clock. The suite checks the backfill (tickets with ``source``, string ids,
aware times, no ticket twice, paging ends), an incremental read (a touched ticket, nothing much
older than ``since``) and, for a helpdesk with organizations of its own, ``read_ticket_accounts``
with what linking needs (``external_id``, ``domain_names``) and every ticket's account among them.
Every paged read is bounded (``max_pages``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import Connector
from onboard_sync.records import Account, Ticket
from onboard_sync.testing.support import BuildsConnectors, read_all


@dataclass
class TicketHarness(BuildsConnectors):
    """A ticket-source connector factory and the controls of the simulator behind it."""

    make_connector: Callable[[ApiGate], Connector]
    """Build a connector whose ``call`` is the given gate."""
    touch_ticket: Callable[[str], None]
    """Change a ticket so that it is read as changed now (a source that leaves out the latest changes,
    like Zendesk's last minute, also moves its simulator's clock past them)."""
    now: Callable[[], datetime]
    """The source's current time."""
    since_slack: timedelta = timedelta(seconds=1)
    """How much earlier than ``since`` an incremental read may start (Zendesk's exports: a minute and more)."""
    has_accounts: bool = True
    """Whether the source has organizations of its own (``read_ticket_accounts``); False for a CRM's
    tickets or cases, whose ``account_id`` is already a CRM account."""
    min_pages: int = 2
    max_pages: int = 200
    made: list[Connector] = field(default_factory=list)


class TicketSourceContract:
    """The ticket-source contract tests. Subclasses provide the ``ticket_harness`` fixture."""

    @pytest.fixture
    def tickets(self, ticket_harness: TicketHarness) -> Iterator[TicketHarness]:
        yield ticket_harness
        ticket_harness.close()

    @staticmethod
    def _read(conn: Connector, harness: TicketHarness, since: datetime | None) -> tuple[list[Ticket], int]:
        read = lambda t: conn.read_tickets(since=since, page_token=t)  # noqa: E731
        return read_all(read, harness.max_pages)

    def test_backfill_reads_tickets_once_with_source_ids_and_aware_times(self, tickets: TicketHarness) -> None:
        conn = tickets.connector()
        found, pages = self._read(conn, tickets, None)
        assert found, "the simulator has tickets"
        assert pages >= tickets.min_pages, "the harness should make the simulator page"
        ids = [t.id for t in found]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        assert twice == [], f"tickets read twice within one backfill (pages overlap?): {twice[:5]}"
        for ticket in found:
            assert ticket.source == conn.instance
            assert isinstance(ticket.id, str)
            assert ticket.updated_at.tzinfo is not None
            assert ticket.created_at is None or ticket.created_at.tzinfo is not None
            assert ticket.account_id is None or isinstance(ticket.account_id, str)
            assert ticket.status

    def test_incremental_read_returns_a_touched_ticket_and_nothing_much_older(self, tickets: TicketHarness) -> None:
        conn = tickets.connector()
        found, _ = self._read(conn, tickets, None)
        since = tickets.now() - timedelta(seconds=1)
        target = found[0]
        tickets.touch_ticket(target.id)
        changed, _ = self._read(conn, tickets, since)
        assert target.id in {t.id for t in changed}, "a ticket changed after `since` is read"
        floor = since - tickets.since_slack - timedelta(seconds=1)
        old = [t.id for t in changed if t.updated_at < floor]
        assert old == [], f"an incremental read returned tickets changed long before `since`: {old[:5]}"

    def test_ticket_accounts_carry_what_linking_needs(self, tickets: TicketHarness) -> None:
        if not tickets.has_accounts:
            pytest.skip("the tickets' account ids are CRM accounts already (no read_ticket_accounts)")
        conn = tickets.connector()
        read = lambda t: conn.read_ticket_accounts(since=None, page_token=t)  # noqa: E731
        accounts: list[Account] = read_all(read, tickets.max_pages)[0]
        assert accounts, "the simulator has organizations"
        for account in accounts:
            assert account.source == conn.instance
            assert account.updated_at.tzinfo is not None
            assert {"external_id", "domain_names"} <= set(account.properties), "linking reads both"
        known = {a.id for a in accounts}
        orphans = sorted({t.account_id for t in self._read(conn, tickets, None)[0] if t.account_id} - known)
        assert orphans == [], f"tickets name organizations read_ticket_accounts does not return: {orphans[:5]}"

    def test_tickets_read_by_id_are_the_pulled_ones_and_unknown_ids_are_left_out(self, tickets: TicketHarness) -> None:
        conn = tickets.connector()
        found, _ = self._read(conn, tickets, None)
        wanted = {t.id: t for t in found[:3]}
        try:
            by_id = conn.read_tickets_by_id([*wanted, "999999999"])
        except NotImplementedError:
            pytest.skip("no read_tickets_by_id: serve waits for the next pull to see a webhook's tickets")
        assert sorted(t.id for t in by_id) == sorted(wanted), "each named ticket once, the unknown id left out"
        for ticket in by_id:
            pulled = wanted[ticket.id]
            same = (pulled.source, pulled.account_id, pulled.status)
            assert (ticket.source, ticket.account_id, ticket.status) == same
            assert ticket.updated_at.tzinfo is not None
