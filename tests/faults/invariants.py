"""The invariants every recovery must restore, checked against the sandbox CRM and the store.

* **one task per key**: exactly one CRM task per (onboarding, template, episode) key;
* **no onboarding lost**: every won deal of the sandbox has an onboarding in the store;
* **cursor not ahead**: every won deal last modified before the deals cursor has its onboarding
  recorded (what a cursor past unrecorded work would lose for good), and it belongs to a recorded run;
* **store matches CRM**: no PENDING key is left, every CRM task with a key is recorded CREATED
  with its remote id;
* **audit complete**: every CRM task with a key has a ``create_task`` or ``recover_task`` entry.

``check_cursor`` alone is meaningful on the state a crash leaves (before any recovery); the
others hold after a recovery run. Used by the fault tests and the broken-build proofs.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from onboard_sync.store import TaskState

KEY = "onboard_sync_key"


class InvariantViolated(AssertionError):
    pass


def _modified(record: Any) -> datetime:
    raw = record.properties.get("hs_lastmodifieddate")
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def _won(sandbox: Any) -> dict[str, Any]:
    return {
        d_id: d
        for d_id, d in sandbox.backend.deals.items()
        if d.properties.get("dealstage") == "closedwon" and not d.archived
    }


def check_cursor(project: Any) -> None:
    with project.store() as store:
        cursor = store.get_cursor("hubspot", "deals")
        if cursor is None:
            return
        recorded = {o.deal_id for o in store.onboardings(source="hubspot")}
        runs = store.runs(limit=1000)
    behind = sorted(d for d, deal in _won(project.sandbox).items() if _modified(deal) < cursor and d not in recorded)
    if behind:
        raise InvariantViolated(f"cursor {cursor} is ahead of unrecorded won deals {behind[:5]} (lost for good)")
    if not runs or cursor > datetime.now(UTC):
        raise InvariantViolated(f"cursor {cursor} set without a recorded run, or in the future")


def check_all(project: Any) -> None:
    """Every invariant; raise ``InvariantViolated`` naming the first one broken."""
    sandbox = project.sandbox
    crm = [t for t in sandbox.backend.tasks.values() if t.properties.get(KEY) and not t.archived]
    counts = Counter(t.properties[KEY] for t in crm)
    dupes = {k: n for k, n in counts.items() if n > 1}
    if dupes:
        raise InvariantViolated(f"duplicate CRM tasks per key: {dict(list(dupes.items())[:5])}")
    with project.store() as store:
        onboardings = {o.deal_id for o in store.onboardings(source="hubspot")}
        owned = store.owned_tasks_for("hubspot")
        audit = store.audit(limit=10_000_000)
    lost = sorted(set(_won(sandbox)) - onboardings)
    if lost:
        raise InvariantViolated(f"won deals without an onboarding: {lost[:5]}")
    check_cursor(project)
    pending = sorted(k for k, t in owned.items() if t.state is TaskState.PENDING)
    if pending:
        raise InvariantViolated(f"PENDING keys left after recovery: {pending[:5]}")
    for task in crm:
        key = task.properties[KEY]
        mine = owned.get(key)
        if mine is None or mine.state is not TaskState.CREATED or mine.remote_id != task.id:
            raise InvariantViolated(f"CRM task {task.id} ({key}) is not recorded as created: {mine}")
    audited = {a.key for a in audit if a.action in ("create_task", "recover_task") and a.outcome in ("ok", "found")}
    missing = sorted(set(counts) - audited)
    if missing:
        raise InvariantViolated(f"CRM tasks without a create audit entry: {missing[:5]}")
