"""The read side of the Salesforce sandbox backend: SOQL execution, query cursors, record shapes.

Mixed into :class:`~onboard_sync.sandbox.salesforce.backend.SalesforceBackend`. Queries are parsed by
:mod:`.soql`, names checked against the org schema (``INVALID_FIELD``/``INVALID_TYPE``), rows filtered
and sorted, and paged with ``nextRecordsUrl`` locators; relationship fields come back nested, and parent-to-child
subqueries as a nested QueryResult per record (``null`` without children; cut at ``child_batch_size``
children with a ``nextRecordsUrl`` of their own when there are more). Child records count toward a
page's batch size, as Salesforce counts them.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from onboard_sync.sandbox.salesforce import soql
from onboard_sync.sandbox.salesforce.errors import SfError, render, sf_id
from onboard_sync.sandbox.salesforce.schema import KEY_PREFIX, OrgSchema
from onboard_sync.sandbox.salesforce.soql_eval import SoqlTypeError

Record = dict[str, Any]


class QueryMixin:
    """SOQL over the backend's records (needs ``schema``, ``records``, ``lock`` and the cursor state)."""

    schema: OrgSchema
    records: dict[str, dict[str, Record]]
    lock: threading.RLock
    query_batch_size: int
    child_batch_size: int
    _cursors: dict[str, tuple[list[Record], int, list[int] | None]]
    _cursor_ids: itertools.count[int]

    def sobject_of(self, record_id: str) -> str | None:
        prefix = record_id[:3]
        return next((name for name, p in KEY_PREFIX.items() if p == prefix), None)

    def get(self, record_id: str) -> Record | None:
        sobject = self.sobject_of(record_id)
        return self.records[sobject].get(record_id) if sobject else None

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
        """Run a SOQL query; the first page, with a ``nextRecordsUrl`` locator when more remain.

        A page holds at most the batch size of records, child records of subqueries included (as
        Salesforce counts them), and at least one top-level record."""
        try:
            parsed = soql.parse(text)
        except soql.SoqlError as exc:
            raise SfError(400, exc.code, str(exc)) from None
        size = min(self.query_batch_size, batch_size or 2000)
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
            children = [self._children(sobject, sub) for sub in parsed.subqueries]
            rows = self._select(sobject, parsed, list(self.records[sobject].values()))
            out = [self._shape(sobject, r, parsed.fields, prefix) for r in rows]
            for sub, (name, index) in zip(parsed.subqueries, children, strict=True):
                for record, row in zip(rows, out, strict=True):
                    row[name] = self._child_result(record, sub, index, prefix, size)
        if not children:
            return self._page(out, 0, size, prefix)
        weights = [1 + sum(len(r[name]["records"]) for name, _ in children if r[name]) for r in out]
        return self._page(out, 0, size, prefix, weights=weights)

    def _select(self, sobject: str, parsed: soql.Query, records: list[Record]) -> list[Record]:
        """``records`` filtered by the WHERE, sorted by the ORDER BY, cut by OFFSET and LIMIT."""
        try:
            rows = [
                r
                for r in records
                if soql.matches(parsed.where, lambda p, r=r: self.resolve(sobject, r, p))  # type: ignore[misc]
            ]
        except SoqlTypeError as exc:
            raise SfError(400, exc.code, str(exc)) from None
        if parsed.order_by:
            rows.sort(key=lambda r: soql.sort_key(parsed.order_by, lambda p: self.resolve(sobject, r, p)))
        rows = rows[parsed.offset :]
        return rows if parsed.limit is None else rows[: parsed.limit]

    def _children(self, sobject: str, sub: soql.Query) -> tuple[str, dict[str, tuple[str, list[Record]]]]:
        """A subquery's relationship name and its child rows by parent id (filtered, sorted, limited)."""
        found = self.schema.child_relationship(sobject, sub.sobject)
        if found is None:
            raise SfError(
                400,
                "INVALID_TYPE",
                f"\n{sub.sobject}\n^\nERROR at Row:1:Column:1\nDidn't understand relationship '{sub.sobject}' in "
                "FROM part of query call. If you are attempting to use a custom relationship, be sure to append "
                "the '__r' after the custom relationship name. Please reference your WSDL or the describe call "
                "for the appropriate names.",
            )
        name, child, ref = found
        self._check_paths(child, sub.fields + sub.where_fields + tuple(o.field for o in sub.order_by))
        by_parent: dict[str, list[Record]] = {}
        for record in self.records[child].values():
            parent = record.get(ref.name)
            if parent:
                by_parent.setdefault(str(parent), []).append(record)
        index = {parent: (child, self._select(child, sub, rows)) for parent, rows in by_parent.items()}
        return name, {parent: found for parent, found in index.items() if found[1]}

    def _child_result(
        self,
        record: Record,
        sub: soql.Query,
        index: dict[str, tuple[str, list[Record]]],
        prefix: str,
        size: int,
    ) -> dict[str, Any] | None:
        """A parent's nested QueryResult (``None`` without children); cut at ``child_batch_size``
        children, with a ``nextRecordsUrl`` to the rest, when there are more."""
        found = index.get(str(record["Id"]))
        if found is None:
            return None
        child, rows = found
        shaped = [self._shape(child, r, sub.fields, prefix) for r in rows]
        inline = min(self.child_batch_size, size)
        if len(shaped) <= inline:
            return {"totalSize": len(shaped), "done": True, "records": shaped}
        return {
            "totalSize": len(shaped),
            "done": False,
            "nextRecordsUrl": f"{prefix}/query/{self._cursor(shaped, size)}-{inline}",
            "records": shaped[:inline],
        }

    def query_more(self, locator: str, prefix: str) -> dict[str, Any]:
        cursor_id, _, offset = locator.partition("-")
        with self.lock:
            found = self._cursors.get(cursor_id)
        if found is None or not offset.isdigit():
            raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, size, weights = found
        return self._page(rows, int(offset), size, prefix, cursor_id, weights)

    def _page(
        self,
        rows: list[Record],
        start: int,
        size: int,
        prefix: str,
        cursor_id: str | None = None,
        weights: list[int] | None = None,
    ) -> dict[str, Any]:
        """Rows from ``start`` up to ``size`` records (``weights``: records per row, children included)."""
        end = start + size
        if weights is not None:
            end, taken = start, 0
            while end < len(rows) and (end == start or taken + weights[end] <= size):
                taken += weights[end]
                end += 1
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[start:end]}
        if end < len(rows):
            page["nextRecordsUrl"] = f"{prefix}/query/{cursor_id or self._cursor(rows, size, weights)}-{end}"
        return page

    def _cursor(self, rows: list[Record], size: int, weights: list[int] | None = None) -> str:
        """A query locator id over ``rows`` (what ``query_more`` pages through)."""
        with self.lock:
            cursor_id = sf_id("01g", next(self._cursor_ids))[:15]
            self._cursors[cursor_id] = (rows, size, weights)
        return cursor_id

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
