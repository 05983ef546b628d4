"""Write onboarding phase and health back into a helpdesk's organization fields (optional).

Called by the engine after a deal-source instance's own writes. For every ticket source that is
a ``FIELD_SINK`` (Zendesk), is linked to this CRM, and maps onboarding fields in its mapping's
``[account.write]`` (organization field keys), each linked organization gets the values of its
CRM account's onboarding — only the fields whose value differs from what the organization holds
(cached from the organization export and updated after each write), so a no-change rerun writes
nothing. ``plan`` counts what it would write and sends nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from onboard_sync.connector import Capability, FieldWrite
from onboard_sync.errors import ApiError, OnboardSyncError
from onboard_sync.onboarding.state import Evaluation
from onboard_sync.records import Account, Deal, ObjectKind
from onboard_sync.sync.plan import _differs
from onboard_sync.sync.signals import TicketIndex

if TYPE_CHECKING:
    from onboard_sync.sync.engine import Engine


def write_back(
    engine: Engine, tickets: TicketIndex, evaluations: Iterable[tuple[Evaluation, Deal]]
) -> dict[str, Any]:
    """Organization-field writes for every linked helpdesk; returns per-helpdesk counts."""
    out: dict[str, Any] = {}
    by_account = {
        ev.state.account_id: ev for ev, _ in evaluations if ev.state is not None and ev.state.account_id
    }
    sinks = set(engine.runtime.instances_with(Capability.FIELD_SINK))
    for source, linked in tickets.linked.items():
        mapping = engine.runtime.mappings.get(source)
        if source not in sinks or mapping is None or not mapping.for_kind(ObjectKind.ACCOUNT).write:
            continue
        orgs = engine.store.all_accounts(source)
        writes: list[tuple[FieldWrite, Account]] = []
        for org_id, crm_id in sorted(linked.items()):
            ev, org = by_account.get(crm_id), orgs.get(org_id)
            if ev is None or org is None:
                continue
            desired = mapping.to_crm(ObjectKind.ACCOUNT, ev.fields.get(ObjectKind.ACCOUNT, {}))
            changes = {k: v for k, v in desired.items() if _differs(org.properties.get(k), v)}
            if changes:
                writes.append((FieldWrite(f"{source}:{org_id}", ObjectKind.ACCOUNT, org_id, changes), org))
        out[source] = _apply(engine, source, writes)
    return out


def _apply(engine: Engine, source: str, writes: list[tuple[FieldWrite, Account]]) -> dict[str, Any]:
    counts: dict[str, Any] = {"planned": len(writes), "updated": 0, "failed": 0}
    if engine.plan_only or not writes:
        return counts
    connector = engine.runtime.connector(source, sleep=engine.sleep)
    now = engine.clock()
    try:
        for start in range(0, len(writes), connector.max_write_batch):
            chunk = writes[start : start + connector.max_write_batch]
            try:
                results = connector.write_fields(ObjectKind.ACCOUNT, [w for w, _ in chunk])
            except (ApiError, OnboardSyncError) as exc:
                counts["failed"] += len(chunk)
                counts["error"] = str(exc)
                continue
            ok = {r.key for r in results if r.ok}
            counts["updated"] += len(ok)
            counts["failed"] += len(chunk) - len(ok)
            cached = [
                dataclasses.replace(
                    org, properties={**org.properties, **w.values}, updated_at=max(org.updated_at, now)
                )
                for w, org in chunk
                if w.key in ok
            ]
            with engine.store.transaction():
                engine.store.put_accounts(cached)
    finally:
        counts["api_calls"] = connector.call.summary()  # type: ignore[attr-defined]
        connector.close()
    return counts
