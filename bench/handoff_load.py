"""People at work in a CRM sandbox, timed: the load of the handoff benchmark, run inside the sandbox process.

:class:`HandoffLoad` moves deals to closed-won at ``won_per_s`` and edits a property nobody's
rules read (``amount``) on other open deals at ``other_per_s``, for ``seconds``, from a thread of
the sandbox process (so the pace does not depend on the pipe to the bench). A listener on the
backend's change events (``backend.listeners``, called as each write is applied) stamps, per won
deal, the moment its first onboard-sync task was created (a task whose ``onboard_sync_key`` names the
deal) and the moment onboard-sync first wrote its phase field: the latencies are differences of
``time.monotonic()`` in this one process, so no clock skew enters them. Its phase field is the
mapping's ``[deal.write] phase`` property (``onboarding_phase`` by default).

Driven by the ``handoff_*`` commands of :mod:`bench.sandbox_proc` from :mod:`bench.scenarios.handoff`.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

PHASE_PROPERTY = "onboarding_phase"
KEY_PROPERTY = "onboard_sync_key"


@dataclass
class HandoffLoad:
    """One timed load on a HubSpot sandbox ``sb`` (``start``, then ``result`` once it ended)."""

    sb: Any
    won_per_s: float
    other_per_s: float
    seconds: float
    seed: int = 6
    won_at: dict[str, float] = field(default_factory=dict)
    first_task_at: dict[str, float] = field(default_factory=dict)
    phase_at: dict[str, float] = field(default_factory=dict)
    other_changes: int = 0
    finished: bool = False
    _thread: threading.Thread | None = None

    def start(self) -> dict[str, int]:
        backend = self.sb.backend
        open_ids = sorted(d.id for d in backend.deals.values() if not _closed(d.properties.get("dealstage")))
        rnd = random.Random(self.seed)
        rnd.shuffle(open_ids)
        wins = round(self.won_per_s * self.seconds)
        if wins >= len(open_ids):
            raise ValueError(f"the sandbox has {len(open_ids)} open deals, the load needs more than {wins}")
        self._to_win, self._others = open_ids[:wins], open_ids[wins:]
        backend.listeners.append(self._on_event)
        self._thread = threading.Thread(target=self._run, name="handoff-load", daemon=True)
        self._thread.start()
        return {"wins_planned": wins, "other_deals": len(self._others)}

    def _run(self) -> None:
        backend = self.sb.backend
        rnd = random.Random(self.seed + 1)
        started = time.monotonic()
        schedule = [(i / self.won_per_s, "won", deal) for i, deal in enumerate(self._to_win)]
        others = round(self.other_per_s * self.seconds)
        schedule += [(j / self.other_per_s, "other", rnd.choice(self._others)) for j in range(others)]
        schedule.sort(key=lambda item: item[0])
        for offset, what, deal_id in schedule:
            delay = started + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if what == "won":
                backend.set_deal_stage(deal_id, "closedwon")
                self.won_at[deal_id] = time.monotonic()
            else:
                amount = float(backend.deals[deal_id].properties.get("amount") or 0)
                backend.update("deals", deal_id, {"amount": f"{amount + 1:.2f}"})
                self.other_changes += 1
        self.finished = True

    def _on_event(self, event: Any) -> None:  # under the backend's lock: only stamp
        now = time.monotonic()
        if event.change_source != "API" or not event.subscription_type.endswith(".propertyChange"):
            return
        if event.object_type == "tasks" and event.property_name == KEY_PROPERTY and event.property_value:
            deal_id = event.property_value.split(":")[1]
            self.first_task_at.setdefault(deal_id, now)
        elif event.object_type == "deals" and event.property_name == PHASE_PROPERTY:
            self.phase_at.setdefault(event.object_id, now)

    def result(self) -> dict[str, Any]:
        """Per won deal: seconds to its first task and to its phase field (None: not yet)."""

        def after(stamps: dict[str, float], deal_id: str, won: float) -> float | None:
            at = stamps.get(deal_id)
            return None if at is None else round(at - won, 4)

        return {
            "finished": self.finished,
            "other_changes": self.other_changes,
            "deals": {
                deal_id: {
                    "first_task_s": after(self.first_task_at, deal_id, won),
                    "phase_s": after(self.phase_at, deal_id, won),
                }
                for deal_id, won in self.won_at.items()
            },
        }

    def stop(self) -> None:
        if self._on_event in self.sb.backend.listeners:
            self.sb.backend.listeners.remove(self._on_event)


def _closed(stage: str | None) -> bool:
    return stage in ("closedwon", "closedlost")


_LOADS: dict[int, HandoffLoad] = {}


def subscribe(sb: Any, url: str, secret: str, properties: list[str]) -> int:
    """Deliver deal creations, deletions and changes of ``properties`` to ``url``, as HubSpot would."""
    return int(sb.webhooks.subscribe(url, secret, properties=properties).id)


def unsubscribe(sb: Any) -> None:
    sb.webhooks.close()


def start(sb: Any, won_per_s: float, other_per_s: float, seconds: float, seed: int) -> dict[str, int]:
    load = HandoffLoad(sb, won_per_s, other_per_s, seconds, seed)
    _LOADS[id(sb)] = load
    return load.start()


def result(sb: Any) -> dict[str, Any]:
    return _LOADS[id(sb)].result()


def stop(sb: Any) -> None:
    load = _LOADS.pop(id(sb), None)
    if load is not None:
        load.stop()


COMMANDS: dict[str, Any] = {
    "handoff_subscribe": subscribe,
    "handoff_unsubscribe": unsubscribe,
    "handoff_start": start,
    "handoff_result": result,
    "handoff_stop": stop,
}
