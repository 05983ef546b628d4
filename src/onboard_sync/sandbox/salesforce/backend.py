"""The Salesforce sandbox's state and behaviour: records, ids, validation, SOQL execution, query cursors.

Wire-format free (moto's "backend"): the ASGI app in :mod:`.app` parses requests, calls these methods
and renders their answers or :class:`SfError` s as Salesforce JSON. Values are kept typed (``datetime``
for datetime fields, ``date`` for dates) and rendered by :func:`render`. ``SystemModstamp``,
``LastModifiedDate``, Opportunity ``IsWon``/``IsClosed`` and Task ``IsClosed``/``CompletedDateTime``/
``AccountId`` are maintained as Salesforce does. Tests drive it directly (``complete_task``, ``update``).
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime
from typing import Any

from onboard_sync.sandbox.clock import Clock
from onboard_sync.sandbox.salesforce import soql
from onboard_sync.sandbox.salesforce.schema import (
    CLOSED_TASK_STATUSES,
    KEY_PREFIX,
    NUMBER_TYPES,
    WON_STAGE,
    FieldDef,
    OrgSchema,
)

Record = dict[str, Any]
_CHECK = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SfError(Exception):
    """A Salesforce error: HTTP ``status`` and an ``errorCode`` (REST) / ``statusCode`` (collections)."""

    def __init__(self, status: int, code: str, message: str, fields: tuple[str, ...] = ()) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        super().__init__(f"{code}: {message}")

    def body(self) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            entry["fields"] = list(self.fields)
        return [entry]

    def record_error(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


def sf_id(prefix: str, n: int) -> str:
    """An 18-character id with Salesforce's case-safe checksum suffix."""
    body = ""
    while n:
        n, r = divmod(n, 62)
        body = _B62[r] + body
    base = prefix + "5g" + body.rjust(10, "0")
    suffix = ""
    for chunk in (base[0:5], base[5:10], base[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _CHECK[bits]
    return base + suffix


def render(value: Any) -> Any:
    """A typed value as Salesforce REST JSON renders it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value


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


class SalesforceBackend:
    """An in-memory org. ``reset()`` restores the seeded data (same seed, same ids)."""

    def __init__(
        self,
        seed: int = 0,
        deals: int = 0,
        clock: Clock | None = None,
        *,
        task_external_id: bool = True,
        query_batch_size: int = 2000,
    ) -> None:
        from onboard_sync.sandbox.clock import SandboxClock

        self.seed = seed
        self.deal_count = deals
        self.clock: Clock = clock or SandboxClock()
        self.task_external_id = task_external_id
        self.query_batch_size = query_batch_size
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        from onboard_sync.sandbox.salesforce.seed import populate

        with self.lock:
            self.schema = OrgSchema.standard()
            self.records: dict[str, dict[str, Record]] = {name: {} for name in KEY_PREFIX}
            self._counter = itertools.count(1)
            self._cursors: dict[str, tuple[list[Record], int]] = {}
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

    def new_id(self, sobject: str) -> str:
        return sf_id(KEY_PREFIX[sobject], next(self._counter))

    def sobject_of(self, record_id: str) -> str | None:
        prefix = record_id[:3]
        return next((name for name, p in KEY_PREFIX.items() if p == prefix), None)

    def get(self, record_id: str) -> Record | None:
        sobject = self.sobject_of(record_id)
        return self.records[sobject].get(record_id) if sobject else None

    # --- writes ---------------------------------------------------------------------------------
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
            current.update(changes)
            now = self.clock.now()
            current["LastModifiedDate"] = current["SystemModstamp"] = now
            self._derive(sobject, current)

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

    # --- reads ----------------------------------------------------------------------------------
    def resolve(self, sobject: str, record: Record, path: str) -> Any:
        """The value of ``path`` (``Name``, ``Account.Name``, ``What.Id``) on ``record``."""
        parts = path.split(".")
        if len(parts) > 1 and parts[0].lower() == sobject.lower():
            parts = parts[1:]  # SOQL allows the object name as a prefix
        current_type, current = sobject, record
        for rel in parts[:-1]:
            ref = self.schema.relationship(current_type, rel)
            if ref is None:
                raise SfError(400, "INVALID_FIELD", f"No such relation '{rel}' on entity '{current_type}'")
            target_id = current.get(ref.name)
            target = self.get(target_id) if target_id else None
            if target is None:
                return None
            current_type, current = self.sobject_of(target_id) or "", target
        definition = self.schema.field(current_type, parts[-1])
        if definition is None:
            raise SfError(
                400,
                "INVALID_FIELD",
                f"No such column '{parts[-1]}' on entity '{current_type}'. If you "
                "are attempting to use a custom field, be sure to append the '__c' after the custom field "
                "name.",
            )
        return current.get(definition.name)

    def _check_paths(self, sobject: str, paths: tuple[str, ...]) -> None:
        for path in paths:
            parts = path.split(".")
            if len(parts) > 1 and parts[0].lower() == sobject.lower():
                parts = parts[1:]
            current = sobject
            for rel in parts[:-1]:
                ref = self.schema.relationship(current, rel)
                if ref is None:
                    raise SfError(
                        400,
                        "INVALID_FIELD",
                        f"\n{path}\n^\nERROR at Row:1:Column:1\nDidn't understand relationship '{rel}' "
                        f"in field path. If you are attempting to use a custom relationship, be sure to "
                        f"append the '__r' after the custom relationship name.",
                    )
                current = ref.reference_to[0]
            if self.schema.field(current, parts[-1]) is None:
                raise SfError(
                    400,
                    "INVALID_FIELD",
                    f"\n{path}\n^\nERROR at Row:1:Column:1\nNo such column '{parts[-1]}' on entity "
                    f"'{current}'. If you are attempting to use a custom field, be sure to append the "
                    "'__c' after the custom field name.",
                )

    def query(self, text: str, prefix: str, batch_size: int | None = None) -> dict[str, Any]:
        """Run a SOQL query; the first page, with a ``nextRecordsUrl`` locator when more remain."""
        try:
            parsed = soql.parse(text)
        except soql.SoqlError as exc:
            raise SfError(400, exc.code, str(exc)) from None
        with self.lock:
            sobject = self.schema.sobject(parsed.sobject)
            if sobject is None:
                raise SfError(
                    400,
                    "INVALID_TYPE",
                    f"\nFROM {parsed.sobject}\n     ^\nERROR at Row:1:Column:1\n"
                    f"sObject type '{parsed.sobject}' is not supported.",
                )
            self._check_paths(sobject, parsed.fields + parsed.where_fields + tuple(o.field for o in parsed.order_by))
            rows = [
                r
                for r in self.records[sobject].values()
                if soql.matches(parsed.where, lambda p, r=r: self.resolve(sobject, r, p))
            ]  # type: ignore[misc]
            if parsed.order_by:
                rows.sort(key=lambda r: soql.sort_key(parsed.order_by, lambda p: self.resolve(sobject, r, p)))
            rows = rows[parsed.offset :]
            if parsed.limit is not None:
                rows = rows[: parsed.limit]
            out = [self._shape(sobject, r, parsed.fields, prefix) for r in rows]
        size = min(self.query_batch_size, batch_size or 2000)
        return self._page(out, 0, size, prefix)

    def query_more(self, locator: str, prefix: str) -> dict[str, Any]:
        cursor_id, _, offset = locator.partition("-")
        with self.lock:
            found = self._cursors.get(cursor_id)
        if found is None or not offset.isdigit():
            raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, size = found
        return self._page(rows, int(offset), size, prefix, cursor_id)

    def _page(
        self, rows: list[Record], start: int, size: int, prefix: str, cursor_id: str | None = None
    ) -> dict[str, Any]:
        end = start + size
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[start:end]}
        if end < len(rows):
            if cursor_id is None:
                cursor_id = sf_id("01g", next(self._cursor_ids))[:15]
                with self.lock:
                    self._cursors[cursor_id] = (rows, size)
            page["nextRecordsUrl"] = f"{prefix}/query/{cursor_id}-{end}"
        return page

    def _shape(self, sobject: str, record: Record, fields: tuple[str, ...], prefix: str) -> Record:
        out: Record = {"attributes": {"type": sobject, "url": f"{prefix}/sobjects/{sobject}/{record['Id']}"}}
        for path in fields:
            parts = path.split(".")
            if len(parts) > 1 and parts[0].lower() == sobject.lower():
                parts = parts[1:]
            if len(parts) == 1:
                definition = self.schema.field(sobject, parts[0])
                assert definition is not None
                out[definition.name] = render(record.get(definition.name))
                continue
            self._nest(sobject, record, parts, out, prefix)
        return out

    def _nest(self, sobject: str, record: Record, parts: list[str], out: Record, prefix: str) -> None:
        ref = self.schema.relationship(sobject, parts[0])
        assert ref is not None
        target_id = record.get(ref.name)
        target = self.get(target_id) if target_id else None
        name = ref.relationship_name or parts[0]
        if target is None:
            out.setdefault(name, None)
            return
        target_type = self.sobject_of(target_id) or ""
        holder = out.get(name) or {
            "attributes": {"type": target_type, "url": f"{prefix}/sobjects/{target_type}/{target_id}"}
        }
        out[name] = holder
        if len(parts) == 2:
            definition = self.schema.field(target_type, parts[1])
            holder[definition.name if definition else parts[1]] = (
                render(target.get(definition.name)) if definition else None
            )
        else:
            self._nest(target_type, target, parts[1:], holder, prefix)

    def retrieve(self, sobject: str, record_id: str, prefix: str) -> Record:
        with self.lock:
            record = self.records.get(sobject, {}).get(record_id)
            if record is None:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            return self._shape(sobject, record, tuple(self.schema.fields(sobject)), prefix)
