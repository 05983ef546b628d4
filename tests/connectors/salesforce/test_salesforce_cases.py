"""Salesforce Cases as a ticket source: the mapping to ``Ticket``, the SOQL, and ``read_tickets`` on the sandbox.

The mapping is checked against the other sources: a Case, a HubSpot ticket and a Zendesk ticket that mean the
same thing give the same health metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import Capability
from onboard_sync.connectors.hubspot import tickets as hubspot_tickets
from onboard_sync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from onboard_sync.connectors.salesforce.cases import case_soql, to_ticket
from onboard_sync.connectors.zendesk import convert as zendesk_convert
from onboard_sync.errors import ApiError
from onboard_sync.onboarding.health import collect_metrics
from onboard_sync.onboarding.state import CustomerFacts
from onboard_sync.records import Deal, Ticket
from onboard_sync.rules import default_playbook_path, load_playbook
from onboard_sync.sandbox.salesforce import SalesforceSandbox

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _case(**fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "attributes": {"type": "Case"},
        "Id": "5005g00000ABCDEAAQ",
        "CaseNumber": "00001042",
        "Subject": "SSO broken",
        "Status": "Escalated",
        "Priority": "High",
        "IsClosed": False,
        "ClosedDate": None,
        "CreatedDate": "2026-03-05T08:00:00.000+0000",
        "SystemModstamp": "2026-03-09T10:15:30.000+0000",
        "AccountId": "0015g00000XYZ12AAA",
        "ContactId": "0035g00000QRS34AAA",
    }
    rec.update(fields)
    return rec


def test_an_open_high_case_maps_to_an_open_high_ticket_on_its_account() -> None:
    ticket = to_ticket("salesforce", _case())
    assert ticket == Ticket(
        source="salesforce",
        id="5005g00000ABCDEAAQ",
        updated_at=datetime(2026, 3, 9, 10, 15, 30, tzinfo=UTC),
        subject="SSO broken",
        status="open",
        priority="high",
        created_at=datetime(2026, 3, 5, 8, 0, tzinfo=UTC),
        account_id="0015g00000XYZ12AAA",
        solved_at=None,
        properties={"case_number": "00001042", "status": "Escalated", "contact_id": "0035g00000QRS34AAA"},
    )


def test_closed_is_what_salesforce_says_whatever_the_status_is_called() -> None:
    closed = to_ticket(
        "sf",
        _case(Status="Resolved - Customer Confirmed", IsClosed=True, ClosedDate="2026-03-09T10:15:00.000+0000"),
    )
    assert closed.status == "closed"
    assert closed.solved_at == datetime(2026, 3, 9, 10, 15, tzinfo=UTC)
    assert closed.properties["status"] == "Resolved - Customer Confirmed"
    # an org whose "Closed" status is not flagged closed keeps the case open
    assert to_ticket("sf", _case(Status="Closed", IsClosed=False)).status == "open"


def test_missing_priority_account_and_dates_are_tolerated() -> None:
    ticket = to_ticket("sf", _case(Priority=None, AccountId=None, ContactId=None, CreatedDate=None, Subject=None))
    assert ticket.priority is None
    assert ticket.account_id is None
    assert ticket.subject == ""
    assert ticket.created_at == ticket.updated_at
    assert to_ticket("sf", _case(Priority=" Critical ")).priority == "critical"


def test_case_soql_is_incremental_by_system_modstamp_oldest_first() -> None:
    assert case_soql(None) == (
        "SELECT Id, CaseNumber, Subject, Status, Priority, IsClosed, ClosedDate, CreatedDate, SystemModstamp, "
        "AccountId, ContactId FROM Case ORDER BY SystemModstamp, Id"
    )
    since = datetime(2026, 3, 1, 7, 30, 15, 999000, tzinfo=UTC)
    assert " FROM Case WHERE SystemModstamp >= 2026-03-01T07:30:15Z ORDER BY SystemModstamp, Id" in case_soql(since)
    filtered = case_soql(since, "Origin = 'Web'")
    assert filtered.endswith(
        "WHERE SystemModstamp >= 2026-03-01T07:30:15Z AND (Origin = 'Web') ORDER BY SystemModstamp, Id"
    )
    assert "FROM Case WHERE (Origin = 'Web') ORDER BY" in case_soql(None, "Origin = 'Web'")


def _metrics(tickets: tuple[Ticket, ...]) -> dict[str, float]:
    deal = Deal("x", "d1", NOW, "Deal", "won", True, True, account_ids=("a1",))
    playbook = load_playbook(default_playbook_path())
    return collect_metrics(playbook, CustomerFacts(deal=deal, tickets=tickets), NOW, go_live_at=None)


def test_health_counts_a_case_as_it_counts_the_same_hubspot_or_zendesk_ticket() -> None:
    created = NOW - timedelta(days=5)
    closed_at = NOW - timedelta(days=1)
    iso = created.isoformat().replace("+00:00", "Z")
    sf_time = created.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    rows = [  # (Salesforce, HubSpot, Zendesk) for: open high, open medium/normal, solved high
        (
            _case(Priority="High", CreatedDate=sf_time),
            {"hs_ticket_priority": "HIGH", "hs_pipeline_stage": "2", "createdate": iso},
            {"priority": "high", "status": "open", "created_at": iso},
        ),
        (
            _case(Priority="Medium", Status="Working", CreatedDate=sf_time),
            {"hs_ticket_priority": "MEDIUM", "hs_pipeline_stage": "1", "createdate": iso},
            {"priority": "normal", "status": "pending", "created_at": iso},
        ),
        (
            _case(IsClosed=True, Status="Closed", ClosedDate=closed_at.isoformat(), CreatedDate=sf_time),
            {"hs_ticket_priority": "HIGH", "hs_pipeline_stage": "4", "createdate": iso},
            {"priority": "high", "status": "solved", "created_at": iso},
        ),
    ]
    salesforce = tuple(to_ticket("sf", sf) for sf, _, _ in rows)
    hubspot = tuple(
        hubspot_tickets.to_ticket(
            "hs", SimpleNamespace(id=str(n), properties=props, updated_at=NOW), {str(n): ["a1"]}, ["4"]
        )
        for n, (_, props, _) in enumerate(rows)
    )
    zendesk = tuple(zendesk_convert.to_ticket("zd", {"id": n, **raw}, None) for n, (_, _, raw) in enumerate(rows))
    expected = _metrics(salesforce)
    assert expected["open_tickets"] == 2
    assert expected["open_urgent_tickets"] == 1
    assert expected["stale_urgent_tickets"] == 1
    assert _metrics(hubspot) == expected
    assert _metrics(zendesk) == expected


# --- read_tickets against the sandbox over HTTPS ----------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(seed=5, deals=30, query_batch_size=5) as sb:
        yield sb


def _connector(sb: SalesforceSandbox, **overrides: Any) -> SalesforceConnector:
    settings = SalesforceSettings(**sb.connector_settings(**overrides))
    gate = ApiGate(sleep=lambda seconds: None)
    connector = SalesforceConnector("salesforce", settings, sb.connector_secrets(), gate)
    gate.bind_connector(connector)
    return connector


def _all(connector: SalesforceConnector, since: datetime | None) -> list[Ticket]:
    found: list[Ticket] = []
    token: str | None = None
    while True:
        page = connector.read_tickets(since=since, page_token=token)
        found += page.records
        token = page.next_token
        if token is None:
            return found


def test_the_connector_declares_a_ticket_source_with_no_separate_accounts(sandbox: SalesforceSandbox) -> None:
    assert Capability.TICKET_SOURCE in SalesforceConnector.capabilities
    connector = _connector(sandbox)
    with pytest.raises(NotImplementedError):
        connector.read_ticket_accounts(since=None, page_token=None)
    connector.close()


def test_read_tickets_backfills_every_case_then_reads_only_changes(sandbox: SalesforceSandbox) -> None:
    backend = sandbox.backend
    won_accounts = {o["AccountId"] for o in backend.opportunities.values() if o["IsWon"]}
    assert {c["AccountId"] for c in backend.cases.values()} == won_accounts, "seeded on every won account"
    connector = _connector(sandbox)
    first = _all(connector, None)
    assert len(backend.cases) > 5, "more than one page"
    assert [t.id for t in first] == [
        c["Id"] for c in sorted(backend.cases.values(), key=lambda c: (c["SystemModstamp"], c["Id"]))
    ]
    assert {t.account_id for t in first} == won_accounts
    assert all(t.priority in ("high", "medium", "low") for t in first)
    assert not any(t.status == "open" and t.priority == "high" for t in first), "no seeded urgent case"

    cursor = sandbox.clock.now()
    sandbox.clock.advance(minutes=1)
    account = sorted(won_accounts)[0]
    opened = backend.open_case(account, "Outage", priority="High", age=timedelta(days=4))
    closed = next(c["Id"] for c in backend.cases.values() if not c["IsClosed"] and c["Id"] != opened)
    backend.close_case(closed)
    changed = _all(connector, cursor)
    assert [t.id for t in changed] == [opened, closed]
    new, done = changed
    assert (new.status, new.priority, new.account_id) == ("open", "high", account)
    assert abs(new.created_at - backend.cases[opened]["CreatedDate"]) < timedelta(milliseconds=1)
    assert (sandbox.clock.now() - new.created_at).days == 4
    assert done.status == "closed"
    assert done.solved_at is not None
    assert done.properties["status"] == "Closed"
    connector.close()


def test_cases_off_reads_nothing_and_does_not_log_in(sandbox: SalesforceSandbox) -> None:
    connector = _connector(sandbox, read_cases=False)
    sandbox.requests.clear()
    assert connector.read_tickets(since=None, page_token=None).records == []
    assert list(sandbox.requests) == []
    connector.close()


def test_a_user_without_case_access_gets_a_clear_error(sandbox: SalesforceSandbox) -> None:
    del sandbox.backend.schema.objects["Case"]  # what the org answers when the profile cannot read Case
    connector = _connector(sandbox)
    with pytest.raises(ApiError, match=r"cannot read Cases.*read_cases = false in \[connectors\.salesforce\]"):
        connector.read_tickets(since=None, page_token=None)
    connector.close()
