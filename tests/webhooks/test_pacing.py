"""Worker pacing and event triage: reconciles under load wait for the last one to be paid for at half the
rate limit, a deal change that cannot start an onboarding is dropped only for deals without one, and a
ticket event names its customer only through the organization its envelope carries."""

from __future__ import annotations

from webhook_support import SECRET, Served, deal_task_keys, open_deal, wait_for

from onboard_sync.calls.pacing import Pacer
from onboard_sync.calls.window import RollingWindowLimiter
from onboard_sync.connector import RateLimit
from onboard_sync.inbound import InboundEvent, cannot_start_onboarding


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_reconcile_is_paid_for_at_half_the_rate_before_the_next_starts() -> None:
    clock = Clock()
    limiters = {"hubspot": RollingWindowLimiter(RateLimit.at(10, window=10))}
    pacer = Pacer(limiters, clock=clock)
    assert pacer.wait_seconds() == 0.0, "a lone event is handled at once"
    pacer.record(started=100.0, calls=7, instances=["hubspot"])
    clock.now = 100.5
    assert abs(pacer.wait_seconds() - 0.9) < 1e-9  # 7 calls at 5/s = 1.4 s after its start
    clock.now = 102.0
    assert pacer.wait_seconds() == 0.0


def test_pacing_uses_the_slowest_instance_and_ignores_unknown_ones() -> None:
    clock = Clock()
    limiters = {
        "fast": RollingWindowLimiter(RateLimit.at(10, window=10)),
        "slow": RollingWindowLimiter(RateLimit.at(2, window=10)),
    }
    pacer = Pacer(limiters, clock=clock)
    pacer.record(started=100.0, calls=4, instances=["fast", "slow"])
    assert abs(pacer.wait_seconds() - 4.0) < 1e-9  # 4 calls at 1/s
    other = Pacer({}, clock=clock)
    other.record(started=100.0, calls=50, instances=["nowhere"])
    assert other.wait_seconds() == 0.0


def _event(type_: str, **raw: object) -> InboundEvent:
    return InboundEvent(key="k", kind="deal", object_id="1", type=type_, raw=raw)


def test_only_a_named_change_of_a_property_that_cannot_win_a_deal_is_droppable() -> None:
    assert cannot_start_onboarding(_event("deal.propertyChange", propertyName="amount"))
    assert not cannot_start_onboarding(_event("deal.propertyChange", propertyName="dealstage"))
    assert not cannot_start_onboarding(_event("deal.propertyChange", propertyName="closedate"))
    assert not cannot_start_onboarding(_event("deal.propertyChange"))  # property not named: read the deal
    assert not cannot_start_onboarding(_event("deal.creation"))
    assert not cannot_start_onboarding(_event("deal.deletion", propertyName="amount"))


def test_serve_reads_a_deal_for_an_amount_change_only_once_it_has_an_onboarding(served: Served) -> None:
    sb = served.project.sandbox
    sb.webhooks.subscribe(served.url, SECRET, types=["deal.propertyChange"], properties=["dealstage", "amount"])
    deal_id = open_deal(sb)

    def deal_reads() -> int:
        return sum(n for route, n in sb.request_counts().items() if "objects/deals/batch/read" in route)

    def settled() -> bool:
        return sb.webhooks.flush(10) and served.service.queue.pending() == 0

    sb.backend.update("deals", deal_id, {"amount": "1234.00"})
    wait_for(settled)
    assert sb.webhooks.deliveries, "the amount change was delivered"
    assert deal_reads() == 0, "an open deal without onboarding is not read for an amount change"

    sb.backend.set_deal_stage(deal_id, "closedwon")
    wait_for(lambda: deal_task_keys(sb, deal_id))
    wait_for(settled)
    after_win = deal_reads()
    assert after_win >= 1

    sb.backend.update("deals", deal_id, {"amount": "99999.00"})
    wait_for(lambda: deal_reads() > after_win)  # tracked now: its changes are reconciled


def test_a_ticket_event_names_its_organization_only_in_the_envelope() -> None:
    from onboard_sync.reconcile import organization_of

    def ticket(raw: dict[str, object]) -> InboundEvent:
        return InboundEvent(key="k", kind="ticket", object_id="7", type="ticket.created", raw=raw)

    assert organization_of(ticket({"detail": {"organization_id": "42"}})) == "42"
    assert organization_of(ticket({"ticket_id": "7"})) is None  # a trigger body: the incremental reconcile
    assert organization_of(ticket({"detail": {"organization_id": None}})) is None


class _ClockedStop:
    """A stop flag whose ``wait`` moves ``clock`` on instead of sleeping (never set)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.clock.now += timeout or 0.0
        return False

    def is_set(self) -> bool:
        return False

    def set(self) -> None:  # pragma: no cover - the drain below never stops
        raise AssertionError("not stopped in this test")


class _Batches:
    """A queue that hands out the given batches, one per ``claim``."""

    def __init__(self, batches: list[list[int]]) -> None:
        self.batches = batches

    def claim(self, limit: int) -> list[int]:
        return self.batches.pop(0) if self.batches else []


def test_batches_claimed_during_one_drain_are_paced_too() -> None:
    """Under a steady stream events arrive while a reconcile runs: the drain's next batch waits until
    the last reconcile is paid for, as a wake-up does (else back-to-back reconciles spend the whole
    rate limit and HubSpot's rolling window holds a won deal's first task back for seconds)."""
    from onboard_sync.webhooks.worker import Worker

    clock = Clock()
    started: list[float] = []

    class Draining(Worker):
        def __init__(self) -> None:  # only what ``drain`` uses: no runtime, store or CRM
            self._stop = _ClockedStop(clock)
            self.queue = _Batches([[1, 2], [3], [4, 5, 6]])  # type: ignore[assignment]
            self.pacer = Pacer({"hubspot": RollingWindowLimiter(RateLimit.at(10, window=10))}, clock=clock)

        def _process(self, batch: list[int]) -> bool:  # type: ignore[override]
            started.append(clock.now)
            self.pacer.record(clock.now, 7, ["hubspot"])  # a reconcile of 7 calls, taking no time
            return True

    assert Draining().drain() == 6
    assert [round(at - 100.0, 6) for at in started] == [0.0, 1.4, 2.8]  # 7 calls at 5 a second apart
