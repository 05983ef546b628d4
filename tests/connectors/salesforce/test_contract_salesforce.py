"""The Salesforce connector passes the connector contract suite (onboard_sync.testing.contract)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onboard_sync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.testing.contract import ConnectorContract, ContractHarness


def _harness(sb: SalesforceSandbox, auth: str) -> ContractHarness:
    settings = SalesforceSettings(**sb.connector_settings(auth))
    return ContractHarness(
        make_connector=lambda gate: SalesforceConnector("salesforce", settings, sb.connector_secrets(), gate),
        touch_deal=lambda deal_id: sb.backend.update("Opportunity", deal_id, {"Probability": 100}),
        now=sb.clock.now,
        expire_session=sb.expire_sessions,
        arm_partial_failure=lambda: sb.faults.partial_batch(fail_every=2, path_contains="composite/sobjects", times=1),
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
