"""The Zendesk connector: tickets and organizations as health signals, organization fields as a sink.

Capabilities: ``TICKET_SOURCE`` (incremental cursor export of tickets with sideloaded ticket
metrics; time-based export of organizations for linking; cursor export of users) and
``FIELD_SINK`` (onboarding phase/health into organization fields with ``update_many``, when
the mapping's ``[account.write]`` maps them). Built on the connector toolkit
(:class:`onboard_sync.toolkit.RestConnector`): every request, the OAuth token request included,
goes through the core's gate; the incremental exports' own limit (10 a minute, which Zendesk also
counts in the account's limit) is the named limit ``export``; an ``update_many`` job is polled on
the gate's clock, at most a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, ClassVar

from onboard_sync.connector import (
    Capability,
    ConnectorSettings,
    FieldWrite,
    Page,
    PropertySchema,
    PropertySpec,
    RateLimit,
    SetupAction,
    WriteResult,
)
from onboard_sync.connectors.zendesk import convert
from onboard_sync.connectors.zendesk.settings import ZendeskSettings, starter_table
from onboard_sync.errors import AuthError
from onboard_sync.records import Account, ObjectKind, Ticket
from onboard_sync.toolkit import (
    Auth,
    BasicAuth,
    BearerTokenAuth,
    CursorPaginator,
    OAuth2Auth,
    RestConnector,
    ensure_properties,
    poll,
    results_by_id,
)

EXPORTS_PER_MINUTE = 10
_FIELD_TYPES = {"decimal": "number", "integer": "number", "date": "date", "checkbox": "bool"}
MIN_AGE = timedelta(seconds=61)  # start_time must be at least a minute old
CURSOR_EXPORT = CursorPaginator("after_cursor", "cursor", end_path="end_of_stream", replaces_first=("start_time",))
TIME_EXPORT = CursorPaginator("end_time", "start_time", end_path="end_of_stream")
"""The next page starts at ``end_time`` (inclusive; the core deduplicates)."""
METRICS = CursorPaginator("meta.after_cursor", "page[after]", more_path="meta.has_more")


class ZendeskConnector(RestConnector):
    """Zendesk Support over HTTP. See docs/connectors/zendesk.md."""

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
    retryable_statuses: ClassVar[frozenset[int]] = frozenset({409, 429})
    """409: a conflicting operation is in progress (and every 5xx)."""

    @property
    def zs(self) -> ZendeskSettings:
        assert isinstance(self.settings, ZendeskSettings)
        return self.settings

    @classmethod
    def starter_config(cls, instance: str) -> str | None:
        return starter_table(instance)

    @classmethod
    def default_mapping(cls) -> str | None:
        """This package's ``default_mapping.toml`` (what ``init`` copies to ``mappings/``)."""
        return resources.files(__package__).joinpath("default_mapping.toml").read_text(encoding="utf-8")

    @classmethod
    def webhook_secret_env(cls, settings: ConnectorSettings) -> str | None:
        """The webhook's signing secret (Admin Center → Webhooks → Reveal secret)."""
        return settings.webhook_secret_env if isinstance(settings, ZendeskSettings) else None

    # --- toolkit declarations ---------------------------------------------------------------------
    def base_url(self) -> str:
        return self.zs.api_root

    def request_timeout(self) -> float:
        return self.zs.timeout_seconds

    def authenticator(self) -> Auth:
        """An OAuth access token; else an OAuth client (refresh or client-credentials grant at
        ``/oauth/tokens``); else the legacy API token (``email/token``)."""
        s, where = self.zs, f"connectors.{self.instance}"
        if self.secrets.get(s.oauth_token_env):
            return BearerTokenAuth(self.secrets, s.oauth_token_env, where)
        if s.client_id:
            return OAuth2Auth(
                "/oauth/tokens", s.client_id, s.client_secret_env, self.secrets, where, s.refresh_token_env, s.scope
            )
        if s.email and self.secrets.get(s.token_env):
            return BasicAuth(f"{s.email}/token", self.secrets, s.token_env, where)
        raise AuthError(
            f"no Zendesk credentials: set {s.oauth_token_env} (OAuth access token), or client_id with "
            f"{s.client_secret_env}, or email with {s.token_env} (API tokens stop working on 2027-04-30)",
            where=where,
        )

    def extra_rate_limits(self) -> dict[str, RateLimit]:
        """Incremental exports: 10 in any minute, counted in the account's limit as well."""
        per_minute = RateLimit(EXPORTS_PER_MINUTE / 60, EXPORTS_PER_MINUTE, window=60.0, counts_toward_main=True)
        return {"export": per_minute}

    def check_auth(self) -> str:
        me = self.rest.request("users.me", "GET", "/api/v2/users/me.json")
        user = me.get("user") or {}
        if not user.get("id") or user.get("role") == "anonymous":
            raise AuthError("Zendesk did not accept the credentials", where=f"connectors.{self.instance}")
        scheme = {BearerTokenAuth: "oauth", OAuth2Auth: "oauth-client", BasicAuth: "api-token"}[type(self.rest.auth)]
        return f"Zendesk {self.zs.api_root} as {user.get('email') or user.get('name')} ({scheme})"

    def _start_time(self, since: datetime | None) -> int:
        latest = datetime.now(UTC) - MIN_AGE
        start = since if since is not None else latest - timedelta(days=self.zs.backfill_days)
        return int(min(start, latest).timestamp())

    # --- tickets, organizations, users -----------------------------------------------------------
    def read_tickets(self, *, since: datetime | None, page_token: str | None) -> Page[Ticket]:
        """Cursor export: ``start_time`` on the first page, then ``cursor``, until ``end_of_stream``."""
        params = {"per_page": self.zs.per_page, "include": "metric_sets", "start_time": self._start_time(since)}
        path = "/api/v2/incremental/tickets/cursor.json"
        page = self.rest.page(
            "tickets.export", path, CURSOR_EXPORT, page_token, records="tickets", params=params, limit="export"
        )
        metrics = {m.get("ticket_id"): m for m in page.body.get("metric_sets") or ()}
        return Page(
            [convert.to_ticket(self.instance, t, metrics.get(t.get("id"))) for t in page.records], page.next_token
        )

    def read_tickets_by_id(self, ids: Sequence[str]) -> list[Ticket]:
        """``show_many`` (100 ids a call, with their metric sets): a webhook's tickets at once, not after
        the export's one-minute horizon. It counts in the account's limit only, not the export's 10 a minute."""
        answer = self.rest.request(
            "tickets.show_many",
            "GET",
            "/api/v2/tickets/show_many.json",
            params={"ids": ",".join(str(i) for i in ids), "include": "metric_sets"},
        )
        metrics = {m.get("ticket_id"): m for m in answer.get("metric_sets") or ()}
        return [convert.to_ticket(self.instance, t, metrics.get(t.get("id"))) for t in answer.get("tickets") or ()]

    def read_ticket_metrics(self, page_token: str | None = None) -> Page[dict[str, Any]]:
        """Ticket metrics (reply and resolution times, ``solved_at``) with cursor pagination."""
        path, params = "/api/v2/ticket_metrics.json", {"page[size]": 100}
        page = self.rest.page("ticket_metrics.list", path, METRICS, page_token, records="ticket_metrics", params=params)
        return Page(page.records, page.next_token)

    def read_ticket_accounts(self, *, since: datetime | None, page_token: str | None) -> Page[Account]:
        """Time-based organization export, until ``end_of_stream``."""
        params = {"start_time": self._start_time(since), "per_page": self.zs.per_page}
        path = "/api/v2/incremental/organizations.json"
        page = self.rest.page(
            "organizations.export",
            path,
            TIME_EXPORT,
            page_token,
            records="organizations",
            params=params,
            limit="export",
        )
        return Page([convert.to_account(self.instance, o) for o in page.records], page.next_token)

    def read_users(self, *, since: datetime | None, page_token: str | None) -> Page[dict[str, Any]]:
        """Cursor export of users (``organization_id``, ``email``, ``role``) as Zendesk sends them."""
        params = {"per_page": self.zs.per_page, "start_time": self._start_time(since)}
        path = "/api/v2/incremental/users/cursor.json"
        page = self.rest.page(
            "users.export", path, CURSOR_EXPORT, page_token, records="users", params=params, limit="export"
        )
        return Page(page.records, page.next_token)

    # --- organization fields (FIELD_SINK) --------------------------------------------------------
    def write_fields(self, kind: ObjectKind, batch: Sequence[FieldWrite]) -> list[WriteResult]:
        """``organization_fields`` of up to 100 organizations with one ``update_many`` (a job)."""
        if kind is not ObjectKind.ACCOUNT:
            raise ValueError("Zendesk only takes organization fields (ObjectKind.ACCOUNT)")
        if not batch:
            return []
        body = {"organizations": [{"id": int(w.remote_id), "organization_fields": dict(w.values)} for w in batch]}
        path = "/api/v2/organizations/update_many.json"
        job = self.rest.request("organizations.update_many", "PUT", path, json=body, write=True)["job_status"]
        status = f"/api/v2/job_statuses/{job['id']}.json"
        job = poll(
            self.call,
            lambda: self.rest.request("job_statuses.show", "GET", status)["job_status"],
            lambda j: j.get("status") in ("completed", "failed"),
            first=job,
            what=f"Zendesk job {job.get('id')}",
        )
        return results_by_id(
            [(w.key, w.remote_id) for w in batch],
            job.get("results") or (),
            ok=lambda r: bool(r.get("success", r.get("status") == "Updated")),
            error=lambda r: self.redact(str(r.get("error") or "no result")),
        )

    def describe(self, kind: ObjectKind) -> dict[str, PropertySchema]:
        """Organization fields by key (``validate --remote``); Zendesk has no other writable kind here."""
        if kind is not ObjectKind.ACCOUNT:
            return {}
        body = self.rest.request("organization_fields.list", "GET", "/api/v2/organization_fields.json")
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
        return ensure_properties(wanted, self.describe, self._create_field, apply=apply, what=_field) if wanted else []

    def _create_field(self, spec: PropertySpec) -> str:
        kind = "decimal" if spec.type == "number" else "text"
        body = {"organization_field": {"key": spec.name, "type": kind, "title": spec.label}}
        self.rest.request(
            "organization_fields.create", "POST", "/api/v2/organization_fields.json", json=body, write=True
        )
        return f"{_field(spec)} ({kind})"


def _field(spec: PropertySpec) -> str:
    return f"organization field {spec.name}"


__all__ = ["ZendeskConnector"]
