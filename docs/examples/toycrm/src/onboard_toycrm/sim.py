"""ToyCRM's API, simulated: a real HTTP server on 127.0.0.1 that the example connector talks to.

A real connector talks to its vendor over HTTP; this module plays the vendor, with what a connector
has to cope with: OAuth access tokens that expire (``POST /oauth/token``), cursor-paged searches,
offset-paged owners, batch writes that fail per record, a unique property, and errors carrying an
HTTP status, an error ``code`` and ``Retry-After``. Records travel as JSON with ISO-8601 timestamps
and string property values. :class:`ToyCrm` holds the state and the test controls (what people,
time and outages do to the CRM); ``with ToyCrm(...) as crm:`` serves it at ``crm.url``.

The API (every ``/v1`` call needs ``Authorization: Bearer <access token>``):

* ``POST /oauth/token`` ``{"grant_type": "client_credentials", "client_id", "client_secret"}``
* ``GET /v1/me``; ``GET /v1/owners?offset=&limit=`` (``{"results", "total"}``)
* ``GET /v1/{type}/search?modified_since=&stage=&has=&after=&limit=&include=accounts``
  (``{"results", "next", "accounts"}``, oldest change first)
* ``POST /v1/{type}/batch/read`` ``{"ids"}`` or ``{"property", "values"}``
* ``POST /v1/{type}/batch/create`` / ``batch/update`` ``{"inputs"}``: one answer per input,
  ``{"id"}`` or ``{"error"}`` (``existing_id`` when a unique value is taken, ``unknown_properties``
  naming the properties that do not exist)
* ``GET`` / ``POST /v1/{type}/properties``

Activities are ToyCRM's other kind of task, shaped like Pipedrive's: no custom fields, nothing to
search by but the deal, created and changed one at a time:

* ``GET /v1/deals/{id}/activities?start=&limit=`` and ``GET /v1/activities/recent?since=&after=&limit=``
  (``{"data", "more", "next"}``, oldest change first)
* ``POST /v1/activities`` (one activity: ``{"id"}``), ``POST /v1/activities/{id}`` (a change)
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

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


class ToyCrm:
    """One ToyCRM workspace: its records, its API (served by ``start``) and test controls."""

    def __init__(self, name: str, *, client_id: str = "onboard-sync", client_secret: str) -> None:
        self.name = name
        self.client_id, self._client_secret = client_id, client_secret
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._tokens: set[str] = set()
        self._records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in OBJECT_TYPES}
        self._schema: dict[str, dict[str, dict[str, Any]]] = {
            kind: {name: _prop(name, name.replace("_", " "), "string", built_in=True) for name in names}
            for kind, names in BUILT_IN.items()
        }
        self._owners: list[dict[str, Any]] = []
        self._faults: list[ToyCrmError] = []
        self._fail_every = 0
        self._activity_faults: list[bool] = []
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    # --- serving ---------------------------------------------------------------------------------------
    def __enter__(self) -> ToyCrm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> ToyCrm:
        """Serve the API on a free port of 127.0.0.1 (``url``) in a background thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="toycrm-sim")
        serve.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the simulator first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the API ---------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: Mapping[str, str], body: Any, token: str | None) -> Any:
        """One API request (the HTTP handler's job is only to decode and encode)."""
        self.requests.append(f"{method} {path}")
        if self._faults:
            raise self._faults.pop(0)
        if (method, path) == ("POST", "/oauth/token"):
            return self._grant(body)
        if token not in self._tokens:
            raise ToyCrmError(401, "the access token expired or is not valid", code="session_expired")
        if path == "/v1/me":
            return {"workspace": self.name, "email": "integration@toycrm.test"}
        if path == "/v1/owners":
            start, limit = int(query.get("offset", 0)), int(query.get("limit", 100))
            return {"results": copy.deepcopy(self._owners[start : start + limit]), "total": len(self._owners)}
        if path.startswith("/v1/activities") or path.endswith("/activities"):
            return self._activities(method, path, query, body)
        route = re.fullmatch(r"/v1/(deals|accounts|contacts|tasks)/(search|properties|batch/\w+)", path)
        if route is None:
            raise ToyCrmError(404, f"no route {method} {path}", code="not_found")
        kind, action = route.groups()
        if action == "search":
            return self._search(kind, query)
        if action == "properties":
            return {"results": self._properties(kind)} if method == "GET" else self._create_property(kind, body)
        if action == "batch/read":
            return {"results": self._read(kind, body)}
        if action == "batch/create":
            return {"results": self._create(kind, body["inputs"])}
        if action == "batch/update":
            return {"results": self._update(kind, body["inputs"])}
        raise ToyCrmError(404, f"no route {method} {path}", code="not_found")

    def _activities(self, method: str, path: str, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        start, limit = int(query.get("start") or query.get("after") or 0), int(query.get("limit", 100))
        with self._lock:
            records = self._records["activities"]
            of_deal = re.fullmatch(r"/v1/deals/(\w+)/activities", path)
            if of_deal or path == "/v1/activities/recent":
                since = datetime.fromisoformat(query["since"]) if query.get("since") else None
                found = sorted(
                    (
                        r
                        for r in records.values()
                        if (not of_deal or r["deal_id"] == of_deal.group(1)) and (not since or r["updated_at"] >= since)
                    ),
                    key=lambda r: (r["updated_at"], int(r["id"])),
                )
                page, more = found[start : start + limit], start + limit < len(found)
                return {"data": _wire(page), "more": more, "next": str(start + limit) if more else None}
            if method == "POST" and path == "/v1/activities":
                if self._activity_faults and self._activity_faults.pop(0):
                    raise ToyCrmError(400, "validation failed (injected)", code="invalid")
                record = {**body, "id": str(next(self._ids)), "updated_at": self.now()}
                records[record["id"]] = record
                return {"id": record["id"]}
            change = re.fullmatch(r"/v1/activities/(\w+)", path)
            if method == "POST" and change and change.group(1) in records:
                record = records[change.group(1)]
                record.update(body, updated_at=self.now())
                if body.get("done"):
                    record["completed_at"] = self.now().isoformat()
                return {"id": record["id"]}
        raise ToyCrmError(404, f"no activity route {method} {path}", code="not_found")

    def _grant(self, body: Mapping[str, Any]) -> dict[str, Any]:
        if body.get("grant_type") != "client_credentials":
            raise ToyCrmError(400, "unsupported grant_type", code="unsupported_grant_type")
        if (body.get("client_id"), body.get("client_secret")) != (self.client_id, self._client_secret):
            raise ToyCrmError(401, "client authentication failed", code="invalid_client")
        with self._lock:
            token = f"access-{next(self._ids)}"
            self._tokens.add(token)
        return {"access_token": token, "token_type": "bearer", "expires_in": 3600}

    def _search(self, kind: str, query: Mapping[str, str]) -> dict[str, Any]:
        since = datetime.fromisoformat(query["modified_since"]) if query.get("modified_since") else None
        stage, has = query.get("stage"), query.get("has")
        with self._lock:
            found = [
                r
                for r in self._records[kind].values()
                if (since is None or r["updated_at"] >= since)
                and (stage is None or r["properties"].get("stage") == stage)
                and (has is None or r["properties"].get(has))
            ]
            found.sort(key=lambda r: (r["updated_at"], int(r["id"])))
            start, limit = int(query.get("after") or 0), int(query.get("limit", 100))
            page = found[start : start + limit]
            wanted = sorted({a for r in page for a in r.get("account_ids", ())}) if query.get("include") else []
            accounts = [self._records["accounts"][a] for a in wanted if a in self._records["accounts"]]
            more = start + limit < len(found)
            return {"results": _wire(page), "next": str(start + limit) if more else None, "accounts": _wire(accounts)}

    def _read(self, kind: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            records = self._records[kind]
            if "ids" in body:
                return _wire(records[i] for i in body["ids"] if i in records)
            wanted = set(body["values"])
            return _wire(r for r in records.values() if r["properties"].get(body["property"]) in wanted)

    def _create(self, kind: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answers = []
        with self._lock:
            fail_every, self._fail_every = self._fail_every, 0
            for n, given in enumerate(inputs, start=1):
                problem = self._invalid(kind, given["properties"])
                if problem is None and fail_every and n % fail_every == 0:
                    problem = {"error": "validation failed (injected)"}
                if problem:
                    answers.append(problem)
                    continue
                record = {**copy.deepcopy(given), "id": str(next(self._ids)), "updated_at": self.now()}
                self._records[kind][record["id"]] = record
                answers.append({"id": record["id"]})
        return answers

    def _update(self, kind: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answers = []
        with self._lock:
            for change in inputs:
                record = self._records[kind].get(change["id"])
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

    def _properties(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._schema[kind].values()))

    def _create_property(self, kind: str, prop: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            if prop["name"] in self._schema[kind]:
                raise ToyCrmError(409, f"property {prop['name']} exists", code="conflict")
            created = _prop(
                prop["name"], prop["label"], prop["type"], prop.get("options", ()), prop.get("unique", False)
            )
            self._schema[kind][prop["name"]] = created
            return copy.deepcopy(created)

    def _invalid(self, kind: str, values: Mapping[str, Any], record_id: str | None = None) -> dict[str, Any] | None:
        schema = self._schema[kind]
        unknown = [name for name in values if name not in schema]
        if unknown:
            return {"error": f"unknown property {', '.join(map(repr, unknown))}", "unknown_properties": unknown}
        for name, value in values.items():
            if schema[name]["unique"] and value is not None:
                for other in self._records[kind].values():
                    if other["id"] != record_id and other["properties"].get(name) == value:
                        return {"error": f"{name} {value!r} is taken", "existing_id": other["id"]}
        return None

    # --- controls for tests: what people, time and outages do to the CRM -------------------------------
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

    def add(self, kind: str, properties: dict[str, Any], updated_at: datetime, **links: Any) -> str:
        record_id = str(next(self._ids))
        self._records[kind][record_id] = {"id": record_id, "updated_at": updated_at, "properties": properties, **links}
        return record_id

    def records(self, kind: str) -> list[dict[str, Any]]:
        return _wire(self._records[kind].values())

    def touch(self, kind: str, record_id: str, **properties: Any) -> None:
        """A person edits a record: its modification time moves to now."""
        with self._lock:
            record = self._records[kind][record_id]
            record["properties"].update(properties)
            record["updated_at"] = self.now()

    def expire_tokens(self) -> None:
        """Every access token expires (the next call answers 401)."""
        self._tokens.clear()

    def fail_next_create(self, every: int = 2) -> None:
        """The next batch create fails every ``every``-th record of its batch (and only those)."""
        self._fail_every = every

    def fail_activity_creates(self, *fails: bool) -> None:
        """The next activity creates fail or not, one flag each (``False, True``: the second fails)."""
        self._activity_faults.extend(fails)

    def fail_next(self, *errors: ToyCrmError) -> None:
        """The next requests fail with these errors, one each (a 429, a 500, a used-up quota …)."""
        self._faults.extend(errors)


def _handler(crm: ToyCrm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size) or b"{}")
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            status, headers = 200, {}
            try:
                answer = crm.handle(method, url.path, query, body, token)
            except ToyCrmError as exc:
                status, answer = exc.status, {"code": exc.code, "message": exc.message}
                headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
            data = json.dumps(answer).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read crm.requests
            pass

    return Handler


def _prop(
    name: str, label: str, type_: str, options: Iterable[str] = (), unique: bool = False, built_in: bool = False
) -> dict[str, Any]:
    """A property as ``GET /v1/{type}/properties`` lists it (``built_in``: ToyCRM's own, not a custom one)."""
    options = list(options)
    return {"name": name, "label": label, "type": type_, "options": options, "unique": unique, "built_in": built_in}


def _wire(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as the API sends them: deep copies, timestamps as ISO-8601 text."""
    return [{**copy.deepcopy(r), "updated_at": r["updated_at"].isoformat()} for r in records]
