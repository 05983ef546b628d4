"""Write onboarding phase and health back into a helpdesk's organization fields (optional).

Called by the engine after a deal-source instance's own writes (after every chunk). For every
ticket source that is a ``FIELD_SINK`` (Zendesk), is linked to this CRM, and maps onboarding
fields in its mapping's ``[account.write]`` (organization field keys), each linked organization
gets the values of its CRM account's onboarding — the one the CRM account's own fields come from
(``sync.plan.AccountFields``) — only the fields whose value differs from what the organization
holds (cached from the organization export, or pulled this run, and updated after each write), so
a no-change rerun writes nothing. Organizations are read from the cache by id, ``chunk_size`` at a
time, and writes are sent in full batches as they accumulate, each audited like the CRM's own field
writes (key ``{onboarding}:{helpdesk}:{organization id}``). ``plan`` adds them to its write plan
(``PlannedFields`` with the helpdesk as ``instance``) and sends nothing.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from onboard_sync.connector import Capability, Connector, FieldWrite
from onboard_sync.errors import ApiError, OnboardSyncError
from onboard_sync.plugins import connector_type
from onboard_sync.records import Account, ObjectKind
from onboard_sync.store import AuditEntry
from onboard_sync.sync.plan import AccountFields, PlannedFields, WritePlan, differs
from onboard_sync.sync.tickets import TicketIndex
from onboard_sync.sync.writes import helpdesk_write_key

if TYPE_CHECKING:
    from onboard_sync.runtime import Runtime
    from onboard_sync.sync.engine import Engine


def write_back(
    engine: Engine, tickets: TicketIndex, account_fields: AccountFields, planned: WritePlan, run_id: int | None
) -> dict[str, Any]:
    """Organization-field writes for every linked helpdesk (in plan: added to ``planned``);
    returns per-helpdesk counts."""
    out: dict[str, Any] = {}
    sinks = set(engine.runtime.instances_with(Capability.FIELD_SINK))
    size = engine.runtime.config.core.chunk_size
    for source, linked in tickets.linked.items():
        mapping = engine.runtime.mappings.get(source)
        if source not in sinks or mapping is None or not mapping.for_kind(ObjectKind.ACCOUNT).write:
            continue
        if source in engine.unwritable:  # its mapping could not be checked at the run's start
            out[source] = {"planned": 0, "updated": 0, "failed": 0, "error": engine.unwritable[source]}
            continue
        wanted = sorted(org for org, crm_id in linked.items() if account_fields.fields_of(crm_id) is not None)
        sender = _Sender(engine, source, planned, run_id)
        try:
            for start in range(0, len(wanted), size):
                ids = wanted[start : start + size]
                orgs = engine.staged_tickets.get_accounts(source, ids)
                for org_id in ids:
                    crm_id = linked[org_id]
                    fields, onboarding_id, org = (
                        account_fields.fields_of(crm_id),
                        account_fields.onboarding_of(crm_id),
                        orgs.get(org_id),
                    )
                    if fields is None or onboarding_id is None or org is None:
                        continue
                    desired = mapping.to_crm(ObjectKind.ACCOUNT, fields)
                    changes = {k: v for k, v in desired.items() if differs(org.properties.get(k), v)}
                    if changes:
                        write = FieldWrite(
                            helpdesk_write_key(onboarding_id, source, org_id), ObjectKind.ACCOUNT, org_id, changes
                        )
                        before = {k: org.properties.get(k) for k in changes}
                        sender.add(PlannedFields(onboarding_id, write, before, instance=source), org)
            sender.flush(final=True)
        finally:
            sender.close()
        out[source] = sender.counts
    return out


def batch_sizes(runtime: Runtime) -> dict[str, int]:
    """Each connector instance's write batch size (for the API cost of a helpdesk's writes)."""
    return {
        name: connector_type(settings.type).cls.max_write_batch for name, settings in runtime.config.connectors.items()
    }


class _Sender:
    """Organization-field writes of one helpdesk, sent in full batches as they accumulate."""

    def __init__(self, engine: Engine, source: str, planned: WritePlan, run_id: int | None) -> None:
        self.engine = engine
        self.source = source
        self.planned = planned
        self.run_id = run_id
        self.counts: dict[str, Any] = {"planned": 0, "updated": 0, "failed": 0}
        self.writes: list[tuple[PlannedFields, Account]] = []
        self.connector: Connector | None = None

    def add(self, write: PlannedFields, org: Account) -> None:
        self.counts["planned"] += 1
        if self.engine.plan_mode:
            self.planned.fields.append(write)
        else:
            self.writes.append((write, org))
            self.flush(final=False)

    def flush(self, *, final: bool) -> None:
        if not self.writes:
            return
        if self.connector is None:
            self.connector = self.engine.runtime.connector(
                self.source, sleep=self.engine.sleep, limiters=self.engine.limiters
            )
        size = self.connector.max_write_batch
        count = len(self.writes) if final else len(self.writes) // size * size
        if count:
            _apply(self.engine, self.connector, self.writes[:count], self.counts, self.run_id)
            del self.writes[:count]

    def close(self) -> None:
        if self.connector is not None:
            self.counts["api_calls"] = self.connector.call.summary()  # type: ignore[attr-defined]
            self.connector.close()


def _apply(
    engine: Engine,
    connector: Connector,
    writes: list[tuple[PlannedFields, Account]],
    counts: dict[str, Any],
    run_id: int | None,
) -> None:
    now = engine.clock()
    for start in range(0, len(writes), connector.max_write_batch):
        chunk = writes[start : start + connector.max_write_batch]
        failure = "no result"
        try:
            results = connector.write_fields(ObjectKind.ACCOUNT, [p.write for p, _ in chunk])
        except (ApiError, OnboardSyncError) as exc:
            results, failure = [], str(exc)
            counts["error"] = failure
        ok = {r.key for r in results if r.ok}
        errors = {r.key: r.error or "failed" for r in results if not r.ok}
        counts["updated"] += len(ok)
        counts["failed"] += len(chunk) - len(ok)
        cached = [
            dataclasses.replace(
                org, properties={**org.properties, **p.write.values}, updated_at=max(org.updated_at, now)
            )
            for p, org in chunk
            if p.write.key in ok
        ]
        audit = [
            AuditEntry(
                run_id=run_id,
                at=now,
                source=connector.instance,
                action="update_fields",
                object_kind=ObjectKind.ACCOUNT,
                remote_id=p.write.remote_id,
                key=p.write.key,
                before=dict(p.before),
                after=dict(p.write.values),
                outcome="ok" if p.write.key in ok else "failed",
                detail="" if p.write.key in ok else errors.get(p.write.key, failure),
            )
            for p, _ in chunk
        ]
        with engine.store.transaction():
            engine.store.put_accounts(cached)
            engine.store.record_audit(audit)
