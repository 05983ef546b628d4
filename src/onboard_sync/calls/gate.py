"""The API gate: every vendor call a connector makes passes through here, once per attempt.

It does what must be done the same way for every connector: a per-portal token bucket (or a
rolling window, :mod:`onboard_sync.calls.window`, when the vendor counts that way) whose turns go
to waiting calls before background ones (:mod:`onboard_sync.calls.priority`),
retries with exponential backoff that honour the server's ``Retry-After`` (tenacity),
call accounting by endpoint (the ``api_calls`` figures of ``sync --json``), one renewal of
expired credentials on a 401 (the connector's ``renew_credentials``), an ``Unreachable`` error
naming the host when every attempt of a call failed to connect and, in ``plan`` mode, a hard
refusal of anything flagged as a write. Connectors receive an ``ApiGate`` as their ``call``
function; ``wait`` and ``monotonic`` give them the gate's clock for polling.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from onboard_sync.calls.priority import Turns, is_background
from onboard_sync.calls.unreachable import ConnectFailure, connect_failure
from onboard_sync.calls.window import RollingWindowLimiter
from onboard_sync.connector import Connector, RateLimit
from onboard_sync.crash import crash_point
from onboard_sync.errors import ApiError, AuthError, RateLimitExhausted, Unreachable

R = TypeVar("R")


class WriteRefused(RuntimeError):
    """A write was attempted in plan mode: a bug, since plan must never write."""


def _retryable(exc: BaseException) -> bool:
    """An error worth another attempt (an exhausted rate limit is not: waiting is its answer)."""
    return isinstance(exc, ApiError) and exc.retryable and not isinstance(exc, RateLimitExhausted)


class _Unauthorized(Exception):
    """A 401 inside an attempt: the caller renews the credentials once, or raises ``refused``."""

    def __init__(self, refused: AuthError, cause: BaseException) -> None:
        super().__init__(str(refused))
        self.refused, self.cause = refused, cause


class TokenBucket:
    """A thread-safe token bucket (``burst`` tokens, refilled at ``per_second``)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(limit.burst)
        self._stamp = clock()
        self._lock = threading.Lock()
        self._turns = Turns(self._lock)

    def acquire(self, *, background: bool = False) -> float:
        """Take a token, sleeping until one is there; returns the seconds slept. A ``background``
        call leaves a token to any other call waiting for one (``calls.priority``)."""
        return self._turns.take(background=background, free_in=self._free_in, claim=self._claim, sleep=self._sleep)

    def _free_in(self) -> float:
        now = self._clock()
        self._tokens = min(self.limit.burst, self._tokens + (now - self._stamp) * self.limit.per_second)
        self._stamp = now
        if self._tokens >= 1 - 1e-9:  # tolerance: float refill must not spin on 0.999…
            return 0.0
        return max((1 - self._tokens) / self.limit.per_second, 1e-3)

    def _claim(self) -> None:
        self._tokens = max(0.0, self._tokens - 1)

    def pause(self, seconds: float) -> None:
        """After a 429, drain the bucket so the next calls wait as the server asked."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0) - seconds * self.limit.per_second + 1

    def release(self, at: float | None = None) -> None:
        """A call ended (nothing to do for a bucket; the rolling window stamps it)."""


def make_limiter(
    limit: RateLimit, *, clock: Callable[[], float], sleep: Callable[[float], None]
) -> TokenBucket | RollingWindowLimiter:
    """A rolling window when ``limit`` has a ``window`` (HubSpot's 100 per 10 s), else a token bucket."""
    if limit.window:
        return RollingWindowLimiter(limit, clock=clock, sleep=sleep)
    return TokenBucket(limit, clock=clock, sleep=sleep)


class ApiGate:
    """The ``call`` function handed to a connector (see ``onboard_sync.connector.ApiCaller``)."""

    def __init__(
        self,
        classify: Callable[[BaseException], ApiError | None] | None = None,
        limit: RateLimit | None = None,
        *,
        plan_mode: bool = False,
        max_attempts: int = 6,
        base_backoff: float = 0.5,
        max_backoff: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.classify: Callable[[BaseException], ApiError | None] = classify or (lambda exc: None)
        self._clock = clock
        self.named: dict[str, TokenBucket | RollingWindowLimiter] = {}
        self.bucket: TokenBucket | RollingWindowLimiter = make_limiter(
            limit or RateLimit(per_second=1e9, burst=1_000_000), clock=clock, sleep=sleep
        )
        self.plan_mode = plan_mode
        self.instance = ""
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.calls: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.throttled_seconds = 0.0
        self.renewals = 0
        self.renew: Callable[[BaseException], bool] = lambda error: False
        self._renewing = threading.local()
        self._answers = threading.local()
        """Per thread: when the answer of the call in flight arrived (``answered``), or None."""
        self._count_lock = threading.Lock()

    def bind(
        self,
        classify: Callable[[BaseException], ApiError | None],
        limit: RateLimit,
        *,
        instance: str = "",
        limiters: dict[str, TokenBucket | RollingWindowLimiter] | None = None,
        extra: Mapping[str, RateLimit] | None = None,
        renew: Callable[[BaseException], bool] | None = None,
    ) -> None:
        """Attach the connector's error classifier, rate limits and credential renewal (the gate
        exists before the connector; ``bind_connector`` passes them all).

        With ``limiters`` (one dict per run), gates of the same instance share one limiter: the
        ticket pull, the deal pull and the write-back of one portal count against one budget,
        also when they run at the same time."""
        self.classify = classify
        self.instance = instance
        self.bucket = self._limiter(instance, limit, limiters)
        self.named = {name: self._limiter(f"{instance}:{name}", lim, limiters) for name, lim in (extra or {}).items()}
        if renew is not None:
            self.renew = renew

    def bind_connector(
        self, connector: Connector, *, limiters: dict[str, TokenBucket | RollingWindowLimiter] | None = None
    ) -> None:
        """``bind`` with everything ``connector`` declares: classifier, limits, renewal, instance."""
        self.bind(
            connector.classify_error,
            connector.rate_limit(),
            instance=connector.instance,
            limiters=limiters,
            extra=connector.extra_rate_limits(),
            renew=connector.renew_credentials,
        )

    def wait(self, seconds: float) -> None:
        """Sleep on the gate's clock (a simulated one in tests): for connectors polling a job."""
        self._sleep(max(0.0, seconds))

    def monotonic(self) -> float:
        """The gate's clock."""
        return self._clock()

    def answered(self) -> None:
        """The answer of the call this thread is making has arrived: a connector says so before it
        parses the answer, so that a rolling window stamps the call now (the server counted it
        before it answered) rather than once the parsing is done, which would hold the turn longer."""
        self._answers.at = self._clock()

    def _limiter(
        self, key: str, limit: RateLimit, limiters: dict[str, TokenBucket | RollingWindowLimiter] | None
    ) -> TokenBucket | RollingWindowLimiter:
        if limiters is None:
            return make_limiter(limit, clock=self._clock, sleep=self._sleep)
        shared = limiters.get(key)
        if shared is not None:
            return shared
        # setdefault is atomic: two gates binding at once (the ticket pull's thread) get one limiter
        return limiters.setdefault(key, make_limiter(limit, clock=self._clock, sleep=self._sleep))

    def _bucket(self, limit: str | None) -> TokenBucket | RollingWindowLimiter:
        if limit is None:
            return self.bucket
        try:
            return self.named[limit]
        except KeyError:
            raise ValueError(f"{self.instance}: no rate limit named {limit!r} (extra_rate_limits)") from None

    def _turns(self, limit: str | None) -> list[TokenBucket | RollingWindowLimiter]:
        """The limiters a call takes a turn of: its own, and the main one when a named limit counts toward it."""
        bucket = self._bucket(limit)
        if bucket is not self.bucket and bucket.limit.counts_toward_main:
            return [bucket, self.bucket]
        return [bucket]

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def _wait(self, state: RetryCallState, limit: str | None = None) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.max_backoff, self.base_backoff * 2 ** (state.attempt_number - 1))
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            self._bucket(limit).pause(exc.retry_after)  # the limit this call counts against
            return min(self.max_backoff, max(exc.retry_after, 0.0))
        return backoff

    def _attempt(self, endpoint: str, fn: Callable[[], R], limit: str | None = None) -> R:
        turns = self._turns(limit)
        waited = 0.0
        background = is_background()
        for bucket in turns:
            waited += bucket.acquire(background=background)
        self._answers.at = None
        with self._count_lock:  # connectors may call from several threads (pipelined writes)
            self.calls[endpoint] += 1
            self.throttled_seconds += waited
        try:
            crash_point("before-call")
            result = fn()
            crash_point("after-call")
            return result
        except ApiError as exc:
            with self._count_lock:
                self.errors[endpoint] += 1
            if exc.status == 401:  # a connector's own ApiError(401) means what a classified 401 means
                raise _Unauthorized(self._refused(endpoint), exc) from exc
            raise
        except Exception as exc:
            error = self.classify(exc)
            if error is None:
                raise
            with self._count_lock:
                self.errors[endpoint] += 1
            error.endpoint = error.endpoint or endpoint
            if error.status == 401:
                raise _Unauthorized(self._refused(endpoint), exc) from exc
            raise error from exc
        finally:
            answered = self._answers.at
            for bucket in turns:
                bucket.release(answered)

    def _refused(self, endpoint: str) -> AuthError:
        """A 401 the connector could not renew its way out of: the credentials are wrong (the
        vendor's error is its ``__cause__``)."""
        return AuthError(
            f"the CRM refused the credentials (HTTP 401 on {endpoint}): the token is invalid, "
            "expired or revoked; set a valid one in the environment",
            where=f"connectors.{self.instance}" if self.instance else None,
        )

    def __call__(self, endpoint: str, fn: Callable[[], R], *, write: bool = False, limit: str | None = None) -> R:
        """Call ``fn`` with retries, paced by the instance's rate limit (or by its named ``limit``)."""
        if write and self.plan_mode:
            raise WriteRefused(f"plan mode refused a write to {endpoint}")

        def before_sleep(state: RetryCallState) -> None:
            with self._count_lock:
                self.retries[endpoint] += 1
                self.throttled_seconds += state.upcoming_sleep

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=lambda state: self._wait(state, limit),
            retry=retry_if_exception(_retryable),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return self._retried(retrying, endpoint, fn, limit)
        except _Unauthorized as first:
            if not self._renewed(first.cause):
                raise first.refused from first.cause
        try:
            return self._retried(retrying, endpoint, fn, limit)
        except _Unauthorized as again:  # refused with fresh credentials too: final
            raise again.refused from again.cause

    def _retried(self, retrying: Retrying, endpoint: str, fn: Callable[[], R], limit: str | None) -> R:
        """One round of attempts; ``Unreachable`` when every attempt failed to connect."""
        started = self._clock()
        try:
            return retrying(self._attempt, endpoint, fn, limit)
        except ApiError as exc:
            failure = connect_failure(exc) if _retryable(exc) else None
            if failure is None:
                raise
            attempts = retrying.statistics.get("attempt_number", self.max_attempts)
            raise self._unreachable(failure, attempts, self._clock() - started) from exc

    def _unreachable(self, failure: ConnectFailure, attempts: int, seconds: float) -> Unreachable:
        """Every attempt failed to connect: one line naming the host (a wrong URL or a network
        outage, not something the next cron run fixes by itself)."""
        host = failure.host or "the API host"
        return Unreachable(
            f"cannot reach {host} ({failure.reason}) after {attempts} attempt{'s' if attempts > 1 else ''} "
            f"in {seconds:.0f} s; check the connector's URL setting and the network",
            where=f"connectors.{self.instance}" if self.instance else None,
        )

    def _renewed(self, cause: BaseException) -> bool:
        """Ask the connector to renew its credentials after a 401 (never from inside a renewal)."""
        if getattr(self._renewing, "active", False):
            return False
        self._renewing.active = True
        try:
            renewed = bool(self.renew(cause))
        finally:
            self._renewing.active = False
        if renewed:
            with self._count_lock:
                self.renewals += 1
        return renewed

    def summary(self) -> dict[str, object]:
        """The ``api_calls`` part of a run report."""
        return {
            "total": self.total_calls,
            "by_endpoint": dict(sorted(self.calls.items())),
            "retries": sum(self.retries.values()),
            "errors": sum(self.errors.values()),
            "renewals": self.renewals,
            "throttled_seconds": round(self.throttled_seconds, 3),
        }
