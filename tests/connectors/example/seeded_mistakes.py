"""Connectors with one seeded mistake each, run against the contract suite by a meta-test.

Not collected on its own (no ``test_`` prefix): ``test_contract_catches_mistakes.py`` runs pytest on
this file in a subprocess with a timeout and checks that every mistake fails the contract test that
guards against it, within seconds, and that the unbroken connector passes. Each broken connector is
the ToyCRM example connector with one method changed, the way a plugin author might get it wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest
from onboard_toycrm import convert
from onboard_toycrm.connector import SEARCH, ToyCrmConnector
from onboard_toycrm.settings import ToyCrmSettings
from onboard_toycrm.sim import ToyCrm

from onboard_sync import Deal, Page, ReadOptions, TaskWrite, WriteResult
from onboard_sync.testing.contract import ConnectorContract, ContractHarness
from onboard_sync.toolkit import results_in_order


class PagesOverlap(ToyCrmConnector):
    """The next page starts one record early (an off-by-one offset)."""

    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        page = super().read_deals(since=since, page_token=page_token, options=options)
        following = str(int(page.next_token) - 1) if page.next_token else None
        return Page(page.records, following, page.accounts)


class CursorIgnored(ToyCrmConnector):
    """Every call reads the first page: the token handed back is never sent."""

    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        return super().read_deals(since=since, page_token=None, options=options)


class NeverLastPage(ToyCrmConnector):
    """The cursor is ignored and every page names a new next token: paging would never end."""

    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        page = super().read_deals(since=since, page_token=None, options=options)
        return Page(page.records, f"{page_token or ''}+", page.accounts)


class SinceIgnored(ToyCrmConnector):
    """An incremental read is a backfill again (``since`` dropped)."""

    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        return super().read_deals(since=None, page_token=page_token, options=options)


class OnlyWonIncrementally(ToyCrmConnector):
    """An incremental read keeps the backfill's won-stage filter: deals leaving it are never seen."""

    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        params: dict[str, Any] = {"limit": self.settings.page_size, "include": "accounts", "stage": "won"}
        params |= {"modified_since": since.isoformat()} if since else {}
        page = self.rest.page("deals.search", "/v1/deals/search", SEARCH, page_token, params=params)
        accounts = [convert.to_account(self.instance, a, options) for a in page.body["accounts"]]
        return Page([convert.to_deal(self.instance, d, options) for d in page.records], page.next_token, accounts)


class CreatesNotFlagged(ToyCrmConnector):
    """Task creates are sent without ``write=True``: ``plan`` would create them."""

    def _write(self, endpoint: str, path: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        write = not endpoint.endswith(".create")
        return self.rest.request(endpoint, "POST", f"/v1/{path}", json={"inputs": inputs}, write=write)["results"]


class ExistingKeysNotFound(ToyCrmConnector):
    """A create whose key exists is reported as failed instead of naming the existing task."""

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        inputs = [convert.task_input(w, self.settings.task_key_property) for w in batch]
        return results_in_order([w.key for w in batch], self._write("tasks.create", "tasks/batch/create", inputs))


def harness_for(cls: type[ToyCrmConnector]) -> Iterator[ContractHarness]:
    with ToyCrm("mistake", client_secret="test-secret").seed(deals=30) as crm:
        settings = ToyCrmSettings(type="toycrm", base_url=crm.url, client_id=crm.client_id, page_size=5)
        yield ContractHarness(
            make_connector=lambda gate: cls("toycrm", settings, {"TOYCRM_CLIENT_SECRET": "test-secret"}, gate),
            touch_deal=lambda deal_id: crm.touch("deals", deal_id),
            lose_deal=lambda deal_id: crm.touch("deals", deal_id, stage="lost"),
            now=crm.now,
            expire_session=crm.expire_tokens,
            arm_partial_failure=lambda: crm.fail_next_create(every=2),
        )


def contract_for(cls: type[ToyCrmConnector]) -> type[ConnectorContract]:
    """The contract suite against ``cls``."""

    class Contract(ConnectorContract):
        @pytest.fixture
        def harness(self) -> Iterator[ContractHarness]:
            yield from harness_for(cls)

    return Contract


TestUnbroken = contract_for(ToyCrmConnector)
TestPagesOverlap = contract_for(PagesOverlap)
TestCursorIgnored = contract_for(CursorIgnored)
TestNeverLastPage = contract_for(NeverLastPage)
TestSinceIgnored = contract_for(SinceIgnored)
TestOnlyWonIncrementally = contract_for(OnlyWonIncrementally)
TestCreatesNotFlagged = contract_for(CreatesNotFlagged)
TestExistingKeysNotFound = contract_for(ExistingKeysNotFound)
