"""One write as a JSON row: the shared form of ``plan --json`` and ``sync --json`` ``changes``.

``plan`` turns its ``WritePlan`` into rows (``plan_rows``); ``sync`` turns the audit entries of
its run into rows (``run_changes``, called by the CLI after the run, page by page, so a large
run's rows are never all in memory). A write that
plan predicts and sync makes gives the same row in both, so a person can diff the two lists
(sorted by ``action`` and ``key``) and a test can compare them key by key:

* ``create`` ``task``: ``key``, ``onboarding``, ``subject``, ``owner_id``, ``owner`` (the owner's
  name when known), ``due`` (the due day), ``deal_id``, ``account_id``;
* ``update`` (``deal``, ``account``; a helpdesk organization is an ``account`` of the helpdesk
  ``instance``): ``key``, ``onboarding``, ``remote_id`` and ``changes`` (property → ``from``/``to``);
* ``close`` ``task`` (a cleared alert's task completed): ``key``, ``onboarding``, ``remote_id`` and
  ``changes`` (``status`` from open to completed);
* ``skip`` ``task`` (a task of the plan recorded as never to be created, catch-up): ``key``,
  ``onboarding``, ``subject`` and ``reason``. Recorded in the store only: no CRM call.

A created task's ``due`` is its local due day (``[onboard_sync] timezone``).

Every row names the connector ``instance`` it is written to. Keys: a task's is
``{onboarding}:{template}:{episode}``, a CRM record's field write ``{onboarding}:{object}``, a
helpdesk organization's ``{onboarding}:{helpdesk}:{organization id}``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.records import ObjectKind, TaskStatus

if TYPE_CHECKING:
    from onboard_sync.store import AuditEntry, Store
    from onboard_sync.sync.plan import WritePlan

Row = dict[str, Any]

WRITE_ACTIONS = {"create_task": "create", "close_task": "close", "update_fields": "update", "skip_task": "skip"}
"""Audit actions that are writes (to a CRM or helpdesk; a skip to the store only); ``recover_task``
only records a lookup."""

DONE = frozenset({"ok", "skipped"})
"""Audit outcomes of writes that took effect (a skip's outcome is ``skipped``)."""

CLOSE_CHANGES = {"status": {"from": TaskStatus.OPEN.value, "to": TaskStatus.COMPLETED.value}}


def helpdesk_write_key(onboarding_id: str, helpdesk: str, organization_id: str) -> str:
    """The key of a helpdesk organization's field write (``sync.writeback``)."""
    return f"{onboarding_id}:{helpdesk}:{organization_id}"


def onboarding_of(action: str, key: str, *, crm_record: bool) -> str:
    """The onboarding id a write's key starts with (see the module docstring for the key forms)."""
    return key.rsplit(":", 1 if action == "update" and crm_record else 2)[0]


def task_row(
    instance: str,
    key: str,
    *,
    subject: str,
    owner_id: str | None,
    owners: Mapping[str, str],
    due_at: datetime | str,
    deal_id: str | None,
    account_id: str | None,
    due_date: date | str | None = None,
) -> Row:
    due = datetime.fromisoformat(due_at) if isinstance(due_at, str) else due_at
    day = due_date.isoformat() if isinstance(due_date, date) else due_date
    return {
        "action": "create",
        "object": ObjectKind.TASK.value,
        "instance": instance,
        "key": key,
        "onboarding": onboarding_of("create", key, crm_record=False),
        "subject": subject,
        "owner_id": owner_id,
        "owner": owners.get(owner_id) if owner_id else None,
        "due": day or due.date().isoformat(),
        "deal_id": deal_id,
        "account_id": account_id,
    }


def skip_row(instance: str, key: str, subject: str, reason: str) -> Row:
    return {
        "action": "skip",
        "object": ObjectKind.TASK.value,
        "instance": instance,
        "key": key,
        "onboarding": onboarding_of("skip", key, crm_record=False),
        "subject": subject,
        "reason": reason,
    }


def update_row(
    action: str,
    instance: str,
    kind: str,
    key: str,
    remote_id: str | None,
    changes: Mapping[str, Mapping[str, Any]],
    *,
    crm_record: bool,
) -> Row:
    return {
        "action": action,
        "object": kind,
        "instance": instance,
        "key": key,
        "onboarding": onboarding_of(action, key, crm_record=crm_record),
        "remote_id": remote_id,
        "changes": {name: dict(change) for name, change in sorted(changes.items())},
    }


def plan_rows(plan: WritePlan, instance: str, owners: Mapping[str, str]) -> list[Row]:
    """The rows of one deal-source instance's plan (its helpdesk write-back included)."""
    rows = [
        task_row(
            instance,
            t.write.key,
            subject=t.write.subject,
            owner_id=t.write.owner_id,
            owners=owners,
            due_at=t.write.due_at,
            deal_id=t.write.deal_id,
            account_id=t.write.account_id,
            due_date=t.write.due_date,
        )
        for t in plan.tasks
    ]
    rows += [skip_row(instance, s.skipped.spec.key, s.skipped.spec.title, s.skipped.reason) for s in plan.skips]
    rows += [
        update_row("close", instance, ObjectKind.TASK.value, c.key, c.remote_id, CLOSE_CHANGES, crm_record=False)
        for c in plan.closes
    ]
    for f in plan.fields:
        changes = {name: {"from": f.before.get(name), "to": value} for name, value in f.write.values.items()}
        rows.append(
            update_row(
                "update",
                f.instance or instance,
                f.write.kind.value,
                f.write.key,
                f.write.remote_id,
                changes,
                crm_record=not f.instance,
            )
        )
    return rows


def audit_row(entry: AuditEntry, *, crm_instances: set[str], owners: Mapping[str, str]) -> Row | None:
    """The row of an audited write (None for an entry that is not a write, or has no key)."""
    action = WRITE_ACTIONS.get(entry.action)
    if action is None or entry.key is None:
        return None
    after = dict(entry.after or {})
    if action == "create":
        return task_row(
            entry.source,
            entry.key,
            subject=str(after.get("subject", "")),
            owner_id=after.get("owner_id"),
            owners=owners,
            due_at=str(after["due_at"]),
            deal_id=after.get("deal_id"),
            account_id=after.get("account_id"),
            due_date=after.get("due_date"),
        )
    if action == "skip":
        return skip_row(entry.source, entry.key, str(after.get("subject", "")), entry.detail)
    before = dict(entry.before or {})
    changes = {name: {"from": before.get(name), "to": value} for name, value in after.items()}
    return update_row(
        action,
        entry.source,
        str(entry.object_kind),
        entry.key,
        entry.remote_id,
        changes,
        crm_record=entry.source in crm_instances,
    )


def run_changes(store: Store, run_id: int, crm_instances: Collection[str]) -> Iterator[Row]:
    """The rows of every write run ``run_id`` made (failed attempts left out: they are listed in
    the run's ``failures``), oldest first, read from the audit page by page."""
    owners: dict[str, str] = {}
    for instance in crm_instances:
        owners.update((o.id, o.name or o.email or o.id) for o in store.owners(instance).values())
    crm = set(crm_instances)
    for entry in store.run_audit(run_id):
        if entry.outcome in DONE and (row := audit_row(entry, crm_instances=crm, owners=owners)) is not None:
            yield row
