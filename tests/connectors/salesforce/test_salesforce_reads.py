"""How the Salesforce connector reads Opportunities: contact roles and Accounts come in the same query.

Against the sandbox over HTTPS: the nested contact roles (primary first, ``null`` without children, a
nested result cut short and read to its end), the Accounts handed over as ``Page.accounts`` (mapped extra
Account fields included), reads by id, and queries that keep their URI short.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from urllib.parse import quote_plus

import pytest
import requests

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import Page, ReadOptions
from onboard_sync.connectors.salesforce import SalesforceConnector, SalesforceSettings
from onboard_sync.connectors.salesforce.base import QUERY_BUDGET, id_chunks
from onboard_sync.records import Deal, ObjectKind
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.sandbox.salesforce.schema import FieldDef

OPTIONS = ReadOptions({ObjectKind.ACCOUNT: ("NPS_Score__c",), ObjectKind.DEAL: ("Probability",)})


@pytest.fixture
def sandbox() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(seed=5, deals=40, query_batch_size=200, child_batch_size=2) as sb:
        sb.backend.schema.add_custom_field("Account", FieldDef("NPS_Score__c", "double"))
        for account in sb.backend.accounts.values():
            account["NPS_Score__c"] = 42.0
        yield sb


def _connector(sb: SalesforceSandbox) -> SalesforceConnector:
    settings = SalesforceSettings(**sb.connector_settings())
    gate = ApiGate(sleep=lambda seconds: None)
    connector = SalesforceConnector("salesforce", settings, sb.connector_secrets(), gate)
    gate.bind_connector(connector)
    return connector


def _pages(connector: SalesforceConnector) -> list[Page[Deal]]:
    pages = [connector.read_deals(since=None, page_token=None, options=OPTIONS)]
    while pages[-1].next_token:
        pages.append(connector.read_deals(since=None, page_token=pages[-1].next_token, options=OPTIONS))
    return pages


def _contacts_by_role_order(sb: SalesforceSandbox, opportunity_id: str) -> list[str]:
    roles = [r for r in sb.backend.records["OpportunityContactRole"].values() if r["OpportunityId"] == opportunity_id]
    return [r["ContactId"] for r in sorted(roles, key=lambda r: not r.get("IsPrimary"))]


def _queries(sb: SalesforceSandbox) -> Counter[str]:
    return Counter(r.template for r in sb.requests if "query" in r.template)


def test_a_backfill_page_is_one_query_with_contact_roles_and_accounts(sandbox: SalesforceSandbox) -> None:
    backend = sandbox.backend
    won = {i: o for i, o in backend.opportunities.items() if o["IsWon"]}
    connector = _connector(sandbox)
    sandbox.requests.clear()
    (page,) = _pages(connector)
    assert {d.id for d in page.records} == set(won)
    assert _queries(sandbox) == Counter({"{P}/query": 1}), "no contact role or Account query of their own"
    for deal in page.records:
        assert list(deal.contact_ids) == _contacts_by_role_order(sandbox, deal.id), "primary contact first"
    carried = {a.id: a for a in page.accounts}
    assert set(carried) == {o["AccountId"] for o in won.values() if o["AccountId"]}
    some = next(iter(carried.values()))
    stored = backend.accounts[some.id]
    assert (some.name, some.owner_id) == (stored["Name"], stored["OwnerId"])
    assert some.properties == {"NPS_Score__c": "42"}, "mapped extra Account fields come with the page"
    assert some.updated_at.tzinfo is not None


def test_an_opportunity_without_roles_or_account_reads_as_none(sandbox: SalesforceSandbox) -> None:
    backend = sandbox.backend
    bare = sorted(i for i, o in backend.opportunities.items() if o["IsWon"])[0]
    roles = backend.records["OpportunityContactRole"]
    for role_id in [i for i, r in roles.items() if r["OpportunityId"] == bare]:
        del roles[role_id]
    backend.opportunities[bare]["AccountId"] = None
    (page,) = _pages(_connector(sandbox))
    deal = next(d for d in page.records if d.id == bare)
    assert deal.contact_ids == ()
    assert deal.account_ids == ()
    assert all(a.id for a in page.accounts)


def test_a_nested_result_cut_short_is_read_to_its_end(sandbox: SalesforceSandbox) -> None:
    backend = sandbox.backend
    target = sorted(i for i, o in backend.opportunities.items() if o["IsWon"])[0]
    account = backend.opportunities[target]["AccountId"]
    contacts = [i for i, c in backend.records["Contact"].items() if c["AccountId"] != account][:3]
    for contact in contacts:  # beyond the sandbox's 2 children a nested result
        backend.insert("OpportunityContactRole", {"OpportunityId": target, "ContactId": contact})
    connector = _connector(sandbox)
    sandbox.requests.clear()
    (page,) = _pages(connector)
    deal = next(d for d in page.records if d.id == target)
    assert list(deal.contact_ids) == _contacts_by_role_order(sandbox, target)
    assert set(contacts) <= set(deal.contact_ids)
    calls = connector.call.summary()["by_endpoint"]  # type: ignore[attr-defined]
    assert calls["contact_roles.query"] == 1, "one follow-up read for the one long nested result"
    assert _queries(sandbox) == Counter({"{P}/query": 1, "{P}/query/{locator}": 1})


def test_an_incremental_page_carries_every_changed_opportunitys_account(sandbox: SalesforceSandbox) -> None:
    backend = sandbox.backend
    lost = next(i for i, o in backend.opportunities.items() if not o["IsWon"] and o["AccountId"])
    since = sandbox.clock.now()
    backend.update("Account", backend.opportunities[lost]["AccountId"], {"Name": "Renamed Inc"})
    backend.update("Opportunity", lost, {"Amount": 1234})
    page = _connector(sandbox).read_deals(since=since, page_token=None, options=OPTIONS)
    assert [d.id for d in page.records] == [lost]
    assert [(a.id, a.name) for a in page.accounts] == [(backend.opportunities[lost]["AccountId"], "Renamed Inc")]


def test_reads_by_id_read_roles_in_the_same_query(sandbox: SalesforceSandbox) -> None:
    ids = sorted(sandbox.backend.opportunities)[:5]
    connector = _connector(sandbox)
    sandbox.requests.clear()
    deals = connector.read_deals_by_id([*ids, "006000000000000AAA"], OPTIONS)
    assert [d.id for d in deals] == ids
    assert all(list(d.contact_ids) == _contacts_by_role_order(sandbox, d.id) for d in deals)
    assert _queries(sandbox) == Counter({"{P}/query": 1})


def test_queries_by_id_keep_their_uri_within_the_budget() -> None:
    keys = [f"salesforce-production-emea:0065g00000{i:08d}AAA:executive-sponsor-kickoff:1" for i in range(200)]
    head = "SELECT Id, OnboardSync_Key__c FROM Task WHERE OnboardSync_Key__c"
    chunks = list(id_chunks(head, keys, 200))
    assert len(chunks) > 1, "200 long keys do not fit one query"
    assert [k for c in chunks for k in c] == keys
    for chunk in chunks:
        soql = f"{head} IN ({', '.join(repr(k) for k in chunk)})"
        assert len(quote_plus(soql)) <= QUERY_BUDGET
    ids = [f"0015g00000{i:08d}AAA" for i in range(450)]
    assert [len(c) for c in id_chunks("SELECT Id FROM Account WHERE Id", ids, 200)] == [200, 200, 50]


def test_find_tasks_with_many_long_keys_stays_under_the_uri_limit(sandbox: SalesforceSandbox) -> None:
    connector = _connector(sandbox)
    connector.ensure_properties(connector.required_properties(), apply=True)
    keys = [f"salesforce:0065g00000{i:08d}AAA:executive-sponsor-kickoff-and-success-plan:1" for i in range(200)]
    sandbox.requests.clear()
    assert connector.find_tasks(keys, {}) == []
    queries = [r.status for r in sandbox.requests if r.template == "{P}/query"]
    assert len(queries) > 1, "200 keys of 70 characters take more than one query"
    assert set(queries) == {200}


def test_the_sandbox_refuses_a_uri_salesforce_refuses(sandbox: SalesforceSandbox) -> None:
    connector = _connector(sandbox)
    connector.check_auth()
    assert connector._sf is not None
    url = f"{sandbox.base_url}/services/data/v59.0/query"
    headers = {"Authorization": f"Bearer {connector._sf.session_id}"}
    ids = ", ".join(f"'0015g00000{i:08d}AAA'" for i in range(700))
    soql = f"SELECT Id FROM Account WHERE Id IN ({ids})"
    verify = connector.session.verify
    long = requests.get(url, params={"q": soql}, headers=headers, verify=verify)
    assert long.status_code == 414
    fat = requests.get(
        url,
        params={"q": "SELECT Id FROM Account LIMIT 1"},
        headers={**headers, "X-Padding": "x" * 16_400},
        verify=verify,
    )
    assert fat.status_code == 431
