"""ToyCRM's state and behaviour: records, properties, owners, tokens, one method per API operation.

The backend knows nothing of HTTP: ``responses.py`` parses a request, calls one method here and
shapes the answer. Records are dicts with a ``datetime`` ``updated_at`` (sent as ISO-8601 text);
property values are strings. A refused operation raises :class:`ToyCrmError`.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

OBJECT_TYPES = ("deals", "accounts", "contacts", "tasks", "activities")
BUILT_IN: dict[str, tuple[str, ...]] = {
    "deals": ("name", "stage", "amount", "close_date", "owner_id"),
    "accounts": ("name", "domain", "owner_id"),
    "contacts": ("name", "email"),
    "tasks": ("subject", "body", "due_at", "status", "priority", "owner_id", "completed_at"),
}


class ToyCrmError(Exception):
    """A refused request: ``status`` as HTTP says it, ``code`` ToyCRM's own reason."""

    def __init__(self, status: int, message: str, *, code: str = "", retry_after: float | None = None) -> None:
        self.status, self.message, self.code, self.retry_after = status, message, code, retry_after
        super().__init__(f"HTTP {status} ({code}): {message}")


class ToyCrmBackend:
    """One workspace's data. ``now`` is the simulator's clock."""

    def __init__(self, client_id: str, client_secret: str, now: Callable[[], datetime]) -> None:
        self.client_id, self.client_secret, self.now = client_id, client_secret, now
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.tokens: set[str] = set()
        self.records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in OBJECT_TYPES}
        self.schema: dict[str, dict[str, dict[str, Any]]] = {
            kind: {name: _prop(name, name.replace("_", " "), "string", built_in=True) for name in names}
            for kind, names in BUILT_IN.items()
        }
        self.owners: list[dict[str, Any]] = []
        self.activity_faults: list[bool] = []

    def kind(self, kind: str) -> str:
        """``kind`` if it is an object type with properties (deals, accounts, contacts, tasks), else 404."""
        if kind not in BUILT_IN:
            raise ToyCrmError(404, f"no object type {kind}", code="not_found")
        return kind

    def grant(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credentials":
            raise ToyCrmError(400, "unsupported grant_type", code="unsupported_grant_type")
        if (body.get("client_id"), body.get("client_secret")) != (self.client_id, self.client_secret):
            raise ToyCrmError(401, "client authentication failed", code="invalid_client")
        with self.lock:
            token = f"access-{next(self.ids)}"
            self.tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "expires_in": 3600}

    def search(self, kind: str, since: datetime | None, stage: str | None, has: str | None) -> list[dict[str, Any]]:
        """Records changed at or after ``since`` (in ``stage``, with ``has`` set), oldest change first."""
        with self.lock:
            found = [
                r
                for r in self.records[kind].values()
                if (since is None or r["updated_at"] >= since)
                and (stage is None or r["properties"].get("stage") == stage)
                and (has is None or r["properties"].get(has))
            ]
            return wire(sorted(found, key=lambda r: (r["updated_at"], int(r["id"]))))

    def accounts(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        with self.lock:
            return wire(self.records["accounts"][a] for a in ids if a in self.records["accounts"])

    def read(self, kind: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """By ``{"ids"}`` or by ``{"property", "values"}``."""
        with self.lock:
            records = self.records[kind]
            if "ids" in body:
                return wire(records[i] for i in body["ids"] if i in records)
            wanted = set(body["values"])
            return wire(r for r in records.values() if r["properties"].get(body["property"]) in wanted)

    def create(self, kind: str, inputs: list[dict[str, Any]], fail_every: int | None) -> list[dict[str, Any]]:
        """One answer per input; ``fail_every``: every n-th input fails (an armed partial failure)."""
        answers = []
        with self.lock:
            for n, given in enumerate(inputs, start=1):
                problem = self._invalid(kind, given["properties"])
                if problem is None and fail_every and n % fail_every == 0:
                    problem = {"error": "validation failed (injected)"}
                if problem:
                    answers.append(problem)
                    continue
                record = {**copy.deepcopy(given), "id": str(next(self.ids)), "updated_at": self.now()}
                self.records[kind][record["id"]] = record
                answers.append({"id": record["id"]})
        return answers

    def update(self, kind: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answers = []
        with self.lock:
            for change in inputs:
                record = self.records[kind].get(change["id"])
                problem = self._invalid(kind, change["properties"], change["id"])
                if record is None or problem:
                    answers.append(problem or {"error": f"no {kind} {change['id']}"})
                    continue
                record["properties"].update(change["properties"])
                if kind == "tasks" and change["properties"].get("status") == "completed":
                    record["properties"]["completed_at"] = self.now().isoformat()
                record["updated_at"] = self.now()
                answers.append({"id": change["id"]})
        return answers

    def properties(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.schema[kind].values()))

    def create_property(self, kind: str, prop: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            if prop["name"] in self.schema[kind]:
                raise ToyCrmError(409, f"property {prop['name']} exists", code="conflict")
            created = _prop(
                prop["name"], prop["label"], prop["type"], prop.get("options", ()), prop.get("unique", False)
            )
            self.schema[kind][prop["name"]] = created
            return copy.deepcopy(created)

    def activities(self, deal_id: str | None, since: datetime | None) -> list[dict[str, Any]]:
        """A deal's activities (or all), changed at or after ``since``, oldest change first."""
        with self.lock:
            found = [
                r
                for r in self.records["activities"].values()
                if (deal_id is None or r["deal_id"] == deal_id) and (since is None or r["updated_at"] >= since)
            ]
            return wire(sorted(found, key=lambda r: (r["updated_at"], int(r["id"]))))

    def create_activity(self, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            if self.activity_faults and self.activity_faults.pop(0):
                raise ToyCrmError(400, "validation failed (injected)", code="invalid")
            record = {**body, "id": str(next(self.ids)), "updated_at": self.now()}
            self.records["activities"][record["id"]] = record
            return {"id": record["id"]}

    def change_activity(self, activity_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self.lock:
            record = self.records["activities"].get(activity_id)
            if record is None:
                raise ToyCrmError(404, f"no activity {activity_id}", code="not_found")
            record.update(body, updated_at=self.now())
            if body.get("done"):
                record["completed_at"] = self.now().isoformat()
            return {"id": record["id"]}

    def _invalid(self, kind: str, values: Mapping[str, Any], record_id: str | None = None) -> dict[str, Any] | None:
        schema = self.schema[kind]
        unknown = [name for name in values if name not in schema]
        if unknown:
            return {"error": f"unknown property {', '.join(map(repr, unknown))}", "unknown_properties": unknown}
        for name, value in values.items():
            if schema[name]["unique"] and value is not None:
                for other in self.records[kind].values():
                    if other["id"] != record_id and other["properties"].get(name) == value:
                        return {"error": f"{name} {value!r} is taken", "existing_id": other["id"]}
        return None


def _prop(
    name: str, label: str, type_: str, options: Iterable[str] = (), unique: bool = False, built_in: bool = False
) -> dict[str, Any]:
    """A property as ``GET /v1/{type}/properties`` lists it (``built_in``: ToyCRM's own, not a custom one)."""
    options = list(options)
    return {"name": name, "label": label, "type": type_, "options": options, "unique": unique, "built_in": built_in}


def wire(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as the API sends them: deep copies, timestamps as ISO-8601 text."""
    return [{**copy.deepcopy(r), "updated_at": r["updated_at"].isoformat()} for r in records]
