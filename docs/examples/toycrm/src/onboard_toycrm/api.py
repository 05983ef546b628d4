"""ToyCRM: an in-memory CRM standing in for a vendor's API client in this example.

A real connector talks to its vendor over HTTP or through the vendor's SDK. This module plays that
part with the behaviour a connector has to cope with: sessions that expire, cursor-paged searches,
batch writes that fail per record, a unique property, and errors carrying an HTTP status, an error
code and ``Retry-After``. Records come back as plain dicts with ISO-8601 timestamps and string
property values, as from a JSON API. A workspace is found by name (``connect``), as a real client is
pointed at a base URL.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

WORKSPACES: dict[str, ToyCrm] = {}
OBJECT_TYPES = ("deals", "accounts", "contacts", "tasks")
BUILT_IN: dict[str, tuple[str, ...]] = {
    "deals": ("name", "stage", "amount", "close_date", "owner_id"),
    "accounts": ("name", "domain", "owner_id"),
    "contacts": ("name", "email"),
    "tasks": ("subject", "body", "due_at", "status", "priority", "owner_id", "completed_at"),
}


class ToyCrmError(Exception):
    """A failed request: ``status`` as HTTP would say it, ``code`` ToyCRM's own reason."""

    def __init__(self, status: int, message: str, *, code: str = "", retry_after: float | None = None) -> None:
        self.status, self.message, self.code, self.retry_after = status, message, code, retry_after
        super().__init__(f"HTTP {status} ({code}): {message}" if code else f"HTTP {status}: {message}")


def connect(workspace: str) -> ToyCrm:
    """The workspace called ``workspace`` (a 404 when there is none)."""
    try:
        return WORKSPACES[workspace]
    except KeyError:
        raise ToyCrmError(404, f"no workspace {workspace!r}", code="not_found") from None


class ToyCrm:
    """One ToyCRM workspace. API methods take a session from ``login``; the rest are test controls."""

    def __init__(self, name: str, *, api_key: str) -> None:
        self.name = name
        self._api_key = api_key
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._sessions: set[str] = set()
        self._records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in OBJECT_TYPES}
        self._schema: dict[str, dict[str, dict[str, Any]]] = {
            kind: {name: _prop(name, name.replace("_", " "), "string") for name in names}
            for kind, names in BUILT_IN.items()
        }
        self._owners: list[dict[str, Any]] = []
        self._faults: list[ToyCrmError] = []
        self._fail_every = 0
        WORKSPACES[name] = self

    # --- the API -------------------------------------------------------------------------------------
    def login(self, api_key: str) -> str:
        self._fault()
        if api_key != self._api_key:
            raise ToyCrmError(401, "invalid API key", code="invalid_credentials")
        with self._lock:
            session = f"session-{next(self._ids)}"
            self._sessions.add(session)
        return session

    def whoami(self, session: str) -> dict[str, Any]:
        self._check(session)
        return {"workspace": self.name, "email": "integration@toycrm.test"}

    def search(
        self,
        session: str,
        object_type: str,
        *,
        modified_since: str | None = None,
        equals: Mapping[str, str] | None = None,
        has: str | None = None,
        after: str | None = None,
        limit: int = 100,
        include_accounts: bool = False,
    ) -> dict[str, Any]:
        """Records changed at or after ``modified_since``, oldest change first, ``limit`` a page."""
        self._check(session)
        since = datetime.fromisoformat(modified_since) if modified_since else None
        with self._lock:
            found = [
                r
                for r in self._records[object_type].values()
                if (since is None or r["updated_at"] >= since)
                and all(r["properties"].get(k) == v for k, v in (equals or {}).items())
                and (has is None or r["properties"].get(has))
            ]
            found.sort(key=lambda r: (r["updated_at"], int(r["id"])))
            start = int(after or 0)
            page = found[start : start + limit]
            more = start + limit < len(found)
            account_ids = sorted({a for r in page for a in r.get("account_ids", ())}) if include_accounts else []
            accounts = [self._records["accounts"][a] for a in account_ids if a in self._records["accounts"]]
            return {
                "results": [_wire(r) for r in page],
                "next": str(start + limit) if more else None,
                "accounts": [_wire(a) for a in accounts],
            }

    def get(self, session: str, object_type: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Records by id; unknown ids are left out."""
        self._check(session)
        with self._lock:
            records = self._records[object_type]
            return [_wire(records[i]) for i in ids if i in records]

    def get_by(self, session: str, object_type: str, prop: str, values: Iterable[str]) -> list[dict[str, Any]]:
        """Records whose ``prop`` is one of ``values`` (read from the records, no search index lag)."""
        self._check(session)
        wanted = set(values)
        with self._lock:
            return [_wire(r) for r in self._records[object_type].values() if r["properties"].get(prop) in wanted]

    def list_owners(self, session: str) -> list[dict[str, Any]]:
        self._check(session)
        return copy.deepcopy(self._owners)

    def create(self, session: str, object_type: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create records; one answer per input: ``{"id"}``, or ``{"error"}`` (with ``existing_id`` when a
        unique property's value is taken)."""
        self._check(session)
        answers = []
        with self._lock:
            fail_every, self._fail_every = self._fail_every, 0
            for n, given in enumerate(inputs, start=1):
                problem = self._invalid(object_type, given["properties"])
                if problem is None and fail_every and n % fail_every == 0:
                    problem = {"error": "validation failed (injected)"}
                if problem:
                    answers.append(problem)
                    continue
                record = {**copy.deepcopy(given), "id": str(next(self._ids)), "updated_at": self.now()}
                self._records[object_type][record["id"]] = record
                answers.append({"id": record["id"]})
        return answers

    def update(self, session: str, object_type: str, changes: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Set properties (``None`` clears one); one answer per change: ``{"id"}`` or ``{"error"}``."""
        self._check(session)
        answers = []
        with self._lock:
            for record_id, values in changes:
                record = self._records[object_type].get(record_id)
                if record is None:
                    answers.append({"error": f"no {object_type} {record_id}"})
                    continue
                problem = self._invalid(object_type, values, record_id)
                if problem:
                    answers.append(problem)
                    continue
                record["properties"].update(values)
                record["updated_at"] = self.now()
                answers.append({"id": record_id})
        return answers

    def properties(self, session: str, object_type: str) -> list[dict[str, Any]]:
        self._check(session)
        with self._lock:
            return copy.deepcopy(list(self._schema[object_type].values()))

    def create_property(self, session: str, object_type: str, prop: dict[str, Any]) -> dict[str, Any]:
        self._check(session)
        with self._lock:
            if prop["name"] in self._schema[object_type]:
                raise ToyCrmError(409, f"property {prop['name']} exists", code="conflict")
            self._schema[object_type][prop["name"]] = _prop(
                prop["name"], prop["label"], prop["type"], prop.get("options", ()), prop.get("unique", False)
            )
            return copy.deepcopy(self._schema[object_type][prop["name"]])

    # --- controls for tests: what people, time and outages do to the CRM -----------------------------
    def now(self) -> datetime:
        return datetime.now(UTC)

    def seed(self, deals: int = 12) -> ToyCrm:
        """Two owners, one account and contact per deal, two won deals in three, changed days ago."""
        self._owners = [
            {"id": "o1", "email": "ada@toycrm.test", "name": "Ada", "active": True},
            {"id": "o2", "email": "bo@toycrm.test", "name": "Bo", "active": True},
        ]
        for n in range(1, deals + 1):
            owner = f"o{n % 2 + 1}"
            when = self.now() - timedelta(days=10, minutes=n)
            account = self.add("accounts", {"name": f"Customer {n}", "domain": f"c{n}.test", "owner_id": owner}, when)
            person = {"name": f"Contact {n}", "email": f"p{n}@c{n}.test"}
            contact = self.add("contacts", person, when, account_ids=[account])
            stage = "lost" if n % 3 == 0 else "won"
            props = {"name": f"Deal {n}", "stage": stage, "amount": str(5000 * n), "owner_id": owner}
            props["close_date"] = (when - timedelta(days=1)).isoformat()
            self.add("deals", props, when, account_ids=[account], contact_ids=[contact])
        return self

    def add(self, object_type: str, properties: dict[str, Any], updated_at: datetime, **links: Any) -> str:
        record_id = str(next(self._ids))
        record = {"id": record_id, "updated_at": updated_at, "properties": dict(properties), **links}
        self._records[object_type][record_id] = record
        return record_id

    def record(self, object_type: str, record_id: str) -> dict[str, Any]:
        return _wire(self._records[object_type][record_id])

    def records(self, object_type: str) -> list[dict[str, Any]]:
        return [_wire(r) for r in self._records[object_type].values()]

    def touch(self, object_type: str, record_id: str, **properties: Any) -> None:
        """A person edits a record: its modification time moves to now."""
        with self._lock:
            record = self._records[object_type][record_id]
            record["properties"].update(properties)
            record["updated_at"] = self.now()

    def expire_sessions(self) -> None:
        self._sessions.clear()

    def fail_next_create(self, every: int = 2) -> None:
        """The next ``create`` fails every ``every``-th record of its batch (and only those)."""
        self._fail_every = every

    def fail_next(self, *errors: ToyCrmError) -> None:
        """The next requests raise these errors, one each (a 429, a 500, a used-up quota …)."""
        self._faults.extend(errors)

    def close(self) -> None:
        WORKSPACES.pop(self.name, None)

    # --- inside ----------------------------------------------------------------------------------------
    def _fault(self) -> None:
        if self._faults:
            raise self._faults.pop(0)

    def _check(self, session: str) -> None:
        self._fault()
        if session not in self._sessions:
            raise ToyCrmError(401, "session expired", code="session_expired")

    def _invalid(
        self, object_type: str, values: Mapping[str, Any], record_id: str | None = None
    ) -> dict[str, Any] | None:
        schema = self._schema[object_type]
        for name, value in values.items():
            if name not in schema:
                return {"error": f"unknown property {name!r}"}
            if schema[name]["unique"] and value is not None:
                for other in self._records[object_type].values():
                    if other["id"] != record_id and other["properties"].get(name) == value:
                        return {"error": f"{name} {value!r} is taken", "existing_id": other["id"]}
        return None


def _prop(name: str, label: str, type_: str, options: Iterable[str] = (), unique: bool = False) -> dict[str, Any]:
    return {"name": name, "label": label, "type": type_, "options": list(options), "unique": unique}


def _wire(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the API sends it: a deep copy, the timestamp as ISO-8601 text."""
    out = copy.deepcopy(record)
    out["updated_at"] = record["updated_at"].isoformat()
    return out
