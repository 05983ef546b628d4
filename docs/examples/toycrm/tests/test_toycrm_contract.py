"""ToyCRM passes onboard-sync's connector contract suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from onboard_toycrm.api import ToyCrm
from onboard_toycrm.connector import ToyCrmConnector, ToyCrmSettings

from onboard_sync.testing.contract import ConnectorContract, ContractHarness


class TestToyCrmContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        crm = ToyCrm("contract", api_key="test-key").seed(deals=30)
        settings = ToyCrmSettings(type="toycrm", workspace="contract", page_size=5)  # small pages: it must page
        secrets = {"TOYCRM_API_KEY": "test-key"}
        yield ContractHarness(
            make_connector=lambda gate: ToyCrmConnector("toycrm", settings, secrets, gate),
            touch_deal=lambda deal_id: crm.touch("deals", deal_id),
            lose_deal=lambda deal_id: crm.touch("deals", deal_id, stage="lost"),
            now=crm.now,
            expire_session=crm.expire_sessions,
            arm_partial_failure=lambda: crm.fail_next_create(every=2),
        )
        crm.close()
