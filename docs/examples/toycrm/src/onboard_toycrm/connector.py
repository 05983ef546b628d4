"""The ToyCRM connector on onboard-sync's toolkit (the example of docs/writing-a-connector.md): deals,
tasks and fields over ToyCRM's REST API (``sim.py`` simulates it). ``RestConnector`` sends every request
through the core's gate and renews the OAuth token on a 401; this module says where ToyCRM's endpoints
are and what they answer, ``convert.py`` turns its JSON into records and back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from onboard_sync import (
    Account,
    Capability,
    Contact,
    Deal,
    FieldWrite,
    ObjectKind,
    Owner,
    Page,
    PropertySchema,
    PropertySpec,
    RateLimit,
    ReadOptions,
    SetupAction,
    Task,
    TaskPatch,
    TaskWrite,
    WriteResult,
)
from onboard_sync.toolkit import (
    CursorPaginator,
    HttpError,
    OAuth2Auth,
    OffsetPaginator,
    RestConnector,
    ensure_properties,
    patch_text,
    record,
    results_in_order,
)
from onboard_toycrm import convert
from onboard_toycrm.settings import ToyCrmSettings

SEARCH = CursorPaginator(cursor_path="next", cursor_param="after")  # {"next": "5"} → ?after=5
OWNERS = OffsetPaginator(limit=100, total_path="total")  # ?offset=0&limit=100, … until "total" are read


class ToyCrmConnector(RestConnector):
    """ToyCRM deals, tasks and fields."""

    type_name = "toycrm"
    version = "0.2.0"  # what `onboard-sync connectors` shows
    capabilities = frozenset({Capability.DEAL_SOURCE, Capability.TASK_SINK, Capability.FIELD_SINK})
    settings_model = ToyCrmSettings
    settings: ToyCrmSettings  # what the runtime hands over: config.toml's table, validated by settings_model
    max_read_batch = max_write_batch = 50
    default_rate_limit = RateLimit(per_second=20.0, burst=20)
    read_concurrency = write_concurrency = 2  # the toolkit's HTTP client and OAuth token are thread-safe

    def authenticator(self) -> OAuth2Auth:
        s, where = self.settings, f"connectors.{self.instance}"
        return OAuth2Auth("/oauth/token", s.client_id, s.client_secret_env, self.secrets, where)

    def quota_exhausted(self, error: HttpError) -> bool:
        return error.status == 403 and "quota_exhausted" in error.body  # daily quota: stop; the next run resumes

    def check_auth(self) -> str:
        me = self.rest.request("users.me", "GET", "/v1/me")
        return f"ToyCRM workspace {me['workspace']} as {me['email']}"

    # --- reading (DEAL_SOURCE) -------------------------------------------------------------------------
    def read_deals(self, *, since: datetime | None, page_token: str | None, options: ReadOptions) -> Page[Deal]:
        """Backfill (``since`` None): won deals only. Incremental: every deal changed at or after ``since``."""
        params = {"limit": self.settings.page_size, "include": "accounts"}
        params |= {"modified_since": since.isoformat()} if since else {"stage": "won"}
        page = self.rest.page("deals.search", "/v1/deals/search", SEARCH, page_token, params=params)
        deals = [convert.to_deal(self.instance, d, options) for d in page.records]
        accounts = [convert.to_account(self.instance, a, options) for a in page.body["accounts"]]
        return Page(deals, page.next_token, accounts)

    def read_deals_by_id(self, ids: Sequence[str], options: ReadOptions) -> list[Deal]:
        return [convert.to_deal(self.instance, d, options) for d in self._read("deals", {"ids": ids})]

    def read_accounts(self, ids: Sequence[str], options: ReadOptions) -> list[Account]:
        return [convert.to_account(self.instance, a, options) for a in self._read("accounts", {"ids": ids})]

    def read_contacts(self, ids: Sequence[str], options: ReadOptions) -> list[Contact]:
        return [convert.to_contact(self.instance, c, options) for c in self._read("contacts", {"ids": ids})]

    def read_owners(self) -> list[Owner]:
        owners = self.rest.records("owners.list", "/v1/owners", OWNERS)
        return [record(Owner, o, source=self.instance) for o in owners]

    # --- tasks (TASK_SINK) -----------------------------------------------------------------------------
    def read_tasks(self, *, since: datetime | None, page_token: str | None) -> Page[Task]:
        """Tasks carrying a key (onboard-sync's own) changed at or after ``since``."""
        key = self.settings.task_key_property
        params = {"limit": self.settings.page_size, "has": key}
        params |= {"modified_since": since.isoformat()} if since else {}
        page = self.rest.page("tasks.search", "/v1/tasks/search", SEARCH, page_token, params=params)
        return Page([convert.to_task(self.instance, t, key) for t in page.records], page.next_token)

    def find_tasks(self, keys: Sequence[str], deal_ids: Mapping[str, str]) -> list[Task]:
        """By the unique key property, read from the records (no index lag): ``deal_ids`` not needed."""
        key = self.settings.task_key_property
        return [convert.to_task(self.instance, t, key) for t in self._read("tasks", {"property": key, "values": keys})]

    def create_tasks(self, batch: Sequence[TaskWrite]) -> list[WriteResult]:
        """One batch create. A key that exists (an interrupted run made the task) names that task."""
        inputs = [convert.task_input(w, self.settings.task_key_property) for w in batch]
        answers = self._write("tasks.create", "tasks/batch/create", inputs)
        answers = [{"id": a["existing_id"]} if "existing_id" in a else a for a in answers]
        return results_in_order([w.key for w in batch], answers)

    def update_tasks(self, batch: Sequence[TaskPatch]) -> list[WriteResult]:
        inputs = [{"id": p.remote_id, "properties": patch_text(p.changes)} for p in batch]
        return results_in_order([p.key for p in batch], self._write("tasks.update", "tasks/batch/update", inputs))

    # --- fields and setup (FIELD_SINK) -----------------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        inputs = [{"id": w.remote_id, "properties": w.values} for w in batch]
        answers = self._write(f"{kind}s.update", f"{kind}s/batch/update", inputs)
        return results_in_order([w.key for w in batch], answers, unknown=lambda a: a.get("unknown_properties", ()))

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        found = self.rest.request(f"{kind}s.properties", "GET", f"/v1/{kind}s/properties")
        return {p["name"]: record(PropertySchema, p) for p in found["results"]}

    def required_properties(self) -> list[PropertySpec]:
        """The unique task property that holds onboard-sync's idempotency key."""
        key = self.settings.task_key_property
        return [PropertySpec(ObjectKind.TASK, key, "onboard-sync key", "string", unique=True)]

    def ensure_properties(self, specs: Sequence[PropertySpec], *, apply: bool) -> list[SetupAction]:
        """Create the missing properties; with ``apply=False`` only say what is missing."""
        return ensure_properties(specs, self.describe, self._create_property, apply=apply)

    def _create_property(self, spec: PropertySpec) -> None:
        path = f"/v1/{spec.kind}s/properties"  # the body: name, label, type, options, unique
        self.rest.request(f"{spec.kind}s.create_property", "POST", path, json=asdict(spec), write=True)

    # --- ToyCRM's batch endpoints ------------------------------------------------------------------------
    def _read(self, kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        return self.rest.request(f"{kind}.read", "POST", f"/v1/{kind}/batch/read", json=body)["results"]

    def _write(self, endpoint: str, path: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.rest.request(endpoint, "POST", f"/v1/{path}", json={"inputs": inputs}, write=True)["results"]
