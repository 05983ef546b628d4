"""The Salesforce sandbox's state and behaviour: records, ids, validation, SOQL execution, query cursors.

Wire-format free (moto's "backend"): the ASGI app in :mod:`.app` parses requests, calls these methods
and renders their answers or :class:`SfError` s as Salesforce JSON. Values are kept typed (``datetime``
for datetime fields, ``date`` for dates) and rendered by :func:`render`. ``SystemModstamp``,
``LastModifiedDate``, Opportunity ``IsWon``/``IsClosed`` and Task ``IsClosed``/``CompletedDateTime``/
``AccountId`` and Case ``CaseNumber``/``IsClosed``/``ClosedDate`` are maintained as Salesforce does. Tests drive it
directly (``complete_task``, ``update``, ``open_case``/``close_case`` as a support agent would).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from onboard_sync.sandbox.clock import Clock
from onboard_sync.sandbox.salesforce.errors import SfError, render, sf_id
from onboard_sync.sandbox.salesforce.reads import QueryMixin
from onboard_sync.sandbox.salesforce.schema import (
    CLOSED_CASE_STATUSES,
    CLOSED_TASK_STATUSES,
    KEY_PREFIX,
    NUMBER_TYPES,
    WON_STAGE,
    FieldDef,
    OrgSchema,
)

Record = dict[str, Any]
__all__ = ["Record", "SalesforceBackend", "SfError", "coerce", "render", "sf_id"]


def coerce(definition: FieldDef, sobject: str, value: Any) -> Any:
    """A REST JSON value typed for ``definition``; SfError(JSON_PARSER_ERROR) when it cannot be."""
    if value is None:
        return None
    kind = definition.type
    try:
        if kind == "date":
            return date.fromisoformat(str(value)[:10])
        if kind == "datetime":
            text = str(value).replace("Z", "+00:00")
            if len(text) > 5 and text[-5] in "+-" and ":" not in text[-5:]:
                text = text[:-2] + ":" + text[-2:]
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if kind in NUMBER_TYPES:
            if isinstance(value, bool):
                raise ValueError
            return int(value) if kind == "int" else float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
    except (TypeError, ValueError):
        raise SfError(
            400,
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {kind} from value {value!r} for {sobject}.{definition.name}",
            (definition.name,),
        ) from None
    return value if isinstance(value, str) else str(value)


class SalesforceBackend(QueryMixin):
    """An in-memory org. ``reset()`` restores the seeded data (same seed, same ids)."""

    def __init__(
        self,
        seed: int = 0,
        deals: int = 0,
        clock: Clock | None = None,
        *,
        task_external_id: bool = True,
        query_batch_size: int = 2000,
        child_batch_size: int = 200,
    ) -> None:
        from onboard_sync.sandbox.clock import SandboxClock

        self.seed = seed
        self.deal_count = deals
        self.clock: Clock = clock or SandboxClock()
        self.task_external_id = task_external_id
        self.query_batch_size = query_batch_size
        self.child_batch_size = child_batch_size
        self.lock = threading.RLock()
        self.listeners: list[Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], None]] = []
        """Called as ``(sobject, id, before, after)`` under ``lock`` after each insert (``before`` empty) and
        update: the Outbound Message actions (``sandbox.salesforce.outbound``) and the benchmarks' stopwatch."""
        self.reset()

    def reset(self) -> None:
        from onboard_sync.sandbox.salesforce.seed import populate

        with self.lock:
            self.schema = OrgSchema.standard()
            self.records: dict[str, dict[str, Record]] = {name: {} for name in KEY_PREFIX}
            self._counter = itertools.count(1)
            self._case_numbers = itertools.count(1001)
            self._cursors: dict[str, tuple[list[Record], int, list[int] | None]] = {}
            self._cursor_ids = itertools.count(1)
            self._deleted: set[str] = set()
            populate(self)

    # --- convenient views for tests ------------------------------------------------------------
    @property
    def opportunities(self) -> dict[str, Record]:
        return self.records["Opportunity"]

    @property
    def accounts(self) -> dict[str, Record]:
        return self.records["Account"]

    @property
    def tasks(self) -> dict[str, Record]:
        return self.records["Task"]

    @property
    def users(self) -> dict[str, Record]:
        return self.records["User"]

    @property
    def cases(self) -> dict[str, Record]:
        return self.records["Case"]

    def new_id(self, sobject: str) -> str:
        return sf_id(KEY_PREFIX[sobject], next(self._counter))

    # --- writes ---------------------------------------------------------------------------------
    def refuse_unknown_columns(self, records: list[Any], default_sobject: str = "") -> None:
        """An sObject Collections request naming a field its object lacks is refused as a whole
        (400 ``INVALID_FIELD``): Salesforce reads every record into its sObject type before it saves any."""
        for raw in records:
            if not isinstance(raw, dict):
                continue
            sobject = self.schema.sobject(str((raw.get("attributes") or {}).get("type") or default_sobject))
            if sobject is None:
                continue  # an unknown type fails its own record
            for name in raw:
                if name not in ("attributes", "id", "Id") and self.schema.field(sobject, name) is None:
                    raise SfError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")

    def _fields(self, sobject: str, values: dict[str, Any], *, creating: bool) -> Record:
        clean: Record = {}
        for name, value in values.items():
            if name == "attributes":
                continue
            definition = self.schema.field(sobject, name)
            if definition is None:
                raise SfError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}", (name,))
            if not (definition.createable if creating else definition.updateable):
                raise SfError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {definition.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile or "
                    "permission set.",
                    (definition.name,),
                )
            typed = coerce(definition, sobject, value)
            if definition.picklist and not definition.custom and typed not in (None, *definition.picklist):
                raise SfError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{definition.label or definition.name}: bad value for restricted picklist field: {typed}",
                    (definition.name,),
                )
            if definition.type == "reference" and typed is not None:
                target = self.get(str(typed))
                allowed = definition.reference_to
                if target is None or self.sobject_of(str(typed)) not in allowed:
                    raise SfError(
                        400,
                        "INVALID_CROSS_REFERENCE_KEY",
                        f"invalid cross reference id: {definition.name}",
                        (definition.name,),
                    )
            clean[definition.name] = typed
        return clean

    def _derive(self, sobject: str, record: Record) -> None:
        now = self.clock.now()
        if sobject == "Opportunity":
            stage = record.get("StageName")
            record["IsWon"] = stage == WON_STAGE
            record["IsClosed"] = stage in (WON_STAGE, "Closed Lost")
        elif sobject == "Task":
            closed = record.get("Status") in CLOSED_TASK_STATUSES
            if closed and not record.get("IsClosed"):
                record["CompletedDateTime"] = now
            if not closed:
                record["CompletedDateTime"] = None
            record["IsClosed"] = closed
            record["AccountId"] = self._task_account(record)
        elif sobject == "Case":
            record["CaseNumber"] = record.get("CaseNumber") or f"{next(self._case_numbers):08d}"
            record["Status"] = record.get("Status") or "New"
            record["Priority"] = record.get("Priority") or "Medium"
            closed = record["Status"] in CLOSED_CASE_STATUSES
            if closed and not record.get("IsClosed"):
                record["ClosedDate"] = now
            if not closed:
                record["ClosedDate"] = None
            record["IsClosed"] = closed
        elif sobject in ("Contact", "User"):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)

    def _task_account(self, task: Record) -> str | None:
        for ref in (task.get("WhatId"), task.get("WhoId")):
            target = self.get(ref) if ref else None
            if target is None:
                continue
            if self.sobject_of(ref) == "Account":
                return str(ref)
            if target.get("AccountId"):
                return str(target["AccountId"])
        return None

    def _check_unique(self, sobject: str, record: Record, own_id: str | None) -> None:
        for definition in self.schema.fields(sobject).values():
            if not (definition.unique or definition.external_id) or record.get(definition.name) in (None, ""):
                continue
            for other_id, other in self.records[sobject].items():
                if other_id != own_id and other.get(definition.name) == record[definition.name]:
                    raise SfError(
                        400,
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {definition.name} duplicates value on record with id: {other_id}",
                        (definition.name,),
                    )

    def insert(self, sobject: str, values: dict[str, Any], *, owner: str | None = None) -> str:
        """Create a record (REST create / collections create); returns its id."""
        with self.lock:
            if "Id" in values or "id" in values:
                raise SfError(400, "INVALID_FIELD", "The Id field should not be specified in the sobject data.")
            record = self._fields(sobject, values, creating=True)
            for definition in self.schema.fields(sobject).values():
                if definition.required and definition.createable and record.get(definition.name) in (None, ""):
                    raise SfError(
                        400,
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{definition.name}]",
                        (definition.name,),
                    )
            if "OwnerId" in self.schema.fields(sobject) and not record.get("OwnerId") and owner:
                record["OwnerId"] = owner
            self._check_unique(sobject, record, None)
            now = self.clock.now()
            new_id = self.new_id(sobject)
            stored = {name: None for name, d in self.schema.fields(sobject).items()}
            stored.update(record)
            stored.update(Id=new_id, IsDeleted=False, CreatedDate=now, LastModifiedDate=now, SystemModstamp=now)
            self._derive(sobject, stored)
            self.records[sobject][new_id] = stored
            for listener in list(self.listeners):
                listener(sobject, new_id, {}, stored)
            return new_id

    def update(self, sobject: str, record_id: str, values: dict[str, Any]) -> None:
        """Update fields of a record (REST PATCH / collections update)."""
        with self.lock:
            current = self.records.get(sobject, {}).get(record_id)
            if current is None:
                raise SfError(
                    404,
                    "ENTITY_IS_DELETED" if record_id in self._deleted else "NOT_FOUND",
                    "The requested resource does not exist",
                )
            changes = self._fields(sobject, {k: v for k, v in values.items() if k not in ("Id", "id")}, creating=False)
            self._check_unique(sobject, {**current, **changes}, record_id)
            before = dict(current) if self.listeners else {}
            current.update(changes)
            now = self.clock.now()
            current["LastModifiedDate"] = current["SystemModstamp"] = now
            self._derive(sobject, current)
            for listener in list(self.listeners):
                listener(sobject, record_id, before, current)

    def upsert(self, sobject: str, ext_field: str, value: str, values: dict[str, Any]) -> tuple[str, bool]:
        """Upsert by an external-id field; returns (id, created). 300 when several records match."""
        with self.lock:
            definition = self.schema.field(sobject, ext_field)
            if definition is None or not (definition.external_id or definition.name == "Id"):
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            found = [i for i, r in self.records[sobject].items() if r.get(definition.name) == value]
            if len(found) > 1:
                raise SfError(300, "MULTIPLE_CHOICES", f"more than one record matches {ext_field} = {value}")
            body = {k: v for k, v in values.items() if k.lower() != definition.name.lower()}
            if found:
                self.update(sobject, found[0], body)
                return found[0], False
            return self.insert(sobject, {**body, definition.name: value}), True

    def delete(self, sobject: str, record_id: str) -> None:
        with self.lock:
            if self.records.get(sobject, {}).pop(record_id, None) is None:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            self._deleted.add(record_id)

    def complete_task(self, task_id: str) -> None:
        """What a person does in Salesforce: set a Task's Status to Completed."""
        self.update("Task", task_id, {"Status": "Completed"})

    def set_stage(self, opportunity_id: str, stage: str) -> None:
        self.update("Opportunity", opportunity_id, {"StageName": stage})

    # --- what a support agent does ------------------------------------------------------------------
    def open_case(
        self,
        account_id: str | None,
        subject: str,
        *,
        priority: str = "Medium",
        status: str = "New",
        contact_id: str | None = None,
        age: timedelta = timedelta(0),
    ) -> str:
        """Log a Case on an Account; ``age`` backdates ``CreatedDate`` (as a data load with audit fields)."""
        values: dict[str, Any] = {"Subject": subject, "Priority": priority, "Status": status, "Origin": "Email"}
        if account_id:
            values["AccountId"] = account_id
        if contact_id:
            values["ContactId"] = contact_id
        with self.lock:
            case_id = self.insert("Case", values)
            if age:
                self.cases[case_id]["CreatedDate"] = self.clock.now() - age
            return case_id

    def close_case(self, case_id: str, status: str = "Closed") -> None:
        """Close a Case (``IsClosed`` and ``ClosedDate`` follow)."""
        self.update("Case", case_id, {"Status": status})

    def reopen_case(self, case_id: str, status: str = "Working") -> None:
        """Set a closed Case back to an open status (``ClosedDate`` is cleared)."""
        self.update("Case", case_id, {"Status": status})
