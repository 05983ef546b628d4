"""Every text onboard-sync writes into a CRM is written for the people who read it there.

The default playbook and every example run through the real evaluation path of a sync (the pure
state machine, the settle step and the alert-episode tracker over a real store) for every segment,
day by day, in three scenarios: on track; struggling (poor usage, NPS, attendance, engagement,
urgent tickets, a stakeholder change); and late (every task done ten days after it is due). Every
task title and body and every field value it produces must be free of internal references (the
seed SOPs' "S4" or "seed 002", their numbered pitfalls), unfilled ``{placeholders}``, ``None``
and Python reprs; the run must also reach every task and alert of the playbook, so no text is
left unchecked. Last, the demo's story runs through the real engine and connector against the
HubSpot and Salesforce sandboxes, and the same checks read what the sandbox CRM then holds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from onboard_sync.cli.demo import run_story
from onboard_sync.cli.demo_crm import people_for
from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import CustomerFacts, Evaluation, OnboardingState, TaskFact
from onboard_sync.records import Account, Deal, ObjectKind, TaskStatus, Ticket
from onboard_sync.rules import Playbook, example_playbooks, load_playbook
from onboard_sync.runtime import load_runtime
from onboard_sync.store import Store
from onboard_sync.sync.alerts import AlertTracker
from onboard_sync.sync.evaluate import settle

PLAYBOOKS = example_playbooks()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning: the deal closes
OID = "hubspot:d1"
HEALTHY = {
    "adoption_rate": "90",
    "weekly_logins": "5",
    "nps": "9",
    "meeting_attendance": "95",
    "engagement_score": "85",
    "business_outcomes": "1",
}
STRUGGLING = {
    "adoption_rate": "55",
    "weekly_logins": "1",
    "nps": "5",
    "meeting_attendance": "60",
    "engagement_score": "50",
    "business_outcomes": "0",
    "stakeholder_changes": "1",
}
SCENARIOS = ("on-track", "struggling", "late")

#: What a sales rep or CSM must never read in a CRM task or field.
FORBIDDEN = {
    "a seed reference like (S4, S1)": re.compile(r"\bS[0-4]\b"),
    "a seed reference like 'seed 002'": re.compile(r"\bseeds?\s*(day\s*)?\d", re.IGNORECASE),
    "a reference to the seed's numbered pitfalls": re.compile(r"\bpitfall\s*\d", re.IGNORECASE),
    "an unfilled placeholder": re.compile(r"\{[^{}]*\}"),
    "None": re.compile(r"\bNone\b"),
    "a Python repr": re.compile(r"\[\s*['\"]|['\"]\s*\]|\(\s*['\"][^)]*['\"]\s*,"),
}

#: Tasks and alerts a scenario here cannot reach, with the reason.
UNREACHABLE: dict[str, dict[str, str]] = {
    "seed001_90_day_workflow": {
        "alert_foundation_blocker": "needs a stale blocker task; this playbook has no blocker tasks",
    },
}


@dataclass
class Rendered:
    """Everything one playbook wrote in one run: (what, where, text) and the templates reached."""

    seen: dict[tuple[str, str, str], str] = field(default_factory=dict)
    templates: set[str] = field(default_factory=set)

    def add(self, what: str, name: str, text: str, where: str) -> None:
        """Note a text once, with the first day it was written."""
        self.seen.setdefault((what, name, text), where)

    @property
    def texts(self) -> list[tuple[str, str, str]]:
        return [(what, f"{where}: {name}", text) for (what, name, text), where in self.seen.items()]


def deal_and_account(scenario: str, *, account_name: str = "Acme") -> tuple[Deal, Account]:
    deal_props = {"products": "A1;R1;E1;R2"}
    if scenario == "struggling":
        deal_props["technical_requirements_changed"] = "true"
    deal = Deal(
        source="hubspot",
        id="d1",
        updated_at=START,
        name="Acme - Growth plan",
        stage="closedwon",
        is_won=True,
        is_closed=True,
        amount=50_000.0,
        close_date=START,
        account_ids=("a1",),
        properties=deal_props,
    )
    metrics = STRUGGLING if scenario == "struggling" else HEALTHY
    account = Account(
        source="hubspot", id="a1", updated_at=START, name=account_name, domain="acme.test", properties=dict(metrics)
    )
    return deal, account


def tickets_for(scenario: str) -> tuple[Ticket, ...]:
    """Struggling: two urgent tickets open from day 1 and a spike of five tickets in the first week."""
    if scenario != "struggling":
        return ()
    urgent = tuple(
        Ticket("zendesk", f"u{n}", START, f"Sync fails {n}", "open", "urgent", START + timedelta(days=1), "a1")
        for n in (1, 2)
    )
    spike = tuple(
        Ticket("zendesk", f"s{n}", START, f"Question {n}", "open", "normal", START + timedelta(days=2), "a1")
        for n in range(5)
    )
    return urgent + spike


def run_days(playbook: Playbook, segment: str, scenario: str, store: Store, days: int) -> Rendered:
    """The sync's evaluation path, once a day: evaluate, settle, add alert tasks; people do the tasks."""
    deal, account = deal_and_account(scenario)
    tickets = tickets_for(scenario)
    tracker = AlertTracker(store, "hubspot", playbook, START)
    late = timedelta(days=10 if scenario == "late" else 0)
    state: OnboardingState | None = None
    tasks: dict[str, TaskFact] = {}
    written_phase: str | None = None
    out = Rendered()
    for day in range(days):
        now = START + timedelta(days=day, hours=1)
        for key, task in list(tasks.items()):  # the people in the CRM: done on the day due (+ lateness)
            if task.status is TaskStatus.OPEN and task.due_at is not None and task.due_at + late <= now:
                tasks[key] = replace(task, status=TaskStatus.COMPLETED, completed_at=now)
        facts = CustomerFacts(
            deal=deal,
            account=account,
            tasks=dict(tasks),
            crm_phase=written_phase,
            written_phase=written_phase,
            tickets=tuple(t for t in tickets if t.created_at <= now),
        )
        evaluation = evaluate(state, facts, playbook, now, onboarding_id=OID, segment_override=segment)
        tracker.begin([OID], now)
        evaluation = tracker.apply(settle(evaluation, facts, playbook, now, OID), deal, account)
        tracker.record(store)
        state = evaluation.state
        collect(evaluation, out, where=f"{segment}/{scenario} day {day}")
        for spec in evaluation.tasks:
            tasks.setdefault(
                spec.key,
                TaskFact(key=spec.key, template_key=spec.template_key, status=TaskStatus.OPEN, due_at=spec.due_at),
            )
        for values in evaluation.fields.values():
            written_phase = values.get("phase", written_phase)
    return out


def collect(evaluation: Evaluation, out: Rendered, where: str) -> None:
    for spec in evaluation.tasks:
        out.templates.add(spec.template_key)
        out.add("title", spec.key, spec.title, where)
        out.add("body", spec.key, spec.body, where)
    for kind, values in evaluation.fields.items():
        for name, value in values.items():
            if value is not None:
                out.add("field", f"{kind}.{name}", value, where)


def horizon(playbook: Playbook, segment: str) -> int:
    """Days to simulate: past the last phase's planned end (scaled), plus room for an extension."""
    seg = playbook.segment(segment)
    assert seg is not None
    return int(playbook.scaled_day(playbook.phases[-1].plan_end_day, seg)) + 45


@cache
def rendered(name: str, store_dir: Path) -> dict[str, Rendered]:
    """Every segment x scenario of one playbook, keyed ``segment/scenario``."""
    playbook = load_playbook(PLAYBOOKS[name])
    out: dict[str, Rendered] = {}
    for segment in (s.key for s in playbook.segments):
        for scenario in SCENARIOS:
            url = f"sqlite:///{store_dir / f'{name}-{segment}-{scenario}.db'}"
            with Store.open(url) as store:
                out[f"{segment}/{scenario}"] = run_days(playbook, segment, scenario, store, horizon(playbook, segment))
    return out


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crm-texts")


LIST_ITEM = re.compile(r"\s*(-|\d+\.)\s")
SUBJECT_MAX = 255  # Salesforce Task.Subject


def problems(texts: list[tuple[str, str, str]]) -> Iterator[str]:
    for what, where, text in texts:
        for name, pattern in FORBIDDEN.items():
            if match := pattern.search(text):
                yield f"{where} {what} has {name} ({match.group(0)!r}): {text!r}"
        if what == "title" and (not text.strip() or "  " in text or text != text.strip() or "\n" in text):
            yield f"{where} title is blank, has a gap or a line break: {text!r}"
        if what == "title" and len(text) > SUBJECT_MAX:
            yield f"{where} title is longer than {SUBJECT_MAX} characters: {text!r}"
        lines = text.split("\n")
        for before, after in itertools.pairwise(lines):
            if not (
                before.rstrip().endswith((".", ":", "?", "!")) or LIST_ITEM.match(before) or LIST_ITEM.match(after)
            ):
                yield f"{where} {what} breaks a line mid-sentence ({before[-20:]!r} / {after[:20]!r}): {text!r}"


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_every_crm_text_is_free_of_internal_references(name: str, store_dir: Path) -> None:
    found = sorted({p for run in rendered(name, store_dir).values() for p in problems(run.texts)})
    assert not found, f"{len(found)} problem(s), first ones:\n" + "\n".join(found[:15])


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_the_runs_reach_every_task_and_alert_of_the_playbook(name: str, store_dir: Path) -> None:
    playbook = load_playbook(PLAYBOOKS[name])
    expected = {t.key for p in playbook.phases for t in p.tasks} | {a.template_key for a in playbook.alerts}
    reached = set().union(*(run.templates for run in rendered(name, store_dir).values()))
    skipped = set(UNREACHABLE.get(name, {}))
    assert expected - reached == skipped, f"never rendered: {sorted(expected - reached - skipped)}"
    for run in rendered(name, store_dir).values():
        assert any(what == "field" for what, _, _ in run.texts)  # the CRM fields were checked too


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
def test_no_text_puts_a_possessive_on_a_name(name: str) -> None:
    """ "{account.name}'s" reads "Northwind Systems's", or "Acme - Growth plan's" once it falls back to the deal."""
    playbook = load_playbook(PLAYBOOKS[name])
    texts = [t for p in playbook.phases for task in p.tasks for t in (task.title, task.body)]
    texts += [t for alert in playbook.alerts for t in (alert.title, alert.body)]
    assert not [t.source for t in texts if re.search(r"\}'s\b", t.source)]


def test_a_company_without_a_name_reads_as_the_deal_in_every_title() -> None:
    playbook = load_playbook(PLAYBOOKS["default"])
    deal, account = deal_and_account("on-track", account_name="")
    facts = CustomerFacts(deal=deal, account=account)
    evaluation = evaluate(None, facts, playbook, START + timedelta(hours=1), onboarding_id=OID)
    titles = [spec.title for spec in evaluation.tasks]
    assert titles
    assert all("Acme - Growth plan" in title for title in titles), titles


def test_the_check_catches_what_it_looks_for() -> None:
    bad = [
        ("body", "x", "Give Customer Success (S4, S1): the profile"),
        ("body", "x", "Sent within 1 hour (seed 000 step 1)."),
        ("body", "x", "Validate it (pitfall 3)."),
        ("title", "x", "Hand off {account.name}"),
        ("field", "x", "None"),
        ("field", "x", "deal ['9000000296']"),
        ("title", "x", "Hand off  to Customer Success"),
        ("body", "x", "Track weekly active users against the target,\nkey actions taken."),
    ]
    assert len(list(problems(bad))) == len(bad)
    fine = [
        ("title", "x", "Hand off Acme to Customer Success within 24 hours (S&P 500)"),
        ("body", "x", "Give Customer Success:\n- the profile\n- the contract\nThen book the kickoff."),
    ]
    assert not list(problems(fine))


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_the_texts_that_land_in_the_crm_sandbox_read_well(crm: str, tmp_path: Path) -> None:
    """The demo's story through the real engine and connector: what the sandbox CRM then holds."""
    people = people_for(crm, seed=3, deals=80)
    with people.sandbox as sandbox:
        rt = load_runtime(people.configure(tmp_path))
        run_story(people, rt, seed=3)
        mapping = rt.mappings[crm]
        written = {kind: {f.property for f in mapping.for_kind(kind).write.values()} for kind in ObjectKind}
        texts = crm_texts(crm, sandbox.backend, written)
    assert len([t for t in texts if t[0] == "title"]) > 100
    assert len([t for t in texts if t[0] == "field"]) > 100
    found = sorted(set(problems(texts)))
    assert not found, f"{len(found)} problem(s), first ones:\n" + "\n".join(found[:15])


def crm_texts(crm: str, backend: Any, written: dict[ObjectKind, set[str]]) -> list[tuple[str, str, str]]:
    """Every task subject and body onboard-sync created, and every field value it wrote, as stored by the CRM."""
    out: list[tuple[str, str, str]] = []
    if crm == "hubspot":
        for task in backend.tasks.values():
            if task.properties.get("onboard_sync_key"):
                out.append(("title", f"task {task.id}", task.properties.get("hs_task_subject", "")))
                out.append(("body", f"task {task.id}", task.properties.get("hs_task_body", "")))
        records = {ObjectKind.DEAL: backend.deals, ObjectKind.ACCOUNT: backend.companies}
        for kind, objects in records.items():
            for record in objects.values():
                for name in written[kind] & record.properties.keys():
                    out.append(("field", f"{kind} {record.id}.{name}", record.properties[name]))
        return out
    for task_id, task in backend.tasks.items():
        out.append(("title", f"Task {task_id}", task.get("Subject") or ""))
        out.append(("body", f"Task {task_id}", task.get("Description") or ""))
    records = {ObjectKind.DEAL: backend.opportunities, ObjectKind.ACCOUNT: backend.accounts}
    for kind, objects in records.items():
        for record_id, record in objects.items():
            for name in written[kind]:
                if record.get(name) is not None:
                    out.append(("field", f"{kind} {record_id}.{name}", str(record.get(name))))
    return out
