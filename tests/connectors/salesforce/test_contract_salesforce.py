"""The Salesforce connector passes the connector contract suite (onboard_sync.testing.contract)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onboard_sync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.testing.contract import ConnectorContract, ContractHarness
from onboard_sync.testing.tickets import TicketHarness, TicketSourceContract


def _harness(sb: SalesforceSandbox, auth: str) -> ContractHarness:
    settings = SalesforceSettings(**sb.connector_settings(auth))
    return ContractHarness(
        make_connector=lambda gate: SalesforceConnector("salesforce", settings, sb.connector_secrets(), gate),
        touch_deal=lambda deal_id: sb.backend.update("Opportunity", deal_id, {"Probability": 100}),
        lose_deal=lambda deal_id: sb.backend.set_stage(deal_id, "Closed Lost"),
        now=sb.clock.now,
        expire_session=sb.expire_sessions,
        arm_partial_failure=lambda: sb.faults.partial_batch(fail_every=2, path_contains="composite/sobjects", times=1),
        field_property="Onboarding_Contract__c",  # custom fields end in __c
    )


class TestSalesforceContract(ConnectorContract):
    """Client credentials, an org with an External ID task key (tasks upserted by it)."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        with SalesforceSandbox(seed=3, deals=60, query_batch_size=5) as sb:
            yield _harness(sb, "client_credentials")


class TestSalesforceContractJwtPlainKey(ConnectorContract):
    """JWT bearer, an org where the task key is a plain field (create, then look keys up)."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        with SalesforceSandbox(seed=4, deals=60, query_batch_size=5, task_external_id=False) as sb:
            yield _harness(sb, "jwt")


class TestSalesforceCaseSource(TicketSourceContract):
    """Salesforce Cases as a ticket source (their AccountId is the CRM account already)."""

    @pytest.fixture
    def ticket_harness(self) -> Iterator[TicketHarness]:
        with SalesforceSandbox(seed=3, deals=60, query_batch_size=5) as sb:
            settings = SalesforceSettings(**sb.connector_settings("client_credentials"))
            yield TicketHarness(
                make_connector=lambda gate: SalesforceConnector("salesforce", settings, sb.connector_secrets(), gate),
                touch_ticket=lambda case_id: sb.backend.update("Case", case_id, {"Priority": "High"}),
                now=sb.clock.now,
                has_accounts=False,
            )
