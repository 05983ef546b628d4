"""Initial schema: onboardings, transitions, facts, owners, owned tasks, written fields,
cursors, runs, audit and the webhook inbox.

Revision ID: 0001
Revises:
Create Date: 2026-08-03

Frozen: this revision spells out its column types instead of importing
``onboard_sync.store.schema``, so later edits there cannot change what it creates.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "onboardings",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("deal_id", sa.String(255), nullable=False),
        sa.Column("account_id", sa.String(255)),
        sa.Column("segment", sa.String(100), nullable=False),
        sa.Column("phase", sa.String(100), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("phase_entered_at", _ts(), nullable=False),
        sa.Column("completed_at", _ts()),
        sa.Column("health_score", sa.Integer()),
        sa.Column("health_status", sa.String(32)),
        sa.Column("playbook", sa.String(100), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index("ix_onboardings_source_status", "onboardings", ["source", "status"])

    op.create_table(
        "transitions",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("onboarding_id", sa.String(255), nullable=False),
        sa.Column("old_phase", sa.String(100)),
        sa.Column("new_phase", sa.String(100), nullable=False),
        sa.Column("old_status", sa.String(32)),
        sa.Column("new_status", sa.String(32), nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_transitions_onboarding", "transitions", ["onboarding_id", "seq"])

    op.create_table(
        "facts",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )

    op.create_table(
        "owners",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )

    op.create_table(
        "owned_tasks",
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
        sa.Column("due_at", _ts()),
        sa.Column("completed_at", _ts()),
        sa.Column("error", sa.Text()),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index("ix_owned_tasks_onboarding", "owned_tasks", ["onboarding_id"])
    op.create_index("ix_owned_tasks_source_state", "owned_tasks", ["source", "state"])
    op.create_index("ix_owned_tasks_source_remote", "owned_tasks", ["source", "remote_id"])

    op.create_table(
        "written_fields",
        sa.Column("onboarding_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("remote_id", sa.String(255), primary_key=True),
        sa.Column("property", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("value", sa.Text()),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index("ix_written_fields_source", "written_fields", ["source"])

    op.create_table(
        "cursors",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("stream", sa.String(100), primary_key=True),
        sa.Column("value", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts()),
        sa.Column("ok", sa.Boolean()),
        sa.Column("report", sa.Text()),
    )

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", name="fk_audit_run"), nullable=True),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_kind", sa.String(32), nullable=False),
        sa.Column("remote_id", sa.String(255)),
        sa.Column("key", sa.String(512)),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_run", "audit", ["run_id"])

    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("received_at", _ts(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("processed_at", _ts()),
        sa.UniqueConstraint("source", "event_id", name="uq_webhook_inbox_source_event"),
    )
    op.create_index("ix_webhook_inbox_pending", "webhook_inbox", ["processed_at", "id"])


def downgrade() -> None:
    for table in (
        "webhook_inbox",
        "audit",
        "runs",
        "cursors",
        "written_fields",
        "owned_tasks",
        "owners",
        "facts",
        "transitions",
        "onboardings",
    ):
        op.drop_table(table)
