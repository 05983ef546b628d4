"""The API gate: token bucket, retries honouring Retry-After, accounting, plan-mode refusal, unreachable hosts."""

from __future__ import annotations

import httpx
import pytest

from onboard_sync.calls.gate import ApiGate, TokenBucket, WriteRefused
from onboard_sync.connector import RateLimit
from onboard_sync.errors import ApiError, AuthError, RateLimitExhausted, Unreachable


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Boom(Exception):
    def __init__(self, status: int, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after


def classify(exc: BaseException) -> ApiError | None:
    if isinstance(exc, Boom):
        if exc.status == 403:
            return RateLimitExhausted("daily limit", status=429)
        return ApiError(
            "boom",
            status=exc.status,
            retryable=exc.status in (429, 500, 502, 503),
            retry_after=exc.retry_after,
        )
    return None


def make_gate(t: FakeTime, **kwargs: object) -> ApiGate:
    return ApiGate(classify, RateLimit(per_second=10, burst=10), sleep=t.sleep, clock=t.clock, **kwargs)  # type: ignore[arg-type]


def test_bucket_spaces_calls_at_the_rate() -> None:
    t = FakeTime()
    bucket = TokenBucket(RateLimit(per_second=10, burst=10), clock=t.clock, sleep=t.sleep)
    for _ in range(30):
        bucket.acquire()
    assert t.now == pytest.approx(2.0, abs=0.01)  # 10 at once, then 20 more at 10/s


def test_retry_honours_retry_after_and_counts_every_attempt() -> None:
    t = FakeTime()
    gate = make_gate(t)
    outcomes = [Boom(429, retry_after=3.0), Boom(503), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert gate("deals.search", call) == "ok"
    assert gate.calls["deals.search"] == 3
    assert gate.retries["deals.search"] == 2
    assert 3.0 in t.sleeps  # waited as the server asked
    assert gate.summary()["total"] == 3


def test_non_retryable_and_quota_errors_surface_at_once() -> None:
    t = FakeTime()
    gate = make_gate(t)

    def bad_request() -> None:
        raise Boom(400)

    with pytest.raises(ApiError) as info:
        gate("tasks.batch_create", bad_request, write=True)
    assert info.value.endpoint == "tasks.batch_create"
    assert gate.calls["tasks.batch_create"] == 1

    def quota() -> None:
        raise Boom(403)

    with pytest.raises(RateLimitExhausted):
        gate("deals.search", quota)
    assert gate.calls["deals.search"] == 1


def test_gives_up_after_max_attempts() -> None:
    t = FakeTime()
    gate = make_gate(t, max_attempts=4)

    def always_500() -> None:
        raise Boom(500)

    with pytest.raises(ApiError):
        gate("owners.list", always_500)
    assert gate.calls["owners.list"] == 4


def test_401_becomes_an_auth_error_naming_the_instance() -> None:
    t = FakeTime()
    gate = make_gate(t)
    gate.bind(classify, RateLimit(per_second=10, burst=10), instance="hubspot")

    def refused() -> None:
        raise Boom(401)

    with pytest.raises(AuthError) as info:
        gate("owners.list", refused)
    assert info.value.where == "connectors.hubspot"


def test_a_connectors_own_api_error_401_is_an_auth_error_too() -> None:
    t = FakeTime()
    gate = make_gate(t)
    gate.bind(classify, RateLimit(per_second=10, burst=10), instance="toycrm")

    def refused() -> None:
        raise ApiError("invalid API key", status=401)

    with pytest.raises(AuthError, match=r"HTTP 401 on deals\.read") as info:
        gate("deals.read", refused)
    assert info.value.where == "connectors.toycrm"
    assert getattr(info.value.__cause__, "status", None) == 401, "the status stays reachable"
    assert gate.summary()["errors"] == 1


def test_plan_mode_refuses_writes_before_calling() -> None:
    t = FakeTime()
    gate = make_gate(t, plan_mode=True)
    called = []
    with pytest.raises(WriteRefused):
        gate("tasks.batch_create", lambda: called.append(1), write=True)
    assert called == []
    assert gate("deals.search", lambda: "read") == "read"


def test_unclassified_exceptions_propagate_unchanged() -> None:
    t = FakeTime()
    gate = make_gate(t)

    def bug() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        gate("deals.search", bug)


def test_throttled_seconds_counts_this_gates_own_waits_on_every_limit_it_uses() -> None:
    t = FakeTime()
    shared: dict = {}
    gates = [ApiGate(sleep=t.sleep, clock=t.clock) for _ in range(2)]
    for gate in gates:
        gate.bind(
            classify,
            RateLimit(per_second=1, burst=1),
            instance="crm",
            limiters=shared,
            extra={"search": RateLimit(per_second=1, burst=1, window=1.0)},
        )
    gates[0]("deals.search", lambda: None, limit="search")
    gates[1]("tickets.search", lambda: None, limit="search")  # waits 1 s for the shared search slot
    gates[1]("tickets.read", lambda: None)
    gates[0]("deals.read", lambda: None)  # waits 1 s for the shared bucket's next token
    assert t.now == pytest.approx(2.0, abs=0.01)
    assert gates[0].summary()["throttled_seconds"] == pytest.approx(1.0, abs=0.01)
    assert gates[1].summary()["throttled_seconds"] == pytest.approx(1.0, abs=0.01)
    gates[1]("tickets.search", lambda: None, limit="search")
    gates[1]("tickets.search", lambda: None, limit="search")  # only gate 1 waits this time
    assert gates[0].summary()["throttled_seconds"] == pytest.approx(1.0, abs=0.01)
    assert gates[1].summary()["throttled_seconds"] == pytest.approx(2.0, abs=0.01)
    assert shared["crm:search"] is gates[0].named["search"] is gates[1].named["search"]


def test_retry_backoff_is_counted_as_throttled_time() -> None:
    t = FakeTime()
    gate = make_gate(t)
    outcomes = [Boom(429, retry_after=2.5), "ok"]

    def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert gate("deals.read", call) == "ok"
    summary = gate.summary()
    assert summary["retries"] == 1
    assert summary["throttled_seconds"] == pytest.approx(2.5, abs=0.01)


# --- credentials renewed once on a 401 (Connector.renew_credentials) ---------------------------------------
class Session:
    """A vendor session that expires: requests with an old generation answer 401."""

    def __init__(self) -> None:
        self.generation = 1
        self.valid = 1
        self.renewals = 0

    def request(self) -> str:
        if self.generation != self.valid:
            raise Boom(401)
        return "ok"

    def renew(self, error: BaseException) -> bool:
        assert isinstance(error, Boom), "the gate hands over what the request raised"
        assert error.status == 401
        self.renewals += 1
        self.generation = self.valid
        return True


def test_a_401_renews_the_credentials_once_and_sends_the_request_again() -> None:
    t = FakeTime()
    gate = make_gate(t)
    session = Session()
    gate.bind(classify, RateLimit(per_second=10, burst=10), instance="crm", renew=session.renew)
    session.valid = 2  # the session expired
    assert gate("owners.list", session.request) == "ok"
    assert session.renewals == 1
    assert gate.calls["owners.list"] == 2, "both attempts are counted"
    assert gate.summary()["renewals"] == 1
    assert gate.summary()["retries"] == 0, "a renewal is not a retry: no backoff was slept"
    assert t.sleeps == []


def test_without_renewal_or_when_renewal_fails_a_401_is_final() -> None:
    t = FakeTime()
    gate = make_gate(t)
    gate.bind(classify, RateLimit(per_second=10, burst=10), instance="crm", renew=lambda error: False)
    with pytest.raises(AuthError, match=r"HTTP 401 on owners\.list"):
        gate("owners.list", lambda: (_ for _ in ()).throw(Boom(401)))
    assert gate.calls["owners.list"] == 1


def test_a_request_refused_again_after_renewal_is_an_auth_error() -> None:
    t = FakeTime()
    gate = make_gate(t)
    renewals: list[BaseException] = []
    gate.bind(classify, RateLimit(per_second=10, burst=10), instance="crm", renew=lambda e: not renewals.append(e))

    def refused() -> None:
        raise Boom(401)

    with pytest.raises(AuthError) as info:
        gate("owners.list", refused)
    assert len(renewals) == 1, "renewed once, never in a loop"
    assert gate.calls["owners.list"] == 2
    assert info.value.where == "connectors.crm"


def test_a_renewal_goes_through_the_gate_and_a_401_inside_it_is_final() -> None:
    """The token request is counted and paced like any call; its own 401 never renews again."""
    t = FakeTime()
    gate = make_gate(t)
    attempts: list[str] = []

    def renew(error: BaseException) -> bool:
        gate("oauth.token", lambda: attempts.append("token") or (_ for _ in ()).throw(Boom(401)))
        return True

    gate.bind(classify, RateLimit(per_second=10, burst=10), instance="crm", renew=renew)
    with pytest.raises(AuthError, match=r"oauth\.token"):
        gate("owners.list", lambda: (_ for _ in ()).throw(Boom(401)))
    assert attempts == ["token"]
    assert gate.calls == {"owners.list": 1, "oauth.token": 1}


# --- a named limit that counts toward the main one (Zendesk's exports) ---------------------------------
def test_a_named_limit_counting_toward_the_main_one_takes_a_turn_of_both() -> None:
    t = FakeTime()
    gate = ApiGate(sleep=t.sleep, clock=t.clock)
    gate.bind(
        classify,
        RateLimit(per_second=1, burst=1),
        instance="zendesk",
        extra={
            "export": RateLimit(per_second=10 / 60, burst=10, window=60.0, counts_toward_main=True),
            "search": RateLimit(per_second=100, burst=100),
        },
    )
    gate("tickets.export", lambda: None, limit="export")
    gate("organizations.read", lambda: None)  # the export used the main token: this one waits 1 s
    assert t.now == pytest.approx(1.0, abs=0.01)
    gate("deals.search", lambda: None, limit="search")  # an ordinary named limit leaves the main one alone
    gate("deals.search", lambda: None, limit="search")
    assert t.now == pytest.approx(1.0, abs=0.01)
    for _ in range(9):
        gate("tickets.export", lambda: None, limit="export")
    assert t.now == pytest.approx(10.0, abs=0.05), "nine more exports, each waiting for the main bucket"
    gate("tickets.export", lambda: None, limit="export")  # the eleventh in the minute waits for the window
    assert t.now == pytest.approx(60.0, abs=0.05)


def test_the_gates_clock_is_the_one_connectors_poll_with() -> None:
    t = FakeTime()
    gate = make_gate(t)
    start = gate.monotonic()
    gate.wait(2.5)
    assert gate.monotonic() - start == 2.5
    assert t.sleeps == [2.5]


# --- every attempt failed to connect: Unreachable names the host ------------------------------------------
def httpx_gate(t: FakeTime) -> ApiGate:
    """A gate whose connector classifies every httpx failure as a retryable transport error."""
    gate = ApiGate(
        lambda exc: ApiError(f"transport: {exc}", retryable=True) if isinstance(exc, httpx.HTTPError) else None,
        RateLimit(per_second=100, burst=100),
        sleep=t.sleep,
        clock=t.clock,
    )
    gate.instance = "crm"
    return gate


def test_the_gate_retries_then_says_unreachable_in_one_line(refusing_port: int) -> None:
    t = FakeTime()
    gate = httpx_gate(t)

    with pytest.raises(Unreachable) as caught:
        gate("deals.search", lambda: httpx.get(f"http://127.0.0.1:{refusing_port}/", timeout=2))

    assert gate.calls["deals.search"] == gate.max_attempts, "the bounded retries ran first"
    assert str(caught.value) == (
        f"connectors.crm: cannot reach 127.0.0.1:{refusing_port} (connection refused) after 6 attempts in 16 s; "
        "check the connector's URL setting and the network"
    )


def test_the_gate_leaves_a_slow_crm_an_ordinary_retryable_error(silent_port: int) -> None:
    t = FakeTime()
    gate = httpx_gate(t)
    gate.max_attempts = 2

    with pytest.raises(ApiError) as caught:
        gate("deals.search", lambda: httpx.get(f"http://127.0.0.1:{silent_port}/", timeout=httpx.Timeout(0.2)))

    assert not isinstance(caught.value, Unreachable)
    assert gate.calls["deals.search"] == 2


def test_a_host_unreachable_after_a_renewal_is_named_too(refusing_port: int) -> None:
    """The renewal's second round of attempts is watched for connect failures like the first."""
    t = FakeTime()
    gate = httpx_gate(t)
    gate.max_attempts = 2
    gate.renew = lambda error: True
    expired = [ApiError("session expired", status=401)]

    def request() -> httpx.Response:
        if expired:
            raise expired.pop()
        return httpx.get(f"http://127.0.0.1:{refusing_port}/", timeout=2)

    with pytest.raises(Unreachable, match=rf"cannot reach 127\.0\.0\.1:{refusing_port} \(connection refused\) after 2"):
        gate("owners.list", request)
    assert gate.renewals == 1
    assert gate.calls["owners.list"] == 3, "the refused attempt, then two that could not connect"
