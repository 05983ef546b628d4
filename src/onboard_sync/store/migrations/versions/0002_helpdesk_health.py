"""Helpdesk signals and health: tickets, account links, health history, alert episodes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Frozen like 0001: column types are spelled out here, not imported from ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("account_id", sa.String(255)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(32)),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_tickets_source_account", "tickets", ["source", "account_id"])

    op.create_table(
        "account_links",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("remote_id", sa.String(255), primary_key=True),
        sa.Column("crm_source", sa.String(100), nullable=False),
        sa.Column("crm_account_id", sa.String(255)),
        sa.Column("method", sa.String(100)),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index("ix_account_links_crm", "account_links", ["crm_source", "crm_account_id"])

    op.create_table(
        "health_history",
        sa.Column("onboarding_id", sa.String(255), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("computed_at", _ts(), nullable=False),
    )

    op.create_table(
        "alert_episodes",
        sa.Column("onboarding_id", sa.String(255), primary_key=True),
        sa.Column("alert", sa.String(100), primary_key=True),
        sa.Column("episode", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("task_key", sa.String(512), nullable=False),
        sa.Column("opened_at", _ts(), nullable=False),
        sa.Column("cleared_at", _ts()),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_alert_episodes_source", "alert_episodes", ["source", "cleared_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_episodes_source", table_name="alert_episodes")
    op.drop_table("alert_episodes")
    op.drop_table("health_history")
    op.drop_index("ix_account_links_crm", table_name="account_links")
    op.drop_table("account_links")
    op.drop_index("ix_tickets_source_account", table_name="tickets")
    op.drop_table("tickets")
