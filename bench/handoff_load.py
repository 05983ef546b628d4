"""People at work in a CRM sandbox, timed: the load of the handoff benchmark, run inside the sandbox process.

:class:`HandoffLoad` (HubSpot) and :class:`SalesforceHandoffLoad` move deals to closed-won at
``won_per_s`` and edit a field nobody's rules read (the amount) on other open deals at
``other_per_s``, for ``seconds``, from a thread of the sandbox process (so the pace does not depend
on the pipe to the bench). A listener on the backend's changes (``backend.listeners``, called as
each write is applied) stamps, per won deal, the moment its first onboard-sync task was created (a
task whose key names the deal) and the moment its phase field was first written (the default
mapping's ``[deal.write] phase``: ``onboarding_phase``, ``Onboarding_Phase__c``): the latencies are
differences of ``time.monotonic()`` in this one process, so no clock skew enters them.

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
HEALTH_REASONS_PROPERTY = "onboarding_health_reasons"
SF_PHASE_FIELD = "Onboarding_Phase__c"
SF_KEY_FIELD = "OnboardSync_Key__c"
SF_WON_STAGE = "Closed Won"


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

    # -- what differs per CRM ---------------------------------------------------------------------
    def open_deal_ids(self) -> list[str]:
        return sorted(d.id for d in self.sb.backend.deals.values() if not _closed(d.properties.get("dealstage")))

    def win(self, deal_id: str) -> None:
        self.sb.backend.set_deal_stage(deal_id, "closedwon")

    def edit(self, deal_id: str) -> None:
        backend = self.sb.backend
        amount = float(backend.deals[deal_id].properties.get("amount") or 0)
        backend.update("deals", deal_id, {"amount": f"{amount + 1:.2f}"})

    def _on_event(self, event: Any) -> None:  # under the backend's lock: only stamp
        now = time.monotonic()
        if event.change_source != "API" or not event.subscription_type.endswith(".propertyChange"):
            return
        if event.object_type == "tasks" and event.property_name == KEY_PROPERTY and event.property_value:
            self.first_task_at.setdefault(event.property_value.split(":")[1], now)
        elif event.object_type == "deals" and event.property_name == PHASE_PROPERTY:
            self.phase_at.setdefault(event.object_id, now)

    # -- the load ---------------------------------------------------------------------------------
    def start(self) -> dict[str, int]:
        open_ids = self.open_deal_ids()
        random.Random(self.seed).shuffle(open_ids)
        wins = round(self.won_per_s * self.seconds)
        if wins >= len(open_ids):
            raise ValueError(f"the sandbox has {len(open_ids)} open deals, the load needs more than {wins}")
        self._to_win, self._others = open_ids[:wins], open_ids[wins:]
        self.sb.backend.listeners.append(self._on_event)
        self._thread = threading.Thread(target=self._run, name="handoff-load", daemon=True)
        self._thread.start()
        return {"wins_planned": wins, "other_deals": len(self._others)}

    def _run(self) -> None:
        rnd = random.Random(self.seed + 1)
        started = time.monotonic()
        schedule = [(i / self.won_per_s, True, deal) for i, deal in enumerate(self._to_win)]
        others = round(self.other_per_s * self.seconds)
        schedule += [(j / self.other_per_s, False, rnd.choice(self._others)) for j in range(others)]
        schedule.sort(key=lambda item: item[0])
        for offset, won, deal_id in schedule:
            delay = started + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if won:
                self.win(deal_id)
                self.won_at[deal_id] = time.monotonic()
            else:
                self.edit(deal_id)
                self.other_changes += 1
        self.finished = True

    def result(self) -> dict[str, Any]:
        """Per won deal: seconds to its first task and to its phase field (None: not yet)."""

        def after(stamps: dict[str, float], deal_id: str, won: float) -> float | None:
            at = stamps.get(deal_id)
            return None if at is None else round(at - won, 4)

        # copies first (one C call each): the load thread and the listener add entries meanwhile
        finished, won_at = self.finished, dict(self.won_at)
        first_task_at, phase_at = dict(self.first_task_at), dict(self.phase_at)
        return {
            "finished": finished,
            "other_changes": self.other_changes,
            "deals": {
                deal_id: {"first_task_s": after(first_task_at, deal_id, won), "phase_s": after(phase_at, deal_id, won)}
                for deal_id, won in won_at.items()
            },
        }

    def stop(self) -> None:
        if self._on_event in self.sb.backend.listeners:
            self.sb.backend.listeners.remove(self._on_event)


class SalesforceHandoffLoad(HandoffLoad):
    """The same load on the Salesforce sandbox: Opportunities to Closed Won, Amount edits on others."""

    def open_deal_ids(self) -> list[str]:
        return sorted(i for i, o in self.sb.backend.opportunities.items() if not o["IsClosed"])

    def win(self, deal_id: str) -> None:
        self.sb.backend.set_stage(deal_id, SF_WON_STAGE)

    def edit(self, deal_id: str) -> None:
        backend = self.sb.backend
        amount = float(backend.opportunities[deal_id].get("Amount") or 0)
        backend.update("Opportunity", deal_id, {"Amount": amount + 1})

    def _on_event(self, sobject: str, record_id: str, before: Any, after: Any) -> None:  # type: ignore[override]
        now = time.monotonic()
        if sobject == "Task" and not before and after.get(SF_KEY_FIELD):
            self.first_task_at.setdefault(str(after[SF_KEY_FIELD]).split(":")[1], now)
        elif sobject == "Opportunity" and before.get(SF_PHASE_FIELD) != after.get(SF_PHASE_FIELD):
            self.phase_at.setdefault(record_id, now)


def _closed(stage: str | None) -> bool:
    return stage in ("closedwon", "closedlost")


_LOADS: dict[int, HandoffLoad | TicketHealthLoad] = {}


def subscribe(sb: Any, url: str, secret: str, properties: list[str]) -> int:
    """HubSpot: deliver deal creations, deletions and changes of ``properties`` to ``url``.
    Salesforce: an Outbound Message on Opportunity stage changes to ``url`` (``secret`` and ``properties``
    unused: Outbound Messages are not signed, and the flow fires on StageName only)."""
    if _is_salesforce(sb):
        sb.outbound.subscribe(url)
        return 1
    return int(sb.webhooks.subscribe(url, secret, properties=properties).id)


def unsubscribe(sb: Any) -> None:
    (sb.outbound if _is_salesforce(sb) else sb.webhooks).close()


def _is_salesforce(sb: Any) -> bool:
    return hasattr(sb, "outbound")


def start(sb: Any, won_per_s: float, other_per_s: float, seconds: float, seed: int) -> dict[str, int]:
    kind = SalesforceHandoffLoad if _is_salesforce(sb) else HandoffLoad
    load = kind(sb, won_per_s, other_per_s, seconds, seed)
    _LOADS[id(sb)] = load
    return load.start()


def result(sb: Any) -> dict[str, Any]:
    return _LOADS[id(sb)].result()


def start_tickets(sb: Any, customers: list[tuple[str, int]], interval: float, url: str, secret: str) -> dict[str, int]:
    """The ticket load on the Zendesk sandbox that runs beside ``sb`` (``sb.zendesk``), its webhooks to ``url``."""
    sb.zendesk.webhooks.secret = secret
    load = TicketHealthLoad(sb, sb.zendesk, [(d, int(o)) for d, o in customers], interval, url)
    _LOADS[id(sb)] = load
    return load.start()


def stop(sb: Any) -> None:
    load = _LOADS.pop(id(sb), None)
    if load is not None:
        load.stop()


def zendesk_requests(sb: Any) -> dict[str, int]:
    """Requests the Zendesk sandbox beside ``sb`` served, by route."""
    return dict(sb.zendesk.request_counts())


def zendesk_clear(sb: Any) -> None:
    sb.zendesk.requests.clear()


COMMANDS: dict[str, Any] = {
    "handoff_zendesk_requests": zendesk_requests,
    "handoff_zendesk_clear": zendesk_clear,
    "handoff_subscribe": subscribe,
    "handoff_unsubscribe": unsubscribe,
    "handoff_start": start,
    "handoff_start_tickets": start_tickets,
    "handoff_result": result,
    "handoff_stop": stop,
}


@dataclass
class TicketHealthLoad:
    """Support agents at work: every ``interval`` seconds one customer's organization gets three urgent
    tickets (opened four days ago, still open) and Zendesk's webhook for each; the HubSpot backend's
    listener stamps the first write of that customer's deal health reasons that follows."""

    sb: Any
    zendesk: Any
    customers: list[tuple[str, int]]
    """``(HubSpot deal id, Zendesk organization id)`` of healthy, linked onboardings."""
    interval: float
    url: str
    opened_at: dict[str, float] = field(default_factory=dict)
    health_at: dict[str, float] = field(default_factory=dict)
    webhook_failures: int = 0
    finished: bool = False

    def start(self) -> dict[str, int]:
        self.sb.backend.listeners.append(self._on_event)
        threading.Thread(target=self._run, name="ticket-load", daemon=True).start()
        return {"customers": len(self.customers)}

    def _run(self) -> None:
        from datetime import timedelta

        zd = self.zendesk
        started = time.monotonic()
        for n, (deal_id, org) in enumerate(self.customers):
            delay = started + n * self.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            opened = zd.clock.now() - timedelta(days=4)
            tickets = [
                zd.backend.add_ticket(f"Outage {k}", organization_id=org, priority="urgent", created_at=opened)
                for k in range(3)
            ]
            self.opened_at[deal_id] = time.monotonic()
            for ticket in tickets:  # Zendesk's trigger fires for each ticket
                if zd.webhooks.deliver(self.url, zd.webhooks.ticket_event(ticket, "ticket.created")) != 200:
                    self.webhook_failures += 1
        self.finished = True

    def _on_event(self, event: Any) -> None:
        if (
            event.change_source == "API"
            and event.object_type == "deals"
            and event.property_name == HEALTH_REASONS_PROPERTY
            and event.object_id in self.opened_at
        ):
            self.health_at.setdefault(event.object_id, time.monotonic())

    def result(self) -> dict[str, Any]:
        finished, opened_at, health_at = self.finished, dict(self.opened_at), dict(self.health_at)
        return {
            "finished": finished,
            "webhook_failures": self.webhook_failures,
            "deals": {
                d: {"health_s": None if d not in health_at else round(health_at[d] - t, 4)}
                for d, t in opened_at.items()
            },
        }

    def stop(self) -> None:
        if self._on_event in self.sb.backend.listeners:
            self.sb.backend.listeners.remove(self._on_event)
