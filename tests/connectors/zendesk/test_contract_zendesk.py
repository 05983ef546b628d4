"""The Zendesk connector passes the ticket-source contract suite against the Zendesk sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from onboard_sync.connectors.zendesk import ZendeskConnector
from onboard_sync.connectors.zendesk.settings import ZendeskSettings
from onboard_sync.sandbox.zendesk import ZendeskSandbox
from onboard_sync.testing.tickets import TicketHarness, TicketSourceContract

COMPANIES = [("101", "Acme", "acme.example"), ("102", "Beta", "beta.example"), ("103", "Gamma", None)]


class TestZendeskTicketSource(TicketSourceContract):
    @pytest.fixture
    def ticket_harness(self) -> Iterator[TicketHarness]:
        # five organizations (three companies, two orphans) fit one organization page: they share one
        # timestamp, which a time-based export cannot page through (the toolkit refuses such a loop)
        with ZendeskSandbox(seed=5, companies=COMPANIES) as sb:
            settings = ZendeskSettings(type="zendesk", base_url=sb.base_url, email=sb.email, per_page=5)

            def touch(ticket_id: str) -> None:
                sb.backend.update_ticket(int(ticket_id), priority="high")
                sb.clock.advance(seconds=61)  # exports leave out the last minute

            yield TicketHarness(
                make_connector=lambda gate: ZendeskConnector(
                    "zendesk", settings, {"ZENDESK_API_TOKEN": sb.api_token}, gate
                ),
                touch_ticket=touch,
                now=sb.clock.now,
                since_slack=timedelta(minutes=3),  # exports start a minute or more back
            )
