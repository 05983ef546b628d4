"""The state store's tables (SQLAlchemy Core) and the column types they share.

This module is the *current* schema that ``onboard_sync.store`` queries against. The
database itself is created and changed only by the alembic revisions in ``migrations/``;
``tests/store`` checks that migrating to head yields exactly these tables.

Datetimes use ``UTCDateTime``: aware UTC in, aware UTC out, on SQLite (stored as naive UTC
text) and Postgres (``timestamptz``) alike. JSON documents use ``JSONText`` (plain text,
so both backends store them verbatim).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from onboard_sync.store.codec import json_default, to_utc


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that must be aware going in and is aware UTC coming out."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONText(sa.TypeDecorator[Any]):
    """A JSON document stored as text; ``None`` is SQL NULL."""

    impl = sa.Text()
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, default=json_default, separators=(",", ":"), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


metadata = sa.MetaData()

onboardings = sa.Table(
    "onboardings",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("deal_id", sa.String(255), nullable=False),
    sa.Column("account_id", sa.String(255)),
    sa.Column("segment", sa.String(100), nullable=False),
    sa.Column("phase", sa.String(100), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("phase_entered_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime()),
    sa.Column("health_score", sa.Integer()),
    sa.Column("health_status", sa.String(32)),
    sa.Column("playbook", sa.String(100), nullable=False),
    # the whole OnboardingState (codec JSON); the columns above are copies for queries
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_onboardings_source_status", "source", "status"),
)

transitions = sa.Table(
    "transitions",
    metadata,
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("onboarding_id", sa.String(255), nullable=False),
    sa.Column("old_phase", sa.String(100)),
    sa.Column("new_phase", sa.String(100), nullable=False),
    sa.Column("old_status", sa.String(32)),
    sa.Column("new_status", sa.String(32), nullable=False),
    sa.Column("cause", sa.String(32), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Index("ix_transitions_onboarding", "onboarding_id", "seq"),
)

facts = sa.Table(
    "facts",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
)

owners = sa.Table(
    "owners",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("email", sa.String(320)),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
)

owned_tasks = sa.Table(
    "owned_tasks",
    metadata,
    sa.Column("key", sa.String(512), primary_key=True),
    sa.Column("onboarding_id", sa.String(255), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("template_key", sa.String(255), nullable=False),
    sa.Column("phase", sa.String(100), nullable=False),
    sa.Column("episode", sa.Integer(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("remote_id", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("owner_id", sa.String(255)),
    sa.Column("due_at", UTCDateTime()),
    sa.Column("completed_at", UTCDateTime()),
    sa.Column("error", sa.Text()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("note", sa.Text()),
    sa.Index("ix_owned_tasks_onboarding", "onboarding_id"),
    sa.Index("ix_owned_tasks_source_state", "source", "state"),
    sa.Index("ix_owned_tasks_source_remote", "source", "remote_id"),
)

written_fields = sa.Table(
    "written_fields",
    metadata,
    sa.Column("onboarding_id", sa.String(255), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("remote_id", sa.String(255), primary_key=True),
    sa.Column("property", sa.String(255), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("value", sa.Text()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_written_fields_source", "source"),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("stream", sa.String(100), primary_key=True),
    sa.Column("value", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime()),
    sa.Column("ok", sa.Boolean()),
    sa.Column("report", JSONText()),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", name="fk_audit_run"), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("object_kind", sa.String(32), nullable=False),
    sa.Column("remote_id", sa.String(255)),
    sa.Column("key", sa.String(512)),
    sa.Column("before", JSONText()),
    sa.Column("after", JSONText()),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Index("ix_audit_run", "run_id"),
)

webhook_inbox = sa.Table(
    "webhook_inbox",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("processed_at", UTCDateTime()),
    sa.UniqueConstraint("source", "event_id", name="uq_webhook_inbox_source_event"),
    sa.Index("ix_webhook_inbox_pending", "processed_at", "id"),
)

# --- the durable engine's worker heartbeats (revision 0004) ---
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("last_beat", UTCDateTime(), nullable=False),
)

# --- helpdesk signals, account links, health history, alert episodes (revision 0002) ---
tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("account_id", sa.String(255)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("priority", sa.String(32)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Index("ix_tickets_source_account", "source", "account_id"),
)

account_links = sa.Table(
    "account_links",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("remote_id", sa.String(255), primary_key=True),
    sa.Column("crm_source", sa.String(100), nullable=False),
    sa.Column("crm_account_id", sa.String(255)),
    sa.Column("method", sa.String(100)),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_account_links_crm", "crm_source", "crm_account_id"),
)

health_history = sa.Table(
    "health_history",
    metadata,
    sa.Column("onboarding_id", sa.String(255), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("score", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reasons", JSONText(), nullable=False),
    sa.Column("components", JSONText(), nullable=False),
    sa.Column("computed_at", UTCDateTime(), nullable=False),
)

alert_episodes = sa.Table(
    "alert_episodes",
    metadata,
    sa.Column("onboarding_id", sa.String(255), primary_key=True),
    sa.Column("alert", sa.String(100), primary_key=True),
    sa.Column("episode", sa.Integer(), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("task_key", sa.String(512), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("cleared_at", UTCDateTime()),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Index("ix_alert_episodes_source", "source", "cleared_at"),
)

__all__ = [
    "JSONText",
    "UTCDateTime",
    "account_links",
    "alert_episodes",
    "audit",
    "cursors",
    "facts",
    "health_history",
    "metadata",
    "onboardings",
    "owned_tasks",
    "owners",
    "runs",
    "tickets",
    "transitions",
    "webhook_inbox",
]
