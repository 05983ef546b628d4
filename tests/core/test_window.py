"""The rolling-window limiter: HubSpot's "100 per rolling 10 s", counted at the answer."""

from __future__ import annotations

import threading

import pytest

from onboard_sync.calls.gate import ApiGate, TokenBucket, make_limiter
from onboard_sync.calls.window import RollingWindowLimiter
from onboard_sync.connector import RateLimit

LIMIT = RateLimit(per_second=10, burst=100, window=10.0)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_full_window_goes_at_once_then_waits_for_the_oldest_to_age_out() -> None:
    t = FakeTime()
    window = RollingWindowLimiter(LIMIT, clock=t.clock, sleep=t.sleep)
    starts = []
    for _ in range(250):
        window.acquire()
        starts.append(t.now)
        t.now += 0.01  # each call takes 10 ms
        window.release()
    assert starts[99] < 1.0, "the first 100 go at once"
    # never more than 100 calls whose answers came within any 10 s (what the server could count)
    ends = [s + 0.01 for s in starts]
    for i, start in enumerate(starts):
        assert sum(1 for e in ends[:i] if e > start - 10.0) < 100
    assert 20.0 <= starts[-1] <= 21.0, "250 calls take just over two windows"


def test_idle_time_is_not_wasted_unlike_a_ten_token_bucket() -> None:
    t = FakeTime()
    window = RollingWindowLimiter(LIMIT, clock=t.clock, sleep=t.sleep)
    t.now = 12.0  # the engine evaluated for 12 s without calling
    for _ in range(80):
        window.acquire()
        window.release()
    assert t.now == pytest.approx(12.0), "80 writes after a pause all go without waiting"
    bucket = TokenBucket(RateLimit(per_second=10, burst=10), clock=t.clock, sleep=t.sleep)
    for _ in range(80):
        bucket.acquire()
    assert t.now > 18.0, "a 10-token bucket makes the same 80 writes trickle out over 7 s"


def test_calls_in_flight_count_until_they_end() -> None:
    t = FakeTime()
    window = RollingWindowLimiter(RateLimit(per_second=1, burst=2, window=2.0), clock=t.clock, sleep=t.sleep)
    window.acquire()
    window.acquire()
    assert window.used == 2
    released = threading.Timer(0.05, window.release)
    released.start()
    window.acquire()  # polls until one in-flight call ends (real thread), then admits
    released.join()
    assert window.used == 2


def test_pause_after_a_429_blocks_for_retry_after() -> None:
    t = FakeTime()
    window = RollingWindowLimiter(LIMIT, clock=t.clock, sleep=t.sleep)
    window.pause(3.0)
    window.acquire()
    assert t.now == pytest.approx(3.0)


def test_the_gate_picks_the_limiter_from_the_rate_limit_shape() -> None:
    t = FakeTime()
    assert isinstance(make_limiter(LIMIT, clock=t.clock, sleep=t.sleep), RollingWindowLimiter)
    assert isinstance(make_limiter(RateLimit(10, 10), clock=t.clock, sleep=t.sleep), TokenBucket)
    gate = ApiGate(None, LIMIT, clock=t.clock, sleep=t.sleep)
    for _ in range(150):
        gate("x.read", lambda: 1)
    assert gate.calls["x.read"] == 150
    assert isinstance(gate.bucket, RollingWindowLimiter)
    assert gate.bucket.used == 50 or t.now >= 10.0


def test_a_window_needs_a_window() -> None:
    with pytest.raises(ValueError, match="window"):
        RollingWindowLimiter(RateLimit(10, 10))


def test_rate_limit_at_a_rate_is_a_bucket_of_one_seconds_worth_or_a_window_of_its_length() -> None:
    assert RateLimit.at(19) == RateLimit(per_second=19, burst=19)
    assert RateLimit.at(0.5) == RateLimit(per_second=0.5, burst=1), "at least one call may go"
    assert RateLimit.at(19, window=10.0) == RateLimit(per_second=19, burst=190, window=10.0)
    assert RateLimit.at(5, window=1.0) == RateLimit(per_second=5, burst=5, window=1.0)
    # below one call per window, the window widens so the average stays the rate asked for
    assert RateLimit.at(0.5, window=1.0) == RateLimit(per_second=0.5, burst=1, window=2.0)
    with pytest.raises(ValueError, match="per_second"):
        RateLimit.at(0)


def test_requests_per_second_in_settings_keeps_the_connectors_limiter_shape() -> None:
    from onboard_sync.connectors.hubspot import HubSpotConnector, HubSpotSettings
    from onboard_sync.connectors.salesforce import SalesforceConnector, SalesforceSettings

    def hubspot(**settings: object) -> HubSpotConnector:
        return HubSpotConnector("hubspot", HubSpotSettings(**settings), {"HUBSPOT_TOKEN": "t"}, None)  # type: ignore[arg-type]

    assert hubspot().rate_limit() == RateLimit(per_second=10, burst=100, window=10.0)
    pro = hubspot(requests_per_second=19).rate_limit()
    assert pro == RateLimit(per_second=19, burst=190, window=10.0), "HubSpot Pro: 190 per rolling 10 s"
    t = FakeTime()
    assert isinstance(make_limiter(pro, clock=t.clock, sleep=t.sleep), RollingWindowLimiter)
    assert hubspot().extra_rate_limits() == {"search": RateLimit(per_second=5, burst=5, window=1.0)}
    assert hubspot(search_requests_per_second=4).extra_rate_limits()["search"].burst == 4

    sf_settings = SalesforceSettings(client_id="c", username="u", requests_per_second=7)
    salesforce = SalesforceConnector("salesforce", sf_settings, {}, None)  # type: ignore[arg-type]
    assert salesforce.default_rate_limit.window is None
    assert salesforce.rate_limit() == RateLimit(per_second=7, burst=7), "a bucket stays a bucket"


def test_a_call_is_stamped_when_the_connector_says_its_answer_arrived_not_after_parsing() -> None:
    t = FakeTime()
    gate = ApiGate(None, RateLimit(per_second=1, burst=1, window=1.0), clock=t.clock, sleep=t.sleep)

    def search() -> int:
        t.now += 0.05  # the request and its answer
        gate.answered()
        t.now += 0.4  # the SDK parses 200 records
        return 1

    gate("tasks.search", search)
    gate("tasks.search", lambda: 1)
    assert t.now == pytest.approx(1.05, abs=0.01), "the turn freed a window after the answer, not after the parsing"
    gate("tasks.search", lambda: 1)  # a connector that does not say: stamped when the call returns
    assert t.now == pytest.approx(2.05, abs=0.01)


def test_a_stamp_given_at_release_is_never_later_than_now() -> None:
    t = FakeTime()
    window = RollingWindowLimiter(RateLimit(per_second=1, burst=1, window=1.0), clock=t.clock, sleep=t.sleep)
    window.acquire()
    window.release(at=5.0)
    window.acquire()
    assert t.now == pytest.approx(1.0)


def test_the_hubspot_sdk_reports_each_answer_before_it_is_parsed() -> None:
    from types import SimpleNamespace

    from onboard_sync.connectors.hubspot.client import note_answers

    events: list[str] = []
    api = SimpleNamespace(api_client=SimpleNamespace(request=lambda *a, **k: events.append("answer") or "raw"))
    note_answers(api, lambda: events.append("reported"))
    assert api.api_client.request("POST", "/crm/v3/objects/tasks/search") == "raw"
    assert events == ["answer", "reported"]
