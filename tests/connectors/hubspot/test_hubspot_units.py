"""Unit tests of the HubSpot connector's pure parts: page tokens, error classification, mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import urllib3.exceptions
from hubspot.crm.deals.exceptions import ApiException as DealsApiException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException

from onboard_sync.connector import PropertySpec, TaskWrite
from onboard_sync.connectors.hubspot import batch, convert, properties
from onboard_sync.connectors.hubspot.errors import classify
from onboard_sync.connectors.hubspot.search import SearchCursor, ahead_cursors, next_cursor, search_body
from onboard_sync.errors import ApiError, RateLimitExhausted
from onboard_sync.records import ObjectKind, TaskStatus


def api_exception(cls: type, status: int, body: object, headers: dict[str, str] | None = None) -> Exception:
    exc = cls(status=status, reason="Reason")
    exc.body = json.dumps(body).encode() if not isinstance(body, bytes) else body
    exc.headers = headers or {}
    return exc


# --- search page tokens -------------------------------------------------------------------


def test_cursor_round_trips_and_rejects_garbage() -> None:
    cursor = SearchCursor(after=400, floor_ms=1_700_000_000_123)
    assert SearchCursor.decode(cursor.encode()) == cursor
    assert SearchCursor.decode(None) == SearchCursor()
    with pytest.raises(ValueError, match="page token"):
        SearchCursor.decode("not-a-token")


def test_next_cursor_pages_with_after_then_restarts_before_10k() -> None:
    start = SearchCursor()
    assert next_cursor(start, None, 5, 200) is None  # last page
    assert next_cursor(start, "200", 5, 200) == SearchCursor(after=200, floor_ms=None)
    # 9,800 + 200 = 10,000: still allowed
    assert next_cursor(SearchCursor(after=9600), "9800", 5, 200) == SearchCursor(after=9800)
    # the next page would reach past 10,000 results: restart from the last modification time
    restarted = next_cursor(SearchCursor(after=9800, floor_ms=None), "10000", 1_700_000_000_000, 200)
    assert restarted == SearchCursor(after=0, floor_ms=1_700_000_000_000)
    # a restarted query keeps its floor while paging
    assert next_cursor(restarted, "200", 1_700_000_000_500, 200) == SearchCursor(200, 1_700_000_000_000)


def test_ahead_cursors_name_the_later_offsets_below_the_total_and_the_10k_cap() -> None:
    assert ahead_cursors(SearchCursor(), 1_000, 200) == [SearchCursor(after=a) for a in (400, 600, 800)]
    assert ahead_cursors(SearchCursor(after=400, floor_ms=7), 1_000, 200) == [SearchCursor(after=800, floor_ms=7)]
    assert ahead_cursors(SearchCursor(after=600), 1_000, 200) == []  # the next page is the last
    assert ahead_cursors(SearchCursor(), None, 200) == []
    capped = ahead_cursors(SearchCursor(after=9_000), 50_000, 200)
    assert capped[-1] == SearchCursor(after=9_800), "past 10,000 the query restarts from a floor: not known ahead"


def test_next_cursor_refuses_to_loop_when_10k_records_share_a_timestamp() -> None:
    with pytest.raises(ApiError, match="share the modification time"):
        next_cursor(SearchCursor(after=9800, floor_ms=42), "10000", 42, 200)


def test_search_body_uses_the_later_of_since_and_floor() -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)
    since_ms = int(since.timestamp() * 1000)
    body = search_body([], SearchCursor(after=0, floor_ms=since_ms + 5), since, ["a", "a", "b"], 200)
    assert body["filterGroups"] == [
        {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since_ms + 5)}]}
    ]
    assert body["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert body["properties"] == ["a", "b"]
    assert "after" not in body
    body = search_body([{"propertyName": "x", "operator": "HAS_PROPERTY"}], SearchCursor(400), None, [], 200)
    assert body["after"] == "400"
    assert body["filterGroups"] == [{"filters": [{"propertyName": "x", "operator": "HAS_PROPERTY"}]}]


# --- error classification ------------------------------------------------------------------


def test_429_with_retry_after_header() -> None:
    exc = api_exception(DealsApiException, 429, {"message": "slow down", "correlationId": "c-1"}, {"Retry-After": "3"})
    error = classify(exc)
    assert error is not None
    assert (error.status, error.retryable, error.retry_after) == (429, True, 3.0)
    assert "c-1" in str(error)


def test_429_ten_secondly_without_retry_after_derives_wait_from_headers() -> None:
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c-2",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "100"}
    error = classify(api_exception(TasksApiException, 429, body, headers))
    assert error is not None
    assert error.retryable
    assert error.retry_after == 1.0
    exhausted = {**headers, "X-HubSpot-RateLimit-Remaining": "0"}
    error = classify(api_exception(TasksApiException, 429, body, exhausted))
    assert error is not None
    assert error.retry_after == 10.0
    assert "ten_secondly_rolling" in str(error)
    assert "c-2" in str(error)


def test_429_daily_is_exhausted_not_retryable() -> None:
    body = {"message": "You have reached your daily limit.", "policyName": "DAILY", "correlationId": "c-3"}
    error = classify(api_exception(DealsApiException, 429, body))
    assert isinstance(error, RateLimitExhausted)
    assert not error.retryable


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (423, True),
        (477, True),
        (400, False),
        (403, False),
        (404, False),
        (409, False),
    ],
)
def test_status_retryability(status: int, retryable: bool) -> None:
    error = classify(api_exception(DealsApiException, status, {"message": "m"}))
    assert error is not None
    assert error.retryable is retryable
    if status == 423:
        assert error.retry_after == 2.0


def test_401_is_not_retryable_and_never_shows_the_token() -> None:
    token = "pat-na1-secret-token-value"
    exc = api_exception(DealsApiException, 401, {"message": f"bad token {token}", "category": "INVALID_AUTHENTICATION"})
    error = classify(exc, [token])
    assert error is not None
    assert error.status == 401
    assert not error.retryable
    assert token not in str(error)
    assert "refused" in str(error)


def test_property_doesnt_exist_names_the_property() -> None:
    body = {
        "status": "error",
        "message": 'Property values were not valid: [{"isValid":false,"message":"Property '
        '\\"onboard_phase\\" '
        'does not exist","error":"PROPERTY_DOESNT_EXIST","name":"onboard_phase"}]',
        "category": "VALIDATION_ERROR",
        "correlationId": "c-4",
    }
    error = classify(api_exception(DealsApiException, 400, body))
    assert error is not None
    assert not error.retryable
    assert "'onboard_phase' does not exist" in str(error)
    assert "c-4" in str(error)


def test_connection_errors_are_retryable_status_0() -> None:
    exc = urllib3.exceptions.MaxRetryError(None, "/crm", urllib3.exceptions.NewConnectionError(None, "refused"))
    error = classify(exc)
    assert error is not None
    assert error.status == 0
    assert error.retryable
    assert classify(TimeoutError("read timed out")) is not None
    assert classify(ValueError("not an API error")) is None


# --- mapping -----------------------------------------------------------------------------


def test_parse_time_accepts_iso_and_ms_epoch() -> None:
    expected = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert convert.parse_time("2024-05-01T12:00:00.000Z") == expected
    assert convert.parse_time(str(int(expected.timestamp() * 1000))) == expected
    assert convert.parse_time("") is None
    assert convert.format_time(expected) == "2024-05-01T12:00:00.000Z"


def test_deal_mapping() -> None:
    obj = SimpleNamespace(
        id="7",
        updated_at=None,
        properties={
            "dealname": "Acme",
            "dealstage": "closedwon",
            "amount": "1200.5",
            "closedate": "2024-05-01T00:00:00Z",
            "hubspot_owner_id": "9",
            "pipeline": "default",
            "hs_lastmodifieddate": "2024-05-02T00:00:00Z",
            "custom": "x",
        },
    )
    deal = convert.to_deal(
        "hs", obj, won=("closedwon",), lost=("closedlost",), account_ids=["1", "2"], extra=("custom",)
    )
    assert (deal.is_won, deal.is_closed, deal.amount, deal.owner_id) == (True, True, 1200.5, "9")
    assert deal.close_date == datetime(2024, 5, 1, tzinfo=UTC)
    assert deal.account_ids == ("1", "2")
    assert deal.properties == {"custom": "x"}


def test_task_write_properties_and_associations() -> None:
    write = TaskWrite(
        key="k1",
        subject="Kickoff",
        body="b",
        due_at=datetime(2024, 5, 1, tzinfo=UTC),
        owner_id="9",
        deal_id="7",
        account_id="3",
        contact_ids=("4",),
    )
    props = convert.task_properties(write, "onboard_sync_key")
    assert props["onboard_sync_key"] == "k1"
    assert props["hs_task_status"] == "NOT_STARTED"
    assert props["hs_task_type"] == "TODO"
    assert props["hs_timestamp"] == "2024-05-01T00:00:00.000Z"
    types = [(a["to"]["id"], a["types"][0]["associationTypeId"]) for a in convert.task_associations(write)]
    assert types == [("7", 216), ("3", 192), ("4", 204)]
    patch = convert.patch_properties({"status": TaskStatus.COMPLETED, "owner_id": None})
    assert patch == {"hs_task_status": "COMPLETED", "hubspot_owner_id": ""}
    with pytest.raises(ValueError, match="unknown task field"):
        convert.patch_properties({"colour": "red"})


# --- batches and properties -----------------------------------------------------------------


def test_batch_split_maps_207_errors_by_trace_id() -> None:
    ok = SimpleNamespace(id="100", object_write_trace_id="a", properties={})
    errors = [
        SimpleNamespace(
            category="VALIDATION_ERROR",
            message="bad",
            context={"objectWriteTraceId": ["b"]},
            errors=[],
            status="error",
        ),
        SimpleNamespace(
            category="RATE_LIMITS",
            message="later",
            context={"objectWriteTraceId": ["c"]},
            errors=[],
            status="error",
        ),
    ]
    done, failed = batch.split(SimpleNamespace(results=[ok], errors=errors), lambda o: o.object_write_trace_id)
    results = batch.results_in_order(["a", "b", "c", "d"], done, failed)
    assert [(r.key, r.ok, r.remote_id, r.retryable) for r in results] == [
        ("a", True, "100", False),
        ("b", False, None, False),
        ("c", False, None, True),
        ("d", False, None, False),
    ]
    assert "bad" in (results[1].error or "")


def test_a_missing_property_is_named_per_record_and_for_a_whole_batch() -> None:
    missing = SimpleNamespace(
        category="VALIDATION_ERROR",
        message="Property values were not valid",
        context={"objectWriteTraceId": ["a"]},
        errors=[{"code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": ["onboarding_day"]}}],
        status="error",
    )
    done, failed = batch.split(SimpleNamespace(results=[], errors=[missing]), lambda o: o.object_write_trace_id)
    (result,) = batch.results_in_order(["a"], done, failed)
    assert result.unknown_properties == ("onboarding_day",)
    assert "'onboarding_day' does not exist" in (result.error or "")

    listed = 'Property values were not valid: [{"isValid":false,"name":"a","error":"PROPERTY_DOESNT_EXIST"},'
    listed += '{"isValid":false,"name":"b","error":"INVALID_OPTION"}]'
    whole = api_exception(DealsApiException, 400, {"message": listed, "category": "VALIDATION_ERROR"})
    assert batch.unknown_properties(whole) == ("a",)
    detailed = api_exception(
        DealsApiException,
        400,
        {"message": "invalid", "errors": [{"code": "PROPERTY_DOESNT_EXIST", "context": {"propertyName": ["c"]}}]},
    )
    assert batch.unknown_properties(ApiError("x", status=400)) == ()
    wrapped = ApiError("deals.batch_update: HTTP 400", status=400)
    wrapped.__cause__ = detailed
    assert batch.unknown_properties(wrapped) == ("c",)
    other = api_exception(DealsApiException, 400, {"message": "INVALID_OPTION", "category": "VALIDATION_ERROR"})
    assert batch.unknown_properties(other) == ()


def test_built_in_properties_and_those_in_the_onboarding_group_are_told_apart() -> None:
    def hubspot_property(name: str, group: str, *, defined: bool) -> SimpleNamespace:
        return SimpleNamespace(
            name=name,
            label=name,
            type="string",
            options=[],
            has_unique_value=False,
            modification_metadata=None,
            calculated=False,
            hubspot_defined=defined,
            group_name=group,
        )

    dealname = properties.to_schema(hubspot_property("dealname", "dealinformation", defined=True), "onboarding")
    ours = properties.to_schema(hubspot_property("onboarding_phase", "onboarding", defined=False), "onboarding")
    theirs = properties.to_schema(hubspot_property("plan_tier", "dealinformation", defined=False), "onboarding")
    assert (dealname.built_in, dealname.created_by_setup) == (True, False)
    assert (ours.built_in, ours.created_by_setup) == (False, True)
    assert (theirs.built_in, theirs.created_by_setup) == (False, False)


def test_owner_ids_are_numbers() -> None:
    from onboard_sync.connectors.hubspot import HubSpotConnector

    assert HubSpotConnector.looks_like_owner_id("12345")
    assert not HubSpotConnector.looks_like_owner_id("deal_ownr")
    assert not HubSpotConnector.looks_like_owner_id("005000000000000AAA")


def test_property_specs_and_create_body() -> None:
    (spec,) = properties.required_properties("my_key")
    assert (spec.kind, spec.name, spec.unique, spec.type) == (ObjectKind.TASK, "my_key", True, "string")
    body = properties.create_body(PropertySpec(ObjectKind.DEAL, "p", "P", "enumeration", ("a", "b")), "onboarding")
    assert body["fieldType"] == "select"
    assert body["groupName"] == "onboarding"
    assert [o["value"] for o in body["options"]] == ["a", "b"]
    assert properties.create_body(PropertySpec(ObjectKind.DEAL, "f", "F", "bool"), "g")["options"][0]["value"] == "true"


def test_search_counts_against_its_own_limit_shared_by_the_instance() -> None:
    """Search is exempt from the ten-secondly bucket and limited to 5 per second per account: two
    connectors of one instance (the deal pull and the ticket pull of a run) share that one limiter, a
    rolling second counted from the answers."""
    from onboard_sync.calls.gate import ApiGate
    from onboard_sync.connectors.hubspot import HubSpotConnector, HubSpotSettings

    now = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def search() -> None:
        starts.append(now[0])
        now[0] += 0.05  # each search takes 50 ms

    connector = HubSpotConnector("hubspot", HubSpotSettings(), {"HUBSPOT_TOKEN": "t"}, None)  # type: ignore[arg-type]
    shared: dict = {}
    gates = [ApiGate(sleep=sleep, clock=lambda: now[0]) for _ in range(2)]
    for gate in gates:
        gate.bind(
            lambda exc: None,
            connector.rate_limit(),
            instance="hubspot",
            limiters=shared,
            extra=connector.extra_rate_limits(),
        )
    assert gates[0].named["search"] is gates[1].named["search"]
    assert gates[0].bucket is gates[1].bucket
    for i in range(12):
        gates[i % 2]("deals.search", search, limit="search")
    ends = [start + 0.05 for start in starts]
    for i, start in enumerate(starts):  # what HubSpot counts: answers within the second before a call
        assert sum(1 for end in ends[:i] if end > start - 1.0) < 5, f"search {i} at {start:.2f} s"
    assert starts[5] == pytest.approx(ends[0] + 1.0), "the sixth waits only for the first to age out"
    assert starts[-1] < 2.5, "12 searches take a little over two rolling seconds, not 12 × 0.2 s"
    before = now[0]
    gates[0]("deals.batch_read", lambda: starts.append(now[0]))  # the ten-secondly bucket is untouched by search
    assert starts[-1] == before
