"""Test helpers: records, facts, and a fake engine + person that drive ``evaluate`` over days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache

from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import CustomerFacts, Evaluation, OnboardingState, TaskFact
from onboard_sync.records import Account, Deal, TaskStatus, Ticket
from onboard_sync.rules import Playbook, default_playbook_path, load_playbook

T0 = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, midnight UTC
OID = "hs:d1"


@cache
def default_pb() -> Playbook:
    return load_playbook(default_playbook_path())


def make_deal(
    amount: float | None = 50_000.0,
    *,
    won: bool = True,
    close: datetime | None = T0,
    props: Mapping[str, str | None] | None = None,
) -> Deal:
    return Deal(
        source="hs",
        id="d1",
        updated_at=T0,
        name="Acme rollout",
        stage="closedwon" if won else "appointmentscheduled",
        is_won=won,
        is_closed=won,
        amount=amount,
        close_date=close,
        properties=dict(props or {}),
    )


def make_account(props: Mapping[str, str | None] | None = None) -> Account:
    return Account(source="hs", id="a1", updated_at=T0, name="Acme", domain="acme.test", properties=dict(props or {}))


def facts(
    deal: Deal | None = None,
    *,
    tasks: Mapping[str, TaskFact] | None = None,
    account: Account | None = None,
    crm_phase: str | None = None,
    written_phase: str | None = None,
    tickets: tuple[Ticket, ...] = (),
) -> CustomerFacts:
    return CustomerFacts(
        deal=deal or make_deal(),
        account=account or make_account(),
        tasks=dict(tasks or {}),
        crm_phase=crm_phase,
        written_phase=written_phase,
        tickets=tickets,
    )


def done(key: str, at: datetime = T0, due: datetime | None = None) -> TaskFact:
    template = key.split(":")[-2]
    return TaskFact(key=key, template_key=template, status=TaskStatus.COMPLETED, due_at=due, completed_at=at)


def open_(key: str, due: datetime | None = None, created: datetime | None = None) -> TaskFact:
    template = key.split(":")[-2]
    return TaskFact(key=key, template_key=template, status=TaskStatus.OPEN, due_at=due, created_at=created)


@dataclass
class Sim:
    """A fake engine (creates every task spec it has not seen, writes the phase field) and a
    fake person (completes open tasks when ``complete`` says so)."""

    deal: Deal = field(default_factory=make_deal)
    account: Account = field(default_factory=make_account)
    playbook: Playbook = field(default_factory=default_pb)
    state: OnboardingState | None = None
    tasks: dict[str, TaskFact] = field(default_factory=dict)
    written_phase: str | None = None
    crm_phase: str | None = None
    log: list[Evaluation] = field(default_factory=list)

    def step(self, now: datetime) -> Evaluation:
        ev = evaluate(
            self.state,
            facts(
                self.deal,
                tasks=self.tasks,
                account=self.account,
                crm_phase=self.crm_phase if self.crm_phase is not None else self.written_phase,
                written_phase=self.written_phase,
            ),
            self.playbook,
            now,
            onboarding_id=OID,
        )
        self.crm_phase = None
        self.state = ev.state
        for spec in ev.tasks:
            if spec.key not in self.tasks:
                self.tasks[spec.key] = TaskFact(
                    key=spec.key,
                    template_key=spec.template_key,
                    status=TaskStatus.OPEN,
                    due_at=spec.due_at,
                    created_at=now,
                )
        if ev.fields:
            self.written_phase = ev.fields[next(iter(ev.fields))]["phase"]
        self.log.append(ev)
        return ev

    def complete(self, key: str, at: datetime) -> None:
        self.tasks[key] = replace(self.tasks[key], status=TaskStatus.COMPLETED, completed_at=at)

    def delete(self, key: str, at: datetime) -> None:
        """A person deleted the task in the CRM (the daily check records it as DELETED)."""
        self.tasks[key] = replace(self.tasks[key], status=TaskStatus.DELETED, completed_at=at)

    def complete_due(self, now: datetime) -> None:
        """The diligent person: completes every open task due by the end of ``now``'s day (UTC)."""
        for key, task in list(self.tasks.items()):
            if task.status == TaskStatus.OPEN and task.due_at is not None and task.due_at.date() <= now.date():
                self.complete(key, now)

    def complete_all(self, now: datetime) -> None:
        for key, task in list(self.tasks.items()):
            if task.status == TaskStatus.OPEN:
                self.complete(key, now)


def at_day(day: float, hour: int = 12) -> datetime:
    return T0 + timedelta(days=day, hours=hour)
