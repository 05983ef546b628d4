"""The write plan: what a run wants to change in the CRM, computed purely from evaluations.

``plan_writes`` compares each ``Evaluation`` with what is recorded (owned tasks) and what
the CRM is known to hold (mapped field values on the cached records) and returns a
``WritePlan``: tasks to create, field values to set, (``plan_closes``) alert tasks to
complete and tasks to record as skipped (never created: catch-up, ``onboarding.catchup``).
Both ``onboard-sync plan`` (print) and ``sync`` (apply) use it, so what plan shows is exactly
what sync does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from onboard_sync.connector import FieldWrite, TaskWrite
from onboard_sync.mappings import MappingSet
from onboard_sync.onboarding.state import Evaluation, OnboardingStatus, SkippedTask, TaskSpec
from onboard_sync.records import Account, Deal, ObjectKind, TaskStatus
from onboard_sync.store import OwnedTask, TaskState
from onboard_sync.sync.scratch import RunScratch, dumps

OwnerResolver = Callable[[str, Deal, Account | None], str | None]

_STATUS_RANK = {
    OnboardingStatus.ACTIVE: 0,
    OnboardingStatus.AT_RISK: 0,
    OnboardingStatus.EXTENDED: 0,
    OnboardingStatus.COMPLETED: 1,
    OnboardingStatus.CANCELLED: 2,
}


@dataclass(frozen=True, slots=True)
class PlannedTask:
    """A task to create, with the onboarding and template it belongs to."""

    onboarding_id: str
    spec: TaskSpec
    write: TaskWrite


@dataclass(frozen=True, slots=True)
class PlannedFields:
    """Field values to set on one record, with the values the CRM holds now (for audit/plan).

    ``instance`` is empty for a record of the run's own CRM, else the helpdesk instance whose
    organization it is (``sync.writeback``)."""

    onboarding_id: str
    write: FieldWrite
    before: Mapping[str, str | None]
    instance: str = ""


@dataclass(frozen=True, slots=True)
class PlannedClose:
    """An owned task to complete in the CRM: the task of a cleared alert episode whose rule says
    ``close_when_cleared``."""

    onboarding_id: str
    key: str
    remote_id: str
    subject: str


@dataclass(frozen=True, slots=True)
class PlannedSkip:
    """A task of the plan onboard-sync will not create: recorded as skipped (no CRM call)."""

    onboarding_id: str
    skipped: SkippedTask


@dataclass
class WritePlan:
    """Everything one run of one connector instance wants to write."""

    tasks: list[PlannedTask] = field(default_factory=list)
    fields: list[PlannedFields] = field(default_factory=list)
    closes: list[PlannedClose] = field(default_factory=list)
    skips: list[PlannedSkip] = field(default_factory=list)
    """Recorded in the store only; not CRM writes (not in ``api_cost``, not in ``__bool__``)."""
    counted: dict[str, int] = field(default_factory=dict)  # writes counted, not kept (a chunked sync)
    labels: dict[str, str] = field(default_factory=dict)
    """Onboarding id → its deal's name, for people reading the plan."""

    def __bool__(self) -> bool:
        return bool(self.tasks or self.fields or self.closes)

    def extend(self, other: WritePlan) -> None:
        """Append another (chunk's) plan."""
        self.tasks.extend(other.tasks)
        self.fields.extend(other.fields)
        self.closes.extend(other.closes)
        self.skips.extend(other.skips)
        self.labels.update(other.labels)

    def count(self, other: WritePlan) -> None:
        """Count another (chunk's) plan's writes without keeping them."""
        for name, count in other._sizes().items():
            self.counted[name] = self.counted.get(name, 0) + count

    def _sizes(self) -> dict[str, int]:
        sizes = dict(self.counted)
        sizes["tasks.batch_create"] = sizes.get("tasks.batch_create", 0) + len(self.tasks)
        sizes["tasks.batch_update"] = sizes.get("tasks.batch_update", 0) + len(self.closes)
        for planned in self.fields:
            name = f"{planned.write.kind.value}s.batch_update"
            if planned.instance:
                name = f"{planned.instance}:{name}"
            sizes[name] = sizes.get(name, 0) + 1
        return sizes

    def api_cost(self, batch_size: int, helpdesk_batch_sizes: Mapping[str, int] | None = None) -> dict[str, int]:
        """Calls needed to apply this plan (and the counted writes) with batches of ``batch_size``;
        a helpdesk's writes (``instance:…``) with that helpdesk's batch size."""
        sizes = helpdesk_batch_sizes or {}
        cost: dict[str, int] = {}
        for name, count in self._sizes().items():
            instance, _, _endpoint = name.rpartition(":")
            calls = math.ceil(count / sizes.get(instance, batch_size))
            if calls:
                cost[name] = calls
        return cost

    def as_rows(self, instance: str, owners: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The ``changes`` rows of ``plan --json`` (``sync.writes``), for deal-source ``instance``."""
        from onboard_sync.sync.writes import plan_rows

        return plan_rows(self, instance, owners or {})


def _primary_per_account(evaluations: Sequence[tuple[Evaluation, Deal]]) -> dict[str, str]:
    """When several onboardings share an account, the account fields follow one of them:
    an open one before a finished one, then the most recently started."""
    best: dict[str, tuple[tuple[int, float], str]] = {}
    for ev, _deal in evaluations:
        state = ev.state
        if state is None or not state.account_id:
            continue
        rank = (-_STATUS_RANK[state.status], state.started_at.timestamp())
        current = best.get(state.account_id)
        if current is None or rank > current[0]:
            best[state.account_id] = (rank, state.id)
    return {account_id: onboarding_id for account_id, (_, onboarding_id) in best.items()}


class AccountFields:
    """Account field writes of a chunked run, planned after every chunk was evaluated.

    Several onboardings may share an account, in different chunks: each chunk offers its
    evaluations' desired account values here, the account keeps the one ``_primary_per_account``
    would pick over the whole run (an open onboarding before a finished one, then the most
    recently started, the first on ties), and ``plan`` diffs them once all chunks are done.
    Holds one small entry per account (the canonical account fields), never a record; the
    helpdesk write-back (``sync.writeback``) maps the same entry into organization fields.

    It is the one structure of a run that grows with every won account (a million-deal backfill
    offers ~170,000), so its entries live in the run's scratch database (``sync.scratch``), not on
    the heap: one row per account (status rank, start time, onboarding id, the fields as JSON),
    the choice between two onboardings made by the upsert that offers the second.
    """

    def __init__(self, mapping: MappingSet, scratch: RunScratch) -> None:
        self.mapping = mapping
        self._scratch = scratch
        scratch.execute(
            "CREATE TABLE account_fields (account_id TEXT NOT NULL UNIQUE, rank INTEGER NOT NULL, "
            "started REAL NOT NULL, onboarding_id TEXT NOT NULL, fields TEXT NOT NULL)"
        )

    def offer(self, evaluations: Sequence[tuple[Evaluation, Deal]]) -> None:
        rows = [
            (
                ev.state.account_id,
                -_STATUS_RANK[ev.state.status],
                ev.state.started_at.timestamp(),
                ev.state.id,
                dumps(ev.fields.get(ObjectKind.ACCOUNT, {})),
            )
            for ev, _deal in evaluations
            if ev.state is not None and ev.state.account_id
        ]
        if rows:  # in order, so of two offers with the same rank and start the first stays
            self._scratch.write_many(
                "INSERT INTO account_fields VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
                "rank = excluded.rank, started = excluded.started, onboarding_id = excluded.onboarding_id, "
                "fields = excluded.fields WHERE (excluded.rank, excluded.started) > (rank, started)",
                rows,
            )

    def id_chunks(self, size: int) -> Iterator[list[str]]:
        """The offered accounts' ids, in the order first offered, ``size`` at a time."""
        after: object = 0
        while True:
            rows = self._scratch.execute(
                "SELECT rowid, account_id FROM account_fields WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, size)
            )
            if not rows:
                return
            yield [str(row[1]) for row in rows]
            after = rows[-1][0]

    def fields_of(self, account_id: str) -> Mapping[str, str | None] | None:
        """The canonical account fields the run wants for ``account_id`` (None: not evaluated)."""
        rows = self._scratch.execute("SELECT fields FROM account_fields WHERE account_id = ?", (account_id,))
        return json.loads(str(rows[0][0])) if rows else None

    def onboarding_of(self, account_id: str) -> str | None:
        """The onboarding whose values ``account_id`` carries (None: not evaluated)."""
        rows = self._scratch.execute("SELECT onboarding_id FROM account_fields WHERE account_id = ?", (account_id,))
        return str(rows[0][0]) if rows else None

    def plan(self, accounts: Mapping[str, Account]) -> WritePlan:
        """The account field writes for ``accounts`` (those of ``id_chunks`` being planned now)."""
        plan = WritePlan()
        rows = self._scratch.select_in(
            "SELECT account_id, onboarding_id, fields FROM account_fields WHERE account_id IN ({})", sorted(accounts)
        )
        entries = {str(account_id): (str(onboarding_id), str(fields)) for account_id, onboarding_id, fields in rows}
        for account_id, account in accounts.items():
            entry = entries.get(account_id)
            if entry is not None:
                desired = self.mapping.to_crm(ObjectKind.ACCOUNT, json.loads(entry[1]))
                _plan_fields(plan, entry[0], ObjectKind.ACCOUNT, account.id, account.properties, desired)
        return plan


def _plan_fields(
    plan: WritePlan,
    onboarding_id: str,
    kind: ObjectKind,
    remote_id: str,
    current: Mapping[str, str | None],
    desired: Mapping[str, str | None],
) -> None:
    changes = {name: value for name, value in desired.items() if differs(current.get(name), value)}
    if changes:
        plan.fields.append(
            PlannedFields(
                onboarding_id=onboarding_id,
                write=FieldWrite(key=f"{onboarding_id}:{kind.value}", kind=kind, remote_id=remote_id, values=changes),
                before={name: current.get(name) for name in changes},
            )
        )


def plan_writes(
    evaluations: Sequence[tuple[Evaluation, Deal]],
    *,
    accounts: Mapping[str, Account],
    owned: Mapping[str, OwnedTask],
    mapping: MappingSet,
    resolve_owner: OwnerResolver,
    account_fields: AccountFields | None = None,
    due_date: Callable[[datetime], date] | None = None,
) -> WritePlan:
    """The writes that bring the CRM to what the evaluations want (never deletes anything).

    With ``account_fields`` (a chunked run) account field values are offered there instead of
    planned here; ``AccountFields.plan`` plans them once every chunk is evaluated. ``due_date`` gives
    a due moment's local calendar date (for CRMs whose task due date is a day).
    """
    plan = WritePlan()
    if account_fields is not None:
        account_fields.offer(evaluations)
        primary: dict[str, str] = {}
    else:
        primary = _primary_per_account(evaluations)
    for ev, deal in evaluations:
        state = ev.state
        if state is None:
            continue
        plan.labels[state.id] = deal.name
        account = accounts.get(state.account_id) if state.account_id else None
        plan.skips.extend(PlannedSkip(state.id, s) for s in ev.skipped if s.spec.key not in owned)
        for spec in ev.tasks:
            recorded = owned.get(spec.key)
            if recorded is not None and recorded.state is not TaskState.FAILED:
                continue
            owner_id = resolve_owner(spec.owner_role, deal, account)
            plan.tasks.append(
                PlannedTask(
                    onboarding_id=state.id,
                    spec=spec,
                    write=TaskWrite(
                        key=spec.key,
                        subject=spec.title,
                        body=spec.body,
                        due_at=spec.due_at,
                        due_date=due_date(spec.due_at) if due_date else None,
                        owner_id=owner_id,
                        priority=spec.priority,
                        deal_id=deal.id,
                        account_id=state.account_id,
                        contact_ids=deal.contact_ids,
                    ),
                )
            )
        targets: list[tuple[ObjectKind, str, Mapping[str, str | None]]] = [(ObjectKind.DEAL, deal.id, deal.properties)]
        if account is not None and primary.get(account.id) == state.id:
            targets.append((ObjectKind.ACCOUNT, account.id, account.properties))
        for kind, remote_id, current in targets:
            _plan_fields(plan, state.id, kind, remote_id, current, mapping.to_crm(kind, ev.fields.get(kind, {})))
    return plan


def plan_closes(closing: Sequence[tuple[str, str]], owned: Mapping[str, OwnedTask]) -> list[PlannedClose]:
    """Of the alert tasks offered for closing, those created and still open in the CRM."""
    planned: list[PlannedClose] = []
    for onboarding_id, key in closing:
        task = owned.get(key)
        if task is not None and task.state is TaskState.CREATED and task.status == TaskStatus.OPEN and task.remote_id:
            planned.append(PlannedClose(onboarding_id, key, task.remote_id, task.subject))
    return planned


def differs(current: str | None, desired: str | None) -> bool:
    """CRMs echo empty values as "" or null, and numbers as "3" or "3.0": compare loosely."""
    if (current in (None, "")) and (desired in (None, "")):
        return False
    if current is None or desired is None:
        return True
    if current == desired:
        return False
    if len(desired) == 10 and current.startswith(desired + "T00:00:00"):
        return False  # a date property echoed as midnight UTC (HubSpot: 2026-11-23T00:00:00.000Z)
    try:
        return float(current) != float(desired)
    except ValueError:
        return True
