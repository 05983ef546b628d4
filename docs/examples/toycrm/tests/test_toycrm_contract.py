"""ToyCRM passes onboard-sync's connector contract suite, against its simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onboard_toycrm.activities import ToyActivitiesConnector
from onboard_toycrm.connector import ToyCrmConnector
from onboard_toycrm.settings import ToyCrmSettings
from onboard_toycrm.sim import ToyCrm

from onboard_sync.testing.contract import ConnectorContract, ContractHarness


class TestToyCrmContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        with ToyCrm("contract", client_secret="test-secret").seed(deals=30) as crm:
            settings = ToyCrmSettings(type="toycrm", base_url=crm.url, client_id=crm.client_id, page_size=5)
            secrets = {"TOYCRM_CLIENT_SECRET": "test-secret"}  # small pages above: the backfill must page
            yield ContractHarness(
                make_connector=lambda gate: ToyCrmConnector("toycrm", settings, secrets, gate),
                touch_deal=lambda deal_id: crm.touch("deals", deal_id),
                lose_deal=lambda deal_id: crm.touch("deals", deal_id, stage="lost"),
                now=crm.now,
                expire_session=crm.expire_tokens,  # OAuth tokens expire: the connector must renew them
                arm_partial_failure=lambda: crm.fail_next_create(every=2),
            )


class TestToyActivitiesContract(ConnectorContract):
    """Tasks as activities: keys as note markers, found through the deals ``find_tasks`` is given."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        with ToyCrm("activities", client_secret="test-secret").seed(deals=30) as crm:
            settings = ToyCrmSettings(type="toycrm-activities", base_url=crm.url, client_id=crm.client_id, page_size=5)
            secrets = {"TOYCRM_CLIENT_SECRET": "test-secret"}
            yield ContractHarness(
                make_connector=lambda gate: ToyActivitiesConnector("toycrm", settings, secrets, gate),
                touch_deal=lambda deal_id: crm.touch("deals", deal_id),
                lose_deal=lambda deal_id: crm.touch("deals", deal_id, stage="lost"),
                now=crm.now,
                expire_session=crm.expire_tokens,
                arm_partial_failure=lambda: crm.fail_activity_creates(False, True),  # the second of a batch fails
            )
