"""A store with known contents for the report tests, built with the real store API.

Six onboardings of the default playbook (and one of another playbook, which the report leaves
out), on a fixed "now" of Monday 2026-03-02 12:00 UTC. Every figure the report shows from this
book is worked out by hand in the test that checks it (tests/report/test_report_figures.py).

=====  ===========  =========  ==========  =====================================================
name   segment      status     started     story
=====  ===========  =========  ==========  =====================================================
A      SMB          completed  2026-01-01  through every phase; live on day 12; completed Feb 20
B      Mid-market   active     2026-01-20  live on day 35 (plan: 30); health at-risk 55
C      Enterprise   at-risk    2026-02-01  in kickoff; health critical 30
D      SMB          cancelled  2026-01-10  deal lost in kickoff on Jan 25
E      Mid-market   active     2026-02-25  in handoff; healthy 90
F      SMB          active     2025-11-01  phase set by hand from handoff to adoption (live day 1)
=====  ===========  =========  ==========  =====================================================
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from onboard_sync.onboarding.state import (
    OnboardingState,
    OnboardingStatus,
    PhaseVisit,
    Transition,
    TransitionCause,
)
from onboard_sync.records import Account, Deal, Task, TaskStatus, Ticket
from onboard_sync.rules import Playbook, default_playbook_path, example_playbooks, load_playbook
from onboard_sync.store import AccountLink, AuditEntry, HealthRecord, OwnedTask, Store

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SEED004 = example_playbooks()["seed004_fnb_30_60_90"]
"""The playbook of the simulated onboarding the report tests draw (seed 004, 30-60-90 days)."""
CRM = "hubspot"
HELPDESK = "zendesk"


def at(text: str) -> datetime:
    """``"2026-01-02 09:00"`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def playbook() -> Playbook:
    return load_playbook(default_playbook_path())


def _history(*stays: tuple[str, str, str | None]) -> tuple[PhaseVisit, ...]:
    """(phase, entered, left or None) -> visits; the first is the start, the rest tasks-completed."""
    visits = []
    for i, (phase, entered, left) in enumerate(stays):
        cause = TransitionCause.STARTED if i == 0 else TransitionCause.TASKS_COMPLETED
        visits.append(PhaseVisit(phase, at(entered), cause, at(left) if left else None))
    return tuple(visits)


def _state(
    name: str, segment: str, status: OnboardingStatus, history: tuple[PhaseVisit, ...], **kw: object
) -> OnboardingState:
    return OnboardingState(
        id=f"{CRM}:deal-{name}",
        source=CRM,
        deal_id=f"deal-{name}",
        account_id=f"acc-{name}",
        segment=segment,
        phase=history[-1].phase,
        status=status,
        started_at=history[0].entered_at,
        phase_entered_at=history[-1].entered_at,
        history=history,
        playbook="default",
        **kw,  # type: ignore[arg-type]
    )


A = _state(
    "a",
    "smb",
    OnboardingStatus.COMPLETED,
    _history(
        ("handoff", "2026-01-01 09:00", "2026-01-02 09:00"),  # 1 day
        ("kickoff", "2026-01-02 09:00", "2026-01-03 21:00"),  # 1.5
        ("discovery", "2026-01-03 21:00", "2026-01-06 21:00"),  # 3
        ("configuration", "2026-01-06 21:00", "2026-01-10 21:00"),  # 4
        ("training", "2026-01-10 21:00", "2026-01-12 21:00"),  # 2
        ("go_live", "2026-01-12 21:00", "2026-01-13 21:00"),  # 1
        ("adoption", "2026-01-13 21:00", "2026-02-12 21:00"),  # 30
        ("review", "2026-02-12 21:00", "2026-02-20 09:00"),  # 7.5
        ("completed", "2026-02-20 09:00", None),
    ),
    go_live_at=at("2026-01-13 21:00"),  # day 12
    completed_at=at("2026-02-20 09:00"),
    health_score=85,
    health_status="healthy",
)
B = _state(
    "b",
    "mid_market",
    OnboardingStatus.ACTIVE,
    _history(
        ("handoff", "2026-01-20 09:00", "2026-01-22 09:00"),  # 2
        ("kickoff", "2026-01-22 09:00", "2026-01-25 09:00"),  # 3
        ("discovery", "2026-01-25 09:00", "2026-02-01 09:00"),  # 7
        ("configuration", "2026-02-01 09:00", "2026-02-11 09:00"),  # 10
        ("training", "2026-02-11 09:00", "2026-02-19 09:00"),  # 8
        ("go_live", "2026-02-19 09:00", "2026-02-24 09:00"),  # 5
        ("adoption", "2026-02-24 09:00", None),
    ),
    go_live_at=at("2026-02-24 09:00"),  # day 35
    health_score=55,
    health_status="at-risk",
    health_reasons=("at risk (health 55): act this week", "2 tickets in the first week live"),
)
C = _state(
    "c",
    "enterprise",
    OnboardingStatus.AT_RISK,
    _history(("handoff", "2026-02-01 09:00", "2026-02-05 09:00"), ("kickoff", "2026-02-05 09:00", None)),
    health_score=30,
    health_status="critical",
    health_reasons=("critical (health 30): escalate now", "2 required task(s) overdue"),
)
D = _state(
    "d",
    "smb",
    OnboardingStatus.CANCELLED,
    _history(("handoff", "2026-01-10 09:00", "2026-01-11 09:00"), ("kickoff", "2026-01-11 09:00", None)),
    cancelled_at=at("2026-01-25 09:00"),
    health_score=60,
    health_status="at-risk",
)
E = _state(
    "e",
    "mid_market",
    OnboardingStatus.ACTIVE,
    _history(("handoff", "2026-02-25 09:00", None)),
    health_score=90,
    health_status="healthy",
)
F = _state(
    "f",
    "smb",
    OnboardingStatus.ACTIVE,
    (
        PhaseVisit("handoff", at("2025-11-01 09:00"), TransitionCause.STARTED, at("2025-11-02 09:00")),
        PhaseVisit("adoption", at("2025-11-02 09:00"), TransitionCause.MANUAL),
    ),
    go_live_at=at("2025-11-02 09:00"),  # day 1: set by hand past go-live
    manual_phase="adoption",
    health_score=75,
    health_status="healthy",
)
OTHER_PLAYBOOK = replace(E, id=f"{CRM}:deal-z", deal_id="deal-z", playbook="seed-004-fnb-30-60-90")
STATES = (A, B, C, D, E, F)


def _transitions(state: OnboardingState) -> list[Transition]:
    out, old = [], None
    for visit in state.history:
        out.append(Transition(state.id, old, visit.phase, None, OnboardingStatus.ACTIVE, visit.cause, visit.entered_at))
        old = visit.phase
    return out


def _task(state: OnboardingState, n: int, due: str | None) -> OwnedTask:
    return OwnedTask(
        key=f"{state.id}:t{n}:0",
        onboarding_id=state.id,
        source=CRM,
        template_key=f"t{n}",
        phase=state.phase,
        subject=f"task {n}",
        due_at=at(due) if due else None,
    )


#: (onboarding, task number, due, status, completed) — see test_tasks_completed_on_time for the tally.
TASKS: tuple[tuple[OnboardingState, int, str | None, TaskStatus, str | None], ...] = (
    (A, 1, "2026-01-02 09:00", TaskStatus.COMPLETED, "2026-01-02 10:00"),  # same day: on time
    (A, 2, "2026-01-03 09:00", TaskStatus.COMPLETED, "2026-01-05 10:00"),  # late
    (A, 3, "2026-01-04 09:00", TaskStatus.DELETED, None),  # deleted in the CRM: not due work
    (B, 4, "2026-02-05 09:00", TaskStatus.COMPLETED, "2026-02-01 10:00"),  # early: on time
    (B, 5, "2026-02-20 09:00", TaskStatus.OPEN, None),  # open past its due day: late, overdue
    (B, 6, "2026-03-10 09:00", TaskStatus.OPEN, None),  # not due yet
    (B, 7, "2026-03-05 09:00", TaskStatus.COMPLETED, "2026-02-28 10:00"),  # done before a future due day
    (C, 8, "2026-03-02 08:00", TaskStatus.OPEN, None),  # due this morning: overdue, its day not over
    (E, 10, None, TaskStatus.COMPLETED, "2026-02-26 10:00"),  # no due date: no promise to keep
)


def _ticket(source: str, n: int, account: str, created: str) -> Ticket:
    return Ticket(source, f"{source}-{n}", at(created), f"ticket {n}", "open", "normal", at(created), account)


TICKETS = (
    _ticket(CRM, 1, "acc-a", "2026-01-10 10:00"),  # A, before go-live (Jan 13)
    _ticket(CRM, 2, "acc-a", "2026-01-20 10:00"),  # A, after
    _ticket(CRM, 3, "acc-a", "2026-02-01 10:00"),  # A, after
    _ticket(CRM, 4, "acc-c", "2026-02-10 10:00"),  # C, never live
    _ticket(HELPDESK, 5, "org-b", "2026-02-20 10:00"),  # B (linked organization), before go-live (Feb 24)
    _ticket(HELPDESK, 6, "org-b", "2026-02-25 10:00"),  # B, after
    _ticket(HELPDESK, 7, "org-b", "2026-02-26 10:00"),  # B, after
    _ticket(HELPDESK, 8, "org-b", "2026-02-27 10:00"),  # B, after
    _ticket(HELPDESK, 9, "org-x", "2026-02-27 10:00"),  # an organization linked to no account
)

#: (onboarding, day, score): the health assessments the engine recorded (a row when it changed).
HEALTH = (
    (D, "2026-01-20", 60),
    (A, "2026-02-18", 80),
    (A, "2026-02-19", 85),
    (B, "2026-02-18", 50),
    (B, "2026-02-21", 55),
    (C, "2026-02-19", 30),
    (F, "2026-02-20", 75),
    (E, "2026-02-25", 90),
)


def build(url: str) -> None:
    """Write the book into the store at ``url``."""
    with Store.open(url) as store:
        store.save_onboardings([*STATES, OTHER_PLAYBOOK])
        store.record_transitions([t for s in STATES for t in _transitions(s)])
        names = {"a": "Acme", "b": "Birch", "c": "Cedar", "d": "Dune", "e": "Elm", "f": "Fjord", "z": "Zed"}
        adoption = {"a": {"adoption_rate": "85"}, "b": {"adoption_rate": "0.92"}}  # 0.92 is 92 %
        store.put_accounts(
            [Account(CRM, f"acc-{k}", NOW, f"{v} Co", properties=adoption.get(k, {})) for k, v in names.items()]
        )
        seats = {"f": {"licensed_users": "10", "active_users": "7"}}  # 70 %
        store.put_deals(
            [
                Deal(CRM, f"deal-{k}", NOW, f"{v} Co - plan", "closedwon", True, True, account_ids=(f"acc-{k}",),
                     properties=seats.get(k, {}))
                for k, v in names.items()
            ]
        )  # fmt: skip
        store.put_accounts([Account(HELPDESK, "org-b", NOW, "Birch"), Account(HELPDESK, "org-x", NOW, "Unknown")])
        store.put_account_links(
            HELPDESK,
            [
                AccountLink(HELPDESK, "org-b", CRM, "acc-b", "domain", "Birch"),
                AccountLink(HELPDESK, "org-x", CRM, None, None, "Unknown", "no account with its domain"),
            ],
        )
        store.put_tickets(TICKETS)
        owned = [_task(s, n, due) for s, n, due, _, _ in TASKS]
        pending = _task(C, 9, "2026-02-10 09:00")  # an intent the CRM never confirmed
        store.record_task_intents([*owned, pending])
        store.mark_tasks_created(CRM, {t.key: f"remote-{t.template_key}" for t in owned})
        store.update_task_status(
            CRM,
            [
                Task(CRM, f"remote-t{n}", NOW, f"task {n}", status, key=f"{s.id}:t{n}:0",
                     due_at=at(due) if due else None, completed_at=at(done) if done else None)
                for s, n, due, status, done in TASKS
            ],
        )  # fmt: skip
        store.record_health(
            [HealthRecord(s.id, day, score, "healthy", (), (), at(f"{day} 12:00")) for s, day, score in HEALTH]
        )
        # a write of the health field that the CRM refused: the report charts assessments, not writes
        store.record_audit(
            [
                AuditEntry(None, at("2026-02-26 12:00"), CRM, "update_fields", "deal", "deal-b", f"{B.id}:deal",
                           {"onboarding_health_score": "55"}, {"onboarding_health_score": "99"}, "failed")
            ]
        )  # fmt: skip
