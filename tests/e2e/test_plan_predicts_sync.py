"""``plan`` predicts ``sync`` exactly: the same creates, updates and closes, key by key.

On the demo book (the HubSpot sandbox ``onboard-sync demo`` uses: seed 7, 400 deals) with a linked
Zendesk that has its own tickets and organization fields, once per playbook (the default one and
every seed example, ``init --examples``), and on the Salesforce demo book with its Cases, a story
runs in rounds on one frozen clock. Each round runs ``plan`` and then ``sync`` at the same instant
and compares the writes ``plan --json`` lists with those ``sync --json`` lists (from the audit):
task keys with subject, owner, due day, deal and account; record updates by record, property and
value (helpdesk organizations included); task closes. The rounds:

1. the first sync of the book (handoff tasks, ticket-driven health and alerts, field write-back);
2. a day later, after people worked in the CRM: tasks completed, a due date moved, a task and a
   deal deleted (the daily check is due), a phase set by hand;
3. ten days later, with three urgent tickets open four days on one customer (a blocker alert);
4. two days later, the tickets solved (the alert clears; its task is completed);
5. a few minutes later, nothing changed.

Every rule's alert completes its task when it clears in these books, so closes are compared too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from plan_sync_support import DAY, ZENDESK_TOKEN_ENV, Book, Row, by_write, closing_alerts, figures, zendesk_tables

from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config
from onboard_sync.cli.demo_crm import write_salesforce_config
from onboard_sync.rules.loader import example_playbooks
from onboard_sync.sandbox.clock import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.sandbox.salesforce import SalesforceSandbox
from onboard_sync.sandbox.zendesk import ZendeskSandbox, companies_from_hubspot

DEMO_SEED, DEMO_DEALS = 7, 400
PLAYBOOKS = ["demo", *sorted(name for name in example_playbooks() if name != "default")]


def _use_playbook(folder: Path, playbook: str) -> None:
    """Point the config at ``playbook`` (``demo``: the default one), every alert closing when cleared."""
    source = example_playbooks()["default" if playbook == "demo" else playbook]
    rules = folder / "rules"
    rules.mkdir(exist_ok=True)
    for path in sorted(source.glob("*.toml")) if source.is_dir() else [source]:
        (rules / path.name).write_text(closing_alerts(path.read_text(encoding="utf-8")), encoding="utf-8")
    config = folder / "config.toml"
    config.write_text(config.read_text().replace("[onboard_sync]\n", '[onboard_sync]\nrules = "rules"\n', 1))


@pytest.fixture(params=PLAYBOOKS)
def hubspot_book(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Book]:
    clock = SandboxClock(frozen_at=datetime.now(UTC).replace(microsecond=0))
    with HubSpotSandbox(seed=DEMO_SEED, deals=DEMO_DEALS, clock=clock) as hubspot:
        companies = companies_from_hubspot(hubspot)
        with ZendeskSandbox(seed=DEMO_SEED, companies=companies, clock=clock) as zendesk:
            monkeypatch.setenv(TOKEN_ENV, hubspot.token)
            monkeypatch.setenv(ZENDESK_TOKEN_ENV, zendesk.api_token)
            write_demo_config(tmp_path, hubspot.base_url)
            with (tmp_path / "config.toml").open("a", encoding="utf-8") as fh:
                fh.write(zendesk_tables(zendesk, "hubspot"))
            (tmp_path / "mappings" / "zendesk.toml").write_text(
                '[account.write]\nphase = "onboarding_phase"\nhealth_status = "onboarding_health"\n',
                encoding="utf-8",
            )
            _use_playbook(tmp_path, request.param)
            book = Book(request.param, tmp_path, clock, "hubspot", hubspot, zendesk)
            book.set_up()
            yield book


@pytest.fixture
def salesforce_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Book]:
    clock = SandboxClock(frozen_at=datetime.now(UTC).replace(microsecond=0))
    with SalesforceSandbox(seed=DEMO_SEED, deals=DEMO_DEALS, clock=clock) as salesforce:
        for name, value in salesforce.connector_secrets().items():
            monkeypatch.setenv(name, value)
        write_salesforce_config(tmp_path, salesforce)
        _use_playbook(tmp_path, "demo")
        book = Book("demo", tmp_path, clock, "salesforce", salesforce)
        book.set_up()
        yield book


def _compare(book: Book, label: str) -> list[Row]:
    """One round: plan, then sync; the same writes key by key. Returns them."""
    planned, synced = book.plan_then_sync()
    plan, sync = by_write(planned), by_write(synced)
    only_plan, only_sync = sorted(plan.keys() - sync.keys()), sorted(sync.keys() - plan.keys())
    assert not only_plan, f"{label}: planned, not made by sync: {only_plan[:5]}"
    assert not only_sync, f"{label}: made by sync, not planned: {only_sync[:5]}"
    for key, row in plan.items():
        assert row == sync[key], f"{label}: plan and sync differ on {key}"
    counts = figures(planned)
    book.rounds.append(counts)
    print(f"{book.crm} {book.name} {label}: {len(planned)} writes compared {dict(sorted(counts.items()))}")
    return planned


class HubSpotPerson:
    """What a person does in HubSpot, through the sandbox's backend."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def complete(self, task_id: str) -> None:
        self.backend.complete_task(task_id)

    def move_due(self, task_id: str, due: datetime) -> None:
        self.backend.update("tasks", task_id, {"hs_timestamp": _hubspot_time(due)})

    def delete_task(self, task_id: str) -> None:
        self.backend.archive("tasks", task_id)

    def set_phase(self, deal_id: str, phase: str) -> None:
        self.backend.update("deals", deal_id, {"onboarding_phase": phase})

    def delete_deal(self, deal_id: str) -> None:
        self.backend.archive("deals", deal_id)


class SalesforcePerson(HubSpotPerson):
    """The same in Salesforce."""

    def move_due(self, task_id: str, due: datetime) -> None:
        self.backend.update("Task", task_id, {"ActivityDate": due.date().isoformat()})

    def delete_task(self, task_id: str) -> None:
        self.backend.delete("Task", task_id)

    def set_phase(self, deal_id: str, phase: str) -> None:
        self.backend.update("Opportunity", deal_id, {"Onboarding_Phase__c": phase})

    def delete_deal(self, deal_id: str) -> None:
        self.backend.delete("Opportunity", deal_id)


def _people_work(book: Book) -> None:
    """Two thirds of the customers' open tasks completed; then one each: a due date moved two weeks
    ahead, a task deleted, a phase set by hand, a deal deleted."""
    person = (HubSpotPerson if book.crm == "hubspot" else SalesforcePerson)(book.sandbox.backend)
    open_tasks = book.open_tasks()
    customers = sorted(open_tasks)
    cut = 2 * len(customers) // 3
    for onboarding_id in customers[:cut]:
        for _key, remote_id in open_tasks[onboarding_id]:
            person.complete(remote_id)
    moved, deleted_task, by_hand, deleted_deal = customers[cut : cut + 4]
    person.move_due(open_tasks[moved][0][1], book.clock.now() + 14 * DAY)
    person.delete_task(open_tasks[deleted_task][0][1])
    phases = book.runtime().playbook.phase_keys()
    person.set_phase(_deal(by_hand), phases[min(3, len(phases) - 2)])
    person.delete_deal(_deal(deleted_deal))


def _deal(onboarding_id: str) -> str:
    return onboarding_id.split(":", 1)[1]


def _hubspot_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _open_customer(book: Book) -> Any:
    """An open onboarding that has an account (linked to a Zendesk organization, if there is one)."""
    with book.store() as store:
        onboardings = [o for o in store.onboardings(source=book.crm) if o.account_id and o.status.value == "active"]
        linked = {link.crm_account_id: link.remote_id for link in store.account_links("zendesk") if link.crm_account_id}
    if book.zendesk is not None:
        onboardings = [o for o in onboardings if o.account_id in linked]
    target = sorted(onboardings, key=lambda o: o.id)[0]
    return target, linked.get(target.account_id)


def _urgent_tickets(book: Book) -> tuple[str, list[Any]]:
    """Three urgent tickets (High Cases in Salesforce) open four days on one customer."""
    target, organization = _open_customer(book)
    opened = book.clock.now() - timedelta(days=4)
    if book.zendesk is not None:
        tickets = [
            book.zendesk.backend.add_ticket(
                f"Outage {n}", organization_id=int(organization), priority="urgent", status="open", created_at=opened
            )["id"]
            for n in range(3)
        ]
    else:
        tickets = [
            book.sandbox.backend.open_case(
                target.account_id, f"Outage {n}", priority="High", status="Escalated", age=timedelta(days=4)
            )
            for n in range(3)
        ]
    return target.id, tickets


def _solve(book: Book, tickets: list[Any]) -> None:
    for ticket in tickets:
        if book.zendesk is not None:
            book.zendesk.backend.solve_ticket(ticket)
        else:
            book.sandbox.backend.close_case(ticket)


def _story(book: Book) -> tuple[str, list[Row], list[Row]]:
    """The five rounds; returns the customer given urgent tickets and the writes of rounds 3 and 4."""
    _compare(book, "first sync")
    _people_work(book)
    book.clock.advance(hours=25)
    _compare(book, "people worked, a day later")
    book.clock.advance(days=10)
    target, tickets = _urgent_tickets(book)
    raised = _compare(book, "urgent tickets, ten days later")
    book.clock.advance(days=2)
    _solve(book, tickets)
    cleared = _compare(book, "tickets solved, two days later")
    _compare(book, "nothing changed")

    total = sum(book.rounds, Counter())
    for kind in ("task", "deal", "account"):
        assert any(
            k.startswith(f"create {book.crm} {kind}") or k.startswith(f"update {book.crm} {kind}") for k in total
        )
    if book.zendesk is not None:
        assert total["update zendesk account"] > 0, "the helpdesk write-back is compared too"
    return target, raised, cleared


def _blocker_raised_and_closed(target: str, raised: list[Row], cleared: list[Row]) -> None:
    """The urgent tickets' alert task was among the compared creates, and its close among the closes."""
    created = [r["key"] for r in raised if r["action"] == "create" and r["key"].startswith(f"{target}:alert.blockers:")]
    assert created, "the ticket-driven alert task was planned and created"
    assert created[0] in {r["key"] for r in cleared if r["action"] == "close"}, "and completed once cleared"


def test_plan_predicts_sync_write_for_write_on_hubspot_with_zendesk(hubspot_book: Book) -> None:
    target, raised, cleared = _story(hubspot_book)
    if hubspot_book.name == "demo":  # the default playbook's blockers alert
        _blocker_raised_and_closed(target, raised, cleared)


def test_plan_predicts_sync_write_for_write_on_salesforce_with_cases(salesforce_book: Book) -> None:
    target, raised, cleared = _story(salesforce_book)
    _blocker_raised_and_closed(target, raised, cleared)
