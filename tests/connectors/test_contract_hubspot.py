"""The HubSpot connector passes the connector contract suite (onboard_sync.testing.contract)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from onboard_sync.connectors.hubspot import HubSpotConnector, HubSpotSettings
from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.testing.contract import ConnectorContract, ContractHarness
from onboard_sync.testing.tickets import TicketHarness, TicketSourceContract


class TestHubSpotContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        with HubSpotSandbox(seed=3, deals=60) as sb:
            refresh = sb.oauth_client("contract-client", "contract-secret", expires_in=1800)
            secrets = {"HUBSPOT_CLIENT_SECRET": "contract-secret", "HUBSPOT_REFRESH_TOKEN": refresh}
            settings = HubSpotSettings(
                base_url=sb.base_url, client_id="contract-client", search_requests_per_second=1000.0
            )

            def make(gate: Any) -> HubSpotConnector:
                conn = HubSpotConnector("hubspot", settings, secrets, gate)
                conn.search_page_size = 5  # type: ignore[misc]  # small pages: the backfill must page
                conn.association_batch = 5  # type: ignore[misc]  # (a read_deals page gathers up to this many)
                return conn

            yield ContractHarness(
                make_connector=make,
                touch_deal=lambda deal_id: sb.backend.update("deals", deal_id, {"description": "touched"}),
                lose_deal=lambda deal_id: sb.backend.update("deals", deal_id, {"dealstage": "closedlost"}),
                now=sb.clock.now,
                expire_session=lambda: sb.clock.advance(seconds=3600),
                arm_partial_failure=lambda: sb.faults.partial_batch(
                    fail_every=2, path_contains="tasks/batch/create", times=1
                ),
            )


class TestHubSpotTicketSource(TicketSourceContract):
    """HubSpot tickets as a ticket source (their companies are CRM accounts already)."""

    @pytest.fixture
    def ticket_harness(self) -> Iterator[TicketHarness]:
        with HubSpotSandbox(seed=3, deals=200) as sb:  # 14 tickets: three pages of five
            settings = HubSpotSettings(base_url=sb.base_url, search_requests_per_second=1000.0)

            def make(gate: Any) -> HubSpotConnector:
                conn = HubSpotConnector("hubspot", settings, {"HUBSPOT_TOKEN": sb.token}, gate)
                conn.search_page_size = 5  # type: ignore[misc]  # small pages: the backfill must page
                return conn

            yield TicketHarness(
                make_connector=make,
                touch_ticket=lambda ticket_id: sb.backend.update("tickets", ticket_id, {"subject": "touched"}),
                now=sb.clock.now,
                has_accounts=False,
            )
