"""The HubSpot connector through the official SDK against the HubSpot sandbox over real HTTP."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from onboard_sync.connector import FieldWrite, PropertySpec, ReadOptions, TaskPatch, TaskWrite
from onboard_sync.connectors.hubspot import HubSpotConnector, batch, search
from onboard_sync.errors import ApiError, AuthError, UnknownPropertiesError
from onboard_sync.records import ObjectKind, TaskStatus
from onboard_sync.sync import fieldwrites

KEY = "onboard_sync_key"


def read_all_deals(conn: HubSpotConnector, since: datetime | None) -> tuple[list[Any], int]:
    deals, token, pages = [], None, 0
    while True:
        page = conn.read_deals(since=since, page_token=token, options=ReadOptions())
        deals += page.records
        pages += 1
        token = page.next_token
        if token is None:
            return deals, pages


def live(sb: Any, kind: str) -> list[Any]:
    return [r for r in getattr(sb.backend, kind).values() if not r.archived]


def setup_tasks(conn: HubSpotConnector) -> None:
    conn.ensure_properties(conn.required_properties(), apply=True)


def a_deal(sb: Any) -> Any:
    """A deal with a company and a contact."""
    for deal in live(sb, "deals"):
        if sb.backend.associations("deals", deal.id, "companies") and sb.backend.associations(
            "deals", deal.id, "contacts"
        ):
            return deal
    raise AssertionError("the seeded sandbox has no deal with a company and a contact")


def task_write(key: str, deal: Any, sb: Any, **changes: Any) -> TaskWrite:
    options: dict[str, Any] = {
        "key": key,
        "subject": f"Kickoff {key}",
        "body": "Book the kickoff call",
        "due_at": datetime(2030, 1, 2, 9, 30, tzinfo=UTC),
        "owner_id": next(iter(sb.backend.owners)),
        "deal_id": deal.id,
        "account_id": sb.backend.associations("deals", deal.id, "companies")[0],
        "contact_ids": tuple(sb.backend.associations("deals", deal.id, "contacts")),
    }
    return TaskWrite(**{**options, **changes})


# --- auth --------------------------------------------------------------------------------------


def test_check_auth_describes_the_portal(connector: HubSpotConnector) -> None:
    assert "HubSpot" in connector.check_auth()
    assert connector.call.calls == {"owners.list": 1}  # type: ignore[attr-defined]


def test_missing_token_is_an_auth_error_naming_the_variable(sandbox: Any, connect: Any) -> None:
    conn = connect(sandbox, secrets={})
    with pytest.raises(AuthError, match="HUBSPOT_TOKEN is not set") as info:
        conn.check_auth()
    assert info.value.where == "connectors.hubspot"


def test_revoked_token_is_an_auth_error_without_the_token(sandbox: Any, connect: Any) -> None:
    conn = connect(sandbox)
    sandbox.faults.revoke_token()
    with pytest.raises(AuthError, match="HUBSPOT_TOKEN was refused") as info:
        conn.check_auth()
    assert sandbox.token not in str(info.value)


# --- deals -------------------------------------------------------------------------------------


def test_backfill_reads_won_deals_only_with_associations(make_sandbox: Any, connect: Any) -> None:
    sb = make_sandbox(deals=450)
    conn = connect(sb)
    deals, pages = read_all_deals(conn, since=None)
    expected = {
        d.id
        for d in live(sb, "deals")
        if d.properties.get("dealstage") == "closedwon" and d.properties.get("pipeline") == "default"
    }
    assert expected, "the seeded sandbox should have won deals"
    assert {d.id for d in deals} == expected
    assert len(deals) == len(expected)
    assert all(d.is_won and d.is_closed and d.stage == "closedwon" for d in deals)
    for deal in deals:
        companies = sb.backend.associations("deals", deal.id, "companies")
        assert set(deal.account_ids) == set(companies)
        assert set(deal.contact_ids) == set(sb.backend.associations("deals", deal.id, "contacts"))
        primary = [c for c, types in sb.backend.association_types("deals", deal.id, "companies").items() if 5 in types]
        if primary:
            assert deal.account_ids[0] == primary[0]
        assert deal.updated_at.tzinfo is not None
    # oldest change first
    assert [d.updated_at for d in deals] == sorted(d.updated_at for d in deals)
    # calls: one search per 200 deals, one association read per 1,000 deals (a page) and target type
    counts = conn.call.calls
    assert counts["deals.search"] == math.ceil(len(expected) / 200)
    assert pages == math.ceil(len(expected) / 1000)
    assert counts["associations.batch_read"] == 2 * pages  # companies and contacts, one call each per page
    # search counts against its own limit, not the ten-secondly bucket; the rest against the bucket
    assert conn.call.limits["deals.search"] == "search"
    assert conn.call.limits["associations.batch_read"] is None


def test_incremental_reads_every_stage_changed_since(sandbox: Any, connector: HubSpotConnector) -> None:
    sandbox.clock.advance(minutes=10)
    since = sandbox.clock.now()
    sandbox.clock.advance(minutes=1)
    lost, won = [d for d in live(sandbox, "deals") if d.properties.get("pipeline") == "default"][:2]
    sandbox.backend.set_deal_stage(lost.id, "closedlost")
    sandbox.backend.set_deal_stage(won.id, "closedwon")
    deals, _ = read_all_deals(connector, since=since)
    by_id = {d.id: d for d in deals}
    assert set(by_id) == {lost.id, won.id}
    assert by_id[lost.id].is_closed
    assert not by_id[lost.id].is_won
    assert by_id[won.id].is_won
    assert all(d.updated_at >= since for d in deals)


def test_paging_reads_every_deal_once_across_pages(make_sandbox: Any, connect: Any) -> None:
    sb = make_sandbox(deals=450)
    conn = connect(sb)
    deals, pages = read_all_deals(conn, since=datetime(2000, 1, 1, tzinfo=UTC))
    expected = {d.id for d in live(sb, "deals") if d.properties.get("pipeline") == "default"}
    assert len(expected) > 200
    searches = math.ceil(len(expected) / 200)
    assert pages == math.ceil(len(expected) / 1000)
    assert [d.id for d in deals if d.id in expected] == [d.id for d in deals]
    assert len(deals) == len(expected) == len({d.id for d in deals})
    wire = sb.request_counts()
    assert wire["POST /crm/v3/objects/deals/search"] == searches
    assert wire["POST /crm/v4/associations/deals/companies/batch/read"] == pages
    assert wire["POST /crm/v4/associations/deals/contacts/batch/read"] == pages
    # the whole cost of reading deals: 1 search per 200, 2 association reads per 1,000
    assert sum(wire.values()) == searches + 2 * pages


def test_search_restarts_from_last_timestamp_before_the_result_cap(
    make_sandbox: Any, connect: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = make_sandbox(deals=300)
    monkeypatch.setattr(search, "MAX_SEARCH_RESULTS", 60)
    monkeypatch.setattr(HubSpotConnector, "search_page_size", 25)
    monkeypatch.setattr(HubSpotConnector, "association_batch", 25)  # one search per page: see every cursor
    conn = connect(sb)
    deals, cursors, token = [], [], None
    while True:
        page = conn.read_deals(since=datetime(2000, 1, 1, tzinfo=UTC), page_token=token, options=ReadOptions())
        deals += page.records
        token = page.next_token
        if token is None:
            break
        cursors.append(search.SearchCursor.decode(token))
    expected = {d.id for d in live(sb, "deals") if d.properties.get("pipeline") == "default"}
    assert {d.id for d in deals} == expected  # nothing lost across restarts
    assert len(deals) < len(expected) * 1.2  # re-reads limited to records sharing a boundary timestamp
    restarts = [c for c in cursors if c.after == 0]
    assert len(restarts) >= len(expected) // 60
    assert all(c.after + 25 <= 60 for c in cursors)  # never asks past the cap
    floors = [c.floor_ms for c in restarts]
    assert floors == sorted(floors)
    assert conn.call.calls["deals.search"] == len(cursors) + 1


def test_read_deals_by_id_skips_missing(sandbox: Any, connector: HubSpotConnector) -> None:
    deal = a_deal(sandbox)
    deals = connector.read_deals_by_id([deal.id, "999999999"], ReadOptions({ObjectKind.DEAL: ("hs_object_id",)}))
    assert [d.id for d in deals] == [deal.id]
    assert deals[0].properties == {"hs_object_id": deal.id}
    assert deals[0].account_ids
    assert connector.call.calls["deals.batch_read"] == 1  # type: ignore[attr-defined]


def test_accounts_contacts_and_owners(sandbox: Any, connector: HubSpotConnector) -> None:
    companies = live(sandbox, "companies")[:3]
    accounts = connector.read_accounts([c.id for c in companies], ReadOptions())
    assert [a.id for a in accounts] == [c.id for c in companies]
    for account, company in zip(accounts, companies, strict=True):
        assert account.name == company.properties.get("name")
        assert account.domain == (company.properties.get("domain") or None)
    people = live(sandbox, "contacts")[:3]
    contacts = connector.read_contacts([c.id for c in people], ReadOptions())
    for contact, person in zip(contacts, people, strict=True):
        assert contact.email == person.properties.get("email")
        assert (
            contact.name == f"{person.properties.get('firstname', '')} {person.properties.get('lastname', '')}".strip()
        )
    owners = connector.read_owners()
    expected = {o.id: o for o in sandbox.backend.owners.values() if not o.archived}
    assert {o.id for o in owners} == set(expected)
    for owner in owners:
        assert owner.name == f"{expected[owner.id].first_name} {expected[owner.id].last_name}"
        assert owner.email == expected[owner.id].email


# --- tasks -------------------------------------------------------------------------------------


def test_create_tasks_with_associations_in_one_call(sandbox: Any, connector: HubSpotConnector) -> None:
    setup_tasks(connector)
    deal = a_deal(sandbox)
    writes = [task_write(f"onb-1:kickoff:{i}", deal, sandbox) for i in range(3)]
    connector.call.reset()  # type: ignore[attr-defined]
    results = connector.create_tasks(writes)
    assert connector.call.calls == {"tasks.batch_create": 1}  # type: ignore[attr-defined]
    assert connector.call.log == [("tasks.batch_create", True)]  # type: ignore[attr-defined]
    assert [r.key for r in results] == [w.key for w in writes]
    assert all(r.ok and r.remote_id for r in results)
    for write, result in zip(writes, results, strict=True):
        task = sandbox.backend.tasks[result.remote_id]
        assert task.properties[KEY] == write.key
        assert task.properties["hs_task_subject"] == write.subject
        assert task.properties["hs_task_status"] == "NOT_STARTED"
        assert task.properties["hs_task_type"] == "TODO"
        assert task.properties["hubspot_owner_id"] == write.owner_id
        assert sandbox.backend.associations("tasks", task.id, "deals") == [deal.id]
        assert sandbox.backend.associations("tasks", task.id, "companies") == [write.account_id]
        assert set(sandbox.backend.associations("tasks", task.id, "contacts")) == set(write.contact_ids)


def test_partial_batch_failure_is_mapped_per_record(sandbox: Any, connector: HubSpotConnector) -> None:
    setup_tasks(connector)
    deal = a_deal(sandbox)
    writes = [task_write(f"onb-2:t{i}", deal, sandbox) for i in range(4)]
    sandbox.faults.partial_batch(fail_every=2, path_contains="tasks/batch/create")
    results = connector.create_tasks(writes)
    assert [r.key for r in results] == [w.key for w in writes]
    failed = [r for r in results if not r.ok]
    created = [r for r in results if r.ok]
    assert len(failed) == 2
    assert len(created) == 2
    assert all(r.error for r in failed)
    keys = {t.properties.get(KEY) for t in live(sandbox, "tasks")}
    assert {r.key for r in created} <= keys
    assert not {r.key for r in failed} & keys


def test_find_tasks_sees_creates_that_search_does_not_yet(make_sandbox: Any, connect: Any) -> None:
    sb = make_sandbox(search_lag=30.0)
    conn = connect(sb)
    setup_tasks(conn)
    deal = a_deal(sb)
    results = conn.create_tasks([task_write("onb-3:a", deal, sb), task_write("onb-3:b", deal, sb)])
    found = conn.find_tasks(["onb-3:a", "onb-3:b", "onb-3:missing"], {})
    assert {(t.key, t.id) for t in found} == {(r.key, r.remote_id) for r in results}
    assert all(t.status is TaskStatus.OPEN and t.subject.startswith("Kickoff") for t in found)
    assert found[0].due_at == datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    assert conn.call.calls["tasks.batch_read"] == 1
    assert conn.call.calls["tasks.search"] == 0


@pytest.mark.parametrize("hubspot_names_the_existing_id", [True, False])
def test_duplicate_key_create_resolves_to_the_existing_task(
    sandbox: Any,
    connector: HubSpotConnector,
    monkeypatch: pytest.MonkeyPatch,
    hubspot_names_the_existing_id: bool,
) -> None:
    if not hubspot_names_the_existing_id:
        monkeypatch.setattr(batch, "EXISTING_ID", re.compile(r"(?!)"))  # force the lookup by key
    setup_tasks(connector)
    deal = a_deal(sandbox)
    first = connector.create_tasks([task_write("onb-4:a", deal, sandbox)])
    before = len(live(sandbox, "tasks"))
    connector.call.reset()  # type: ignore[attr-defined]
    # a crashed run created onb-4:a but never recorded it: the retry sends it again with a new one
    again = connector.create_tasks([task_write("onb-4:a", deal, sandbox), task_write("onb-4:b", deal, sandbox)])
    assert again[0].ok
    assert again[0].remote_id == first[0].remote_id
    assert again[1].ok
    assert again[1].remote_id != first[0].remote_id
    assert len(live(sandbox, "tasks")) == before + 1
    expected = (
        {"tasks.batch_create": 1} if hubspot_names_the_existing_id else {"tasks.batch_create": 1, "tasks.batch_read": 1}
    )
    assert connector.call.calls == expected  # type: ignore[attr-defined]


def test_whole_batch_conflict_keeps_existing_and_creates_the_rest(sandbox: Any, connector: HubSpotConnector) -> None:
    setup_tasks(connector)
    deal = a_deal(sandbox)
    (first,) = connector.create_tasks([task_write("onb-6:a", deal, sandbox)])
    sandbox.faults.fail_next(1, status=409, path_contains="tasks/batch/create")
    connector.call.reset()  # type: ignore[attr-defined]
    results = connector.create_tasks([task_write("onb-6:a", deal, sandbox), task_write("onb-6:b", deal, sandbox)])
    assert [(r.key, r.ok) for r in results] == [("onb-6:a", True), ("onb-6:b", True)]
    assert results[0].remote_id == first.remote_id
    keys = [t.properties.get(KEY) for t in live(sandbox, "tasks")]
    assert keys.count("onb-6:a") == 1
    assert keys.count("onb-6:b") == 1
    assert connector.call.calls == {"tasks.batch_create": 2, "tasks.batch_read": 1}  # type: ignore[attr-defined]


def test_update_tasks_sends_only_changes_and_read_tasks_sees_completion(
    sandbox: Any, connector: HubSpotConnector
) -> None:
    setup_tasks(connector)
    deal = a_deal(sandbox)
    (created, other) = connector.create_tasks(
        [task_write("onb-5:a", deal, sandbox), task_write("onb-5:b", deal, sandbox)]
    )
    patches = [
        TaskPatch(
            "onb-5:a",
            created.remote_id,
            {"subject": "Kickoff (moved)", "due_at": datetime(2030, 2, 1, tzinfo=UTC)},
        ),
        TaskPatch("onb-5:b", other.remote_id, {}),
    ]
    connector.call.reset()  # type: ignore[attr-defined]
    results = connector.update_tasks(patches)
    assert [(r.key, r.ok, r.remote_id) for r in results] == [
        ("onb-5:a", True, created.remote_id),
        ("onb-5:b", True, other.remote_id),
    ]
    assert connector.call.calls == {"tasks.batch_update": 1}  # type: ignore[attr-defined]
    task = sandbox.backend.tasks[created.remote_id]
    assert task.properties["hs_task_subject"] == "Kickoff (moved)"
    assert task.properties["hs_task_body"] == "Book the kickoff call"
    sandbox.clock.advance(minutes=1)
    since = sandbox.clock.now()
    sandbox.clock.advance(minutes=1)
    sandbox.backend.complete_task(other.remote_id)
    page = connector.read_tasks(since=since, page_token=None)
    assert [(t.key, t.status) for t in page.records] == [("onb-5:b", TaskStatus.COMPLETED)]
    assert page.records[0].completed_at is not None
    assert page.next_token is None
    everything = connector.read_tasks(since=None, page_token=None).records
    assert {t.key for t in everything} == {"onb-5:a", "onb-5:b"}  # only tasks carrying a key


# --- fields and properties -----------------------------------------------------------------------

SPECS = [
    PropertySpec(ObjectKind.DEAL, "onboard_phase", "Onboarding phase", "enumeration", ("kickoff", "training")),
    PropertySpec(ObjectKind.ACCOUNT, "onboard_health", "Onboarding health", "number"),
]


def test_ensure_properties_is_idempotent(sandbox: Any, connector: HubSpotConnector) -> None:
    specs = [*SPECS, *connector.required_properties()]
    planned = connector.ensure_properties(specs, apply=False)
    assert not any(a.changed for a in planned)
    assert "onboard_phase" not in connector.describe(ObjectKind.DEAL)
    first = connector.ensure_properties(specs, apply=True)
    assert sum(a.changed for a in first) == 6  # three groups, three properties
    connector.call.reset()  # type: ignore[attr-defined]
    second = connector.ensure_properties(specs, apply=True)
    assert not any(a.changed for a in second)
    assert all(a.done for a in second)
    assert connector.call.calls == {"properties.list": 3}  # type: ignore[attr-defined]
    schema = connector.describe(ObjectKind.DEAL)
    assert schema["onboard_phase"].type == "enumeration"
    assert schema["onboard_phase"].options == ("kickoff", "training")
    assert schema["dealname"].type == "string"
    assert connector.describe(ObjectKind.TASK)[KEY].unique


def test_write_fields_on_deals_and_companies(sandbox: Any, connector: HubSpotConnector) -> None:
    connector.ensure_properties(SPECS, apply=True)
    deal = a_deal(sandbox)
    company_id = sandbox.backend.associations("deals", deal.id, "companies")[0]
    results = connector.write_fields(
        ObjectKind.DEAL, [FieldWrite("f1", ObjectKind.DEAL, deal.id, {"onboard_phase": "kickoff"})]
    )
    assert [(r.key, r.ok, r.remote_id) for r in results] == [("f1", True, deal.id)]
    assert sandbox.backend.deals[deal.id].properties["onboard_phase"] == "kickoff"
    results = connector.write_fields(
        ObjectKind.ACCOUNT, [FieldWrite("f2", ObjectKind.ACCOUNT, company_id, {"onboard_health": "72"})]
    )
    assert results[0].ok
    assert sandbox.backend.companies[company_id].properties["onboard_health"] == "72"
    assert connector.call.calls["companies.batch_update"] == 1  # type: ignore[attr-defined]


def test_a_missing_property_refuses_the_batch_and_is_written_around(sandbox: Any, connector: HubSpotConnector) -> None:
    deal, other = [d for d in live(sandbox, "deals")][:2]
    batch = [
        FieldWrite("f", ObjectKind.DEAL, deal.id, {"no_such_prop": "x", "dealname": "Kept"}),
        FieldWrite("g", ObjectKind.DEAL, other.id, {"dealname": "Renamed"}),
    ]
    with pytest.raises(UnknownPropertiesError) as refused:
        connector.write_fields(ObjectKind.DEAL, batch)
    assert refused.value.properties == ("no_such_prop",)
    assert "'no_such_prop' does not exist" in str(refused.value)
    assert sandbox.backend.deals[other.id].properties["dealname"] != "Renamed", "HubSpot refuses the whole batch"

    outcomes = fieldwrites.write_fields(connector, ObjectKind.DEAL, batch)

    dropped = [(o.result.key, o.result.ok, o.dropped) for o in outcomes]
    assert dropped == [("f", True, ("no_such_prop",)), ("g", True, ())]
    assert sandbox.backend.deals[deal.id].properties["dealname"] == "Kept"
    assert sandbox.backend.deals[other.id].properties["dealname"] == "Renamed"
    assert "'no_such_prop' does not exist any more" in outcomes[0].dropped_error()


# --- rate limits, retries and OAuth ------------------------------------------------------------------


def test_429_classified_with_and_without_retry_after(sandbox: Any, connector: HubSpotConnector) -> None:
    sandbox.faults.fail_next(1, status=429, path_contains="owners", retry_after=3)
    with pytest.raises(Exception) as info:  # noqa: PT011
        connector.read_owners()
    error = connector.classify_error(info.value)
    assert isinstance(error, ApiError)
    assert error.status == 429
    assert error.retryable
    assert error.retry_after == 3.0
    sandbox.faults.fail_next(1, status=429, path_contains="owners")
    with pytest.raises(Exception) as info:  # noqa: PT011
        connector.read_owners()
    error = connector.classify_error(info.value)
    assert error is not None
    assert error.retryable
    assert error.retry_after is not None
    assert 1.0 <= error.retry_after <= 10.0


def test_core_gate_retries_a_429_and_a_500(sandbox: Any, connect: Any) -> None:
    from onboard_sync.calls.gate import ApiGate

    slept: list[float] = []
    gate = ApiGate(sleep=slept.append)
    conn = connect(sandbox, caller=gate)
    gate.bind_connector(conn)
    sandbox.faults.fail_next(1, status=429, path_contains="owners", retry_after=2)
    sandbox.faults.fail_next(1, status=500, path_contains="owners")
    assert conn.read_owners()
    assert gate.calls["owners.list"] == 3
    assert 2.0 in slept
    sandbox.faults.revoke_token()
    with pytest.raises(AuthError):
        conn.check_auth()


def test_oauth_refreshes_when_the_access_token_expires(sandbox: Any, connect: Any) -> None:
    from onboard_sync.calls.gate import ApiGate

    gate = ApiGate(sleep=lambda _: None)
    refresh_token = sandbox.oauth_client("client-1", "secret-1")
    secrets = {"HUBSPOT_CLIENT_SECRET": "secret-1", "HUBSPOT_REFRESH_TOKEN": refresh_token}
    conn = connect(sandbox, caller=gate, secrets=secrets, client_id="client-1")
    gate.bind_connector(conn)
    assert "OAuth" in conn.check_auth()
    assert gate.calls == {"oauth.token": 1, "owners.list": 1}
    # the portal's clock passes the token's expiry; ours does not know: 401, one refresh, retry
    sandbox.clock.advance(hours=2)
    assert conn.read_owners()
    assert gate.calls["oauth.token"] == 2
    assert gate.renewals == 1
    # our clock passes the expiry: refresh before the call, no 401
    now = [conn.tokens.clock()]
    conn.tokens.clock = lambda: now[0]
    now[0] += 7200
    sandbox.clock.advance(hours=2)
    before = dict(gate.calls)
    assert conn.read_owners()
    assert {k: n - before.get(k, 0) for k, n in gate.calls.items()} == {"oauth.token": 1, "owners.list": 1}
    assert gate.renewals == 1, "no 401 this time"
    assert refresh_token not in repr(conn.classify_error(RuntimeError("x")))


def test_oauth_bad_refresh_token_is_an_auth_error(sandbox: Any, connect: Any) -> None:
    sandbox.oauth_client("client-2", "secret-2")
    secrets = {"HUBSPOT_CLIENT_SECRET": "secret-2", "HUBSPOT_REFRESH_TOKEN": "not-a-refresh-token"}
    conn = connect(sandbox, secrets=secrets, client_id="client-2")
    with pytest.raises(AuthError, match="HUBSPOT_REFRESH_TOKEN"):
        conn.check_auth()


def test_registered_through_the_entry_point() -> None:
    from onboard_sync.plugins import connector_types, simulators

    assert connector_types()["hubspot"].cls is HubSpotConnector
    assert "hubspot" in simulators()


def test_oauth_refresh_on_401_through_the_core_gate(sandbox: Any, connect: Any) -> None:
    from onboard_sync.calls.gate import ApiGate

    gate = ApiGate(sleep=lambda _: None)
    refresh_token = sandbox.oauth_client("client-3", "secret-3")
    secrets = {"HUBSPOT_CLIENT_SECRET": "secret-3", "HUBSPOT_REFRESH_TOKEN": refresh_token}
    conn = connect(sandbox, caller=gate, secrets=secrets, client_id="client-3")
    gate.bind_connector(conn)
    assert conn.read_owners()
    sandbox.clock.advance(hours=2)  # a 401: the gate asks the connector to renew (refresh) once, then resends
    assert conn.read_owners()
    assert gate.calls["oauth.token"] == 2
    assert gate.calls["owners.list"] == 3


def test_simulator_registered_by_the_plugin_starts_a_sandbox() -> None:
    from onboard_sync.plugins import simulators

    sb = simulators()["hubspot"](seed=1, deals=3)
    sb.start()
    try:
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert len(sb.backend.deals) == 3
    finally:
        sb.stop()
