"""How a worker spaces its webhook reconciles: :class:`Pacer`.

Under a steady stream of deliveries a worker that reconciles as soon as it can runs many
small reconciles, each paying the same fixed calls (read the deals, their associations and
companies, then a batch per kind of write), and soon spends the CRM's whole rate limit: HubSpot's
Starter allows 100 requests per 10 s, and a reconcile of a few deals costs about 7. :class:`Pacer`
lets a reconcile start only once the one before it is paid for at ``share`` of the instance's rate
limit (calls ÷ (share × calls per second)); the events that arrive meanwhile join the next one, so
reconciles grow with the load and the calls per deal fall, while a lone event is still handled at
once. The rest of the limit stays free for the periodic reconcile, cron and other integrations of
the same portal. The limiters are the ones the worker's engines share (``Engine(limiters=...)``),
which also keeps back-to-back reconciles from overrunning the window between them (a 429 costs
HubSpot's 10 s penalty). Used by ``serve``'s worker (:mod:`onboard_sync.webhooks.worker`) and by
each ``onboard-sync worker`` process (:mod:`onboard_sync.durable.unit`), whose pacing is per process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping

WEBHOOK_RATE_SHARE = 0.5
"""Share of an instance's rate limit that webhook reconciles may use, averaged over each reconcile."""


class Pacer:
    """Spaces webhook reconciles so that they use at most ``share`` of their instances' rate limits."""

    def __init__(
        self,
        limiters: Mapping[str, object],
        *,
        share: float = WEBHOOK_RATE_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limiters = limiters
        self.share = share
        self.clock = clock
        self._ready_at = 0.0

    def record(self, started: float, calls: int, instances: Collection[str]) -> None:
        """A reconcile of ``instances`` began at ``started`` (``clock`` time) and made ``calls`` calls."""
        rate = self._calls_per_second(instances)
        if rate is None or calls <= 0:
            return
        self._ready_at = max(self._ready_at, started + calls / (self.share * rate))

    def wait_seconds(self) -> float:
        """How long the next webhook reconcile should wait for the last one to be paid for."""
        return max(0.0, self._ready_at - self.clock())

    def _calls_per_second(self, instances: Collection[str]) -> float | None:
        rates = [
            float(getattr(getattr(self.limiters.get(name), "limit", None), "per_second", 0) or 0) for name in instances
        ]
        known = [rate for rate in rates if rate > 0]
        return min(known) if known else None
