"""HubSpot sandbox: CRM search filters, limits, paging, association pseudo-properties and search lag."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.deals.exceptions import ApiException

from onboard_sync.sandbox import SandboxClock
from onboard_sync.sandbox.common import parse_instant
from onboard_sync.sandbox.hubspot import HubSpotSandbox


def _search(client: HubSpot, filters: list[dict[str, Any]] | None = None, **extra: Any) -> Any:
    body: dict[str, Any] = {"limit": 200, **extra}
    if filters is not None:
        body["filterGroups"] = [{"filters": filters}]
    return client.crm.deals.search_api.do_search(public_object_search_request=body)


def _ids(sb: HubSpotSandbox, predicate: Any) -> set[str]:
    return {d.id for d in sb.backend.deals.values() if predicate(d.properties)}


def test_filter_operators(client: HubSpot, sb: HubSpotSandbox) -> None:
    def found(*filters: dict[str, Any]) -> set[str]:
        return {r.id for r in _search(client, list(filters)).results}

    won = _ids(sb, lambda p: p["dealstage"] == "closedwon")
    assert won
    assert found({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}) == won
    assert found({"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"}) == set(sb.backend.deals) - won
    closed = {"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]}
    assert found(closed) == _ids(sb, lambda p: p["dealstage"] in ("closedwon", "closedlost"))
    not_closed = {"propertyName": "dealstage", "operator": "NOT_IN", "values": ["closedwon", "closedlost"]}
    assert found(not_closed) == set(sb.backend.deals) - found(closed)
    big = {"propertyName": "amount", "operator": "GTE", "value": "100000"}
    assert found(big) == _ids(sb, lambda p: float(p["amount"]) >= 100_000)
    between = {"propertyName": "amount", "operator": "BETWEEN", "value": "25000", "highValue": "99999"}
    assert found(between) == _ids(sb, lambda p: 25_000 <= float(p["amount"]) <= 99_999)
    assert found({"propertyName": "amount", "operator": "LT", "value": "25000"}) == _ids(
        sb, lambda p: float(p["amount"]) < 25_000
    )
    assert found({"propertyName": "description", "operator": "NOT_HAS_PROPERTY"}) == set(sb.backend.deals)
    assert found({"propertyName": "description", "operator": "HAS_PROPERTY"}) == set()
    name = next(iter(sb.backend.deals.values())).properties["dealname"]
    token = name.split()[0].lower()
    assert found({"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": token[:3] + "*"}) >= _ids(
        sb, lambda p: p["dealname"].lower().startswith(token)
    )
    both = found({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}, big)
    assert both == won & found(big)  # filters in a group are ANDed


def test_filter_groups_are_ored_and_dates_compare_as_ms_or_iso(client: HubSpot, sb: HubSpotSandbox) -> None:
    groups = [
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]},
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedlost"}]},
    ]
    result = client.crm.deals.search_api.do_search(public_object_search_request={"filterGroups": groups, "limit": 100})
    assert {r.id for r in result.results} == _ids(sb, lambda p: p["dealstage"] in ("closedwon", "closedlost"))
    cutoff = "2026-02-20T00:00:00.000Z"
    cutoff_ms = str(int(parse_instant(cutoff).timestamp() * 1000))  # type: ignore[union-attr]
    expected = _ids(sb, lambda p: p["closedate"] >= cutoff)
    for value in (cutoff, cutoff_ms):
        got = _search(client, [{"propertyName": "closedate", "operator": "GTE", "value": value}])
        assert {r.id for r in got.results} == expected
        assert got.total == len(expected)


def test_sort_paging_total_and_default_properties(client: HubSpot, sb: HubSpotSandbox) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.deals.search_api.do_search(
            public_object_search_request={
                "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
                "limit": 15,
                **({"after": after} if after else {}),
            }
        )
        assert page.total == 40
        seen += [r.properties["amount"] for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
        assert after.isdigit()
    assert len(seen) == 40
    assert [float(a) for a in seen] == sorted((float(a) for a in seen), reverse=True)
    assert set(page.results[0].properties) == {
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }


@pytest.mark.parametrize(
    "body",
    [
        {"filterGroups": [{"filters": []}] * 6},
        {"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}] * 7}]},
        {
            "filterGroups": [{"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}] * 6}] * 3
            + [{"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}]}]
        },
        {"limit": 201},
        {"after": "10000"},
        {"sorts": ["amount", "dealname"]},
        {"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "LIKE", "value": "1"}]}]},
        {"query": "x" * 3001},
    ],
)
def test_search_limits_are_400(client: HubSpot, body: dict[str, Any]) -> None:
    with pytest.raises(ApiException) as excinfo:
        client.crm.deals.search_api.do_search(public_object_search_request=body)
    assert excinfo.value.status == 400
    assert "VALIDATION_ERROR" in excinfo.value.body


def test_search_by_association_pseudo_property(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id = next(iter(sb.backend.deals))
    sb.backend.create(
        "tasks",
        {"hs_timestamp": "2026-03-03T00:00:00Z", "hs_task_subject": "Kickoff"},
        associations=[("deals", deal_id)],
    )
    sb.backend.create("tasks", {"hs_timestamp": "2026-03-03T00:00:00Z", "hs_task_subject": "Other"})
    found = client.crm.objects.tasks.search_api.do_search(
        public_object_search_request={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "associations.deal", "operator": "EQ", "value": deal_id},
                        {"propertyName": "hs_task_subject", "operator": "EQ", "value": "kickoff"},
                    ]
                }
            ],
            "properties": ["hs_task_subject"],
        }
    )
    assert found.total == 1
    assert found.results[0].properties["hs_task_subject"] == "Kickoff"
    company_id = sb.backend.associations("deals", deal_id, "companies")[0]
    deals = _search(client, [{"propertyName": "associations.company", "operator": "EQ", "value": company_id}])
    assert {r.id for r in deals.results} == set(sb.backend.associations("companies", company_id, "deals"))


def test_search_lag_hides_new_and_updated_records_until_it_passes(make_sandbox: Any, clock: SandboxClock) -> None:
    sb = make_sandbox(deals=5, clock=clock, search_lag=3.0)
    client = HubSpot(access_token=sb.token, host=sb.base_url)

    def subjects() -> list[str]:
        result = client.crm.objects.tasks.search_api.do_search(
            public_object_search_request={"properties": ["hs_task_subject"]}
        )
        return [r.properties["hs_task_subject"] for r in result.results]

    task = client.crm.objects.tasks.basic_api.create(
        simple_public_object_input_for_create={
            "properties": {"hs_timestamp": "2026-03-03T00:00:00Z", "hs_task_subject": "v1"}
        }
    )
    assert subjects() == []
    clock.advance(seconds=3)
    assert subjects() == ["v1"]
    client.crm.objects.tasks.basic_api.update(
        task.id, simple_public_object_input={"properties": {"hs_task_subject": "v2"}}
    )
    assert subjects() == ["v1"]  # stale index
    assert (
        client.crm.objects.tasks.basic_api.get_by_id(task.id, properties=["hs_task_subject"]).properties[
            "hs_task_subject"
        ]
        == "v2"
    )  # reads are immediate
    clock.advance(seconds=3)
    assert subjects() == ["v2"]


def test_next_pages_of_a_query_see_writes_and_lag_ends_between_pages(make_sandbox: Any, clock: SandboxClock) -> None:
    """The next pages of a query reuse its sorted matches (``search._Memo``) only while nothing changed."""
    sb = make_sandbox(deals=30, clock=clock, search_lag=3.0)
    client = HubSpot(access_token=sb.token, host=sb.base_url)
    query = {"sorts": [{"propertyName": "amount", "direction": "ASCENDING"}], "properties": ["amount"], "limit": 10}

    def page(after: str | None) -> Any:
        return client.crm.deals.search_api.do_search(
            public_object_search_request={**query, **({"after": after} if after else {})}
        )

    first = page(None)
    assert first.total == 30
    second = page(first.paging.next.after)
    assert second.total == 30
    assert [r.id for r in second.results] == [r.id for r in page("10").results]
    lowest = first.results[0].id
    sb.backend.create("deals", {"dealname": "late", "amount": "1"})  # hidden for 3 s: same pages
    sb.backend.update("deals", lowest, {"amount": "999999999"})  # stale index: still sorted first
    assert page("10").total == 30
    assert page("10").results[0].id == second.results[0].id
    clock.advance(seconds=3)  # both writes visible now: the next page of the same query sees them
    third = page("21")
    assert third.total == 31
    assert third.results[-1].id == lowest
    assert third.results[-1].properties["amount"] == "999999999"


def test_search_responses_carry_no_rate_limit_headers(http: httpx.Client) -> None:
    search = http.post("/crm/v3/objects/deals/search", json={})
    listing = http.get("/crm/v3/objects/deals")
    assert search.status_code == 200
    assert listing.status_code == 200
    assert not [h for h in search.headers if h.lower().startswith("x-hubspot-ratelimit")]
    assert listing.headers["X-HubSpot-RateLimit-Max"] == "100"
