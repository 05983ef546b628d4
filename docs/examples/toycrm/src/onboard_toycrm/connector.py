"""The ToyCRM connector: a complete onboard-sync connector (the example of docs/writing-a-connector.md).

A deal source, task sink and field sink for ToyCRM (``api.py``, an in-memory stand-in for a vendor's
API client). Every request goes through ``self.call``, the core's gate: rate limit, retries,
accounting, plan-mode refusal. The connector only translates between ToyCRM and onboard-sync's records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import Field

from onboard_sync import (
    Account,
    ApiCaller,
    ApiError,
    AuthError,
    Capability,
    Connector,
    ConnectorSettings,
    Contact,
    Deal,
    FieldWrite,
    ObjectKind,
    Owner,
    Page,
    PropertySchema,
    PropertySpec,
    RateLimit,
    RateLimitExhausted,
    ReadOptions,
    SetupAction,
    Task,
    TaskPatch,
    TaskStatus,
    TaskWrite,
    WriteResult,
)
from onboard_toycrm import api

R = TypeVar("R")
OBJECT_TYPES = {
    ObjectKind.DEAL: "deals",
    ObjectKind.ACCOUNT: "accounts",
    ObjectKind.CONTACT: "contacts",
    ObjectKind.TASK: "tasks",
}


class ToyCrmSettings(ConnectorSettings):
    """``[connectors.NAME]`` with ``type = "toycrm"``. Secrets are named by variable, never held."""

    workspace: str = Field(description="The ToyCRM workspace (for a real vendor: its base URL or account).")
    api_key_env: str = Field("TOYCRM_API_KEY", description="Environment variable holding the API key.")
    task_key_property: str = Field("onboard_sync_key", description="Unique task property holding the task key.")
    page_size: int = Field(100, ge=1, le=100, description="Records per search page.")


class ToyCrmConnector(Connector):
    """ToyCRM deals, tasks and fields."""

    type_name: ClassVar[str] = "toycrm"
    version: ClassVar[str] = "0.1.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.DEAL_SOURCE, Capability.TASK_SINK, Capability.FIELD_SINK}
    )
    settings_model: ClassVar[type[ConnectorSettings]] = ToyCrmSettings
    max_read_batch: ClassVar[int] = 50
    max_write_batch: ClassVar[int] = 50
    default_rate_limit: ClassVar[RateLimit] = RateLimit(per_second=20.0, burst=20)
    read_concurrency: ClassVar[int] = 2
    write_concurrency: ClassVar[int] = 2
    """Up to two calls in flight: the session they share is guarded by a lock (``_session``)."""

    def __init__(self, instance: str, settings: ConnectorSettings, secrets: Mapping[str, str], call: ApiCaller) -> None:
        super().__init__(instance, settings, secrets, call)
        assert isinstance(settings, ToyCrmSettings)
        self.toy = settings
        self._token: str | None = None
        self._lock = threading.Lock()

    # --- every request goes through the gate ---------------------------------------------------------
    def _request(self, endpoint: str, send: Callable[[api.ToyCrm, str], R], *, write: bool = False) -> R:
        """One ToyCRM request through the core's gate, with a session (renewed once if it expired)."""

        def attempt() -> R:
            client = api.connect(self.toy.workspace)
            try:
                return send(client, self._session(client))
            except api.ToyCrmError as exc:
                if exc.code != "session_expired":
                    raise
            return send(client, self._session(client, renew=True))

        return self.call(endpoint, attempt, write=write)

    def _session(self, client: api.ToyCrm, *, renew: bool = False) -> str:
        with self._lock:  # calls run in several threads (read_concurrency, write_concurrency)
            if self._token is None or renew:
                self._token = client.login(self._api_key())
            return self._token

    def _api_key(self) -> str:
        key = self.secrets.get(self.toy.api_key_env)
        if not key:
            raise AuthError(
                f"environment variable {self.toy.api_key_env} (the ToyCRM API key) is not set",
                where=f"connectors.{self.instance}.api_key_env",
            )
        return key

    def classify_error(self, exc: BaseException) -> ApiError | None:
        """What a ToyCRM failure means to the gate; ``None``: not an API error (a bug stays a bug)."""
        if not isinstance(exc, api.ToyCrmError):
            return None
        message = exc.message
        key = self.secrets.get(self.toy.api_key_env)
        if key:
            message = message.replace(key, "***")  # vendors sometimes echo what they were sent
        if exc.code == "quota_exhausted":
            return RateLimitExhausted(message, status=exc.status)
        retryable = exc.status == 429 or exc.status >= 500
        return ApiError(message, status=exc.status, retryable=retryable, retry_after=exc.retry_after)

    def check_auth(self) -> str:
        me = self._request("users.me", lambda c, s: c.whoami(s))
        return f"ToyCRM workspace {me['workspace']} as {me['email']}"

    # --- reading (DEAL_SOURCE) -----------------------------------------------------------------------
    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        """Backfill (``since`` None): won deals only. Incremental: every deal changed at or after ``since``."""
        answer = self._request(
            "deals.search",
            lambda c, s: c.search(
                s,
                "deals",
                modified_since=since.isoformat() if since else None,
                equals=None if since else {"stage": "won"},
                after=page_token,
                limit=self.toy.page_size,
                include_accounts=True,
            ),
        )
        return Page(
            [self._deal(d, options) for d in answer["results"]],
            next_token=answer["next"],
            accounts=[self._account(a, options) for a in answer["accounts"]],
        )

    def read_deals_by_id(self, ids: Sequence[str], options: ReadOptions) -> list[Deal]:
        found = self._request("deals.read", lambda c, s: c.get(s, "deals", ids))
        return [self._deal(d, options) for d in found]

    def read_accounts(self, ids: Sequence[str], options: ReadOptions) -> list[Account]:
        found = self._request("accounts.read", lambda c, s: c.get(s, "accounts", ids))
        return [self._account(a, options) for a in found]

    def read_contacts(self, ids: Sequence[str], options: ReadOptions) -> list[Contact]:
        found = self._request("contacts.read", lambda c, s: c.get(s, "contacts", ids))
        return [self._contact(p, options) for p in found]

    def read_owners(self) -> list[Owner]:
        found = self._request("owners.list", lambda c, s: c.list_owners(s))
        return [Owner(self.instance, o["id"], o["email"], o["name"], o["active"]) for o in found]

    # --- tasks (TASK_SINK) ---------------------------------------------------------------------------
    def read_tasks(self, *, since: datetime | None, page_token: str | None) -> Page[Task]:
        """Tasks carrying a key (onboard-sync's own) changed at or after ``since``."""
        answer = self._request(
            "tasks.search",
            lambda c, s: c.search(
                s,
                "tasks",
                modified_since=since.isoformat() if since else None,
                has=self.toy.task_key_property,
                after=page_token,
                limit=self.toy.page_size,
            ),
        )
        return Page([self._task(t) for t in answer["results"]], next_token=answer["next"])

    def find_tasks(self, keys: Sequence[str]) -> list[Task]:
        """Tasks by key, read from the records themselves: a task is found the moment it was created."""
        found = self._request("tasks.by_key", lambda c, s: c.get_by(s, "tasks", self.toy.task_key_property, keys))
        return [self._task(t) for t in found]

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        """One batch create. A key that exists (an interrupted run created the task) is a success naming
        the existing task: never a second task."""
        if not batch:
            return []
        inputs = [
            {
                "properties": {
                    self.toy.task_key_property: w.key,
                    "subject": w.subject,
                    "body": w.body,
                    "due_at": w.due_at.isoformat(),
                    "status": w.status.value,
                    "priority": w.priority,
                    "owner_id": w.owner_id,
                },
                "deal_id": w.deal_id,
                "account_id": w.account_id,
                "contact_ids": list(w.contact_ids),
            }
            for w in batch
        ]
        answers = self._request("tasks.create", lambda c, s: c.create(s, "tasks", inputs), write=True)
        # a taken key names the task an earlier run created: report that task as this create's result
        answers = [{"id": a["existing_id"]} if a.get("existing_id") else a for a in answers]
        return [_result(w.key, a) for w, a in zip(batch, answers, strict=True)]

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        changes = [(p.remote_id, {name: _text(value) for name, value in p.changes.items()}) for p in batch]
        answers = self._request("tasks.update", lambda c, s: c.update(s, "tasks", changes), write=True)
        return [_result(p.key, a) for p, a in zip(batch, answers, strict=True)]

    # --- fields (FIELD_SINK) -------------------------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        object_type = OBJECT_TYPES[kind]
        changes = [(w.remote_id, dict(w.values)) for w in batch]
        answers = self._request(f"{object_type}.update", lambda c, s: c.update(s, object_type, changes), write=True)
        return [_result(w.key, a) for w, a in zip(batch, answers, strict=True)]

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        object_type = OBJECT_TYPES[kind]
        found = self._request(f"{object_type}.properties", lambda c, s: c.properties(s, object_type))
        return {
            p["name"]: PropertySchema(p["name"], p["label"], p["type"], tuple(p["options"]), p["unique"]) for p in found
        }

    def required_properties(self) -> list[PropertySpec]:
        """The unique task property that holds onboard-sync's idempotency key."""
        name = self.toy.task_key_property
        return [PropertySpec(ObjectKind.TASK, name, "onboard-sync key", "string", unique=True)]

    def ensure_properties(self, specs: Sequence[PropertySpec], *, apply: bool) -> list[SetupAction]:
        """Create the missing properties; with ``apply=False`` only say what is missing."""
        have: dict[ObjectKind, dict[str, PropertySchema]] = {}
        actions = []
        for spec in specs:
            if spec.kind not in have:
                have[spec.kind] = self.describe(spec.kind)
            what = f"{spec.kind.value} property {spec.name}"
            if spec.name in have[spec.kind]:
                actions.append(SetupAction(f"{what} exists", done=True))
            elif not apply:
                actions.append(SetupAction(f"would create {what}", done=False, pending=True))
            else:
                body = {
                    "name": spec.name,
                    "label": spec.label,
                    "type": spec.type,
                    "options": list(spec.options),
                    "unique": spec.unique,
                }
                object_type = OBJECT_TYPES[spec.kind]
                self._request(
                    f"{object_type}.create_property",
                    lambda c, s, t=object_type, b=body: c.create_property(s, t, b),
                    write=True,
                )
                actions.append(SetupAction(f"created {what}", done=True, changed=True))
        return actions

    # --- ToyCRM records to onboard-sync records ------------------------------------------------------
    def _deal(self, raw: dict[str, Any], options: ReadOptions) -> Deal:
        p = raw["properties"]
        return Deal(
            source=self.instance,
            id=raw["id"],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            name=p["name"],
            stage=p["stage"],
            is_won=p["stage"] == "won",
            is_closed=p["stage"] in ("won", "lost"),
            amount=float(p["amount"]) if p.get("amount") else None,
            close_date=_when(p.get("close_date")),
            owner_id=p.get("owner_id"),
            account_ids=tuple(raw.get("account_ids", ())),
            contact_ids=tuple(raw.get("contact_ids", ())),
            properties={name: p.get(name) for name in options.for_kind(ObjectKind.DEAL)},
        )

    def _account(self, raw: dict[str, Any], options: ReadOptions) -> Account:
        p = raw["properties"]
        return Account(
            source=self.instance,
            id=raw["id"],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            name=p["name"],
            domain=p.get("domain"),
            owner_id=p.get("owner_id"),
            properties={name: p.get(name) for name in options.for_kind(ObjectKind.ACCOUNT)},
        )

    def _contact(self, raw: dict[str, Any], options: ReadOptions) -> Contact:
        p = raw["properties"]
        return Contact(
            source=self.instance,
            id=raw["id"],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            email=p.get("email"),
            name=p["name"],
            account_ids=tuple(raw.get("account_ids", ())),
            properties={name: p.get(name) for name in options.for_kind(ObjectKind.CONTACT)},
        )

    def _task(self, raw: dict[str, Any]) -> Task:
        p = raw["properties"]
        return Task(
            source=self.instance,
            id=raw["id"],
            updated_at=datetime.fromisoformat(raw["updated_at"]),
            subject=p["subject"],
            status=TaskStatus(p["status"]),
            key=p.get(self.toy.task_key_property),
            due_at=_when(p.get("due_at")),
            owner_id=p.get("owner_id"),
            completed_at=_when(p.get("completed_at")),
            deal_id=raw.get("deal_id"),
            account_id=raw.get("account_id"),
        )


def _result(key: str, answer: dict[str, Any]) -> WriteResult:
    """One record's outcome of a batch write, as the core wants it."""
    if "id" in answer:
        return WriteResult(key, ok=True, remote_id=answer["id"])
    return WriteResult(key, ok=False, error=answer["error"])


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text(value: object) -> str | None:
    """A TaskPatch value as ToyCRM stores it: text (a TaskStatus is a str enum), ``None`` clears."""
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


__all__ = ["ToyCrmConnector", "ToyCrmSettings"]
