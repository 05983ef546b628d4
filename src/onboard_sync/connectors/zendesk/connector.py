"""The Zendesk connector: tickets and organizations as health signals, organization fields as a sink.

Capabilities: ``TICKET_SOURCE`` (incremental cursor export of tickets with sideloaded ticket
metrics; time-based export of organizations for linking; cursor export of users) and
``FIELD_SINK`` (onboarding phase/health into organization fields with ``update_many``, when
the mapping's ``[account.write]`` maps them). Every request goes through the core's gate (``self.call``): token
bucket, retries honouring ``Retry-After`` on 429, accounting. The incremental exports have
their own limit of 10 requests a minute, which :class:`ExportBudget` keeps to before a
request goes out (a 429 is still ridden out by the gate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from onboard_sync.connector import (
    ApiCaller,
    Capability,
    Connector,
    ConnectorSettings,
    FieldWrite,
    Page,
    PropertySchema,
    PropertySpec,
    RateLimit,
    SetupAction,
    WriteResult,
)
from onboard_sync.connectors.zendesk import mapping
from onboard_sync.connectors.zendesk.errors import classify
from onboard_sync.connectors.zendesk.settings import ZendeskSettings, starter_table
from onboard_sync.errors import ApiError, AuthError
from onboard_sync.records import Account, ObjectKind, Ticket

if TYPE_CHECKING:
    from onboard_sync.connectors.zendesk.client import ZendeskHTTP

EXPORTS_PER_MINUTE = 10
_FIELD_TYPES = {"decimal": "number", "integer": "number", "date": "date", "checkbox": "bool"}
MIN_AGE = timedelta(seconds=61)  # start_time must be at least a minute old


class ExportBudget:
    """At most ``limit`` export requests in any 60 s: waits for a slot instead of earning a 429."""

    def __init__(self, limit: int = EXPORTS_PER_MINUTE, sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit = limit
        self.sleep = sleep
        self.sent: list[float] = []
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            self.sent = [t for t in self.sent if now - t < 60.0]
            if len(self.sent) >= self.limit:
                delay = 60.0 - (now - self.sent[0])
                if delay > 0:
                    self.sleep(delay)
                self.sent.pop(0)
            self.sent.append(time.monotonic())


class ZendeskConnector(Connector):
    """Zendesk Support on httpx. See docs/connectors/zendesk.md."""

    type_name: ClassVar[str] = "zendesk"
    version: ClassVar[str] = "1.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.TICKET_SOURCE, Capability.FIELD_SINK})
    webhook_scheme: ClassVar[str | None] = "zendesk"
    """Webhooks are signed with the webhook's signing secret (``webhook_secret_env``): HMAC over timestamp + body."""
    settings_model: ClassVar[type[ConnectorSettings]] = ZendeskSettings
    max_write_batch: ClassVar[int] = 100
    max_read_batch: ClassVar[int] = 100
    default_rate_limit: ClassVar[RateLimit] = RateLimit(per_second=3.0, burst=10)
    """Team plan: 200 requests a minute; raise ``requests_per_second`` on bigger plans (700/min enterprise)."""

    def __init__(self, instance: str, settings: ConnectorSettings, secrets: Any, call: ApiCaller) -> None:
        super().__init__(instance, settings, secrets, call)
        assert isinstance(settings, ZendeskSettings)
        self.zs: ZendeskSettings = settings
        self._http: ZendeskHTTP | None = None
        self.exports = ExportBudget()

    @property
    def http(self) -> ZendeskHTTP:
        if self._http is None:
            from onboard_sync.connectors.zendesk.client import ZendeskHTTP  # httpx loads with the first call

            self._http = ZendeskHTTP(self.zs, self.secrets, self.instance)
        return self._http

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return starter_table(instance)

    @classmethod
    def webhook_secret_env(cls, settings: ConnectorSettings) -> str | None:
        """The webhook's signing secret (Admin Center → Webhooks → Reveal secret)."""
        return settings.webhook_secret_env if isinstance(settings, ZendeskSettings) else None

    # --- the core's questions ------------------------------------------------------------------
    def classify_error(self, exc: BaseException) -> ApiError | None:
        return classify(exc, self._http.secret_values() if self._http else ())

    def check_auth(self) -> str:
        me = self.call("users.me", lambda: self.http.request("GET", "/api/v2/users/me.json"))
        user = me.get("user") or {}
        if not user.get("id") or user.get("role") == "anonymous":
            raise AuthError("Zendesk did not accept the credentials", where=f"connectors.{self.instance}")
        return f"Zendesk {self.zs.api_root} as {user.get('email') or user.get('name')} ({self.http.mode})"

    def _get(self, endpoint: str, path: str, params: dict[str, Any], *, export: bool = False) -> Any:
        def run() -> Any:
            if export:
                self.exports.wait()
            return self.http.request("GET", path, params=params)

        return self.call(endpoint, run)

    def _start_time(self, since: datetime | None) -> int:
        latest = datetime.now(UTC) - MIN_AGE
        start = since if since is not None else latest - timedelta(days=self.zs.backfill_days)
        return int(min(start, latest).timestamp())

    # --- tickets ---------------------------------------------------------------------------------
    def read_tickets(self, *, since: datetime | None, page_token: str | None) -> Page[Ticket]:
        """Cursor export: ``start_time`` on the first page, then ``cursor``, until ``end_of_stream``."""
        params: dict[str, Any] = {"per_page": self.zs.per_page, "include": "metric_sets"}
        if page_token:
            params["cursor"] = page_token
        else:
            params["start_time"] = self._start_time(since)
        body = self._get("tickets.export", "/api/v2/incremental/tickets/cursor.json", params, export=True)
        metrics = {m.get("ticket_id"): m for m in body.get("metric_sets") or ()}
        tickets = [mapping.to_ticket(self.instance, t, metrics.get(t.get("id"))) for t in body.get("tickets") or ()]
        done = body.get("end_of_stream", True) or not body.get("after_cursor")
        return Page(tickets, None if done else body["after_cursor"])

    def read_ticket_metrics(self, page_token: str | None = None) -> Page[dict[str, Any]]:
        """Ticket metrics (reply and resolution times, ``solved_at``) with cursor pagination."""
        params: dict[str, Any] = {"page[size]": 100}
        if page_token:
            params["page[after]"] = page_token
        body = self._get("ticket_metrics.list", "/api/v2/ticket_metrics.json", params)
        meta = body.get("meta") or {}
        return Page(list(body.get("ticket_metrics") or ()), meta.get("after_cursor") if meta.get("has_more") else None)

    # --- organizations and users -----------------------------------------------------------------
    def read_ticket_accounts(self, *, since: datetime | None, page_token: str | None) -> Page[Account]:
        """Time-based organization export: the next page starts at ``end_time`` (inclusive; the core
        deduplicates); stops at ``end_of_stream``."""
        start = int(page_token) if page_token else self._start_time(since)
        params = {"start_time": start, "per_page": self.zs.per_page}
        body = self._get("organizations.export", "/api/v2/incremental/organizations.json", params, export=True)
        orgs = [mapping.to_account(self.instance, o) for o in body.get("organizations") or ()]
        end = body.get("end_time")
        done = body.get("end_of_stream", True) or end is None or int(end) <= start
        return Page(orgs, None if done else str(end))

    def read_users(self, *, since: datetime | None, page_token: str | None) -> Page[dict[str, Any]]:
        """Cursor export of users (``organization_id``, ``email``, ``role``) as Zendesk sends them."""
        params: dict[str, Any] = {"per_page": self.zs.per_page}
        if page_token:
            params["cursor"] = page_token
        else:
            params["start_time"] = self._start_time(since)
        body = self._get("users.export", "/api/v2/incremental/users/cursor.json", params, export=True)
        done = body.get("end_of_stream", True) or not body.get("after_cursor")
        return Page(list(body.get("users") or ()), None if done else body["after_cursor"])

    # --- organization fields (FIELD_SINK) --------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        """``organization_fields`` of up to 100 organizations with one ``update_many`` (a job)."""
        if kind is not ObjectKind.ACCOUNT:
            raise ValueError("Zendesk only takes organization fields (ObjectKind.ACCOUNT)")
        if not batch:
            return []
        body = {"organizations": [{"id": int(w.remote_id), "organization_fields": dict(w.values)} for w in batch]}
        job = self.call(
            "organizations.update_many",
            lambda: self.http.request("PUT", "/api/v2/organizations/update_many.json", json=body),
            write=True,
        )["job_status"]
        results = self._wait_job(job)
        by_id = {str(r.get("id")): r for r in results}
        out = []
        for w in batch:
            r = by_id.get(w.remote_id)
            ok = bool(r and r.get("success", r.get("status") == "Updated"))
            out.append(WriteResult(w.key, ok, w.remote_id, None if ok else str((r or {}).get("error") or "no result")))
        return out

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        """Organization fields by key (``validate --remote``); Zendesk has no other writable kind here."""
        if kind is not ObjectKind.ACCOUNT:
            return {}
        body = self._get("organization_fields.list", "/api/v2/organization_fields.json", {})
        return {
            str(f["key"]): PropertySchema(
                name=str(f["key"]),
                label=str(f.get("title") or f["key"]),
                type=_FIELD_TYPES.get(str(f.get("type")), "string"),
            )
            for f in body.get("organization_fields") or ()
        }

    def ensure_properties(self, specs: Sequence[PropertySpec], *, apply: bool) -> list[SetupAction]:
        """Create the missing organization fields (text, or decimal for numbers) for ``[account.write]``."""
        wanted = [s for s in specs if s.kind is ObjectKind.ACCOUNT]
        if not wanted:
            return []
        existing = self.describe(ObjectKind.ACCOUNT)
        actions = []
        for spec in wanted:
            if spec.name in existing:
                actions.append(SetupAction(f"organization field {spec.name} exists", done=True))
                continue
            kind = "decimal" if spec.type == "number" else "text"
            text = f"organization field {spec.name} ({kind})"
            if apply:
                body = {"organization_field": {"key": spec.name, "type": kind, "title": spec.label}}
                self.call(
                    "organization_fields.create",
                    lambda b=body: self.http.request("POST", "/api/v2/organization_fields.json", json=b),
                    write=True,
                )
                actions.append(SetupAction(f"created {text}", done=True, changed=True))
            else:
                actions.append(SetupAction(f"would create {text}", done=False, pending=True))
        return actions

    def _wait_job(self, job: dict[str, Any], attempts: int = 20) -> list[dict[str, Any]]:
        for attempt in range(attempts):
            if job.get("status") in ("completed", "failed"):
                return list(job.get("results") or ())
            if attempt:
                time.sleep(min(2.0, 0.1 * attempt))
            path = f"/api/v2/job_statuses/{job['id']}.json"
            job = self.call("job_statuses.show", lambda p=path: self.http.request("GET", p))["job_status"]
        raise ApiError(f"Zendesk job {job.get('id')} did not finish", status=0, retryable=True)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


__all__ = ["ExportBudget", "ZendeskConnector"]
